"""The MLP's neurons as numbers: which fire most for each token, and how one token's pre-activations spread.

The pictures are :func:`gptviz.viz.mlp.top_neurons` and the FeedForward explorer's histogram
(:mod:`gptviz.widgets.layers`); they draw what these functions return.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .checks import is_index
from .errors import InputError


def top_activations(post, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Which neurons fire most for each token? The ``k`` largest activations of each row of
    ``post`` ``[R, d_mlp]`` (e.g. the rows of a trace's ``blocks.{i}.mlp.post`` to show), largest
    first, equal activations in order of neuron index. Returns ``(ids, values)``, each ``[R, k]``
    (int64 and float64); ``k`` is clamped to ``1 .. d_mlp``."""
    x = post.detach().to("cpu", torch.float64).numpy() if isinstance(post, torch.Tensor) else \
        np.asarray(post, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        raise InputError(f"post must have shape [positions, d_mlp] (rows of a trace's mlp.post), "
                         f"got {list(x.shape)}")
    if isinstance(k, bool) or not isinstance(k, numbers.Real):
        raise InputError(f"k must be a whole number of neurons, got {k!r}: e.g. k=5")
    k = int(np.clip(k, 1, x.shape[1]))
    ids = np.argsort(-x, axis=1, kind="stable")[:, :k]  # [R, k]
    return ids, np.take_along_axis(x, ids, axis=1)


def activation_histogram(pre, lo: float = -4.0, hi: float = 4.0, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """How are one token's pre-activations ``pre`` ``[d_mlp]`` spread? Their counts in ``bins``
    equal bins over ``[lo, hi]``, values outside clipped into the first or last bin (so every
    neuron is counted). Returns ``(counts [bins] int64, edges [bins + 1])``."""
    x = pre.detach().cpu().numpy() if isinstance(pre, torch.Tensor) else np.asarray(pre)  # its own dtype
    if x.ndim != 1:
        raise InputError(f"pre must be one token's pre-activations, shape [d_mlp], got {list(x.shape)}")
    if not lo < hi or not is_index(bins) or bins < 1:
        raise InputError(f"the histogram needs lo < hi and bins >= 1, got lo={lo!r}, hi={hi!r}, bins={bins!r}")
    return np.histogram(np.clip(x, lo, hi), bins=int(bins), range=(lo, hi))
