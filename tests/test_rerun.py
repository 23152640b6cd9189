"""IncrementalAblation: the ablation explorer's numbers, computed in the library and checked against
ablate(); forward passes counted from outside (hooks on the model's blocks)."""

from __future__ import annotations

import pytest
import torch

from gptviz.interventions import ablate, position_losses
from gptviz.interventions.rerun import CLEAN_NAMES, IncrementalAblation, mean_loss

TEXT = "One day Lily and Tom went to the park. Lily gave the ball to"


def check_against_ablate(run, model, heads, mlps, how):
    ref = ablate(model, TEXT, heads=heads, mlps=mlps, how=how)
    for name in run.clean.names():
        assert torch.allclose(run.after[name], ref[name], atol=1e-5, rtol=0), name
    assert run.loss_after == pytest.approx(float(position_losses(ref).mean()), abs=1e-5)
    assert torch.allclose(run.after_probs, torch.softmax(ref["logits"][-1], -1), atol=1e-6)


def test_each_change_reruns_from_its_first_layer_and_matches_ablate(odd_model, count_forward):
    L = odd_model.config.n_layer
    run = IncrementalAblation(odd_model, odd_model.trace(TEXT, names=CLEAN_NAMES))
    assert run.loss_before == pytest.approx(float(position_losses(run.clean).mean()), abs=1e-6)
    runs = count_forward(odd_model)

    def blocks_run(*args) -> tuple:
        before = runs.blocks
        start = run.set(*args)
        return start, runs.blocks - before

    assert blocks_run([(1, 2)], []) == (1, L - 1)
    check_against_ablate(run, odd_model, [(1, 2)], [], "zero")
    assert blocks_run([(1, 2), (2, 0)], []) == (2, L - 2)
    assert blocks_run([(1, 2), (2, 0)], [0], "mean") == (0, L)  # how changed: from the first layer with anything off
    check_against_ablate(run, odd_model, [(1, 2), (2, 0)], [0], "mean")
    assert blocks_run([(2, 0), (1, 2)], [0], "mean") == (None, 0)  # the same state, reordered
    assert blocks_run([(2, 0)], [0], "mean") == (1, L - 1)  # a layer below others switched on
    check_against_ablate(run, odd_model, [(2, 0)], [0], "mean")
    assert blocks_run([], []) == (None, 0) and run.after is run.clean and run.last_run is None  # all on: no pass
    assert run.loss_after == run.loss_before

def test_mean_loss_of_a_one_token_text_is_none(odd_model):
    assert mean_loss(odd_model.trace("Hello", names=["logits"])) is None
