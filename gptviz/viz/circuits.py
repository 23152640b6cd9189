"""Pictures of interventions: which heads do what, where patching brings the answer back, and which
parts of the model push a logit up.

* :func:`head_score_grid`: one score per head, ``[n_layer, n_head]`` (the detectors of
  :mod:`gptviz.interventions`: previous-token, first-token, current-token, induction), the value
  written in each cell and the best head outlined;
* :func:`patch_heatmap`: the scores of :func:`~gptviz.interventions.patch_sweep`, layers x positions
  with the tokens along the bottom (``[n_layer, T]``), or layers x heads (``what="heads"``,
  ``[n_layer, n_head]``), blue-white-red centred on 0: white where patching changes nothing;
* :func:`attribution_bars`: the largest direct contributions to one logit (an
  :class:`~gptviz.interventions.Attribution`), blue pushing it up, orange pushing it down, and their sum;
* :func:`distribution_change`: the next-token probabilities before and after an intervention;
* :func:`loss_by_position`: the loss at each position of a repeated sequence, one line per run
  (e.g. before and after an ablation), with the copies marked.

The two heatmaps also come in plotly (``*_interactive``): hover a cell for its exact value.
"""

from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from ..errors import InputError
from ..interventions.attribution import largest_contributions
from ..interventions.detectors import best_cell, copy_means
from ..sampling import top_ids, top_union  # the tokens drawn; computed in the library
from .style import (DIVERGING, SEQUENTIAL, check_len, finish, new_figure, plotly_label, set_token_ticks, styled,
                    symmetric_limit, text_colour, to_numpy)

UP, DOWN, NEUTRAL = "#0072b2", "#d55e00", "#777777"  # Okabe-Ito blue and vermillion; grey for sums
OUTLINE = "black"  # the best head's frame: visible on both colour scales' strongest cells
#: What patch_sweep(what=...) pastes, as a figure says it.
PATCHED = {"resid": "the residual stream after each block", "attn": "each layer's attention output",
           "mlp": "each layer's MLP output", "heads": "each head's output z (at every position)"}
SCORE_LABEL = "normalised logit difference\n(0: as corrupt, 1: as clean)"
NOTEBOOK_WIDTH = 8.0  # inches: the widest figure a notebook shows without shrinking its labels
MIN_LABEL_PT = 8  # the smallest label a reader can take in at that width
MAX_ANNOTATED = 24  # values are written in the cells when neither side has more cells than this


def _check_matrix(scores, shape_name: str, example: str) -> np.ndarray:
    """``scores`` as a finite 2-D float array, or an error that gives the expected and the given shape."""
    s = to_numpy(scores, "scores")
    if s.ndim != 2 or 0 in s.shape:
        raise InputError(f"scores must have shape {shape_name} (e.g. {example}), got shape {list(s.shape)}")
    if not np.isfinite(s).all():
        raise InputError(f"scores of shape {list(s.shape)} hold NaN or infinite values: every cell needs a number")
    return s


def _scale(s: np.ndarray, signed: bool | None = None) -> tuple[str, float, float]:
    """Colour map and limits: diverging and centred on 0 for signed scores, else sequential from 0
    (to 1 when every score is a share, as the detectors' are)."""
    if signed is None:
        signed = bool((s < 0).any())
    if signed:
        limit = symmetric_limit(s)
        return DIVERGING, -limit, limit
    return SEQUENTIAL, 0.0, 1.0 if s.max() <= 1.0 else float(s.max())


def _cell(v: float) -> str:
    """A value as written in its cell: two decimals, and no "-0.00"."""
    return f"{0.0 if abs(v) < 0.005 else v:.2f}"


