"""The residual stream as a sum: how large is each part that the layers add to it?

Every block reads the stream and *adds* its attention output and its MLP output; nothing is ever
overwritten. The norm of each added vector shows which layers write most, and for which tokens.
"""

from __future__ import annotations

import numpy as np

from ..lens import contribution_norms, mean_norms
from .style import SEQUENTIAL, finish, new_figure, set_token_ticks, styled, to_numpy


def _short(name: str) -> str:
    if name == "embed.sum":
        return "embeddings"
    _, i, part, _ = name.split(".")
    return f"{i}: {part}.out"


@styled
def residual_norms(trace):
    """Which layers write most into the residual stream? The L2 norm of each contribution
    (embeddings, then each block's ``attn.out`` and ``mlp.out``) per token, and its mean."""
    norms = contribution_norms(trace)
    names = [_short(n) for n in norms]
    table = np.stack([to_numpy(v) for v in norms.values()])  # [2L + 1, T]
    fig = new_figure(11, float(np.clip(0.3 * len(names) + 1.8, 3.5, 12.0)))
    grid = fig.add_gridspec(1, 2, width_ratios=[1, 3.2])
    bars = fig.add_subplot(grid[0, 0])
    y = np.arange(len(names))
    bars.barh(y, list(mean_norms(norms).values()), color=["#009e73"] + ["#0072b2", "#e69f00"] * trace.config.n_layer)
    bars.set_yticks(y, names, fontsize=8)
    bars.set_ylim(len(names) - 0.5, -0.5)
    bars.set_xlabel("mean norm over tokens")
    bars.set_ylabel("contribution (in the order it is added)")
    bars.set_title("mean (blue: attention, orange: MLP)", fontsize=9)
    heat = fig.add_subplot(grid[0, 1], sharey=bars)
    image = heat.imshow(table, cmap=SEQUENTIAL, aspect="auto", interpolation="nearest")
    set_token_ticks(heat, "x", trace.tokens)
    heat.tick_params(axis="y", labelleft=False)
    heat.set_xlabel("token")
    heat.set_title("per token", fontsize=9)
    fig.colorbar(image, ax=heat, label="L2 norm of the added vector")
    fig.suptitle(f"What each layer adds to the residual stream ({trace.config.n_layer} blocks, "
                 f"{trace.n_tokens} tokens)")
    return finish(fig)
