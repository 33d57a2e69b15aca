"""Number formatting shared by the HTML report, the notebooks and the Excel workbook.

One place decides how a value reads ("31.2%", "$1.2M", "2.4×", "1,234", "—"), how a
column's kind is guessed from its name and dtype, and how a flag's status shows,
so that the report and the workbook never disagree.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from diligence.registry import BY_ID
from diligence.text import (  # noqa: F401 - the report's formatters, re-exported for its modules
    FORMATTERS,
    KINDS,
    MISSING,
    NUMERIC_KINDS,
    check_kind,
    fmt_bool,
    fmt_date,
    fmt_int,
    fmt_money,
    fmt_months,
    fmt_num,
    fmt_pct,
    fmt_ratio,
    fmt_text,
    format_value,
    humanize,
    infer_kind,
    is_missing,
    value_kind,
)

#: Excel number formats of each kind (money stays currency-neutral: SPEC §2 fixes one
#: currency but not which).
EXCEL_NUMBER_FORMATS: dict[str, str] = {
    "pct": "0.0%",
    "money": "#,##0",
    "ratio": '0.00"×"',
    "int": "#,##0",
    "num": "#,##0.00",
    "months": '0.0" months"',
    "days": '#,##0" days"',
    "date": "yyyy-mm-dd",
}

#: Status → (label, tone). Tone names the colour: red for a triggered red flag,
#: amber for a triggered warning, green clear, grey not assessed.
STATUS_LABELS = {"triggered": "Triggered", "clear": "Clear", "not_assessed": "Not assessed"}


def flag_tone(flag: Mapping[str, Any]) -> str:
    """Colour of a flag's status: ``red`` (triggered red flag), ``amber`` (triggered
    warning, ids W…), ``green`` (clear), ``grey`` (not assessed or unknown)."""
    status = flag.get("status")
    if status == "triggered":
        return "amber" if str(flag.get("id", "")).upper().startswith("W") else "red"
    return "green" if status == "clear" else "grey"


def flag_value_text(flag: Mapping[str, Any]) -> str:
    """A flag's value as its registry entry reads it ("31.2%", "2.4×", "—")."""
    entry, value = BY_ID.get(str(flag.get("id", ""))), flag.get("value")
    if value is not None and not isinstance(value, numbers.Real):
        return str(value)
    return entry.value_text(value) if entry else format_value(value, "num")


def flag_threshold_text(flag: Mapping[str, Any]) -> str:
    """A flag's threshold as its registry entry reads it ("20%", "3.0×–5.0×")."""
    entry, threshold = BY_ID.get(str(flag.get("id", ""))), flag.get("threshold")
    if threshold is None:
        return MISSING
    return entry.threshold_text(threshold) if entry else str(threshold)


def flag_rows(flags: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The scorecard rows shown in HTML (notebooks and report cover), all plain text.

    Each row: ``id``, ``name`` (humanized), ``status`` (raw), ``label``
    ("Triggered" / "Clear" / "Not assessed"), ``tone`` (see :func:`flag_tone`),
    ``value`` and ``threshold`` formatted by the flag's kind, ``detail``. Flags keep
    their order (the SPEC's). Missing keys read "—" or "".
    """
    rows = []
    for f in flags or []:
        rows.append(
            {
                "id": fmt_text(f.get("id")),
                "name": humanize(f.get("name") or ""),
                "status": str(f.get("status") or "not_assessed"),
                "label": STATUS_LABELS.get(str(f.get("status")), fmt_text(f.get("status"))),
                "tone": flag_tone(f),
                "value": flag_value_text(f),
                "threshold": flag_threshold_text(f),
                "detail": "" if is_missing(f.get("detail")) else str(f.get("detail")),
            }
        )
    return rows
