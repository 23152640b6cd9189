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

import torch

from ..errors import InputError

HOWS = ("zero", "mean")


def check_heads(config, heads) -> list[tuple[int, int]]:
    """``heads`` as a list of ``(layer, head)`` pairs of ints in range, or an InputError saying which is not."""
    if heads is None:
        return []
    if isinstance(heads, tuple) and len(heads) == 2 and all(isinstance(x, int) for x in heads):
        heads = [heads]  # one pair given on its own
    out = []
    for pair in heads:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)):
            raise InputError(f"heads= takes (layer, head) pairs of ints, such as heads=[(1, 0), (2, 3)]; got {pair!r}")
        layer, head = pair
        if not 0 <= layer < config.n_layer or not 0 <= head < config.n_head:
            raise InputError(f"head ({layer}, {head}) does not exist: layers are 0..{config.n_layer - 1} and "
                             f"heads 0..{config.n_head - 1}")
        out.append((layer, head))
    return out


def check_layers(config, layers, what: str = "mlps=") -> list[int]:
    """``layers`` as a list of layer indices in range."""
    if layers is None:
        return []
    if isinstance(layers, int) and not isinstance(layers, bool):
        layers = [layers]
    out = []
    for layer in layers:
        if not isinstance(layer, int) or isinstance(layer, bool) or not 0 <= layer < config.n_layer:
            raise InputError(f"{what} takes layer indices from 0 to {config.n_layer - 1}, got {layer!r}")
        out.append(layer)
    return out


def ablation_edits(model, heads=(), mlps=(), how: str = "zero", reference=None) -> dict:
    """The edits that switch off ``heads`` (``(layer, head)`` pairs) and the MLPs of ``mlps`` (layer
    indices), for ``model.trace(..., edits=...)``. ``how="mean"`` needs ``reference``: a trace holding
    the ``attn.z`` and ``mlp.out`` of those layers."""
    if how not in HOWS:
        raise InputError(f"how= must be 'zero' or 'mean', got {how!r}")
    heads, mlps = check_heads(model.config, heads), check_layers(model.config, mlps)
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


def ablate(model, text, heads=(), how: str = "zero", reference=None, mlps=(), names=None):
    """The :class:`~gptviz.trace.Trace` of ``text`` with ``heads`` switched off.

    ``heads``: ``[(layer, head), ...]``. ``mlps``: layer indices whose MLP to switch off too.
    ``how="zero"``: each head's output ``z`` becomes 0 (the same as zeroing its rows of ``c_proj``).
    ``how="mean"``: each head's output becomes its *mean over the positions of a reference text*,
    ``reference`` (a text or ids; default: ``text`` itself), and each MLP's output its mean likewise.
    ``names``: what to record (default: everything).
    """
    heads, mlps = check_heads(model.config, heads), check_layers(model.config, mlps)
    ref = None
    if how == "mean":
        layers = sorted({layer for layer, _ in heads} | set(mlps))
        wanted = [f"blocks.{i}.attn.z" for i in layers] + [f"blocks.{i}.mlp.out" for i in layers]
        ref = model.trace(text if reference is None else reference, names=wanted or ["logits"])
    return model.trace(text, names=names, edits=ablation_edits(model, heads, mlps, how, ref))
