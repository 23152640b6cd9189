"""The MLP's neurons: d_mlp (4 x d_model) numbers per token, before and after GELU.

Each token goes through the MLP on its own. ``mlp.pre`` is the first layer's output; GELU keeps
positive values almost unchanged and squashes negative ones towards 0 (never below -0.17), which
gives ``mlp.post``, the neurons' activations.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps

from ..mlp import top_activations
from .style import (DIVERGING, choose_positions, SEQUENTIAL, check_layer, finish, new_figure, set_token_ticks, styled,
                    symmetric_limit, text_colour, to_numpy)


@styled
def mlp_activations(trace, layer: int):
    """What does GELU do to a layer's neurons? Tokens x neurons, before (left) and after (right)."""
    layer = check_layer(trace.config, layer)
    fig = new_figure(8, float(np.clip(0.14 * trace.n_tokens + 2.0, 3.5, 8.0)))  # a notebook's width
    axes = fig.subplots(1, 2, sharey=True)
    for ax, name, what in zip(axes, ("pre", "post"), ("before GELU (mlp.pre)", "after GELU (mlp.post)")):
        acts = to_numpy(trace[f"blocks.{layer}.mlp.{name}"])  # [T, F]
        limit = symmetric_limit(acts)
        image = ax.imshow(acts, cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
        ax.set_xlabel(f"neuron (0 .. {acts.shape[1] - 1})")
        ax.set_title(what)
        fig.colorbar(image, ax=ax, label="activation", shrink=0.9)
    _, size = set_token_ticks(axes[0], "y", trace.tokens)
    axes[0].tick_params(axis="y", labelsize=max(8.0, size))  # >= 8 pt
    axes[0].set_ylabel("token")
    fig.suptitle(f"Layer {layer}: MLP neurons for each token ({trace.config.d_mlp} neurons)")
    return finish(fig)


@styled
def top_neurons(trace, layer: int, k: int = 5, positions=None):
    """Which neurons fire most for each token? The ``k`` largest activations after GELU per token.

    One row per token (``positions``: indices to show; default the last 40), one cell per rank
    with the neuron's index and activation, coloured by activation.
    """
    layer = check_layer(trace.config, layer)
    post = trace[f"blocks.{layer}.mlp.post"]  # [T, F]
    rows, note = choose_positions(positions, len(post), 40)
    top, values = top_activations(post[rows], k)  # [R, k] each: gptviz.mlp
    k = top.shape[1]
    fig = new_figure(min(8.0, 1.2 * k + 2.0), 0.3 * len(rows) + 1.3)  # at most a notebook's width
    ax = fig.add_subplot()
    cmap = colormaps[SEQUENTIAL]
    image = ax.imshow(values, cmap=cmap, aspect="auto", interpolation="nearest")
    norm = image.norm
    for r in range(len(rows)):
        for c in range(k):
            ax.text(c, r, f"#{top[r, c]}  {values[r, c]:.2f}", ha="center", va="center", fontsize=8.5,
                    color=text_colour(cmap(norm(values[r, c]))))
    ax.set_xticks(range(k), [str(c + 1) for c in range(k)])
    ax.set_xlabel("rank (1 = strongest neuron)")
    _, size = set_token_ticks(ax, "y", [f"{trace.tokens[p]} ({p})" for p in rows], max_labels=60)
    ax.tick_params(axis="y", labelsize=max(8.0, size))  # >= 8 pt
    ax.set_ylabel("token (position)")
    ax.set_title(f"Layer {layer}: the {k} most active MLP neurons per token{note}")
    fig.colorbar(image, ax=ax, label="activation after GELU")
    return finish(fig)