def _grid(ax, s: np.ndarray, cmap: str, vmin: float, vmax: float, annotate: bool, mark: tuple[int, int] | None):
    """``s`` as coloured cells, the values written in them (``annotate``), cell ``mark`` outlined."""
    colours = colormaps[cmap]
    image = ax.imshow(s, cmap=colours, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    if annotate:
        norm = Normalize(vmin, vmax)
        size = 8 if max(s.shape) <= 12 else 6.5
        for (r, c), v in np.ndenumerate(s):
            ax.text(c, r, _cell(v), ha="center", va="center", fontsize=size, color=text_colour(colours(norm(v))))
    if mark is not None:
        r, c = mark
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=OUTLINE, linewidth=2.5))
    ax.set_yticks(range(s.shape[0]), [str(i) for i in range(s.shape[0])])
    ax.set_ylabel("layer")
    return image


def _heads_figure(s: np.ndarray, title: str, label: str, best: str | None, signed: bool | None):
    """A layers x heads grid with every value written and the best head outlined."""
    L, H = s.shape
    cmap, vmin, vmax = _scale(s, signed)
    mark = best_cell(s, best)
    width = float(np.clip(0.6 * H + 2.4, 6.0, 20.0))
    fig = new_figure(width, float(np.clip(0.45 * L + 1.9, 3.2, 20.0)))
    ax = fig.add_subplot()
    image = _grid(ax, s, cmap, vmin, vmax, annotate=True, mark=mark)
    ax.set_xticks(range(H), [str(h) for h in range(H)])
    ax.set_xlabel("head")
    found = f"\noutlined: layer {mark[0]}, head {mark[1]} ({s[mark]:.3f})" if mark is not None else ""
    ax.set_title(textwrap.fill(title, int(width * 9)) + found)
    fig.colorbar(image, ax=ax, label=label, shrink=0.9)
    return finish(fig)


@styled
def head_score_grid(scores, title: str = "Head scores", label: str = "score", best: str | None = "max"):
    """Which heads do it? One score per head, layers down and heads across, the value in each cell.

    ``scores``: ``[n_layer, n_head]``, e.g. ``previous_token_scores(trace)``. ``best``: the head to
    outline: the largest score (``"max"``), the smallest (``"min"``), the largest in size
    (``"abs"``), or none. Scores from 0 to 1 (shares of attention) use a 0 .. 1 scale; signed scores a
    blue-white-red scale centred on 0.
    """
    s = _check_matrix(scores, "[n_layer, n_head]", "previous_token_scores(trace)")
    return _heads_figure(s, title, label, best, None)


def _check_what(what: str) -> None:
    if what not in PATCHED:
        raise InputError(f"what= must be one of {', '.join(repr(w) for w in PATCHED)} (as in patch_sweep), got {what!r}")


def _patch_labels(s: np.ndarray, tokens, what: str) -> list[str] | None:
    """The token labels of a layers x positions sweep (None for ``what="heads"``), checked against ``s``."""
    if what == "heads":
        if tokens is not None:
            raise InputError(f"scores for what='heads' are [n_layer, n_head] (here {list(s.shape)}): a head is "
                             "patched at every position, so pass no tokens")
        return None
    if tokens is None:
        raise InputError(f"scores of shape {list(s.shape)} are [n_layer, T] for what={what!r}: pass the clean "
                         "text's tokens (trace.tokens), or what='heads' for [n_layer, n_head] scores")
    return check_len(tokens, s.shape[1], f"scores {list(s.shape)}")


