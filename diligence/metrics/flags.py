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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from diligence.registry import BELOW, FLAGS, OUTSIDE, FlagSpec, default_thresholds, spec
from diligence.text import counted

TRIGGERED, CLEAR, NOT_ASSESSED = "triggered", "clear", "not_assessed"

#: Why a column may be needed, when its name alone does not say.
_COLUMN_HINTS = {
    "opportunities.is_won": "opportunities.is_won (or a stage column to derive it from)",
    "opportunities.is_closed": "opportunities.is_closed (or a stage column to derive it from)",
}


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


def is_triggered(spec: FlagSpec, value: float, threshold: Any) -> bool:
    """The comparison of ``spec.test`` (the only place a value meets its threshold)."""
    if spec.test == OUTSIDE:
        lo, hi = float(threshold[0]), float(threshold[1])
        return _above(lo, value) or _above(value, hi)
    if spec.test == BELOW:
        return _above(threshold, value)
    return _above(value, threshold)


def words(params: Mapping[str, Any]) -> dict[str, Any]:
    """What the registry's sentences take from the run's parameters."""
    dims = list(params.get("comparable_by") or [])
    return {
        "window_days": params.get("active_window_days", 90),
        "grid": " × ".join(params.get("white_space_dimensions") or ["segment", "region"]),
        "min_accounts": params.get("white_space_min_accounts", 5),
        "segments": " / ".join(params.get("enterprise_segments") or ["Enterprise"]),
        "levels": " / ".join(params.get("junior_levels") or ["junior"]),
        "groups": f" (same {' and '.join(dims)})" if dims else "",
    }


def _needs(spec: FlagSpec, params: Mapping[str, Any]) -> list[str]:
    """``spec.needs`` with ``table.*parameter`` spelt out as its alternatives."""
    out = []
    for need in spec.needs:
        table, _, column = need.partition(".")
        if column.startswith("*"):
            names = params.get(column[1:]) or []
            need = "|".join(f"{table}.{name}" for name in names) or table
        out.append(need)
    return out


@dataclass(frozen=True)
class _Verdict:
    status: str
    value: float | int | None
    detail: str


def judge(
    spec: FlagSpec,
    metrics: Mapping[str, Any],
    params: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    threshold: Any,
) -> _Verdict:
    """Judge one flag as its registry entry says (see :func:`evaluate`)."""
    ctx = words(params)
    value = _clean(metrics.get(spec.metric))
    if value is None:
        reason = missing_input(tables, _needs(spec, params))
        if reason is None and spec.missing_triggers:
            from diligence.metrics.governance import rebalance_basis  # the basis only words the finding

            relation = spec.relation(TRIGGERED, None, threshold)
            return _Verdict(
                TRIGGERED,
                None,
                spec.missing_triggers.format(basis=rebalance_basis(tables), relation=relation, **ctx),
            )
    unbounded = max((_clean(metrics.get(m)) or 0 for m in spec.unbounded_by), default=0)
    if unbounded > 0 and (value is None or not is_triggered(spec, value, threshold)):
        one, many, rest = spec.unbounded
        relation = spec.relation(TRIGGERED, None, threshold)
        return _Verdict(TRIGGERED, value, f"{unbounded:,} {one if unbounded == 1 else many} {rest}, {relation}.")
    if value is None:
        return _Verdict(NOT_ASSESSED, None, reason or spec.otherwise.format(**ctx))
    hit = is_triggered(spec, value, threshold)
    if isinstance(spec.says, tuple):
        one, many = (s.format(**ctx) for s in spec.says)
        said = counted(value, one, many)
    elif value == 0 and spec.says_zero:
        said = spec.says_zero.format(**ctx)
    else:
        said = spec.says.format(value=spec.value_text(value), **ctx)
    if spec.unless is not None:
        param, clear_text, tail = spec.unless
        if params.get(param):
            return _Verdict(CLEAR, value, f"{said}; {clear_text}.")
        if hit:
            return _Verdict(TRIGGERED, value, f"{said}, {spec.relation(TRIGGERED, value, threshold)}, {tail}.")
    status = TRIGGERED if hit else CLEAR
    relation = spec.relation(status, value, threshold)
    return _Verdict(status, value, f"{said}, {relation}." if relation else f"{said}.")


def severity(flag: Mapping[str, Any]) -> float:
    """How far past its threshold a flag's value is, for ranking findings: value /
    threshold (threshold / value for a "below" test, the distance outside a band
    relative to its nearer end, the value itself for a threshold of 0); 1.0 when
    there is no number to compare."""
    value, threshold = flag.get("value"), flag.get("threshold")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return 1.0
    if isinstance(threshold, (list, tuple)):
        lo, hi = threshold
        return max(lo / value if value else float("inf"), value / hi if hi else 1.0)
    if spec(flag["id"]).test == BELOW:
        return threshold / value if value else float("inf")
    return value / threshold if threshold else float(value)


def relation(flag: Mapping[str, Any]) -> str:
    """How an evaluated flag's value stands against its threshold, as a phrase
    ("above the 20% threshold", "inside the 3.0×–5.0× band"), for sentences that
    speak of a flag without judging it again; "" when not assessed."""
    if flag.get("status") not in (TRIGGERED, CLEAR):
        return ""
    return spec(flag["id"]).relation(flag["status"], flag.get("value"), flag.get("threshold"))


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
    thresholds = {**default_thresholds(), **(params.get("thresholds") or {})}
    out = []
    for entry in FLAGS:
        t = thresholds[entry.id]
        verdict = judge(entry, metrics, params, tables, t)
        out.append(
            {
                "id": entry.id,
                "name": entry.name,
                "status": verdict.status,
                "value": verdict.value,
                "threshold": [float(x) for x in t] if isinstance(t, (list, tuple)) else t,
                "detail": verdict.detail,
            }
        )
    return out


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
            "value": spec(f["id"]).value_text(f.get("value")),
            "threshold": spec(f["id"]).threshold_text(f.get("threshold")),
            "detail": f["detail"],
        }
        for f in flags
    ]
    return pd.DataFrame(rows, columns=["id", "name", "status", "value", "threshold", "detail"]).astype("string")
