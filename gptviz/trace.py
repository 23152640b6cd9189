"""Recording a forward pass: every activation, under one naming scheme, and edits of any of them.

``model.trace(text)`` runs one sequence (no batch dimension) and returns a :class:`Trace`, a mapping
from names to tensors. :data:`SITES` is the one table of names: the model calls its sites in this
order, :func:`activation_shapes` reads the shapes from it, and a test checks that a full trace records
exactly these names, in this order. Inside a block a name is written without its ``blocks.{i}.``
prefix. Shapes are in letters: ``T`` tokens (query positions), ``K`` key positions (``T``, or
``T_past + T`` when a trace continues a :class:`~gptviz.kvcache.KVCache`), ``H`` heads, ``D`` =
d_model, ``d`` = d_head, ``F`` = d_mlp, ``V`` = vocab_size.

Every forward pass that records goes through one call, :func:`run` (``model.run``): it takes a text,
token ids or a recorded residual stream, applies the input gate (:func:`gptviz.inputs.read_input`),
the end-of-text policy (``bos``), truncation and the model's device and dtype once, and returns a
:class:`Trace`. :func:`trace` is ``run`` from the tokens.

``model.trace(text, edits={name: fn})`` replaces activations as they are computed: ``fn`` receives the
activation in the shape above and returns its replacement; everything downstream is computed from the
replacement, and the trace records it. ``name`` may be a glob (``"blocks.*.attn.z"``). Ablation and
patching (:mod:`gptviz.interventions`) are such edits.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace

import torch

from .config import GPTConfig
from .errors import ActivationNameError, EditError, GptvizError, InputError, NonFiniteError, TraceTooLargeError
from .inputs import CLI, EXPLORER, PYTHON, check_fits, check_flag, parse_size, read_input
from .memory import keep_freed_memory

DEFAULT_MAX_BYTES = 4 * 2**30
_BYTES_PER_FLOAT = 4

#: Every recording site in the order the model computes it: (name, shape, what it is).
EMBED_SITES = (
    ("embed.token", "TD", "row of wte for each token"),
    ("embed.pos", "TD", "row of wpe for each position"),
    ("embed.sum", "TD", "their sum: the residual stream's start"),
)
BLOCK_SITES = (  # each block i, as blocks.{i}.NAME
    ("ln_1", "TD", "LayerNorm before attention"),
    ("attn.q", "HTd", "queries of every head"),
    ("attn.k", "HKd", "keys of every head"),
    ("attn.v", "HKd", "values of every head"),
    ("attn.scores", "HTK", "q.k / sqrt(d), -inf above the diagonal"),
    ("attn.pattern", "HTK", "softmax of the scores: the coefficients"),
    ("attn.z", "HTd", "each head's weighted sum of values"),
    ("attn.out", "TD", "heads concatenated and projected (c_proj)"),
    ("resid_mid", "TD", "residual after adding attention"),
    ("ln_2", "TD", "LayerNorm before the MLP"),
    ("mlp.pre", "TF", "first MLP layer, before GELU"),
    ("mlp.post", "TF", "after GELU"),
    ("mlp.out", "TD", "second MLP layer (back to D)"),
    ("resid_post", "TD", "residual after adding the MLP"),
)
FINAL_SITES = (
    ("ln_f", "TD", "final LayerNorm"),
    ("logits", "TV", "a score for every vocabulary entry"),
)


#: The one table: every site, in order (block sites once, for every block).
SITES = EMBED_SITES + BLOCK_SITES + FINAL_SITES
#: The names the model passes to its sites, derived from the table (``SITE.attn_q == "attn.q"``).
SITE = SimpleNamespace(**{n.replace(".", "_"): n for n, _, _ in SITES})
#: Where a non-finite value is expected: the masked scores are -inf by design.
_MAY_BE_MINUS_INF = "attn.scores"


def stream_names(config: GPTConfig) -> list[str]:
    """The residual stream before block 0 and after each block: ``embed.sum``,
    ``blocks.0.resid_post``, ..., ``blocks.{L-1}.resid_post`` (L + 1 names)."""
    return [SITE.embed_sum] + [f"blocks.{i}.{SITE.resid_post}" for i in range(config.n_layer)]


def site_names(config: GPTConfig) -> list[tuple[str, str]]:
    """``(name, shape letters)`` of every site of a model of shape ``config``, in recording order."""
    rows = [(n, s) for n, s, _ in EMBED_SITES]
    for i in range(config.n_layer):
        rows += [(f"blocks.{i}.{n}", s) for n, s, _ in BLOCK_SITES]
    return rows + [(n, s) for n, s, _ in FINAL_SITES]


def activation_shapes(config: GPTConfig, T: int, past: int = 0) -> dict[str, tuple[int, ...]]:
    """Every activation name, in recording order, with its shape for a ``T``-token trace (that
    continues ``past`` cached positions)."""
    size = {"T": T, "K": past + T, "D": config.d_model, "H": config.n_head, "d": config.d_head,
            "F": config.d_mlp, "V": config.vocab_size}
    return {name: tuple(size[c] for c in letters) for name, letters in site_names(config)}


def select_names(config: GPTConfig, names=None, what: str = "names=") -> list[str]:
    """The activation names matched by ``names`` (a name, a glob such as ``"blocks.*.attn.pattern"``,
    or a list of them), in recording order; all names when ``names`` is None. A pattern that matches
    nothing raises :class:`~gptviz.errors.ActivationNameError` listing the valid names. ``what`` names
    the argument in messages."""
    every = list(activation_shapes(config, 1))
    if names is None:
        return every
    if isinstance(names, str):
        patterns = [names]
    elif isinstance(names, Iterable) and not isinstance(names, (bytes, Mapping)) \
            and getattr(names, "ndim", 1) > 0:  # a 0-d tensor or array is iterable in name only
        patterns = list(names)
    else:
        raise InputError(f"{what} takes a name, a glob or a list of them, such as "
                         f"['blocks.*.attn.pattern', 'logits'], got {type(names).__name__}")
    chosen = set()
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise InputError(f"{what} takes names as strings, such as 'blocks.0.attn.pattern', got {pattern!r}")
        hits = fnmatch.filter(every, pattern)
        if not hits:
            raise ActivationNameError(f"{pattern!r} in {what} matches no activation name. {_valid_names_hint(config)}")
        chosen.update(hits)
    return [n for n in every if n in chosen]


def trace_nbytes(config: GPTConfig, T: int, names=None, past: int = 0) -> int:
    """Bytes a trace of ``T`` tokens (continuing ``past`` cached ones) takes in float32, before it is taken.

    >>> from gptviz.config import PRESETS
    >>> round(trace_nbytes(PRESETS["gpt2"], 1024) / 2**20)  # MiB for a full trace on gpt2
    2008
    """
    shapes = activation_shapes(config, T, past)
    total = 0
    for name in select_names(config, names):
        n = 1
        for s in shapes[name]:
            n *= s
        total += n * _BYTES_PER_FLOAT
    return total


def _valid_names_hint(config: GPTConfig) -> str:
    last = config.n_layer - 1
    per_block = [n for n, _, _ in BLOCK_SITES]
    return (
        "Valid names: embed.token, embed.pos, embed.sum, "
        f"blocks.{{i}}.{{{', '.join(per_block)}}} for i in 0..{last}, ln_f, logits "
        "(globs such as 'blocks.*.attn.pattern' work)"
    )


class Trace(Mapping):
    """The recorded activations of one sequence: ``trace[name]`` gives a float32 CPU tensor.

    A read-only mapping from names (in recording order) to tensors. Attributes: ``ids`` (token ids),
    ``tokens`` (readable token strings), ``text`` (the decoded text), ``config`` (the model's
    :class:`~gptviz.config.GPTConfig`), ``start`` (position of the first token: non-zero for a
    generation step that continues a cache), ``edited`` (the names an edit replaced), ``dropped``
    (ids cut from the front by ``truncate=True``). A trace run from a residual stream has no ids.
    """

    def __init__(self, tensors: dict[str, torch.Tensor], ids: list[int], tokens: list[str],
                 config: GPTConfig, text: str, start: int = 0, edited: tuple[str, ...] = (), dropped: int = 0):
        self._tensors = tensors
        self.ids = ids
        self.tokens = tokens
        self.config = config
        self.text = text
        self.start = start
        self.edited = edited
        self.dropped = dropped

    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self._tensors[name]
        except (KeyError, TypeError):
            pass
        if isinstance(name, str) and name in activation_shapes(self.config, 1):
            raise ActivationNameError(
                f"{name!r} was not recorded: this trace was taken with a names= filter. Take it again "
                f"with names= including {name!r}. Recorded: {', '.join(self._tensors) or 'nothing'}"
            )
        raise ActivationNameError(f"{name!r} is not an activation name. {_valid_names_hint(self.config)}")

    def __len__(self) -> int:
        return len(self._tensors)

    def __iter__(self):
        return iter(self._tensors)

    __eq__ = object.__eq__  # two traces are the same trace, not equal tensors
    __hash__ = object.__hash__

    def names(self) -> list[str]:
        """The recorded names, in recording order."""
        return list(self._tensors)

    @property
    def n_tokens(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        """Memory held by the recorded tensors."""
        return sum(t.numel() * t.element_size() for t in self._tensors.values())

    def __repr__(self) -> str:
        edited = f", {len(self.edited)} edited" if self.edited else ""
        return (f"Trace({self.n_tokens} tokens, {len(self._tensors)} activations{edited}, "
                f"{self.nbytes / 2**20:.1f} MiB, model {self.config.name or 'unnamed'})")


def check_trace(trace, config=None, what: str = "trace"):
    """``trace`` if it is a :class:`~gptviz.trace.Trace` (of a model with ``config``, when given), else
    an InputError saying what to pass."""
    if not isinstance(trace, Trace):
        raise InputError(f"{what}= takes a Trace, such as model.trace(text), got {type(trace).__name__}")
    if config is not None and trace.config != config:
        raise InputError(f"{what}= was traced on another model ({trace.config.name or 'unnamed'}): trace the text "
                         "with this model")
    return trace


Edit = Callable[[torch.Tensor], torch.Tensor]


def resolve_edits(config: GPTConfig, edits) -> dict[str, Edit]:
    """``{name or glob: fn}`` to ``{name: fn}`` for every name matched; a name matched by two entries,
    a pattern that matches nothing or an ``fn`` that is not callable raise an error naming the fix."""
    if edits is None:
        return {}
    if not isinstance(edits, Mapping):
        raise InputError("edits= takes a dict {name or glob: function}, e.g. "
                         "{'blocks.0.attn.z': lambda z: z * 0}, got " + type(edits).__name__)
    resolved: dict[str, Edit] = {}
    for pattern, fn in edits.items():
        if not callable(fn):
            raise InputError(f"edits[{pattern!r}] must be a function tensor -> tensor, got {type(fn).__name__}")
        for name in select_names(config, pattern, "edits="):
            if name in resolved:
                raise InputError(f"{name!r} is matched by two entries of edits=: give each activation one "
                                 "function (compose them yourself if you want both)")
            resolved[name] = fn
    return resolved


class Recorder:
    """What the model calls at each site (see :class:`gptviz.model.Sites`): applies the edit for that
    name, if any, then keeps a float32 CPU copy of the result (batch element 0) if the name is wanted.

    ``edits`` map full names to functions of one sequence's activation (no batch dimension), which
    they receive as a float32 CPU tensor, as a trace holds it; their result goes back into the model
    in its device and dtype. With ``batched=True`` they receive and return the whole batch instead (the
    patching sweeps run many patched copies in one batch), and the whole batch is recorded.
    ``check_finite=True`` raises :class:`~gptviz.errors.NonFiniteError` at the first site whose
    value holds NaN or an infinity (``-inf`` scores aside: they are the mask).
    """

    def __init__(self, config: GPTConfig, wanted: Iterable[str] = (), edits: dict[str, Edit] | None = None,
                 batched: bool = False, check_finite: bool = False):
        self.wanted = set(wanted)
        self.edits = edits or {}
        self.batched = batched
        self.check_finite = check_finite
        self.tensors: dict[str, torch.Tensor] = {}
        self._block_names = [{n: f"blocks.{i}.{n}" for n, _, _ in BLOCK_SITES} for i in range(config.n_layer)]

    def __call__(self, name: str, x: torch.Tensor) -> torch.Tensor:
        fn = self.edits.get(name)
        if fn is not None:
            x = self._edit(name, fn, x)
        if self.check_finite:
            _check_finite(name, x, name in self.edits)
        if name in self.wanted:
            self.tensors[name] = (x if self.batched else x[0]).detach().to("cpu", torch.float32)
        return x

    def block(self, i: int) -> "_BlockSites":
        # Made per call: stored here, they would form a reference cycle with the recorder, and the
        # recorded tensors would outlive their trace until the garbage collector ran.
        return _BlockSites(self, self._block_names[i])

    def _edit(self, name: str, fn: Edit, x: torch.Tensor) -> torch.Tensor:
        given = (x if self.batched else x[0]).to("cpu", torch.float32)
        try:
            out = fn(given)
        except GptvizError:
            raise
        except Exception as e:
            raise EditError(f"the edit at {name!r} raised {type(e).__name__}: {e}. Fix the function "
                            f"(it receives a tensor of shape {list(given.shape)} and must return one)") from e
        if not isinstance(out, torch.Tensor):
            raise EditError(f"the edit at {name!r} returned {type(out).__name__}: return a tensor of shape "
                            f"{list(given.shape)}")
        if out.is_meta:
            raise EditError(f"the edit at {name!r} returned a tensor on the meta device, which holds a shape but no "
                            "numbers: return one with values, e.g. torch.zeros_like(x) for the x it receives")
        if out.layout != torch.strided or out.is_nested:
            kind = "nested" if out.is_nested else str(out.layout).removeprefix("torch.")
            raise EditError(f"the edit at {name!r} returned a {kind} tensor: return an ordinary dense one, "
                            "e.g. out.to_dense() for a sparse one")
        if not out.is_floating_point():
            raise EditError(f"the edit at {name!r} returned a tensor of {str(out.dtype).removeprefix('torch.')}: return "
                            "floating-point numbers, as the activation it replaces (float32 here), e.g. x * 0")
        if out.shape != given.shape:
            raise EditError(f"the edit at {name!r} returned shape {list(out.shape)}, but the activation has "
                            f"shape {list(given.shape)}: return a tensor of the same shape")
        if torch.isnan(out).any():
            raise EditError(f"the edit at {name!r} returned NaN: return finite numbers (a -inf score is "
                            "allowed: it masks a key)")
        out = out.to(x.device, x.dtype)
        return out if self.batched else out[None]


def all_finite(x: torch.Tensor) -> bool:
    """``torch.isfinite(x).all()``, fast on a large tensor: a NaN or an infinity anywhere makes the sum
    non-finite, so a finite sum settles it; only a non-finite one (a bad value, or finite values whose
    sum overflows) pays for the element-wise check (on ``[T, 50257]`` logits the sum is ~30x cheaper)."""
    return bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())


def _check_finite(name: str, x: torch.Tensor, edited: bool) -> None:
    """NonFiniteError if ``x`` holds NaN or an infinity (at the scores, ``-inf`` is the mask: allowed)."""
    bad = torch.isnan(x).any() or (x == float("inf")).any() if name.endswith(_MAY_BE_MINUS_INF) \
        else not all_finite(x)
    if bad:
        cause = "an edit replaced it" if edited else "check the weights (a NaN or an overflow) and the edits before it"
        raise NonFiniteError(f"the logits hold NaN or infinite values; the first non-finite value appeared at "
                             f"{name!r} ({cause}). Fix that, or pass allow_nonfinite=True to get the trace anyway")


class _BlockSites:
    """The sites of one block: the recorder, with the block's names prefixed by ``blocks.{i}.``."""

    def __init__(self, recorder: Recorder, full: dict[str, str]):
        self.recorder = recorder
        self.full = full

    def __call__(self, name: str, x: torch.Tensor) -> torch.Tensor:
        return self.recorder(self.full[name], x)


