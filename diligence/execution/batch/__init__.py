"""``diligence batch``: every company of a portfolio, side by side (SPEC §7).

The batch fans the companies out over a :class:`concurrent.futures.Executor`
(:mod:`.executors`: local worker processes, or a running Dask cluster) — one
code path for both. Each task is :func:`~.task.run_company_task`, which skips a
company whose outputs are current (:mod:`.fingerprint`) and otherwise runs it
as ``diligence run`` does, in a child process stopped at a timeout
(:mod:`.child`). When every task is back, the roll-up (:mod:`.rollup`) reads
each company's ``findings.json`` and writes ``portfolio.json``,
``portfolio.html`` and ``portfolio.xlsx``. Interrupted (Ctrl+C, SIGTERM), the
batch starts nothing more, stops the running companies cleanly, and writes
the roll-up of what finished, the others failed as interrupted. The portfolio file is read by
:mod:`.portfolio_file`; :mod:`.progress` is the command line's display.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diligence.errors import InputError
from diligence.execution.batch.child import CHILDREN
from diligence.execution.batch.executors import SCHEDULER_CONNECT_TIMEOUT, open_executor
from diligence.execution.batch.fingerprint import (
    FINGERPRINT_FILE,
    REQUIRED_OUTPUTS,
    data_digests,
    file_digest,
    input_fingerprint,
    is_current,
    kit_fingerprint,
    outputs_complete,
)
from diligence.execution.batch.portfolio_file import CompanySpec, Portfolio, load_portfolio
from diligence.execution.batch.progress import BatchProgress
from diligence.execution.batch.rollup import (
    ROLLUP_HTML,
    ROLLUP_JSON,
    ROLLUP_XLSX,
    load_previous_rollup,
    portfolio_title,
    rollup_entry,
    write_rollup,
)
from diligence.execution.batch.task import DEFAULT_TIMEOUT, make_job, run_company_task, task_result
from diligence.execution.kernel import check_kernel
from diligence.execution.outdir import check_portfolio_out, clear_leftovers
from diligence.execution.outputs import parse_formats
from diligence.report.pdf import HOW_TO_GET_IT, find_chromium

__all__ = [
    "DEFAULT_TIMEOUT",
    "FINGERPRINT_FILE",
    "REQUIRED_OUTPUTS",
    "ROLLUP_HTML",
    "ROLLUP_JSON",
    "ROLLUP_XLSX",
    "SCHEDULER_CONNECT_TIMEOUT",
    "BatchProgress",
    "BatchResult",
    "CompanySpec",
    "Portfolio",
    "data_digests",
    "file_digest",
    "input_fingerprint",
    "is_current",
    "kit_fingerprint",
    "load_portfolio",
    "make_job",
    "open_executor",
    "outputs_complete",
    "portfolio_title",
    "rollup_entry",
    "run_batch",
    "run_company_task",
    "write_rollup",
]

#: Seconds between looks at which submitted companies a worker has taken up.
_POLL = 0.25
#: Seconds an interrupted company's run has to clean up before it is killed.
STOP_GRACE = 15.0
#: The error of a company the batch was interrupted before it finished.
NOT_FINISHED = "the batch was interrupted before this company finished"


@dataclass
class BatchResult:
    """What a batch did: the roll-up entries, the task results, where it wrote them."""

    out: Path
    companies: list[dict[str, Any]]
    results: list[dict[str, Any]]
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # said once at the end (a skipped PDF)
    interrupted: int = 0  # the signal that stopped the batch, 0 when it ran to the end

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.companies if c["status"] != "ok"]

    @property
    def exit_code(self) -> int:
        """0 when every company has a report, 1 when any failed (SPEC §7),
        128 + the signal when the batch was interrupted (130 for Ctrl+C)."""
        if self.interrupted:
            return 128 + self.interrupted
        return 1 if self.failed else 0


def run_batch(
    portfolio: str | Path | Portfolio,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    formats: str | Sequence[str] | None = None,
    on_start: Callable[[list[dict[str, Any]], int], None] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    previous: str | Path | None = None,
) -> BatchResult:
    """Run every company of a portfolio and write the roll-up (SPEC §7).

    Parameters
    ----------
    portfolio
        The portfolio file (validated here) or an already loaded :class:`Portfolio`.
    out
        The batch's output folder: one ``<slug>/`` per company, and the roll-up.
    workers, scheduler
        See :func:`open_executor`.
    force
        Run companies whose outputs are current too.
    timeout
        Seconds each company may take.
    formats
        Each company's deliverables (:func:`~diligence.execution.outputs.parse_formats`);
        the PDF is left out, and said once in ``notes``, when no Chromium is found here.
        With ``pptx`` among them the roll-up adds portfolio.pptx.
    on_start
        Called once with the jobs and the number of slots, before any runs.
    on_result
        Called with each task's result as it arrives (progress display).
    previous
        An earlier batch's output folder (``--previous``): each company is compared
        with its report there (matched by slug; a company without one is new) and
        the roll-up adds each company's trend across the runs found
        (:func:`~.rollup.load_previous_rollup`).

    Returns
    -------
    BatchResult
        ``exit_code`` is 0 when every company has a report, else 1. A company
        whose worker was lost is failed, its ``seconds`` counted from when a
        worker took it up (from its submission when the executor does not say:
        Dask) to when the loss was noticed. Interrupted by KeyboardInterrupt
        (Ctrl+C, or SIGTERM through the command line), the batch cancels the
        queued companies, stops the running ones (:data:`STOP_GRACE`), writes
        the roll-up and returns with ``interrupted`` set; companies running on
        a Dask cluster are only cancelled there.

    Raises
    ------
    InputError
        A bad portfolio file or arguments (exit 2), before anything runs.
    """
    started = time.perf_counter()
    if timeout is None or timeout <= 0:
        raise InputError(f"--timeout: give a positive number of seconds, got {timeout!r}.")
    if workers is not None and workers < 1:
        raise InputError(f"--workers: give a positive number, got {workers!r}.")
    wanted = parse_formats(formats)
    notes: list[str] = []
    if "pdf" in wanted and find_chromium() is None:
        wanted = tuple(f for f in wanted if f != "pdf")
        notes.append(f"report.pdf was skipped for every company: no Chromium was found ({HOW_TO_GET_IT}).")
    loaded = portfolio if isinstance(portfolio, Portfolio) else load_portfolio(portfolio)
    earlier = load_previous_rollup(previous) if previous is not None else None
    if scheduler is None:
        check_kernel()  # installed once here, not by every worker at once on a first run
    out = check_portfolio_out(out)
    jobs = [
        make_job(
            spec,
            out,
            timeout=timeout,
            force=force,
            formats=wanted,
            previous=earlier.company_folder(spec.slug) if earlier else None,
        )
        for spec in loaded.companies
    ]
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    begun: list[float] = [started] * len(jobs)  # perf_counter when each company was submitted, then taken up
    interrupted = 0
    CHILDREN.reset()
    with open_executor(workers, scheduler, n_tasks=len(jobs)) as (executor, slots):
        out.mkdir(parents=True, exist_ok=True)
        steps_at_once = 1 if scheduler else max(1, (os.cpu_count() or 1) // slots)  # the cores the companies leave
        for job in jobs:
            job["jobs"] = steps_at_once
        if on_start:
            on_start(jobs, slots)
        futures: dict[Future, int] = {}
        seen_running: set[Future] = set()
        pending: set[Future] = set()

        def record(future: Future) -> None:
            i = futures[future]
            if future.cancelled():
                results[i] = task_result(jobs[i], "failed", begun[i], error=NOT_FINISHED, exit_code=130)
            else:
                try:
                    results[i] = future.result()
                except BaseException as exc:
                    results[i] = task_result(
                        jobs[i], "failed", begun[i], error=f"the worker was lost: {type(exc).__name__}: {exc}"
                    )
                    clear_leftovers(Path(jobs[i]["out"]))  # its run died with it, its build folder did not
            if on_result:
                on_result(results[i])

        try:
            for i, job in enumerate(jobs):
                begun[i] = time.perf_counter()
                futures[executor.submit(run_company_task, job)] = i
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
                now = time.perf_counter()
                for future in pending - seen_running:
                    if future.running():  # a local pool says when a worker takes the company up
                        seen_running.add(future)
                        begun[futures[future]] = now
                for future in sorted(finished, key=futures.__getitem__):
                    record(future)
        except KeyboardInterrupt as exc:
            interrupted = getattr(exc, "signum", signal.SIGINT)
            pending = {f for f in futures if results[futures[f]] is None}
            for future in pending:
                future.cancel()  # the queued ones; on a cluster, the running ones too
            CHILDREN.stop(STOP_GRACE)
            wait(pending, timeout=STOP_GRACE + 5)
            for future in sorted(pending, key=futures.__getitem__):
                if future.done():
                    record(future)
            executor.shutdown(wait=False, cancel_futures=True)
    lost = NOT_FINISHED if interrupted else "no result came back"
    done = [r or task_result(job, "failed", t, error=lost) for job, r, t in zip(jobs, results, begun)]
    entries = [rollup_entry(job, res) for job, res in zip(jobs, done)]
    as_of = {spec.slug: spec.as_of for spec in loaded.companies}
    paths = write_rollup(
        out,
        entries,
        as_of,
        title=portfolio_title(loaded.path),
        company_dirs={job["slug"]: job["out"] for job in jobs},
        deck="pptx" in wanted,
        previous=earlier,
    )
    return BatchResult(
        out=out,
        companies=entries,
        results=done,
        seconds=time.perf_counter() - started,
        paths=paths,
        notes=notes,
        interrupted=interrupted,
    )
