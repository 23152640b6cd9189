"""Check-your-work helpers (right answers pass, wrong ones say what differs) and the notebook setup."""

import math

import numpy as np
import pytest
import torch

from gptviz import GPT, GPTConfig
from gptviz.exercises import check, check_trace, verdict


@pytest.fixture(scope="module")
def tiny_trace():
    model = GPT(GPTConfig(n_layer=1, n_head=2, d_model=16, n_ctx=16)).init_weights(0).eval()
    return model.trace("Lily saw Tom.")


def test_close_tensors_pass_and_far_ones_report_the_worst_index():
    expected = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert verdict(expected + 1e-6, expected).ok
    off = expected.clone()
    off[1, 0] += 0.5
    v = verdict(off, expected)
    assert not v.ok and v.max_diff == pytest.approx(0.5)
    assert "index [1, 0]" in v.message and "3.5" in v.message


def test_shape_mismatch_is_named():
    v = verdict(torch.zeros(2, 3), torch.zeros(3, 2), what="x")
    assert not v.ok and "[2, 3]" in v.message and "[3, 2]" in v.message and math.isinf(v.max_diff)


def test_matching_minus_infinity_counts_as_equal_and_a_missing_mask_does_not():
    masked = torch.tensor([[0.5, -math.inf], [0.1, 0.2]])
    assert verdict(masked.clone(), masked).ok
    v = verdict(torch.tensor([[0.5, 0.7], [0.1, 0.2]]), masked)
    assert not v.ok and "index [0, 1]" in v.message and "mask" in v.message


def test_nan_is_never_right():
    assert not verdict(torch.tensor([math.nan]), torch.tensor([1.0])).ok


def test_whole_numbers_and_strings_compare_exactly():
    assert verdict([15496, 995], [15496, 995]).ok
    assert not verdict([15496, 995], [15496, 996]).ok
    assert verdict(np.array([1, 2]), torch.tensor([1, 2])).ok
    assert verdict("␣Lily", "␣Lily").ok
    assert not verdict("Lily", "␣Lily").ok


def test_numbers_and_tensors_mix():
    assert verdict(0.5, torch.tensor(0.50001)).ok
    assert verdict(np.float32(2.0), 2).ok


def test_check_prints_the_verdict(capsys):
    check(torch.ones(3), torch.ones(3), what="the sum")
    assert capsys.readouterr().out.startswith("Right! the sum matches")
    check(torch.ones(3), torch.zeros(3))
    assert capsys.readouterr().out.startswith("Not yet: max difference 1")


def test_check_trace_compares_with_a_recorded_tensor(tiny_trace, capsys):
    q, k = tiny_trace["blocks.0.attn.q"][1], tiny_trace["blocks.0.attn.k"][1]
    T, d = q.shape
    scores = (q @ k.T) / math.sqrt(d)
    scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), -math.inf)
    check_trace(torch.softmax(scores, -1), tiny_trace, "blocks.0.attn.pattern", 1)
    out = capsys.readouterr().out
    assert out.startswith("Right!") and "trace['blocks.0.attn.pattern'][1]" in out
    check_trace(torch.softmax(q @ k.T, -1), tiny_trace, "blocks.0.attn.pattern", 1)
    assert capsys.readouterr().out.startswith("Not yet:")


def test_notebook_setup_fixes_the_renderer_and_the_seed():
    import plotly.io as pio

    from gptviz.notebook import describe, setup

    assert setup(load=False, seed=5) is None
    assert pio.renderers.default == "plotly_mimetype"
    first = torch.rand(3)
    setup(load=False, seed=5)
    assert torch.equal(torch.rand(3), first)
    model = GPT(GPTConfig(n_layer=1, n_head=2, d_model=16, n_ctx=16, name="tiny"))
    line = describe(model)
    assert line.startswith("Model: tiny: 1 layers, 2 heads, d_model 16") and "/" not in line


def test_require_prints_when_right_and_raises_with_the_hint_when_wrong(capsys):
    from gptviz.exercises import require

    require([1, 2], [1, 2], what="ids")
    assert capsys.readouterr().out.startswith("Right! ids")
    with pytest.raises(AssertionError) as err:
        require(torch.ones(2), torch.zeros(2), what="x", hint="subtract the mean")
    assert str(err.value).startswith("Not yet: max difference 1") and str(err.value).endswith(
        "Hint: subtract the mean")
    with pytest.raises(AssertionError, match=r"expected \[3, 2\]\.$"):
        require(torch.zeros(2, 3), torch.zeros(3, 2))


def test_notebook_setup_takes_its_thread_count_from_gptviz_threads(monkeypatch):
    from gptviz.errors import InputError
    from gptviz.notebook import setup

    before = torch.get_num_threads()
    monkeypatch.setenv("GPTVIZ_THREADS", "2")
    try:
        setup()  # the bundled model: one thread unless GPTVIZ_THREADS says otherwise
        assert torch.get_num_threads() == 2
        monkeypatch.delenv("GPTVIZ_THREADS")
        setup()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv("GPTVIZ_THREADS", bad)
        with pytest.raises(InputError, match="GPTVIZ_THREADS must be a whole number"):
            setup()


def test_a_claim_that_fails_stops_the_build_and_only_notes_it_elsewhere(monkeypatch, capsys):
    from gptviz.notebook import STRICT_CLAIMS, ClaimError, claim

    monkeypatch.setenv(STRICT_CLAIMS, "1")  # as tools/build_notebooks.py runs the chapters
    claim(0.7 >= 0.5, "the head puts most of its weight on the name")
    with pytest.raises(ClaimError, match="the model predicts the name") as err:
        claim(False, "the model predicts the name")
    assert isinstance(err.value, AssertionError) and "rewrite the sentence" in str(err.value)
    monkeypatch.delenv(STRICT_CLAIMS)  # a student's notebook, e.g. with setup("gpt2")
    claim(False, "the model predicts the name")
    out = capsys.readouterr().out
    assert out.startswith("Note: the text says 'the model predicts the name'") and "bundled model" in out
    claim(True, "silent when it holds")
    assert capsys.readouterr().out == ""
