"""Every public entry point on a model whose weights are in another dtype or on another device.

Recorded tensors go back into the model in its device and dtype inside ``run`` (once); traces stay
float32 on the CPU. Each result is compared with the float32 CPU model's within a tolerance that fits
the dtype. The CUDA cases carry the ``gpu`` marker and skip, saying so, where there is no CUDA.
"""

import copy

import pytest
import torch

from gptviz.generation import Stepper, generate
from gptviz.interventions import (ablate, induction_scores, logit_attribution, measure_induction, patch, patch_sweep,
                                  previous_token_scores)
from gptviz.lens import logit_lens

CLEAN = "One day Lily and Tom went to the park. Lily gave the ball to"
CORRUPT = "One day Tom and Lily went to the park. Tom gave the ball to"
# Largest difference allowed, as a fraction of the float32 result's largest size.
TOLERANCE = {torch.float64: 1e-4, torch.float32: 1e-4, torch.bfloat16: 0.08}


def _cuda(dtype):
    return pytest.param(("cuda", dtype), marks=[pytest.mark.gpu, pytest.mark.skipif(
        not torch.cuda.is_available(), reason="no CUDA device on this machine (torch.cuda.is_available() is False)")])


CASES = [("cpu", torch.float64), ("cpu", torch.bfloat16), _cuda(torch.float32), _cuda(torch.bfloat16)]


@pytest.fixture(scope="module", params=CASES, ids=lambda p: f"{p[0]}-{str(p[1]).replace('torch.', '')}")
def other(request, odd_model):
    device, dtype = request.param
    return copy.deepcopy(odd_model).to(device=device, dtype=dtype)


def close(got: torch.Tensor, want: torch.Tensor, dtype) -> None:
    assert got.dtype == torch.float32 and got.device.type == "cpu"  # what gptviz hands back
    scale = want.abs().max().item() or 1.0
    worst = (got - want).abs().max().item()
    assert worst <= TOLERANCE[dtype] * scale, f"off by {worst:.3g} (scale {scale:.3g})"


def test_trace_and_lens(odd_model, other):
    dtype = other.wte.weight.dtype
    want, got = odd_model.trace(CLEAN), other.trace(CLEAN)
    assert got.names() == want.names()
    for name in ("blocks.1.attn.pattern", "blocks.2.resid_post", "logits"):
        close(got[name], want[name], dtype)
    close(logit_lens(other, got, k=3).probs, logit_lens(odd_model, want, k=3).probs, dtype)
    restarted = other.run(want["blocks.0.resid_post"], start_layer=1, names=["logits"])  # a float32 CPU stream
    close(restarted["logits"], want["logits"], dtype)


def test_generation(odd_model, other):
    dtype = other.wte.weight.dtype
    close(Stepper(other, CLEAN).step().distribution.logits, Stepper(odd_model, CLEAN).step().distribution.logits, dtype)
    recorded = Stepper(other, CLEAN, record=True, seed=3).step()
    assert recorded.trace["logits"].device.type == "cpu"
    out = generate(other, CLEAN, max_new_tokens=3, seed=0, stop_at_eos=False)
    assert len(out.new_ids) == 3 and all(0 <= i < other.config.vocab_size for i in out.new_ids)
    if dtype != torch.bfloat16:  # bfloat16 may tip a draw; the others pick the same tokens
        assert out.new_ids == generate(odd_model, CLEAN, max_new_tokens=3, seed=0, stop_at_eos=False).new_ids


def test_interventions(odd_model, other):
    dtype = other.wte.weight.dtype
    close(ablate(other, CLEAN, heads=[(1, 2)])["logits"], ablate(odd_model, CLEAN, heads=[(1, 2)])["logits"], dtype)
    close(patch(other, CLEAN, CORRUPT, "blocks.1.resid_post", positions=[0, 4])["logits"],
          patch(odd_model, CLEAN, CORRUPT, "blocks.1.resid_post", positions=[0, 4])["logits"], dtype)
    for what in ("resid", "attn", "heads"):
        got = patch_sweep(other, CLEAN, CORRUPT, " Tom", " Lily", what=what)
        want = patch_sweep(odd_model, CLEAN, CORRUPT, " Tom", " Lily", what=what)
        assert got.dtype == torch.float32 and got.shape == want.shape and torch.isfinite(got).all()
        if dtype == torch.bfloat16:  # a small logit difference divides bfloat16's error: check the identities
            assert what == "heads" or got[:, 0].eq(0).all()  # position 0 ("One") is the same in both runs
            assert what != "resid" or got[-1, -1] == 1  # the last stream at the last position is the output
        else:
            assert (got - want).abs().max() <= 2e-3  # normalised scores
    tr_other, tr = other.trace(CLEAN), odd_model.trace(CLEAN)
    close(logit_attribution(other, tr_other, " Lily").values, logit_attribution(odd_model, tr, " Lily").values, dtype)


def test_detectors(odd_model, other):
    dtype = other.wte.weight.dtype
    got, want = other.trace(CLEAN), odd_model.trace(CLEAN)
    close(previous_token_scores(got), previous_token_scores(want), dtype)
    close(induction_scores(got, 3), induction_scores(want, 3), dtype)
    tokens = list(range(300, 340))
    a = measure_induction(other, n=10, seeds=range(2), tokens=tokens)
    b = measure_induction(odd_model, n=10, seeds=range(2), tokens=tokens)
    close(a.losses, b.losses, dtype)
    close(a.induction, b.induction, dtype)
