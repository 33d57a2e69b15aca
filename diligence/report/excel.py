"""report.xlsx: the findings and the step tables as a formatted workbook (openpyxl).

Sheets: "Summary" (company, as-of, flag scorecard, key metrics), one sheet per step
with each table as a real Excel table, then "Data Quality" and "Definitions".

Safety, because the workbook carries client text: every text cell is written as a
string (``data_type = "s"``, with a quote prefix when it starts like a formula), so
``=HYPERLINK(…)`` in an account name stays text; control characters are stripped;
datetimes are made naive; NaN, None and infinities become empty cells. Table and
sheet names are valid and unique, headers are unique strings, and an empty table is
written without a Table object, so Excel opens the file without a repair prompt.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import numbers
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from diligence.registry import BY_ID
from diligence.report.definitions import metric_definitions, metric_label, potential_basis_text
from diligence.report.formats import (
    EXCEL_NUMBER_FORMATS,
    STATUS_LABELS,
    flag_threshold_text,
    flag_tone,
    humanize,
    infer_kind,
    is_missing,
    value_kind,
)
from diligence.report.safe import FORMULA_TRIGGERS, excel_sheet_name, excel_table_name, excel_text

TABLE_STYLE = "TableStyleMedium2"
NAVY = "1F3B5C"
#: Fill and font colour per status tone (Excel's own Bad / Neutral / Good palette, plus grey).
TONE_COLORS: dict[str, tuple[str, str]] = {
    "red": ("FFC7CE", "9C0006"),
    "amber": ("FFEB9C", "9C5700"),
    "green": ("C6EFCE", "006100"),
    "grey": ("E7E6E6", "595959"),
}
MIN_WIDTH, MAX_WIDTH = 8, 60
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14, color=NAVY)
_SUBTITLE = Font(bold=True, size=12, color=NAVY)
_HEADER = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor=NAVY)
_WRAP = Alignment(wrap_text=True, vertical="top")
#: A figure beside text: right-aligned, kept off the column's right edge.
_FIGURE = Alignment(horizontal="right", indent=1)
_FIGURE_TOP = Alignment(horizontal="right", vertical="top", indent=1)
_DETAIL_CHARS_PER_LINE = 95  # characters of the 90-wide detail column per printed line


def cell_value(value: Any) -> Any:
    """A Python value as openpyxl should store it.

    Missing values and infinities → None (an empty cell; Excel has no NaN or inf),
    numpy scalars → Python numbers, timestamps → naive ``datetime`` (Excel has no
    time zones), timedeltas → days, lists → comma-joined text, mappings → JSON,
    strings → :func:`~diligence.report.safe.excel_text`, anything else → its text.
    """
    if isinstance(value, str):
        return excel_text(value)
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return None if math.isinf(v) else v
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(value)
        return (ts.tz_localize(None) if ts.tzinfo is not None else ts).to_pydatetime()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)):
        return pd.Timedelta(value).total_seconds() / 86_400
    if isinstance(value, Mapping):
        return excel_text(json.dumps(value, sort_keys=True, default=str))
    if isinstance(value, (list, tuple, set, np.ndarray)):
        items = sorted(map(str, value)) if isinstance(value, set) else map(str, value)
        return excel_text(", ".join(items))
    return excel_text(str(value))


def put(
    ws: Worksheet, row: int, col: int, value: Any, *, number_format: str | None = None, font: Font | None = None
) -> Any:
    """Write one cell safely and return it: text always as text, never as a formula."""
    v = cell_value(value)
    cell = ws.cell(row=row, column=col, value=v)
    if isinstance(v, str):
        cell.data_type = "s"  # openpyxl reads "=..." as a formula otherwise
        if v.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    elif number_format and v is not None and not isinstance(v, bool):
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    return cell


def _headers(columns: Sequence[Any]) -> list[str]:
    """Humanized header texts, single-line, non-empty and unique without regard to case
    (Excel table column names must be)."""
    out: list[str] = []
    seen: set[str] = set()
    for j, col in enumerate(columns, start=1):
        text = " ".join(str(excel_text(humanize(col))).split())[:250] or f"Column {j}"
        name, k = text, 2
        while name.lower() in seen:
            name = f"{text} ({k})"
            k += 1
        seen.add(name.lower())
        out.append(name)
    return out


def _flatten(df: pd.DataFrame) -> pd.DataFrame:
    """A named index becomes columns (an unnamed one is dropped); column levels are joined."""
    named_index = any(n is not None for n in df.index.names)
    frame = df.reset_index(drop=not named_index)
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.set_axis([" · ".join(str(p) for p in c if str(p) != "") for c in frame.columns], axis=1)
    return frame


def _width(header: str, s: pd.Series, kind: str) -> int:
    """A column width from its longest text (header or value), capped."""
    if kind in ("money", "int"):
        biggest = pd.to_numeric(s, errors="coerce").abs().max()
        longest = len(f"{biggest:,.0f}") if pd.notna(biggest) and np.isfinite(biggest) else 1
    elif kind in ("pct", "ratio", "months", "num", "date"):
        longest = 10
    else:
        lengths = s.head(2000).dropna().astype(str).str.len()
        longest = int(lengths.max()) if len(lengths) else 0
    return int(min(max(len(header) + 2, longest + 2, MIN_WIDTH), MAX_WIDTH))


def write_frame(
    ws: Worksheet,
    df: pd.DataFrame,
    *,
    top: int,
    title: str | None,
    table_name: str,
    widths: dict[int, int],
) -> tuple[int, int]:
    """Write one titled table at row ``top``; return (header row, next free row).

    Non-empty frames become an Excel table (``table_name``, banded style, autofilter)
    covering header and data; number formats follow each column's kind
    (:func:`~diligence.report.formats.infer_kind`). An empty frame gets its header
    and a "(none)" row but no Table, since Excel rejects a table without data rows.
    ``widths`` (column index → width) is updated with the widest content seen.
    """
    row = top
    if title:
        put(ws, row, 1, title, font=_SUBTITLE)
        row += 1
    frame = _flatten(df)
    header_row = row
    if frame.shape[1] == 0:
        put(ws, row, 1, "(none)")
        return header_row, row + 2
    headers = _headers(frame.columns)
    kinds = [infer_kind(c, frame.dtypes.iloc[j]) for j, c in enumerate(frame.columns)]
    formats = [EXCEL_NUMBER_FORMATS.get(k) for k in kinds]
    for j, text in enumerate(headers, start=1):
        put(ws, header_row, j, text, font=_HEADER).fill = _HEADER_FILL
    if frame.empty:
        put(ws, header_row + 1, 1, "(none)")
        return header_row, header_row + 3
    # Cell by cell is how openpyxl writes; values are converted once per column first.
    columns = [frame.iloc[:, j].astype(object).tolist() for j in range(frame.shape[1])]
    for i, values in enumerate(zip(*columns), start=header_row + 1):
        for j, (value, fmt) in enumerate(zip(values, formats), start=1):
            put(ws, i, j, value, number_format=fmt)
    last_row = header_row + len(frame)
    ref = f"A{header_row}:{get_column_letter(len(headers))}{last_row}"
    table = Table(displayName=table_name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True, showColumnStripes=False)
    ws.add_table(table)
    for j, (text, kind) in enumerate(zip(headers, kinds), start=1):
        widths[j] = max(widths.get(j, 0), _width(text, frame.iloc[:, j - 1], kind))
    return header_row, last_row + 2


def _apply_widths(ws: Worksheet, widths: Mapping[int, int]) -> None:
    for j, w in sorted(widths.items()):
        ws.column_dimensions[get_column_letter(j)].width = w


def write_tables(
    ws: Worksheet,
    tables: Mapping[str, pd.DataFrame],
    *,
    top: int,
    prefix: str,
    taken: set[str],
) -> int:
    """Stack titled tables on a sheet from row ``top``, freeze below the first header.

    Returns the next free row. Table names are ``<prefix>_<nn>_<title>``, unique in
    the workbook through ``taken``.
    """
    widths: dict[int, int] = {}
    row, first_header, charts_end = top, None, 0
    spans = []  # (first row, last row, columns) of each title and table
    for k, (title, df) in enumerate(tables.items(), start=1):
        name = excel_table_name(title, f"{prefix}_{k:02d}", taken)
        start = row
        header_row, row = write_frame(ws, df, top=row, title=title, table_name=name, widths=widths)
        first_header = first_header or header_row
        spans.append((start, row - 1, max(df.shape[1], 1), title, df, header_row))
    # Charts go in once every table is down: each sits right of the widest table beside it,
    # not of the widest on the sheet, so a wide move list far below does not push it away.
    for _start, _end, _width, title, df, header_row in spans:
        if title in NATIVE_CHARTS and len(df):
            at_row = max(header_row, charts_end + 1)
            last = at_row + _chart_rows(len(df))
            beside = max((w for a, b, w, *_ in spans if a <= last and b >= at_row), default=1)
            charts_end = _add_chart(ws, at_row, header_row, len(df), NATIVE_CHARTS[title], column=beside + 2)
    if first_header is not None:
        ws.freeze_panes = f"A{first_header + 1}"
    _apply_widths(ws, widths)
    return row


#: Step tables that get a native Excel chart beside them:
#: title -> (category column, value columns, grouping, chart title).
NATIVE_CHARTS: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "Coverage by segment": (
        "segment",
        ("rep_assigned", "partner_only", "orphaned", "unowned"),
        "percentStacked",
        "Accounts by assignment class",
    ),
    "Pipeline coverage by rep": ("rep_name", ("coverage",), "clustered", "Pipeline coverage, next 90 days"),
    "Win rate by segment": ("segment", ("win_rate",), "clustered", "Win rate, last 365 days"),
    "Capacity need by segment": ("segment", ("capacity_need", "headcount"), "clustered", "Reps needed and in seat"),
    "Owner changes by month": ("month", ("changes",), "clustered", "Owner changes by month"),
    "Near pipeline by segment": (
        "segment",
        ("fresh_pipeline", "aged_pipeline", "pushed_pipeline", "aged_and_pushed_pipeline"),
        "stacked",
        "Next quarter's pipeline by state of its deals",
    ),
    "Raw and quality-adjusted coverage by rep": (
        "rep_name",
        ("coverage", "quality_coverage"),
        "clustered",
        "Pipeline coverage, raw and quality-adjusted",
    ),
    "Sales cycle by segment": ("segment", ("cycle_days_median",), "clustered", "Median sales cycle (days)"),
    "Attainment of eligible reps": ("rep_name", ("attainment",), "clustered", "Attainment, reps with a quota all year"),
    "Departures by quarter and segment": ("quarter", ("departures",), "clustered", "Departures by quarter"),
    "Backtest a year back": (
        "segment",
        ("predicted", "actual"),
        "clustered",
        "Backtest: predicted and actual bookings",
    ),
    "Trade-off curve": ("tolerance", ("moves", "books_outside"), "clustered", "Accounts moved by balance tolerance"),
    "Plans side by side": ("plan", ("moves", "hires"), "clustered", "Plans: accounts moved and hires"),
    "Sensitivity of the value": (
        "label",
        ("value_at_low", "value_at_high"),
        "clustered",
        "Value of the plan at each end of an assumption",
    ),
}


#: The height of a sheet row at the default 15 points, in the centimetres charts are sized in.
_ROW_CM = 15 / 72 * 2.54


def _chart_height(n_rows: int) -> float:
    """A bar chart's height in centimetres for a table of ``n_rows`` rows."""
    return max(7.5, min(0.5 * n_rows + 3, 20))


