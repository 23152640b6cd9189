"""The block diagram: every shape written on an arrow is the shape the trace recorded there."""

import pytest

from gptviz.errors import InputError
from gptviz.exercises import random_model
from gptviz.viz import block_diagram
from gptviz.viz.diagram import ARROW_SITES, shape_text


@pytest.fixture(scope="module")
def model():
    return random_model(seed=3, n_layer=2, n_head=3, d_model=24, n_ctx=32)


def drawn_shapes(fig) -> dict[str, str]:
    """The text drawn for each recorded name, read back from the figure's text artists."""
    return {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}


@pytest.mark.parametrize("layer, T", [(0, 7), (1, 11)])
def test_every_arrow_carries_the_shape_the_trace_recorded(model, layer, T):
    trace = model.trace(list(range(5, 5 + T)))
    fig = block_diagram(trace, layer=layer)
    drawn = drawn_shapes(fig)
    wanted = ["embed.sum" if layer == 0 else f"blocks.{layer - 1}.resid_post"] + \
        [f"blocks.{layer}.{site}" for site in ARROW_SITES]
    assert sorted(drawn) == sorted(wanted)
    for name in wanted:
        assert drawn[name].removesuffix(" each") == shape_text(trace[name].shape), name
    # the numbers come from this trace: its length, and the heads and widths of this model
    assert drawn[f"blocks.{layer}.attn.q"].startswith(f"[3, {T}, 8]")
    assert drawn[f"blocks.{layer}.attn.pattern"] == f"[3, {T}, {T}]"
    assert drawn[f"blocks.{layer}.mlp.pre"] == f"[{T}, 96]"


def test_labels_are_legible_at_eight_inches(model):
    fig = block_diagram(model.trace([1, 2, 3, 4]))
    assert fig.get_figwidth() == pytest.approx(8)
    assert min(t.get_fontsize() for ax in fig.axes for t in ax.texts) >= 8


def test_a_trace_without_the_block_or_not_a_trace_is_refused(model):
    with pytest.raises(InputError, match="did not record embed.sum, blocks.0.ln_1"):
        block_diagram(model.trace([1, 2, 3], names=["logits"]))
    with pytest.raises(InputError, match="takes a trace"):
        block_diagram(model)
    with pytest.raises(InputError, match="layer 2 is out of range"):
        block_diagram(model.trace([1, 2, 3]), layer=2)
