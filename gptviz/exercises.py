"""Check your work: compare what you computed with what the model computed.

Every chapter from the embeddings on has cells where you compute one step by hand (a row lookup,
an attention pattern, a GELU...) and hand the result to :func:`check`, or to :func:`check_trace`,
which compares it with the tensor the model recorded in a trace::

    check(my_pattern, trace["blocks.0.attn.pattern"][0], what="head 0's pattern")
    check_trace(my_pattern, trace, "blocks.0.attn.pattern", 0)   # the same, shorter

Both print ``Right!`` or ``Not yet:`` with what differs (shape, the largest difference and where it
is); :func:`verdict` returns the outcome as a :class:`Verdict` instead. The graded test cells (in
nbgrader's markup, see the README) use :func:`require`, which raises an ``AssertionError`` holding
the difference and a hint when the answer is wrong::

    require(my_pattern, trace["blocks.0.attn.pattern"][0], "my_pattern", hint="did you apply the mask?")
 Numbers are compared with a
tolerance (float32 sums in another order differ in the last digits); ``-inf`` matches ``-inf``, so
a masked score compares as it should. Whole numbers, strings and lists of them must be equal.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

ATOL, RTOL = 1e-4, 1e-4


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok``, the message printed, and ``max_diff`` (numbers only; inf when
    the shapes or the positions of infinities differ)."""

    ok: bool
    message: str
    max_diff: float | None = None

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return self.message


def _as_array(x) -> np.ndarray | None:
    """A float64 array for numeric input, None for anything else (strings, mixed lists)."""
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64).numpy()
    if isinstance(x, (str, bytes)):
        return None
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):
        return None
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        return None
    return arr.astype(np.float64)


def _is_exact(x) -> bool:
    """Whole numbers (ints, integer tensors or arrays, lists of ints) compare exactly."""
    if isinstance(x, bool):
        return True
    if isinstance(x, numbers.Integral):
        return True
    if isinstance(x, torch.Tensor):
        return not (x.is_floating_point() or x.is_complex())
    if isinstance(x, np.ndarray):
        return np.issubdtype(x.dtype, np.integer) or x.dtype == bool
    if isinstance(x, (list, tuple)):
        return all(_is_exact(v) for v in x)
    return False


def verdict(answer, expected, what: str = "your answer", atol: float = ATOL, rtol: float = RTOL) -> Verdict:
    """Compare ``answer`` with ``expected`` without printing (see :func:`check`)."""
    a, e = _as_array(answer), _as_array(expected)
    if a is None or e is None or (_is_exact(answer) and _is_exact(expected)):
        if a is not None and e is not None and a.shape == e.shape and np.array_equal(a, e):
            return Verdict(True, f"Right! {what} is exactly as expected.", 0.0)
        if a is None and e is None and answer == expected:
            return Verdict(True, f"Right! {what} is {expected!r}.", None)
        return Verdict(False, f"Not yet: {what} is {_short(answer)}, expected {_short(expected)}.", None)
    if a.shape != e.shape:
        return Verdict(False, f"Not yet: {what} has shape {list(a.shape)}, expected {list(e.shape)}.",
                       float("inf"))
    if np.isnan(a).any():
        return Verdict(False, f"Not yet: {what} contains NaN (a 0/0 or inf - inf somewhere?).", float("inf"))
    same_inf = np.isinf(a) & np.isinf(e) & (np.sign(a) == np.sign(e))
    bad_inf = (np.isinf(a) | np.isinf(e)) & ~same_inf
    if bad_inf.any():
        where = tuple(int(i) for i in np.argwhere(bad_inf)[0])
        return Verdict(False, f"Not yet: at index {list(where)} {what} has {_fmt(a[where])}, expected "
                              f"{_fmt(e[where])} (is the causal mask right? -inf above the diagonal).",
                       float("inf"))
    diff = np.abs(np.where(same_inf, 0.0, a) - np.where(same_inf, 0.0, e))
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    max_diff = float(diff[worst]) if diff.size else 0.0
    close = np.all(diff <= atol + rtol * np.where(same_inf, 0.0, np.abs(e)))
    if close:
        size = "one number" if a.size == 1 else f"{a.size:,} numbers, shape {list(a.shape)}, each"
        return Verdict(True, f"Right! {what} matches ({size} within {atol:g} + {rtol:g} x |expected|).",
                       max_diff)
    return Verdict(False, f"Not yet: max difference {max_diff:.3g} at index {list(map(int, worst))}: "
                          f"{what} has {_fmt(a[worst])}, expected {_fmt(e[worst])}.", max_diff)


def _fmt(x) -> str:
    return f"{float(x):.6g}"


def _short(x) -> str:
    text = repr(x.tolist() if isinstance(x, (torch.Tensor, np.ndarray)) else x)
    return text if len(text) <= 80 else text[:77] + "..."


def check(answer, expected, what: str = "your answer", atol: float = ATOL, rtol: float = RTOL) -> None:
    """Is ``answer`` what was ``expected``? Prints ``Right!`` or ``Not yet:`` with the difference.

    Tensors, arrays and numbers are compared element by element within ``atol + rtol * |expected|``;
    whole numbers, strings and lists of them must be equal. (:func:`verdict` returns the outcome
    instead of printing it.)
    """
    print(verdict(answer, expected, what, atol, rtol).message)


def check_trace(answer, trace, name: str, *index, atol: float = ATOL, rtol: float = RTOL) -> None:
    """Compare ``answer`` with ``trace[name][index]``, the tensor the model recorded.

    ``index`` picks a part, e.g. a head: ``check_trace(p, trace, "blocks.0.attn.pattern", 0)``
    compares ``p`` with ``trace["blocks.0.attn.pattern"][0]``.
    """
    expected = trace[name]
    label = f"trace[{name!r}]" + "".join(f"[{i}]" for i in index)
    for i in index:
        expected = expected[i]
    check(answer, expected, what=f"your tensor (vs {label})", atol=atol, rtol=rtol)


def require(answer, expected, what: str = "your answer", hint: str = "", atol: float = ATOL,
            rtol: float = RTOL) -> None:
    """Assert that ``answer`` is ``expected`` (compared as :func:`verdict` does): print ``Right!`` if so,
    else raise an ``AssertionError`` whose message says what differs, then ``Hint:`` and ``hint``."""
    outcome = verdict(answer, expected, what, atol, rtol)
    if not outcome:
        raise AssertionError(f"{outcome.message} Hint: {hint}" if hint else outcome.message)
    print(outcome.message)