def _chart_rows(n_rows: int) -> int:
    """The sheet rows a chart of a table of ``n_rows`` rows covers."""
    return math.ceil(_chart_height(n_rows) / _ROW_CM)


def _add_chart(
    ws: Worksheet,
    at_row: int,
    header_row: int,
    n_rows: int,
    spec: tuple[str, tuple[str, ...], str, str],
    *,
    column: int,
) -> int:
    """A native bar chart over a table, anchored at sheet column ``column`` from row ``at_row``
    (below the chart before it, when tables close together would put one chart over another).

    Columns are found by their header text (raw or humanized), so the chart follows the table
    whatever its column order; a missing column means no chart. Returns the last row the
    chart covers (``at_row - 1`` when there is none).
    """
    category, values, grouping, title = spec
    headers = {ws.cell(header_row, j).value: j for j in range(1, ws.max_column + 1)}
    headers = {name: headers.get(name, headers.get(humanize(name))) for name in (category, *values)}
    if None in headers.values():
        return at_row - 1
    chart = BarChart()
    chart.type = "bar" if n_rows > 8 else "col"
    chart.grouping = grouping
    if grouping in ("percentStacked", "stacked"):
        chart.overlap = 100
    chart.title = title
    chart.height, chart.width = _chart_height(n_rows), 16
    last = header_row + n_rows
    for v in values:
        col = headers[v]
        chart.add_data(Reference(ws, min_col=col, min_row=header_row, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=headers[category], min_row=header_row + 1, max_row=last))
    if len(values) == 1:
        chart.legend = None  # one series: the title says what it is
    else:
        chart.legend.position = "b"
    ws.add_chart(chart, f"{get_column_letter(column)}{at_row}")
    return at_row + _chart_rows(n_rows)


