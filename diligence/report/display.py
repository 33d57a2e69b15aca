"""What the notebooks show: tables, KPI tiles, the flag scorecard and narrative findings.

Every helper returns an :class:`HtmlBlock`, which Jupyter renders as HTML (it has
``_repr_html_``), and which the report template styles through its ``dk-*`` classes.
Every piece of text that reaches the HTML is escaped here: client names are data,
never markup.
"""

from __future__ import annotations

import functools
import html
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from diligence.report.formats import (
    NUMERIC_KINDS,
    check_kind,
    flag_rows,
    fmt_int,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_ratio,
    format_value,
    humanize,
    infer_kind,
    value_kind,
)

__all__ = [
    "HtmlBlock",
    "finding",
    "fmt_int",
    "fmt_money",
    "fmt_num",
    "fmt_pct",
    "fmt_ratio",
    "show_flags",
    "show_kpis",
    "show_table",
]

#: Inline pill colours, so that a pill reads right in Jupyter too (the report CSS refines it).
WIDE_COLUMNS = 9  # above this many columns a table is set in smaller type

_PILL_STYLE = {
    "red": "background:#c0392b;color:#fff",
    "amber": "background:#e6a23c;color:#1f2933",
    "green": "background:#2e8b57;color:#fff",
    "grey": "background:#9aa5b1;color:#fff",
}


