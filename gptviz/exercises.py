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

Numbers are compared with a tolerance (float32 sums in another order differ in the last digits); ``-inf`` matches ``-inf``, so
a masked score compares as it should. Whole numbers, strings and lists of them must be equal.

A graded check runs the student's function on inputs the student has not seen (another text, a
random tensor, a small random model built in the test cell), inside :class:`forbid`, which switches
off the library entry points that already compute the answer, so that a one-line call to them fails
with :class:`WriteItYourself` instead of passing::

    with forbid(torch.nn.functional.gelu, torch.nn.GELU):
        require(my_gelu(x), expected, what="my_gelu on a random tensor you have not seen")
"""

from __future__ import annotations

import inspect
import numbers
import sys
from dataclasses import dataclass

import numpy as np
import torch

from gptviz.errors import GptvizError, InputError

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


_INHERITED = object()  # marks a class attribute that forbid set where the class only inherited it


class WriteItYourself(GptvizError, AssertionError):
    """A switched-off library entry point was called while an answer was being checked."""


def _switched_off(label: str):
    def refuse(*args, **kwargs):
        raise WriteItYourself(f"write it yourself: {label} is switched off while your answer is checked "
                              f"(the test compares your code with it, so calling it proves nothing)")
    return refuse


def _label(target) -> str:
    if isinstance(target, tuple):
        owner, name = target
        return f"{owner.__name__}.{name}"
    if isinstance(target, property):
        target = target.fget
    func = getattr(target, "__func__", target)
    module = getattr(func, "__module__", None) or ""
    return f"{module}.{getattr(func, '__qualname__', getattr(func, '__name__', repr(func)))}".lstrip(".")


def _owner_of(target):
    """The class and attribute name behind a method, a property or an ``(owner, name)`` pair, else None."""
    if isinstance(target, tuple):
        return target
    if inspect.ismethod(target):
        for cls in type(target.__self__).__mro__:
            if vars(cls).get(target.__name__) is target.__func__:
                return cls, target.__name__
        return None
    func = target.fget if isinstance(target, property) else target
    path = getattr(func, "__qualname__", "").split(".")
    if len(path) < 2 or "<locals>" in path:
        return None
    owner = sys.modules.get(getattr(func, "__module__", None) or "")
    for part in path[:-1]:
        owner = getattr(owner, part, None)
    if isinstance(owner, type) and vars(owner).get(path[-1]) is target:
        return owner, path[-1]
    return None


class forbid:
    """``with forbid(f, g, ...):`` the named callables raise :class:`WriteItYourself` until the block ends.

    Each target is a function or class (replaced wherever a loaded module or the caller's namespace
    holds it: ``torch.nn.functional.gelu`` is also ``F.gelu`` and a ``from ... import gelu``), a method
    or property (``tok.decode``, ``GPTConfig.n_params``: replaced on its class, for every instance), or
    an ``(owner, "name")`` pair for an attribute of a built-in class (``(torch.Tensor, "softmax")``).
    Everything is put back when the block ends, even when it raises. ``namespace`` defaults to the
    globals of the code that calls ``forbid`` (a notebook's namespace).
    """

    def __init__(self, *targets, namespace: dict | None = None):
        if not targets:
            raise InputError("forbid() needs at least one callable to switch off")
        self.targets = targets
        self.namespace = sys._getframe(1).f_globals if namespace is None else namespace
        self._undo: list[tuple[object, str, object]] = []

    def _swap(self, holder, name: str, replacement) -> None:
        if isinstance(holder, dict):
            self._undo.append((holder, name, holder[name]))
            holder[name] = replacement
        else:
            self._undo.append((holder, name, vars(holder).get(name, _INHERITED)))
            setattr(holder, name, replacement)

    def __enter__(self) -> forbid:
        try:
            for target in self.targets:
                label, owner = _label(target), _owner_of(target)
                refuse = _switched_off(label)
                if owner is not None:
                    cls, name = owner
                    if not hasattr(cls, name):
                        raise InputError(f"forbid: {cls.__name__} has no attribute {name!r}")
                    original = inspect.getattr_static(cls, name)
                    self._swap(cls, name, property(refuse) if isinstance(original, property) else refuse)
                    for key, value in list(self.namespace.items()):  # bound copies: decode = tok.decode
                        if inspect.ismethod(value) and value.__func__ is original:
                            self._swap(self.namespace, key, refuse)
                    continue
                found = [(m.__name__, vars(m)) for m in list(sys.modules.values())
                         if isinstance(getattr(m, "__dict__", None), dict) and any(v is target for v in vars(m).values())]
                public = sorted((n for n, _ in found if not any(p.startswith("_") for p in n.split("."))), key=len)
                refuse = _switched_off(f"{public[0]}.{target.__name__}" if public else label)
                before = len(self._undo)
                for holder in [h for _, h in found] + [self.namespace]:
                    for key in [k for k, v in list(holder.items()) if v is target]:
                        self._swap(holder, key, refuse)
                if len(self._undo) == before:
                    raise InputError(f"forbid: {label} is held by no loaded module and not by the namespace, "
                                     f"so it cannot be switched off; import it first")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        while self._undo:
            holder, name, original = self._undo.pop()
            if isinstance(holder, dict):
                holder[name] = original
            elif original is _INHERITED:
                delattr(holder, name)
            else:
                setattr(holder, name, original)


def random_tensor(*shape: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    """A normal(0, ``scale``) float tensor of ``shape`` from its own generator: an input the student has
    not seen, drawn without touching torch's global random state (a chapter's later samples stay put)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale


def random_model(seed: int = 0, n_layer: int = 2, n_head: int = 2, d_model: int = 16, n_ctx: int = 32, **config):
    """A small GPT-2 with random weights (every weight, bias and LayerNorm scale drawn, none left at 0
    or 1), for checking a student's function on a model other than the chapter's. Built without
    touching torch's global random state."""
    from gptviz.config import GPTConfig
    from gptviz.model import GPT

    with torch.random.fork_rng(devices=[]):
        model = GPT(GPTConfig(n_layer=n_layer, n_head=n_head, d_model=d_model, n_ctx=n_ctx,
                              name=f"random model (seed {seed})", **config))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            centre = 1.0 if (".ln_" in name or name.startswith("ln_")) and name.endswith("weight") else 0.0
            p.copy_(centre + 0.1 * torch.randn(p.shape, generator=gen))
    return model.eval()
