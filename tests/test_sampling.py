"""Sampling: the stages equal Hugging Face's logits warpers; draws are seeded, exact and private."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from gptviz.errors import InputError
from gptviz.sampling import STAGES, Candidate, distribution, step_seed
from gptviz.tokenizer import get_tokenizer

# Chi-square critical values at p = 0.001 (df = categories - 1), from the standard tables.
CHI2_CRITICAL_001 = {3: 16.266, 5: 20.515}


def hf_stages(logits: torch.Tensor, temperature: float, top_k, top_p) -> dict[str, torch.Tensor]:
    """Probabilities after each of Hugging Face's warpers, applied in generate()'s order."""
    scores = logits[None].clone()  # (1, V)
    out = {"softmax": scores.softmax(-1)[0]}
    if temperature != 1.0:
        scores = TemperatureLogitsWarper(temperature)(None, scores)
    out["temperature"] = scores.softmax(-1)[0]
    if top_k is not None:
        scores = TopKLogitsWarper(top_k)(None, scores)
    out["top_k"] = scores.softmax(-1)[0]
    if top_p is not None:
        scores = TopPLogitsWarper(top_p)(None, scores)
    out["top_p"] = scores.softmax(-1)[0]
    out["scaled"] = (logits / temperature) if temperature != 1.0 else logits
    return out


def chi_square(counts: torch.Tensor, probs: torch.Tensor) -> float:
    expected = probs.double() * counts.sum()
    return float(((counts.double() - expected) ** 2 / expected).sum())


finite = st.floats(-30, 30, allow_nan=False, width=32)
tied = st.sampled_from([-2.0, 0.0, 0.5, 1.0, 3.0])  # many exact ties
banned = st.just(-math.inf)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    values=st.one_of(st.lists(finite, min_size=1, max_size=64), st.lists(tied, min_size=1, max_size=64),
                     st.lists(st.one_of(finite, banned), min_size=1, max_size=64)),
    temperature=st.one_of(st.just(1.0), st.floats(0.05, 5.0)),
    top_k=st.one_of(st.none(), st.integers(1, 80)),
    top_p=st.one_of(st.none(), st.just(1.0), st.floats(0.01, 1.0)),
)
def test_stages_equal_hugging_face_warpers(values, temperature, top_k, top_p):
    logits = torch.tensor(values, dtype=torch.float32)
    if torch.isneginf(logits).all():
        logits[0] = 0.0
    d = distribution(logits, temperature, top_k, top_p)
    hf = hf_stages(logits, temperature, top_k, top_p)
    assert list(d.stages) == list(STAGES)
    for stage in ("softmax", "temperature", "top_k"):
        assert torch.equal(d.stages[stage], hf[stage]), stage
    assert d.n_kept == int((hf["top_p"] > 0).sum())
    finite_scaled = hf["scaled"][torch.isfinite(hf["scaled"])]
    if len(finite_scaled.unique()) == len(finite_scaled):
        assert torch.equal(d.probs, hf["top_p"])  # bit for bit
    else:  # exact ties may sit at the top-p boundary: HF's unstable sort picks which; the mass agrees
        torch.testing.assert_close(d.probs.sort().values, hf["top_p"].sort().values, rtol=1e-6, atol=0)
    kept_mass = float(hf["temperature"][hf["top_p"] > 0].double().sum())
    assert d.mass_cut == pytest.approx(1.0 - kept_mass, abs=1e-6)
    p = d.probs.double()
    assert d.entropy == pytest.approx(float(-(p[p > 0] * p[p > 0].log()).sum()), abs=1e-9)
    assert d.kept.tolist() == sorted(torch.nonzero(d.probs).flatten().tolist(),
                                     key=lambda i: (-float(d.probs[i]), -float(logits[i]), i))


def test_full_vocabulary_matches_hugging_face_bit_for_bit():
    logits = torch.randn(50257, generator=torch.Generator().manual_seed(0)) * 4
    for settings_ in [(0.7, 40, 0.9), (1.3, None, 0.95), (0.9, 500, None)]:
        d = distribution(logits, *settings_)
        assert torch.equal(d.probs, hf_stages(logits, *settings_)["top_p"])
        assert d.probs.shape == (50257,)


def test_top_k_keeps_every_token_tied_with_the_kth():
    d = distribution(torch.tensor([3.0, 1.0, 3.0, 3.0, 0.0]), top_k=2)
    assert d.kept.tolist() == [0, 2, 3]
    assert torch.allclose(d.probs, torch.tensor([1 / 3, 0, 1 / 3, 1 / 3, 0]))


def test_top_p_keeps_the_smallest_set_reaching_p_and_splits_exact_ties_by_id():
    d = distribution(torch.zeros(4), top_p=0.5)  # 0.25 each: two tokens reach 0.5 exactly
    assert d.kept.tolist() == [0, 1]
    assert d.mass_cut == pytest.approx(0.5)
    d = distribution(torch.log(torch.tensor([0.5, 0.3, 0.2])), top_p=0.6)
    assert d.kept.tolist() == [0, 1]  # 0.5 < 0.6 <= 0.8
    assert distribution(torch.tensor([5.0, 0.0]), top_p=0.01).kept.tolist() == [0]  # at least one


def test_top_k_larger_than_vocabulary_and_top_p_one_keep_everything():
    logits = torch.randn(100, generator=torch.Generator().manual_seed(1))
    plain = distribution(logits, temperature=0.8)
    for d in (distribution(logits, temperature=0.8, top_k=10**6), distribution(logits, temperature=0.8, top_p=1.0)):
        assert torch.equal(d.probs, plain.probs) and d.n_kept == 100 and d.mass_cut == 0.0


def test_stages_that_are_off_repeat_the_previous_one():
    d = distribution(torch.randn(30), temperature=1.0, top_k=5)
    assert d.stages["temperature"] is d.stages["softmax"]
    assert d.stages["top_p"] is d.stages["top_k"]
    assert d.probs is d.stages["top_p"]


def test_temperature_sharpens_and_flattens():
    logits = torch.randn(200, generator=torch.Generator().manual_seed(2))
    entropies = [distribution(logits, temperature=t).entropy for t in (0.3, 1.0, 3.0)]
    assert entropies[0] < entropies[1] < entropies[2]
    assert torch.allclose(distribution(logits, temperature=2.0).probs, torch.softmax(logits / 2, -1))


def test_temperature_zero_is_greedy():
    logits = torch.tensor([1.0, 4.0, 4.0, -2.0])
    for d in (distribution(logits, temperature=0), distribution(logits, temperature=0.7, top_k=3, greedy=True)):
        assert d.greedy and d.probs.tolist() == [0.0, 1.0, 0.0, 0.0]  # first of the tied maxima
        assert d.kept.tolist() == [1] and d.n_kept == 1 and d.entropy == 0.0
        assert {d.draw(seed) for seed in range(20)} == {1}
    assert torch.equal(distribution(logits, temperature=0).stages["temperature"], torch.tensor([0.0, 1, 0, 0]))
    stages = distribution(logits, temperature=0.7, top_k=3, greedy=True).stages  # what sampling would do
    assert stages["top_k"][3] == 0.0 and 0.0 < stages["top_k"][0] < stages["top_k"][1]


def test_top_candidates_are_ordered_and_labelled():
    tok = get_tokenizer()
    logits = torch.full((50257,), -5.0)
    logits[[464, 383, 317, 262]] = torch.tensor([3.0, 2.0, 1.0, 0.5])  # "The", " The", " a", " the"
    d = distribution(logits, top_k=2, tokenizer=tok)
    top = d.top(4)
    assert [c.id for c in top] == [464, 383, 317, 262]
    assert [c.token for c in top] == [tok.token_str(i) for i in (464, 383, 317, 262)]
    assert top[0] == Candidate(464, tok.token_str(464), float(d.probs[464]), 3.0)
    assert top[2].prob == 0.0 and top[2].logit == 1.0  # cut by top-k: after the kept ones, by logit
    assert sum(c.prob for c in top[:2]) == pytest.approx(1.0)
    assert distribution(logits).top(2)[0].token == ""  # no tokenizer: no labels


def test_seeded_draws_repeat_and_vary_with_the_seed():
    d = distribution(torch.randn(1000, generator=torch.Generator().manual_seed(3)))
    assert [d.draw(seed=5) for _ in range(3)] == [d.draw(seed=5)] * 3
    assert torch.equal(d.draws(50, seed=9), d.draws(50, seed=9))
    assert d.draw(seed=9) == int(d.draws(1, seed=9)[0])
    assert len({d.draw(seed=s) for s in range(50)}) > 20
    assert step_seed(1, 2) == step_seed(1, 2) != step_seed(2, 1)


def test_draws_never_touch_the_global_rng():
    state = torch.random.get_rng_state()
    d = distribution(torch.randn(100, generator=torch.Generator().manual_seed(4)), top_p=0.9)
    d.draws(100, seed=1)
    d.draw()
    d.draws(10)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_draws_follow_the_distribution_chi_square():
    logits = torch.tensor([2.0, 1.5, 1.0, 0.2, -0.5, -3.0])
    d = distribution(logits, top_k=4)
    counts = torch.bincount(d.draws(20000, seed=0), minlength=6)
    assert counts[4:].sum() == 0  # cut tokens are never drawn
    assert chi_square(counts[:4], d.probs[:4]) < CHI2_CRITICAL_001[3]


def test_per_position_seeds_follow_the_distribution_chi_square():
    d = distribution(torch.tensor([1.0, 0.5, 0.0, -0.5, -1.0, -1.5]))
    picks = torch.tensor([d.draw(step_seed(7, position)) for position in range(3000)])
    assert chi_square(torch.bincount(picks, minlength=6), d.probs) < CHI2_CRITICAL_001[5]


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-0.5), "temperature"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(temperature=float("inf")), "temperature"),
    (dict(temperature="hot"), "temperature"),
    (dict(top_k=0), "top_k"),
    (dict(top_k=-3), "top_k"),
    (dict(top_k=2.5), "top_k"),
    (dict(top_k=True), "top_k"),
    (dict(top_p=0.0), "top_p"),
    (dict(top_p=1.5), "top_p"),
    (dict(top_p=-0.1), "top_p"),
    (dict(top_p=float("nan")), "top_p"),
])
def test_bad_settings_raise_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        distribution(torch.zeros(10), **kwargs)


@pytest.mark.parametrize("logits, message", [
    (torch.tensor([0.0, float("nan"), 1.0]), "NaN"),
    (torch.zeros(2, 5), "shape"),
    (torch.tensor(1.0), "shape"),
    (torch.zeros(0), "shape"),
    (torch.tensor([0.0, float("inf")]), r"\+inf"),
    (torch.full((3,), -math.inf), "-inf"),
])
def test_bad_logits_raise_input_error(logits, message):
    with pytest.raises(InputError, match=message):
        distribution(logits)


def test_temperature_too_small_for_the_logits_says_use_greedy():
    with pytest.raises(InputError, match="temperature=0"):
        distribution(torch.tensor([1e30, 0.0]), temperature=1e-10)


def test_entropy_in_nats_row_by_row():
    from gptviz.sampling import entropy

    rows = torch.tensor([[0.25] * 4, [1.0, 0.0, 0.0, 0.0], [0.75, 0.25, 0.0, 0.0]], dtype=torch.float64)
    p = torch.tensor([0.75, 0.25], dtype=torch.float64)
    assert entropy(rows).tolist() == pytest.approx([math.log(4), 0.0, -(p * p.log()).sum().item()], abs=1e-12)
    assert entropy(torch.randn(2, 3, 7).softmax(-1)).shape == (2, 3)
    d = distribution(torch.randn(50), temperature=0.7, top_k=10)
    assert d.entropy == float(entropy(d.probs))  # the Distribution's own, the same function
