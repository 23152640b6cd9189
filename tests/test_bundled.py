"""The shipped model: loads offline and fast, matches transformers, and its card's figures hold."""

from __future__ import annotations

import json
import time

import pytest
import torch

import gptviz
from gptviz.corpus import generate_stories
from gptviz.evaluate import score_stories, story_ids
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
    assert metrics["val_loss"] < 0.5 * metrics["unigram_loss"]
    card = (FOLDER / "README.md").read_text()
    for key in ("val_loss", "unigram_loss"):
        assert f"{metrics[key]:.3f}" in card, key


def test_name_recall_is_high(sample_scores, metrics):
    assert sample_scores.name_positions > 100
    assert sample_scores.name_recall >= 0.9
    assert metrics["name_recall"] >= 0.9


def test_unseen_tokens_get_almost_no_probability(sample_scores, metrics):
    assert sample_scores.unseen_mass < 1e-3
    assert metrics["unseen_mass_mean"] < 1e-3


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
