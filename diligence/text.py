"""How a number or a name reads: one formatter per kind, shared by flag details, report and workbook.

``31.2%``, ``$1.2M``, ``2.4×``, ``1,234``, ``14.2 months``, ``—``: every sentence,
table, scorecard and sheet of the kit formats values through these functions, so
that no two places disagree. Pure functions of a value; no other kit module is
imported here, so every layer may use them.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

MISSING = "—"

#: Kinds a value can be shown as; ``text`` and ``bool`` are not numbers.
KINDS = ("pct", "money", "ratio", "int", "num", "months", "days", "date", "bool", "text")
NUMERIC_KINDS = frozenset({"pct", "money", "ratio", "int", "num", "months", "days"})


def is_missing(x: Any) -> bool:
    """True for None, NaN, NaT and ``pd.NA`` (scalars only; containers are never missing)."""
    if x is None:
        return True
    if isinstance(x, (str, bytes, list, tuple, dict, set)):
        return False
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _number(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing or not a number (bools are not numbers)."""
    if is_missing(x) or isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        return None
    return float(x)


def _guard(fmt: Callable[[float], str]) -> Callable[[Any], str]:
    """Wrap a float formatter: missing → "—", infinities → "∞", non-numbers → their text."""

    def wrapped(x: Any) -> str:
        v = _number(x)
        if v is None:
            return MISSING if is_missing(x) else str(x)
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return fmt(v)

    wrapped.__doc__ = fmt.__doc__
    wrapped.__name__ = fmt.__name__
    return wrapped


@_guard
def fmt_pct(x: float) -> str:
    """A 0–1 fraction as a percentage with one decimal: 0.312 → "31.2%"."""
    return f"{x * 100:.1f}%"


@_guard
def fmt_money(x: float) -> str:
    """An amount, abbreviated: 1_234_567 → "$1.2M", 850_000 → "$850K", 950 → "$950".

    The unit is chosen after rounding, so 999_960 reads "$1.0M", not "$1000K".
    """
    sign, v = ("-" if x < 0 else ""), abs(x)
    # Each unit starts where the smaller one would read 1000 ("$1000K" → "$1.0M").
    if round(v / 1e6, 1) >= 1000:
        return f"{sign}${v / 1e9:,.1f}B"
    if round(v / 1e3) >= 1000:
        return f"{sign}${v / 1e6:,.1f}M"
    if round(v) >= 1000:
        return f"{sign}${v / 1e3:,.0f}K"
    return f"{sign}${v:,.0f}"


@_guard
def fmt_ratio(x: float) -> str:
    """A multiple with one decimal: 2.43 → "2.4×"."""
    return f"{x:,.1f}×"


@_guard
def fmt_int(x: float) -> str:
    """A count with thousands separators: 1234 → "1,234"."""
    return f"{round(x):,}"


@_guard
def fmt_num(x: float) -> str:
    """A plain number with two decimals: 0.4512 → "0.45", 1234 → "1,234.00"."""
    return f"{x:,.2f}"


@_guard
def fmt_months(x: float) -> str:
    """A duration in months with one decimal: 14.23 → "14.2 months"."""
    return f"{x:,.1f} months"


@_guard
def fmt_days(x: float) -> str:
    """A duration in whole days: 86.6 → "87 days"."""
    return f"{x:,.0f} days"


def fmt_date(x: Any) -> str:
    """A date as ISO ``YYYY-MM-DD`` (time of day dropped); missing → "—"."""
    if is_missing(x):
        return MISSING
    try:
        return pd.Timestamp(x).strftime("%Y-%m-%d")
    except (TypeError, ValueError):
        return str(x)


def fmt_bool(x: Any) -> str:
    """True → "Yes", False → "No", missing → "—"."""
    if is_missing(x):
        return MISSING
    return "Yes" if bool(x) else "No"


def fmt_text(x: Any) -> str:
    """Any value as text; missing → "—"."""
    return MISSING if is_missing(x) else str(x)


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "pct": fmt_pct,
    "money": fmt_money,
    "ratio": fmt_ratio,
    "int": fmt_int,
    "num": fmt_num,
    "months": fmt_months,
    "days": fmt_days,
    "date": fmt_date,
    "bool": fmt_bool,
    "text": fmt_text,
}


def format_value(x: Any, kind: str) -> str:
    """Format one value as ``kind`` (one of :data:`KINDS`)."""
    return FORMATTERS[check_kind(kind)](x)


def check_kind(kind: str) -> str:
    """Return ``kind`` or raise ValueError naming the known kinds (a typo must not pass)."""
    if kind not in FORMATTERS:
        raise ValueError(f"unknown format {kind!r}; use one of {', '.join(KINDS)}")
    return kind