@styled
def patch_heatmap(scores, tokens=None, what: str = "resid", title: str | None = None):
    """Where does the information that decides the answer travel? The scores of
    :func:`~gptviz.interventions.patch_sweep`: 1 where pasting the clean run's activation there brings
    the clean answer back, 0 where it changes nothing, negative where it pushes further away.

    ``scores``: ``[n_layer, T]`` with ``tokens`` the clean text's ``T`` token labels (``what`` =
    ``"resid"``, ``"attn"`` or ``"mlp"``: what was patched), or ``[n_layer, n_head]`` with no tokens
    for ``what="heads"`` (each value written in its cell, the largest outlined). Blue-white-red,
    centred on 0.
    """
    _check_what(what)
    shape = "[n_layer, n_head]" if what == "heads" else "[n_layer, T]"
    s = _check_matrix(scores, shape, f"patch_sweep(model, clean, corrupt, answer, wrong, what={what!r})")
    keys = _patch_labels(s, tokens, what)
    title = title or f"Activation patching: {PATCHED[what]}"
    if keys is None:
        return _heads_figure(s, title, SCORE_LABEL, "max", signed=True)
    L, T = s.shape
    # At most a notebook's width (8 in), and every label at least 8 pt: up to 40 token labels fit.
    fig = new_figure(float(np.clip(0.3 * T + 2.6, 5.0, NOTEBOOK_WIDTH)), float(np.clip(0.4 * L + 2.4, 3.5, 14.0)))
    ax = fig.add_subplot()
    cmap, vmin, vmax = _scale(s, signed=True)
    image = _grid(ax, s, cmap, vmin, vmax, annotate=max(L, T) <= MAX_ANNOTATED, mark=None)
    set_token_ticks(ax, "x", keys)
    ax.tick_params(labelsize=MIN_LABEL_PT)
    ax.set_xlabel("position patched (the clean text's token there)")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label=SCORE_LABEL, shrink=0.9)
    return finish(fig)


# ---- interactive ---------------------------------------------------------------------------------
def _plotly_colours(cmap: str) -> str:
    return "RdBu_r" if cmap == DIVERGING else SEQUENTIAL.capitalize()


def _plotly_grid(s: np.ndarray, x: list[str], title: str, label: str, hover: str, signed: bool | None,
                 mark: tuple[int, int] | None, annotate: bool) -> go.Figure:
    """A plotly heatmap of ``s`` (layer 0 at the top), columns labelled ``x`` (already escaped)."""
    cmap, vmin, vmax = _scale(s, signed)
    L, n = s.shape
    y = [f"layer {i}" for i in range(L)]
    fig = go.Figure(go.Heatmap(
        z=s.astype(np.float32), x=x, y=y, zmin=vmin, zmax=vmax, colorscale=_plotly_colours(cmap),
        colorbar={"title": {"text": plotly_label(label)}}, hovertemplate=hover + "<extra></extra>",
        texttemplate="%{z:.2f}" if annotate else None,
    ))
    if mark is not None:
        r, c = mark
        fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, line={"color": OUTLINE, "width": 3})
        title += f"<br>outlined: layer {r}, head {c} ({s[r, c]:.3f})"
    fig.update_layout(title=title, width=int(np.clip(60 * n + 260, 480, 1400)),
                      height=int(np.clip(40 * L + 220, 360, 1200)), plot_bgcolor="white",
                      yaxis={"autorange": "reversed"})
    return fig


def head_score_grid_interactive(scores, title: str = "Head scores", label: str = "score",
                                best: str | None = "max") -> go.Figure:
    """:func:`head_score_grid` in plotly: hover a cell for the layer, the head and the exact score.
    ``fig.data[0].z`` holds the scores."""
    s = _check_matrix(scores, "[n_layer, n_head]", "previous_token_scores(trace)")
    heads = [f"head {h}" for h in range(s.shape[1])]
    return _plotly_grid(s, heads, plotly_label(title), label, "%{y}, %{x}<br>score %{z:.4f}", None, best_cell(s, best),
                        annotate=True)


def patch_heatmap_interactive(scores, tokens=None, what: str = "resid", title: str | None = None) -> go.Figure:
    """:func:`patch_heatmap` in plotly: hover a cell for the layer, the position and token, and the
    exact score. ``fig.data[0].z`` holds the scores."""
    _check_what(what)
    shape = "[n_layer, n_head]" if what == "heads" else "[n_layer, T]"
    s = _check_matrix(scores, shape, f"patch_sweep(model, clean, corrupt, answer, wrong, what={what!r})")
    keys = _patch_labels(s, tokens, what)
    title = plotly_label(title or f"Activation patching: {PATCHED[what]}")
    if keys is None:
        x, hover, mark = [f"head {h}" for h in range(s.shape[1])], "%{y}, %{x}", best_cell(s, "max")
    else:  # category labels carry the position, so a repeated token stays its own column
        x, hover, mark = [f"{j}:{plotly_label(t)}" for j, t in enumerate(keys)], "%{y}<br>position %{x}", None
    return _plotly_grid(s, x, title, SCORE_LABEL, hover + "<br>score %{z:.4f}", True, mark,
                        annotate=max(s.shape) <= MAX_ANNOTATED)


