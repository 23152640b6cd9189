"""Every view renders on real traces (random weights and the bundled model; short, 512-token and odd
text), and the pictures hold the trace's own numbers."""

import io

import matplotlib.figure
import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import gptviz
from gptviz import viz
from gptviz.lens import contribution_norms, lens_logits, logit_lens, stream_names
from gptviz.sampling import distribution
from gptviz.attention import qk_steps, strongest_links

ODD_TEXT = "Hi 🤖!  東京\n\n\tspaces   and <script>alert(1)</script> costs $5 or $6."
PNG = b"\x89PNG\r\n\x1a\n"
# A glyph missing from every font would be drawn as nothing: make that warning an error.
pytestmark = pytest.mark.filterwarnings("error:Glyph")


@pytest.fixture(scope="module")
def long_model():
    """A small random model with a 512-token context (the odd model's is 128)."""
    return gptviz.GPT(gptviz.GPTConfig(n_layer=2, n_head=2, d_model=32, n_ctx=512, name="long")).init_weights(3).eval()


def views(model, trace):
    """Every view of one trace, by name (built lazily)."""
    last = trace.config.n_layer - 1
    dist = lambda: distribution(trace["logits"][-1], temperature=0.8, top_k=40, top_p=0.9,  # noqa: E731
                                tokenizer=model.tokenizer)
    return {
        "token_strip": lambda: viz.token_strip(trace, model.tokenizer),
        "bpe_merges": lambda: viz.bpe_merges(model.tokenizer.pieces(trace.text)[0], model.tokenizer),
        "vector_strip": lambda: viz.vector_strip(trace["embed.token"][0], "token 0"),
        "embedding_sum": lambda: viz.embedding_sum(trace, -1),
        "embedding_map": lambda: viz.embedding_map(model, [" cat", " dog", " red", " blue", 42]),
        "head_heatmap": lambda: viz.head_heatmap(trace, last, 1),
        "head_grid": lambda: viz.head_grid(trace, 0),
        "attention_overview": lambda: viz.attention_overview(trace),
        "heatmap_interactive": lambda: viz.attention_heatmap_interactive(trace["blocks.0.attn.pattern"][0], trace.tokens),
        "head_lines": lambda: viz.head_lines(trace, 0, 0),
        "lines_interactive": lambda: viz.attention_lines_interactive(trace["blocks.0.attn.pattern"], trace.tokens),
        "qk_view": lambda: viz.qk_view(trace, 0, 1, query=-1),
        "mlp_activations": lambda: viz.mlp_activations(trace, 0),
        "top_neurons": lambda: viz.top_neurons(trace, last),
        "residual_norms": lambda: viz.residual_norms(trace),
        "logit_lens_view": lambda: viz.logit_lens_view(model, trace),
        "distribution_bars": lambda: viz.distribution_bars(dist()),
        "param_breakdown": lambda: viz.param_breakdown(["gpt2", "gpt3-175b"]),
    }


def render(fig, full: bool = True):
    """Draw a figure as it would be exported: matplotlib to PNG pixels (``full``) or through its
    whole layout without pixels; plotly through its validating JSON encoder."""
    if isinstance(fig, go.Figure):
        assert fig.to_json()
        return
    assert isinstance(fig, matplotlib.figure.Figure)
    if full:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=30)
        assert buf.getvalue().startswith(PNG)
    else:
        fig.draw_without_rendering()


def test_every_view_renders_short_text_with_emoji_cjk_and_whitespace_runs(odd_model):
    trace = odd_model.trace(ODD_TEXT)
    for make in views(odd_model, trace).values():
        render(make())


def test_every_view_renders_at_512_tokens_of_odd_text(long_model):
    ids = long_model.tokenizer.encode(ODD_TEXT * 40)[:512]
    trace = long_model.trace(ids)
    assert trace.n_tokens == 512
    for name, make in views(long_model, trace).items():
        render(make(), full=name in ("head_heatmap", "attention_overview"))


