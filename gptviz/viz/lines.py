"""Attention as lines between tokens (the idea of bertviz's head view), static and interactive.

The tokens stand in two columns, the same text twice. A line joins a token on the left (the query,
attending) to a token on the right (the key, attended to); the stronger the coefficient, the darker
the line. To stay readable, each query draws only its ``per_query`` strongest links (2 by
default), and only those of at least ``min_weight`` (0.1); at most ``max_lines`` in all, so a
512-token text stays fast. The figure's title states the rule and how many lines it drew.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.collections import LineCollection

from ..attention import MIN_WEIGHT, PER_QUERY, strongest_links  # the thinning, from the library
from ..errors import InputError
from .attention import check_cells, check_pattern, head_pattern, head_title
from .style import (ACCENT, finish, key_labels, label_size, label_step, new_figure, plotly_label, styled,
                    to_numpy)

LINE_COLOUR = (0.0, 0.447, 0.698)  # Okabe-Ito blue
N_SHADES = 8  # interactive lines are grouped into this many opacity levels


def _check_limits(min_weight: float, max_lines: int, per_query: int | None) -> None:
    if not 0.0 <= min_weight <= 1.0:
        raise InputError(f"min_weight must be between 0 and 1, got {min_weight}")
    if max_lines < 1:
        raise InputError(f"max_lines must be at least 1, got {max_lines}")
    if per_query is not None and per_query < 1:
        raise InputError(f"per_query must be at least 1 (or None: every link), got {per_query}")


def rule(min_weight: float, per_query: int | None) -> str:
    """The thinning rule in words, for a title."""
    strongest = "all links" if per_query is None else \
        f"each token's {per_query} strongest link{'s' * (per_query != 1)}"
    return f"{strongest} of at least {min_weight:g}"


@styled
def attention_lines(pattern, tokens, title: str = "Attention as lines", min_weight: float = MIN_WEIGHT,
                    max_lines: int = 3000, per_query: int | None = PER_QUERY, highlight=None):
    """Each token (left) linked to the tokens it attends to most (right), darker and thicker for a
    larger coefficient.

    ``pattern``: one head ``[T_query, T_key]``; ``tokens``: one label per key position. Drawn: each
    query's ``per_query`` strongest links (None: all) of at least ``min_weight``, at most ``max_lines``.
    ``highlight``: ``(query, key)`` position pairs drawn on top in orange, whatever their weight
    (``axes[0].collections[1]``).
    """
    p, keys = check_pattern(pattern, tokens)
    _check_limits(min_weight, max_lines, per_query)
    cells = check_cells(highlight, *p.shape)
    n = len(keys)
    links = strongest_links(p, min_weight, max_lines, per_query)
    height = float(np.clip(0.21 * n + 1.4, 3.0, 14.0))
    fig = new_figure(6.0, height)
    ax = fig.add_subplot()
    segments = [((0.0, q), (1.0, k)) for q, k, _ in links]
    colours = [(*LINE_COLOUR, float(np.clip(w, 0.05, 1.0))) for *_, w in links]
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=[0.6 + 2.4 * w for *_, w in links]))
    if cells:
        ax.add_collection(LineCollection([((0.0, q), (1.0, k)) for q, k in cells], colors=ACCENT, linewidths=2.5))
    step = label_step(n, int(height * 7))  # about 7 labels per inch
    size = label_size(int(height * 7) if step > 1 else n)
    for j in range(0, n, step):
        label = keys[j] if step == 1 else f"{j}:{keys[j]}"
        if j >= n - p.shape[0]:
            ax.text(-0.03, j, label, ha="right", va="center", fontsize=size)
        ax.text(1.03, j, label, ha="left", va="center", fontsize=size)
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks([0, 1], ["query\n(attending)", "key\n(attended to)"])
    ax.set_yticks([])
    ax.set_ylabel("position in the text (top: first token)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    capped = f", the {max_lines} strongest" if len(links) == max_lines else ""
    marked = f"; {len(cells)} highlighted in orange" if cells else ""
    ax.set_title(f"{title}\n{len(links)} lines: {rule(min_weight, per_query)}{capped}\n"
                 f"darker and thicker = larger coefficient{marked}", fontsize=10)
    return finish(fig)


def head_lines(trace, layer: int, head: int, **kwargs):
    """:func:`attention_lines` for head ``head`` of layer ``layer`` in a trace."""
    pattern, layer, head = head_pattern(trace, layer, head)
    return attention_lines(pattern, key_labels(trace), title=head_title(layer, head, "who attends to whom"), **kwargs)


def _head_traces(p: np.ndarray, keys: list[str], min_weight: float, max_lines: int,
                 per_query: int | None) -> list[go.Scatter]:
    """Plotly traces for one head: one line trace per opacity shade, then hover points at each
    line's middle (query, key, exact coefficient)."""
    links = strongest_links(p, min_weight, max_lines, per_query)
    traces = []
    shade = np.minimum((links[:, 2] * N_SHADES).astype(int), N_SHADES - 1) if len(links) else np.zeros(0)
    for level in range(N_SHADES):
        chosen = links[shade == level]
        xs, ys = [], []
        for q, k, _ in chosen:
            xs += [0.0, 1.0, None]
            ys += [q, k, None]
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                 opacity=(level + 1) / N_SHADES,
                                 line={"color": "rgb(0,114,178)", "width": 1.5}))
    safe = [plotly_label(t) for t in keys]
    traces.append(go.Scatter(
        x=[0.5] * len(links), y=[(q + k) / 2 for q, k, _ in links], mode="markers",
        marker={"size": 6, "opacity": 0}, showlegend=False,
        customdata=[[safe[int(q)], safe[int(k)], int(q), int(k)] for q, k, _ in links],
        text=[f"{w:.6f}" for *_, w in links],
        hovertemplate="%{customdata[0]} (%{customdata[2]}) → %{customdata[1]} (%{customdata[3]})"
                      "<br>coefficient %{text}<extra></extra>",
    ))
    return traces


