"""The explorers, driven as a notebook would drive them: set a control's value, check the state and
the rendered output, and count the forward passes from outside, with hooks on the model's blocks (a
slider must run none)."""

from __future__ import annotations

import base64
import html as html_module
import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from gptviz.generation import Stepper
from gptviz.sampling import distribution
from gptviz.viz.style import SEQUENTIAL, causal_mask
from gptviz.widgets import (AttentionExplorer, EmbeddingExplorer, FeedForwardExplorer, GenerationStepper,
                            LogitLensExplorer, SamplingExplorer, TokenizerExplorer)
from gptviz.widgets import _render
from gptviz.widgets._render import colourise

TEXT = "The robot picked up the red ball because it was the only toy left."
TOO_LONG = " a" * 200  # the odd model's context is 128 tokens
BAD_TEXTS = ["", "one <|endoftext|> two", TOO_LONG]


def number(html: str) -> float:
    """The value in the element's ``gptviz-number`` span."""
    return float(re.search(r'class="gptviz-number">([^<]+)<', html).group(1).replace(",", ""))


def first_png(html: str) -> np.ndarray:
    """The pixels of the first inline PNG in ``html``, ``[H, W, 3]``."""
    data = re.search(r"data:image/png;base64,([^\"]+)", html).group(1)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def assert_refuses_bad_text(explorer, box, controls_work, runs):
    """Each bad text leaves a message and no forward pass (``runs``: the model's counted passes); the
    explorer still answers its controls, and a good text afterwards clears the message."""
    before = runs.passes
    for bad in BAD_TEXTS:
        box.value = bad
        assert "Text not applied" in explorer.message.value
        assert "still shows the previous text" in explorer.message.value
        assert "Traceback" not in explorer.message.value
        assert runs.passes == before
        controls_work()
    box.value = "A good text again."
    assert explorer.message.value == ""


# ---- sampling ------------------------------------------------------------------------------
def test_sampling_sliders_reshape_the_distribution_without_a_forward_pass(odd_model, count_forward):
    runs = count_forward(odd_model)
    ex = SamplingExplorer(odd_model, "Once upon a time")
    assert runs.passes == 1
    c = ex.controls
    c.temperature.value = 0.5
    cold = number(ex.entropy.value)
    c.temperature.value = 1.5
    assert number(ex.entropy.value) > cold
    torch.testing.assert_close(ex.dist.probs, distribution(ex.logits, 1.5).probs)  # the shown one is rebuilt
    c.top_k.value = 1
    assert number(ex.n_kept.value) == 1 and ex.dist.n_kept == 1
    assert number(ex.top_prob.value) == 1.0
    assert number(ex.mass_cut.value) > 0
    c.top_k.value = 0
    c.top_p.value = 0.5
    assert ex.dist.stages["top_p"].sum().item() == pytest.approx(1.0, abs=1e-5)
    # the shown numbers are those of the distribution the settings give, at a temperature where top-p
    # cuts: the same settings without top-p keep every token
    expected, uncut = distribution(ex.logits, 1.5, None, 0.5), distribution(ex.logits, 1.5, None, None)
    assert 1 < expected.n_kept < uncut.n_kept == odd_model.config.vocab_size
    torch.testing.assert_close(ex.dist.probs, expected.probs)
    assert number(ex.n_kept.value) == expected.n_kept
    c.temperature.value = 0.0  # greedy
    assert number(ex.n_kept.value) == 1 and int(ex.dist.probs.argmax()) == int(ex.logits.argmax())
    assert runs.passes == 1 == ex.n_forward  # the explorer's own count agrees


def test_sampling_draws_are_seeded_and_counted(odd_model, count_forward):
    ex = SamplingExplorer(odd_model, "Once upon a time", temperature=1.0, top_k=5, seed=7)
    runs = count_forward(odd_model)
    token = ex.sample()
    assert token == distribution(ex.logits, 1.0, 5).draw(7)  # the settings' distribution, built here, seed 7
    assert token in ex.logits.topk(5).indices.tolist()
    assert ex.controls.seed.value == 8
    assert f"id {token}" in ex.drawn.value
    counts = ex.sample_many(100)
    assert counts.sum() == 100 and np.count_nonzero(counts) <= 5
    assert "100 draws with seed 8" in ex.histogram.value
    ex.controls.top_k.value = 3  # new settings: the old draws are no longer shown
    assert ex.drawn.value == "" and ex.histogram.value == ""
    assert runs.passes == 0


