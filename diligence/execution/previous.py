"""``--previous``: an earlier run of the same company, read and compared with this one.

:func:`load_previous` reads an earlier run's output folder before anything
runs: its ``findings.json`` (schema 1 or 2) and, when present, the validated
tables of its ``work/`` folder, its parameters and its rebalanced plan. A
folder that is missing or broken is an :class:`~diligence.errors.InputError`
naming it (exit 2). :func:`compare` sets it against this run's findings and
tables (:mod:`diligence.metrics.changes`) and :func:`record` writes the result
as the step ``00_changes`` of the run, so the workbook, the report and the
audit trail read it as they read any step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from diligence.contract import TABLES
from diligence.errors import InputError
from diligence.execution import store
from diligence.execution.results import RESULTS_DIR, StepResult, record_step
from diligence.metrics import changes as ch
from diligence.params import parse_date
from diligence.report.changes import CHANGES_TITLE, TABLE_TITLES, change_sentences

#: The findings.json versions an earlier run may have written.
READABLE_SCHEMAS = (1, 2)
#: The step the comparison is recorded as (first, so its sheet leads the workbook).
STEP = "00_changes"
#: The scenario step's table holding the rebalanced plan's moves.
PLAN_STEP, PLAN_TABLE = "13_scenarios", "Accounts that move"


@dataclass
class Previous:
    """An earlier run, as read from its output folder."""

    folder: Path
    findings: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    params: dict[str, Any] | None = None
    plan: pd.DataFrame | None = None

    @property
    def as_of(self) -> str:
        return str(self.findings["as_of"])


@dataclass
class Comparison:
    """This run against an earlier one: the findings' ``previous`` block, tables and notes."""

    block: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    notes: list[str]


def _broken(folder: Path, why: str, option: str = "--previous") -> InputError:
    return InputError(f"{option} {folder}: {why}")