def test_views_render_for_the_bundled_model(bundled_model):
    trace = bundled_model.trace("Once upon a time, there was a girl named Mia. Mia had a red kite.")
    for name in ("token_strip", "head_heatmap", "logit_lens_view", "distribution_bars"):
        render(views(bundled_model, trace)[name]())


def test_figures_show_themselves_in_a_notebook_without_pyplot():
    fig = viz.param_breakdown(["gpt2"])
    assert fig._repr_png_().startswith(PNG)


# ---- the pictures hold the trace's numbers ---------------------------------------------------
def test_heatmap_cells_are_the_trace_coefficients(odd_model):
    trace = odd_model.trace("Lily gave the ball to Tom and Tom thanked Lily.")
    expected = trace["blocks.2.attn.pattern"][4].numpy()
    below = np.tril(np.ones_like(expected, dtype=bool))
    shown = viz.head_heatmap(trace, 2, 4).axes[0].images[0].get_array()
    np.testing.assert_allclose(np.asarray(shown)[below], expected[below], rtol=1e-6)
    assert np.ma.getmaskarray(shown)[~below].all()  # masked cells are drawn as masked, not as 0
    z = np.asarray(viz.attention_heatmap_interactive(expected, trace.tokens).data[0].z, dtype=float)
    assert np.isnan(z[~below]).all()  # masked: no cell drawn
    np.testing.assert_allclose(z[below], expected[below], rtol=1e-6)


def test_highlighted_cells_are_outlined_and_their_links_drawn(odd_model):
    trace = odd_model.trace("Lily gave the ball to Tom and Tom thanked Lily.")
    cells = [(9, 0), (6, 5), (3, 3)]
    ax = viz.head_heatmap(trace, 1, 0, highlight=cells).axes[0]
    assert [(p.get_x() + 0.5, p.get_y() + 0.5) for p in ax.patches] == [(k, q) for q, k in cells]
    assert not viz.head_heatmap(trace, 1, 0).axes[0].patches
    short = trace["blocks.1.attn.pattern"][0][-4:]  # the last 4 queries: row 0 is position T - 4
    T = trace.n_tokens
    ax = viz.attention_heatmap(short, trace.tokens, highlight=[(T - 4, 1)]).axes[0]
    assert (ax.patches[0].get_x() + 0.5, ax.patches[0].get_y() + 0.5) == (1, 0)
    fig = viz.head_lines(trace, 1, 0, min_weight=0.99, highlight=cells)
    marked = fig.axes[0].collections[1].get_segments()  # drawn even where the weight is under min_weight
    assert [(seg[0][1], seg[1][1]) for seg in marked] == cells
    assert "3 highlighted" in fig.axes[0].get_title()
    render(fig)
    with pytest.raises(gptviz.InputError, match="query 2, key 5.*not a visible cell"):
        viz.head_heatmap(trace, 1, 0, highlight=[(2, 5)])
    with pytest.raises(gptviz.InputError, match="queries run from"):
        viz.attention_heatmap(short, trace.tokens, highlight=[(1, 0)])
    with pytest.raises(gptviz.InputError, match="pairs of token positions"):
        viz.head_lines(trace, 1, 0, highlight=[3])


def test_overview_has_one_thumbnail_per_head(odd_model):
    trace = odd_model.trace("one two three four")
    image = viz.attention_overview(trace).axes[0].images[0].get_array()  # RGBA mosaic
    T, gap = trace.n_tokens, 1
    cfg = odd_model.config
    assert image.shape[:2] == (cfg.n_layer * (T + gap) - gap, cfg.n_head * (T + gap) - gap)


def test_qk_steps_reproduce_scores_pattern_and_z(odd_model):
    trace = odd_model.trace("The robot gave the key to the girl.")
    i = 5
    steps = qk_steps(trace, 1, 3, i)
    np.testing.assert_allclose(steps["scaled"], trace["blocks.1.attn.scores"][3, i, :i + 1], atol=1e-5)
    np.testing.assert_allclose(steps["coefficients"], trace["blocks.1.attn.pattern"][3, i, :i + 1], atol=1e-6)
    np.testing.assert_allclose(steps["z"], trace["blocks.1.attn.z"][3, i], atol=1e-6)
    bars = viz.qk_view(trace, 1, 3, i).axes[2].collections[0].get_paths()  # the softmax panel, one row per key
    np.testing.assert_allclose([p.vertices[1, 0] for p in bars], steps["coefficients"], rtol=1e-6)