def attention_lines_interactive(pattern, tokens, title: str = "Attention as lines", min_weight: float = MIN_WEIGHT,
                                max_lines: int = 3000, per_query: int | None = PER_QUERY) -> go.Figure:
    """:func:`attention_lines` in plotly: hover a line for its two tokens and exact coefficient.

    ``pattern``: one head ``[T_query, T_key]``, or a layer's heads ``[H, T_query, T_key]`` with a
    menu to pick the head.
    """
    heads = to_numpy(pattern, "pattern")
    if heads.ndim == 2:
        heads = heads[None]
    if heads.ndim != 3:
        raise InputError(f"pattern must be [T_query, T_key] or [H, T_query, T_key], got {list(heads.shape)}")
    _check_limits(min_weight, max_lines, per_query)
    keys = check_pattern(heads[0], tokens)[1]
    n = len(keys)
    safe = [plotly_label(t) for t in keys]
    fig = go.Figure()
    per_head = N_SHADES + 1
    for h, p in enumerate(heads):
        for trace in _head_traces(p, keys, min_weight, max_lines, per_query):
            trace.visible = h == 0
            fig.add_trace(trace)
    n_query = heads.shape[1]
    fig.add_trace(go.Scatter(x=[0.0] * n_query, y=list(range(n - n_query, n)), mode="text",
                             text=safe[n - n_query:], textposition="middle left", hoverinfo="skip",
                             showlegend=False))
    fig.add_trace(go.Scatter(x=[1.0] * n, y=list(range(n)), mode="text", text=safe,
                             textposition="middle right", hoverinfo="skip", showlegend=False))
    if len(heads) > 1:
        buttons = []
        for h in range(len(heads)):
            visible = [g == h for g in range(len(heads)) for _ in range(per_head)] + [True, True]
            buttons.append({"label": f"head {h}", "method": "update", "args": [{"visible": visible}]})
        fig.update_layout(updatemenus=[{"buttons": buttons, "x": 0.0, "y": 1.08, "xanchor": "left"}])
    fig.update_layout(
        title=plotly_label(title), width=620, height=int(np.clip(22 * n + 160, 400, 4000)),
        plot_bgcolor="white",
        xaxis={"range": [-0.7, 1.7], "tickvals": [0, 1], "ticktext": ["query (attending)", "key (attended to)"],
               "showgrid": False, "zeroline": False,
               "title": {"text": f"drawn: {rule(min_weight, per_query)}; darker line = larger coefficient"}},
        yaxis={"range": [n - 0.5, -0.5], "showticklabels": False, "showgrid": False, "zeroline": False,
               "title": {"text": "position in the text (top: first token)"}},
    )
    return fig
