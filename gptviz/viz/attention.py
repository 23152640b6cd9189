"""Attention coefficients as heatmaps: one head, one layer's heads, every head of the model.

Row ``i`` of a head's pattern holds the weights with which token ``i`` (the query) mixes the value
vectors of tokens ``0 .. i`` (the keys); each row sums to 1. Cells above the diagonal are masked:
GPT-2 never lets a token see a later one. Those cells are drawn grey, not as zeros.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, to_rgba
from matplotlib.patches import Rectangle

from ..errors import InputError
from .style import (ACCENT, MASKED, SEQUENTIAL, ViewFigure, causal_mask, check_head, check_layer, check_len,
                    finish, key_labels, label_inches, new_figure, plotly_label, set_token_ticks, styled,
                    to_numpy)

THUMB = 64  # overview thumbnails are pooled down to at most THUMB x THUMB cells


def check_pattern(pattern, tokens) -> tuple[np.ndarray, list[str]]:
    """One head's coefficients ``[T_query, T_key]`` as an array, and one label per key position."""
    p = to_numpy(pattern, "pattern")
    if p.ndim != 2:
        hint = " (all heads of a layer: pick one, pattern[head])" if p.ndim == 3 else ""
        raise InputError(f"pattern must be one head's [T_query, T_key] coefficients, got shape "
                         f"{list(p.shape)}{hint}")
    if p.shape[0] > p.shape[1]:
        raise InputError(f"pattern of shape {list(p.shape)} has more queries than keys; a causal "
                         "head has [T_query, T_key] with T_query <= T_key")
    return p, check_len(tokens, p.shape[1], f"pattern {list(p.shape)}")


def check_cells(cells, n_query: int, n_key: int) -> list[tuple[int, int]]:
    """``cells``, pairs ``(query, key)`` of positions in the text, checked against a causal pattern
    ``[n_query, n_key]`` (the queries are the last ``n_query`` positions; a query sees keys up to
    itself). None gives no cells."""
    if cells is None:
        return []
    checked = []
    for cell in cells:
        try:
            q, k = (int(x) for x in cell)
        except (TypeError, ValueError):
            raise InputError(f"highlight takes (query, key) pairs of token positions, got {cell!r}") from None
        if not n_key - n_query <= q < n_key or not 0 <= k <= q:
            raise InputError(f"highlight cell (query {q}, key {k}) is not a visible cell: queries run from "
                             f"{n_key - n_query} to {n_key - 1}, and a query sees keys 0 up to itself")
        checked.append((q, k))
    return checked


def _heatmap_side(n: int) -> float:
    """Height in inches of a heatmap figure for ``n`` tokens: room for up to 40 labels."""
    return float(np.clip(3.0 + 0.12 * min(n, 40), 4.0, 8.0))


@styled
def attention_heatmap(pattern, tokens, title: str = "Attention coefficients", vmax: float = 1.0,
                      highlight=None):
    """Which earlier tokens does each token attend to, and how strongly?

    ``pattern``: one head's coefficients ``[T_query, T_key]`` (``trace["blocks.0.attn.pattern"][h]``);
    ``tokens``: one label per key position (``trace.tokens``); queries are the last ``T_query``
    keys. Rows are queries, columns keys, colour the coefficient (0 .. ``vmax``); masked cells are
    grey. Labels are thinned and shrunk for long texts. ``highlight``: ``(query, key)`` position
    pairs whose cells get an outline (``axes[0].patches``, in order). Returns a matplotlib figure
    whose ``axes[0].images[0]`` holds the coefficients.
    """
    p, keys = check_pattern(pattern, tokens)
    n_query, n_key = p.shape
    cells = check_cells(highlight, n_query, n_key)
    fig = ViewFigure()
    ax = fig.add_axes((0, 0, 1, 1))
    cmap = colormaps[SEQUENTIAL].with_extremes(bad=MASKED)
    image = ax.imshow(np.ma.masked_array(p, causal_mask(n_query, n_key)), cmap=cmap, vmin=0.0,
                      vmax=vmax, interpolation="nearest", aspect="auto")
    for q, k in cells:
        ax.add_patch(Rectangle((k - 0.5, q - (n_key - n_query) - 0.5), 1, 1, fill=False,
                               edgecolor=ACCENT, linewidth=2.5))
    left = label_inches(*set_token_ticks(ax, "y", keys[n_key - n_query:])) + 0.4
    bottom = label_inches(*set_token_ticks(ax, "x", keys)) + 0.4
    ax.set_xlabel("key: the token attended to")
    ax.set_ylabel("query: the token attending")
    ax.set_title(title)
    cax = fig.add_axes((0, 0, 1, 1))
    fig.colorbar(image, cax=cax, label="attention coefficient (grey: masked)")
    # Placed by hand from estimated label sizes: measuring every label (constrained layout)
    # would double the time to draw a heatmap.
    side = _heatmap_side(n_key)
    margins = (left, bottom, 1.25, 0.45)  # inches: left, bottom, right (colour bar), top (title)
    fig.set_size_inches(side + 1.2, side)
    fig.place = functools.partial(_place, fig, ax, cax, margins)
    fig.place()
    return fig