def test_sampling_bad_text_shows_a_message(odd_model, count_forward):
    ex = SamplingExplorer(odd_model, "Once upon a time")
    runs = count_forward(odd_model)
    logits = ex.logits

    def controls_work():
        ex.controls.top_k.value = 2 if ex.controls.top_k.value != 2 else 3
        assert number(ex.n_kept.value) == ex.controls.top_k.value
        assert ex.logits is logits  # still the previous text

    assert_refuses_bad_text(ex, ex.text, controls_work, runs)
    assert runs.passes == 1 and ex.logits is not logits


# ---- attention -----------------------------------------------------------------------------
def test_attention_head_switch_shows_that_heads_coefficients(odd_model, count_forward):
    ex = AttentionExplorer(odd_model, TEXT)
    runs = count_forward(odd_model)
    T = ex.trace.n_tokens
    mask = causal_mask(T, T)
    shown = {}
    for layer, head in [(0, 0), (0, 3), (2, 5)]:
        ex.layer.value, ex.head.value = layer, head
        pattern = ex.trace[f"blocks.{layer}.attn.pattern"][head].numpy()
        np.testing.assert_array_equal(ex.shown_pattern, pattern)
        pixels = first_png(ex.heatmap.value)
        assert pixels.shape == (T, T, 3)  # one pixel per coefficient
        np.testing.assert_array_equal(pixels, colourise(pattern, SEQUENTIAL, 0.0, 1.0, mask))
        shown[(layer, head)] = ex.heatmap.value
        assert f"Layer {layer}, head {head}" in ex.title.value
    assert len(set(shown.values())) == 3
    assert runs.passes == 0


def test_attention_lines_are_thinned_as_the_exported_view_but_show_all_of_the_query(odd_model):
    from gptviz.viz.lines import MIN_WEIGHT, PER_QUERY
    from gptviz.attention import QUERY_MIN_WEIGHT

    ex = AttentionExplorer(odd_model, TEXT, layer=1, head=2)
    ex.query.value = 5
    pattern = ex.shown_pattern
    marked = ex.lines.value.split(f'stroke="{_render.ACCENT}"')[1]
    plain = ex.lines.value.split(f'stroke="{_render.ACCENT}"')[0].split(f'stroke="{_render.BAR}"')[1]
    assert marked.count("<line") == int((pattern[5] >= QUERY_MIN_WEIGHT).sum()) > 0
    strong = pattern >= MIN_WEIGHT
    expected = sum(min(int(strong[q].sum()), PER_QUERY) for q in range(len(pattern)) if q != 5)
    assert plain.count("<line") == expected < int((pattern >= QUERY_MIN_WEIGHT).sum())


def test_attention_query_selects_the_qk_breakdown(odd_model, count_forward):
    ex = AttentionExplorer(odd_model, TEXT, layer=1, head=2)
    runs = count_forward(odd_model)
    assert ex.query.value == ex.trace.n_tokens - 1  # the last token by default
    ex.query.value = 3
    rows = re.findall(r"<tr[^>]*><td[^>]*>(\d+)</td>", ex.qk.value)
    assert rows == ["0", "1", "2", "3"]  # query 3 sees keys 0 .. 3
    coefficients = [float(x) for x in re.findall(r"<td[^>]*>(0\.\d{4})</td>", ex.qk.value)]
    pattern = ex.trace["blocks.1.attn.pattern"][2, 3, :4].numpy()
    np.testing.assert_allclose(coefficients, pattern, atol=1e-4)
    assert 'stroke="#d55e00"' in ex.lines.value  # the query's lines in the accent colour
    assert runs.passes == 0


