"""What changed since the earlier run, in words: the report's section and the step's sentences.

The comparison itself is computed by :mod:`diligence.metrics.changes` (through
:mod:`diligence.execution.previous`); this module only says it: how a change
reads ("−8.2 pts", "+0.4×"), the sentences, and the plain-text rows of the
report's "What changed" section (the template escapes every value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from diligence.contract import METRIC_NAMES
from diligence.registry import BY_ID
from diligence.report.definitions import metric_label
from diligence.report.formats import fmt_date, fmt_int, fmt_money, fmt_pct, humanize, is_missing
from diligence.report.portfolio import format_metric, metric_kind

CHANGES_TITLE = "What changed"
#: The comparison's tables, by role → title (the workbook's table titles).
TABLE_TITLES: dict[str, str] = {
    "metrics": "Metrics then and now",
    "flags": "Flags then and now",
    "by_reason": "Owner changes by reason",
    "owners": "Accounts whose owner changed",
    "plan": "Moves of the earlier plan",
    "reps": "Reps who joined or left",
    "hires": "Reps hired since: attainment so far",
}
#: Direction → the tone of its pill.
DIRECTION_TONES = {"better": "green", "worse": "red"}  # unchanged, changed (a neutral metric), not compared: grey
_MINUS = "\u2212"


def fmt_change(name: str, change: Any, value: Any = None) -> str:
    """A metric's change as it reads, signed: "+2.1 pts" for a share, "−0.4×", "+12", "—"."""
    if is_missing(change):
        return "—"
    x = float(change)
    kind = metric_kind(name, value if value is not None else x)
    if kind == "pct":
        text = f"{abs(x) * 100:.1f} pts"
    elif kind == "ratio":
        text = f"{abs(x):,.1f}×"
    elif kind == "int":
        text = f"{round(abs(x)):,}"
    elif kind == "months":
        text = f"{abs(x):,.1f} months"
    elif kind == "money":
        text = fmt_money(abs(x))
    else:
        text = f"{abs(x):,.2f}"
    if not any(ch in "123456789" for ch in text):  # rounds to nothing
        return f"±{text}"
    return ("+" if x > 0 else _MINUS) + text


def _n(n: Any, one: str, many: str) -> str:
    """A counted phrase inside a sentence: "0 accounts", "1 account", "1,204 accounts"."""
    n = int(n)
    return f"{n:,} {one if n == 1 else many}"


def _flag_name(fid: str) -> str:
    entry = BY_ID.get(fid)
    return f"{fid} {humanize(entry.name)}" if entry else fid


def _ids(flags: pd.DataFrame, change: str) -> list[str]:
    return [str(i) for i in flags.loc[flags["change"] == change, "id"]]


def change_sentences(tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any]) -> list[str]:
    """The comparison in a few sentences with their numbers, for the report and the step record."""
    out = []
    metrics = tables[TABLE_TITLES["metrics"]]
    spec = metrics.loc[metrics["metric"].isin(METRIC_NAMES)]
    better, worse = int((spec["direction"] == "better").sum()), int((spec["direction"] == "worse").sum())
    out.append(
        f"Since the run as of {summary['as_of']}, {_n(better, 'metric', 'metrics')} moved the right way "
        f"and {worse} the wrong way."
    )
    flags = tables[TABLE_TITLES["flags"]]
    raised, cleared = _ids(flags, "newly raised"), _ids(flags, "newly cleared")
    if raised or cleared:
        parts = []
        if raised:
            parts.append(f"newly raised: {', '.join(map(_flag_name, raised))}")
        if cleared:
            parts.append(f"newly cleared: {', '.join(map(_flag_name, cleared))}")
        out.append("Flags " + "; ".join(parts) + ".")
    else:
        out.append("No flag was raised or cleared since.")
    if "owner_changes" in summary:
        reasons = tables[TABLE_TITLES["by_reason"]]
        moved = reasons.loc[reasons["change"] == "owner changed"]
        why = ", ".join(f"{fmt_int(r['accounts'])} {r['reason']}" for r in moved.to_dict("records"))
        out.append(
            f"{_n(summary['owner_changes'], 'account', 'accounts')} changed owner"
            + (f" ({why})" if why else "")
            + f"; {_n(summary['new_accounts'], 'account is', 'accounts are')} new and "
            f"{fmt_int(summary['removed_accounts'])} no longer in the CRM."
        )
    plan = summary.get("plan")
    if plan:
        if plan["planned_moves"]:
            out.append(
                f"{fmt_int(plan['moves_made'])} of the {_n(plan['planned_moves'], 'move', 'moves')} of the "
                f"earlier rebalanced plan were made ({fmt_pct(plan['plan_carried_out_pct'])}); "
                f"{fmt_int(plan['moves_elsewhere'])} went to another owner and {fmt_int(plan['moves_not_made'])} "
                "were not made."
            )
        else:
            out.append("The earlier rebalanced plan moved no account.")
    if "reps_joined" in summary:
        hires = tables[TABLE_TITLES["hires"]]
        att = hires["attainment_to_date"].dropna()
        tail = (
            f"; the {_n(len(att), 'quota-carrying rep', 'quota-carrying reps')} hired since have booked "
            f"{fmt_pct(att.median())} of their quota to date (median)"
            if len(att)
            else ""
        )
        out.append(
            f"{_n(summary['reps_joined'], 'rep', 'reps')} joined and {fmt_int(summary['reps_left'])} left{tail}."
        )
    return out


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else frame.to_dict("records")


