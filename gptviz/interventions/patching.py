"""Activation patching: where does the information that decides the answer travel?

Run the model on two texts of the same length that differ in one detail: a *clean* one ("... Tom
gave it back to" -> " Lily") and a *corrupt* one with the detail changed (names swapped -> " Tom").
Then run the corrupt text again, but paste in one activation from the clean run. If the answer comes
back, that activation carried the detail.

:func:`patch` does one such run. :func:`patch_sweep` does it for every layer and position (or every
head) and scores each by how much of the answer it restores: the *normalised logit difference* at the
last position,

    score = (patched - corrupt) / (clean - corrupt),   where  diff = logit(answer) - logit(wrong),

0 where patching changes nothing, 1 where it restores the clean run's answer fully. Positions before
the first token that differs score 0 (their activations are the same in both runs), and patching the
last layer's residual stream at the last position scores 1 (it *is* the clean output there).

The sweep runs the patched copies as one batch that starts at the patched layer, from the corrupt
run's recorded residual stream, and scores only the last position: the same numbers as one full
patched forward pass per cell, several times faster (``benchmarks/interventions.py``).
"""

from __future__ import annotations

import torch

from ..checks import check_positions
from ..errors import InputError
from ..inputs import read_input
from ..trace import SITE, batch_that_fits, select_names, site_names, stream_names

WHATS = ("resid", "attn", "mlp", "heads")


def _pair(model, clean, corrupt) -> tuple[list[int], list[int]]:
    """The token ids of the clean and corrupt runs, which must have the same length."""
    a, b = read_input(model, clean, what="clean").ids, read_input(model, corrupt, what="corrupt").ids
    if len(a) != len(b):
        raise InputError(f"clean is {len(a)} tokens and corrupt is {len(b)}: patching pastes position by position, "
                         "so both texts must have the same number of tokens (change words for words of one token)")
    return a, b


def patch(model, clean, corrupt, names, positions=None):
    """The :class:`~gptviz.trace.Trace` of ``corrupt``, with the ``clean`` run's activations pasted at
    ``names`` (names or globs) and ``positions`` (query positions; default: all).

    Both texts (or id lists) must have the same number of tokens. The clean run records only what is
    pasted; the corrupt run records everything.
    """
    cfg = model.config
    clean_ids, corrupt_ids = _pair(model, clean, corrupt)
    targets = select_names(cfg, names, "names=")
    T = len(clean_ids)
    positions = check_positions(positions, T)
    letters = dict(site_names(cfg))
    source = model.trace(clean_ids, names=targets)
    edits = {}
    for name in targets:
        shape = letters[name]  # the position axis: queries (T), or keys (K) for k and v
        edits[name] = _paste(source[name], positions, shape.index("T") if "T" in shape else shape.index("K"))
    return model.trace(corrupt_ids, edits=edits)


def _paste(clean: torch.Tensor, positions: list[int], axis: int):
    """An edit that copies ``clean``'s slices at ``positions`` along ``axis`` into what it receives."""
    idx = torch.tensor(positions)

    def edit(x):
        x = x.clone()
        x.index_copy_(axis, idx, clean.index_select(axis, idx).to(x.dtype))
        return x
    return edit


def logit_diff_direction(model, answer, wrong) -> torch.Tensor:
    """``wte[answer] - wte[wrong]`` ``[D]``: the final LayerNorm's output dotted with it is the logit difference."""
    n = model.config.vocab_size
    a, w = model.tokenizer.token_id(answer, "answer", n), model.tokenizer.token_id(wrong, "wrong", n)
    if a == w:
        raise InputError(f"answer and wrong are the same token ({model.tokenizer.token_str(a)!r}): the logit "
                         "difference would be 0; give the clean run's answer and the corrupt run's")
    return model.wte.weight[a] - model.wte.weight[w]


