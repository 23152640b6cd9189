"""Checks of the indices a student passes: a layer, a head, a position, and lists of them. Each returns
the indices made non-negative (negative counts from the end) or raises an
:class:`~gptviz.errors.InputError` that gives the valid range. An index is a Python or NumPy integer,
never a bool or a float (1.0 is not rounded). The library, the views and the explorers share them, so
an index that one accepts, every one accepts."""

from __future__ import annotations

import numbers

from .errors import InputError


def check_layer(config, layer: int) -> int:
    """``layer`` as a non-negative index (negative counts from the end), or an InputError."""
    return _check_index(layer, config.n_layer, "layer", f"the model has {config.n_layer} layers")


def check_head(config, head: int) -> int:
    return _check_index(head, config.n_head, "head", f"each layer has {config.n_head} heads")


def check_position(position: int, n: int) -> int:
    return _check_index(position, n, "position", f"the text has {n} tokens")


def is_index(i) -> bool:
    """Whether ``i`` is read as an index: an int or a NumPy integer, not a bool."""
    # numbers.Integral holds int and every NumPy integer (NumPy registers them), not numpy.bool_;
    # so ``import gptviz`` (which imports this module through export) needs no NumPy.
    return isinstance(i, numbers.Integral) and not isinstance(i, bool)


def _is_list(x) -> bool:
    """Whether ``x`` is read as a list of indices: iterable, not text, not a 0-d tensor or array."""
    return hasattr(x, "__iter__") and not isinstance(x, (str, bytes)) and getattr(x, "ndim", 1) > 0


def check_heads(config, heads) -> list[tuple[int, int]]:
    """``heads=`` as a list of ``(layer, head)`` pairs of non-negative ints: None or an empty list (no
    heads), one pair, or a list of pairs."""
    if heads is None:
        return []
    if isinstance(heads, tuple) and len(heads) == 2 and all(is_index(x) for x in heads):
        heads = [heads]  # one pair given on its own
    if not _is_list(heads):
        raise InputError(f"heads= takes a list of (layer, head) pairs, such as heads=[(1, 0), (2, 3)]; got {heads!r}")
    out = []
    for pair in heads:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(is_index(x) for x in pair)):
            raise InputError(f"heads= takes (layer, head) pairs of ints, such as heads=[(1, 0), (2, 3)]; got {pair!r}")
        out.append((check_layer(config, pair[0]), check_head(config, pair[1])))
    return out


def check_layers(config, layers, what: str = "mlps=") -> list[int]:
    """``layers`` (the argument ``what``) as a list of non-negative layer indices: None (none), one
    index, or a list of them."""
    if layers is None:
        return []
    if is_index(layers):
        layers = [layers]
    if not _is_list(layers):
        raise InputError(f"{what} takes a list of layer indices, such as {what}[0, 2]; got {layers!r}")
    out = []
    for layer in layers:
        if not is_index(layer):
            raise InputError(f"{what} takes layer indices from 0 to {config.n_layer - 1}, got {layer!r}")
        out.append(check_layer(config, layer))
    return out


def check_positions(positions, n: int, what: str = "positions=") -> list[int]:
    """``positions`` (the argument ``what``) as a list of positions in ``0 .. n-1``: None (all), one
    index, or a non-empty list of them."""
    if positions is None:
        return list(range(n))
    hint = f"{what} takes positions from 0 to {n - 1} (negative from the end): one, or a non-empty list"
    if is_index(positions):
        positions = [positions]
    elif not _is_list(positions):
        raise InputError(f"{hint}, got {positions!r}")
    positions = list(positions)
    if not positions:
        raise InputError(f"{hint}, got an empty list: pass {what}None to use every position")
    for p in positions:
        if not is_index(p) or not -n <= p < n:
            raise InputError(f"{hint}, got {p!r}")
    return [int(p) % n for p in positions]


def _check_index(i, n: int, what: str, why: str) -> int:
    if not is_index(i):
        raise InputError(f"{what} must be an integer, got {i!r}")
    if not -n <= i < n:
        raise InputError(f"{what} {i} is out of range: {why}, so use 0 .. {n - 1} (or -1 for the last)")
    return int(i) % n
