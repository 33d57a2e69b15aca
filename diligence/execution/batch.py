"""``diligence batch``: every company of a portfolio, side by side (SPEC §7).

The batch fans the companies out over a :class:`concurrent.futures.Executor` —
local worker processes, or a running Dask cluster through
``distributed.Client(address).get_executor()`` — one code path for both. Each
task is :func:`run_company_task`: a module-level function that takes and returns
plain dicts, so it pickles to any worker, and that never raises.

Inside the task the company runs exactly as ``diligence run`` does
(:func:`diligence.execution.run.run_company`), but in a child process of the worker: the
worker waits for it at most ``timeout`` seconds and kills it (with its kernels)
after that, so a hung kernel cannot hold the batch. A company whose outputs are
complete and whose inputs have not changed since its last successful run (same
fingerprint: data bytes, parameters, mapping, as-of date, company name, kit
code) is skipped unless ``force``.

When every task is back, the roll-up reads each company's ``findings.json``
and writes ``portfolio.json``, ``portfolio.html`` and ``portfolio.xlsx``.
"""
from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import diligence
from diligence.errors import DiligenceError, InputError
from diligence.execution.portfolio import CompanySpec, Portfolio, load_portfolio

#: Outputs that make a company's run complete (SPEC §7).
REQUIRED_OUTPUTS = ("report.html", "report.xlsx", "findings.json")
#: Where a company's input fingerprint is kept, relative to its output folder.
FINGERPRINT_FILE = Path("work") / "batch_fingerprint.json"
ROLLUP_JSON, ROLLUP_HTML, ROLLUP_XLSX = "portfolio.json", "portfolio.html", "portfolio.xlsx"
#: Seconds one company may take before it is stopped and recorded as failed.
DEFAULT_TIMEOUT = 1800.0
#: Seconds to wait for a Dask scheduler to answer.
SCHEDULER_CONNECT_TIMEOUT = "15s"
_CHUNK = 1 << 20
_PACKAGE_ROOT = Path(diligence.__file__).resolve().parents[1]
_CHILD = "from diligence.execution.batch import _child_main; _child_main()"


