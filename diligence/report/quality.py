"""The data-quality step: what was received and what intake found wrong with it.

Reads the intake's data-quality summary (``data_quality.json`` in the run's work
folder, the same dict that findings.json carries) and turns it into the tables
and sentences of the first report section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from diligence.contract import TABLES
from diligence.report.display import fmt_int


def tables_received(dq: dict[str, Any], tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per contract table: the file it came from, rows read, kept and set aside."""
    files = {f.get("table"): f for f in dq.get("files", [])}
    rows = []
    for name, spec in TABLES.items():
        f = files.get(name, {})
        kept = len(tables[name]) if name in tables else None
        rows.append(
            {
                "table": name,
                "required": "yes" if spec.required else "no",
                "file": f.get("file") or ("" if name in tables else "not provided"),
                "rows_read": f.get("rows_read", kept),
                "rows_kept": kept,
                "rows_set_aside": f.get("rows_set_aside", 0 if name in tables else None),
            }
        )
    return pd.DataFrame(rows)


def issues_table(dq: dict[str, Any]) -> pd.DataFrame:
    """Every warning (and error) intake found, one row each, errors first."""
    cols = ["level", "table", "column", "count", "example_rows", "message", "action"]
    rows = [
        {
            "level": i.get("level"),
            "table": i.get("table"),
            "column": i.get("column") or "",
            "count": i.get("count"),
            "example_rows": ", ".join(map(str, i.get("rows") or [])),
            "message": i.get("message"),
            "action": i.get("action") or "",
        }
        for i in dq.get("issues", [])
    ]
    return pd.DataFrame(rows, columns=cols)


def kpis(dq: dict[str, Any], tables: dict[str, pd.DataFrame]) -> list[tuple[str, str]]:
    issues = dq.get("issues", [])
    set_aside = sum(int(f.get("rows_set_aside") or 0) for f in dq.get("files", []))
    return [
        ("Tables received", f"{len(tables)} of {len(TABLES)}"),
        ("Accounts", fmt_int(len(tables["accounts"])) if "accounts" in tables else "—"),
        ("Reps", fmt_int(len(tables["reps"])) if "reps" in tables else "—"),
        ("Warnings", fmt_int(sum(1 for i in issues if i.get("level") == "warning"))),
        ("Rows set aside", fmt_int(set_aside)),
    ]


def findings(dq: dict[str, Any], tables: dict[str, pd.DataFrame]) -> list[str]:
    """Sentences on what was received and how clean it is."""
    missing = [n for n in TABLES if n not in tables]
    warnings = [i for i in dq.get("issues", []) if i.get("level") == "warning"]
    out = [f"{len(tables)} of the {len(TABLES)} tables of the data contract were received."]
    if missing:
        out.append(f"Not provided: {', '.join(missing)}; the diagnostics that need them are marked not assessed.")
    if warnings:
        affected = sum(int(i.get("count") or 0) for i in warnings)
        out.append(
            f"Intake raised {len(warnings)} warning(s) covering {fmt_int(affected)} values or rows; none stopped the run."
        )
    else:
        out.append("Intake found no data-quality warning.")
    return out


def data_period(tables: dict[str, pd.DataFrame]) -> str | None:
    """The span of selling activity received (opportunities created, activities
    logged), as ``"YYYY-MM-DD to YYYY-MM-DD"``; ``None`` when neither is there.

    Owner-change history is left out: it usually reaches back to each
    account's creation, years before the period the diagnostic looks at.
    """
    dated = {"opportunities": "created_date", "activities": "activity_date"}
    dates = (
        pd.concat(
            [tables[t][c] for t, c in dated.items() if t in tables and c in tables[t]],
            ignore_index=True,
        )
        if any(t in tables for t in dated)
        else pd.Series(dtype="datetime64[ns]")
    )
    dates = dates.dropna()
    if dates.empty:
        return None
    return f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}"


def _counted(n: Any, word: str) -> str:
    """``3 warnings``, ``1 warning``."""
    n = int(n or 0)
    return f"{fmt_int(n)} {word}{'' if n == 1 else 's'}"


def data_quality_line(dq: Mapping[str, Any] | None) -> str:
    """One sentence about the input: files read, rows set aside, warnings and errors."""
    if not dq:
        return ""
    files = dq.get("files") or []
    parts = []
    if files:
        read = sum(int(f.get("rows_read") or 0) for f in files)
        aside = sum(int(f.get("rows_set_aside") or 0) for f in files)
        parts.append(
            f"{_counted(len(files), 'file')} read ({_counted(read, 'row')}), {_counted(aside, 'row')} set aside"
        )
    parts += [_counted(dq[f"{key}_count"], key) for key in ("warning", "error") if dq.get(f"{key}_count") is not None]
    return "; ".join(parts) + "." if parts else ""