# ---- bars ----------------------------------------------------------------------------------------
def _check_attribution(attribution):
    needed = ("labels", "values", "logit", "bias", "token", "position")
    if not all(hasattr(attribution, n) for n in needed):
        raise InputError("attribution must be what gptviz.interventions.logit_attribution(model, trace, token) "
                         f"returns (an Attribution), got {type(attribution).__name__}")
    values = to_numpy(attribution.values, "attribution.values")
    if values.ndim != 1 or len(attribution.labels) != values.size:
        raise InputError(f"attribution has {len(attribution.labels)} labels but values of shape {list(values.shape)}: "
                         "give one value per component")
    return values


def _hbars(ax, labels: list[str], values: np.ndarray, colours: list[str]) -> None:
    """Horizontal bars, the first at the top, each with its value written beyond its end."""
    y = np.arange(len(values))
    ax.barh(y, values, color=colours, height=0.7)
    ax.set_yticks(y, labels)
    ax.set_ylim(len(values) - 0.4, -0.6)
    ax.axvline(0, color="black", lw=0.8)
    span = max(float(np.abs(values).max()), 1e-12)
    for yi, v in zip(y, values):
        ax.text(v + (0.015 if v >= 0 else -0.015) * span, yi, f"{v:+.2f}", va="center",
                ha="left" if v >= 0 else "right", fontsize=8)
    lo, hi = min(values.min(), 0.0), max(values.max(), 0.0)
    ax.set_xlim(lo - 0.18 * span, hi + 0.18 * span)


@styled
def attribution_bars(attribution, k: int = 10, title: str | None = None):
    """Which parts of the model push this logit up, and which push it down? The ``k`` largest direct
    contributions by size, blue up and orange down, then the other components together and the sum of
    all of them (grey); the title adds ``ln_f``'s bias term to that sum, which gives the logit.

    ``attribution``: what :func:`~gptviz.interventions.logit_attribution` returns.
    """
    values = _check_attribution(attribution)
    n = values.size
    order, rest, total = largest_contributions(values, k)  # gptviz.interventions.attribution
    labels = [str(attribution.labels[i]) for i in order]
    shown = values[order]
    colours = [UP if v >= 0 else DOWN for v in shown]
    if rest is not None:
        labels.append(f"the other {n - k}")
        shown = np.append(shown, rest)
        colours.append(NEUTRAL)
    labels.append(f"sum of all {n}")
    shown = np.append(shown, total)
    colours.append(NEUTRAL)
    fig = new_figure(7.5, float(np.clip(0.3 * len(shown) + 1.8, 3.0, 16.0)))
    ax = fig.add_subplot()
    _hbars(ax, labels, shown, colours)
    ax.axhline(len(shown) - 1.5 - (k < n), color="#bbbbbb", lw=0.8)  # the components above, the sums below
    ax.set_xlabel("direct contribution to the logit (ln_f's scale frozen)")
    heading = title or f"Direct contributions to the logit of {attribution.token} at position {attribution.position}"
    ax.set_title(f"{heading}\nsum {total:+.2f} + ln_f bias {attribution.bias:+.2f} = logit {attribution.logit:.2f}; "
                 "blue pushes it up, orange down")
    return finish(fig)


def _token_labels(tokenizer, ids) -> list[str]:
    if hasattr(tokenizer, "token_str"):
        return [tokenizer.token_str(int(i)) for i in ids]
    return [str(tokenizer[int(i)]) for i in ids]


