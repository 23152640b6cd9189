"""The views of interventions: head-score grids, patching heatmaps, logit-attribution bars, and the
next-token distribution before and after. Each holds the numbers it was given, exports to PNG, SVG and
HTML with token strings escaped, and refuses data of the wrong shape with a message that gives it."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from matplotlib.patches import Rectangle

from gptviz import viz
from gptviz.errors import InputError
from gptviz.export import export
from gptviz.interventions import logit_attribution, patch_sweep, previous_token_scores

CLEAN = "One day Lily and Tom went to the park. Lily gave the ball to"
CORRUPT = "One day Tom and Lily went to the park. Tom gave the ball to"
INJECTION = "<script>alert(1)</script> \"><img src=x onerror=alert(1)>"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trace(odd_model):
    return odd_model.trace(CLEAN)


@pytest.fixture(scope="module")
def sweep(odd_model):
    return patch_sweep(odd_model, CLEAN, CORRUPT, " Lily", " Tom")


def cell_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


# ---- head-score grid -------------------------------------------------------------------------------
def test_head_score_grid_shows_every_score_and_outlines_the_best(trace, odd_model):
    scores = previous_token_scores(trace)  # [n_layer, n_head], shares of attention
    L, H = odd_model.config.n_layer, odd_model.config.n_head
    fig = viz.head_score_grid(scores, title="Previous-token heads")
    image = fig.axes[0].images[0]
    np.testing.assert_allclose(np.asarray(image.get_array()), scores.numpy(), rtol=1e-6)
    assert image.get_clim() == (0.0, 1.0)  # shares: a 0 .. 1 scale
    assert cell_texts(fig) == [f"{0.0 if abs(v) < 0.005 else v:.2f}" for v in scores.flatten().tolist()]
    best = divmod(int(scores.argmax()), H)
    frames = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(frames) == 1 and frames[0].get_xy() == (best[1] - 0.5, best[0] - 0.5)
    assert f"layer {best[0]}, head {best[1]}" in fig.axes[0].get_title()
    assert len(fig.axes[0].get_yticks()) == L and len(fig.axes[0].get_xticks()) == H
    smallest = viz.head_score_grid(scores, best="min")
    low = divmod(int(scores.argmin()), H)
    assert f"layer {low[0]}, head {low[1]}" in smallest.axes[0].get_title()
    assert not viz.head_score_grid(scores, best=None).axes[0].patches


def test_signed_head_scores_are_centred_on_zero():
    scores = torch.tensor([[0.5, -2.0, 0.1], [1.0, 0.0, -0.3]])
    vmin, vmax = viz.head_score_grid(scores).axes[0].images[0].get_clim()
    assert vmin == -vmax == -2.0
    fig = viz.head_score_grid_interactive(scores, best="abs")
    heat = fig.data[0]
    np.testing.assert_allclose(np.asarray(heat.z, dtype=float), scores.numpy(), rtol=1e-6)
    assert heat.zmin == -heat.zmax and fig.layout.shapes[0].x0 == 0.5  # head 1 of layer 0: |-2| is largest


# ---- patching heatmap ------------------------------------------------------------------------------
def test_patch_heatmap_holds_the_sweep_with_token_labels(sweep, trace, odd_model):
    L, T = odd_model.config.n_layer, trace.n_tokens
    assert sweep.shape == (L, T)
    fig = viz.patch_heatmap(sweep, trace.tokens)
    image = fig.axes[0].images[0]
    np.testing.assert_allclose(np.asarray(image.get_array()), sweep.numpy(), rtol=1e-6)
    vmin, vmax = image.get_clim()
    assert vmin == -vmax and vmax == pytest.approx(float(sweep.abs().max()))  # diverging, centred on 0
    assert image.get_cmap().name == "RdBu_r"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == trace.tokens
    assert "residual stream" in fig.axes[0].get_title()
    interactive = viz.patch_heatmap_interactive(sweep, trace.tokens, what="resid")
    np.testing.assert_allclose(np.asarray(interactive.data[0].z, dtype=float), sweep.numpy(), rtol=1e-6)
    assert interactive.data[0].x[3] == f"3:{trace.tokens[3]}"


def test_patch_heatmap_of_heads(odd_model):
    heads = patch_sweep(odd_model, CLEAN, CORRUPT, " Lily", " Tom", what="heads")
    assert heads.shape == (odd_model.config.n_layer, odd_model.config.n_head)
    fig = viz.patch_heatmap(heads, what="heads")
    np.testing.assert_allclose(np.asarray(fig.axes[0].images[0].get_array()), heads.numpy(), rtol=1e-6)
    assert len(cell_texts(fig)) == heads.numel() and len(fig.axes[0].patches) == 1
    vmin, vmax = fig.axes[0].images[0].get_clim()
    assert vmin == -vmax
    assert "each head's output" in fig.axes[0].get_title()
    assert viz.patch_heatmap_interactive(heads, what="heads").layout.shapes


# ---- logit attribution -----------------------------------------------------------------------------
def test_attribution_bars_show_the_largest_components_and_the_sum(trace, odd_model):
    a = logit_attribution(odd_model, trace, " Lily")
    k = 6
    fig = viz.attribution_bars(a, k=k)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    n = len(a.values)
    assert labels == [name for name, _ in a.top(k)] + [f"the other {n - k}", f"sum of all {n}"]
    widths = [bar.get_width() for bar in ax.patches]
    np.testing.assert_allclose(widths[:k], [v for _, v in a.top(k)], rtol=1e-6)
    assert widths[-1] == pytest.approx(float(a.values.sum()), abs=1e-5)
    assert sum(widths[:-1]) == pytest.approx(widths[-1], abs=1e-4)  # the rest makes up the sum
    blue, orange = (0.0, 0.447, 0.698), (0.835, 0.369, 0.0)
    for bar, (_, v) in zip(ax.patches[:k], a.top(k)):
        assert bar.get_facecolor()[:3] == pytest.approx(blue if v >= 0 else orange, abs=2e-3)
    assert f"logit {a.logit:.2f}" in ax.get_title()
    every = viz.attribution_bars(a, k=n)  # every component shown: no "other" bar
    assert [t.get_text() for t in every.axes[0].get_yticklabels()] == [name for name, _ in a.top(n)] + [f"sum of all {n}"]


def test_distribution_change_holds_both_distributions(trace, odd_model):
    before = torch.softmax(trace["logits"][-1], -1)
    after = torch.softmax(trace["logits"][-2], -1)
    fig = viz.distribution_change(before, after, odd_model.tokenizer, k=5)
    ax = fig.axes[0]
    ids = viz.circuits.top_union(before.numpy(), after.numpy(), 5)
    assert 5 <= len(ids) <= 10 and set(before.topk(5).indices.tolist()) <= set(ids.tolist())
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights[:len(ids)], before.numpy()[ids], rtol=1e-6)
    np.testing.assert_allclose(heights[len(ids):], after.numpy()[ids], rtol=1e-6)
    assert [t.get_text() for t in ax.get_xticklabels()] == [odd_model.tokenizer.token_str(int(i)) for i in ids]


def test_loss_by_position_draws_each_run_and_marks_the_second_copy():
    clean, ablated = torch.tensor([5.0, 6.0, 7.0, 1.0, 0.5, 0.0]), torch.full((6,), 6.0)
    fig = viz.loss_by_position({"model": clean, "ablated": ablated}, period=3)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 6]
    np.testing.assert_allclose(lines[0].get_ydata(), clean.numpy())
    np.testing.assert_allclose(lines[1].get_ydata(), ablated.numpy())
    (boundary,) = [line for line in ax.get_lines() if len(set(line.get_xdata())) == 1]
    assert boundary.get_xdata()[0] == 2.5  # between point 2 (last of the first copy) and point 3
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["model: first copy 6.00, second copy 0.50 nats", "ablated: first copy 6.00, second copy 6.00 nats"]


# ---- export, escaping ------------------------------------------------------------------------------
def _views(odd_model):
    """Every view of this module, on a text whose tokens try to inject markup."""
    tr = odd_model.trace(INJECTION)
    T, L, H = tr.n_tokens, odd_model.config.n_layer, odd_model.config.n_head
    scores = torch.linspace(-1, 1, L * T).reshape(L, T)
    probs = torch.softmax(tr["logits"][-1], -1)
    attribution = logit_attribution(odd_model, tr, "<")
    return {
        "head_score_grid": viz.head_score_grid(previous_token_scores(tr), title=INJECTION),
        "head_score_grid_interactive": viz.head_score_grid_interactive(previous_token_scores(tr), title=INJECTION),
        "patch_heatmap": viz.patch_heatmap(scores, tr.tokens),
        "patch_heatmap_heads": viz.patch_heatmap(torch.linspace(-1, 1, L * H).reshape(L, H), what="heads", title=INJECTION),
        "patch_heatmap_interactive": viz.patch_heatmap_interactive(scores, tr.tokens),
        "attribution_bars": viz.attribution_bars(attribution),
        "distribution_change": viz.distribution_change(probs, probs.roll(1), tr.tokens[:1] * len(probs)),
        "loss_by_position": viz.loss_by_position({INJECTION: torch.rand(8)}, period=4, title=INJECTION),
    }


def test_every_view_exports_and_escapes_token_strings(odd_model, tmp_path):
    for name, fig in _views(odd_model).items():
        page = export(fig, tmp_path / f"{name}.html").read_text()
        assert page.lower().startswith("<!doctype html>")
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page, name
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", page), name
        if name.endswith("interactive"):
            continue  # plotly's static images need Chromium: tests/test_export.py covers them (browser marker)
        assert export(fig, tmp_path / f"{name}.png").read_bytes().startswith(PNG)
        svg = export(fig, tmp_path / f"{name}.svg")
        assert ET.parse(svg).getroot().tag.endswith("svg")  # well-formed: every label escaped
        assert "<script>alert" not in svg.read_text() and "<img src=x" not in svg.read_text()


# ---- bad input -------------------------------------------------------------------------------------
BAD = [
    (lambda t: viz.head_score_grid(torch.zeros(3)), r"\[n_layer, n_head\].*got shape \[3\]"),
    (lambda t: viz.head_score_grid(torch.zeros(2, 3, 4)), r"got shape \[2, 3, 4\]"),
    (lambda t: viz.head_score_grid(torch.tensor([[0.1, float("nan")]])), "NaN"),
    (lambda t: viz.head_score_grid(torch.zeros(2, 2), best="top"), "best= must be"),
    (lambda t: viz.head_score_grid("scores"), "must be numbers"),
    (lambda t: viz.patch_heatmap(torch.zeros(3, t.n_tokens)), r"\[n_layer, T\] for what='resid'.*pass the clean"),
    (lambda t: viz.patch_heatmap(torch.zeros(3, t.n_tokens), t.tokens[:-1]),
     rf"scores \[3, {15}\] has 15 positions but 14 token labels"),
    (lambda t: viz.patch_heatmap(torch.zeros(3, 6), t.tokens, what="heads"), "pass no tokens"),
    (lambda t: viz.patch_heatmap(torch.zeros(3, 6), what="neurons"), "what= must be one of"),
    (lambda t: viz.patch_heatmap_interactive(torch.zeros(3), t.tokens), r"got shape \[3\]"),
    (lambda t: viz.attribution_bars(t), "what gptviz.interventions.logit_attribution"),
    (lambda t: viz.distribution_change(torch.zeros(5), torch.zeros(4), None), r"same shape \[V\], got \[5\] and \[4\]"),
    (lambda t: viz.loss_by_position({}, period=3), "at least one run"),
    (lambda t: viz.loss_by_position(torch.zeros(6), period=0), "period must be the length of r"),
    (lambda t: viz.loss_by_position(torch.zeros(3), period=3), r"more than period=3 values.*got shape \[3\]"),
]


@pytest.mark.parametrize("call, words", BAD)
def test_bad_data_gets_an_error_that_states_the_shape(trace, call, words):
    assert trace.n_tokens == 15  # the message above counts the clean text's tokens
    with pytest.raises(InputError, match=words):
        call(trace)


def test_attribution_bars_k_out_of_range(trace, odd_model):
    a = logit_attribution(odd_model, trace, " Lily")
    with pytest.raises(InputError, match=f"k must be an int from 1 to the {len(a.values)} components"):
        viz.attribution_bars(a, k=0)


def test_top_tokens_break_ties_by_id():
    rng = np.random.default_rng(0)
    for _ in range(100):  # many equal probabilities, as the bundled model's unseen tokens have
        p, q = rng.integers(0, 4, size=(2, 40)).astype(float)
        k = int(rng.integers(1, 41))
        expected = np.union1d(np.argsort(-p, kind="stable")[:k], np.argsort(-q, kind="stable")[:k])
        expected = expected[np.lexsort((expected, -p[expected]))]
        np.testing.assert_array_equal(viz.circuits.top_union(p, q, k), expected)
