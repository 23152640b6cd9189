"""The next-token distribution as bars, with the temperature, top-k and top-p cut-offs marked.

Drawn from a :class:`gptviz.sampling.Distribution`. The filled bars are the probabilities after
temperature; tokens that top-k or top-p cut off are grey and hatched; black outlines show the final,
renormalised probabilities that a draw uses; the step line is the cumulative probability that
top-p compares with ``p``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..tokenizer import get_tokenizer
from .style import finish, new_figure, set_token_ticks, styled, to_numpy

KEPT, CUT = "#0072b2", "#bbbbbb"


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


@styled
def distribution_bars(dist, n: int = 20, title: str = "Next-token candidates"):
    """Which tokens could come next, and which do the sampling settings rule out?

    ``dist``: a :class:`~gptviz.sampling.Distribution`; ``n``: how many candidates (by logit) to show.
    """
    n = int(np.clip(n, 1, dist.logits.numel()))
    ids = torch.argsort(dist.logits, descending=True, stable=True)[:n].tolist()
    temp = to_numpy(dist.stages["temperature"])[ids]
    final = to_numpy(dist.probs)[ids]
    kept = final > 0
    x = np.arange(n)
    fig = new_figure(float(np.clip(0.42 * n + 2.5, 6.0, 14.0)), 5.0)
    ax = fig.add_subplot()
    ax.bar(x[kept], temp[kept], color=KEPT, label="kept (after temperature)")
    if (~kept).any():
        ax.bar(x[~kept], temp[~kept], color=CUT, hatch="//", edgecolor="white", label="cut off")
    ax.bar(x, final, fill=False, edgecolor="black", linewidth=1.0, label="final (renormalised)")
    ax.step(x, np.cumsum(temp), where="mid", color="#d55e00", lw=1.2, label="cumulative (after temperature)")
    for stage, setting in (("top_k", dist.top_k), ("top_p", dist.top_p)):
        n_left = int(torch.count_nonzero(dist.stages[stage]))
        if setting is not None and not dist.greedy and n_left < n:
            ax.axvline(n_left - 0.5, color="black", ls="--", lw=1)
            ax.text(n_left - 0.45, 1.0, f"{stage.replace('_', '-')} = {setting:g}", rotation=90,
                    va="top", ha="left", fontsize=8)
    set_token_ticks(ax, "x", _labels(dist, ids))
    ax.set_ylim(0, 1.05)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xlabel(f"the {n} highest-scoring tokens")
    ax.set_ylabel("probability")
    ax.legend(loc="center right", fontsize=8)
    ax.set_title(f"{title}: {_settings(dist)}\n{dist.n_kept} tokens kept, mass cut off "
                 f"{dist.mass_cut:.3f}, entropy {dist.entropy:.2f} nats")
    return finish(fig)