def trace_budget(max_bytes=None) -> int:
    """The memory budget of a trace in bytes: ``max_bytes`` if given, else ``$GPTVIZ_MAX_TRACE_BYTES``,
    else 4 GiB. Either may be a number or a size such as ``"4e9"`` or ``"8GiB"``
    (:func:`gptviz.inputs.parse_size`); one that is neither is an InputError naming it."""
    if max_bytes is not None:
        return parse_size(max_bytes, "max_bytes")
    value = os.environ.get("GPTVIZ_MAX_TRACE_BYTES")
    return DEFAULT_MAX_BYTES if value in (None, "") else parse_size(value, "GPTVIZ_MAX_TRACE_BYTES")


def check_budget(config: GPTConfig, T: int, names=None, max_bytes=None, via: str = PYTHON, past: int = 0,
                 batch: int = 1) -> int:
    """The bytes a trace of ``T`` tokens recording ``names`` takes; TraceTooLargeError when that is over
    the budget (:func:`trace_budget`), with fixes that work for this model, in the words of ``via``
    (:mod:`gptviz.inputs`): a names= filter that fits, the most tokens that fit, a budget that fits.
    ``batch``: copies run side by side (a patching sweep); each also holds one block's activations
    while it runs, and those count too."""
    wanted = select_names(config, names)

    def cost(n: int, chosen=wanted) -> int:
        return _nbytes(config, n, chosen, past, batch)

    budget, need = trace_budget(max_bytes), cost(T)
    if need <= budget:
        return need
    most, too_many = 0, T  # the cost grows with the tokens: bisect for the most that fit
    while too_many - most > 1:
        mid = (most + too_many) // 2
        most, too_many = (mid, too_many) if cost(mid) <= budget else (most, mid)
    fewer = f"at most {most:,} tokens" if most else None
    raise_to = f"{math.ceil(need / 2**30)}GiB" if need >= 2**30 else f"{math.ceil(need / 2**20)}MiB"
    if via == PYTHON:
        last = config.n_layer - 1
        options = [["blocks.*.attn.pattern"], [f"blocks.{last}.*", "logits"], [f"blocks.{last}.attn.pattern"]]
        smaller = [o for o in options if select_names(config, o) != wanted
                   and cost(T, select_names(config, o)) <= budget][:2]
        fixes = [f"record less with names=, e.g. {' or '.join(f'names={o}' for o in smaller)}"] if smaller else []
        fixes += [f"use {fewer}"] if fewer else []
        fixes.append(f"raise the budget (max_bytes='{raise_to}' or GPTVIZ_MAX_TRACE_BYTES) if the machine has the memory")
    else:
        where = "the text" if via == CLI else "the text in the box"
        fixes = [f"shorten {where} to {fewer}"] if fewer else []
        fixes.append(f"set the environment variable GPTVIZ_MAX_TRACE_BYTES={raise_to}"
                     + (" (os.environ in a cell)" if via == EXPLORER else "") + " if the machine has the memory")
    kind = "A full trace" if len(wanted) == len(activation_shapes(config, 1)) else "A filtered trace"
    if batch > 1:
        kind = f"A batch of {batch:,} copies"
    raise TraceTooLargeError(
        f"{kind} of {T:,} tokens on {config.name or 'this model'} would take {need / 2**20:,.0f} MiB, over the "
        f"budget of {budget / 2**20:,.0f} MiB: {', '.join(fixes[:-1])}{' or ' if len(fixes) > 1 else ''}{fixes[-1]}"
    )


