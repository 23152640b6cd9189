"""Which heads do what? Scores for the head types every interpretability course meets first.

Each detector reads the attention patterns of one trace and returns a ``[n_layer, n_head]`` tensor: for
every head, the share of its attention (averaged over query positions) that goes where the head type
looks.

* :func:`previous_token_scores`: on the token just before the query (``pattern[q, q - 1]``);
* :func:`first_token_scores`: on the first token, usually ``<|endoftext|>``: the *attention sink*,
  where a head puts the weight that softmax forces it to give somewhere;
* :func:`current_token_scores`: on the query token itself (``pattern[q, q]``);
* :func:`induction_scores`: on a sequence that repeats, on the token *after* the earlier occurrence of
  the current token. That is what an induction head does: "A B ... A" -> look at B, predict B.

Query position 0 is left out of every mean: it can only look at itself.

:func:`repeated_tokens` builds the sequence induction is measured on (``<|endoftext|>`` + r + r, r
drawn from the tokens the model has learned), and :func:`position_losses` gives the loss at each
position of a trace, which falls on the second copy when induction works.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..checks import is_index
from ..errors import InputError
from ..loss import next_token_loss
from ..sampling import check_seed
from ..tokenizer import EOT_ID
from ..trace import check_trace


def _patterns(trace) -> torch.Tensor:
    """Every layer's attention pattern stacked: ``[n_layer, n_head, T, T]``; an InputError for a trace
    whose queries do not start at the first token (a generation step's trace continues a cache: its
    patterns are ``[n_head, new tokens, all tokens]``)."""
    L = check_trace(trace).config.n_layer
    P = torch.stack([trace[f"blocks.{i}.attn.pattern"] for i in range(L)])
    queries, keys = P.shape[-2:]
    if queries != keys:
        raise InputError(f"the head scores need the trace of a whole text, but this trace covers {queries} new "
                         f"token{'s' * (queries > 1)} after a cache of {keys - queries} (a generation step's trace): "
                         "trace the whole text instead, e.g. model.trace(stepper.ids)")
    return P


def _score_offset(trace, offset: int, first_query: int = 1) -> torch.Tensor:
    """Mean over queries ``q >= first_query`` of ``pattern[q, q - offset]``: ``[n_layer, n_head]``."""
    P = _patterns(trace)  # [L, H, T, T]
    T = P.shape[-1]
    if T <= first_query:
        raise InputError(f"need more than {first_query} tokens to score heads, got {T}")
    q = torch.arange(first_query, T)
    return P[:, :, q, q - offset].mean(-1)


def previous_token_scores(trace) -> torch.Tensor:
    """``[n_layer, n_head]``: mean attention on the previous token (1.0 for a perfect previous-token head)."""
    return _score_offset(trace, 1)


def current_token_scores(trace) -> torch.Tensor:
    """``[n_layer, n_head]``: mean attention a query puts on itself."""
    return _score_offset(trace, 0)


def first_token_scores(trace) -> torch.Tensor:
    """``[n_layer, n_head]``: mean attention on position 0, the *attention sink*.

    Softmax weights always sum to 1, so a head with nothing useful to read must still put its weight
    somewhere; trained models learn to park it on the first token, whose value vector is nearly inert.
    """
    P = _patterns(trace)  # [L, H, T, T]
    if P.shape[-1] < 2:
        raise InputError("need at least 2 tokens to score the first-token (sink) heads")
    return P[:, :, 1:, 0].mean(-1)


def induction_scores(trace, period: int) -> torch.Tensor:
    """``[n_layer, n_head]``: on a trace whose tokens repeat with ``period`` (``x[t] == x[t - period]``),
    the mean attention from each query in the second copy to the token after its earlier occurrence,
    ``pattern[q, q - period + 1]``, over ``q = T - period .. T - 1``."""
    P = _patterns(trace)  # [L, H, T, T]
    T = P.shape[-1]
    if not is_index(period) or not 1 <= period <= T // 2:
        raise InputError(f"period= is the length of the part that repeats, a whole number from 1 to {T // 2} (half "
                         f"the trace's {T} tokens), got {period!r}: e.g. period=n for repeated_tokens(model, n)")
    period = int(period)
    q = torch.arange(T - period, T)
    return P[:, :, q, q - period + 1].mean(-1)


def learned_tokens(model) -> torch.Tensor:
    """Ids of the tokens the model has a row of its own for, ``<|endoftext|>`` left out.

    The bundled model never saw most of GPT-2's vocabulary: its trainer gives all those tokens one
    shared embedding row (see :mod:`gptviz.train`). Rows shared by more than one token are "unseen";
    a model without such a row (OpenAI's GPT-2) has learned every token.
    """
    rows = model.wte.weight.detach().cpu()
    _, inverse, counts = torch.unique(rows, dim=0, return_inverse=True, return_counts=True)
    shared = counts[inverse] > 1  # [V]: the token's row is also some other token's
    keep = ~shared
    keep[EOT_ID] = False
    return keep.nonzero().squeeze(1)


def token_pool(model, tokens, least: int = 1) -> torch.Tensor:
    """``tokens=`` as a 1-D tensor of at least ``least`` vocabulary ids (default: :func:`learned_tokens`);
    an InputError naming the fix for anything else."""
    if tokens is None:
        return learned_tokens(model)
    V = model.config.vocab_size
    if isinstance(tokens, torch.Tensor) and tokens.dim() == 1 and tokens.dtype == torch.long and len(tokens) >= least \
            and 0 <= int(tokens.min()) <= int(tokens.max()) < V:
        return tokens  # already a pool, e.g. learned_tokens(model): no per-id check
    try:
        ids = model.tokenizer.check_ids(tokens)
    except InputError as e:
        raise InputError(f"tokens= takes the token ids to draw from, e.g. tokens=learned_tokens(model): {e}") from None
    if len(ids) < least:
        raise InputError(f"tokens= takes at least {least} token id{'s' * (least > 1)}, got {len(ids)}: "
                         "e.g. tokens=learned_tokens(model)")
    return torch.tensor(ids, dtype=torch.long)


def repeated_tokens(model, n: int = 50, seed: int = 0, tokens=None) -> list[int]:
    """``[<|endoftext|>] + r + r``: ``r`` is ``n`` tokens drawn uniformly (with replacement, from a
    generator seeded by ``seed``) from ``tokens`` (default: :func:`learned_tokens`). ``2n + 1`` ids."""
    if not is_index(n) or n < 1 or 2 * n + 1 > model.config.n_ctx:
        raise InputError(f"n must be an int from 1 to {(model.config.n_ctx - 1) // 2} (2n + 1 tokens must "
                         f"fit the context of {model.config.n_ctx}), got {n!r}")
    pool = token_pool(model, tokens)
    gen = torch.Generator().manual_seed(check_seed(seed, allow_none=False))
    r = pool[torch.randint(len(pool), (n,), generator=gen)].tolist()
    return [EOT_ID] + r + r


def position_losses(trace) -> torch.Tensor:
    """``[T - 1]``: the cross-entropy (nats) of each next token, ``-log p(ids[t + 1] | ids[:t + 1])``."""
    if check_trace(trace).n_tokens < 2:
        raise InputError("need at least 2 tokens for a next-token loss")
    targets = torch.tensor(trace.ids[1:])
    return next_token_loss(trace["logits"][:-1], targets, reduction="none")


BEST = ("max", "min", "abs")  # what best_cell can look for


def best_cell(scores, best: str | None = "max") -> tuple[int, int] | None:
    """Which head scores best? The (row, column) of the largest cell of ``scores`` ``[rows, cols]``
    (e.g. ``[n_layer, n_head]`` head scores or a ``patch_sweep``), of the smallest (``best="min"``)
    or of the largest in size (``"abs"``); the first in row-major order among equal cells; None for
    ``best=None``. The cell :func:`gptviz.viz.head_score_grid` outlines."""
    if best is None:
        return None
    if best not in BEST:
        raise InputError(f"best= must be 'max', 'min', 'abs' or None, got {best!r}")
    s = scores.detach().to("cpu", torch.float64).numpy() if isinstance(scores, torch.Tensor) else \
        np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or 0 in s.shape:
        raise InputError(f"scores must be a non-empty [rows, cols] grid, got shape {list(s.shape)}")
    flat = {"max": s, "min": -s, "abs": np.abs(s)}[best]
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(flat)), s.shape))


def copy_means(losses, period: int) -> tuple[float, float]:
    """The mean loss over each copy of r in ``<|endoftext|> + r + r``: ``losses`` ``[T - 1]`` (point
    ``t`` is the loss of token ``t + 1``, as :func:`position_losses` gives) averaged over points
    ``0 .. period - 1`` (the first copy) and ``period ..`` (the second), in float64. ``period``: the
    length of r."""
    y = losses.detach().to("cpu", torch.float64).numpy() if isinstance(losses, torch.Tensor) else \
        np.asarray(losses, dtype=np.float64)
    if not is_index(period) or period < 1:
        raise InputError(f"period must be the length of r, an int >= 1, got {period!r}")
    if y.ndim != 1 or y.size < period + 1:
        raise InputError(f"losses must be [T - 1] with more than period={period} values (both copies of r), "
                         f"got shape {list(y.shape)}")
    return float(y[:period].mean()), float(y[period:].mean())


@dataclass
class InductionReport:
    """Induction measured on repeated random tokens, averaged over seeds (see :func:`measure_induction`).

    ``induction`` and ``previous``: ``[n_layer, n_head]`` head scores; ``losses``: ``[2n]`` mean loss of
    the token at each position 1 .. 2n (predicted from the positions before it); ``first_copy`` and
    ``second_copy``: mean loss over each copy of r.
    """

    n: int
    seeds: int
    induction: torch.Tensor
    previous: torch.Tensor
    losses: torch.Tensor

    @property
    def first_copy(self) -> float:
        return self.losses[: self.n].mean().item()

    @property
    def second_copy(self) -> float:
        return self.losses[self.n:].mean().item()


def measure_induction(model, n: int = 50, seeds=range(16), tokens=None) -> InductionReport:
    """Run :func:`repeated_tokens` for each seed and average the induction and previous-token scores
    and the per-position losses. One forward pass per seed, recording only patterns and logits."""
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise InputError(f"seeds= takes a list of seeds, one forward pass each, e.g. seeds=range(16); got {seeds!r}")
    seeds = [check_seed(seed, allow_none=False) for seed in seeds]
    if not seeds:
        raise InputError("seeds= must hold at least one seed, e.g. seeds=range(16)")
    tokens = token_pool(model, tokens)  # checked once, not once per seed
    ind, prev, losses = [], [], []
    for seed in seeds:
        tr = model.trace(repeated_tokens(model, n, seed, tokens), names=["blocks.*.attn.pattern", "logits"],
                         allow_special=True)
        ind.append(induction_scores(tr, n))
        prev.append(previous_token_scores(tr))
        losses.append(position_losses(tr))
    mean = lambda xs: torch.stack(xs).mean(0)  # noqa: E731
    return InductionReport(n, len(seeds), mean(ind), mean(prev), mean(losses))