def load_previous(folder: str | Path, *, before: str | None = None, option: str = "--previous") -> Previous:
    """Read an earlier run's output folder.

    Parameters
    ----------
    folder
        The earlier run's ``--out`` folder (``findings.json``, ``work/``).
    before
        This run's as-of date: the earlier run must be as of an earlier date.
    option
        The command-line option that named the folder, for the messages.

    Raises
    ------
    InputError
        The folder is missing, is not a folder, has no readable findings.json of
        schema 1 or 2, is not as of an earlier date, or holds validated tables or a
        plan that cannot be read.
    """
    path = Path(folder)
    if not path.exists():
        raise _broken(path, "no such folder; give the output folder of an earlier run of this company.", option)
    if not path.is_dir():
        raise _broken(path, "is not a folder; give the output folder of an earlier run of this company.", option)
    fpath = path / "findings.json"
    if not fpath.is_file():
        raise _broken(path, "holds no findings.json; give the output folder of an earlier run of this company.", option)
    try:
        findings = json.loads(fpath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _broken(path, f"its findings.json cannot be read ({type(exc).__name__}: {exc}).", option) from None
    if not isinstance(findings, dict):
        raise _broken(path, "its findings.json is not a findings document.", option)
    version = findings.get("schema_version")
    if version not in READABLE_SCHEMAS:
        raise _broken(
            path, f"its findings.json has schema version {version!r}; this kit reads versions 1 and 2.", option
        )
    if not isinstance(findings.get("metrics"), dict) or not isinstance(findings.get("flags"), list):
        raise _broken(path, "its findings.json has no metrics or flags.", option)
    if any(not isinstance(f, dict) or "id" not in f or "status" not in f for f in findings["flags"]):
        raise _broken(path, "its findings.json has flags without an id or a status.", option)
    try:
        as_of = parse_date(findings.get("as_of"), "as_of")
    except InputError:
        raise _broken(
            path, f"its findings.json has no usable as_of date ({findings.get('as_of')!r}).", option
        ) from None
    if before is not None and as_of >= before:
        raise _broken(path, f"the earlier run is as of {as_of}, not before this run's {before}.", option)
    findings["as_of"] = as_of
    work = path / "work"
    try:
        tables = store.load_tables(work) if (work / store.TABLES_DIR).is_dir() else {}
        params = store.read_json(work / store.PARAMS_FILE) if (work / store.PARAMS_FILE).is_file() else None
        plan = _plan(work)
    except Exception as exc:  # a broken parquet file or JSON: say which folder
        raise _broken(path, f"its work folder cannot be read ({type(exc).__name__}: {exc}).", option) from None
    if tables and not {"accounts", "reps"} <= set(tables):
        raise _broken(path, "its work/tables folder lacks the accounts or reps table.", option)
    return Previous(folder=path, findings=findings, tables=tables, params=params, plan=plan)


def _plan(work: Path) -> pd.DataFrame | None:
    """The earlier run's rebalanced plan (account_id, to_rep_id), or None when it recorded none."""
    index = work / RESULTS_DIR / f"{PLAN_STEP}.json"
    if not index.is_file():
        return None
    entry = next((t for t in store.read_json(index).get("tables", []) if t.get("title") == PLAN_TABLE), None)
    if entry is None:
        return None
    moves = pd.read_parquet(work / RESULTS_DIR / PLAN_STEP / entry["file"])
    return moves[["account_id", "to_rep_id"]] if {"account_id", "to_rep_id"} <= set(moves) else None


def _statuses(flags: list[Mapping[str, Any]]) -> dict[str, str]:
    return {str(f["id"]): str(f["status"]) for f in flags}


def compare(
    previous: Previous,
    findings: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    params: Mapping[str, Any],
) -> Comparison:
    """This run (its findings, validated tables and parameters) against ``previous``.

    The ``block`` is findings.json's ``previous``: ``as_of``, ``metrics`` (name →
    ``previous``, ``current``, ``change``) and ``flags`` (id → ``previous``,
    ``current``). Owner, plan and rep changes need the earlier run's tables (and
    its plan); without them they are left out and a note says so.
    """
    since, as_of = pd.Timestamp(previous.as_of), pd.Timestamp(params["as_of"])
    band = (params.get("thresholds") or {}).get("W5") or (3.0, 5.0)
    before, now = previous.findings["metrics"], findings.get("metrics") or {}
    unbounded = (ch.unbounded(before, previous.findings["flags"]), ch.unbounded(now, findings.get("flags") or []))
    metrics = ch.metric_changes(before, now, band, unbounded)
    flags = ch.flag_changes(_statuses(previous.findings["flags"]), _statuses(findings.get("flags") or []))
    block = {
        "as_of": previous.as_of,
        "metrics": {
            r["metric"]: {
                "previous": previous.findings["metrics"].get(r["metric"]),
                "current": (findings.get("metrics") or {}).get(r["metric"]),
                "change": None if pd.isna(r["change"]) else float(r["change"]),
            }
            for r in metrics.to_dict("records")
        },
        "flags": {r["id"]: {"previous": r["previous"], "current": r["current"]} for r in flags.to_dict("records")},
    }
    notes = ch.like_for_like(previous.findings, findings, previous.params, params)
    out = {TABLE_TITLES["metrics"]: metrics, TABLE_TITLES["flags"]: flags}
    summary: dict[str, Any] = {"as_of": previous.as_of}
    if previous.tables:
        before = {name: previous.tables[name] for name in TABLES if name in previous.tables}
        owners = ch.owner_changes(
            before["accounts"], tables["accounts"], tables.get("assignment_history"), since, as_of
        )
        out[TABLE_TITLES["by_reason"]] = ch.owner_changes_by_reason(owners)
        out[TABLE_TITLES["owners"]] = owners
        summary["owner_changes"] = int((owners["change"] == ch.OWNER_CHANGED).sum())
        summary["new_accounts"] = int((owners["change"] == ch.NEW_ACCOUNT).sum())
        summary["removed_accounts"] = int((owners["change"] == ch.REMOVED).sum())
        if previous.plan is not None:
            progress = ch.plan_progress(previous.plan, before["accounts"], tables["accounts"])
            out[TABLE_TITLES["plan"]] = progress
            summary["plan"] = ch.plan_summary(progress)
        else:
            notes.append("The earlier run recorded no rebalanced plan: whether its moves were made is not shown.")
        reps = ch.rep_changes(before["reps"], tables["reps"], since, as_of)
        out[TABLE_TITLES["reps"]] = reps
        out[TABLE_TITLES["hires"]] = ch.new_hire_attainment(tables, since, as_of)
        summary["reps_joined"] = int((reps["change"] == ch.JOINED).sum())
        summary["reps_left"] = int((reps["change"] == ch.LEFT).sum())
    else:
        notes.append(
            "The earlier run's validated tables are not in its folder (work/tables): changes of owners "
            "and reps are not shown."
        )
    return Comparison(block=block, tables=out, summary=summary, notes=notes)


def record(work: str | Path, comparison: Comparison) -> None:
    """Record the comparison as the step :data:`STEP` of the run's work folder."""
    record_step(
        work,
        StepResult(
            step=STEP,
            title=CHANGES_TITLE,
            findings=change_sentences(comparison.tables, comparison.summary),
            tables=comparison.tables,
            extra={"changes": {"summary": comparison.summary, "notes": comparison.notes}},
        ),
    )
