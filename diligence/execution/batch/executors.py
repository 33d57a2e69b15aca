"""Where a batch's tasks run: local worker processes or a running Dask cluster.

Both are a :class:`concurrent.futures.Executor`, so the batch has one code
path. Locally it is a ``ThreadPoolExecutor`` whose every thread waits for one
company's run in its own process (:mod:`.child`): the runs are the worker
processes, so a run killed fails its company alone — a process pool breaks
whole when one of its workers dies — and the batch can stop each of them.
On a cluster it is ``distributed.Client(address).get_executor()``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
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
        Companies run at once locally (default ``os.cpu_count()``, never more
        than ``n_tasks``); ignored with a scheduler, whose cluster decides.
    scheduler
        Address of a running Dask scheduler (``tcp://host:port``). Its workers
        must have the kit installed and see the data and output paths.

    Yields
    ------
    (Executor, int)
        The executor (a ``ThreadPoolExecutor``, or Dask's ``ClientExecutor``)
        and its number of slots. Leaving the block by an exception (Ctrl+C)
        cancels the queued companies without waiting for the running ones.

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
    executor = ThreadPoolExecutor(max_workers=n, thread_name_prefix="company")
    try:
        yield executor, n
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
