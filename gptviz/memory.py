"""Memory for traces: keep what one trace frees, so that the next trace does not fault it in again.

A full trace of 1,024 tokens on GPT-2 small holds 2 GiB of activations; one layer's attention
scores alone are 48 MiB. glibc's ``malloc`` gives every block over 32 MiB its own ``mmap`` and hands
freed memory back to the kernel, so each new trace asks the kernel for its 2 GiB again, one 4 KiB
page fault at a time (about 500,000 faults). On this project's 2-core machine they cost 1.7 s of
system CPU time in a trace that took 2.9 s; with the memory kept, the same trace takes 1.9 s, as long
as the untraced forward pass.

:func:`keep_freed_memory` asks glibc to serve large blocks from its heap and to keep what is freed
there: the process stays at its high-water mark and the traces that follow reuse those pages. The
first one or two still fault some in while the heap settles. After that the activations fault in
nothing; the logits (206 MB at 1,024 tokens) are one block, and whether it fits the hole the last
trace left depends on where small blocks landed in between, so it sometimes faults in again.
:func:`gptviz.trace.trace` turns it on before its first run; ``GPTVIZ_KEEP_MEMORY=0`` in the
environment (set before that first trace: the policy lasts as long as the process) leaves the
allocator alone. :func:`release_memory` gives the free part back to the
operating system (e.g. after a large trace you no longer need). On other C libraries (macOS,
Windows, musl) both do nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1  # keep up to this many free bytes at the top of the heap
_M_MMAP_THRESHOLD = -3  # blocks at least this large get their own mmap
_LIMIT = 2**31 - 1  # mallopt takes a C int: both thresholds as high as it goes
_kept = False


def _glibc():
    """The process's C library when it is glibc (it has ``mallopt`` and ``malloc_trim``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 -- only glibc has it
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Make freed memory stay in this process for the next trace (see the module's docstring).

    Idempotent; returns True when the policy is in force, False when ``GPTVIZ_KEEP_MEMORY=0`` or the
    C library is not glibc.
    """
    global _kept
    if _kept:
        return True
    if os.environ.get("GPTVIZ_KEEP_MEMORY", "1") == "0":
        return False
    libc = _glibc()
    if libc is None:
        return False
    _kept = libc.mallopt(_M_MMAP_THRESHOLD, _LIMIT) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, _LIMIT) == 1
    return _kept


def release_memory() -> bool:
    """Give the memory this process has freed back to the operating system. Returns True if glibc
    released some."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))
