"""Building blocks for tests on hand-built frames: the as-of date and typed tables."""

from __future__ import annotations

import pandas as pd

from diligence.contract import typed

T = "2026-06-30"


def frame(table: str, **columns) -> pd.DataFrame:
    """A frame typed as intake leaves it (contract kinds)."""
    return typed(table, pd.DataFrame(columns))


def days(n: int) -> str:
    """The ISO date ``n`` days after T (before it when negative)."""
    return (pd.Timestamp(T) + pd.Timedelta(days=n)).date().isoformat()
