"""One company's run in a child interpreter, stopped with its kernels at a timeout.

The worker's task (:mod:`.task`) does not run the company in its own process:
it starts ``python -c _CHILD``, hands it the job on stdin, waits for it at most
``timeout`` seconds and kills it and every process it started after that, so a
hung kernel cannot hold the batch. The child runs the company exactly as
``diligence run`` does (:func:`diligence.execution.run.run_company`) and writes
its outcome as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import diligence
from diligence.errors import DiligenceError, InputError
from diligence.execution.batch.atomic import write_json_atomic

#: The folder the kit is imported from, put first on the child's PYTHONPATH so
#: that it runs the same kit as its worker.
_IMPORT_ROOT = Path(diligence.__file__).resolve().parents[1]
#: The child program: reads the job on stdin (tests replace it by a stand-in).
_CHILD = "from diligence.execution.batch.child import child_main; child_main()"


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
    tmp = Path(tempfile.mkdtemp(prefix="dk-batch-"))
    result_path, log_path = tmp / "result.json", tmp / "child.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_IMPORT_ROOT), os.environ.get("PYTHONPATH")]))}
    env.setdefault("MPLBACKEND", "Agg")
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env
            )
            try:
                proc.communicate(json.dumps({**job, "result": str(result_path)}).encode("utf-8"), timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_tree(proc)
                remove_leftovers(Path(job["out"]))
                return {
                    "status": "failed",
                    "exit_code": 1,
                    "error": f"timed out after {timeout:g} s; the run was stopped",
                }
            except BaseException:
                kill_tree(proc)
                remove_leftovers(Path(job["out"]))
                raise
        if result_path.is_file():
            return json.loads(result_path.read_text(encoding="utf-8"))
        lines = [ln for ln in log_path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        tail = f": {lines[-1].strip()}" if lines else ""
        remove_leftovers(Path(job["out"]))
        return {
            "status": "failed",
            "exit_code": 1,
            "error": f"the run's process ended with code {proc.returncode}{tail}",
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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


def remove_leftovers(out: Path) -> None:
    """Remove the build and trash folders a killed run could not clean up itself."""
    for pattern in (f".{out.name}.build-*", f".{out.name}.old-*"):
        for path in out.parent.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)


def child_main() -> None:
    """The child interpreter: read the job on stdin, run the company, write the outcome."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C: run_company removes its build folder
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
        )
        outcome = {"status": "ok", "exit_code": 0, "error": None}
    except InputError as exc:
        outcome = {"status": "failed", "exit_code": exc.exit_code, "error": input_error_text(exc)}
    except DiligenceError as exc:
        outcome = {"status": "failed", "exit_code": exc.exit_code, "error": str(exc)}
    except BaseException as exc:
        outcome = {"status": "failed", "exit_code": 1, "error": f"unexpected error: {type(exc).__name__}: {exc}"}
    write_json_atomic(outcome, Path(job["result"]))