class HtmlBlock:
    """A fragment of trusted HTML (built here from escaped text) that Jupyter displays."""

    __slots__ = ("html",)

    def __init__(self, html_text: str) -> None:
        self.html = html_text

    def _repr_html_(self) -> str:
        return self.html

    def __html__(self) -> str:  # markupsafe / Jinja protocol
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"HtmlBlock({len(self.html)} characters)"


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _displayable(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as shown: a named index becomes columns, an unnamed one (row numbers
    left over from filtering) is dropped, column levels are joined."""
    named_index = any(n is not None for n in df.index.names)
    frame = df.reset_index(drop=not named_index)
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.set_axis([" · ".join(str(p) for p in col if str(p) != "") for col in frame.columns], axis=1)
    return frame


def show_table(
    df: pd.DataFrame,
    *,
    title: str | None = None,
    formats: Mapping[str, str] | None = None,
    max_rows: int = 25,
    note: str | None = None,
    columns: list[str] | None = None,
) -> HtmlBlock:
    """Show a frame as a styled, escaped HTML table (``class="dk-table"``).

    Parameters
    ----------
    df
        The table. A named or non-default index is shown as leading columns.
    title
        A short caption above the table.
    formats
        Column → kind (``pct``, ``money``, ``ratio``, ``int``, ``num``, ``date``,
        ``months``, ``bool``, ``text``). Other columns are guessed from their name
        and dtype (:func:`~diligence.report.formats.infer_kind`). Keys naming absent
        columns are ignored (tables vary with the optional data); an unknown kind
        raises ValueError.
    max_rows
        Rows shown; beyond it the caption says "showing 25 of N".
    columns
        The columns to show, in this order; names the frame lacks are skipped
        (the workbook keeps every column).
    note
        A footnote under the table (source, definition, caveat).

    Returns
    -------
    HtmlBlock
        Headers are humanized (``unassigned_pct`` → "Unassigned %"), numbers
        right-aligned, missing values "—", every cell escaped.
    """
    formats = {k: check_kind(v) for k, v in (formats or {}).items()}
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    frame = _displayable(df)
    n_rows = len(frame)
    shown = frame.head(max(int(max_rows), 0))
    names = list(shown.columns)
    kinds = [formats.get(c) or infer_kind(c, shown.dtypes.iloc[j]) for j, c in enumerate(names)]

    parts = ['<div class="dk-table-wrap">']
    if title:
        parts.append(f'<div class="dk-table-title">{_esc(title)}</div>')
    if not names or n_rows == 0:
        parts.append('<p class="dk-empty">No rows.</p>')
    else:
        align = [' class="num"' if k in NUMERIC_KINDS else "" for k in kinds]
        head = "".join(f"<th{a}>{_esc(humanize(c))}</th>" for c, a in zip(names, align))
        # One formatted, escaped text column per frame column, then joined row-wise.
        cells = [
            f"<td{a}>"
            + shown.iloc[:, j].astype(object).map(functools.partial(format_value, kind=k)).map(_esc)
            + "</td>"
            for j, (k, a) in enumerate(zip(kinds, align))
        ]
        rows = functools.reduce(operator.add, cells)
        body = "".join("<tr>" + rows + "</tr>")
        wide = " dk-wide" if len(shown.columns) > WIDE_COLUMNS else ""
        parts.append(f'<table class="dk-table{wide}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
        if n_rows > len(shown):
            parts.append(f'<p class="dk-caption">Showing {fmt_int(len(shown))} of {fmt_int(n_rows)} rows.</p>')
    if note:
        parts.append(f'<p class="dk-note">{_esc(note)}</p>')
    parts.append("</div>")
    return HtmlBlock("".join(parts))


def table_parts(
    table: pd.DataFrame, parts: Mapping[str, Sequence[str]], lead: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """A wide table as titled tables narrow enough to read and print.

    Each part is ``lead`` (the columns that name a row, repeated in every part)
    then its own columns of ``parts`` (title -> columns), those the table has.
    Columns named in no part are left out: ``parts`` chooses what is shown. An
    empty table stays one table, under the first title.
    """
    if table.empty:
        return {next(iter(parts)): table}
    lead = [c for c in lead if c in table.columns]
    return {title: table[[*lead, *[c for c in columns if c in table.columns]]] for title, columns in parts.items()}


def show_kpis(items: Sequence[tuple[str, str]]) -> HtmlBlock:
    """Show KPI tiles, one per ``(label, formatted value)`` pair, in the given order."""
    tiles = "".join(
        f'<div class="dk-kpi"><div class="dk-kpi-value">{_esc(value)}</div>'
        f'<div class="dk-kpi-label">{_esc(label)}</div></div>'
        for label, value in items
    )
    return HtmlBlock(f'<div class="dk-kpis">{tiles}</div>')


def pill(label: str, tone: str) -> str:
    """A status pill: ``tone`` is red, amber, green or grey (anything else: grey)."""
    tone = tone if tone in _PILL_STYLE else "grey"
    return f'<span class="dk-pill dk-pill-{tone}" style="{_PILL_STYLE[tone]}">{_esc(label)}</span>'


def show_flags(flags: Sequence[Mapping[str, Any]]) -> HtmlBlock:
    """Show the red-flag scorecard: one row per flag with a status pill.

    Pills: red for a triggered red flag (RF…), amber for a triggered warning (W…),
    green clear, grey not assessed. Value and threshold are formatted by the flag's
    metric; the detail text is escaped.
    """
    rows = flag_rows(flags)
    if not rows:
        return HtmlBlock('<div class="dk-table-wrap"><p class="dk-empty">No flags.</p></div>')
    body = "".join(
        f'<tr class="dk-flag-{r["tone"]}"><td>{pill(r["label"], r["tone"])}</td>'
        f'<td class="dk-flag-id">{_esc(r["id"])}</td><td>{_esc(r["name"])}</td>'
        f'<td class="num">{_esc(r["value"])}</td><td class="num">{_esc(r["threshold"])}</td>'
        f'<td class="dk-flag-detail">{_esc(r["detail"])}</td></tr>'
        for r in rows
    )
    head = (
        '<tr><th>Status</th><th>ID</th><th>Flag</th><th class="num">Value</th>'
        '<th class="num">Threshold</th><th>Detail</th></tr>'
    )
    return HtmlBlock(
        f'<div class="dk-table-wrap"><table class="dk-table dk-scorecard">'
        f"<thead>{head}</thead><tbody>{body}</tbody></table></div>"
    )


def finding(text: str) -> HtmlBlock:
    """A highlighted narrative sentence (the "so what" of a step), escaped."""
    return HtmlBlock(f'<p class="dk-finding">{_esc(text)}</p>')


def readable_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """The side-by-side metrics of :func:`diligence.scenarios.compare.compare` as a reader sees them:
    metric names in words, each value formatted by its kind (percent, ratio,
    count). For display only; the workbook keeps the numbers."""
    scenario_columns = [c for c in metrics.columns if c != "metric"]
    shown = {"metric": metrics["metric"].map(humanize)}
    for column in scenario_columns:
        shown[column] = [
            format_value(_number(v), value_kind(name, _number(v)))
            for name, v in zip(metrics["metric"], metrics[column])
        ]
    return pd.DataFrame(shown)


def _number(value: Any) -> float | int | None:
    """A metric value as Python number: whole numbers as int, so counts read as counts."""
    if pd.isna(value):
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


#: Rows of the economics table that count people rather than money.
COUNT_ITEMS = (
    "Hires in the plan",
    "Expected leavers over the plan",
    "Net hires (hires − expected leavers)",
    "Headcount at the plan's end",
    "Headcount at the plan's end, baseline",
)


def readable_economics(economics: pd.DataFrame) -> pd.DataFrame:
    """The plan's economics as a reader sees them: ``low``, ``base`` (when
    there is one) and ``high`` in money, except the rows of
    :data:`COUNT_ITEMS`, which are head counts."""

    def fmt(item: str, value: Any) -> str:
        return format_value(_number(value), "int" if item in COUNT_ITEMS else "money")

    columns = [c for c in ("low", "base", "high") if c in economics.columns]
    return economics.assign(**{c: [fmt(i, v) for i, v in zip(economics["item"], economics[c])] for c in columns})
