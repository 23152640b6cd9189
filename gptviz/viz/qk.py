"""One query token's attention, step by step: q.k, scaling, softmax, weighted sum of values.

The numbers come from :func:`gptviz.attention.qk_steps`, whose docstring has the equations.
"""

from __future__ import annotations


import numpy as np
from matplotlib.collections import PolyCollection

from ..attention import qk_steps
from .style import (DIVERGING, check_head, check_layer, check_position, finish, key_labels, new_figure,
                    set_token_ticks, styled, symmetric_limit)

ROW_INCHES = 0.22  # height of one key's row: room for a label and its ␣ below the line


def _bars(ax, values: np.ndarray) -> None:
    """One horizontal bar per key row (blue right, orange left) as a single collection: a long text
    has hundreds of keys, and separate bar patches would draw slowly."""
    verts = [((0.0, i - 0.4), (v, i - 0.4), (v, i + 0.4), (0.0, i + 0.4)) for i, v in enumerate(values)]
    ax.add_collection(PolyCollection(verts, facecolors=np.where(values >= 0, "#0072b2", "#d55e00"),
                                     edgecolors="none"))
    ax.autoscale_view()
    ax.axvline(0, color="black", lw=0.6)


@styled
def qk_view(trace, layer: int, head: int, query: int = -1):
    """How does one token decide where to look? The four steps of one head for one query token:
    dot products q.k, scaled by 1/sqrt(d_head), softmax, and the values weighted and summed.

    One row per key token, shared by all four panels, with the key labels once on the left and
    horizontal (a rotated label's ``␣`` would stick out into its neighbour's place).
    """
    layer, head = check_layer(trace.config, layer), check_head(trace.config, head)
    i = check_position(query, trace.n_tokens)
    steps = qk_steps(trace, layer, head, i)
    keys = key_labels(trace)[:len(steps["dot"])]
    n, d = len(keys), steps["z"].size
    height = float(np.clip(ROW_INCHES * n + 2.2, 4.5, 12.0))
    fig = new_figure(8.0, height)
    grid = fig.add_gridspec(2, 4, width_ratios=[1, 1, 1, 2.2], height_ratios=[max(n, 4), 1.6])
    panels = [("dot", "1. q . k", "dot product"),
              ("scaled", f"2. / sqrt({d}) = {steps['sqrt_d']:.2f}", "scaled score"),
              ("coefficients", "3. softmax", "coefficient (sum 1)")]
    first = None
    for col, (key, panel_title, xlabel) in enumerate(panels):
        ax = fig.add_subplot(grid[0, col], sharey=first)
        first = first or ax
        _bars(ax, steps[key])
        ax.set_xlabel(xlabel, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(panel_title, fontsize=10)
        if col:
            ax.tick_params(axis="y", labelleft=False)
    _, size = set_token_ticks(first, "y", keys, max_labels=max(4, round((height - 2.2) / ROW_INCHES)))
    first.tick_params(axis="y", labelsize=max(8.0, size))  # a row is 0.22 in, room for 8 pt
    first.set_ylim(n - 0.5, -0.5)
    first.set_ylabel("key token (the last is the query itself)")
    coefficients = fig.axes[2]
    for j, a in enumerate(steps["coefficients"]):
        if a >= 0.05:
            coefficients.text(a, j, f" {a:.2f}", va="center", ha="left", fontsize=8)
    # fitted to the largest coefficient, with room for its label: a diffuse head's bars stay visible
    coefficients.set_xlim(0, 1.45 * max(float(steps["coefficients"].max()), 0.05))
    ax = fig.add_subplot(grid[0, 3], sharey=first)
    z_ax = fig.add_subplot(grid[1, 3], sharex=ax)
    limit = symmetric_limit(np.vstack([steps["weighted"], steps["z"][None]]))
    image = ax.imshow(steps["weighted"], cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto",
                      interpolation="nearest")
    z_ax.imshow(steps["z"][None], cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    ax.tick_params(axis="y", labelleft=False)
    ax.tick_params(axis="x", labelbottom=False)
    ax.set_title("4. value x coefficient", fontsize=10)
    z_ax.set_yticks([])
    z_ax.set_title("z = the sum of the rows above", fontsize=9)
    z_ax.set_xlabel("dimension of the head (d_head)", fontsize=9)
    z_ax.tick_params(axis="x", labelsize=8)
    fig.colorbar(image, ax=[ax, z_ax], label="value", shrink=0.8)
    fig.suptitle(f"Layer {layer}, head {head}: how query {trace.tokens[i]} (position {trace.start + i}) "
                 f"weighs {n} keys")
    return finish(fig)