def patch_sweep(model, clean, corrupt, answer, wrong, what: str = "resid", max_bytes=None) -> torch.Tensor:
    """Patch every layer x position (or every head) from ``clean`` into ``corrupt``, one at a time.

    ``what``: ``"resid"`` pastes ``blocks.{l}.resid_post`` at one position; ``"attn"`` and ``"mlp"``
    paste ``blocks.{l}.attn.out`` / ``blocks.{l}.mlp.out`` at one position; ``"heads"`` pastes one
    head's ``z`` at every position. Returns the normalised logit differences (see the module
    docstring), ``[n_layer, T]``, or ``[n_layer, n_head]`` for ``"heads"``. ``answer`` and ``wrong`` are
    token strings (one token each, e.g. ``" Lily"``) or ids.

    The patched copies of a layer run as batches, each as large as the trace memory budget allows
    (``max_bytes``, default ``$GPTVIZ_MAX_TRACE_BYTES`` or 4 GiB): a long text takes more batches, not
    more memory.
    """
    if what not in WHATS:
        raise InputError(f"what= must be one of {', '.join(repr(w) for w in WHATS)}, got {what!r}")
    cfg = model.config
    clean_ids, corrupt_ids = _pair(model, clean, corrupt)
    T = len(clean_ids)
    n = cfg.n_head if what == "heads" else T  # one patched copy per cell of a row
    last = f"blocks.{cfg.n_layer - 1}.{SITE.resid_post}"
    chunk = batch_that_fits(cfg, T, [last], max_bytes, most=n)  # copies per batch, before any matmul
    direction = logit_diff_direction(model, answer, wrong).detach().to("cpu", torch.float32)
    ln_f = model.ln_f
    stream = stream_names(cfg)
    pasted = {"resid": SITE.resid_post, "attn": SITE.attn_out, "mlp": SITE.mlp_out, "heads": SITE.attn_z}[what]
    clean_tr = model.run(clean_ids, names=[f"blocks.*.{pasted}", last], max_bytes=max_bytes)
    corrupt_tr = model.run(corrupt_ids, names=stream, max_bytes=max_bytes)

    def diff(x: torch.Tensor) -> torch.Tensor:
        """The logit difference at the last position of each copy: (B, T, D) -> (B,), in float32."""
        with torch.no_grad():
            normed = ln_f(x[:, -1].to(model.device, ln_f.weight.dtype))
        return normed.to("cpu", torch.float32) @ direction

    clean_diff, corrupt_diff = diff(clean_tr[last][None]).item(), diff(corrupt_tr[last][None]).item()
    if abs(clean_diff - corrupt_diff) < 1e-6:
        raise InputError(f"the clean and corrupt runs give the same logit difference ({clean_diff:.4g}): "
                         "patching cannot restore anything; choose texts whose answers differ")
    rows = []
    for layer in range(cfg.n_layer):
        source = clean_tr[f"blocks.{layer}.{pasted}"]
        row = []
        for first in range(0, n, chunk):
            cells = torch.arange(first, min(first + chunk, n))  # the cells of this batch: positions, or heads
            if what == "resid":  # paste the stream after block `layer`, then run the blocks after it
                x = _diagonal_paste(corrupt_tr[stream[layer + 1]][None].expand(len(cells), -1, -1), source, cells)
                out = {last: x} if layer + 1 == cfg.n_layer else model.run(x, start_layer=layer + 1, names=[last],
                                                                            max_bytes=max_bytes)
            else:  # run block `layer` from the corrupt stream entering it, pasting inside it
                x = corrupt_tr[stream[layer]][None].expand(len(cells), -1, -1)  # (c, T, D)
                paste = lambda t, s=source, c=cells: _diagonal_paste(t, s, c)  # noqa: E731
                out = model.run(x, start_layer=layer, names=[last], edits={f"blocks.{layer}.{pasted}": paste},
                                max_bytes=max_bytes)
            row.append(diff(out[last]))
        rows.append(torch.cat(row))
    return (torch.stack(rows) - corrupt_diff) / (clean_diff - corrupt_diff)


def _diagonal_paste(copies: torch.Tensor, source: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """``copies`` ``(c, ...)``: ``c`` identical copies of an activation; copy ``i`` gets its slice
    ``cells[i]`` (a position of ``[T, D]``, or a head of ``[H, T, d]``) from ``source``."""
    out = copies.clone()
    out[torch.arange(len(cells)), cells] = source[cells].to(out.dtype)
    return out
