"""The stopwatch the benchmark scripts share (they run as ``python benchmarks/NAME.py``, so this
module is importable as ``timing``)."""

from __future__ import annotations

import time


def clocked(fn):
    """``fn()``'s result, and the wall-clock and CPU seconds it took (on a shared machine they differ)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def timed(fn) -> float:
    """Wall-clock seconds ``fn()`` took."""
    return clocked(fn)[1]
