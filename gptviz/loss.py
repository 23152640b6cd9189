"""The next-token loss: how surprised the model is by the token that actually comes next.

At each position the model gives a score (a logit) to every token of the vocabulary; softmax turns the
scores into probabilities, and the loss at that position is ``-log p(target)`` in nats: 0 when the
model is sure of the right token, ``log V`` when it spreads evenly over ``V`` tokens. Training
minimises its mean; evaluation, decoding and the ablation explorer report it. Everything in gptviz
that scores next tokens calls :func:`next_token_loss`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import InputError

REDUCTIONS = ("mean", "sum", "none")


def next_token_loss(logits: torch.Tensor, targets, reduction: str = "mean") -> torch.Tensor:
    """The cross-entropy (nats) of each target under the scores at its position.

    ``logits``: ``[..., T, V]``, scores at each position; ``targets``: ``[..., T]``, the id that follows
    each position (ids below ``V``), the same leading shape. For one sequence's own logits ``[T, V]``
    and ids ``[T]`` that is ``next_token_loss(logits[:-1], ids[1:])``: position ``t`` predicts ``ids[t + 1]``.
    ``reduction``: ``"mean"`` (a scalar: nats per token), ``"sum"`` (a scalar) or ``"none"`` (``[..., T]``,
    one loss per position).
    """
    targets = torch.as_tensor(targets, dtype=torch.long, device=logits.device)
    if reduction not in REDUCTIONS:
        raise InputError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}")
    if logits.dim() < 2 or tuple(logits.shape[:-1]) != tuple(targets.shape):
        raise InputError(f"logits [..., T, V] and targets [..., T] must share their leading shape: got logits "
                         f"{list(logits.shape)} and targets {list(targets.shape)}")
    losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction=reduction)
    return losses.view(targets.shape) if reduction == "none" else losses
