"""One head's attention as numbers: the steps from a query to the head's output, and the strongest links.

For query position ``i`` of one head (``d`` = d_head):

    score_j  = q_i . k_j                 for every key j <= i
    scaled_j = score_j / sqrt(d)          (the trace's ``attn.scores``)
    a_j      = softmax(scaled)_j          (the trace's ``attn.pattern``; sums to 1)
    z_i      = sum_j a_j v_j              (the trace's ``attn.z``)

:func:`qk_steps` computes each line from the trace's ``q``, ``k`` and ``v``, so a student can check
them against what the model recorded. :func:`strongest_links` picks the coefficients worth drawing as
lines between tokens. The pictures of both are in :mod:`gptviz.viz.qk` and :mod:`gptviz.viz.lines`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .checks import check_head, check_layer, check_position

MIN_WEIGHT, PER_QUERY = 0.1, 2  # the thinning every lines view uses: each query's 2 strongest links of at least 0.1
QUERY_MIN_WEIGHT = 0.02  # the selected query's links (the attention explorer): every one at least this strong
MAX_LINES = 600  # the attention explorer's lines: at most this many of the strongest


def _float64(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def qk_steps(trace, layer: int, head: int, query: int) -> dict[str, np.ndarray]:
    """The numbers of each step for query position ``query`` (an index into the trace's tokens), in float64.

    Keys ``dot`` (q.k), ``scaled``, ``coefficients`` (all ``[n_keys]`` for keys ``0 .. i``),
    ``weighted`` (``[n_keys, d]``: each value times its coefficient) and ``z`` (``[d]``, their sum);
    and three numbers (0-d): ``sqrt_d`` (what the scores are divided by), ``strongest`` (the key with
    the largest coefficient, the first of equal ones) and ``z_norm`` (``|z|``, the length of the output).
    """
    prefix = f"blocks.{check_layer(trace.config, layer)}.attn."
    head = check_head(trace.config, head)
    i = check_position(query, trace.n_tokens)
    q = _float64(trace[prefix + "q"][head, i])  # [d]
    k = _float64(trace[prefix + "k"][head])  # [T_key, d]
    v = _float64(trace[prefix + "v"][head])  # [T_key, d]
    n_keys = trace.start + i + 1  # keys this query may see
    dot = k[:n_keys] @ q
    scaled = dot / math.sqrt(q.size)
    coefficients = np.exp(scaled - scaled.max())
    coefficients /= coefficients.sum()
    weighted = coefficients[:, None] * v[:n_keys]
    z = weighted.sum(axis=0)
    return {"dot": dot, "scaled": scaled, "coefficients": coefficients, "weighted": weighted, "z": z,
            "sqrt_d": np.float64(math.sqrt(q.size)), "strongest": np.argmax(coefficients),
            "z_norm": np.linalg.norm(z)}


def strongest_links(p: np.ndarray, min_weight: float, max_lines: int, per_query: int | None = None) -> np.ndarray:
    """Rows ``(query, key, weight)`` of the coefficients ``p [T_query, T_key]`` that are at least
    ``min_weight``, strongest first, at most ``max_lines``, and at most ``per_query`` for each query
    (None: no such limit); query indices count in key positions."""
    q, k = np.nonzero(p >= min_weight)
    w = p[q, k]
    order = np.argsort(-w, kind="stable")
    if per_query is not None:  # keep the links ranked below per_query among their query's
        queries = q[order]
        by_query = np.argsort(queries, kind="stable")  # grouped by query, strongest first in each group
        rank = np.empty_like(order)
        rank[by_query] = np.arange(order.size) - np.searchsorted(queries[by_query], queries[by_query])
        order = order[rank < per_query]
    order = order[:max_lines]
    offset = p.shape[1] - p.shape[0]
    return np.stack([q[order] + offset, k[order], w[order]], axis=1) if order.size else np.zeros((0, 3))


def query_links(pattern: np.ndarray, query: int, max_lines: int = MAX_LINES,
                query_min_weight: float = QUERY_MIN_WEIGHT) -> np.ndarray:
    """The links the attention explorer draws for one head's ``pattern`` ``[T, T]``, rows ``(query,
    key, weight)``: each other query's ``PER_QUERY`` strongest links of at least ``MIN_WEIGHT`` (the
    lines views' thinning, :func:`strongest_links`; at most ``max_lines``), then every link of
    ``query`` of at least ``query_min_weight``, in key order."""
    links = strongest_links(pattern, MIN_WEIGHT, max_lines, PER_QUERY)
    keys = np.nonzero(pattern[query] >= query_min_weight)[0]
    selected = np.stack([np.full(keys.size, query), keys, pattern[query, keys]], axis=1)
    others = links[links[:, 0] != query] if len(links) else links
    return np.concatenate([others, selected]) if len(selected) else others