def test_attention_export_writes_where_it_says(odd_model, tmp_path, count_forward):
    ex = AttentionExplorer(odd_model, "A short text.", folder=str(tmp_path / "out"))
    runs = count_forward(odd_model)
    ex.head.value = 4
    for view, fmt in [("heatmap", "PNG"), ("lines", "SVG"), ("q.k breakdown", "HTML")]:
        ex.export_bar.view.value, ex.export_bar.format.value = view, fmt
        ex.export_bar.button.click()
        path = ex.export_bar.last_path
        assert path.parent == (tmp_path / "out").resolve() and path.suffix == "." + fmt.lower()
        assert path.stat().st_size > 0 and "head4" in path.name
        assert str(path) in ex.export_bar.where.value
    assert runs.passes == 0


def test_attention_bad_text_keeps_the_explorer_usable(odd_model, count_forward):
    ex = AttentionExplorer(odd_model, TEXT)
    runs = count_forward(odd_model)
    trace = ex.trace

    def controls_work():
        ex.head.value = (ex.head.value + 1) % odd_model.config.n_head
        np.testing.assert_array_equal(ex.shown_pattern, trace[f"blocks.0.attn.pattern"][ex.head.value].numpy())

    assert_refuses_bad_text(ex, ex.text, controls_work, runs)
    assert ex.trace is not trace and ex.query.value == ex.trace.n_tokens - 1  # the last token stays selected
    ex.query.value = 1
    ex.text.value = "Another good text, a little longer than the one before."
    assert ex.query.value == 1 and runs.passes == 2


def test_token_labels_are_escaped(odd_model):
    ex = AttentionExplorer(odd_model, "<script>alert(1)</script> & <b>bold</b>")
    for box in (ex.heatmap, ex.lines, ex.qk):
        assert "<script>" not in box.value and "<b>bold" not in box.value
    assert "&lt;" in ex.heatmap.value


# ---- generation ----------------------------------------------------------------------------
def test_stepper_steps_back_and_the_cache_grows(odd_model, count_forward):
    runs = count_forward(odd_model)
    ex = GenerationStepper(odd_model, "Once upon a time", seed=3)
    n_prompt = len(ex.stepper.ids)
    assert runs.passes == 1 and len(ex.stepper.cache) == n_prompt
    ex.step_button.click()
    first = ex.stepper.ids[-1]
    assert len(ex.stepper.ids) == n_prompt + 1 and len(ex.stepper.cache) == n_prompt + 1
    assert ex.kv_cache.value.count("gptviz-kv-row") == n_prompt + 1
    assert ex.kv_cache.value.count("gptviz-kv-new") == 1
    assert runs.passes == 2
    chosen = ex.stepper.steps[-1].token
    assert f"chose {html_module.escape(chosen)} <span" in ex.step_view.value  # the heading, then its note
    ex.step_button.click()
    assert len(ex.stepper.cache) == n_prompt + 2 and runs.passes == 3
    ex.back_button.click()
    ex.back_button.click()
    assert len(ex.stepper.ids) == n_prompt and len(ex.stepper.cache) == n_prompt
    assert runs.passes == 3 == ex.n_forward  # stepping back runs nothing
    ex.step_button.click()
    assert ex.stepper.ids[-1] == first  # the same seed picks the same token again
    ex.run_button.click()  # run_steps more steps: the tokens a Stepper with the same settings picks
    reference = Stepper(odd_model, "Once upon a time", seed=3)
    for _ in range(1 + ex.run_steps):
        reference.step()
    assert not ex.stepper.stopped and ex.stepper.ids == reference.ids
    assert len(ex.stepper.ids) == n_prompt + 1 + ex.run_steps
    ex.reset_button.click()
    assert len(ex.stepper.ids) == n_prompt and ex.back_button.disabled


def test_stepper_settings_apply_without_a_forward_pass(odd_model, count_forward):
    ex = GenerationStepper(odd_model, "Once upon a time")
    runs = count_forward(odd_model)
    ex.controls.top_k.value = 1
    ex.controls.temperature.value = 0.7
    assert ex.stepper.top_k == 1 and ex.stepper.temperature == 0.7
    assert runs.passes == 0
    ex.step()
    assert ex.stepper.steps[-1].distribution.n_kept == 1