def _renderer(fig):
    """The renderer a PNG export draws with (the figure drawn once, as it is saved)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _overlapping(texts, renderer) -> list[tuple[str, str]]:
    """The pairs of non-empty texts whose drawn boxes (descenders included) overlap."""
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text() and t.get_visible()]
    return [(a, b) for n, (a, box_a) in enumerate(boxes) for b, box_b in boxes[n + 1:] if box_a.overlaps(box_b)]


@pytest.mark.parametrize("text", ["One day, Lily had a red ball. She gave the ball to Tom, and Tom said thank you to Lily.",
                                  "Lily and Tom went to the park. " * 8])
def test_qk_view_labels_each_key_once_without_overlap(bundled_model, text):
    trace = bundled_model.trace(text)
    fig = viz.qk_view(trace, 0, 0, query=-2)
    renderer = _renderer(fig)
    labels = [t for t in fig.axes[0].get_yticklabels() if t.get_text()]
    n_keys = trace.n_tokens - 1
    assert len(labels) == n_keys if n_keys <= 40 else 4 <= len(labels) < n_keys
    assert all(t.get_rotation() == 0 and "\n" not in t.get_text() for t in labels)  # one horizontal line each
    assert any("␣" in t.get_text() for t in labels) and _overlapping(labels, renderer) == []
    for ax in fig.axes[:3]:  # the three bar panels share the key rows
        assert ax.get_ylim() == fig.axes[0].get_ylim()
    ticks = [t for ax in fig.axes[:3] for t in ax.get_xticklabels()]
    assert _overlapping([t for t in ticks if t.axes is fig.axes[0]], renderer) == []


def test_logit_lens_last_row_is_the_models_output(odd_model):
    trace = odd_model.trace("The cat sat on the mat.")
    assert torch.equal(lens_logits(odd_model, trace[stream_names(odd_model.config)[-1]]), trace["logits"])
    lens = logit_lens(odd_model, trace, k=3)
    assert lens.ids.shape == lens.probs.shape == (odd_model.config.n_layer + 1, trace.n_tokens, 3)
    assert torch.equal(lens.ids[-1, :, 0], trace["logits"].argmax(-1))
    torch.testing.assert_close(lens.probs[-1, :, 0], trace["logits"].softmax(-1).max(-1).values)
    assert (lens.probs[..., :-1] >= lens.probs[..., 1:]).all()
    assert lens.labels[-1][2][0] == odd_model.tokenizer.token_str(int(lens.ids[-1, 2, 0]))
    first_cell = viz.lens_table(lens).axes[0].texts[0].get_text()  # first token, embeddings column
    assert first_cell.startswith(lens.labels[0][0][0][:9])
    assert first_cell.endswith(f"\n{float(lens.probs[0, 0, 0]):.2f}")


def test_residual_contributions_add_up_to_the_stream(odd_model):
    trace = odd_model.trace("Each block adds to the stream.")
    L = odd_model.config.n_layer
    parts = ["embed.sum"] + [f"blocks.{i}.{p}.out" for i in range(L) for p in ("attn", "mlp")]
    torch.testing.assert_close(sum(trace[p] for p in parts), trace[f"blocks.{L - 1}.resid_post"], atol=1e-5, rtol=0)
    norms = contribution_norms(trace)
    assert list(norms) == parts
    torch.testing.assert_close(norms["blocks.1.mlp.out"], trace["blocks.1.mlp.out"].norm(dim=-1))
    bars = viz.residual_norms(trace).axes[0].patches
    np.testing.assert_allclose([b.get_width() for b in bars], [float(n.mean()) for n in norms.values()], rtol=1e-6)


def test_mlp_views_show_the_activations(odd_model):
    trace = odd_model.trace("Neurons fire for some tokens.")
    fig = viz.mlp_activations(trace, 2)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), trace["blocks.2.mlp.pre"].numpy(), rtol=1e-6)
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), trace["blocks.2.mlp.post"].numpy(), rtol=1e-6)
    top = viz.top_neurons(trace, 2, k=2).axes[0].texts
    strongest = int(trace["blocks.2.mlp.post"][0].argmax())
    assert top[0].get_text().startswith(f"#{strongest} ")


def test_vector_strips_hold_the_embeddings(odd_model):
    trace = odd_model.trace("Token plus position.")
    v = trace["embed.sum"][2]
    np.testing.assert_allclose(viz.vector_strip(v).axes[0].images[0].get_array()[0], v.numpy(), rtol=1e-6)
    rows = [ax.images[0].get_array()[0] for ax in viz.embedding_sum(trace, 2).axes[:3]]
    np.testing.assert_allclose(rows[0] + rows[1], rows[2], atol=1e-6)
    np.testing.assert_allclose(rows[1], trace["embed.pos"][2].numpy(), rtol=1e-6)


def test_token_strip_shows_every_token_and_id(odd_model):
    tok = odd_model.tokenizer
    ids = tok.encode(ODD_TEXT)
    fig = viz.token_strip(ODD_TEXT, tok)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0::2] == tok.tokens(ids) and texts[1::2] == [str(i) for i in ids]
    assert any("\\x" in t for t in texts[0::2])  # the robot emoji is split into byte tokens
    dashed = [dashes is not None for _, dashes in fig.axes[0].collections[0].get_linestyle()]
    assert sum(dashed) == sum("\\x" in t for t in texts[0::2])
    steps = tok.bpe_steps(" robot")
    merges = [t.get_text() for t in viz.bpe_merges(" robot", tok).axes[0].texts]
    assert sum(t.startswith("merge ") for t in merges) == len(steps) - 1
    assert str(tok.encode(" robot")[0]) in merges


def test_token_strip_fits_a_notebook_with_legible_labels(odd_model):
    """Long texts wrap inside 8 inches as saved (title and key included), and no label is under 8 pt."""
    from PIL import Image

    tok = odd_model.tokenizer
    out = odd_model.generate("Tom had a little dog named Rex. One day, Tom and Rex went", max_new_tokens=30, seed=0)
    for shown in ("Lily found a shiny kite in the park. Unbelievable!", " the" * 120, out):
        fig = viz.token_strip(shown, tok)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight", dpi=100)
        assert Image.open(buffer).size[0] <= 800, "wider than 8 inches in a notebook"
        assert min(t.get_fontsize() for t in fig.texts + fig.axes[0].texts) >= 8


def test_lines_keep_the_strong_links_and_escape_labels(odd_model):
    trace = odd_model.trace(ODD_TEXT)
    pattern = trace["blocks.1.attn.pattern"][2]
    fig = viz.attention_lines(pattern, trace.tokens, min_weight=0.05, max_lines=40, per_query=None)
    segments = fig.axes[0].collections[0].get_segments()
    strong = int((pattern >= 0.05).sum())
    assert len(segments) == min(strong, 40)
    inter = viz.attention_lines_interactive(trace["blocks.1.attn.pattern"], trace.tokens, min_weight=0.05)
    assert len(inter.layout.updatemenus[0].buttons) == odd_model.config.n_head
    labels = list(inter.data[-1].text)  # the key column; the text's "<script>" is "␣<", "script", ">"
    assert "␣&lt;" in labels and ")&lt;/" in labels
    hover = [c for tr in inter.data if tr.customdata is not None for row in tr.customdata for c in row[:2]]
    assert hover and not any("<" in str(text) for text in labels + hover)


def test_strongest_links_per_query_are_each_querys_top_coefficients():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.random((7, 9))
        p /= p.sum(axis=1, keepdims=True)
        per_query, floor = int(rng.integers(1, 4)), float(rng.random() * 0.2)
        links = strongest_links(p, floor, 1000, per_query)
        expected = [(i + 2, j, p[i, j]) for i in range(7)  # query i is key position i + 2
                    for j in np.argsort(-p[i], kind="stable")[:per_query] if p[i, j] >= floor]
        assert sorted(map(tuple, links.tolist())) == sorted(expected)
        assert (np.diff(links[:, 2]) <= 0).all()  # strongest first


def test_lines_view_draws_each_querys_strongest_links_and_says_so(bundled_model):
    trace = bundled_model.trace("One day, Lily had a red ball. She gave the ball to Tom, and Tom said thank you to Lily.")
    pattern = trace["blocks.1.attn.pattern"][1].numpy()
    fig = viz.head_lines(trace, 1, 1)  # the chapter's call: the default rule
    segments = fig.axes[0].collections[0].get_segments()
    expected = sum(int((np.sort(row)[::-1][:2] >= 0.1).sum()) for row in pattern)
    assert len(segments) == expected < int((pattern >= 0.02).sum()) / 3  # far fewer than before
    per_query = np.bincount([int(round(seg[0][1])) for seg in segments], minlength=trace.n_tokens)
    assert per_query.max() <= 2
    assert f"{expected} lines: each token's 2 strongest links of at least 0.1" in fig.axes[0].get_title()
    widths = fig.axes[0].collections[0].get_linewidths()
    assert widths[0] == max(widths)  # the strongest link is the thickest


def test_distribution_bars_mark_the_cut_offs(odd_model):
    trace = odd_model.trace("The next token is")
    d = distribution(trace["logits"][-1] * 40, temperature=1.0, top_k=5, tokenizer=odd_model.tokenizer)
    ax = viz.distribution_bars(d, n=12).axes[0]
    assert [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [4.5]
    kept, cut = ax.containers[0], ax.containers[1]
    assert len(kept) == d.n_kept == 5 and len(cut) == 7
    top = d.stages["temperature"].sort(descending=True).values[:5]
    np.testing.assert_allclose([b.get_height() for b in kept], top.numpy(), rtol=1e-6)
    assert "mass cut off" in ax.get_title()


def test_top_k_chart_shows_the_tail_the_cut_and_the_renormalised_bars_apart(bundled_model):
    trace = bundled_model.trace("Once upon a time, there was a girl named Mia. One day, Mia went to the")
    d = distribution(trace["logits"][-1], top_k=40, tokenizer=bundled_model.tokenizer)
    fig = viz.distribution_bars(d, n=45)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] < d.stages["temperature"].sort(descending=True).values[44]
    kept, cut, renormalised = ax.containers
    temp = d.stages["temperature"].sort(descending=True).values.numpy()
    # side by side: each kept token's renormalised bar sits just right of its own bar, taller by 1 / mass kept
    assert [round(b.get_x() + b.get_width() / 2) for b in renormalised] == list(range(40))
    assert all(r.get_x() >= k.get_x() + k.get_width() - 1e-9 for k, r in zip(kept, renormalised))
    np.testing.assert_allclose([b.get_height() for b in renormalised], temp[:40] / temp[:40].sum(), rtol=1e-5)
    assert f"divided by {1 - d.mass_cut:.3f}, the mass kept" in renormalised.get_label()
    assert {matplotlib.colors.to_hex(b.get_facecolor()) for b in cut} == {"#bbbbbb"} and len(cut) == 5
    assert {matplotlib.colors.to_hex(b.get_facecolor()) for b in kept} == {"#0072b2"}
    assert [line.get_xdata()[0] for line in ax.lines if line.get_gid() == "cut-top_k"] == [39.5]
    assert {"0.01", "0.1", "1"} <= {label.get_text() for label in ax.get_yticklabels()}  # numbers, not TeX
    assert fig.get_size_inches()[0] <= 10
    plain = viz.distribution_bars(distribution(trace["logits"][-1], tokenizer=bundled_model.tokenizer)).axes[0]
    (bars,) = plain.containers  # nothing cut: one bar per token, the probability a draw uses
    np.testing.assert_allclose([b.get_height() for b in bars], temp[:20], rtol=1e-6)
    assert "nothing is cut off" in bars.get_label() and not plain.lines


def test_param_breakdown_totals(odd_model):
    fig = viz.param_breakdown(["gpt2", "gpt3-175b"])
    ax = fig.axes[0]
    assert {t.get_text() for t in ax.texts} == {"124.4M", "174.6B"}
    widths = np.array([[b.get_width() for b in c] for c in ax.containers])  # [families, models]
    np.testing.assert_allclose(widths.sum(axis=0), [100, 100])
    shares = gptviz.PRESETS["gpt2"].param_counts()
    assert widths[0, 0] == pytest.approx(100 * (shares["token_embedding"] + shares["position_embedding"]) / shares["total"])


def test_embedding_map_projects_the_chosen_rows(odd_model):
    fig = viz.embedding_map(odd_model, [" king", " queen", " man", " woman"])
    assert len(fig.axes[0].collections[0].get_offsets()) == 4
    assert [t.get_text() for t in fig.axes[0].texts] == ["␣king", "␣queen", "␣man", "␣woman"]


# ---- clear errors ----------------------------------------------------------------------------
def test_bad_inputs_are_clear_errors(odd_model):
    trace = odd_model.trace("One two three")
    with pytest.raises(gptviz.InputError, match="layer 7 is out of range.*3 layers"):
        viz.head_heatmap(trace, 7, 0)
    with pytest.raises(gptviz.InputError, match="head 6 is out of range"):
        viz.head_lines(trace, 0, 6)
    with pytest.raises(gptviz.InputError, match=r"pattern\[head\]"):
        viz.attention_heatmap(trace["blocks.0.attn.pattern"], trace.tokens)
    with pytest.raises(gptviz.InputError, match="3 positions but 2 token labels"):
        viz.attention_heatmap(torch.ones(3, 3), ["a", "b"])
    with pytest.raises(gptviz.InputError, match="one token each"):
        viz.embedding_map(odd_model, ["unbelievably"])
    with pytest.raises(gptviz.InputError, match="position 9 is out of range"):
        viz.qk_view(trace, 0, 0, query=9)


# ---- the X-ray and the logit lens: the prompt's end, the ignored outputs, labels that fit --------
def _cells(ax, n_cols: int):
    """The lens table's cell texts as rows of ``n_cols``."""
    texts = [t for t in ax.texts if "\n" in t.get_text()]
    return [texts[r:r + n_cols] for r in range(0, len(texts), n_cols)]


