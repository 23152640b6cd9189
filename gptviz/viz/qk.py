"""One query token's attention, step by step: q.k, scaling, softmax, weighted sum of values.

The numbers come from :func:`gptviz.attention.qk_steps`, whose docstring has the equations.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.collections import PolyCollection

from ..attention import qk_steps
from .style import (DIVERGING, check_head, check_layer, check_position, finish, key_labels, new_figure,
                    set_token_ticks, styled, symmetric_limit)


def _bars(ax, values: np.ndarray) -> None:
    """One bar per key (blue up, orange down) as a single collection: a long text has hundreds of
    keys, and separate bar patches would draw slowly."""
    verts = [((i - 0.4, 0.0), (i - 0.4, v), (i + 0.4, v), (i + 0.4, 0.0)) for i, v in enumerate(values)]
    ax.add_collection(PolyCollection(verts, facecolors=np.where(values >= 0, "#0072b2", "#d55e00"),
                                     edgecolors="none"))
    ax.autoscale_view()
    ax.axhline(0, color="black", lw=0.6)


@styled
def qk_view(trace, layer: int, head: int, query: int = -1):
    """How does one token decide where to look? The four steps of one head for one query token:
    dot products q.k, scaled by 1/sqrt(d_head), softmax, and the values weighted and summed."""
    layer, head = check_layer(trace.config, layer), check_head(trace.config, head)
    i = check_position(query, trace.n_tokens)
    steps = qk_steps(trace, layer, head, i)
    keys = key_labels(trace)[:len(steps["dot"])]
    d = steps["z"].size
    fig = new_figure(11, 7.5)
    grid = fig.add_gridspec(3, 3, height_ratios=[1, 1.2, 0.1])
    panels = [("dot", "1. q . k (dot product)", "score"),
              ("scaled", f"2. divided by sqrt({d}) = {math.sqrt(d):.2f}", "scaled score"),
              ("coefficients", "3. softmax: coefficients (sum to 1)", "coefficient")]
    for col, (key, panel_title, ylabel) in enumerate(panels):
        ax = fig.add_subplot(grid[0, col])
        values = steps[key]
        _bars(ax, values)
        set_token_ticks(ax, "x", keys, max_labels=24)
        ax.set_xlabel("key token")
        ax.set_ylabel(ylabel)
        ax.set_title(panel_title)
    ax = fig.add_subplot(grid[1, :])
    z_ax = fig.add_subplot(grid[2, :], sharex=ax)
    limit = symmetric_limit(np.vstack([steps["weighted"], steps["z"][None]]))
    image = ax.imshow(steps["weighted"], cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto",
                      interpolation="nearest")
    z_ax.imshow(steps["z"][None], cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    set_token_ticks(ax, "y", [f"{t} x {a:.2f}" for a, t in zip(steps["coefficients"], keys)], max_labels=24)
    ax.set_ylabel("value of key token x coefficient")
    ax.tick_params(axis="x", labelbottom=False)
    ax.set_title("4. each key's value vector times its coefficient; their sum is the head's output z")
    z_ax.set_yticks([0], ["z = sum"])
    z_ax.set_xlabel("dimension of the head (d_head)")
    fig.colorbar(image, ax=[ax, z_ax], label="value")
    fig.suptitle(f"Layer {layer}, head {head}: attention of query token {trace.tokens[i]} "
                 f"(position {trace.start + i}) over {len(keys)} keys")
    return finish(fig)