def test_stepper_bad_prompt_shows_a_message(odd_model, count_forward):
    ex = GenerationStepper(odd_model, "Once upon a time")
    runs = count_forward(odd_model)

    def controls_work():
        ex.step()
        ex.back()
        assert len(ex.stepper.steps) == 0

    ex.prompt.value = ""
    assert "empty" in ex.message.value and runs.passes == 0
    controls_work()
    ex.prompt.value = "A <|endoftext|> B"  # refused until the checkbox says it is a document boundary
    assert "Text not applied" in ex.message.value and "read &lt;|endoftext|&gt; as a token" in ex.message.value
    assert ex.special.layout.display == "" and 50256 not in ex.stepper.ids
    ex.special.value = True
    assert "end-of-text" in ex.message.value and 50256 in ex.stepper.ids


def test_stepper_reads_the_end_of_a_prompt_too_long_for_the_context(odd_model):
    ex = GenerationStepper(odd_model, "Once upon a time", run_steps=10)
    n_ctx = odd_model.config.n_ctx
    ex.prompt.value = TOO_LONG
    ids = odd_model.tokenizer.encode(TOO_LONG)
    assert ex.stepper.ids == ids[-(n_ctx - 10):]  # room for run_steps new tokens
    assert f"only its last {n_ctx - 10} are read" in ex.message.value and f"{len(ids)} tokens" in ex.message.value
    ex.run()
    assert len(ex.stepper.ids) == n_ctx and ex.stepper.stop_reason == "context_full"


# ---- tokens and embeddings -----------------------------------------------------------------
def test_tokenizer_updates_as_you_type_and_steps_merges(odd_model, count_forward):
    runs = count_forward(odd_model)
    ex = TokenizerExplorer(odd_model, "Hello world")
    tok = odd_model.tokenizer
    ex.text.value = "Tokenization is fun"
    assert number(ex.count.value) == len(tok.encode("Tokenization is fun"))
    assert ex.pieces[ex.piece.value] == "Tokenization"  # the longest piece is stepped by default
    steps = tok.bpe_steps("Tokenization")
    assert ex.merge_step.max == len(steps) - 1
    ex.merge_step.value = 0
    assert ex.merges.value.count("border-radius") == len("Tokenization")  # one box per byte
    assert "start: one box per byte" in ex.merges.value
    ex.merge_step.value = ex.merge_step.max
    for part in steps[-1].parts:
        assert str(tok.id_of(part)) in ex.merges.value
    ex.text.value = "a <|endoftext|> b"
    assert "endoftext" in ex.message.value
    ex.text.value = "ok"
    assert ex.message.value == "" and number(ex.count.value) == 1
    assert runs.passes == 0


def test_embedding_explorer_runs_no_forward_pass(odd_model, count_forward):
    runs = count_forward(odd_model)
    ex = EmbeddingExplorer(odd_model, "The king and the queen", picked=(1,))
    wte = odd_model.wte.weight.detach()
    king = ex.ids[1]
    assert ex.vectors.value.count("<tr") == 1 + 3  # header + token, position, sum
    assert "token ␣king" in ex.vectors.value
    sims = torch.nn.functional.cosine_similarity(wte, wte[king][None], dim=1)
    sims[king] = -2
    best = odd_model.tokenizer.token_str(int(sims.argmax()))
    assert best in ex.nearest.value
    ex.pick.value = (1, 4)
    assert ex.vectors.value.count("<tr") == 1 + 6
    ex.text.value = ""
    assert ex.message.value and ex.vectors.value.count("<tr") == 1 + 6
    assert runs.passes == 0