@styled
def distribution_change(before, after, tokenizer, k: int = 10, title: str = "Next-token probabilities",
                        names: tuple[str, str] = ("before", "after")):
    """What did the intervention change in the prediction? Next-token probabilities ``before`` and
    ``after`` (each ``[V]``, summing to 1) side by side, for the tokens among either's ``k`` most
    probable, in the order of ``before``. ``tokenizer``: gives the labels (a
    :class:`~gptviz.tokenizer.Tokenizer`, or a list of ``V`` labels).
    """
    p, q = to_numpy(before, "before"), to_numpy(after, "after")
    if p.ndim != 1 or p.shape != q.shape:
        raise InputError(f"before and after must be probabilities of the same shape [V], got {list(p.shape)} "
                         f"and {list(q.shape)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= p.size:
        raise InputError(f"k must be an int from 1 to {p.size}, got {k!r}")
    ids = top_union(p, q, k)
    labels = _token_labels(tokenizer, ids)
    x = np.arange(ids.size)
    fig = new_figure(float(np.clip(0.5 * ids.size + 2.5, 6.0, 16.0)), 4.8)
    ax = fig.add_subplot()
    ax.bar(x - 0.2, p[ids], width=0.4, color="#a6d4f2", edgecolor=UP, label=names[0])
    ax.bar(x + 0.2, q[ids], width=0.4, color=DOWN, label=names[1])
    set_token_ticks(ax, "x", labels)
    ax.set_ylim(0, min(1.05, 1.15 * max(p[ids].max(), q[ids].max()) + 0.02))
    ax.set_ylabel("probability")
    ax.set_xlabel(f"the tokens among the {k} most probable {names[0]} or {names[1]}")
    ax.legend(fontsize=8)
    best_p, best_q = int(top_ids(p, 1)[0]), int(top_ids(q, 1)[0])  # ties: the lower id, as argmax
    top_p, top_q = _token_labels(tokenizer, [best_p, best_q])
    ax.set_title(f"{title}\ntop token {names[0]}: {top_p} ({p[best_p]:.3f}); {names[1]}: {top_q} ({q[best_q]:.3f})")
    return finish(fig)


@styled
def loss_by_position(losses, period: int, title: str = "Loss at each position of <|endoftext|> + r + r"):
    """Does the model predict the second copy from the first? One line per run: ``losses`` is a
    ``[T - 1]`` tensor (e.g. :func:`~gptviz.interventions.position_losses`, or the ``losses`` of an
    :class:`~gptviz.interventions.InductionReport`) or a dict ``{label: [T - 1]}``. ``period``: the
    length of r; a line at the start of the second copy, and each copy's mean loss in the legend.
    Point ``t`` is the loss of token ``t + 1``, so the first copy is points 0 .. period - 1.
    """
    runs = losses if isinstance(losses, dict) else {"loss": losses}
    if not runs:
        raise InputError("losses must hold at least one run, e.g. {'model': position_losses(trace)}")
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
        raise InputError(f"period must be the length of r, an int >= 1, got {period!r}")
    fig = new_figure(NOTEBOOK_WIDTH, 4.2)
    ax = fig.add_subplot()
    colours = [UP, DOWN, NEUTRAL, "#009e73", "#cc79a7"]
    for i, (label, run) in enumerate(runs.items()):
        y = to_numpy(run, f"losses[{label!r}]")
        if y.ndim != 1 or y.size < period + 1:
            raise InputError(f"losses[{label!r}] must be [T - 1] with more than period={period} values (both "
                             f"copies of r), got shape {list(y.shape)}")
        first, second = copy_means(y, period)  # gptviz.interventions.detectors
        ax.plot(np.arange(y.size), y, color=colours[i % len(colours)], lw=1.4,
                label=f"{label}: first copy {first:.2f}, second copy {second:.2f} nats")
    ax.axvline(period - 0.5, color="black", lw=1, ls="--")
    ax.text(period - 0.5, ax.get_ylim()[1], " second copy begins", va="top", fontsize=8)
    ax.set_xlabel("position t (the loss of predicting token t + 1)")
    ax.set_ylabel("loss (nats)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title)
    return finish(fig)
