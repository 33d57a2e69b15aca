"""One company's run: validate once, execute the step notebooks, write the outputs whole.

The outputs are built in a hidden folder beside ``--out`` and moved into place
only when every step has succeeded, so a failed run never leaves a half-written
report and never destroys the previous one.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import papermill as pm
from papermill.exceptions import PapermillExecutionError

import diligence
from diligence.errors import DiligenceError, InputError, StepError
from diligence.execution import potential, scratch, store
from diligence.execution.findings import build_findings
from diligence.execution.kernel import KernelManager, check_kernel, make_kernel_manager
from diligence.execution.outdir import MARKER, check_out, clear_leftovers, marker, publish
from diligence.execution.outputs import parse_formats
from diligence.execution.previous import compare, load_previous
from diligence.execution.previous import record as record_comparison
from diligence.execution.results import load_results
from diligence.intake import load_company
from diligence.intake.archives import ArchiveLimits
from diligence.intake.checks import as_of_problem, parameter_columns
from diligence.params import Params, parse_date
from diligence.processes import release_memory
from diligence.report.changes import change_section
from diligence.report.pdf import HOW_TO_GET_IT, PdfError, find_chromium, start_print
from diligence.report.quality import data_period
from diligence.resources import notebooks_dir

WORK = "work"  # the run's work folder, relative to the output folder
#: The scenario step's table of capacity-plan inputs, whose sources the methodology appendix states.
INPUTS_TABLE = "Capacity plan inputs"
OUTPUTS = ("report.html", "report.xlsx", "report.pptx", "report.pdf", "findings.json", "notebooks", WORK, MARKER)
CELL_TIMEOUT = int(os.environ.get("DILIGENCE_CELL_TIMEOUT", "1800"))
KERNEL_START_TRIES = 4

# papermill logs every injected name our notebooks do not declare; parameters
# are validated once, before any step, so its warnings would only be noise.
logging.getLogger("papermill").setLevel(logging.ERROR)


@dataclass
class RunResult:
    out: Path
    findings: dict[str, Any]
    seconds: float
    notes: list[str] = field(default_factory=list)  # what the run says once at the end (a skipped PDF)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: intake, potential, each step, rendering


def step_notebooks(notebook_dir: Path | None = None) -> list[Path]:
    """The step notebooks, in run order (``NN_name.ipynb``)."""
    notebook_dir = notebook_dir or notebooks_dir()
    steps = sorted(p for p in notebook_dir.glob("[0-9][0-9]_*.ipynb"))
    if not steps:
        raise DiligenceError(f"No step notebooks found in {notebook_dir}.")
    return steps


def _is_kernel_start_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return any(
        s in text
        for s in ("Kernel didn't respond", "Address already in use", "DeadKernelError", "Kernel died before replying")
    )


class Kernels:
    """The kernels of a run's steps that are running, so that a run stopping
    (a step failed beside them, Ctrl+C) can kill them: papermill waits in its
    thread for a kernel and cannot be interrupted otherwise."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[KernelManager] = set()
        self.stopping = False

    def add(self, km: KernelManager) -> None:
        with self._lock:
            if self.stopping:
                raise StepError("the run is stopping")
            self._live.add(km)

    def discard(self, km: KernelManager) -> None:
        with self._lock:
            self._live.discard(km)

    def stop(self, grace: float = 60.0) -> None:
        """Stop the running steps: interrupt their kernels until each has let go
        (a cell interrupted ends the step with an error; papermill's wait for a
        kernel that is killed outright would never end), then kill what is left."""
        with self._lock:
            self.stopping = True
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with self._lock:
                live = list(self._live)
            if not live:
                return
            for km in live:
                try:
                    km.interrupt_kernel()
                except Exception:
                    pass
            time.sleep(0.5)
        with self._lock:
            live = list(self._live)
        for km in live:
            _kill(km)


def _kill(km: KernelManager) -> None:
    """Kill a kernel's process outright (a kernel that would not let go, or shut down)."""
    pid = getattr(km.provisioner, "pid", None) if km.provisioner is not None else None
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


#: Run in a warm kernel between two steps: the next step starts from an empty
#: namespace, with no figure left open, as in a kernel of its own.
_CLEAN_NAMESPACE = (
    "import matplotlib.pyplot as _plt\n_plt.close('all')\n"
    "import diligence.metrics.memo as _memo\n_memo.clear_all()\n"
    "get_ipython().run_line_magic('reset', '-f')\n"
    "import diligence.processes as _processes\n_processes.release_memory()\ndel _processes\n"
)


