"""GPT-2 in one file: embeddings, decoder blocks, final LayerNorm, tied unembedding.

Read it beside "The Illustrated GPT-2". A token id picks a row of ``wte`` (the token embedding), its
position picks a row of ``wpe`` (a *learned* position embedding, not sines and cosines), and their sum
starts the residual stream. Each block then adds two things to that stream, each computed from a
LayerNorm of it (GPT-2 normalises *before* each sub-layer, not after the residual add):

    x = x + attn(ln_1(x))     # tokens look at earlier tokens
    x = x + mlp(ln_2(x))      # each token thinks on its own

A last LayerNorm (``ln_f``) and a product with the transpose of ``wte`` give one score per
vocabulary entry. Module names follow the GPT-2 checkpoints (``wte``, ``h.0.attn.c_attn``, ...), so
hub weights load by copying keys (see :mod:`gptviz.hub`).

The attention matrix is always formed explicitly: its coefficients are what gptviz shows. Every
recorded activation passes through ``rec(name, tensor)``; with no recorder (a plain ``model(ids)``)
that is one ``if`` per site and nothing else. The names are listed in :mod:`gptviz.trace`.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .config import GPTConfig
from .errors import InputError

Recorder = Optional[Callable[[str, torch.Tensor], None]]


class KVCache:
    """Keys and values of the tokens already read, one pair per layer.

    Generation appends one token at a time; each layer then computes q, k, v for the new token only
    and attends over the stored keys and values, which are never recomputed: GPT-2 does not
    re-interpret earlier tokens. ``keys[i]`` and ``values[i]`` have shape ``(B, n_head, T, d_head)``.
    """

    def __init__(self, n_layer: int):
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer

    def __len__(self) -> int:
        """Number of positions stored (in every layer, between forward passes)."""
        return self.length(0)

    def length(self, layer: int) -> int:
        """Number of positions stored in one layer."""
        k = self.keys[layer]
        return 0 if k is None else k.shape[2]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new positions' keys and values; return all keys and values of this layer."""
        if self.keys[layer] is not None:
            k = torch.cat([self.keys[layer], k], dim=2)  # (B, nh, T_past + T, hs)
            v = torch.cat([self.values[layer], v], dim=2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    def truncate(self, length: int) -> None:
        """Forget every position from ``length`` on (to step generation backwards)."""
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            if k is not None:
                self.keys[i], self.values[i] = k[:, :, :length], v[:, :, :length]


class CausalSelfAttention(nn.Module):
    """Multi-head attention in which each position sees itself and the positions before it."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.d_head = config.n_head, config.d_head
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model)  # q, k, v for all heads at once
        self.c_proj = nn.Linear(config.d_model, config.d_model)  # mixes the concatenated heads
        self.scale = 1.0 / math.sqrt(config.d_head)
        # True above the diagonal: key positions a query may not see.
        mask = torch.ones(config.n_ctx, config.n_ctx, dtype=torch.bool).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor, rec: Recorder = None, prefix: str = "",
                cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        B, T, C = x.shape  # batch, new positions, d_model
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, self.n_head, self.d_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, self.d_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, self.d_head).transpose(1, 2)  # (B, nh, T, hs)
        past = 0
        if cache is not None:
            past = cache.length(layer)
            k, v = cache.append(layer, k, v)  # (B, nh, T_past + T, hs)
        scores = q @ k.transpose(-2, -1)  # (B, nh, T, T_past + T)
        scores.mul_(self.scale).masked_fill_(self.mask[past:past + T, :past + T], float("-inf"))  # in place: no copies
        pattern = F.softmax(scores, dim=-1)  # (B, nh, T, T_past + T): each row sums to 1
        z = pattern @ v  # (B, nh, T, hs): each head's weighted sum of values
        out = self.c_proj(z.transpose(1, 2).reshape(B, T, C))  # heads side by side: (B, T, C)
        if rec is not None:
            rec(prefix + "q", q)
            rec(prefix + "k", k)
            rec(prefix + "v", v)
            rec(prefix + "scores", scores)
            rec(prefix + "pattern", pattern)
            rec(prefix + "z", z)
            rec(prefix + "out", out)
        return out


class MLP(nn.Module):
    """The feed-forward layer: widen to d_mlp (4 x d_model), GELU, project back."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.d_model, config.d_mlp)
        self.c_proj = nn.Linear(config.d_mlp, config.d_model)

    def forward(self, x: torch.Tensor, rec: Recorder = None, prefix: str = "") -> torch.Tensor:
        pre = self.c_fc(x)  # (B, T, d_mlp)
        post = F.gelu(pre, approximate="tanh")  # GPT-2's GELU is the tanh approximation
        out = self.c_proj(post)  # (B, T, C)
        if rec is not None:
            rec(prefix + "pre", pre)
            rec(prefix + "post", post)
            rec(prefix + "out", out)
        return out


class Block(nn.Module):
    """One decoder block: pre-LayerNorm attention and MLP, each added to the residual stream."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, rec: Recorder = None, i: int = 0,
                cache: KVCache | None = None) -> torch.Tensor:
        p = f"blocks.{i}."
        h = self.ln_1(x)
        x = x + self.attn(h, rec, p + "attn.", cache, i)
        if rec is not None:
            rec(p + "ln_1", h)
            rec(p + "resid_mid", x)
        h = self.ln_2(x)
        x = x + self.mlp(h, rec, p + "mlp.")
        if rec is not None:
            rec(p + "ln_2", h)
            rec(p + "resid_post", x)
        return x


class GPT(nn.Module):
    """A GPT-2-architecture language model.

    ``model(ids)`` maps token ids ``(B, T)`` to logits ``(B, T, vocab_size)``. ``model.trace(text)``
    runs one sequence and records every activation (see :mod:`gptviz.trace`). ``model.tokenizer`` is
    GPT-2's tokenizer.
    """

    def __init__(self, config: GPTConfig, tokenizer=None):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)  # token embedding (also the unembedding)
        self.wpe = nn.Embedding(config.n_ctx, config.d_model)  # learned position embedding
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self._tokenizer = tokenizer
        self.source = ""  # where the weights came from (set by gptviz.load)

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from .tokenizer import get_tokenizer

            self._tokenizer = get_tokenizer()
        return self._tokenizer

    @property
    def device(self) -> torch.device:
        return self.wte.weight.device

    def init_weights(self, seed: int = 0) -> "GPT":
        """GPT-2's initialisation: normal(0, 0.02) weights, zero biases, unit LayerNorm scales, and the
        projections into the residual stream scaled by 1/sqrt(2 * n_layer)."""
        gen = torch.Generator().manual_seed(seed)
        for name, p in self.named_parameters():
            with torch.no_grad():
                if name.endswith("bias"):
                    p.zero_()
                elif ".ln_" in name or name.startswith("ln_"):
                    p.fill_(1.0)
                else:
                    std = 0.02 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj.weight") else 0.02
                    p.copy_(torch.randn(p.shape, generator=gen) * std)
        return self

    def forward(self, ids: torch.Tensor, rec: Recorder = None, cache: KVCache | None = None) -> torch.Tensor:
        """Logits ``(B, T, vocab_size)`` for token ids ``(B, T)``.

        With ``cache``, ``ids`` are the *new* tokens: their positions continue after the cached ones,
        and the cache grows by ``T``.
        """
        x = self.hidden(ids, rec, cache)  # (B, T, C)
        logits = x @ self.wte.weight.T  # tied: score against every row of the token embedding, (B, T, V)
        if rec is not None:
            rec("logits", logits)
        return logits

    def hidden(self, ids: torch.Tensor, rec: Recorder = None, cache: KVCache | None = None) -> torch.Tensor:
        """The final LayerNorm's output ``(B, T, d_model)`` for token ids ``(B, T)`` (or ``(T,)``):
        everything but the unembedding. Training uses it to score a subset of the vocabulary."""
        if ids.dim() == 1:
            ids = ids[None]  # (1, T)
        B, T = ids.shape
        past = len(cache) if cache is not None else 0
        if T == 0:
            raise InputError("No tokens to run: give at least one token (e.g. a word, or <|endoftext|>)")
        if past + T > self.config.n_ctx:
            raise InputError(
                f"{past + T} tokens do not fit in the model's context of {self.config.n_ctx}: "
                f"shorten the text, or keep only its last {self.config.n_ctx} tokens"
            )
        pos = torch.arange(past, past + T, device=ids.device)  # (T,)
        tok_emb = self.wte(ids)  # (B, T, C)
        pos_emb = self.wpe(pos)[None]  # (1, T, C)
        x = tok_emb + pos_emb  # (B, T, C)
        if rec is not None:
            rec("embed.token", tok_emb)
            rec("embed.pos", pos_emb)
            rec("embed.sum", x)
        for i, block in enumerate(self.h):
            x = block(x, rec, i, cache)
        x = self.ln_f(x)
        if rec is not None:
            rec("ln_f", x)
        return x

    def trace(self, text_or_ids, names=None, max_bytes: int | None = None, allow_special: bool = False):
        """Run one sequence and record its activations; see :func:`gptviz.trace.trace`."""
        from .trace import trace

        return trace(self, text_or_ids, names=names, max_bytes=max_bytes, allow_special=allow_special)

    def generate(self, *args, **kwargs):
        """Continue a prompt; see :func:`gptviz.generation.generate`."""
        from .generation import generate

        return generate(self, *args, **kwargs)
