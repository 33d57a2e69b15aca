"""Checks across tables and against the as-of date (warnings of SPEC §2).

Each function takes typed contract tables and returns boolean masks over a
table's rows; ``load`` turns them into issues with the client's row numbers.
The rows stay in the tables: the metrics decide what an unknown reference
means (an owner who is not in ``reps`` makes an orphaned account, SPEC §3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class RowCheck:
    """A failed check: which rows of ``table``.``column``, and what it means."""

    table: str
    column: str
    mask: np.ndarray
    message: str  # "{n} ... ({where})": n and where are filled in by the caller
    action: str
    distinct: bool = False  # show the different values rather than one per row


#: (table, column, referenced table, referenced key, what the reference is)
REFERENCES: tuple[tuple[str, str, str, str, str], ...] = (
    ("accounts", "owner_rep_id", "reps", "rep_id", "owner"),
    ("accounts", "partner_id", "partners", "partner_id", "partner"),
    ("reps", "manager_id", "reps", "rep_id", "manager"),
    ("opportunities", "account_id", "accounts", "account_id", "account"),
    ("opportunities", "owner_rep_id", "reps", "rep_id", "owner"),
    ("opportunities", "partner_id", "partners", "partner_id", "partner"),
    ("activities", "account_id", "accounts", "account_id", "account"),
    ("activities", "rep_id", "reps", "rep_id", "rep"),
    ("assignment_history", "account_id", "accounts", "account_id", "account"),
    ("assignment_history", "rep_id", "reps", "rep_id", "rep"),
    ("rep_survey", "rep_id", "reps", "rep_id", "rep"),
    ("opportunity_history", "opportunity_id", "opportunities", "opportunity_id", "opportunity"),
)

_CONSEQUENCE = {
    ("accounts", "owner_rep_id"): "these accounts count as orphaned (owner unknown)",
    ("opportunities", "account_id"): "these opportunities are kept but match no account",
    ("activities", "account_id"): "these activities are kept but work no known account",
    ("assignment_history", "account_id"): "these changes are kept but concern no known account",
    ("opportunity_history", "opportunity_id"): "these history rows are ignored (no such deal to judge)",
}


def _isin(values: pd.Series, reference: pd.Series) -> np.ndarray:
    """``values.isin(reference)`` as a numpy mask, through pyarrow for text
    (pandas' own is several times slower on millions of pyarrow strings)."""
    if isinstance(values.dtype, pd.StringDtype) and isinstance(reference.dtype, pd.StringDtype):
        found = pc.is_in(pa.array(values.array), value_set=pa.array(reference.dropna().drop_duplicates().array))
        return found.to_numpy(zero_copy_only=False).astype(bool)
    return values.isin(reference.dropna()).to_numpy(bool)


def unknown_references(tables: dict[str, pd.DataFrame]) -> list[RowCheck]:
    """Filled ids that name no row of the table they refer to.

    Partner ids are checked only when a ``partners`` table was given.
    """
    out = []
    for table, column, target, key, what in REFERENCES:
        if table not in tables or target not in tables or column not in tables[table] or key not in tables[target]:
            continue
        values = tables[table][column]
        mask = values.notna().to_numpy(bool) & ~_isin(values, tables[target][key])
        if mask.any():
            consequence = _CONSEQUENCE.get((table, column), "the rows are kept")
            out.append(
                RowCheck(
                    table,
                    column,
                    mask,
                    f"{{n}} {column} value(s) name no {what} in {target} ({{where}}); {consequence}",
                    f"add the missing {target} rows (or correct the ids, e.g. a {target} export that is not complete)",
                    distinct=True,
                )
            )
    return out


#: Date columns that should not lie after the as-of date. ``close_date`` is
#: checked on closed opportunities only (an open one closes in the future);
#: ``end_date`` not at all (a notice period ends after T).
FUTURE_CHECKED: tuple[tuple[str, str], ...] = (
    ("reps", "hire_date"),
    ("opportunities", "created_date"),
    ("opportunities", "close_date"),
    ("activities", "activity_date"),
    ("assignment_history", "effective_date"),
    ("opportunity_history", "changed_date"),
)


def dates_after(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> list[RowCheck]:
    """Dates after the as-of date, which the windows of SPEC §3 will not count."""
    out = []
    for table, column in FUTURE_CHECKED:
        if table not in tables or column not in tables[table]:
            continue
        frame = tables[table]
        mask = (frame[column] > as_of).fillna(False).to_numpy(bool)
        if table == "opportunities" and column == "close_date":
            if "is_closed" not in frame:
                continue
            mask = mask & frame["is_closed"].fillna(False).to_numpy(bool)
        if mask.any():
            out.append(
                RowCheck(
                    table,
                    column,
                    mask,
                    f"{{n}} date(s) after the as-of date {as_of.date().isoformat()} ({{where}})",
                    "check the as-of date, or the dates (a typo in the year?)",
                )
            )
    return out


def dates_out_of_order(tables: dict[str, pd.DataFrame]) -> list[RowCheck]:
    """An opportunity closed before it was created; a rep who left before joining."""
    out = []
    for table, start, end, what in (
        ("opportunities", "created_date", "close_date", "close_date before created_date"),
        ("reps", "hire_date", "end_date", "end_date before hire_date"),
    ):
        if table in tables and start in tables[table] and end in tables[table]:
            f = tables[table]
            mask = (f[end] < f[start]).fillna(False).to_numpy(bool)
            if mask.any():
                out.append(
                    RowCheck(table, end, mask, f"{{n}} row(s) with {what} ({{where}})", f"correct {start} or {end}")
                )
    return out


#: Parameters that name columns, and the table whose columns they name.
COLUMN_PARAMETERS = {"comparable_by": "reps", "white_space_dimensions": "accounts"}


def parameter_columns(tables: dict[str, pd.DataFrame], params) -> list[str]:
    """Sentences for each parameter naming a column that is neither a contract
    column of its table nor in the data (a typo would otherwise group every rep
    as one, or judge the white space on nothing). Contract columns the data
    lacks are fine: the metrics say what they could not use."""
    import difflib

    from diligence.contract import TABLES

    problems = []
    for name, table in COLUMN_PARAMETERS.items():
        known = list(dict.fromkeys([*TABLES[table].column_names, *tables.get(table, pd.DataFrame()).columns]))
        for column in params[name]:
            if column not in known:
                close = difflib.get_close_matches(column, known, n=1)
                hint = f" Did you mean {close[0]}?" if close else ""
                problems.append(
                    f"{name} names {column!r}, which is not a column of {table}.{hint} "
                    f"Columns of {table}: {', '.join(known)}."
                )
    return problems


def as_of_problem(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> str | None:
    """A sentence when the as-of date T is before every date in the data
    (nothing is known at T, so every measure would be empty), else None."""
    earliest, where, latest = None, "", None
    for name, frame in tables.items():
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]) and frame[column].notna().any():
                low, high = frame[column].min(), frame[column].max()
                if earliest is None or low < earliest:
                    earliest, where = low, f"{name}.{column}"
                latest = high if latest is None or high > latest else latest
    if earliest is None or as_of >= earliest:
        return None
    return (
        f"as_of {as_of.date().isoformat()} is before every date in the data (the earliest is "
        f"{earliest.date().isoformat()}, in {where}): nothing is known at that date. Choose an as-of date "
        f"between {earliest.date().isoformat()} and {latest.date().isoformat()}."
    )
