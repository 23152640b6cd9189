"""Speed-ups that must change no result: each fast path against the plain computation it replaces."""

import pytest
import torch

from gptviz.corpus import VAL_SEED, generate_stories
from gptviz.evaluate import score_stories, unseen_token_ids
from gptviz.tokenizer import EOT_ID
from gptviz.trace import all_finite

BIG = torch.finfo(torch.float32).max


@pytest.mark.parametrize("case", ["random", "nan", "+inf", "-inf", "inf-inf", "sum-overflows", "empty", "half"])
def test_all_finite_answers_as_isfinite_all(case):
    x = torch.randn(7, 50257, generator=torch.Generator().manual_seed(0))
    if case in ("nan", "+inf", "-inf"):
        x[3, 1234] = {"nan": float("nan"), "+inf": float("inf"), "-inf": -float("inf")}[case]
    elif case == "inf-inf":
        x[0, 0], x[6, 50000] = float("inf"), -float("inf")  # a NaN sum, not an infinite one
    elif case == "sum-overflows":
        x = torch.full((4, 1000), BIG)  # every value finite, their sum is not
    elif case == "empty":
        x = torch.empty(0, 50257)
    elif case == "half":
        x = torch.full((3, 50257), 60000.0, dtype=torch.float16)  # finite halves, an overflowing sum
    assert all_finite(x) is bool(torch.isfinite(x).all())


def test_score_stories_unseen_mass_is_the_boolean_mask_sum_bit_for_bit(bundled_model):
    stories = generate_stories(3, VAL_SEED)
    got = score_stories(bundled_model, stories)
    tok = bundled_model.tokenizer
    unseen = torch.zeros(bundled_model.config.vocab_size, dtype=torch.bool)
    unseen[unseen_token_ids(bundled_model)] = True
    total, worst = 0.0, 0.0
    for story in stories:
        body = tok.encode(story.text) + [EOT_ID]
        logits = bundled_model.run(body[:-1], names=["logits"], bos=True, truncate=True)["logits"]
        mass = logits.softmax(-1)[:, unseen].sum(-1)
        total += mass.sum().item()
        worst = max(worst, mass.max().item())
    assert got.unseen_sum == total and got.unseen_max == worst
