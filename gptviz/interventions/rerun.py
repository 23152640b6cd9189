"""Ablations switched on and off one at a time, each rerun only from the first layer it changes.

:class:`IncrementalAblation` keeps a clean run of one text and the residual stream entering every
block. Switching heads or MLPs off (or on) changes the edits of some layers only, so the blocks before
the first such layer compute what they computed before: one forward pass of the model, from the kept
stream entering that layer (``model.run(stream, start_layer=..., edits=...)``), gives the ablated run.
Its numbers are those of :func:`gptviz.interventions.ablate` on the same components. The ablation
explorer (:class:`gptviz.widgets.AblationExplorer`) shows what this computes.
"""

from __future__ import annotations

import time

import torch

from ..loss import next_token_loss
from ..trace import Trace
from .ablation import ablation_edits

#: What the clean run must record: the stream entering each block, and what the attribution reads.
CLEAN_NAMES = ["embed.token", "embed.pos", "embed.sum", "blocks.*.attn.z", "blocks.*.mlp.out",
               "blocks.*.resid_post", "logits"]


def mean_loss(trace: Trace) -> float | None:
    """The mean next-token loss over a trace's text (nats per token); None for a one-token text."""
    if trace.n_tokens < 2:
        return None
    return float(next_token_loss(trace["logits"][:-1], trace.ids[1:]))


class IncrementalAblation:
    """A clean run of one text and, after :meth:`set`, the run with some components switched off.

    ``clean``: a :class:`~gptviz.trace.Trace` holding :data:`CLEAN_NAMES` (e.g. ``model.trace(text,
    names=CLEAN_NAMES)``). Attributes: ``after`` (the ablated run's trace, covering every name of
    ``clean``: the same object as ``clean`` while nothing is off), ``probs_before`` / ``after_probs``
    (``[V]``: the next-token distribution after the text), ``loss_before`` / ``loss_after``
    (:func:`mean_loss`), ``last_run`` (``(start_layer, seconds)`` of the last forward pass; None when
    the clean run is shown).
    """

    def __init__(self, model, clean: Trace, how: str = "zero"):
        L = model.config.n_layer
        self.model, self.clean = model, clean
        self.probs_before = torch.softmax(clean["logits"][-1], dim=-1)  # [V]
        self.loss_before = mean_loss(clean)
        self._clean_streams = [clean["embed.sum"]] + [clean[f"blocks.{i}.resid_post"] for i in range(L)]
        self._applied = (frozenset(), frozenset(), how)  # the clean run's state
        self._to_clean()

    def _to_clean(self) -> None:
        self.after, self.after_probs, self.loss_after, self.last_run = self.clean, self.probs_before, self.loss_before, None
        self._streams = list(self._clean_streams)  # [T, D] entering each block, and leaving the last: L + 1

    def first_changed(self, heads, mlps, how: str) -> int | None:
        """The first layer whose edits differ between the run shown and ``heads`` / ``mlps`` / ``how``
        switched off; None when nothing differs."""
        old_heads, old_mlps, old_how = self._applied
        heads, mlps = frozenset(heads), frozenset(mlps)
        changed = {layer for layer, _ in heads ^ old_heads} | set(mlps ^ old_mlps)
        if how != old_how:
            changed |= {layer for layer, _ in heads | old_heads} | set(mlps | old_mlps)
        return min(changed) if changed else None

    def set(self, heads, mlps, how: str = "zero") -> int | None:
        """Switch off ``heads`` (``(layer, head)`` pairs) and ``mlps`` (layers), replaced by ``how``
        (``"zero"`` or ``"mean"``). Runs one forward pass from the first layer that changed, or none
        (nothing changed, or nothing is off: the clean run). Returns the layer it started from, or None."""
        heads, mlps = sorted(set(heads)), sorted(set(mlps))
        state = (frozenset(heads), frozenset(mlps), how)
        if state == self._applied:
            return None
        start = self.first_changed(heads, mlps, how)
        self._applied = state
        if not heads and not mlps:
            self._to_clean()
            return None
        self._run_from(start, heads, mlps, how)
        return start

    def _run_from(self, start: int, heads, mlps, how: str) -> None:
        model, clean, L = self.model, self.clean, self.model.config.n_layer
        layers = range(start, L)
        names = [f"blocks.{i}.{n}" for i in layers for n in ("attn.z", "mlp.out", "resid_post")] + ["logits"]
        edits = ablation_edits(model, heads, mlps, how, reference=clean)
        began = time.perf_counter()
        part = model.run(self._streams[start], start_layer=start, names=names, edits=edits)
        elapsed = time.perf_counter() - began
        tensors = dict(self.after)  # layers before start: unchanged
        tensors.update(part)
        self.after = Trace({name: tensors[name] for name in clean.names()},  # in recording order
                           clean.ids, clean.tokens, clean.config, clean.text, 0, part.edited)
        self._streams[start + 1:] = [part[f"blocks.{i}.resid_post"] for i in layers]
        self.after_probs = torch.softmax(self.after["logits"][-1], dim=-1)
        self.loss_after = mean_loss(self.after)
        self.last_run = (start, elapsed)
