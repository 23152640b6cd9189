"""The logit lens as a table: the model's best guess for the next token, read after every layer.

Rows are layers (the embeddings at the top, the last block at the bottom), columns positions in the
text. Each cell names the top token and its probability; colour is the probability. The bottom row
is what the model actually predicts. Computed by :func:`gptviz.lens.logit_lens`.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps

from ..lens import LogitLens, logit_lens
from .style import (SEQUENTIAL, choose_positions, finish, new_figure, set_token_ticks, styled,
                    text_colour, to_numpy)


@styled
def lens_table(lens: LogitLens, positions=None):
    """When does the model settle on its prediction? ``lens`` from :func:`gptviz.lens.logit_lens`;
    ``positions``: the token positions to show as columns (default: the last 16)."""
    cols, note = choose_positions(positions, len(lens.tokens), 16)
    probs = to_numpy(lens.probs[:, cols, 0])  # [R, C]
    n_rows = probs.shape[0]
    fig = new_figure(1.05 * len(cols) + 2.6, 0.42 * n_rows + 1.9)
    ax = fig.add_subplot()
    cmap = colormaps[SEQUENTIAL]
    image = ax.imshow(probs, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    for r in range(n_rows):
        for c, pos in enumerate(cols):
            label = lens.labels[r][pos][0]
            label = label if len(label) <= 10 else label[:9] + "…"
            ax.text(c, r, f"{label}\n{probs[r, c]:.2f}", ha="center", va="center", fontsize=7,
                    color=text_colour(cmap(probs[r, c])))
    set_token_ticks(ax, "x", [f"{lens.tokens[p]}" for p in cols], max_labels=60)
    ax.set_xlabel("input token (the prediction is for the token after it)")
    ax.set_yticks(range(n_rows), lens.row_labels, fontsize=8)
    ax.set_ylabel("residual stream read after")
    ax.set_title(f"Logit lens: the top next-token guess after each layer{note}")
    fig.colorbar(image, ax=ax, label="probability of the top token", shrink=0.9)
    return finish(fig)


def logit_lens_view(model, trace, positions=None):
    """Compute the logit lens of a trace (:func:`gptviz.lens.logit_lens`) and draw its table."""
    return lens_table(logit_lens(model, trace), positions)
