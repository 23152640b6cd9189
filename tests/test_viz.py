"""Every view renders on real traces (random weights and the bundled model, short, long and odd text),
and the pictures hold the trace's numbers."""

import matplotlib.figure
import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import gptviz
from gptviz import viz
from gptviz.lens import logit_lens
from gptviz.sampling import distribution

ODD_TEXT = "Hi 🤖!  東京\n\n\tspaces   and <script>alert(1)</script>"


@pytest.fixture(scope="module")
def long_model():
    return gptviz.GPT(gptviz.GPTConfig(n_layer=2, n_head=2, d_model=32, n_ctx=512, name="long")).init_weights(3).eval()


def _views(model, trace):
    d = distribution(trace["logits"][-1], temperature=0.8, top_k=40, top_p=0.9, tokenizer=model.tokenizer)
    return [
        viz.token_strip(trace.text, model.tokenizer),
        viz.vector_strip(trace["embed.token"][0], "token 0"),
        viz.embedding_sum(trace, 0),
        viz.head_heatmap(trace, 0, 1),
        viz.head_grid(trace, 0),
        viz.attention_overview(trace),
        viz.attention_heatmap_interactive(trace["blocks.0.attn.pattern"][0], trace.tokens),
        viz.head_lines(trace, 0, 0),
        viz.attention_lines_interactive(trace["blocks.0.attn.pattern"][0], trace.tokens),
        viz.qk_view(trace, 0, 1, query=-1),
        viz.mlp_activations(trace, 0),
        viz.top_neurons(trace, 0),
        viz.residual_norms(trace),
        viz.logit_lens_view(model, trace),
        viz.distribution_bars(d),
        viz.param_breakdown(),
    ]


@pytest.mark.parametrize("text", ["A robot must obey the orders given it.", ODD_TEXT])
def test_every_view_renders_on_a_random_checkpoint(odd_model, text):
    trace = odd_model.trace(text)
    for fig in _views(odd_model, trace):
        assert isinstance(fig, (matplotlib.figure.Figure, go.Figure))
        if isinstance(fig, matplotlib.figure.Figure):
            fig.canvas.draw()


def test_views_render_at_512_tokens(long_model):
    trace = long_model.trace(list(range(1000, 1512)))
    for fig in (viz.head_heatmap(trace, 1, 0), viz.head_grid(trace, 1), viz.attention_overview(trace),
                viz.residual_norms(trace), viz.mlp_activations(trace, 0)):
        fig.canvas.draw()


def test_views_render_for_the_bundled_model(bundled_model):
    trace = bundled_model.trace("Once upon a time, there was a girl named Mia. Mia had a red kite.")
    for fig in _views(bundled_model, trace):
        assert isinstance(fig, (matplotlib.figure.Figure, go.Figure))
    assert isinstance(viz.bpe_merges(" unbelievable", bundled_model.tokenizer), matplotlib.figure.Figure)
    assert isinstance(viz.embedding_map(bundled_model, ["cat", "dog", "red", "blue"]), matplotlib.figure.Figure)


def test_heatmap_cells_are_the_trace_coefficients(odd_model):
    trace = odd_model.trace("Lily gave the ball to Tom and Tom thanked Lily.")
    fig = viz.head_heatmap(trace, 2, 4)
    shown = fig.axes[0].images[0].get_array()
    expected = trace["blocks.2.attn.pattern"][4].numpy()
    below = np.tril(np.ones_like(expected, dtype=bool))
    assert np.allclose(np.asarray(shown)[below], expected[below])
    assert np.ma.getmaskarray(shown)[~below].all()  # masked cells are drawn as masked
    inter = viz.attention_heatmap_interactive(trace["blocks.2.attn.pattern"][4], trace.tokens)
    z = np.array(inter.data[0].z, dtype=float)
    assert np.allclose(np.nan_to_num(z)[below], expected[below])


def test_logit_lens_last_row_is_the_models_prediction(odd_model):
    trace = odd_model.trace("The cat sat on the mat.")
    lens = logit_lens(odd_model, trace)
    assert torch.equal(lens.ids[-1, :, 0], trace["logits"].argmax(-1))


def test_bad_layer_or_shapes_are_clear_errors(odd_model):
    trace = odd_model.trace("One two three")
    with pytest.raises(gptviz.InputError, match="layer"):
        viz.head_heatmap(trace, 7, 0)
    with pytest.raises(gptviz.InputError):
        viz.attention_heatmap(torch.ones(3, 3), ["a", "b"])