def _place(fig, ax, cax, margins) -> None:
    """Put the heatmap and its colour bar inside margins given in inches."""
    left, bottom, right, top = margins
    w, h = fig.get_size_inches()
    box_w, box_h = max(w - left - right, 0.1), max(h - bottom - top, 0.1)
    ax.set_position((left / w, bottom / h, box_w / w, box_h / h))
    cax.set_position(((left + box_w + 0.2) / w, (bottom + 0.1 * box_h) / h, 0.18 / w, 0.8 * box_h / h))


def head_pattern(trace, layer: int, head: int) -> tuple[np.ndarray, int, int]:
    """One head's pattern from a trace, with the layer and head indices checked."""
    layer, head = check_layer(trace.config, layer), check_head(trace.config, head)
    return trace[f"blocks.{layer}.attn.pattern"][head], layer, head


def head_title(layer: int, head: int, what: str = "attention coefficients") -> str:
    return f"Layer {layer}, head {head}: {what}"


def head_heatmap(trace, layer: int, head: int, highlight=None):
    """The attention heatmap of head ``head`` in layer ``layer`` of a trace; ``highlight``:
    ``(query, key)`` position pairs to outline, as in :func:`attention_heatmap`."""
    pattern, layer, head = head_pattern(trace, layer, head)
    return attention_heatmap(pattern, key_labels(trace), title=head_title(layer, head), highlight=highlight)


@styled
def head_grid(trace, layer: int):
    """Every head of one layer side by side: do the heads of a layer look at different things?"""
    layer = check_layer(trace.config, layer)
    patterns = to_numpy(trace[f"blocks.{layer}.attn.pattern"])  # [H, T_query, T_key]
    n_head, n_query, n_key = patterns.shape
    cols = math.ceil(math.sqrt(n_head))
    rows = math.ceil(n_head / cols)
    fig = new_figure(2.3 * cols + 1.0, 2.3 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False)
    cmap = colormaps[SEQUENTIAL].with_extremes(bad=MASKED)
    mask = causal_mask(n_query, n_key)
    keys = key_labels(trace)
    for h, ax in enumerate(axes.flat):
        if h >= n_head:
            ax.set_axis_off()
            continue
        ax.imshow(np.ma.masked_array(patterns[h], mask), cmap=cmap, vmin=0.0, vmax=1.0,
                  interpolation="nearest")
        ax.set_title(f"head {h}", fontsize=9)
        if n_key <= 12:
            set_token_ticks(ax, "x", keys)
            set_token_ticks(ax, "y", keys[n_key - n_query:])
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.supxlabel("key position (the token attended to)")
    fig.supylabel("query position (the token attending)")
    fig.suptitle(f"Layer {layer}: attention coefficients of all {n_head} heads ({n_key} tokens)")
    fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), ax=axes, shrink=0.6,
                 label="attention coefficient (grey: masked)")
    return finish(fig)


def _thumbnails(patterns: torch.Tensor, size: int) -> torch.Tensor:
    """Patterns ``[N, T_query, T_key]`` max-pooled to at most ``size`` cells per side, so that a
    sharp line (a head attending to the previous token) survives the shrinking."""
    n_query, n_key = patterns.shape[-2:]
    if max(n_query, n_key) <= size:
        return patterns
    out = (min(n_query, size), min(n_key, size))
    return F.adaptive_max_pool2d(patterns, out)


