"""Where the parameters are, from GPT-2 small to GPT-3 175B.

The same design at every size: the embeddings grow with d_model, the blocks with
n_layer x d_model^2. So embeddings are a third of GPT-2 small and almost nothing of GPT-3 175B,
where two thirds of the weights sit in the MLPs.
"""

from __future__ import annotations

import numpy as np

from ..config import PRESETS, GPTConfig
from ..errors import InputError
from ..scale import PARAM_FAMILIES, param_shares
from .style import finish, new_figure, styled

#: The colour of each of gptviz.scale.PARAM_FAMILIES (Okabe-Ito).
COLOURS = {"embeddings (token + position)": "#009e73", "attention": "#0072b2", "MLP": "#e69f00",
           "layer norm": "#cc79a7"}


def human(n: int) -> str:
    """A parameter count as people say it: 124.4M, 1.6B, 175.0B, 1.0T."""
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
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
    shares = {name: param_shares(c) for name, c in chosen.items()}  # gptviz.scale
    names = list(counts)
    fig = new_figure(10, 0.38 * len(names) + 1.6)
    ax = fig.add_subplot()
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for family in PARAM_FAMILIES:
        share = np.array([shares[n][family] for n in names])
        ax.barh(y, 100 * share, left=left, color=COLOURS[family], label=family)
        left += 100 * share
    for i, n in enumerate(names):
        ax.text(101, i, human(counts[n]["total"]), va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, 112)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("share of the parameters (%); total at the right")
    ax.set_ylabel("model")
    fig.legend(loc="outside lower center", ncol=len(PARAM_FAMILIES), fontsize=8, frameon=False)
    ax.set_title("Where the parameters are (the unembedding is tied to the token embedding)")
    return finish(fig)


#: Marker colours by family (Okabe-Ito): a preset's name says which family it is in.
SCALE_FAMILIES = {"gpt2": ("GPT-2", "#0072b2"), "distilgpt2": ("GPT-2", "#0072b2"),
                  "gpt3": ("GPT-3", "#d55e00")}
OTHER = ("other", "#009e73")


def _family(name: str) -> tuple[str, str]:
    return SCALE_FAMILIES.get(name.split("-")[0], OTHER)


@styled
def param_scale(configs=None):
    """How many times bigger is each model than the last? Parameters on a log axis.

    ``configs`` as in :func:`param_breakdown` (default every preset). One dot per model, smallest at
    the top, its count written beside it; each gridline is ten times the one before, so equal steps
    along the axis are equal ratios (on a linear axis every model but the largest would sit at 0).
    """
    chosen = _configs(configs)
    totals = {name: c.n_params for name, c in chosen.items()}
    names = sorted(totals, key=totals.get)
    fig = new_figure(9, 0.34 * len(names) + 1.5)
    ax = fig.add_subplot()
    y = np.arange(len(names))
    x = np.array([totals[n] for n in names], dtype=float)
    families = [_family(n) for n in names]
    ax.hlines(y, x.min() / 3, x, color="#cccccc", lw=1, zorder=1)
    for label, colour in dict(families).items():
        mine = [i for i, f in enumerate(families) if f[0] == label]
        ax.scatter(x[mine], y[mine], s=36, color=colour, label=label, zorder=2)
    for i, n in enumerate(names):
        ax.text(x[i] * 1.25, i, human(totals[n]), va="center", fontsize=8)
    ax.set_xscale("log")
    lo, hi = x.min() / 3, x.max() * 8
    ax.set_xlim(lo, hi)
    decades = 10.0 ** np.arange(np.ceil(np.log10(lo)), np.floor(np.log10(hi)) + 1)
    ax.set_xticks(decades, [human(int(d)).replace(".0", "") for d in decades])  # no TeX: labels are plain text
    ax.set_yticks(y, names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.grid(axis="x", which="major", color="#dddddd", lw=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel("parameters (log scale: each gridline is 10 times the one before)")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.set_title("From millions to hundreds of billions of parameters")
    return finish(fig)
