"""One transformer block as a diagram, with the shapes a real forward pass recorded on its arrows.

The block is the same in every layer and every GPT-2 or GPT-3 size; only the numbers change. So the
diagram is drawn from a :class:`~gptviz.trace.Trace`: each arrow carries the shape of the tensor that
flows along it in that trace (``[T, d_model]``, ``[n_head, T, d_head]``, ...), read from the recorded
tensor itself, not from the configuration. Pre-LN order, as GPT-2 computes it::

    x = x + c_proj(concat(heads(ln_1(x))))
    x = x + mlp(ln_2(x))
"""

from __future__ import annotations

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..checks import check_layer
from ..errors import InputError
from .style import ACCENT, new_figure, styled

#: The recorded sites whose shapes the diagram draws, in the order they flow (``{i}`` is the layer).
ARROW_SITES = ("ln_1", "attn.q", "attn.pattern", "attn.z", "attn.out", "resid_mid", "ln_2", "mlp.pre",
               "mlp.post", "mlp.out", "resid_post")

_STREAM, _ATTN, _MLP, _NORM = "#e8e8e8", "#cfe3f3", "#fbe3c0", "#d9efe4"
_LABEL_PT, _BOX_PT = 9, 10  # at the figure's 8 inches every word stays legible


def shape_text(shape) -> str:
    """A shape as the diagram writes it: ``[46, 128]``."""
    return "[" + ", ".join(str(int(n)) for n in shape) + "]"


def _input_name(layer: int) -> str:
    return "embed.sum" if layer == 0 else f"blocks.{layer - 1}.resid_post"


def _check_trace(trace, layer: int) -> int:
    from ..trace import Trace

    if not isinstance(trace, Trace):
        raise InputError(f"block_diagram takes a trace (model.trace(text)), got {type(trace).__name__}: "
                         "the diagram's shapes are read from a real forward pass")
    layer = check_layer(trace.config, layer)
    wanted = [_input_name(layer)] + [f"blocks.{layer}.{site}" for site in ARROW_SITES]
    missing = [name for name in wanted if name not in trace.names()]
    if missing:
        raise InputError(f"this trace did not record {', '.join(missing)}: trace the text with names=None "
                         f"(everything), or with names={wanted}")
    return layer