#: Run in a kernel started ahead of the steps (while the run fits its potential
#: model): the kit and its libraries imported, then the namespace cleared, so the
#: first step finds the kernel as a later step finds a warm one.
_PRELOAD = (
    "import importlib as _il\n"
    "for _m in ('pandas', 'matplotlib.pyplot', 'seaborn', 'diligence.execution.notebook', 'diligence.report.charts',"
    " 'diligence.report.display', 'diligence.report.narrative', 'diligence.metrics.flags',"
    " 'diligence.metrics.coverage', 'diligence.metrics.balance', 'diligence.metrics.pipeline',"
    " 'diligence.metrics.pipeline_quality', 'diligence.metrics.productivity', 'diligence.metrics.channels',"
    " 'diligence.metrics.governance', 'diligence.metrics.capacity', 'diligence.metrics.merger'):\n"
    "    _il.import_module(_m)\n"
)


class KernelPool:
    """The warm kernels of a run's steps.

    A step takes an idle kernel (or a new one) and gives it back when it ends
    well: its namespace is then cleared, and the next step runs in it. The kit,
    pandas and matplotlib are imported once per kernel rather than once per
    step, which was most of a small company's run; each executed notebook is
    still the whole step, run top to bottom from an empty namespace. A kernel
    whose step failed is shut down, never reused. Kernel sockets and connection
    files go in folders of ``scratch_dir``; ``kernels`` holds the kernels while
    a step runs, so that a stopping run can interrupt them.
    """

    def __init__(
        self, scratch_dir: Path | None, log: Any, cwd: Path, kernels: Kernels | None = None, reuse: bool = True
    ) -> None:
        self._scratch, self._log, self._cwd = scratch_dir, log, cwd
        self._kernels = kernels or Kernels()
        self._reuse = reuse
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)  # an early kernel became idle (or failed)
        self._idle: list[KernelManager] = []
        self._open: dict[KernelManager, tuple[Any, Path]] = {}  # km -> (its client, its socket folder)
        self._early: list[threading.Thread] = []
        self._pending = 0  # early kernels still starting
        # A kernel dies with the thread that started it (die_with_parent): an early
        # kernel's thread waits for this, set when the pool closes.
        self._release = threading.Event()
        self._wanted: int | None = None  # steps still to take a kernel, when told (expect)

    def expect(self, steps: int) -> None:
        """``steps`` steps will take a kernel: once the last has taken one, a
        kernel given back is shut down rather than kept idle (on a large
        company a warm kernel holds gigabytes while the longest step runs on)."""
        with self._lock:
            self._wanted = (self._wanted or 0) + steps

    def start_early(self, n: int) -> None:
        """Start ``n`` kernels now, in the background, each with the kit imported
        (:data:`_PRELOAD`) and its namespace then cleared; :meth:`take` hands
        them out (waiting for one still starting rather than starting another).
        A kernel that fails to start or preload is dropped: a step starts its own."""
        with self._lock:
            self._pending += n
        for _ in range(n):
            thread = threading.Thread(target=self._start_early, name="kernel-early", daemon=True)
            self._early.append(thread)
            thread.start()

    def _start_early(self) -> None:
        km = None
        try:
            km = self._start()
            kc, _ = self._open.get(km, (None, None))
            reply = kc.execute_interactive(
                _PRELOAD + _CLEAN_NAMESPACE,
                silent=True,
                store_history=False,
                timeout=120,
                output_hook=lambda msg: None,
            )
            if reply["content"]["status"] != "ok":
                raise StepError("the kit could not be imported ahead of the steps")
            # A client serves the thread that made it: this one ends, so the step's thread makes its own.
            kc.stop_channels()
            with self._lock:
                self._open[km] = (None, self._open[km][1])
        except BaseException:
            if km is not None:
                self._shut(km)
            km = None
        with self._ready:
            self._pending -= 1
            kept = km is not None and not self._kernels.stopping and not self._release.is_set() and km in self._open
            if kept:
                self._idle.append(km)
            self._ready.notify_all()
        if km is not None and not kept:
            self._shut(km)
        elif kept:
            self._release.wait()

    def take(self) -> KernelManager:
        """An idle warm kernel, or a newly started one (start failures retried with back-off)."""
        with self._ready:
            while not self._idle and self._pending > 0 and not self._kernels.stopping:
                self._ready.wait(timeout=1.0)
            km = self._idle.pop() if self._idle else None
            if self._wanted:
                self._wanted -= 1
        if km is None:
            km = self._start()
        try:
            self._kernels.add(km)
        except StepError:
            self._shut(km)
            raise
        return km

    @property
    def kernels(self) -> Kernels:
        """The kernels of the pool's running steps (to stop them)."""
        return self._kernels

    @property
    def stopping(self) -> bool:
        """The run is stopping: no step starts, no kernel is kept."""
        return self._kernels.stopping

    def _start(self) -> KernelManager:
        for attempt in range(1, KERNEL_START_TRIES + 1):
            sock_dir = Path(tempfile.mkdtemp(prefix="k", dir=self._scratch))
            km = make_kernel_manager(sock_dir, self._log, cwd=self._cwd)
            with self._lock:
                self._open[km] = (None, sock_dir)
            try:
                km.start_kernel()
                kc = km.client()
                kc.start_channels()
                kc.wait_for_ready(timeout=60)
                with self._lock:
                    self._open[km] = (kc, sock_dir)
                return km
            except Exception as exc:
                self._shut(km)
                if self._kernels.stopping:
                    raise StepError("the run is stopping") from None
                if attempt == KERNEL_START_TRIES:
                    raise StepError(f"a step kernel could not start: {type(exc).__name__}: {exc}") from None
                time.sleep(random.uniform(0.5, 2.0) * attempt)
        raise AssertionError("unreachable")

    def give_back(self, km: KernelManager) -> None:
        """Keep ``km`` warm for the next step, its namespace cleared (shut down if that fails)."""
        self._kernels.discard(km)
        if self._wanted == 0:  # no step will take it
            self._shut(km)
            return
        kc, sock_dir = self._open.get(km, (None, None))
        clean = False
        if self._reuse and kc is None and sock_dir is not None and not self._kernels.stopping:
            try:  # an early kernel: its client is made in this thread
                kc = km.client()
                kc.start_channels()
                kc.wait_for_ready(timeout=60)
                with self._lock:
                    self._open[km] = (kc, sock_dir)
            except Exception:
                kc = None
        if self._reuse and kc is not None and not self._kernels.stopping:
            try:
                reply = kc.execute_interactive(
                    _CLEAN_NAMESPACE, silent=True, store_history=False, timeout=60, output_hook=lambda msg: None
                )
                clean = reply["content"]["status"] == "ok"
            except Exception:
                clean = False
        if clean:
            with self._lock:
                self._idle.append(km)
        else:
            self._shut(km)

    def discard(self, km: KernelManager) -> None:
        """Shut ``km`` down: its step failed or was stopped."""
        self._kernels.discard(km)
        self._shut(km)

    def _shut(self, km: KernelManager) -> None:
        with self._lock:
            kc, sock_dir = self._open.pop(km, (None, None))
            if km in self._idle:
                self._idle.remove(km)
        try:
            if kc is not None:
                kc.stop_channels()
            if km.has_kernel:
                km.shutdown_kernel(now=True)
        except Exception:
            _kill(km)
        if sock_dir is not None:
            shutil.rmtree(sock_dir, ignore_errors=True)

    def close(self) -> None:
        """Shut every kernel of the pool down (once the early ones have started)."""
        with self._ready:
            deadline = time.monotonic() + 300
            while self._pending > 0 and time.monotonic() < deadline:
                self._ready.wait(timeout=1.0)
        with self._lock:
            every = list(self._open)
        for km in every:
            self._shut(km)
        self._release.set()
        for thread in self._early:
            thread.join(timeout=30)

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_in(pool: KernelPool, source: Path, target: Path, parameters: dict[str, Any]) -> None:
    """Execute one step notebook with papermill in a kernel of ``pool``.

    A cell error is never retried and becomes a :class:`StepError` naming the
    step and cell; a kernel that dies before the step could start is replaced
    (a few times, with back-off).
    """
    for attempt in range(1, KERNEL_START_TRIES + 1):
        km = pool.take()
        try:
            pm.execute_notebook(
                str(source),
                str(target),
                parameters=parameters,
                kernel_name=check_kernel(),
                km=km,
                progress_bar=False,
                log_output=False,
                execution_timeout=CELL_TIMEOUT,
            )
        except PapermillExecutionError as exc:
            pool.discard(km)
            first_line = next((ln for ln in str(exc.source).splitlines() if ln.strip()), "")
            raise StepError(
                f"Step '{source.stem}' failed in cell {exc.cell_index + 1} ({first_line.strip()[:80]}): "
                f"{exc.ename}: {exc.evalue}"
            ) from None
        except BaseException as exc:
            pool.discard(km)
            if isinstance(exc, StepError | KeyboardInterrupt | SystemExit):
                raise
            if pool.stopping:
                raise StepError(f"Step '{source.stem}' was stopped") from None
            if attempt == KERNEL_START_TRIES or not _is_kernel_start_failure(exc):
                raise StepError(f"Step '{source.stem}' could not run: {type(exc).__name__}: {exc}") from None
            time.sleep(random.uniform(0.5, 2.0) * attempt)
            continue
        pool.give_back(km)
        return


