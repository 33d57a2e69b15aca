"""Red flags and warnings (SPEC §5): each metric judged against its threshold.

A flag is ``triggered``, ``clear`` or ``not_assessed``. It is never cleared for
lack of data: when the metric it judges is missing, the flag is not assessed
and its detail names the table or column that was missing (or, when every input
was there, why the data still did not allow the metric).

Comparisons are strict: a value equal to its threshold is clear. A value within
floating-point rounding of the threshold (relative 1e-9) counts as equal, so a
ratio that is exactly 2 on paper is never flagged for a last-bit error.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from diligence.params import FLAG_THRESHOLDS

#: Flag ids and names, in SPEC §5 order.
FLAGS: list[tuple[str, str]] = [
    ("RF1", "unassigned_accounts"),
    ("RF2", "attainment_disparity"),
    ("RF3", "stale_rebalancing"),
    ("RF4", "territory_perception_gap"),
    ("RF5", "channel_conflict_without_rules"),
    ("RF6", "headcount_driven_design"),
    ("W1", "coverage_gap"),
    ("W2", "attainment_variance"),
    ("W3", "opportunity_imbalance"),
    ("W4", "white_space"),
    ("W5", "pipeline_coverage_off_band"),
    ("W6", "seniority_mismatch"),
    ("W7", "rep_overlap"),
    ("W8", "merger_overlap"),
]

TRIGGERED, CLEAR, NOT_ASSESSED = "triggered", "clear", "not_assessed"

_ATTAINMENT_NEEDS = (
    "reps.quota",
    "opportunities",
    "opportunities.owner_rep_id",
    "opportunities.close_date",
    "opportunities.is_won",
)

#: Why a column may be needed, when its name alone does not say.
_COLUMN_HINTS = {
    "opportunities.is_won": "opportunities.is_won (or a stage column to derive it from)",
    "opportunities.is_closed": "opportunities.is_closed (or a stage column to derive it from)",
}


# --- Formatting -----------------------------------------------------------

def _num(x: float) -> str:
    """A threshold without needless decimals: 2.0 -> "2", 0.125 -> "0.125"."""
    return f"{x:g}"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _pct_t(x: float) -> str:
    return f"{x * 100:.10g}%"


def _ratio(x: float) -> str:
    return f"{x:,.1f}×"


def _count(n: float, one: str, many: str) -> str:
    """A counted phrase: ``1 account had``, ``3 accounts had``, ``No accounts had``."""
    n = int(n)
    if n == 0:
        return f"No {many}"
    return f"{n:,} {one if n == 1 else many}"


def _above(value: float, threshold: float) -> bool:
    """``value > threshold``, with values within rounding of it counted as equal."""
    return value > threshold and not math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)


def _clean(value: Any) -> float | int | None:
    """A metric as a plain Python number; NaN, missing and non-numbers become None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


# --- What is missing ------------------------------------------------------

def _has(tables: dict[str, pd.DataFrame], need: str) -> bool:
    table, _, column = need.partition(".")
    frame = tables.get(table)
    return frame is not None and (not column or column in frame)


def missing_input(tables: dict[str, pd.DataFrame], needs: Sequence[str]) -> str | None:
    """The first input of ``needs`` that ``tables`` lacks, as a reason, or None.

    Each need is a table (``"assignment_history"``), a column
    (``"reps.level"``) or alternatives joined by ``|`` (any one suffices).
    A column of a missing table reports the table.
    """
    for need in needs:
        options = need.split("|")
        if any(_has(tables, o) for o in options):
            continue
        tables_missing = [o.partition(".")[0] for o in options if o.partition(".")[0] not in tables]
        if len(tables_missing) == len(options):
            names = " or ".join(dict.fromkeys(tables_missing))
            return f"needs the {names} table, which was not provided."
        return f"needs {' or '.join(_COLUMN_HINTS.get(o, o) for o in options)}."
    return None


# --- The rules ------------------------------------------------------------

@dataclass(frozen=True)
class _Verdict:
    status: str
    value: float | int | None
    detail: str


def _not_assessed(tables: dict, needs: Sequence[str], otherwise: str) -> _Verdict:
    return _Verdict(NOT_ASSESSED, None, missing_input(tables, needs) or otherwise)


