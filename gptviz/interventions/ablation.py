"""Ablation: switch heads or MLPs off and see what changes.

Switching a head off means replacing its output ``z`` (``blocks.{l}.attn.z[h]``, ``[T, d_head]``)
before the heads are concatenated and projected. With ``how="zero"`` it becomes zeros, exactly as if
rows ``h*d_head:(h+1)*d_head`` of that layer's ``attn.c_proj`` weight were zero (the test checks this
against ``transformers``). With ``how="mean"`` it becomes its mean over the positions of a reference
text, so the head still adds its average contribution but no longer depends on the tokens: a gentler
switch, which separates "this head carries information" from "the model needs this head's bias".
An MLP is switched off the same way, at ``blocks.{l}.mlp.out``.

Every ablation is an edit of the one forward pass (:func:`gptviz.trace.trace`), so the trace it
returns records everything the ablated model computed.
"""

from __future__ import annotations

import numpy as np
import torch

from ..checks import check_heads, check_layers
from ..errors import InputError
from ..trace import Trace, run

HOWS = ("zero", "mean")


def _check_reference(model, reference, layers: list[int]):
    """A trace to take means from for ``how="mean"``: one of this model, holding every needed name."""
    if reference is None:
        raise InputError("how='mean' needs reference=: a trace holding the attn.z and mlp.out of the layers "
                         "switched off (ablate() takes it for you from a text)")
    if not isinstance(reference, Trace):
        raise InputError(f"reference= must be a Trace here, got {type(reference).__name__}: pass "
                         "model.trace(reference_text), or call ablate(), which takes a text")
    if reference.config != model.config:
        raise InputError("reference= was traced on another model: trace the reference text with this model")
    missing = [n for i in layers for n in (f"blocks.{i}.attn.z", f"blocks.{i}.mlp.out") if n not in reference.names()]
    if missing:
        raise InputError(f"reference= does not hold {', '.join(missing)}: trace it with names=None (everything) "
                         "or with those names")
    return reference


def ablation_edits(model, heads=(), mlps=(), how: str = "zero", reference=None) -> dict:
    """The edits that switch off ``heads`` (``(layer, head)`` pairs) and the MLPs of ``mlps`` (layer
    indices), for ``model.trace(..., edits=...)``. ``how="mean"`` needs ``reference``: a trace holding
    the ``attn.z`` and ``mlp.out`` of those layers."""
    if how not in HOWS:
        raise InputError(f"how= must be 'zero' or 'mean', got {how!r}")
    heads, mlps = check_heads(model.config, heads), check_layers(model.config, mlps)
    if how == "mean":
        reference = _check_reference(model, reference, sorted({layer for layer, _ in heads} | set(mlps)))
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, []).append(head)
    edits = {}
    for layer, hs in by_layer.items():
        name = f"blocks.{layer}.attn.z"
        fill = torch.zeros(1) if how == "zero" else reference[name][hs].mean(1, keepdim=True)  # [h, 1, d]
        edits[name] = _replace_heads(hs, fill)
    for layer in mlps:
        name = f"blocks.{layer}.mlp.out"
        fill = torch.zeros(1) if how == "zero" else reference[name].mean(0)  # [D]
        edits[name] = lambda out, fill=fill: fill.to(out.dtype).expand_as(out).clone()
    return edits


def _replace_heads(heads: list[int], fill: torch.Tensor):
    def edit(z):  # z: [H, T, d]
        z = z.clone()
        z[heads] = fill.to(z.dtype)
        return z
    return edit


def ablate(model, text, heads=(), mlps=(), how: str = "zero", reference=None, names=None):
    """The :class:`~gptviz.trace.Trace` of ``text`` with ``heads`` switched off.

    ``heads``: ``[(layer, head), ...]``. ``mlps``: layer indices whose MLP to switch off too (the same
    order of arguments as :func:`ablation_edits`).
    ``how="zero"``: each head's output ``z`` becomes 0 (the same as zeroing its rows of ``c_proj``).
    ``how="mean"``: each head's output becomes its *mean over the positions of a reference text*,
    ``reference`` (a text or ids, read like ``text``; default: ``text`` itself), and each MLP's output
    its mean likewise.
    ``names``: what to record (default: everything).
    """
    heads, mlps = check_heads(model.config, heads), check_layers(model.config, mlps)
    ref = None
    if how == "mean":
        layers = sorted({layer for layer, _ in heads} | set(mlps))
        wanted = [f"blocks.{i}.attn.z" for i in layers] + [f"blocks.{i}.mlp.out" for i in layers]
        if reference is not None and not isinstance(reference, (str, list, tuple, range, np.ndarray, torch.Tensor)):
            raise InputError(f"reference= takes a text or token ids (ablate traces it), got "
                             f"{type(reference).__name__}; a Trace goes to ablation_edits(reference=...)")
        ref = run(model, text if reference is None else reference, names=wanted or ["logits"],
                  what="text" if reference is None else "reference")
    return model.trace(text, names=names, edits=ablation_edits(model, heads, mlps, how, ref))
