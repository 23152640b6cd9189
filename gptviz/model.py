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

The attention matrix is always formed explicitly: its coefficients are what gptviz shows.

Every recorded activation passes through a *site*: ``q = site(S.attn_q, q)``. A site hands the tensor to
the recorder of :func:`gptviz.trace.run`, which may keep it, or replace it (an *edit*: ablation and
patching are edits), and the forward pass goes on with what the site returns. Sites are called in the
order the model computes, under the names of :data:`gptviz.trace.SITES` (``S.attn_q`` is ``"attn.q"``,
read from that table); inside a block the recorder adds ``blocks.{i}.`` itself. With no recorder (a plain ``model(ids)``) a site is one ``if`` and nothing
else.

Three methods split the forward pass where a variant needs to enter or leave it, so variants never
copy its lines: :meth:`GPT.embed` (ids to the residual stream), :meth:`GPT.blocks_from` (the residual
stream through blocks ``start`` .. ``n_layer - 1``) and :meth:`GPT.unembed` (``ln_f`` and the tied
unembedding, from any residual stream: the logit lens reads the stream this way).
"""

from __future__ import annotations

import math
from typing import Optional, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from .config import GPTConfig
from .inputs import check_fits
from .kvcache import KVCache
from .tokenizer import get_tokenizer
from .trace import SITE as S  # the sites' names, from the one table
from .trace import Trace, run


class Sites(Protocol):
    """What the model calls at each recording site (implemented by :class:`gptviz.trace.Recorder`)."""

    def __call__(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Record ``x`` (batch first) under ``name`` and return it, or the edit's replacement."""

    def block(self, i: int) -> "Sites":
        """The sites of block ``i``: the same recorder, with names prefixed by ``blocks.{i}.``."""


Recorder = Optional[Sites]


def causal_mask(n_ctx: int) -> torch.Tensor:
    """``[n_ctx, n_ctx]``, True above the diagonal: the key positions a query may not see."""
    return torch.ones(n_ctx, n_ctx, dtype=torch.bool).triu(1)