def test_lens_marks_the_prompt_end_and_greys_the_unused_outputs(bundled_model):
    out = bundled_model.generate("Once upon a time, there was a little girl named Lily. One day, Lily",
                                 max_new_tokens=12, temperature=0)
    trace = bundled_model.trace(out.prompt_ids + out.new_ids)
    n_prompt = len(out.prompt_ids)
    rows = list(range(n_prompt - 6, n_prompt + 8))  # chapter 0's X-ray
    fig = viz.logit_lens_view(bundled_model, trace, positions=rows, prompt_len=n_prompt)
    ax = fig.axes[0]
    n_cols = bundled_model.config.n_layer + 1
    (rule,) = [line for line in ax.lines if line.get_gid() == "prompt-end"]
    assert list(rule.get_ydata()) == [5.5, 5.5]  # between the last prompt row (5) and the first generated one
    grey = [p for p in ax.patches if p.get_gid() == "ignored"]
    assert [p.get_y() + 0.5 for p in grey] == [0, 1, 2, 3, 4]  # the outputs before the last prompt token
    assert {p.get_x() + 0.5 for p in grey} == {n_cols - 1}  # in the output column only
    assert {matplotlib.colors.to_hex(p.get_facecolor()) for p in grey} == {"#e4e4e4"}
    cells = _cells(ax, n_cols)
    assert [matplotlib.colors.to_hex(row[-1].get_color()) == "#8a8a8a" for row in cells] == [True] * 5 + [False] * 9
    assert not any(matplotlib.colors.to_hex(c.get_color()) == "#8a8a8a" for row in cells for c in row[:-1])
    assert f"the first {n_prompt} of {trace.n_tokens} tokens" in ax.get_title()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "output generation never uses: the prompt already holds the next token"]
    # greedy: each used output is the token that came next
    for r, pos in enumerate(rows[5:-1], start=5):
        assert cells[r][-1].get_text().split("\n")[0] == trace.tokens[pos + 1][:10]