@styled
def block_diagram(trace, layer: int = 0):
    """What does one block do to the stream, and what shape is every tensor on the way?

    One block of ``trace``'s model (``layer``) drawn as boxes and arrows: LayerNorm, the heads, their
    concatenation, ``c_proj``, the residual add, LayerNorm, the MLP (``c_fc``, GELU, ``c_proj``), the
    residual add. Every arrow is labelled with the shape of the tensor recorded at that point of the
    trace. Returns a matplotlib figure, 8 inches wide; ``fig.arrow_shapes`` maps each recorded name
    to the shape drawn for it.
    """
    layer = _check_trace(trace, layer)
    c = trace.config
    name = {site: f"blocks.{layer}.{site}" for site in ARROW_SITES}
    name["input"] = _input_name(layer)
    shape = {key: tuple(trace[n].shape) for key, n in name.items()}
    H, T, d = shape["attn.z"]
    fig = new_figure(8, 10.5)
    fig.set_layout_engine(None)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.93))
    ax.set(xlim=(0, 10), ylim=(0, 21))
    ax.axis("off")
    fig.arrow_shapes = {}

    def box(x, y, w, h, text, colour, size=_BOX_PT):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.15",
                                    facecolor=colour, edgecolor="#444444", linewidth=1))
        ax.text(x, y, text, ha="center", va="center", fontsize=size)

    def arrow(start, end, key=None, text_at=None, align="left", bend=None):
        style = "arc3" if bend is None else bend
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#333333",
                                     linewidth=1.2, connectionstyle=style, shrinkA=0, shrinkB=0))
        if key is not None:
            x, y = text_at or ((start[0] + end[0]) / 2 + 0.15, (start[1] + end[1]) / 2)
            label(x, y, key, align=align)

    def label(x, y, key, suffix="", align="left"):
        text = ax.text(x, y, shape_text(shape[key]) + suffix, ha=align, va="center", fontsize=_LABEL_PT,
                       family="monospace", color=ACCENT)
        text.set_gid(name[key])
        fig.arrow_shapes[name[key]] = shape[key]

    def add(x, y):
        ax.plot([x], [y], marker="o", markersize=20, markerfacecolor="white", markeredgecolor="#444444",
                markeredgewidth=1.2, zorder=3)
        ax.text(x, y, "+", ha="center", va="center", fontsize=14, zorder=4)

    S, A = 1.7, 5.9  # the stream's column and the sub-layers' column
    # the stream enters at the bottom
    box(S, 0.7, 3.0, 0.9, f"stream in\n{name['input']}", _STREAM, size=9)
    arrow((S, 1.15), (S, 8.65), "input", text_at=(S - 0.15, 5.0), align="right")
    # attention: ln_1, the heads (each with its pattern), concat, c_proj
    arrow((S + 1.5, 0.7), (A, 1.75), bend="angle,angleA=0,angleB=90,rad=0")
    box(A, 2.15, 2.6, 0.8, "ln_1 (LayerNorm)", _NORM)
    arrow((A, 2.55), (A, 3.35), "ln_1", text_at=(A + 0.15, 2.95))
    ax.add_patch(FancyBboxPatch((A - 2.4, 3.4), 4.8, 3.6, boxstyle="round,pad=0.02,rounding_size=0.15",
                                facecolor="white", edgecolor="#444444", linewidth=1, linestyle="--"))
    ax.text(A, 6.7, f"{H} attention heads, in parallel", ha="center", va="center", fontsize=_BOX_PT)
    ax.text(A - 2.25, 3.75, "q, k, v", ha="left", va="center", fontsize=_LABEL_PT)
    label(A - 1.25, 3.75, "attn.q", " each")
    for h in range(H):
        box(A - 2.1 + 4.2 * (h + 0.5) / H, 5.0, min(0.9, 3.9 / H), 1.2, f"head\n{h}", _ATTN,
            size=9 if H <= 8 else 8)
    ax.text(A - 2.25, 6.2, "pattern = softmax(q·kᵀ/√d + mask)", ha="left", va="center", fontsize=_LABEL_PT)
    label(A + 2.25, 6.2, "attn.pattern", align="right")
    arrow((A, 7.0), (A, 7.55), "attn.z", text_at=(A + 0.15, 7.27))
    box(A, 7.95, 3.4, 0.8, f"concat: {H} heads x {d}", _ATTN)
    ax.text(A + 0.15, 8.75, f"[{T}, {H * d}]", ha="left", va="center", fontsize=_LABEL_PT, family="monospace",
            color=ACCENT)
    arrow((A, 8.35), (A, 9.15))
    box(A, 9.55, 2.6, 0.8, "attn.c_proj", _ATTN)
    arrow((A - 1.3, 9.55), (S + 0.35, 9.0), "attn.out", text_at=(3.0, 9.75))
    add(S, 9.0)
    # the MLP: ln_2, c_fc, GELU, c_proj
    arrow((S, 9.35), (S, 17.65), "resid_mid", text_at=(S - 0.15, 13.5), align="right")
    arrow((S, 10.5), (A, 11.25), bend="angle,angleA=0,angleB=90,rad=0")
    box(A, 11.65, 2.6, 0.8, "ln_2 (LayerNorm)", _NORM)
    arrow((A, 12.05), (A, 12.85), "ln_2")
    box(A, 13.25, 3.0, 0.8, f"mlp.c_fc ({c.d_model} → {c.d_mlp})", _MLP)
    arrow((A, 13.65), (A, 14.45), "mlp.pre")
    box(A, 14.85, 3.0, 0.8, "GELU", _MLP)
    arrow((A, 15.25), (A, 16.05), "mlp.post")
    box(A, 16.45, 3.0, 0.8, f"mlp.c_proj ({c.d_mlp} → {c.d_model})", _MLP)
    arrow((A - 1.5, 16.45), (S + 0.35, 18.0), "mlp.out", text_at=(3.0, 17.05))
    add(S, 18.0)
    arrow((S, 18.35), (S, 19.45), "resid_post", text_at=(S + 0.15, 18.9))
    box(S, 19.9, 3.0, 0.9, f"stream out\n{name['resid_post']}", _STREAM, size=9)
    ax.text(0.1, 14.2, "residual stream", rotation=90, ha="center", va="center", fontsize=_BOX_PT, color="#666666")
    fig.suptitle(f"Block {layer} of {c.name or 'the model'}: the shapes recorded on {T} tokens "
                 f"(d_model {c.d_model}, {H} heads of {d})", fontsize=11)
    fig.place = lambda: None  # placed by hand: nothing to lay out again after a resize
    return fig