def _judge_above(
    value: Any,
    t: float,
    sentence: Callable[[Any], str],
    threshold_text: str,
    tables: dict,
    needs: Sequence[str],
    otherwise: str,
) -> _Verdict:
    """The common rule: triggered when ``value > t``; not assessed when None."""
    value = _clean(value)
    if value is None:
        return _not_assessed(tables, needs, otherwise)
    hit = _above(value, t)
    if hit:
        relation = f"above the {threshold_text} threshold"
    else:
        relation = f"at or below the {threshold_text} threshold"
    return _Verdict(TRIGGERED if hit else CLEAR, value, f"{sentence(value)}, {relation}.")


def _judge_count(value: Any, t: float, what: tuple[str, str], tables: dict, needs: Sequence[str], otherwise: str) -> _Verdict:
    """Counts: "3 accounts have X, above the threshold of 0." / "No accounts have X."."""
    value = _clean(value)
    if value is None:
        return _not_assessed(tables, needs, otherwise)
    one, many = what
    text = _count(value, one, many)
    hit = _above(value, t)
    if value == 0 and not hit:
        return _Verdict(CLEAR, value, f"{text}.")
    relation = "above" if hit else "at or below"
    return _Verdict(TRIGGERED if hit else CLEAR, value, f"{text}, {relation} the threshold of {_num(t)}.")


def _groups_phrase(params: dict) -> str:
    dims = params.get("comparable_by") or []
    return f" (same {' and '.join(dims)})" if dims else ""


