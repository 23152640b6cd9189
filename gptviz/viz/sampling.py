"""The next-token distribution as bars, with the temperature, top-k and top-p cut-offs marked.

Drawn from a :class:`gptviz.sampling.Distribution`, on a log scale so that the tail a cut-off
removes stays visible. Each token has two bars: its probability after temperature (blue; grey and
hatched when top-k or top-p drops it) and its renormalised probability, the one a draw uses
(orange, kept tokens only). A dashed line marks each cut-off; with top-p, a step line is the
cumulative probability that top-p compares with ``p``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter

from ..tokenizer import get_tokenizer
from .style import finish, new_figure, set_token_ticks, styled, to_numpy

KEPT, CUT, RENORMALISED, CUMULATIVE = "#0072b2", "#bbbbbb", "#e69f00", "#009e73"
WIDTH = 0.42  # each of a token's two bars


def _labels(dist, ids: list[int]) -> list[str]:
    tok = dist.tokenizer
    if tok is None and dist.logits.numel() == get_tokenizer().vocab_size:
        tok = get_tokenizer()
    return [tok.token_str(i) if tok is not None else f"#{i}" for i in ids]


def _settings(dist) -> str:
    if dist.greedy:
        return "greedy: all the probability on the top token"
    parts = [f"temperature {dist.temperature:g}"]
    if dist.top_k is not None:
        parts.append(f"top-k {dist.top_k}")
    if dist.top_p is not None:
        parts.append(f"top-p {dist.top_p:g}")
    return ", ".join(parts)


def _mark_cut(ax, dist, n: int) -> None:
    """A dashed line after the last token that top-k (and one that top-p) keeps, when it falls
    among the ``n`` shown, labelled "kept" on its left and "dropped" on its right."""
    y = 0.97
    for stage, setting in (("top_k", dist.top_k), ("top_p", dist.top_p)):
        n_left = dist.n_left(stage)
        if setting is not None and not dist.greedy and n_left < n:
            ax.axvline(n_left - 0.5, color="black", ls="--", lw=1.2, gid=f"cut-{stage}")
            where = ax.get_xaxis_transform()
            rule = f"{stage.replace('_', '-')} = {setting:g}"
            if n_left >= n / 2:  # room on the left for the label of the kept side
                ax.text(n_left - 0.7, y, f"{rule}: {n_left} kept ◀", ha="right", va="top", fontsize=8,
                        transform=where)
                ax.text(n_left - 0.3, y, "▶ dropped", ha="left", va="top", fontsize=8, transform=where)
            else:
                ax.text(n_left - 0.3, y, f"◀ {n_left} kept by {rule}; dropped ▶", ha="left", va="top",
                        fontsize=8, transform=where)
            y -= 0.07


@styled
def distribution_bars(dist, n: int = 20, title: str = "Next-token candidates"):
    """Which tokens could come next, and which do the sampling settings rule out?

    ``dist``: a :class:`~gptviz.sampling.Distribution`; ``n``: how many candidates (by logit) to show.
    On a log scale, so the tail stays visible. When top-k or top-p cuts, two bars per token: the
    probability after temperature (blue; grey and hatched for a token that is dropped) and the
    renormalised probability that a draw uses (orange, kept tokens only); with no cut, one bar. A
    dashed line marks each cut-off; with top-p, the green step line (right axis) is the cumulative
    probability that top-p compares with ``p``.
    """
    n = int(np.clip(n, 1, dist.logits.numel()))
    ids = dist.by_logit[:n].tolist()  # gptviz.sampling.Distribution
    temp = to_numpy(dist.stages["temperature"])[ids]
    final = to_numpy(dist.probs)[ids]
    kept = final > 0
    x = np.arange(n)
    fig = new_figure(float(np.clip(0.16 * n + 3.0, 6.5, 8.0)), 5.2)  # at most a notebook's width
    ax = fig.add_subplot()
    shown = temp > 0  # a log axis cannot draw a zero (greedy leaves only the top token)
    if dist.greedy or dist.n_kept < dist.logits.numel():  # something is cut: the two bars differ
        ax.bar(x[kept & shown] - WIDTH / 2, temp[kept & shown], WIDTH, color=KEPT,
               label=f"probability (temperature {dist.temperature:g})", gid="kept")
        if (~kept & shown).any():
            ax.bar(x[~kept & shown] - WIDTH / 2, temp[~kept & shown], WIDTH, color=CUT, hatch="//",
                   edgecolor="white", label="dropped: can never be drawn", gid="cut")
        ax.bar(x[kept] + WIDTH / 2, final[kept], WIDTH, color=RENORMALISED, gid="renormalised",
               label="renormalised: what a draw uses" if dist.greedy else
               f"renormalised (divided by {1 - dist.mass_cut:.3f}, the mass kept): what a draw uses")
    else:
        ax.bar(x, final, 2 * WIDTH, color=KEPT, gid="kept",
               label=f"probability (temperature {dist.temperature:g}): nothing is cut off, a draw uses these")
    _mark_cut(ax, dist, n)
    if dist.top_p is not None and not dist.greedy:
        cum = ax.twinx()
        cum.step(x, dist.cumulative(n), where="mid", color=CUMULATIVE, lw=1.2, label="cumulative probability")
        cum.axhline(dist.top_p, color=CUMULATIVE, ls=":", lw=1, label=f"p = {dist.top_p:g}")
        cum.set_ylim(0, 1.02)
        cum.set_ylabel("cumulative probability (top-p)", color=CUMULATIVE)
    _, size = set_token_ticks(ax, "x", _labels(dist, ids), max_labels=60)
    ax.tick_params(axis="x", labelsize=max(8.0, size))  # >= 8 pt
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.01, not a formula
    low = float(np.concatenate([temp[shown], final[kept]]).min())
    ax.set_ylim(max(low / 3, 1e-12), 1.6)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xlabel(f"the {n} highest-scoring tokens")
    ax.set_ylabel("probability (log scale)")
    handles = [h for a in fig.axes for h in a.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 2 if n >= 30 else 1), fontsize=8, frameon=False)
    ax.set_title(f"{title}: {_settings(dist)}\n{dist.n_kept} token{'s' * (dist.n_kept != 1)} kept, mass cut off "
                 f"{dist.mass_cut:.3f}, entropy {dist.entropy:.2f} nats")
    return finish(fig)
