"""The shipped model: loads offline and fast, matches transformers, and its card's figures hold."""

from __future__ import annotations

import json
import time

import pytest
import torch

import gptviz
from gptviz.corpus import generate_stories
from gptviz.evaluate import CARD_BEGIN, card_figures, score_stories, story_ids, unseen_token_ids
from gptviz.interventions.detectors import learned_tokens, measure_induction
from gptviz.hub import BUNDLED
from gptviz.tokenizer import assets_dir
from gptviz.train import STORIES_CONFIG, VAL_SEED

FOLDER = assets_dir() / "models" / BUNDLED


@pytest.fixture(scope="module")
def metrics():
    return json.loads((FOLDER / "metrics.json").read_text())


@pytest.fixture(scope="module")
def sample_scores(bundled_model, metrics):
    return score_stories(bundled_model, generate_stories(metrics["sample"]["stories"], VAL_SEED))


def test_loads_offline_in_under_two_seconds(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("GPTVIZ_MODEL", raising=False)
    start = time.perf_counter()
    model = gptviz.load(device="cpu")
    seconds = time.perf_counter() - start
    assert seconds < 2.0
    assert model.config == STORIES_CONFIG
    assert model.wte.weight.dtype == torch.float32
    assert (FOLDER / "model.safetensors").stat().st_size <= 16 * 2**20


def test_validation_loss_matches_the_card(sample_scores, metrics):
    assert sample_scores.loss == pytest.approx(metrics["sample"]["val_loss"], abs=0.01)
    assert sample_scores.loss == pytest.approx(metrics["val_loss"], abs=0.05)  # 40 of the 1,000 stories
    card = (FOLDER / "README.md").read_text()
    for key in ("val_loss", "bigram_loss", "unigram_loss"):
        assert f"{metrics[key]:.3f}" in card, key


def test_the_baselines_recomputed_on_a_sample_match_the_card(bundled_model, sample_scores, metrics):
    """The unigram and bigram losses from 2,000 training stories (the card's used 20,000) on the 40
    sample stories: within 0.25 nats of the card's, and the model beats each by half."""
    from gptviz.corpus import encode_stories
    from gptviz.evaluate import bigram_loss, unigram_loss
    from gptviz.train import TRAIN_SEED

    tok = bundled_model.tokenizer
    train_ids = encode_stories(generate_stories(2000, TRAIN_SEED), tok)
    docs = [story_ids(s, tok) for s in generate_stories(metrics["sample"]["stories"], VAL_SEED)]
    unigram = unigram_loss(train_ids, [i for d in docs for i in d[1:]])
    bigram = bigram_loss(train_ids, docs)
    assert unigram == pytest.approx(metrics["unigram_loss"], abs=0.25)
    assert bigram == pytest.approx(metrics["bigram_loss"], abs=0.25)
    assert sample_scores.loss < 0.5 * bigram < 0.5 * unigram


def test_the_card_shows_the_figures_of_metrics_json(metrics):
    """The table between the card's markers is exactly what ``python -m gptviz.evaluate --write`` writes."""
    card = (FOLDER / "README.md").read_text()
    assert CARD_BEGIN in card and card_figures(metrics) in card
    assert (FOLDER / "induction.png").stat().st_size > 1000


@pytest.fixture(scope="module")
def induction(bundled_model):
    """Issue 14's measurement: <|endoftext|> + r + r, r = 50 learned tokens, 16 seeds."""
    return measure_induction(bundled_model, n=50, seeds=range(16))


def test_induction_figures_match_the_card(induction, metrics):
    card = metrics["induction"]
    assert induction.first_copy == pytest.approx(card["first_copy_loss"], abs=0.01)
    assert induction.second_copy == pytest.approx(card["second_copy_loss"], abs=0.01)
    for scores, best in ((induction.induction, card["induction_head"]), (induction.previous, card["previous_token_head"])):
        assert scores[best["layer"], best["head"]].item() == pytest.approx(best["score"], abs=1e-3)
        assert scores[best["layer"], best["head"]] == scores.max()


def test_induction_meets_the_issue_targets(induction):
    assert induction.first_copy - induction.second_copy >= 4
    assert induction.induction.max().item() >= 0.5
    assert induction.previous.max().item() >= 0.5


def test_the_world_is_wide_and_unseen_tokens_are_the_rest(bundled_model, metrics):
    learned = learned_tokens(bundled_model)
    assert len(learned) == metrics["learned_tokens"] >= 3000
    assert len(unseen_token_ids(bundled_model)) == metrics["unseen_tokens"] == 50257 - 1 - len(learned)


def test_name_recall_matches_the_card(sample_scores, metrics):
    assert sample_scores.name_positions > 100
    assert sample_scores.name_recall == pytest.approx(metrics["sample"]["name_recall"], abs=1e-4)


def test_name_recall_meets_the_issue_target(sample_scores, metrics):
    assert sample_scores.name_recall >= 0.9
    assert sample_scores.name_recall == pytest.approx(metrics["name_recall"], abs=0.03)  # 40 of the 1,000 stories


def test_a_head_looks_back_at_the_name_it_copies(bundled_model, metrics):
    """The card's name-head figures, recomputed on the same 40 stories."""
    from gptviz.evaluate import name_head_scores

    card = metrics["name_heads"]
    scores, places = name_head_scores(bundled_model, generate_stories(card["stories"], VAL_SEED))
    assert places == card["positions"]
    torch.testing.assert_close(scores, torch.tensor(card["scores"]), atol=6e-4, rtol=0)
    best = card["heads"][0]
    assert scores[best["layer"], best["head"]] == scores.max() >= 0.5


def test_unseen_tokens_get_almost_no_probability(sample_scores, metrics):
    assert sample_scores.unseen_mass < 1e-3
    # no larger than the first edition's (mean 9.66e-05, max 0.374) wherever the next token is one the
    # model learned; where the next token is itself unseen in training, copying it is right
    assert sample_scores.unseen_mass <= 9.66e-05 and sample_scores.unseen_max_known <= 0.374
    assert sample_scores.unseen_max_known <= metrics["unseen_mass_max_known"]
    assert metrics["unseen_mass_mean"] / 10 <= sample_scores.unseen_mass <= metrics["unseen_mass_mean"] * 10


def test_the_unseen_figures_split_the_positions_by_their_next_token(bundled_model, sample_scores, metrics):
    """unseen_targets counts the scored positions whose next token the model never learned; the max over
    the others is at most the max over all."""
    unseen, n = set(unseen_token_ids(bundled_model).tolist()), bundled_model.config.n_ctx
    stories = generate_stories(metrics["sample"]["stories"], VAL_SEED)
    targets = [t for s in stories for t in story_ids(s, bundled_model.tokenizer)[1: n + 1]]
    assert len(targets) == sample_scores.tokens
    assert sample_scores.unseen_targets == sum(t in unseen for t in targets)
    assert sample_scores.unseen_max_known <= sample_scores.unseen_max
    if sample_scores.unseen_targets == 0:  # every next token learned: the max over all is the max over those
        assert sample_scores.unseen_max == sample_scores.unseen_max_known


def test_transformers_gives_the_same_logits(bundled_model, monkeypatch):
    from transformers import GPT2LMHeadModel

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hf = GPT2LMHeadModel.from_pretrained(FOLDER, dtype=torch.float32).eval()
    ids = torch.tensor([story_ids(generate_stories(1, VAL_SEED)[0], bundled_model.tokenizer)[:-1]])
    with torch.no_grad():
        diff = (hf(ids).logits - bundled_model(ids)).abs().max().item()
    assert diff <= 1e-4


def test_scoring_with_a_head_switched_off_equals_zeroing_its_weights(odd_checkpoint, odd_model):
    """score_stories(edits=...) is the model with that head's rows of c_proj zeroed (an edit of the
    weights, not of the forward pass), on a random-weight checkpoint."""
    from gptviz.interventions import ablation_edits

    stories = generate_stories(4, VAL_SEED)
    ablated = score_stories(odd_model, stories, edits=ablation_edits(odd_model, heads=[(1, 2)]))
    edited = gptviz.load(odd_checkpoint, device="cpu")
    d = edited.config.d_head
    with torch.no_grad():
        edited.h[1].attn.c_proj.weight[:, 2 * d:3 * d] = 0  # nn.Linear: [out, in]; head 2's inputs
    reference = score_stories(edited, stories)
    assert ablated.tokens == reference.tokens and ablated.name_positions == reference.name_positions > 0
    assert ablated.loss_sum == pytest.approx(reference.loss_sum, rel=1e-5)
    assert ablated.name_hits == reference.name_hits
    assert ablated.loss_sum != pytest.approx(score_stories(odd_model, stories).loss_sum, rel=1e-5)
