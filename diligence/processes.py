"""Processes the kit starts die with the one that started them.

Kernels, Chromium and a batch's company runs are started with
:func:`die_with_parent` as their ``preexec_fn``: when a run is killed outright
(SIGKILL, the out-of-memory killer) the kernel sends them SIGKILL too, instead
of leaving them running on and writing into folders the next run removes.
"""

from __future__ import annotations

import ctypes
import gc
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def _pdeathsig() -> None:
    # Runs in the forked child before exec: one system call, nothing else.
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` by which the new process gets SIGKILL when the thread
    that started it ends (Linux); None elsewhere, where a kernel's own watch of
    its parent is all there is."""
    return _pdeathsig if _LIBC is not None and hasattr(_LIBC, "prctl") else None


def release_memory() -> None:
    """Give the memory of frames no longer referenced back to the system.

    A large company's tables, once dropped, leave the process holding their
    pages in the C allocator's free lists, so a kernel that has run one step
    (or the run, once it has handed its tables to the steps) keeps the peak
    of the process tree high; collecting cycles, asking Arrow's allocator for
    its unused memory, and trimming C's heap (glibc's ``malloc_trim``) returns
    them. Does nothing where there is no such call.
    """
    gc.collect()
    if "pyarrow" in sys.modules:  # Arrow's buffers live in its own allocator (mimalloc), not in C's heap
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)
