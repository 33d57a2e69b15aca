"""The task every batch worker runs: one company, skipped when current, never raising.

:func:`run_company_task` is a module-level function that takes and returns
plain dicts (:func:`make_job` makes its argument), so it pickles to any worker,
local process or Dask. It skips a company whose outputs are current
(:mod:`.fingerprint`), else runs it in a child process (:mod:`.child`) and
records the fingerprint of a successful run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from diligence.execution.batch.atomic import write_json_atomic
from diligence.execution.batch.child import run_in_child
from diligence.execution.batch.fingerprint import FINGERPRINT_FILE, input_fingerprint, is_current, outputs_complete
from diligence.execution.batch.portfolio_file import CompanySpec

#: Seconds one company may take before it is stopped and recorded as failed.
DEFAULT_TIMEOUT = 1800.0


def make_job(
    spec: CompanySpec,
    out_dir: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    force: bool = False,
    formats: Sequence[str] | None = None,
    previous: str | Path | None = None,
) -> dict[str, Any]:
    """The plain-dict task of one company: everything a worker needs, nothing else.

    ``previous`` is the company's folder in an earlier batch's output (``--previous``),
    None when the company has no report there (it is new)."""
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
        "formats": list(formats) if formats is not None else None,
        "previous": str(Path(previous).resolve()) if previous is not None else None,
    }


def task_result(
    job: Mapping[str, Any], status: str, started: float, *, error: str | None = None, exit_code: int = 1
) -> dict[str, Any]:
    """A task's result dict (see :func:`run_company_task`); ``started`` is a
    :func:`time.perf_counter` reading of this process, when the company began."""
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
    try:
        out = Path(job["out"])
        fingerprint = input_fingerprint(job)
        if not job.get("force") and is_current(out, fingerprint):
            return task_result(job, "skipped", started)
        outcome = run_in_child(job, float(job.get("timeout") or DEFAULT_TIMEOUT))
        if outcome["status"] == "ok":
            if not outputs_complete(out, job.get("formats")):
                return task_result(job, "failed", started, error="the run ended without writing all of its outputs")
            write_json_atomic(fingerprint, out / FINGERPRINT_FILE)
            return task_result(job, "ok", started)
        return task_result(
            job, "failed", started, error=outcome.get("error"), exit_code=int(outcome.get("exit_code") or 1)
        )
    except BaseException as exc:
        return task_result(
            job, "failed", started, error=f"the batch could not run this company: {type(exc).__name__}: {exc}"
        )