def _nbytes(config: GPTConfig, T: int, wanted: list[str], past: int = 0, batch: int = 1) -> int:
    """What :func:`check_budget` counts: ``batch`` copies of the names ``wanted``, and (for a batch) of
    one block's activations each."""
    shapes = activation_shapes(config, T, past)
    working = sum(math.prod(shapes[f"blocks.0.{n}"]) for n, _, _ in BLOCK_SITES) if batch > 1 else 0
    return batch * (sum(math.prod(shapes[name]) for name in wanted) + working) * _BYTES_PER_FLOAT


def batch_that_fits(config: GPTConfig, T: int, names=None, max_bytes=None, most: int | None = None) -> int:
    """The most copies of a ``T``-token pass recording ``names`` that one batch may hold within the
    budget (:func:`check_budget`), at most ``most``; never fewer than 1 (one copy is an ordinary pass,
    which the budget of a trace already admits)."""
    wanted = select_names(config, names)
    per_copy = _nbytes(config, T, wanted, batch=2) // 2
    fits = max(1, trace_budget(max_bytes) // per_copy)
    return fits if most is None else max(1, min(most, fits))


def run(model, source, *, start_layer: int = 0, names=None, edits=None, cache=None, bos: bool = False,
        allow_special: bool = False, truncate: bool | None = None, max_bytes=None, allow_nonfinite: bool = False,
        room: int = 0, what: str = "text") -> Trace:
    """The one forward pass that records: run ``model`` on ``source`` and return its :class:`Trace`.

    ``source``: a text or token ids (checked by the gate, :func:`gptviz.inputs.read_input`:
    ``allow_special`` reads a literal ``<|endoftext|>`` as id 50256; ``bos=True`` puts
    ``<|endoftext|>`` first, inside the context; ``truncate=True`` keeps the last ids that fit,
    ``room`` positions kept free for new tokens; ``what`` names the input in messages), or a residual
    stream ``[T, D]`` entering block ``start_layer`` (e.g. ``trace[f"blocks.{l-1}.resid_post"]``), or
    a batch of them ``[B, T, D]``: ``edits`` then receive and return the whole batch and the trace keeps
    it (``[B, ...]`` per name). A stream goes into the model in its device and dtype.
    ``names``: record only these names or globs (default: everything that runs; from a stream that
    records neither ``ln_f`` nor ``logits``, the pass stops after the last block). ``max_bytes``: refuse,
    before running, a trace larger than this (default ``$GPTVIZ_MAX_TRACE_BYTES`` or 4 GiB; see
    :func:`check_budget`; a batch counts every copy). ``cache``: a :class:`~gptviz.kvcache.KVCache` to
    continue (the trace then covers only the new tokens as queries). ``edits``: ``{name or glob: fn}``;
    ``fn(tensor) -> tensor`` receives the activation in its trace shape (float32, CPU, no batch
    dimension) and returns its replacement, which the rest of the forward pass uses and the trace
    records. Logits that hold NaN or an infinity raise :class:`~gptviz.errors.NonFiniteError` naming
    the first site where one appeared, unless ``allow_nonfinite=True``.

    Trace tensors are ordinary tensors (recorded under ``torch.no_grad``): write into them, or feed
    them to the model's modules, freely.
    """
    config = model.config
    check_flag(allow_nonfinite, "allow_nonfinite")
    past = len(cache) if cache is not None else 0
    if isinstance(source, torch.Tensor) and source.is_floating_point():
        if check_flag(bos, "bos"):
            raise InputError("bos=True puts <|endoftext|> before the tokens, but the source is a residual stream: "
                             "pass bos=False (the stream already holds whatever its tokens were)")
        x, first = _check_stream(model, source, start_layer, past), start_layer
        ids, text, dropped, batch, batched = [], "", 0, x.shape[0], source.dim() == 3
    else:
        if not (isinstance(start_layer, int) and start_layer == 0 and not isinstance(start_layer, bool)):
            raise InputError(f"start_layer={start_layer!r} needs a residual stream as the source (a float tensor "
                             "[T, d_model], e.g. trace['blocks.0.resid_post']); text and ids start at layer 0")
        read = read_input(model, source, allow_special=allow_special, room=room, past=past, truncate=truncate,
                          what=what, bos=bos)
        ids, text, dropped, batch, batched, first = read.ids, read.text, read.dropped, 1, False, None
        x = torch.tensor([ids], device=model.device)
    T = x.shape[1]
    wanted = select_names(config, names)
    resolved = resolve_edits(config, edits)
    check_budget(config, T, wanted, max_bytes, past=past, batch=batch)

    # From a stream, stop after the last block when nothing after it is wanted (a sweep's batch).
    to_logits = first is None or any(n in wanted or n in resolved for n, _, _ in FINAL_SITES)

    def forward(recorder: Recorder) -> torch.Tensor:
        """The logits (or the last residual stream, from a stream that stops there)."""
        with torch.no_grad():
            if first is None:
                return model(x, rec=recorder, cache=cache)
            out = model.blocks_from(x, first, recorder, cache)
            return model.unembed(out, recorder) if to_logits else out

    recorder = Recorder(config, wanted, resolved, batched=batched)
    keep_freed_memory()  # the next trace reuses this one's pages instead of faulting in new ones
    logits = forward(recorder)
    if not allow_nonfinite and not all_finite(logits):
        if cache is not None:
            cache.truncate(past)
        forward(Recorder(config, (), resolved, batched=batched, check_finite=True))  # raises at the first bad site
        raise NonFiniteError("the logits hold NaN or infinite values, but a second run found none: the model or an "
                             "edit is not deterministic. Pass allow_nonfinite=True to get the trace anyway")
    if cache is not None:  # a recorded key or value may be the cache's own storage: writing into it must not reach the cache
        for name in recorder.tensors:
            if name.endswith((SITE.attn_k, SITE.attn_v)):
                recorder.tensors[name] = recorder.tensors[name].clone()
    tokens = model.tokenizer.tokens(ids) if ids else []
    return Trace(recorder.tensors, ids, tokens, config, text, past, tuple(resolved), dropped)


def _check_stream(model, stream: torch.Tensor, start_layer, past: int) -> torch.Tensor:
    """A recorded residual stream ``[T, D]`` or ``[B, T, D]`` as the model takes it: ``(B, T, D)``, on
    its device, in its dtype; an InputError naming the fix for a bad shape or start layer."""
    config = model.config
    L = config.n_layer
    if isinstance(start_layer, bool) or not isinstance(start_layer, int) or not 0 <= start_layer <= L:
        raise InputError(f"start_layer= takes a block from 0 to {L} ({L}: only ln_f and the unembedding), "
                         f"got {start_layer!r}")
    if stream.dim() not in (2, 3) or stream.shape[-1] != config.d_model or stream.shape[-2] == 0:
        raise InputError(f"a residual stream source must have shape [T, {config.d_model}] (or [B, T, "
                         f"{config.d_model}] for a batch), got {list(stream.shape)}")
    check_fits(config.n_ctx, stream.shape[-2], past)
    x = stream if stream.dim() == 3 else stream[None]
    return x.detach().to(model.device, model.wte.weight.dtype)


def trace(model, text_or_ids, names=None, max_bytes: int | None = None, allow_special: bool = False,
          cache=None, edits=None, bos: bool = False, truncate: bool | None = None,
          allow_nonfinite: bool = False) -> Trace:
    """Run ``model`` on one sequence (a text or token ids) and record its activations: :func:`run`
    from the tokens, which documents every argument."""
    return run(model, text_or_ids, names=names, edits=edits, cache=cache, bos=bos, allow_special=allow_special,
               truncate=truncate, max_bytes=max_bytes, allow_nonfinite=allow_nonfinite)
