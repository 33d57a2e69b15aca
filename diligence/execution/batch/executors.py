"""Where a batch's tasks run: local worker processes or a running Dask cluster.

Both are a :class:`concurrent.futures.Executor` — a ``ProcessPoolExecutor``, or
``distributed.Client(address).get_executor()`` — so the batch has one code path.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from diligence.errors import DiligenceError, InputError

#: Seconds to wait for a Dask scheduler to answer.
SCHEDULER_CONNECT_TIMEOUT = "15s"


@contextmanager
def open_executor(
    workers: int | None = None, scheduler: str | None = None, *, n_tasks: int | None = None
) -> Iterator[tuple[Executor, int]]:
    """An Executor for the batch and how many tasks it runs at once.

    Parameters
    ----------
    workers
        Local worker processes (default ``os.cpu_count()``, never more than
        ``n_tasks``); ignored with a scheduler, whose cluster decides.
    scheduler
        Address of a running Dask scheduler (``tcp://host:port``). Its workers
        must have the kit installed and see the data and output paths.

    Yields
    ------
    (Executor, int)
        The executor (a ``ProcessPoolExecutor`` with a forkserver or spawn
        context — never fork, which would copy the parent's threads — or
        Dask's ``ClientExecutor``) and its number of slots.

    Raises
    ------
    InputError
        When the scheduler cannot be reached (exit 2: the argument is wrong).
    """
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise DiligenceError(
                "--scheduler needs Dask distributed; install it with pip install 'dask[distributed]'."
            ) from None
        from distributed.comm.addressing import get_address_host_port

        try:
            get_address_host_port(scheduler)  # a malformed address would leave a Client hanging on exit
        except ValueError as exc:
            raise InputError(f"--scheduler: {exc}; give the scheduler's address as tcp://host:port.") from None
        try:
            client = Client(scheduler, timeout=SCHEDULER_CONNECT_TIMEOUT, set_as_default=False)
        except Exception as exc:
            raise InputError(
                f"--scheduler: cannot reach a Dask scheduler at {scheduler} ({type(exc).__name__}: {exc})."
            ) from None
        try:
            slots = max(sum(client.nthreads().values()), 1)
            executor = client.get_executor(pure=False)
            yield executor, slots
            executor.shutdown(wait=True)
        finally:
            client.close()
        return
    n = max(1, min(int(workers or os.cpu_count() or 1), n_tasks or sys.maxsize))
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    executor = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context(method))
    try:
        yield executor, n
    except BaseException:
        stop_workers(executor)
        raise
    executor.shutdown(wait=True)


def stop_workers(executor: ProcessPoolExecutor, grace: float = 15.0) -> None:
    """Stop a pool whose batch was interrupted: queued companies are cancelled,
    running ones get SIGINT (their task kills its run and cleans up), and any
    worker still alive after ``grace`` seconds is killed."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive() and proc.pid is not None:
            try:
                os.kill(proc.pid, signal.SIGINT)
            except OSError:
                pass
    deadline = time.monotonic() + grace
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