def fmt_exact_pct(x: float) -> str:
    """A fraction as a percentage without rounding it off: 0.2 → "20%", 0.125 → "12.5%".

    For thresholds, which are set by a person and must read as they were set.
    """
    return f"{x * 100:.10g}%"


def fmt_plain(x: float) -> str:
    """A number without needless decimals: 2.0 → "2", 0.125 → "0.125", 12 → "12"."""
    return f"{x:g}"


def counted(n: float, one: str, many: str) -> str:
    """A counted phrase: "No accounts had", "1 account had", "3 accounts had"."""
    n = int(n)
    if n == 0:
        return f"No {many}"
    return f"{n:,} {one if n == 1 else many}"


_PCT_TOKENS = {"pct", "share", "rate", "percent", "percentage"}
_RATIO_TOKENS = {"ratio", "coverage", "multiple"}
_MONEY_TOKENS = {
    "potential",
    "amount",
    "bookings",
    "quota",
    "revenue",
    "pipeline",
    "arr",
    "acv",
    "tcv",
    "money",
    "cost",
}
_COUNT_TOKENS = {
    "count", "n", "accounts", "reps", "opportunities", "activities", "cells", "duplicates",
    "owners", "employees", "headcount", "need", "rows", "changes", "events", "total", "books",
}  # fmt: skip


def infer_kind(name: Any, dtype: Any = None) -> str:
    """Guess how a column (or a metric) reads from its name and dtype.

    Parameters
    ----------
    name
        Column or metric name; snake_case names are split into words.
    dtype
        The column's dtype, or None for a scalar metric known to be a number.

    Returns
    -------
    str
        ``date`` / ``bool`` / ``text`` from the dtype; for numbers, by name, first
        match wins: ``*_pct``, share, rate → ``pct``; ratio, coverage → ``ratio``;
        ``cv`` → ``num``; attainment → ``pct`` (bookings / quota); potential,
        amount, bookings, quota, revenue, pipeline → ``money``; months → ``num``; days → ``int``;
        then integer dtype or a count word (accounts, reps, count, …) → ``int``;
        else ``num``. Names are checked before the dtype because an integer quota
        is still money.
    """
    if dtype is not None:
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return "date"
        if pd.api.types.is_bool_dtype(dtype):
            return "bool"
        if not pd.api.types.is_numeric_dtype(dtype):
            return "text"
    tokens = set(re.split(r"[^a-z0-9]+", str(name).lower())) - {""}
    if "pct" in tokens:  # "headcount_shortfall_pct" is a share, even when it is a whole 0
        return "pct"
    if dtype is not None and pd.api.types.is_integer_dtype(dtype) and tokens & _COUNT_TOKENS:
        return "int"  # "attainment_reps" counts reps, whatever else its name says
    if tokens & _PCT_TOKENS:
        return "pct"
    if tokens & _RATIO_TOKENS:
        return "ratio"
    if "cv" in tokens:
        return "num"
    if "attainment" in tokens:
        return "pct"
    if "headcount" in tokens:  # "quota_headcount" counts people, not money
        return "int"
    if tokens & _MONEY_TOKENS:
        return "money"
    if "months" in tokens:
        return "num"
    if "days" in tokens:  # the header says days: whole numbers read best
        return "int"
    if (dtype is not None and pd.api.types.is_integer_dtype(dtype)) or tokens & _COUNT_TOKENS:
        return "int"
    return "num"


def value_kind(name: Any, value: Any) -> str:
    """The kind of one scalar (a metric value): text, bool, date or by :func:`infer_kind`."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (dt.date, pd.Timestamp)):
        return "date"
    if isinstance(value, numbers.Integral):
        return infer_kind(name, "int64")  # a whole number: a count unless its name says money
    if isinstance(value, numbers.Real):
        return infer_kind(name)
    if is_missing(value):
        return infer_kind(name)
    return "text"


_WORDS = {"pct": "%", "id": "ID", "crm": "CRM", "cv": "CV", "ae": "AE", "sdr": "SDR", "90d": "90d"}


def humanize(name: Any) -> str:
    """A snake_case name as a header: ``unassigned_potential_pct`` → "Unassigned potential %".

    Names that are not snake_case (already written for people) are returned as they are.
    """
    text = str(name)
    if not re.fullmatch(r"[a-z0-9_]+", text):
        return text
    words = [_WORDS.get(w, w) for w in text.split("_") if w]
    if not words:
        return text
    first = words[0]
    return " ".join([first[:1].upper() + first[1:], *words[1:]])
