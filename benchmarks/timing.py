"""The stopwatch the benchmark scripts share (they run as ``python benchmarks/NAME.py``, so this
module is importable as ``timing``)."""

from __future__ import annotations

import time


def timed(fn) -> float:
    """Wall-clock seconds ``fn()`` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