def _rf1(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    return _judge_above(
        m.get("unassigned_pct"), t,
        lambda v: f"{_pct(v)} of accounts have no active rep or partner",
        _pct_t(t), tables, ["accounts.owner_rep_id"], "the accounts table has no rows.",
    )


def _rf2(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    ratio = _clean(m.get("attainment_max_min_ratio"))
    zero = _clean(m.get("attainment_zero_min_groups")) or 0
    if zero > 0 and (ratio is None or not _above(ratio, t)):
        groups = "comparable group has" if zero == 1 else "comparable groups have"
        return _Verdict(
            TRIGGERED, ratio,
            f"{zero:,} {groups} a rep at 0% attainment while a peer booked business, so max/min "
            f"attainment is unbounded, above the {_ratio(t)} threshold.",
        )
    return _judge_above(
        ratio, t,
        lambda v: f"In the worst comparable group the highest attainment is {_ratio(v)} the lowest",
        _ratio(t), tables, _ATTAINMENT_NEEDS,
        f"no comparable group{_groups_phrase(params)} has two or more quota-carrying reps employed for the "
        "whole year with attainment above zero.",
    )


def _rf3(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    if "assignment_history" not in tables:
        return _not_assessed(tables, ["assignment_history"], "")
    from diligence.metrics.governance import rebalance_basis  # the basis only words the finding

    value = _clean(m.get("months_since_rebalance"))
    if value is None:
        basis = rebalance_basis(tables)
        return _Verdict(
            TRIGGERED, None,
            f"No rebalance event is recorded in assignment_history on or before the as-of date ({basis}), "
            f"which counts as more than the {_num(t)}-month threshold.",
        )
    hit = _above(value, t)
    relation = "more than" if hit else "within"
    return _Verdict(
        TRIGGERED if hit else CLEAR, value,
        f"The last rebalance event was {value:.1f} months before the as-of date, {relation} the {_num(t)}-month threshold.",
    )


def _rf4(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    return _judge_above(
        m.get("survey_mismatch_pct"), t,
        lambda v: f"{_pct(v)} of surveyed active reps describe their territory differently from what they own in the CRM",
        _pct_t(t), tables, ["rep_survey", "accounts.owner_rep_id"],
        "no surveyed rep is active at the as-of date with an answer that can be compared with the CRM.",
    )


def _rf5(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    value = _clean(m.get("channel_conflict_accounts"))
    if value is None:
        return _not_assessed(
            tables, ["opportunities", "opportunities.channel"],
            "the opportunities do not allow channel conflicts to be measured.",
        )
    what = (
        _count(value, "account had", "accounts had")
        + " direct and partner deals open at the same time in the 365 days before the as-of date"
    )
    hit = _above(value, t)
    if params.get("rules_of_engagement_documented"):
        return _Verdict(CLEAR, value, f"{what}; rules of engagement between the channels are documented.")
    if not hit:
        tail = "" if value == 0 else f", at or below the threshold of {_num(t)}"
        return _Verdict(CLEAR, value, f"{what}{tail}.")
    return _Verdict(
        TRIGGERED, value,
        f"{what}, above the threshold of {_num(t)}, and no rules of engagement are documented.",
    )


def _rf6(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    return _judge_above(
        m.get("headcount_shortfall_pct"), t,
        lambda v: (
            f"The most short-staffed segment has {_pct(v)} fewer quota-carrying reps than its capacity need"
            if v > 0 else "No segment has fewer quota-carrying reps than its capacity need (0.0% shortfall)"
        ),
        _pct_t(t), tables, ["accounts.segment", "reps.segment", "reps.quota"],
        "no segment has a capacity need.",
    )


def _w1(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    days = params.get("active_window_days", 90)
    return _judge_above(
        m.get("assigned_not_worked_pct"), t,
        lambda v: f"{_pct(v)} of rep-assigned accounts had no logged activity in the {days} days before the as-of date",
        _pct_t(t), tables, ["activities", "accounts.owner_rep_id"], "no account is rep-assigned.",
    )


def _w2(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    return _judge_above(
        m.get("attainment_cv_max"), t,
        lambda v: f"The largest coefficient of variation of attainment within a comparable group is {v:.2f}",
        f"{t:.2f}", tables, _ATTAINMENT_NEEDS,
        f"no comparable group{_groups_phrase(params)} has two or more quota-carrying reps employed for the "
        "whole year with bookings.",
    )


def _w3(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    ratio = _clean(m.get("potential_max_min_ratio"))
    zero = max(_clean(m.get("potential_zero_books")) or 0, _clean(m.get("potential_zero_min_groups")) or 0)
    if zero > 0 and (ratio is None or not _above(ratio, t)):
        books = "rep has" if zero == 1 else "reps have"
        return _Verdict(
            TRIGGERED, ratio,
            f"{zero:,} {books} a book with no potential while comparable peers hold some, so max/min book "
            f"potential is unbounded, above the {_ratio(t)} threshold.",
        )
    return _judge_above(
        ratio, t,
        lambda v: f"In the worst comparable group the largest book holds {_ratio(v)} the potential of the smallest",
        _ratio(t), tables, ["reps.quota", "accounts.owner_rep_id"],
        f"no comparable group{_groups_phrase(params)} has two or more active quota-carrying reps.",
    )


def _w4(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    dims = params.get("white_space_dimensions") or ["segment", "region"]
    grid = " × ".join(dims)
    n = params.get("white_space_min_accounts", 5)
    return _judge_count(
        m.get("white_space_cells"), t,
        (
            f"{grid} cell holds {n} or more accounts with none covered by a rep or partner",
            f"{grid} cells hold {n} or more accounts with none covered by a rep or partner",
        ),
        tables, ["accounts.owner_rep_id", "|".join(f"accounts.{d}" for d in dims)],
        "the white-space grid could not be built.",
    )


def _w5(m: dict, params: dict, tables: dict, band: Sequence[float]) -> _Verdict:
    value = _clean(m.get("pipeline_coverage_median"))
    if value is None:
        return _not_assessed(
            tables, ["opportunities", "opportunities.owner_rep_id", "opportunities.close_date", "reps.quota"],
            "no active quota-carrying rep to measure pipeline coverage for.",
        )
    lo, hi = float(band[0]), float(band[1])
    band_text = f"{_ratio(lo)}–{_ratio(hi)} band"
    if _above(lo, value):
        status, relation = TRIGGERED, f"below the {band_text}"
    elif _above(value, hi):
        status, relation = TRIGGERED, f"above the {band_text}"
    else:
        status, relation = CLEAR, f"inside the {band_text}"
    return _Verdict(
        status, value,
        f"The median pipeline coverage of active quota-carrying reps (open pipeline closing in the next 90 days "
        f"over a quarter's quota) is {_ratio(value)}, {relation}.",
    )


def _w6(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    segments = " / ".join(params.get("enterprise_segments") or ["Enterprise"])
    levels = " / ".join(params.get("junior_levels") or ["junior"])
    return _judge_above(
        m.get("junior_on_enterprise_pct"), t,
        lambda v: f"{_pct(v)} of {segments} accounts are owned by active {levels} reps",
        _pct_t(t), tables, ["accounts.segment", "accounts.owner_rep_id", "reps.level"],
        f"no account is in the enterprise segments ({segments}).",
    )


def _w7(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    return _judge_count(
        m.get("multi_rep_accounts"), t,
        (
            "account had direct deals of two or more reps open at the same time in the 365 days before the as-of date",
            "accounts had direct deals of two or more reps open at the same time in the 365 days before the as-of date",
        ),
        tables, ["opportunities", "opportunities.owner_rep_id"],
        "the opportunities do not allow rep overlaps to be measured.",
    )


def _w8(m: dict, params: dict, tables: dict, t: float) -> _Verdict:
    return _judge_count(
        m.get("cross_crm_conflicting_owners"), t,
        (
            "pair of accounts duplicated across the merged CRMs is owned by two different active reps",
            "pairs of accounts duplicated across the merged CRMs are owned by two different active reps",
        ),
        tables, ["accounts.source_company"],
        "accounts.source_company names fewer than two source companies.",
    )


_RULES: dict[str, Callable[..., _Verdict]] = {
    "RF1": _rf1, "RF2": _rf2, "RF3": _rf3, "RF4": _rf4, "RF5": _rf5, "RF6": _rf6,
    "W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4, "W5": _w5, "W6": _w6, "W7": _w7, "W8": _w8,
}


def evaluate(metrics: dict[str, Any], params: dict[str, Any], tables: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Judge every SPEC §5 flag.

    Parameters
    ----------
    metrics
        All metrics of the run (SPEC §4 names and the extras the concern
        modules add: ``attainment_zero_min_groups``, ``potential_zero_books``).
    params
        As returned by :func:`diligence.params.resolve_params`; thresholds
        missing from ``params["thresholds"]`` take their defaults.
    tables
        The run's tables, to say what is missing when a metric is None.

    Returns
    -------
    list of dict
        In :data:`FLAGS` order: ``id``, ``name``, ``status`` (``triggered`` /
        ``clear`` / ``not_assessed``), ``value`` (the metric judged, a plain
        number or None), ``threshold`` and ``detail`` (one plain-English
        sentence).

    Notes
    -----
    Beyond "metric > threshold": RF2 also triggers when a comparable group's
    lowest attainment is 0 while a peer's is positive (the ratio is then
    None); RF3 triggers when ``assignment_history`` exists but holds no
    rebalance event (never counts as stale); RF5 is clear whenever rules of
    engagement are documented; W3 also triggers on a zero-potential book in
    a group where others hold potential; W5 triggers outside the band, the
    band's ends included as inside.
    """
    thresholds = {**FLAG_THRESHOLDS, **(params.get("thresholds") or {})}
    out = []
    for fid, name in FLAGS:
        t = thresholds[fid]
        verdict = _RULES[fid](metrics, params, tables, t)
        threshold = [float(x) for x in t] if isinstance(t, (list, tuple)) else t
        out.append(
            {
                "id": fid,
                "name": name,
                "status": verdict.status,
                "value": verdict.value,
                "threshold": threshold,
                "detail": verdict.detail,
            }
        )
    return out


_DISPLAY_KIND = {
    "RF1": "pct", "RF2": "ratio", "RF3": "months", "RF4": "pct", "RF5": "count", "RF6": "pct",
    "W1": "pct", "W2": "num", "W3": "ratio", "W4": "count", "W5": "ratio", "W6": "pct",
    "W7": "count", "W8": "count",
}


def _display(value: Any, kind: str, threshold: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return "–".join(_display(v, kind, threshold) for v in value)
    if kind == "pct":
        return _pct_t(value) if threshold else _pct(value)
    if kind == "ratio":
        return _ratio(value)
    if kind == "months":
        return f"{value:.1f} months" if not threshold else f"{_num(value)} months"
    if kind == "count":
        return f"{int(value):,}"
    return f"{value:.2f}"


def scorecard(flags: list[dict[str, Any]]) -> pd.DataFrame:
    """The flags as a table for display: ``id``, ``name``, ``status``,
    ``value``, ``threshold``, ``detail``, in the flags' order.

    ``value`` and ``threshold`` are text formatted like the details
    (``31.2%``, ``2.4×``, ``14.2 months``, ``3.0×–5.0×``; ``—`` when there is
    no value); the numbers themselves stay in the flag dicts.
    """
    rows = [
        {
            "id": f["id"],
            "name": f["name"],
            "status": f["status"],
            "value": _display(f.get("value"), _DISPLAY_KIND.get(f["id"], "num")),
            "threshold": _display(f.get("threshold"), _DISPLAY_KIND.get(f["id"], "num"), threshold=True),
            "detail": f["detail"],
        }
        for f in flags
    ]
    return pd.DataFrame(rows, columns=["id", "name", "status", "value", "threshold", "detail"]).astype("string")
