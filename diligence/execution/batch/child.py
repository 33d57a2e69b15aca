"""One company's run in a child interpreter, stopped with its kernels at a timeout.

The worker's task (:mod:`.task`) does not run the company in its own process:
it starts ``python -c _CHILD``, hands it the job on stdin, waits for it at most
``timeout`` seconds and kills it and every process it started after that, so a
hung kernel cannot hold the batch. The child runs the company exactly as
``diligence run`` does (:func:`diligence.execution.run.run_company`) and writes
its outcome as JSON.

The child runs in its own session (a Ctrl+C at the terminal reaches the batch
alone, which stops its children once and cleanly: :data:`CHILDREN`) and dies
with the thread that waits for it, so a batch killed outright takes its runs
with it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import diligence
from diligence.errors import DiligenceError, InputError
from diligence.execution import scratch
from diligence.execution.batch.atomic import write_json_atomic
from diligence.execution.outdir import clear_leftovers
from diligence.processes import die_with_parent

#: The folder the kit is imported from, put first on the child's PYTHONPATH so
#: that it runs the same kit as its worker.
_IMPORT_ROOT = Path(diligence.__file__).resolve().parents[1]
#: The child program: reads the job on stdin (tests replace it by a stand-in).
_CHILD = "from diligence.execution.batch.child import child_main; child_main()"


#: What an interrupted company's error says.
INTERRUPTED = "interrupted; the run was stopped"


class Children:
    """The company runs this process is waiting for, so that an interrupted
    batch can stop them: no new one starts, each running one gets one SIGINT
    (it removes its build folder and shuts its kernels down) and is killed
    if it has not ended within the grace period."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen] = set()
        self.stopping = threading.Event()

    def reset(self) -> None:
        self.stopping.clear()

    def add(self, proc: subprocess.Popen) -> bool:
        """Register a started run; False (and nothing registered) when the batch is stopping."""
        with self._lock:
            if self.stopping.is_set():
                return False
            self._live.add(proc)
            return True

    def discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live.discard(proc)

    def stop(self, grace: float = 15.0) -> None:
        """Interrupt every running company, then kill what is left after ``grace``
        seconds (at once when interrupted again)."""
        with self._lock:
            self.stopping.set()
            live = list(self._live)
        for proc in live:
            try:
                proc.send_signal(signal.SIGINT)
            except OSError:
                pass
        deadline = time.monotonic() + grace
        try:
            for proc in live:
                try:
                    proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    kill_tree(proc)
        except KeyboardInterrupt:  # asked again: no more waiting
            for proc in live:
                kill_tree(proc)


#: The runs of this process's batch.
CHILDREN = Children()


def input_error_text(exc: InputError) -> str:
    """An InputError as one message: its text, then each problem it does not already say."""
    text = str(exc)
    extra = [str(p) for p in exc.problems if str(p) not in text]
    return "\n".join([text, *extra])


def run_in_child(job: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    """Run the company in a child interpreter; stop it (and its kernels) at ``timeout``.

    A subprocess rather than multiprocessing: Dask worker processes are daemonic
    and may not have multiprocessing children, and a subprocess can always be
    killed. Its output goes to a log file; the outcome comes back as JSON:
    ``status`` ("ok" or "failed"), ``exit_code`` and ``error``.
    """
    interrupted = {"status": "failed", "exit_code": 130, "error": INTERRUPTED}
    if CHILDREN.stopping.is_set():
        return interrupted
    with scratch.scratch("batch", redirect=False) as tmp:
        result_path, log_path = tmp / "result.json", tmp / "child.log"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(_IMPORT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        env.setdefault("MPLBACKEND", "Agg")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
            if not CHILDREN.add(proc):
                kill_tree(proc)
                return interrupted
            try:
                proc.communicate(json.dumps({**job, "result": str(result_path)}).encode("utf-8"), timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_tree(proc)
                clear_leftovers(Path(job["out"]))
                return {
                    "status": "failed",
                    "exit_code": 1,
                    "error": f"timed out after {timeout:g} s; the run was stopped",
                }
            except BaseException:
                kill_tree(proc)
                clear_leftovers(Path(job["out"]))
                raise
            finally:
                CHILDREN.discard(proc)
                scratch.clear_dead()  # the temp folder of a run that was killed (timeout, stop, SIGKILL)
        if result_path.is_file():
            return json.loads(result_path.read_text(encoding="utf-8"))
        clear_leftovers(Path(job["out"]))
        if CHILDREN.stopping.is_set():
            return interrupted
        lines = [ln for ln in log_path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        tail = f": {lines[-1].strip()}" if lines else ""
        code = proc.returncode
        how = f"was killed (signal {-code})" if code < 0 else f"ended with code {code}"
        return {"status": "failed", "exit_code": 1, "error": f"the run's process {how}{tail}"}


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and every process it started (its kernels run in their own sessions)."""
    try:
        import psutil

        children = psutil.Process(proc.pid).children(recursive=True)
    except Exception:
        children = []
    proc.kill()
    for child in children:
        try:
            child.kill()
        except Exception:
            pass
    proc.wait()


def _interrupt_once(signum: int, frame: Any) -> None:
    """Raise KeyboardInterrupt on the first SIGINT, ignore the next: a second one
    must not cut the clean-up short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def child_main() -> None:
    """The child interpreter: read the job on stdin, run the company, write the outcome."""
    signal.signal(signal.SIGINT, _interrupt_once)  # the batch's stop: run_company removes its build folder
    job = json.loads(sys.stdin.read())
    try:
        from diligence.execution.run import run_company

        run_company(
            job["data"],
            job["company"],
            job["out"],
            as_of=job["as_of"],
            params=job["params"],
            mapping=job["mapping"],
            formats=job.get("formats"),
            jobs=int(job.get("jobs") or 1),
            previous=job.get("previous"),
        )
        outcome = {"status": "ok", "exit_code": 0, "error": None}
    except InputError as exc:
        outcome = {"status": "failed", "exit_code": exc.exit_code, "error": input_error_text(exc)}
    except DiligenceError as exc:
        outcome = {"status": "failed", "exit_code": exc.exit_code, "error": str(exc)}
    except KeyboardInterrupt:
        outcome = {"status": "failed", "exit_code": 130, "error": INTERRUPTED}
    except BaseException as exc:
        outcome = {"status": "failed", "exit_code": 1, "error": f"unexpected error: {type(exc).__name__}: {exc}"}
    write_json_atomic(outcome, Path(job["result"]))