# ---- MLP and logit lens --------------------------------------------------------------------
def test_feedforward_layer_and_token_controls(odd_model, count_forward):
    runs = count_forward(odd_model)
    ex = FeedForwardExplorer(odd_model, TEXT)
    ex.layer.value, ex.position.value = 2, 3
    post = ex.trace["blocks.2.mlp.post"][3]
    strongest = int(post.abs().argmax())
    assert re.search(rf"<td[^>]*>{strongest}</td>", ex.strongest.value)
    n_negative = int((ex.trace["blocks.2.mlp.pre"][3] < 0).sum())
    assert f"{n_negative:,} of {odd_model.config.d_mlp:,} neurons are negative" in ex.gelu_relu.value
    assert ex.neurons.value.count("<img") == 4  # three neuron grids and the colour scale
    assert runs.passes == 2  # the text read with GELU, then with ReLU in every MLP
    # Layer 0 of the all-ReLU variant reads the same input: its output is c_proj(relu(pre)), by hand.
    mlp0 = odd_model.h[0].mlp
    with torch.no_grad():
        by_hand = mlp0.c_proj(ex.trace["blocks.0.mlp.pre"].clamp(min=0))
    assert torch.allclose(ex.relu_trace["blocks.0.mlp.out"], by_hand, atol=1e-5)
    out, out_relu = ex.trace["blocks.2.mlp.out"][3], ex.relu_trace["blocks.2.mlp.out"][3]
    assert f"change by {float((out_relu - out).norm() / out.norm()):.1%}" in ex.gelu_relu.value
    assert_refuses_bad_text(ex, ex.text, lambda: setattr(ex.layer, "value", (ex.layer.value + 1) % 3), runs)


def test_logit_lens_last_layer_is_the_models_prediction(odd_model, count_forward):
    runs = count_forward(odd_model)
    ex = LogitLensExplorer(odd_model, TEXT)
    ids = ex.trace.ids
    with torch.inference_mode():
        logits = odd_model(torch.tensor([ids]))[0]  # [T, V]
    ex.position.value = 4
    ex.layer.value = odd_model.config.n_layer
    top = int(logits[4].argmax())
    assert ex.lens.ids[-1, 4, 0] == top
    assert re.search(rf"<td[^>]*>{top}</td>", ex.top.value)
    ex.layer.value = 0
    assert "after the embeddings" in ex.top.value
    assert runs.passes == 2  # reading the text, and the model(ids) of this test


def test_logit_lens_grid_runs_layers_across_as_the_exported_table(odd_model):
    ex = LogitLensExplorer(odd_model, TEXT)
    ex.position.value = 4
    rows = re.findall(r"<tr><th[^>]*>(\d+)&nbsp;", ex.grid.value)
    assert [int(r) for r in rows] == ex.window()  # one row per input token of the window
    header = ex.grid.value.split("<thead>")[1].split("</thead>")[0]
    assert header.count("<th") == 1 + len(ex.lens.row_labels)  # a column per layer read
    assert ex.grid.value.count("outline:3px") == 1


def test_explorer_built_on_a_bad_text_waits_for_a_good_one(odd_model, tmp_path, count_forward):
    runs = count_forward(odd_model)
    ex = LogitLensExplorer(odd_model, "", folder=str(tmp_path))
    assert "Text not applied" in ex.message.value and "previous text" not in ex.message.value
    ex.layer.value = 1  # nothing to show yet: no error either
    assert ex.export_bar.save() is None and "Nothing to save yet" in ex.export_bar.where.value
    ex.text.value = TEXT
    assert ex.message.value == "" and runs.passes == 1
    assert ex.export_bar.save().exists()


@pytest.mark.parametrize("text, split", [("She said don’t 😀", True), ("東京タワーへ行った", True),
                                         ("“quoted” ü", True), ("Grüße, Müller", False)])
def test_stepper_shows_characters_split_over_tokens_whole(odd_model, text, split):
    """A character spread over several tokens shows once, whole, in the token that completes it."""

    ex = GenerationStepper(odd_model, "Once")
    new = odd_model.tokenizer.encode(text)
    assert any("\\x" in label for label in odd_model.tokenizer.tokens(new)) == split  # split across tokens?
    ex.stepper.ids.extend(new)  # as if the steps had picked them
    ex.refresh()
    shown = html_module.unescape(re.sub(r"<[^>]+>", "", ex.generated.value))
    assert shown == "Once" + text and "\ufffd" not in shown
    spans = re.findall(r"<span[^>]*>([^<]*)</span>", ex.generated.value)
    assert len(spans) == len(new) and "".join(html_module.unescape(s) for s in spans) == text