def execute_step(
    source: Path,
    target: Path,
    parameters: dict[str, Any],
    cwd: Path,
    log_path: Path,
    scratch_dir: Path | None = None,
    kernels: Kernels | None = None,
) -> None:
    """Execute one step notebook with papermill in a kernel of its own, shut
    down when the step ends (see :func:`run_in`)."""
    with open(log_path, "a", encoding="utf-8") as log, KernelPool(scratch_dir, log, cwd, kernels, reuse=False) as pool:
        run_in(pool, source, target, parameters)


def reads_earlier_steps(notebook: Path) -> bool:
    """True when the step reads the results the steps before it recorded
    (its code calls ``run.metrics(before=...)``)."""
    cells = _notebook(notebook).get("cells", [])
    return any("run.metrics(" in "".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")


def runs_long(notebook: Path) -> bool:
    """True when the step's metadata marks it long-running (``diligence.long_running``):
    run beside others, it starts first so that the short steps fill the other cores."""
    return bool(_notebook(notebook).get("metadata", {}).get("diligence", {}).get("long_running"))


def _notebook(notebook: Path) -> dict[str, Any]:
    return json.loads(notebook.read_text(encoding="utf-8"))


def submission_order(notebooks: list[Path], reading: set[Path] | None = None) -> list[Path]:
    """The steps in the order a pool of kernels takes them: those that read no
    earlier results first, long-running ones at their head; then those that do
    (``reading``, else :func:`reads_earlier_steps` of each), in step order (each
    waits for the steps before it: :func:`execute_steps`)."""
    reading = {s for s in notebooks if reads_earlier_steps(s)} if reading is None else reading
    independent = [s for s in notebooks if s not in reading]
    return sorted(independent, key=lambda s: not runs_long(s)) + [s for s in notebooks if s in reading]


def execute_steps(
    notebooks: list[Path],
    build: Path,
    parameters: dict[str, Any],
    *,
    scratch_dir: Path,
    jobs: int = 1,
    on_step: Callable[[str], None] | None = None,
    pool: KernelPool | None = None,
) -> tuple[list[Path], dict[str, float]]:
    """Execute the step notebooks into ``build/notebooks``, ``jobs`` at a time.

    ``pool``: the run's kernel pool when it started kernels already
    (:meth:`KernelPool.start_early`); otherwise one is made here and closed at the end.

    A step reads the validated tables and records its own results, so steps
    run side by side, each in a warm kernel of the run's :class:`KernelPool`
    (at most ``jobs`` kernels) — except a step that reads what
    the steps before it recorded (:func:`reads_earlier_steps`: pipeline
    quality, the summary), which starts when every step before it has ended, as
    in a run one after the other; a long-running step starts first
    (:func:`submission_order`). The first step that fails stops the others
    (their kernels are interrupted) and is raised; so is a KeyboardInterrupt.
    Returns the executed notebooks in step order and each step's seconds.
    """
    if pool is None:
        with (
            open(build / WORK / "kernel.log", "a", encoding="utf-8") as log,
            KernelPool(scratch_dir, log, build) as own,
        ):
            return execute_steps(
                notebooks, build, parameters, scratch_dir=scratch_dir, jobs=jobs, on_step=on_step, pool=own
            )
    warm, kernels = pool, pool.kernels
    warm.expect(len(notebooks))
    seconds: dict[str, float] = {}

    def one(source: Path) -> Path:
        if on_step:
            on_step(source.stem)
        started = time.perf_counter()
        target = build / "notebooks" / source.name
        run_in(warm, source, target, parameters)
        seconds[source.stem] = time.perf_counter() - started
        return target

    if jobs <= 1:
        return [one(source) for source in notebooks], seconds
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="step") as threads:
        futures: dict[Path, Future] = {}
        reading = {s for s in notebooks if reads_earlier_steps(s)}
        try:
            for source in submission_order(notebooks, reading):
                if source in reading:
                    earlier = notebooks[: notebooks.index(source)]
                    for future in as_completed([futures[s] for s in earlier if s in futures]):
                        future.result()
                futures[source] = threads.submit(one, source)
            for future in as_completed(futures.values()):
                future.result()
        except BaseException:
            for future in futures.values():
                future.cancel()
            kernels.stop()
            raise
    return [futures[s].result() for s in notebooks], {s.stem: seconds[s.stem] for s in notebooks}


