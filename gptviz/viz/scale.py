"""Where the parameters are, from GPT-2 small to GPT-3 175B.

The same design at every size: the embeddings grow with d_model, the blocks with
n_layer x d_model^2. So embeddings are a third of GPT-2 small and almost nothing of GPT-3 175B,
where two thirds of the weights sit in the MLPs.
"""

from __future__ import annotations

import numpy as np

from ..config import PRESETS, GPTConfig
from ..errors import InputError
from .style import finish, new_figure, styled

#: Families drawn, each a sum of keys of GPTConfig.param_counts(); Okabe-Ito colours.
FAMILIES = {
    "embeddings (token + position)": (("token_embedding", "position_embedding"), "#009e73"),
    "attention": (("attention",), "#0072b2"),
    "MLP": (("mlp",), "#e69f00"),
    "layer norm": (("layer_norm",), "#cc79a7"),
}


def human(n: int) -> str:
    """A parameter count as people say it: 124.4M, 1.6B, 175.0B."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def _configs(configs) -> dict[str, GPTConfig]:
    if configs is None:
        return dict(PRESETS)
    if isinstance(configs, GPTConfig):
        configs = [configs]
    if isinstance(configs, dict):
        return dict(configs)
    chosen = {}
    for c in configs:
        if isinstance(c, str):
            if c not in PRESETS:
                raise InputError(f"unknown preset {c!r}; known: {', '.join(PRESETS)}")
            chosen[c] = PRESETS[c]
        else:
            chosen[c.name or f"config {len(chosen)}"] = c
    return chosen


@styled
def param_breakdown(configs=None):
    """How are the parameters shared between embeddings, attention and MLP, as models grow?

    ``configs``: preset names, :class:`~gptviz.config.GPTConfig` objects, or a dict name -> config;
    default every preset in :data:`gptviz.config.PRESETS` (GPT-2 sizes to GPT-3 175B). One bar per
    model, its parts as shares of the total; the total is written at the end of each bar.
    """
    chosen = _configs(configs)
    counts = {name: c.param_counts() for name, c in chosen.items()}
    names = list(counts)
    fig = new_figure(10, 0.38 * len(names) + 1.6)
    ax = fig.add_subplot()
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for family, (keys, colour) in FAMILIES.items():
        share = np.array([sum(counts[n][k] for k in keys) / counts[n]["total"] for n in names])
        ax.barh(y, 100 * share, left=left, color=colour, label=family)
        left += 100 * share
    for i, n in enumerate(names):
        ax.text(101, i, human(counts[n]["total"]), va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, 112)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("share of the parameters (%); total at the right")
    ax.set_ylabel("model")
    fig.legend(loc="outside lower center", ncol=len(FAMILIES), fontsize=8, frameon=False)
    ax.set_title("Where the parameters are (the unembedding is tied to the token embedding)")
    return finish(fig)