def test_lens_reads_at_notebook_width(bundled_model):
    trace = bundled_model.trace("One day, Lily had a red ball. She gave the ball to Tom, and Tom said thank you to Lily.")
    fig = viz.logit_lens_view(bundled_model, trace)  # chapter 5: the whole text is the prompt
    assert fig.get_size_inches()[0] * fig.dpi <= 800  # shown at full size in a notebook, not shrunk
    ax = fig.axes[0]
    renderer = _renderer(fig)
    n_cols = bundled_model.config.n_layer + 1
    cell = ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]  # a cell's width, pixels
    cells = _cells(ax, n_cols)
    assert len(cells) == 16 and all(c.get_fontsize() >= 8 for row in cells for c in row)
    assert max(c.get_window_extent(renderer).width for row in cells for c in row) < cell
    assert _overlapping(ax.get_yticklabels() + ax.get_xticklabels(), renderer) == []
    assert not [line for line in ax.lines if line.get_gid() == "prompt-end"]  # nothing generated to mark
    assert len([p for p in ax.patches if p.get_gid() == "ignored"]) == 15  # all but the last output
    with pytest.raises(gptviz.InputError, match="prompt_len must be a whole number from 1 to 24"):
        viz.logit_lens_view(bundled_model, trace, prompt_len=0)