def check_jobs(jobs: int | None) -> int:
    """The number of steps to run at once: ``jobs``, or the machine's cores."""
    if jobs is None:
        return max(1, min(os.cpu_count() or 1, 4))
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"--jobs: give a positive whole number, got {jobs!r}.")
    return jobs


def run_company(
    data: str | Path,
    company: str,
    out: str | Path,
    *,
    as_of: str | None = None,
    params: dict[str, Any] | None = None,
    mapping: str | Path | None = None,
    prepared_by: str = "",
    formats: str | tuple[str, ...] | None = None,
    on_step: Callable[[str], None] | None = None,
    force: bool = False,
    jobs: int | None = None,
    previous: str | Path | None = None,
) -> RunResult:
    """Run the whole diagnostic on one company's data and write its report.

    Parameters
    ----------
    data
        The company's folder of tables, or one workbook.
    company
        The company's name as it appears in the report.
    out
        The output folder (created if needed; earlier outputs are replaced whole).
    as_of
        The as-of date ``T`` (ISO); overrides ``params["as_of"]``.
    params
        SPEC §6 parameter overrides.
    mapping
        A mapping file or preset name for the client's column names.
    formats
        The deliverables to write (:func:`~diligence.execution.outputs.parse_formats`;
        default all that can be made). A PDF asked for without a Chromium is
        skipped and said in ``RunResult.notes``.
    on_step
        Called with each step's name before it runs (progress display).
    jobs
        Steps run side by side (default: the machine's cores; 1 runs them one
        after the other). Each runs in its own kernel with its own copy of
        the tables, so memory grows with ``jobs``.
    previous
        An earlier run's output folder (``--previous``): the report, the workbook
        and findings.json (``previous``) say what changed since
        (:mod:`diligence.execution.previous`).
    force
        Write into an ``out`` folder that is not empty and not an earlier report
        (:func:`~diligence.execution.outdir.check_out`); its other files are kept.

    Raises
    ------
    InputError
        Bad arguments or data (exit 2), before anything is written.
    StepError
        A notebook step failed (exit 1); the previous outputs are left intact.
    """
    from diligence.report.deck import write_deck
    from diligence.report.excel import write_workbook
    from diligence.report.html import render_html

    started = time.perf_counter()
    if not str(company).strip():
        raise InputError("--company: give the company's name.")
    wanted = parse_formats(formats)
    out = check_out(out, force=force)
    notes: list[str] = []
    chromium = find_chromium() if "pdf" in wanted else None
    if "pdf" in wanted and chromium is None:
        notes.append(f"report.pdf was skipped: no Chromium was found ({HOW_TO_GET_IT}).")
    timings: dict[str, float] = {}
    jobs = check_jobs(jobs)
    params = dict(params or {})
    if as_of:
        params["as_of"] = parse_date(as_of, "--as-of")
    resolved = Params.resolve(params, source="--params")  # scenario assumptions too, before any notebook
    earlier = load_previous(previous, before=resolved["as_of"]) if previous is not None else None
    intake = load_company(
        data,
        mapping=mapping,
        as_of=resolved["as_of"],
        archive_limits=ArchiveLimits.from_params(resolved["archive_limits"]),
    )
    intake.raise_for_errors()
    problems = parameter_columns(intake.tables, resolved)
    late = as_of_problem(intake.tables, pd.Timestamp(resolved["as_of"]))
    problems += [late] if late else []
    if problems:
        raise InputError(" ".join(problems))
    potential.check(intake.tables, resolved)
    timings["intake"] = time.perf_counter() - started
    notebooks = step_notebooks()
    check_kernel()

    out.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(out)
    scratch.clear_dead()
    build = out.parent / f".{out.name}.build-{uuid.uuid4().hex[:8]}"
    work = build / WORK
    try:
        with scratch.scratch("run") as tmp, ExitStack() as stack:
            work.mkdir(parents=True)
            (build / "notebooks").mkdir()
            log = stack.enter_context(open(work / "kernel.log", "a", encoding="utf-8"))
            pool = stack.enter_context(KernelPool(tmp, log, build))
            pool.start_early(min(jobs, len(notebooks)))  # kernels start and import the kit while the model fits
            preparing = time.perf_counter()
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="save") as saver:
                # the tables the potential leaves as they are are written while the model fits
                kept = saver.submit(
                    store.save_tables, {k: v for k, v in intake.tables.items() if k != "accounts"}, work
                )
                prepared = potential.prepare(intake.tables, resolved, work)
                kept.result()  # before a table the potential changed is written over
                store.save_tables(
                    {k: v for k, v in prepared.items() if k == "accounts" or v is not intake.tables[k]}, work
                )
            data_quality = intake.data_quality()
            store.write_json(data_quality, work / store.DATA_QUALITY_FILE)
            resolved.save(work / store.PARAMS_FILE)  # what every notebook reads
            timings["potential"] = time.perf_counter() - preparing  # the model fitted, the tables written
            period = data_period(intake.tables)
            if earlier is None:  # the steps read the tables written; this process needs them no more
                intake = prepared = None
                release_memory()
            nb_params = {"work_dir": WORK, "company": company}
            executed, step_seconds = execute_steps(
                notebooks, build, nb_params, scratch_dir=tmp, jobs=jobs, on_step=on_step, pool=pool
            )
            pool.close()  # no kernel waits through the rendering
            timings.update(step_seconds)
            rendering_started = time.perf_counter()
            steps = load_results(work)
            findings = build_findings(company, resolved["as_of"], steps, data_quality)
            changes = None
            if earlier is not None:
                comparison = compare(earlier, findings, prepared, resolved)
                record_comparison(work, comparison)
                findings = build_findings(company, resolved["as_of"], steps, data_quality, comparison.block)
                steps = load_results(work)  # the comparison leads the workbook's sheets
                changes = change_section(comparison.tables, comparison.summary, comparison.notes, resolved)
                notes.extend(f"not like for like: {n}" for n in comparison.notes)
            store.write_json(findings, build / "findings.json")
            (build / MARKER).write_text(marker(company, resolved["as_of"], diligence.__version__), encoding="utf-8")
            render_html(
                executed,
                findings,
                build / "report.html",
                prepared_by=prepared_by,
                data_period=period,
                parameters=resolved,
                potential=potential.read(work),
                changes=changes,
                assumptions=next((s.tables[INPUTS_TABLE] for s in steps if INPUTS_TABLE in s.tables), None),
            )
            printing = None
            if chromium is not None:
                # Chromium prints in its own process while this one writes the workbook and the deck
                try:
                    printing = stack.enter_context(start_print(build / "report.html", build / "report.pdf", chromium))
                except PdfError as exc:
                    notes.append(f"report.pdf was skipped: {exc}")
            if "xlsx" in wanted:
                write_workbook(
                    findings,
                    {s.title: s.tables for s in steps if s.tables},
                    build / "report.xlsx",
                    parameters=resolved,
                )
            if "pptx" in wanted:
                write_deck(
                    findings,
                    steps,
                    build / "report.pptx",
                    prepared_by=prepared_by,
                    data_period=period,
                    parameters=resolved,
                )
            if printing is not None:
                try:
                    printing.wait()
                except PdfError as exc:
                    notes.append(f"report.pdf was skipped: {exc}")
            if "html" not in wanted:
                (build / "report.html").unlink()
            publish(build, out, OUTPUTS)
            timings["outputs"] = time.perf_counter() - rendering_started
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return RunResult(out=out, findings=findings, seconds=time.perf_counter() - started, notes=notes, timings=timings)
