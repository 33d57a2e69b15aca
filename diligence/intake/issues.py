"""Problems found in a company's data, each said the way a consultant can act on it.

An :class:`Issue` names the table, the file, the column, how many rows, the
first few of them (as row numbers the client sees in the file, or keys), what
is wrong and what to do. Errors stop a run (SPEC §2, exit code 2); warnings
are listed in the report's data-quality section.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from diligence.contract import TABLE_ORDER, TABLES

ERROR, WARNING = "error", "warning"
MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Issue:
    """One problem in the input.

    Attributes
    ----------
    level
        ``"error"`` (the run stops) or ``"warning"`` (the run goes on).
    table, file, column
        Where: the contract table, the file (and sheet) it came from, the
        contract column. Any of them may be ``None`` when it does not apply.
    count
        How many rows (or values, or files) are concerned.
    rows
        The first few (at most five) row numbers as the client sees them in
        the file (header = row 1), or keys when rows do not apply.
    message
        What is wrong, with the count and the first offending rows or values.
    action
        What to do about it.
    """

    level: str
    table: str | None
    file: str | None
    column: str | None
    count: int
    rows: tuple = ()
    message: str = ""
    action: str = ""

    def __str__(self) -> str:
        where = self.table or ""
        if self.file:
            where = f"{where} ({self.file})" if where else self.file
        if self.column:
            where = f"{where}, column {self.column}" if where else f"column {self.column}"
        text = f"{self.level}: {where}: {self.message}" if where else f"{self.level}: {self.message}"
        return f"{text.rstrip('.')}. Fix: {self.action}" if self.action else text

    def as_dict(self) -> dict:
        """JSON-ready form (``rows`` as a list of plain ints or strings)."""
        d = asdict(self)
        d["rows"] = [_plain(r) for r in self.rows]
        return d


def _plain(value: object) -> int | str:
    if isinstance(value, (int, np.integer)):
        return int(value)
    return str(value)


def shown(values: Iterable, limit: int = MAX_ROWS_SHOWN) -> tuple:
    """The first ``limit`` values as plain Python ints/strings (for ``Issue.rows``)."""
    out = []
    for v in values:
        if len(out) == limit:
            break
        out.append(_plain(v))
    return tuple(out)


def row_phrase(rows: Sequence, count: int, keys: Sequence | None = None, distinct: int | None = None) -> str:
    """``rows 4, 9, 12, ...`` followed by the values: ``: "A-1", "B-2"`` (one per row
    shown) or, with ``distinct`` (how many different values), ``; 2 different: "A", "B"``."""
    if not rows:
        return ""
    more = ", ..." if count > len(rows) else ""
    text = ("row " if len(rows) == 1 else "rows ") + ", ".join(str(r) for r in rows) + more
    if keys and distinct is None:
        text += ": " + ", ".join(f'"{k}"' for k in keys) + (", ..." if count > len(keys) else "")
    elif keys:
        text += (
            f"; {distinct} different: " + ", ".join(f'"{k}"' for k in keys) + (", ..." if distinct > len(keys) else "")
        )
    return text


def _sort_key(issue: Issue) -> tuple:
    table_rank = TABLE_ORDER.index(issue.table) if issue.table in TABLES else len(TABLE_ORDER)
    columns = TABLES[issue.table].column_names if issue.table in TABLES else []
    column_rank = (
        columns.index(issue.column) if issue.column in columns else (-1 if issue.column is None else len(columns))
    )
    return (
        issue.level != ERROR,
        table_rank,
        issue.file or "",
        column_rank,
        issue.column or "",
        issue.message,
    )


def sort_issues(issues: Iterable[Issue]) -> list[Issue]:
    """Errors first, then by table (contract order), file, column (contract order), message."""
    return sorted(issues, key=_sort_key)


def format_issues(issues: Sequence[Issue], width: int = 140) -> str:
    """Render issues as a plain-text table (for ``diligence validate``).

    Uses ``rich`` without colour codes, so the text is the same in a terminal,
    a pipe or a log file. Returns ``"No problems found."`` for no issues.
    """
    from rich.console import Console
    from rich.table import Table

    if not issues:
        return "No problems found."
    table = Table(show_lines=True)
    for name, kw in (
        ("level", {"no_wrap": True}),
        ("table", {}),
        ("file", {"overflow": "fold"}),
        ("column", {"overflow": "fold"}),
        ("count", {"justify": "right"}),
        ("problem", {"ratio": 3}),
        ("what to do", {"ratio": 2}),
    ):
        table.add_column(name, **kw)
    for i in issues:
        table.add_row(i.level, i.table or "", i.file or "", i.column or "", str(i.count), i.message, i.action)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None, no_color=True, highlight=False)
    console.print(table)
    n_err = sum(i.level == ERROR for i in issues)
    console.print(f"{n_err} error(s), {len(issues) - n_err} warning(s).")
    return buffer.getvalue().rstrip() + "\n"
