"""Recording a forward pass: every activation, under one naming scheme.

``model.trace(text)`` runs one sequence (no batch dimension) and returns a :class:`Trace`, a mapping
from names to tensors. The names, in the order the model computes them (``T`` tokens, ``H`` heads,
``D`` = d_model, ``d`` = d_head, ``F`` = d_mlp, ``V`` = vocab_size):

========================================  ============  ============================================
name                                      shape         what it is
========================================  ============  ============================================
``embed.token``                           [T, D]        row of ``wte`` for each token
``embed.pos``                             [T, D]        row of ``wpe`` for each position
``embed.sum``                             [T, D]        their sum: the residual stream's start
``blocks.{i}.attn.q`` / ``.k`` / ``.v``   [H, T, d]     queries, keys, values of every head
``blocks.{i}.attn.scores``                [H, T, T]     q.k / sqrt(d), -inf above the diagonal
``blocks.{i}.attn.pattern``               [H, T, T]     softmax of the scores: the coefficients
``blocks.{i}.attn.z``                     [H, T, d]     each head's weighted sum of values
``blocks.{i}.attn.out``                   [T, D]        heads concatenated and projected (c_proj)
``blocks.{i}.ln_1``                       [T, D]        LayerNorm before attention
``blocks.{i}.resid_mid``                  [T, D]        residual after adding attention
``blocks.{i}.mlp.pre``                    [T, F]        first MLP layer, before GELU
``blocks.{i}.mlp.post``                   [T, F]        after GELU
``blocks.{i}.mlp.out``                    [T, D]        second MLP layer (back to D)
``blocks.{i}.ln_2``                       [T, D]        LayerNorm before the MLP
``blocks.{i}.resid_post``                 [T, D]        residual after adding the MLP
``ln_f``                                  [T, D]        final LayerNorm
``logits``                                [T, V]        a score for every vocabulary entry
========================================  ============  ============================================

When a trace continues a :class:`~gptviz.model.KVCache` (a generation step), keys, values, scores
and patterns span all ``T_past + T`` key positions while queries cover the ``T`` new ones.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable

import torch

from .config import GPTConfig
from .errors import InputError, TraceTooLargeError
from .memory import keep_freed_memory

DEFAULT_MAX_BYTES = 4 * 2**30
_BYTES_PER_FLOAT = 4


def activation_shapes(config: GPTConfig, T: int) -> dict[str, tuple[int, ...]]:
    """Every activation name, in recording order, with its shape for a ``T``-token trace."""
    D, H, d, F, V = config.d_model, config.n_head, config.d_head, config.d_mlp, config.vocab_size
    shapes: dict[str, tuple[int, ...]] = {"embed.token": (T, D), "embed.pos": (T, D), "embed.sum": (T, D)}
    for i in range(config.n_layer):
        p = f"blocks.{i}."
        shapes.update({
            p + "attn.q": (H, T, d), p + "attn.k": (H, T, d), p + "attn.v": (H, T, d),
            p + "attn.scores": (H, T, T), p + "attn.pattern": (H, T, T), p + "attn.z": (H, T, d),
            p + "attn.out": (T, D), p + "ln_1": (T, D), p + "resid_mid": (T, D),
            p + "mlp.pre": (T, F), p + "mlp.post": (T, F), p + "mlp.out": (T, D),
            p + "ln_2": (T, D), p + "resid_post": (T, D),
        })
    shapes.update({"ln_f": (T, D), "logits": (T, V)})
    return shapes


def select_names(config: GPTConfig, names=None) -> list[str]:
    """The activation names matched by ``names`` (a name, a glob such as ``"blocks.*.attn.pattern"``,
    or a list of them); all names when ``names`` is None. A pattern that matches nothing raises
    ``KeyError`` listing the valid names."""
    every = list(activation_shapes(config, 1))
    if names is None:
        return every
    patterns = [names] if isinstance(names, str) else list(names)
    chosen = set()
    for pattern in patterns:
        hits = fnmatch.filter(every, pattern)
        if not hits:
            raise KeyError(f"{pattern!r} matches no activation name. {_valid_names_hint(config)}")
        chosen.update(hits)
    return [n for n in every if n in chosen]


def trace_nbytes(config: GPTConfig, T: int, names=None) -> int:
    """Bytes a trace of ``T`` tokens takes (float32), before it is taken.

    >>> from gptviz.config import PRESETS
    >>> round(trace_nbytes(PRESETS["gpt2"], 1024) / 2**20)  # MiB for a full trace on gpt2
    2008
    """
    shapes = activation_shapes(config, T)
    total = 0
    for name in select_names(config, names):
        n = 1
        for s in shapes[name]:
            n *= s
        total += n * _BYTES_PER_FLOAT
    return total


def _valid_names_hint(config: GPTConfig) -> str:
    last = config.n_layer - 1
    per_block = [n.split(".", 2)[2] for n in activation_shapes(config, 1) if n.startswith("blocks.0.")]
    return (
        "Valid names: embed.token, embed.pos, embed.sum, "
        f"blocks.{{i}}.{{{', '.join(per_block)}}} for i in 0..{last}, ln_f, logits "
        "(globs such as 'blocks.*.attn.pattern' work in names=)"
    )


class Trace:
    """The recorded activations of one sequence: ``trace[name]`` gives a float32 CPU tensor.

    Attributes: ``ids`` (token ids), ``tokens`` (readable token strings), ``text`` (the decoded text),
    ``config`` (the model's :class:`~gptviz.config.GPTConfig`), ``start`` (position of the first
    token: non-zero for a generation step that continues a cache).
    """

    def __init__(self, tensors: dict[str, torch.Tensor], ids: list[int], tokens: list[str],
                 config: GPTConfig, text: str, start: int = 0):
        self._tensors = tensors
        self.ids = ids
        self.tokens = tokens
        self.config = config
        self.text = text
        self.start = start

    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self._tensors[name]
        except KeyError:
            pass
        every = activation_shapes(self.config, 1)
        if name in every:
            raise KeyError(
                f"{name!r} was not recorded: this trace was taken with a names= filter. "
                f"Recorded: {', '.join(self._tensors) or 'nothing'}"
            )
        raise KeyError(f"{name!r} is not an activation name. {_valid_names_hint(self.config)}")

    def __contains__(self, name: str) -> bool:
        return name in self._tensors

    def __len__(self) -> int:
        return len(self._tensors)

    def __iter__(self):
        return iter(self._tensors)

    def names(self) -> list[str]:
        """The recorded names, in recording order."""
        return list(self._tensors)

    def items(self):
        return self._tensors.items()

    @property
    def n_tokens(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        """Memory held by the recorded tensors."""
        return sum(t.numel() * t.element_size() for t in self._tensors.values())

    def __repr__(self) -> str:
        return (f"Trace({self.n_tokens} tokens, {len(self._tensors)} activations, "
                f"{self.nbytes / 2**20:.1f} MiB, model {self.config.name or 'unnamed'})")


class _Recorder:
    """Collects the tensors the model hands to ``rec(name, tensor)`` (batch of one) as float32 CPU."""

    def __init__(self, wanted: Iterable[str]):
        self.wanted = set(wanted)
        self.tensors: dict[str, torch.Tensor] = {}
        self._order = list(wanted)

    def __call__(self, name: str, tensor: torch.Tensor) -> None:
        if name in self.wanted:
            self.tensors[name] = tensor[0].detach().to("cpu", torch.float32)

    def ordered(self) -> dict[str, torch.Tensor]:
        return {n: self.tensors[n] for n in self._order if n in self.tensors}


def to_ids(model, text_or_ids, allow_special: bool = False) -> tuple[list[int], str]:
    """Token ids and text for a string or a sequence of ids, with the errors a student can act on."""
    tok = model.tokenizer
    if isinstance(text_or_ids, str):
        if not text_or_ids:
            raise InputError("The text is empty: type at least one character (or pass ids=[50256] "
                             "to start from <|endoftext|>)")
        ids = tok.encode(text_or_ids, allow_special=allow_special)
        text = text_or_ids
    else:
        if isinstance(text_or_ids, torch.Tensor):
            if text_or_ids.dim() != 1:
                raise InputError(f"trace() takes one sequence: ids of shape [T], got {list(text_or_ids.shape)}")
            text_or_ids = text_or_ids.tolist()
        ids = [int(i) for i in text_or_ids]
        if not ids:
            raise InputError("The token list is empty: give at least one id (50256 is <|endoftext|>)")
        for i in ids:
            if not 0 <= i < model.config.vocab_size:
                raise InputError(f"token id {i} is outside the vocabulary (0 .. {model.config.vocab_size - 1})")
        text = tok.decode(ids)
    n_ctx = model.config.n_ctx
    if len(ids) > n_ctx:
        raise InputError(
            f"The text is {len(ids)} tokens but the model's context holds {n_ctx}: shorten it, or pass "
            f"its last {n_ctx} tokens (tokenizer.encode(text)[-{n_ctx}:])"
        )
    return ids, text


def trace(model, text_or_ids, names=None, max_bytes: int | None = None, allow_special: bool = False,
          cache=None) -> Trace:
    """Run ``model`` on one sequence and record its activations.

    ``text_or_ids``: a string, or token ids (list or 1-D tensor). ``names``: record only these names
    or globs (default: everything). ``max_bytes``: refuse, before running, a trace larger than this
    (default ``$GPTVIZ_MAX_TRACE_BYTES`` or 4 GiB). ``cache``: a :class:`~gptviz.model.KVCache` to
    continue (the trace then covers only the new tokens as queries).
    """
    ids, text = to_ids(model, text_or_ids, allow_special)
    config = model.config
    start = len(cache) if cache is not None else 0
    if start + len(ids) > config.n_ctx:
        raise InputError(f"{start} cached + {len(ids)} new tokens exceed the context of {config.n_ctx}")
    wanted = select_names(config, names)
    budget = max_bytes if max_bytes is not None else int(os.environ.get("GPTVIZ_MAX_TRACE_BYTES", DEFAULT_MAX_BYTES))
    need = trace_nbytes(config, start + len(ids), wanted)
    if need > budget:
        raise TraceTooLargeError(
            f"A full trace of {len(ids)} tokens on {config.name or 'this model'} would take "
            f"{need / 2**20:,.0f} MiB, over the budget of {budget / 2**20:,.0f} MiB. Record less with "
            "names=, e.g. names=['blocks.*.attn.pattern'] or names=['blocks.5.*', 'logits'], use fewer "
            "tokens, or raise max_bytes= if the machine has the memory"
        )
    recorder = _Recorder(wanted)
    keep_freed_memory()  # the next trace reuses this one's pages instead of faulting in new ones
    with torch.inference_mode():
        model(torch.tensor([ids], device=model.device), rec=recorder, cache=cache)
    return Trace(recorder.ordered(), ids, model.tokenizer.tokens(ids), config, text, start)