# --- fingerprints ------------------------------------------------------------------


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks (client exports can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(functools.partial(f.read, _CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def data_digests(data: str | Path) -> dict[str, str]:
    """SHA-256 of every file of a company's data, by path relative to it.

    A folder's files are taken recursively, hidden ones (``.DS_Store``,
    ``.~lock`` files) left out, in sorted order; a workbook is one file (key
    ``""``). A path that does not exist gives ``{}`` (the run will say why).
    """
    path = Path(data)
    if path.is_file():
        return {"": file_digest(path)}
    if not path.is_dir():
        return {}
    files = sorted(
        p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    return {p.relative_to(path).as_posix(): file_digest(p) for p in files}


@functools.lru_cache(maxsize=1)
def kit_fingerprint() -> str:
    """The kit's version and a digest of its code, notebooks and templates.

    A new release, a changed step notebook or template invalidates the outputs
    of earlier batches; bytecode caches and hidden files (editor and Jupyter
    checkpoints) do not.
    """
    h = hashlib.sha256(diligence.__version__.encode())
    roots = [_PACKAGE_ROOT / "diligence", _PACKAGE_ROOT / "notebooks", _PACKAGE_ROOT / "templates"]
    for root in roots:
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).parts
            if p.is_file() and "__pycache__" not in rel and not any(x.startswith(".") for x in rel) and p.suffix != ".pyc":
                h.update(p.relative_to(_PACKAGE_ROOT).as_posix().encode())
                h.update(file_digest(p).encode())
    return f"{diligence.__version__}+{h.hexdigest()[:16]}"


def input_fingerprint(job: Mapping[str, Any]) -> dict[str, Any]:
    """What a company's outputs depend on, as a JSON-ready dict.

    The company's name (it is on the report), as-of date, resolved parameters,
    mapping (a preset name, or the file's path and digest), the digest of every
    data file and the kit's fingerprint. Equal dicts mean the same report.
    """
    mapping = job.get("mapping")
    mapping_file = Path(mapping) if mapping and Path(mapping).is_file() else None
    return {
        "kit": kit_fingerprint(),
        "company": job["company"],
        "as_of": job["as_of"],
        "params": job["params"],
        "mapping": {"file": str(mapping_file), "sha256": file_digest(mapping_file)} if mapping_file else mapping,
        "data": {"path": job["data"], "files": data_digests(job["data"])},
    }


def outputs_complete(out: str | Path) -> bool:
    """True when report.html, report.xlsx and findings.json are all in ``out``."""
    return all((Path(out) / name).is_file() for name in REQUIRED_OUTPUTS)


def is_current(out: str | Path, fingerprint: Mapping[str, Any]) -> bool:
    """True when ``out`` holds complete outputs made from inputs with ``fingerprint``."""
    path = Path(out) / FINGERPRINT_FILE
    if not outputs_complete(out) or not path.is_file():
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(fingerprint))
    except (OSError, ValueError):
        return False


def _write_json_atomic(data: Any, path: Path) -> None:
    """Write JSON through a temporary file and a rename, so a reader never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --- one company ---------------------------------------------------------------------


def make_job(spec: CompanySpec, out_dir: str | Path, *, timeout: float = DEFAULT_TIMEOUT, force: bool = False) -> dict[str, Any]:
    """The plain-dict task of one company: everything a worker needs, nothing else."""
    return {
        "company": spec.name,
        "slug": spec.slug,
        "data": spec.data,
        "out": str(Path(out_dir).resolve() / spec.slug),
        "as_of": spec.as_of,
        "params": spec.params,
        "mapping": spec.mapping,
        "timeout": float(timeout),
        "force": bool(force),
    }


def input_error_text(exc: InputError) -> str:
    """An InputError as one message: its text, then each problem it does not already say."""
    text = str(exc)
    extra = [str(p) for p in exc.problems if str(p) not in text]
    return "\n".join([text, *extra])


def _result(job: Mapping[str, Any], status: str, started: float, *, error: str | None = None, exit_code: int = 1) -> dict[str, Any]:
    out = Path(str(job.get("out", ".")))
    return {
        "company": job.get("company"),
        "slug": job.get("slug"),
        "status": status,
        "error": error,
        "exit_code": 0 if status in ("ok", "skipped") else exit_code,
        "seconds": round(time.perf_counter() - started, 3),
        "findings": str(out / "findings.json") if status in ("ok", "skipped") else None,
    }


def run_company_task(job: Mapping[str, Any]) -> dict[str, Any]:
    """Run one company of a batch; the task every worker executes. Never raises.

    Parameters
    ----------
    job
        A dict from :func:`make_job`: ``company``, ``slug``, ``data``, ``out``,
        ``as_of``, ``params``, ``mapping``, ``timeout``, ``force``.

    Returns
    -------
    dict
        ``company``, ``slug``, ``status`` ("ok", "skipped" or "failed"),
        ``error`` (None unless failed: the InputError's message for bad data, the
        step and cell for a failing notebook, the limit for a timeout),
        ``exit_code`` (what ``diligence run`` would have returned), ``seconds``
        and ``findings`` (the path of findings.json, or None).
    """
    started = time.perf_counter()
    previous = _interruptible()
    try:
        out = Path(job["out"])
        fingerprint = input_fingerprint(job)
        if not job.get("force") and is_current(out, fingerprint):
            return _result(job, "skipped", started)
        outcome = _run_in_child(job, float(job.get("timeout") or DEFAULT_TIMEOUT))
        if outcome["status"] == "ok":
            if not outputs_complete(out):
                return _result(job, "failed", started, error="the run ended without writing all of its outputs")
            _write_json_atomic(fingerprint, out / FINGERPRINT_FILE)
            return _result(job, "ok", started)
        return _result(job, "failed", started, error=outcome.get("error"), exit_code=int(outcome.get("exit_code") or 1))
    except BaseException as exc:  # noqa: BLE001 - a task reports, it never raises
        if isinstance(exc, KeyboardInterrupt):
            return _result(job, "failed", started, error="interrupted; the run was stopped")
        return _result(job, "failed", started, error=f"the batch could not run this company: {type(exc).__name__}: {exc}")
    finally:
        _restore_sigint(previous)


def _interruptible() -> Any:
    """Let Ctrl+C reach this task as KeyboardInterrupt, so it stops its run cleanly.

    Worker processes of a pool ignore SIGINT (they inherit that from the fork
    server). Only possible in a process's main thread (a Dask worker runs tasks
    in threads: there the cluster owns the signals). Returns the handler to restore.
    """
    try:
        return signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread
        return None


def _restore_sigint(previous: Any) -> None:
    if previous is not None:
        try:
            signal.signal(signal.SIGINT, previous)
        except ValueError:
            pass


def _run_in_child(job: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    """Run the company in a child interpreter; stop it (and its kernels) at ``timeout``.

    A subprocess rather than multiprocessing: Dask worker processes are daemonic
    and may not have multiprocessing children, and a subprocess can always be
    killed. Its output goes to a log file; the outcome comes back as JSON.
    """
    tmp = Path(tempfile.mkdtemp(prefix="dk-batch-"))
    result_path, log_path = tmp / "result.json", tmp / "child.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))}
    env.setdefault("MPLBACKEND", "Agg")
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env
            )
            try:
                proc.communicate(json.dumps({**job, "result": str(result_path)}).encode("utf-8"), timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_tree(proc)
                _remove_leftovers(Path(job["out"]))
                return {"status": "failed", "exit_code": 1, "error": f"timed out after {timeout:g} s; the run was stopped"}
            except BaseException:
                _kill_tree(proc)
                _remove_leftovers(Path(job["out"]))
                raise
        if result_path.is_file():
            return json.loads(result_path.read_text(encoding="utf-8"))
        lines = [ln for ln in log_path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        tail = f": {lines[-1].strip()}" if lines else ""
        _remove_leftovers(Path(job["out"]))
        return {"status": "failed", "exit_code": 1, "error": f"the run's process ended with code {proc.returncode}{tail}"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and every process it started (its kernels run in their own sessions)."""
    try:
        import psutil

        children = psutil.Process(proc.pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - no psutil, or the process is gone: kernels exit with their parent
        children = []
    proc.kill()
    for child in children:
        try:
            child.kill()
        except Exception:  # noqa: BLE001 - already gone
            pass
    proc.wait()


def _remove_leftovers(out: Path) -> None:
    """Remove the build and trash folders a killed run could not clean up itself."""
    for pattern in (f".{out.name}.build-*", f".{out.name}.old-*"):
        for path in out.parent.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)


def _child_main() -> None:
    """The child interpreter: read the job on stdin, run the company, write the outcome."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C: run_company removes its build folder
    job = json.loads(sys.stdin.read())
    try:
        from diligence.execution.run import run_company

        run_company(
            job["data"], job["company"], job["out"], as_of=job["as_of"], params=job["params"], mapping=job["mapping"]
        )
        outcome = {"status": "ok", "exit_code": 0, "error": None}
    except InputError as exc:
        outcome = {"status": "failed", "exit_code": exc.exit_code, "error": input_error_text(exc)}
    except DiligenceError as exc:
        outcome = {"status": "failed", "exit_code": exc.exit_code, "error": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - reported as the company's failure
        outcome = {"status": "failed", "exit_code": 1, "error": f"unexpected error: {type(exc).__name__}: {exc}"}
    _write_json_atomic(outcome, Path(job["result"]))


# --- executors -----------------------------------------------------------------------


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None, *, n_tasks: int | None = None) -> Iterator[tuple[Executor, int]]:
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
        except Exception as exc:  # noqa: BLE001 - any failure to connect is the address's fault
            raise InputError(f"--scheduler: cannot reach a Dask scheduler at {scheduler} ({type(exc).__name__}: {exc}).") from None
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
        _stop_workers(executor)
        raise
    executor.shutdown(wait=True)


def _stop_workers(executor: ProcessPoolExecutor, grace: float = 15.0) -> None:
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


# --- the batch -----------------------------------------------------------------------


@dataclass
class BatchResult:
    """What a batch did: the roll-up entries, the task results, where it wrote them."""

    out: Path
    companies: list[dict[str, Any]]
    results: list[dict[str, Any]]
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.companies if c["status"] != "ok"]

    @property
    def exit_code(self) -> int:
        """0 when every company has a report, 1 when any failed (SPEC §7)."""
        return 1 if self.failed else 0


def rollup_entry(job: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    """One company of portfolio.json, from its task result and its findings.json.

    A skipped company counts as ok (its findings are current). An ok company
    whose findings.json cannot be read is failed. Keys, in order: ``company``,
    ``slug``, ``status``, ``error`` (None when ok), ``flags`` (id → status, in the
    findings' order; empty when failed), ``metrics`` (empty when failed).
    """
    entry = {"company": job["company"], "slug": job["slug"], "status": "failed", "error": result.get("error"), "flags": {}, "metrics": {}}
    if result.get("status") not in ("ok", "skipped"):
        entry["error"] = entry["error"] or "failed without a message"
        return entry
    try:
        findings = json.loads((Path(job["out"]) / "findings.json").read_text(encoding="utf-8"))
        flags = {str(f["id"]): f["status"] for f in findings.get("flags") or []}
        metrics = dict(findings.get("metrics") or {})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        entry["error"] = f"findings.json could not be read: {type(exc).__name__}: {exc}"
        return entry
    return {**entry, "status": "ok", "error": None, "flags": flags, "metrics": metrics}


def write_rollup(out: str | Path, entries: Sequence[Mapping[str, Any]], as_of: Mapping[str, str], *, title: str = "Portfolio") -> dict[str, Path]:
    """Write portfolio.json, portfolio.html and portfolio.xlsx into ``out``.

    ``entries`` are :func:`rollup_entry` dicts in portfolio-file order (kept);
    ``as_of`` maps slug → as-of date, shown in the HTML and the workbook. Each
    file is written aside and renamed into place.
    """
    from diligence.report.portfolio import render_portfolio_html, write_portfolio_workbook

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shown = [{**e, "as_of": as_of.get(str(e["slug"]))} for e in entries]
    paths = {"json": out / ROLLUP_JSON, "html": out / ROLLUP_HTML, "xlsx": out / ROLLUP_XLSX}
    _write_json_atomic({"schema_version": 1, "companies": [dict(e) for e in entries]}, paths["json"])
    for key, write in (("html", render_portfolio_html), ("xlsx", write_portfolio_workbook)):
        tmp = paths[key].with_name(f".{paths[key].stem}.tmp-{os.getpid()}{paths[key].suffix}")
        try:
            write(shown, tmp, title=title)
            os.replace(tmp, paths[key])
        finally:
            tmp.unlink(missing_ok=True)
    return paths


def portfolio_title(path: str | Path) -> str:
    """A title from the portfolio file's name: ``q3_portfolio.yaml`` → "Q3 portfolio"."""
    words = " ".join(Path(path).stem.replace("_", " ").replace("-", " ").split())
    return (words[:1].upper() + words[1:]) if words else "Portfolio"


def run_batch(
    portfolio: str | Path | Portfolio,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    on_start: Callable[[list[dict[str, Any]], int], None] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
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
    on_start
        Called once with the jobs and the number of slots, before any runs.
    on_result
        Called with each task's result as it arrives (progress display).

    Returns
    -------
    BatchResult
        ``exit_code`` is 0 when every company has a report, else 1.

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
    loaded = portfolio if isinstance(portfolio, Portfolio) else load_portfolio(portfolio)
    out = Path(out).resolve()
    jobs = [make_job(spec, out, timeout=timeout, force=force) for spec in loaded.companies]
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    with open_executor(workers, scheduler, n_tasks=len(jobs)) as (executor, slots):
        out.mkdir(parents=True, exist_ok=True)
        if on_start:
            on_start(jobs, slots)
        futures: dict[Future, int] = {executor.submit(run_company_task, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except BaseException as exc:  # noqa: BLE001 - a lost worker fails its company, not the batch
                results[i] = _result(jobs[i], "failed", time.perf_counter(), error=f"the worker was lost: {type(exc).__name__}: {exc}")
            if on_result:
                on_result(results[i])
    done = [r or _result(job, "failed", time.perf_counter(), error="no result came back") for job, r in zip(jobs, results)]
    entries = [rollup_entry(job, res) for job, res in zip(jobs, done)]
    as_of = {spec.slug: spec.as_of for spec in loaded.companies}
    paths = write_rollup(out, entries, as_of, title=portfolio_title(loaded.path))
    return BatchResult(out=out, companies=entries, results=done, seconds=time.perf_counter() - started, paths=paths)


# --- progress on the terminal --------------------------------------------------------


class BatchProgress:
    """The command line's view of a batch: a progress bar and one line per company.

    Writes only to the rich ``console`` it is given (stderr for the CLI). Use
    :meth:`start` and :meth:`done` as ``run_batch``'s ``on_start`` and
    ``on_result``, and :meth:`stop` at the end.
    """

    def __init__(self, console: Any) -> None:
        self.console = console
        self.progress: Any = None
        self.task: Any = None
        self.total = self.slots = 0
        self.counts = {"ok": 0, "skipped": 0, "failed": 0}

    def _status(self) -> str:
        finished = sum(self.counts.values())
        running = min(self.slots, self.total - finished)
        return f"ok {self.counts['ok'] + self.counts['skipped']} · failed {self.counts['failed']} · running {running}"

    def start(self, jobs: Sequence[Mapping[str, Any]], slots: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.total, self.slots = len(jobs), slots
        self.progress = Progress(
            TextColumn("companies"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("batch", total=self.total, status=self._status())

    def done(self, result: Mapping[str, Any]) -> None:
        from rich.markup import escape

        status = str(result.get("status"))
        self.counts[status] = self.counts.get(status, 0) + 1
        style = {"ok": "green", "skipped": "cyan", "failed": "bold red"}.get(status, "")
        line = f"[{style}]{status:<8}[/] {escape(str(result.get('company')))} ({float(result.get('seconds') or 0):.1f} s)"
        if result.get("error"):
            line += f": {escape(str(result['error']).splitlines()[0])}"
        self.console.print(line, soft_wrap=True, highlight=False)
        if self.progress is not None:
            self.progress.update(self.task, advance=1, status=self._status())

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
