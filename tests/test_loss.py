"""gptviz.loss: the one next-token loss that training, evaluation, decoding and the explorers share."""

from __future__ import annotations

import math

import pytest
import torch

from gptviz.errors import InputError
from gptviz.loss import next_token_loss


def test_next_token_loss_is_minus_log_the_targets_probability():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 50.0]])  # [T=3, V=4]
    targets = [1, 0, 3]
    each = next_token_loss(logits, targets, reduction="none")  # [3]
    p0 = math.exp(2) / (math.exp(2) + 3)
    assert each.tolist() == pytest.approx([math.log(4), -math.log(p0), 0.0], abs=1e-6)
    assert float(next_token_loss(logits, targets)) == pytest.approx(float(each.mean()), abs=1e-7)
    assert float(next_token_loss(logits, targets, reduction="sum")) == pytest.approx(float(each.sum()), abs=1e-6)


def test_a_batch_keeps_its_shape_and_matches_each_sequence_alone():
    gen = torch.Generator().manual_seed(0)
    logits, targets = torch.randn(2, 5, 7, generator=gen), torch.randint(7, (2, 5), generator=gen)  # [B, T, V], [B, T]
    each = next_token_loss(logits, targets, reduction="none")
    assert each.shape == (2, 5)
    for b in range(2):
        assert torch.equal(each[b], next_token_loss(logits[b], targets[b], reduction="none"))


def test_mismatched_shapes_and_unknown_reductions_are_refused():
    with pytest.raises(InputError, match=r"logits \[3, 4\] and targets \[2\]|got logits \[3, 4\] and targets \[2\]"):
        next_token_loss(torch.zeros(3, 4), [0, 1])
    with pytest.raises(InputError, match="reduction must be one of"):
        next_token_loss(torch.zeros(3, 4), [0, 1, 2], reduction="max")