def _write_summary(ws: Worksheet, findings: Mapping[str, Any], parameters: Mapping[str, Any] | None) -> None:
    """Company, as-of date, the flag scorecard (status filled by colour), key metrics."""
    put(ws, 1, 1, findings.get("company") or "Company", font=_TITLE)
    put(ws, 2, 1, "Coverage diligence", font=Font(italic=True, color="616E7C"))
    put(ws, 3, 1, "As of", font=_BOLD)
    put(ws, 3, 2, findings.get("as_of"))
    put(ws, 4, 1, "Potential basis", font=_BOLD)
    put(ws, 4, 2, potential_basis_text(findings.get("potential_basis")))

    put(ws, 5, 1, "Red flags and warnings", font=_SUBTITLE)
    heads = ["Flag", "ID", "Status", "Value", "Threshold", "Detail"]
    for j, text in enumerate(heads, start=1):
        put(ws, 6, j, text, font=_HEADER).fill = _HEADER_FILL
    for j in (4, 5):  # over figures, which stand right
        ws.cell(6, j).alignment = _FIGURE
    row = 7
    for flag in findings.get("flags") or []:
        entry = BY_ID.get(str(flag.get("id", "")))
        kind = entry.kind if entry else "num"
        fill, color = TONE_COLORS[flag_tone(flag)]
        threshold = flag.get("threshold")
        put(ws, row, 1, humanize(flag.get("name") or ""))
        put(ws, row, 2, flag.get("id"), font=_BOLD)
        status = put(
            ws,
            row,
            3,
            STATUS_LABELS.get(str(flag.get("status")), flag.get("status")),
            font=Font(bold=True, color=color),
        )
        status.fill = PatternFill("solid", fgColor=fill)
        put(ws, row, 4, flag.get("value"), number_format=EXCEL_NUMBER_FORMATS.get(kind))
        if isinstance(threshold, (list, tuple)):
            put(ws, row, 5, flag_threshold_text(flag))
        else:
            put(ws, row, 5, threshold, number_format=EXCEL_NUMBER_FORMATS.get(kind))
        detail = put(ws, row, 6, flag.get("detail"))
        detail.alignment = Alignment(wrap_text=True, vertical="top", indent=1)  # a gap after the threshold
        # Excel does not grow a row for wrapped text written by a library: size it.
        lines = max(1, math.ceil(len(str(detail.value or "")) / _DETAIL_CHARS_PER_LINE))
        ws.row_dimensions[row].height = 15 * lines
        for col in range(1, 6):
            ws.cell(row, col).alignment = _FIGURE_TOP if col in (4, 5) else Alignment(vertical="top")
        row += 1
    if row == 7:
        put(ws, row, 1, "(no flags evaluated)")
        row += 1

    row += 1
    put(ws, row, 1, "Key metrics", font=_SUBTITLE)
    for j, text in enumerate(["Metric", "Value", "Name in findings.json"], start=1):
        put(ws, row + 1, j, text, font=_HEADER).fill = _HEADER_FILL
    ws.cell(row + 1, 2).alignment = _FIGURE
    ws.cell(row + 1, 3).alignment = Alignment(indent=1)
    # a name of findings.json (up to about 45 characters) spans the columns under Status, Value and Threshold
    ws.merge_cells(start_row=row + 1, start_column=3, end_row=row + 1, end_column=5)
    row += 2
    for name, value in (findings.get("metrics") or {}).items():
        put(ws, row, 1, metric_label(name, parameters))
        put(ws, row, 2, value, number_format=EXCEL_NUMBER_FORMATS.get(value_kind(name, value))).alignment = _FIGURE
        put(ws, row, 3, name).alignment = Alignment(indent=1)  # a gap after the figure before it
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=5)
        row += 1
    for col, width in zip("ABCDEF", (36, 14, 16, 14, 18, 90)):
        ws.column_dimensions[col].width = width


