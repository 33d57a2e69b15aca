"""Processes the kit starts die with the one that started them.

Kernels, Chromium and a batch's company runs are started with
:func:`die_with_parent` as their ``preexec_fn``: when a run is killed outright
(SIGKILL, the out-of-memory killer) the kernel sends them SIGKILL too, instead
of leaving them running on and writing into folders the next run removes.
"""

from __future__ import annotations

import ctypes
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