@styled
def attention_overview(trace):
    """All layers x all heads as one mosaic of thumbnails: where are the sharp, structured heads?

    Rows are layers, columns heads. Thumbnails of texts longer than 64 tokens are max-pooled to
    64 x 64 cells. Masked cells are grey, gaps between thumbnails white.
    """
    config = trace.config
    L, H = config.n_layer, config.n_head
    patterns = torch.stack([trace[f"blocks.{i}.attn.pattern"] for i in range(L)])  # [L, H, Tq, Tk]
    n_query, n_key = patterns.shape[-2:]
    thumbs = _thumbnails(patterns.reshape(L * H, n_query, n_key), THUMB).numpy()  # [L*H, tq, tk]
    tq, tk = thumbs.shape[1:]
    visible = ~causal_mask(n_query, n_key)
    if thumbs.shape[1:] != visible.shape:
        visible = _thumbnails(torch.from_numpy(visible[None].astype(np.float32)), THUMB)[0].numpy() > 0
    gap = max(1, tk // 16)
    rgba = np.ones((L * (tq + gap) - gap, H * (tk + gap) - gap, 4))  # white gaps
    cmap = colormaps[SEQUENTIAL]
    masked = to_rgba(MASKED)
    for n, thumb in enumerate(thumbs):
        cell = np.where(visible[..., None], cmap(np.clip(thumb, 0.0, 1.0)), masked)
        r, c = divmod(n, H)
        rgba[r * (tq + gap):r * (tq + gap) + tq, c * (tk + gap):c * (tk + gap) + tk] = cell
    width = float(np.clip(0.7 * H + 1.5, 5.0, 16.0))
    height = float(np.clip(width * L / H * tq / tk, 3.0, 16.0))
    fig = new_figure(width + 1.0, height + 0.8)
    ax = fig.add_subplot()
    ax.imshow(rgba, interpolation="nearest", aspect="auto")
    ax.set_xticks([c * (tk + gap) + (tk - 1) / 2 for c in range(H)], [str(c) for c in range(H)])
    ax.set_yticks([r * (tq + gap) + (tq - 1) / 2 for r in range(L)], [str(r) for r in range(L)])
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    pooled = f", max-pooled to {tq} x {tk}" if (tq, tk) != (n_query, n_key) else ""
    ax.set_title(f"Attention of all {L} layers x {H} heads ({n_key} tokens{pooled})")
    fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), ax=ax, shrink=0.8,
                 label="attention coefficient (grey: masked)")
    return finish(fig)


def attention_heatmap_interactive(pattern, tokens, title: str = "Attention coefficients") -> go.Figure:
    """The heatmap of :func:`attention_heatmap` in plotly: hover a cell for the query token, the key
    token and the exact coefficient. Masked cells are empty (grey background). ``fig.data[0].z``
    holds the coefficients, NaN where masked."""
    p, keys = check_pattern(pattern, tokens)
    n_query, n_key = p.shape
    z = np.where(causal_mask(n_query, n_key), np.nan, p).astype(np.float32)  # compact in HTML
    # Category labels carry the position, so repeated tokens stay separate rows and columns.
    x = [f"{j}:{plotly_label(t)}" for j, t in enumerate(keys)]
    fig = go.Figure(go.Heatmap(
        z=z,
        x=x, y=x[n_key - n_query:], zmin=0.0, zmax=1.0, colorscale=SEQUENTIAL.capitalize(),
        colorbar={"title": {"text": "coefficient"}},
        hovertemplate="query %{y}<br>key %{x}<br>coefficient %{z:.6f}<extra></extra>",
    ))
    side = int(np.clip(300 + 6 * n_key, 450, 900))
    fig.update_layout(
        title=plotly_label(title), width=side + 120, height=side, plot_bgcolor=MASKED,
        xaxis={"title": {"text": "key: the token attended to"}, "tickangle": -90},
        yaxis={"title": {"text": "query: the token attending"}, "autorange": "reversed"},
    )
    return fig