_DQ_FILE_COLUMNS = ["table", "file", "rows_read", "rows_kept", "rows_set_aside"]
_DQ_ISSUE_COLUMNS = ["level", "table", "file", "column", "count", "rows", "message", "action"]


def _records(items: Any, columns: list[str]) -> pd.DataFrame:
    """A list of dicts as a frame with exactly ``columns`` (missing keys blank, extras kept last)."""
    frame = pd.DataFrame.from_records(list(items or []))
    extra = [c for c in frame.columns if c not in columns]
    return frame.reindex(columns=columns + extra)


def _write_data_quality(ws: Worksheet, dq: Mapping[str, Any], taken: set[str]) -> None:
    put(ws, 1, 1, "Data quality", font=_TITLE)
    put(ws, 2, 1, "Errors", font=_BOLD)
    put(ws, 2, 2, dq.get("error_count"), number_format="#,##0")
    put(ws, 3, 1, "Warnings", font=_BOLD)
    put(ws, 3, 2, dq.get("warning_count"), number_format="#,##0")
    files = _records(dq.get("files"), _DQ_FILE_COLUMNS)
    issues = _records(dq.get("issues"), _DQ_ISSUE_COLUMNS)
    write_tables(ws, {"Files read": files, "Issues": issues}, top=5, prefix="dq", taken=taken)
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width or 0, 14)


