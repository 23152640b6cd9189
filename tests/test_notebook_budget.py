"""gptviz.notebook.budget: the chapters' own counts for the bundled model, smaller ones for GPT-2."""

from dataclasses import FrozenInstanceError, asdict
from types import SimpleNamespace

import pytest

from gptviz import PRESETS, GPTConfig
from gptviz.notebook import budget

# The counts chapters 4 to 10 use on the bundled model: changing one changes stored outputs.
TODAY = dict(neuron_stories=50, lens_stories=100, top_p_stories=100, long_tokens=256, stop_tokens=400, seeds=20,
             held_out_stories=100, sink_stories=30, repeats=16, recall_stories=200, gave_stories=3000, circuit_tokens=None)
# GPT-2 small's: what keeps `make test-gpt2` to minutes (the floors of budget()).
GPT2_SMALL = dict(neuron_stories=10, lens_stories=8, top_p_stories=10, long_tokens=64, stop_tokens=50, seeds=3,
                  held_out_stories=20, sink_stories=5, repeats=2, recall_stories=20, gave_stories=300, circuit_tokens=1000)


def shaped(config):
    return SimpleNamespace(config=config)


def test_the_bundled_model_gets_the_chapters_own_counts():
    bundled = GPTConfig(n_ctx=256, d_model=128, n_layer=4, n_head=4, name="gptviz-stories")
    assert asdict(budget(shaped(bundled))) == TODAY


def test_the_loaded_bundled_model_too(bundled_model):
    assert asdict(budget(bundled_model)) == TODAY


def test_gpt2_small_gets_bounded_counts():
    assert asdict(budget(shaped(PRESETS["gpt2"]))) == GPT2_SMALL
    gpt2 = budget(shaped(PRESETS["gpt2"]))
    assert 64 <= gpt2.long_tokens <= 256 < PRESETS["gpt2"].n_ctx
    assert 50 <= gpt2.stop_tokens <= 150
    assert 3 <= gpt2.seeds <= 8 and 20 <= gpt2.held_out_stories < 100
    assert 2 <= gpt2.repeats < 16 and 20 <= gpt2.recall_stories <= 60 and 100 <= gpt2.gave_stories <= 500
    assert 5 <= gpt2.sink_stories < 30 and 1000 <= gpt2.circuit_tokens <= 4000


def test_counts_never_grow_with_the_model_and_stay_within_the_context():
    sizes = [budget(shaped(PRESETS[name])) for name in ("gpt2", "gpt2-medium", "gpt2-xl")]
    for smaller, larger in zip(sizes, sizes[1:]):
        assert all(b <= a for a, b in zip(asdict(smaller).values(), asdict(larger).values()) if a is not None)
    tiny_context = budget(shaped(GPTConfig(n_ctx=64, d_model=32, n_layer=1, n_head=2)))
    assert tiny_context.long_tokens == 64


def test_a_budget_is_frozen():
    with pytest.raises(FrozenInstanceError):
        budget(shaped(PRESETS["gpt2"])).seeds = 100