def test_lens_cells_cut_wide_labels_to_fit(odd_model):
    lens = logit_lens(odd_model, odd_model.trace("The cat sat."))
    lens.labels[0][0][0] = "東京東京東京東京"  # 16 cells wide
    lens.labels[1][0][0] = "abcdefghijklmn"
    ax = viz.lens_table(lens).axes[0]
    cells = [t.get_text().split("\n")[0] for t in ax.texts[:2]]  # position 0: embeddings, block 0
    assert cells == ["東京東京…", "abcdefghi…"]


# ---- generation's strip: prompt and generated tokens apart ----------------------------------
def test_generation_strip_tells_prompt_from_generated_tokens(odd_model):
    tok = odd_model.tokenizer
    out = odd_model.generate("Tom had a little dog named Rex. One day,", max_new_tokens=9, temperature=0)
    n_prompt, n = len(out.prompt_ids), len(out.prompt_ids) + len(out.new_ids)
    for fig in (viz.token_strip(out, tok), viz.token_strip(out.prompt_ids + out.new_ids, tok, prompt_len=n_prompt)):
        ax = fig.axes[0]
        boxes = ax.collections[0]
        fills = [matplotlib.colors.to_hex(c) for c in boxes.get_facecolor()]
        edges = [matplotlib.colors.to_hex(c) for c in boxes.get_edgecolor()]
        assert len(fills) == n and fills[n_prompt:] == ["#ffffff"] * (n - n_prompt)
        assert "#ffffff" not in fills[:n_prompt] and set(edges[n_prompt:]) == {"#0072b2"}
        assert "#0072b2" not in edges[:n_prompt]
        texts = ax.texts[0::2]  # the token labels (their ids are the other texts)
        assert [t.get_text() for t in texts] == tok.tokens(out.prompt_ids + out.new_ids)
        (bar,) = [line for line in ax.lines if line.get_gid() == "prompt-end"]
        x = bar.get_xdata()[0]
        assert texts[n_prompt - 1].get_position()[0] < x < texts[n_prompt].get_position()[0]
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
        assert legend == [f"prompt: {n_prompt} tokens", "generated by the model: 9 tokens", "where the prompt ends"]
    plain = viz.token_strip(out.prompt_ids + out.new_ids, tok)  # a list alone: no prompt to tell apart
    assert not plain.legends and not plain.axes[0].lines
    with pytest.raises(gptviz.InputError, match="prompt_len must be a whole number"):
        viz.token_strip(out.prompt_ids, tok, prompt_len=n_prompt + 1)
