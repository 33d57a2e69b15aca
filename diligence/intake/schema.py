"""Pandera schemas built from ``contract.py``, and their failures as row masks.

The schemas check what the contract promises once the values are typed:
dtypes, unique keys, no blank key in ``accounts``/``reps``, no negative
amount, quota or size. Intake turns each failure into an :class:`Issue`
with the client's row numbers, so pandera's own report never reaches a user.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.errors
import pandera.pandas as pa

from diligence.contract import DTYPES, INTEGER, NUMBER, TABLES, Table

UNIQUE, NOT_NULL, NONNEG, DTYPE, ABSURD = "unique", "not_null", "nonneg", "dtype", "absurd"
#: No amount, quota, size or count in a CRM reaches this; larger values (1e308, infinities)
#: are typing accidents that would overflow every sum they enter.
MAX_NUMBER = 1e15


def table_schema(table: Table) -> pa.DataFrameSchema:
    """The pandera schema of one contract table (columns optional: absent = not provided).

    Keys are unique; the key of a required table (``accounts.account_id``,
    ``reps.rep_id``) may not be blank, other blanks having been set aside or
    reported before; ``nonneg`` columns must be >= 0; numbers stay within
    ±:data:`MAX_NUMBER`.
    """
    columns = {
        c.name: pa.Column(
            DTYPES[c.kind],
            checks=([pa.Check.ge(0)] if c.nonneg else [])
            + ([pa.Check.in_range(-MAX_NUMBER, MAX_NUMBER)] if c.kind in (NUMBER, INTEGER) else []),
            nullable=not (table.required and c.name == table.key),
            unique=c.name == table.key,
            required=False,
        )
        for c in table.columns
    }
    return pa.DataFrameSchema(columns, strict=False, name=table.name)


SCHEMAS: dict[str, pa.DataFrameSchema] = {name: table_schema(t) for name, t in TABLES.items()}


def _kind(check: object) -> str:
    text = str(check)
    if "uniqueness" in text or "unique" in text:
        return UNIQUE
    if "nullable" in text:
        return NOT_NULL
    if "greater_than_or_equal_to" in text:
        return NONNEG
    if "in_range" in text:
        return ABSURD
    return DTYPE


def schema_failures(table: str, frame: pd.DataFrame) -> list[tuple[str, str, np.ndarray]]:
    """Validate ``frame`` (positional index) against its table's schema.

    Returns
    -------
    list of (column, kind, mask)
        ``kind`` is one of ``unique``, ``not_null``, ``nonneg``, ``dtype``;
        ``mask`` a boolean array over the frame's rows (all False for a
        column-level failure such as a wrong dtype).
    """
    try:
        SCHEMAS[table].validate(frame, lazy=True)
        return []
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    out = []
    for (column, check), group in cases.groupby([cases["column"].astype(str), cases["check"].astype(str)], sort=True):
        mask = np.zeros(len(frame), dtype=bool)
        positions = pd.to_numeric(group["index"], errors="coerce").dropna().astype(np.int64).to_numpy()
        mask[positions[(positions >= 0) & (positions < len(frame))]] = True
        out.append((column, _kind(check), mask))
    return out
