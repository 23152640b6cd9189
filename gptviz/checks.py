"""Checks of the indices a student passes: a layer, a head, a position. Each returns the index made
non-negative (negative counts from the end) or raises an :class:`~gptviz.errors.InputError` that gives
the valid range. The library, the views and the explorers share them."""

from __future__ import annotations

import numpy as np

from .errors import InputError


def check_layer(config, layer: int) -> int:
    """``layer`` as a non-negative index (negative counts from the end), or an InputError."""
    return _check_index(layer, config.n_layer, "layer", f"the model has {config.n_layer} layers")


def check_head(config, head: int) -> int:
    return _check_index(head, config.n_head, "head", f"each layer has {config.n_head} heads")


def check_position(position: int, n: int) -> int:
    return _check_index(position, n, "position", f"the text has {n} tokens")


def _check_index(i, n: int, what: str, why: str) -> int:
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
        raise InputError(f"{what} must be an integer, got {i!r}")
    if not -n <= i < n:
        raise InputError(f"{what} {i} is out of range: {why}, so use 0 .. {n - 1} (or -1 for the last)")
    return int(i) % n