def _write_definitions(
    ws: Worksheet,
    findings: Mapping[str, Any],
    definitions: Sequence[tuple[str, str]] | None,
    taken: set[str],
    parameters: Mapping[str, Any] | None = None,
) -> None:
    if definitions is None:
        known = metric_definitions(parameters)
        names = list(findings.get("metrics") or known)
        definitions = [(n, known.get(n, "")) for n in names]
    metrics = pd.DataFrame(list(definitions), columns=["term", "definition"])
    flags = pd.DataFrame(
        [
            {
                "id": f.get("id"),
                "flag": f.get("name"),
                "triggered_when": BY_ID[f["id"]].rule if f.get("id") in BY_ID else "",
                "threshold": flag_threshold_text(f),
            }
            for f in findings.get("flags") or []
        ],
        columns=["id", "flag", "triggered_when", "threshold"],
    )
    put(ws, 1, 1, "Definitions", font=_TITLE)
    write_tables(ws, {"Metrics": metrics, "Flags and thresholds": flags}, top=3, prefix="defs", taken=taken)
    for col, width in zip("ABCD", (34, 90, 60, 16)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_col=2, max_col=3):
        for cell in row:
            cell.alignment = _WRAP


def _print_setup(ws: Worksheet) -> None:
    """Print landscape, every column on one page width, the first row repeated."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.gridLines = False


def write_workbook(
    findings: dict,
    step_tables: dict[str, dict[str, pd.DataFrame]],
    out_path: Path,
    *,
    definitions: list[tuple[str, str]] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Path:
    """Write report.xlsx.

    Parameters
    ----------
    findings
        The SPEC §7 findings (company, as_of, metrics, flags, data_quality); missing
        keys are tolerated.
    step_tables
        Step title → {table title → DataFrame}, in display order. Each step gets a
        sheet named after it (≤ 31 characters, valid, unique).
    out_path
        Where to write the workbook (its folder is created if needed).
    definitions
        (term, definition) pairs for the Definitions sheet; by default the SPEC §4
        definitions of the metrics present in ``findings``.

    Returns
    -------
    Path
        ``out_path``. Same inputs give the same cell contents.
    """
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    sheet_names = {"summary", "data quality", "definitions"}
    table_names: set[str] = set()
    _write_summary(summary, findings, parameters)
    for k, (step, tables) in enumerate(step_tables.items(), start=1):
        ws = wb.create_sheet(excel_sheet_name(step, sheet_names))
        put(ws, 1, 1, step, font=_TITLE)
        write_tables(ws, tables, top=3, prefix=f"t{k:02d}", taken=table_names)
        live = all(t in tables for t in LIVE_PLAN_TABLES) and len(tables[LIVE_PLAN_TABLES[0]])
        if live and parameters and "scenarios" in parameters:
            from diligence.report.plan_sheet import SHEET_TITLE, write_plan_sheet  # it builds on this module

            need, inputs, economics = (tables[t] for t in LIVE_PLAN_TABLES)
            bookings = economics.set_index("item")["low"].get("Bookings, the year before the as-of date")
            write_plan_sheet(
                wb.create_sheet(excel_sheet_name(SHEET_TITLE, sheet_names)),
                need,
                inputs,
                parameters["scenarios"],
                None if bookings is None or pd.isna(bookings) else float(bookings),
            )
    _write_data_quality(wb.create_sheet("Data Quality"), findings.get("data_quality") or {}, table_names)
    _write_definitions(wb.create_sheet("Definitions"), findings, definitions, table_names, parameters)
    for ws in wb.worksheets:
        _print_setup(ws)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    save_repeatably(wb, out_path, findings.get("as_of"))
    return out_path


#: The scenario step's tables behind the capacity plan that recalculates (diligence.report.plan_sheet).
LIVE_PLAN_TABLES = ("Headcount needed by segment", "Capacity plan inputs", "Plan economics")

#: Zip entries' time stamp: the earliest a zip can hold, so that bytes repeat.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_STAMPS = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def save_repeatably(wb: Workbook, out_path: Path, as_of: Any = None) -> None:
    """Save ``wb`` so that the same contents give the same bytes (:func:`save_package`);
    its author is the kit."""
    wb.properties.creator = wb.properties.lastModifiedBy = "Coverage diligence kit"
    buffer = io.BytesIO()
    wb.save(buffer)
    save_package(buffer.getvalue(), out_path, as_of)


def save_package(blob: bytes, out_path: Path, as_of: Any = None) -> None:
    """Write an Office package (xlsx, pptx: a zip) so that the same contents give the same bytes.

    The document's created and modified stamps become the as-of date (midnight; a
    fixed date without one), and the zip is rewritten with every entry at
    :data:`_ZIP_EPOCH`, in the writer's order.
    """
    try:
        stamp = dt.datetime.fromisoformat(str(as_of)[:10]) if as_of else dt.datetime(2000, 1, 1)
    except ValueError:
        stamp = dt.datetime(2000, 1, 1)
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # writers stamp these with the clock
                data = _STAMPS.sub(rf"\g<1>{when}\g<2>", data.decode("utf-8")).encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, data)