class CausalSelfAttention(nn.Module):
    """Multi-head attention in which each position sees itself and the positions before it."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.d_head = config.n_head, config.d_head
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model)  # q, k, v for all heads at once
        self.c_proj = nn.Linear(config.d_model, config.d_model)  # mixes the concatenated heads
        self.scale = 1.0 / math.sqrt(config.d_head)
        self.register_buffer("mask", causal_mask(config.n_ctx), persistent=False)

    def forward(self, x: torch.Tensor, site: Recorder = None, cache: KVCache | None = None,
                layer: int = 0) -> torch.Tensor:
        B, T, C = x.shape  # batch, new positions, d_model
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, self.n_head, self.d_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, self.d_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, self.d_head).transpose(1, 2)  # (B, nh, T, hs)
        past = 0
        if cache is not None:
            past = cache.length(layer)
            k, v = cache.append(layer, k, v)  # (B, nh, T_past + T, hs)
        if site is not None:
            q, k, v = site(S.attn_q, q), site(S.attn_k, k), site(S.attn_v, v)
            if cache is not None:
                cache.replace(layer, k, v)  # an edited key or value is what later steps read
        scores = q @ k.transpose(-2, -1)  # (B, nh, T, T_past + T)
        scores.mul_(self.scale).masked_fill_(self.mask[past:past + T, :past + T], float("-inf"))  # in place: no copies
        if site is not None:
            scores = site(S.attn_scores, scores)
        pattern = F.softmax(scores, dim=-1)  # (B, nh, T, T_past + T): each row sums to 1
        if site is not None:
            pattern = site(S.attn_pattern, pattern)
        z = pattern @ v  # (B, nh, T, hs): each head's weighted sum of values
        if site is not None:
            z = site(S.attn_z, z)
        out = self.c_proj(z.transpose(1, 2).reshape(B, T, C))  # heads side by side: (B, T, C)
        if site is not None:
            out = site(S.attn_out, out)
        return out


def gelu(x: torch.Tensor) -> torch.Tensor:
    """GPT-2's activation: GELU in its tanh approximation, ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.
    The one GELU of gptviz (the MLP's, the comparisons', the explorer's curve)."""
    return F.gelu(x, approximate="tanh")


class MLP(nn.Module):
    """The feed-forward layer: widen to d_mlp (4 x d_model), GELU, project back."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.d_model, config.d_mlp)
        self.c_proj = nn.Linear(config.d_mlp, config.d_model)

    def forward(self, x: torch.Tensor, site: Recorder = None) -> torch.Tensor:
        pre = self.c_fc(x)  # (B, T, d_mlp)
        if site is not None:
            pre = site(S.mlp_pre, pre)
        post = gelu(pre)  # GPT-2's GELU is the tanh approximation
        if site is not None:
            post = site(S.mlp_post, post)
        out = self.c_proj(post)  # (B, T, C)
        if site is not None:
            out = site(S.mlp_out, out)
        return out


class Block(nn.Module):
    """One decoder block: pre-LayerNorm attention and MLP, each added to the residual stream."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, site: Recorder = None, i: int = 0,
                cache: KVCache | None = None) -> torch.Tensor:
        """``site`` is the recorder of this block (names without ``blocks.{i}.``); ``i`` its index."""
        h = self.ln_1(x)
        if site is not None:
            h = site(S.ln_1, h)
        x = x + self.attn(h, site, cache, i)
        if site is not None:
            x = site(S.resid_mid, x)
        h = self.ln_2(x)
        if site is not None:
            h = site(S.ln_2, h)
        x = x + self.mlp(h, site)
        if site is not None:
            x = site(S.resid_post, x)
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

    @classmethod
    def from_state_dict(cls, config: GPTConfig, state: dict[str, torch.Tensor]) -> "GPT":
        """A model holding ``state`` (every parameter, in this module's names and shapes) as float32
        copies, built without first filling 124M parameters (GPT-2 small) with random numbers that
        would be overwritten at once (seconds on one CPU thread)."""
        with torch.device("meta"):
            model = cls(config)
        model.load_state_dict({k: v.to(torch.float32, copy=True, memory_format=torch.contiguous_format)
                               for k, v in state.items()}, strict=True, assign=True)
        for block in model.h:  # the one buffer, not in a state dict
            block.attn.mask = causal_mask(config.n_ctx)
        return model

    @property
    def tokenizer(self):
        if self._tokenizer is None:
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
        return self.unembed(self.blocks_from(self.embed(ids, rec, cache), 0, rec, cache), rec)

    def embed(self, ids: torch.Tensor, rec: Recorder = None, cache: KVCache | None = None) -> torch.Tensor:
        """The residual stream's start ``(B, T, d_model)``: token embedding plus position embedding, for
        ids ``(B, T)`` (or ``(T,)``). With ``cache``, positions continue after the cached ones."""
        if ids.dim() == 1:
            ids = ids[None]  # (1, T)
        B, T = ids.shape
        past = len(cache) if cache is not None else 0
        check_fits(self.config.n_ctx, T, past)
        pos = torch.arange(past, past + T, device=ids.device)  # (T,)
        tok_emb = self.wte(ids)  # (B, T, C)
        pos_emb = self.wpe(pos)[None]  # (1, T, C)
        if rec is not None:
            tok_emb, pos_emb = rec(S.embed_token, tok_emb), rec(S.embed_pos, pos_emb)
        x = tok_emb + pos_emb  # (B, T, C)
        if rec is not None:
            x = rec(S.embed_sum, x)
        return x

    def blocks_from(self, x: torch.Tensor, start: int = 0, rec: Recorder = None,
                    cache: KVCache | None = None) -> torch.Tensor:
        """The residual stream ``x`` ``(B, T, d_model)`` entering block ``start``, carried through that
        block and every later one. ``start=0`` after :meth:`embed` is the whole stack; a patching sweep
        starts at the layer it patches, from a recorded stream."""
        for i in range(start, self.config.n_layer):
            x = self.h[i](x, rec.block(i) if rec is not None else None, i, cache)
        return x

    def final_norm(self, x: torch.Tensor, rec: Recorder = None) -> torch.Tensor:
        """``ln_f`` of a residual stream ``(B, T, d_model)``: what the unembedding reads."""
        x = self.ln_f(x)
        if rec is not None:
            x = rec(S.ln_f, x)
        return x

    def unembed(self, x: torch.Tensor, rec: Recorder = None) -> torch.Tensor:
        """Logits ``(B, T, vocab_size)`` from a residual stream ``(B, T, d_model)``: ``ln_f``, then a score
        against every row of the token embedding (the unembedding is tied to it)."""
        logits = self.final_norm(x, rec) @ self.wte.weight.T  # (B, T, V)
        if rec is not None:
            logits = rec(S.logits, logits)
        return logits

    def hidden(self, ids: torch.Tensor) -> torch.Tensor:
        """``ln_f``'s output ``(B, T, d_model)`` for ids ``(B, T)``: everything but the unembedding.
        Training uses it to score only the tokens its corpus uses."""
        return self.final_norm(self.blocks_from(self.embed(ids)))

    def run(self, source, **options) -> Trace:
        """The one recorded forward pass, from a text, token ids or a residual stream entering block
        ``start_layer``; every option is :func:`gptviz.trace.run`'s."""
        return run(self, source, **options)

    def trace(self, text_or_ids, names=None, max_bytes: int | None = None, allow_special: bool = False,
              edits=None, cache=None, bos: bool = False, truncate: bool | None = None,
              allow_nonfinite: bool = False) -> Trace:
        """Run one sequence and record its activations (``edits``: replace some): :func:`gptviz.trace.run`."""
        return run(self, text_or_ids, names=names, max_bytes=max_bytes, allow_special=allow_special, edits=edits,
                   cache=cache, bos=bos, truncate=truncate, allow_nonfinite=allow_nonfinite)

    def generate(self, *args, **kwargs):
        """Continue a prompt; see :func:`gptviz.generation.generate`."""
        # The model's one call up to a layer above it, kept because the chapters call model.generate
        # (00, 01 and 07). Imported at call time, so that the model never depends on generation:
        # there is no import cycle to avoid (generation never imports this module), but a top-level
        # import would load generation and sampling with every model and point the dependency upward.
        from .generation import generate

        return generate(self, *args, **kwargs)