def change_section(
    tables: Mapping[str, pd.DataFrame],
    summary: Mapping[str, Any],
    notes: Sequence[str],
    parameters: Mapping[str, Any] | None = None,
    sentences: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The report's "What changed" section as plain text: sentences, notes on what is
    not like for like, the SPEC metrics then and now, the flags raised and cleared,
    owner changes by reason, the earlier plan's progress, reps who joined or left
    and the attainment so far of those hired since."""
    metrics = tables[TABLE_TITLES["metrics"]]
    rows = []
    for r in _records(metrics.loc[metrics["metric"].isin(METRIC_NAMES)]):
        name = r["metric"]
        rows.append(
            {
                "label": metric_label(name, parameters),
                "previous": format_metric(name, None if pd.isna(r["previous"]) else r["previous"]),
                "current": format_metric(name, None if pd.isna(r["current"]) else r["current"]),
                "change": fmt_change(name, r["change"], None if pd.isna(r["current"]) else r["current"]),
                "direction": r["direction"],
                "tone": DIRECTION_TONES.get(r["direction"], "grey"),
            }
        )
    flags = tables[TABLE_TITLES["flags"]]
    plan = summary.get("plan")
    return {
        "as_of": str(summary.get("as_of") or ""),
        "sentences": list(sentences if sentences is not None else change_sentences(tables, summary)),
        "notes": [str(n) for n in notes],
        "metrics": rows,
        "raised": [_flag_name(i) for i in _ids(flags, "newly raised")],
        "cleared": [_flag_name(i) for i in _ids(flags, "newly cleared")],
        "by_reason": [
            {"change": str(r["change"]), "reason": str(r["reason"]), "accounts": fmt_int(r["accounts"])}
            for r in _records(tables.get(TABLE_TITLES["by_reason"]))
        ],
        "plan": None
        if not plan
        else {
            "planned": fmt_int(plan["planned_moves"]),
            "made": fmt_int(plan["moves_made"]),
            "elsewhere": fmt_int(plan["moves_elsewhere"]),
            "not_made": fmt_int(plan["moves_not_made"]),
            "gone": fmt_int(plan["moves_account_gone"]),
            "share": fmt_pct(plan["plan_carried_out_pct"]),
        },
        "reps": [
            {
                "name": str(r["rep_name"]) if not is_missing(r["rep_name"]) else str(r["rep_id"]),
                "change": str(r["change"]),
                "role": "" if is_missing(r["role"]) else str(r["role"]),
                "segment": "" if is_missing(r["segment"]) else str(r["segment"]),
                "date": fmt_date(r["hire_date"] if r["change"] == "joined" else r["end_date"]),
            }
            for r in _records(tables.get(TABLE_TITLES["reps"]))
        ],
        "hires": [
            {
                "name": str(r["rep_name"]),
                "segment": "" if is_missing(r["segment"]) else str(r["segment"]),
                "hired": fmt_date(r["hire_date"]),
                "bookings": fmt_money(r["bookings"]),
                "attainment": fmt_pct(r["attainment_to_date"]),
            }
            for r in _records(tables.get(TABLE_TITLES["hires"]))
        ],
    }
