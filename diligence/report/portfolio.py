"""portfolio.html and portfolio.xlsx: the companies of a batch side by side.

Both are rendered from the roll-up entries of ``portfolio.json`` (SPEC §7), one per
company: ``company``, ``slug``, ``status`` ("ok" | "failed"), ``error``, ``flags``
(id → status) and ``metrics``, plus an optional ``as_of``. Nothing is recomputed:
the numbers are each company's own ``findings.json``.

The HTML page is one self-contained file in the report's house style (the report
CSS inlined, no script, no request to any other host), with relative links to each
company's ``<slug>/report.html``. Every client string is escaped by Jinja's
autoescape. The workbook writes every text cell as text (never a formula) through
:func:`diligence.report.excel.put`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

import diligence
from diligence.contract import METRIC_NAMES, WORSE, direction, metric_number
from diligence.registry import FLAGS
from diligence.report.definitions import METRIC_DEFINITIONS
from diligence.report.excel import TONE_COLORS, put, save_repeatably, write_frame, write_tables
from diligence.report.formats import (
    EXCEL_NUMBER_FORMATS,
    MISSING,
    STATUS_LABELS,
    flag_tone,
    format_value,
    humanize,
    value_kind,
)
from diligence.report.safe import excel_table_name, slugify
from diligence.resources import templates_dir

TEMPLATES_DIR = templates_dir()
REPORT_CSS = TEMPLATES_DIR / "report" / "static" / "report.css"
TEMPLATE = "portfolio.html.j2"

#: Metrics compared side by side in portfolio.html, in order (the workbook has them all).
KEY_METRICS: tuple[str, ...] = (
    "accounts_total",
    "rep_assigned_pct",
    "unassigned_pct",
    "unassigned_potential_pct",
    "contacted_90d_pct",
    "assigned_not_worked_pct",
    "attainment_max_min_ratio",
    "attainment_cv_max",
    "potential_max_min_ratio",
    "pipeline_coverage_median",
    "quality_pipeline_coverage_median",
    "stale_pipeline_pct",
    "win_rate",
    "reps_at_quota_pct",
    "top_fifth_bookings_share",
    "annual_attrition_observed",
    "channel_conflict_accounts",
    "multi_rep_accounts",
    "white_space_cells",
    "months_since_rebalance",
    "survey_mismatch_pct",
    "junior_on_enterprise_pct",
    "headcount_shortfall_pct",
    "cross_crm_conflicting_owners",
)
#: Metrics drawn as a small line per company in portfolio.html's trends (the workbook has every metric).
TREND_METRICS: tuple[str, ...] = (
    "unassigned_pct",
    "assigned_not_worked_pct",
    "attainment_max_min_ratio",
    "pipeline_coverage_median",
    "reps_at_quota_pct",
    "win_rate",
)
#: A trend line's box in CSS pixels.
SPARK_W, SPARK_H, SPARK_PAD = 96, 26, 3
#: Metrics whose name does not say how they read.
_METRIC_KINDS = {
    "months_since_rebalance": "months",
    "annual_attrition_observed": "pct",
    "potential_bookings_rank_corr": "num",  # a correlation, not an amount
}
#: Heatmap cell text per tone (the colour says red flag or warning; the column says which).
HEATMAP_LABELS = {"red": "Raised", "amber": "Raised", "green": "Clear", "grey": "n/a"}

_HEATMAP_CSS = "\n".join(
    [
        ".dk-portfolio .dk-summary { margin-bottom: 40px; }",
        "table.dk-heatmap th.dk-hm-head { text-align: center; cursor: help; }",
        "table.dk-heatmap td.dk-hm { text-align: center; font-size: 11px; font-weight: 600; white-space: nowrap; padding: 6px 4px; }",
        "table.dk-heatmap th.dk-hm-head { padding: 8px 4px; }",
        "table.dk-heatmap td.dk-hm-company { font-weight: 600; white-space: nowrap; }",
        "table.dk-heatmap td.dk-hm-failed { color: #9c0006; font-style: italic; text-align: center; }",
        ".dk-hm-key { display: inline-block; padding: 0 6px; font-size: 11px; font-weight: 600; }",
        "th a.dk-head-link { color: #fff; }",
        "td.dk-trend { text-align: center; white-space: nowrap; padding: 6px 6px; }",
        "th.dk-trend-head { text-align: center; font-size: 12px; }",
        ".dk-spark polyline { fill: none; stroke: #8a94a6; stroke-width: 1.5; }",
        ".dk-spark circle { fill: #8a94a6; }",
        ".dk-spark-green circle:last-of-type { fill: #2e7d32; } .dk-spark-red circle:last-of-type { fill: #c62828; }",
        ".dk-trend-values { font-size: 11px; color: var(--dk-muted); font-variant-numeric: tabular-nums; }",
        "td.dk-trend-flags { font-size: 12px; white-space: nowrap; }",
        ".dk-trend-date { display: inline-block; min-width: 6.5em; color: var(--dk-muted); }",
        "td.dk-error { color: #9c0006; overflow-wrap: anywhere; max-width: 32em; }",
        ".dk-hm-legend { display: flex; flex-wrap: wrap; gap: 2px 18px; margin: 8px 0 0; font-size: 12px; }",
        ".dk-hm-legend div { display: flex; gap: 4px; }",
        ".dk-hm-legend dt { font-weight: 700; }",
        ".dk-hm-legend dd { margin: 0; color: var(--dk-muted); }",
        *(
            # Beats the striped rows' background of the house style.
            f"table.dk-heatmap tbody tr td.dk-hm.dk-hm-{tone}, .dk-hm-key.dk-hm-{tone} "
            f"{{ background: #{fill}; color: #{ink}; }}"
            for tone, (fill, ink) in TONE_COLORS.items()
        ),
    ]
)


def report_link(entry: Mapping[str, Any]) -> str | None:
    """The relative link to a company's report, or None when its run failed.

    The slug is slugified again, so the link can only ever name a folder inside the
    batch's output folder whatever the entry holds.
    """
    if entry.get("status") != "ok":
        return None
    return f"{slugify(str(entry.get('slug') or entry.get('company') or ''))}/report.html"


def flag_columns(companies: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The heatmap's columns: the SPEC §5 flags in order, then any other id found (sorted)."""
    known = {s.id: s.name for s in FLAGS}
    seen = {str(fid) for c in companies for fid in (c.get("flags") or {})}
    extra = sorted(seen - set(known))
    return [{"id": fid, "name": humanize(known.get(fid, fid))} for fid in [*known, *extra]]


def metric_names(companies: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every metric of any company: the SPEC §4 ones in order, then others as first seen."""
    found = dict.fromkeys(str(m) for c in companies for m in (c.get("metrics") or {}))
    return [m for m in METRIC_NAMES if m in found] + [m for m in found if m not in METRIC_NAMES]


def metric_kind(name: str, value: Any) -> str:
    """How one metric value reads (``pct``, ``ratio``, ``months``, ``int``, ...)."""
    return _METRIC_KINDS.get(name) or value_kind(name, value)


def format_metric(name: str, value: Any) -> str:
    """One metric value as the report shows it ("31.2%", "2.4×", "—")."""
    return format_value(value, metric_kind(name, value))


def _as_of_range(companies: Sequence[Mapping[str, Any]]) -> str:
    dates = sorted({str(c["as_of"]) for c in companies if c.get("as_of")})
    if not dates:
        return ""
    return dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"


def _title(title: str) -> str:
    return str(title).strip() or "Portfolio"


def portfolio_context(companies: Sequence[Mapping[str, Any]], *, title: str = "Portfolio") -> dict[str, Any]:
    """Everything portfolio.html shows, as plain (unescaped) values for the template."""
    columns = flag_columns(companies)
    heatmap = []
    for c in companies:
        flags = c.get("flags") or {}
        tones = [flag_tone({"id": f["id"], "status": flags.get(f["id"])}) for f in columns]
        heatmap.append(
            {
                "company": str(c.get("company") or ""),
                "link": report_link(c),
                "failed": c.get("status") != "ok",
                "cells": [
                    {
                        "tone": tone,
                        "label": HEATMAP_LABELS[tone],
                        "title": f"{f['id']} {f['name']}: {STATUS_LABELS.get(str(flags.get(f['id'])), 'Not assessed')}",
                    }
                    for f, tone in zip(columns, tones)
                ],
                "red": tones.count("red"),
                "amber": tones.count("amber"),
            }
        )
    reported = [c for c in companies if c.get("status") == "ok"]
    found = set(metric_names(reported))
    metric_rows = [
        {
            "label": humanize(m),
            "definition": METRIC_DEFINITIONS.get(m, ""),
            "cells": [format_metric(m, (c.get("metrics") or {}).get(m)) for c in reported],
        }
        for m in KEY_METRICS
        if m in found
    ]
    table = [
        {
            "company": str(c.get("company") or ""),
            "status": "ok" if c.get("status") == "ok" else "failed",
            "status_label": "Report" if c.get("status") == "ok" else "Failed",
            "tone": "green" if c.get("status") == "ok" else "red",
            "as_of": str(c.get("as_of") or "—"),
            "link": report_link(c),
            "error": str(c.get("error") or ""),
        }
        for c in companies
    ]
    n_ok = len(reported)
    trends = trend_rows(companies) if any("trend" in c for c in companies) else None
    trend_dates = sorted({r["as_of"] for row in trends or [] for r in row["runs"]})
    for row in trends or []:
        by_date = {r["as_of"]: r for r in row["runs"]}
        row["by_date"] = [by_date.get(d) for d in trend_dates]
    return {
        "trends": trends,
        "trend_dates": trend_dates,
        "trend_metrics": [{"name": m, "label": humanize(m)} for m in TREND_METRICS],
        "title": _title(title),
        "counts": {"total": len(companies), "ok": n_ok, "failed": len(companies) - n_ok},
        "as_of_range": _as_of_range(companies),
        "flag_columns": columns,
        "heatmap": heatmap,
        "labels": HEATMAP_LABELS,
        "metric_companies": [{"company": str(c.get("company") or ""), "link": report_link(c)} for c in reported],
        "metric_rows": metric_rows,
        "companies": table,
        "version": diligence.__version__,
    }


def sparkline(values: Sequence[Any]) -> dict[str, Any]:
    """A small line through ``values`` (oldest first; blanks skipped) in a
    :data:`SPARK_W` × :data:`SPARK_H` box: ``points`` (an SVG polyline's, numbers
    only) and ``dots`` (x, y of each value); the lowest value at the bottom, a flat
    line in the middle."""
    known = [(i, v) for i, v in enumerate(metric_number(x) for x in values) if v is not None]
    if not known:
        return {"points": "", "dots": []}
    lo, hi = min(v for _, v in known), max(v for _, v in known)
    n = max(len(values) - 1, 1)
    width, height = SPARK_W - 2 * SPARK_PAD, SPARK_H - 2 * SPARK_PAD
    dots = [
        (
            round(SPARK_PAD + (i / n if len(values) > 1 else 0.5) * width, 1),
            round(SPARK_PAD + (0.5 if hi == lo else (hi - v) / (hi - lo)) * height, 1),
        )
        for i, v in known
    ]
    return {"points": " ".join(f"{x},{y}" for x, y in dots), "dots": dots}


def trend_rows(companies: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """portfolio.html's trends: per company, a small line per :data:`TREND_METRICS`
    metric over its runs (first and last value, the last change's direction by the
    metric's own sense) and the flags raised at each run; ``new`` when the company
    had no earlier run."""
    rows = []
    for c in companies:
        trend = [p for p in c.get("trend") or [] if isinstance(p, Mapping)]
        now_ok = c.get("status") == "ok"
        cells = []
        for m in TREND_METRICS:
            values = [(p.get("metrics") or {}).get(m) for p in trend]
            last_two = [v for v in values if metric_number(v) is not None][-2:]
            moved = direction(m, *last_two) if len(last_two) == 2 else None
            cells.append(
                {
                    **sparkline(values),
                    "first": format_metric(m, values[0]) if values else MISSING,
                    "last": format_metric(m, values[-1]) if values else MISSING,
                    "tone": {"better": "green", WORSE: "red"}.get(moved or "", "grey"),
                    "runs": len(values),
                }
            )
        runs = []
        for p in trend:
            flags = p.get("flags") or {}
            raised = [fid for fid, status in flags.items() if status == "triggered"]
            runs.append(
                {
                    "as_of": str(p.get("as_of") or ""),
                    "red": sum(not fid.upper().startswith("W") for fid in raised),
                    "amber": sum(fid.upper().startswith("W") for fid in raised),
                    "raised": ", ".join(raised),
                }
            )
        rows.append(
            {
                "company": str(c.get("company") or ""),
                "link": report_link(c),
                "new": len(trend) <= 1 and now_ok,
                "failed": not now_ok,
                "cells": cells,
                "runs": runs,
            }
        )
    return rows


def render_portfolio_html(
    companies: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = "Portfolio"
) -> Path:
    """Write portfolio.html: flag heatmap, key metrics side by side, companies with errors.

    Parameters
    ----------
    companies
        Roll-up entries (see the module docstring), in the order to show them.
    path
        Where to write the page.
    title
        The page's title (e.g. the portfolio's name).

    Returns
    -------
    Path
        ``path``. The page is deterministic for the same entries: no date of
        rendering, no random ids.
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / "portfolio"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    context = portfolio_context(companies, title=title)
    # Our own stylesheet, inlined verbatim: escaping would break its quoted font names.
    css = Markup(REPORT_CSS.read_text(encoding="utf-8"))
    page = env.get_template(TEMPLATE).render(**context, css=css, extra_css=Markup(_HEATMAP_CSS))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(re.sub(r"[ \t]+\n", "\n", page), encoding="utf-8")
    return path


# --- workbook ------------------------------------------------------------------------


def _flags_frame(companies: Sequence[Mapping[str, Any]], columns: list[dict[str, str]]) -> pd.DataFrame:
    rows = []
    for c in companies:
        ok = c.get("status") == "ok"
        flags = c.get("flags") or {}
        rows.append(
            {
                "Company": str(c.get("company") or ""),
                "Status": "OK" if ok else "Failed",
                **{
                    f["id"]: (STATUS_LABELS.get(str(flags.get(f["id"])), "Not assessed") if ok else MISSING)
                    for f in columns
                },
            }
        )
    return pd.DataFrame(rows, columns=["Company", "Status", *(f["id"] for f in columns)], dtype=object)


def _metrics_frame(companies: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    names = metric_names(companies)
    rows = [
        {"company": str(c.get("company") or ""), **{m: (c.get("metrics") or {}).get(m) for m in names}}
        for c in companies
        if c.get("status") == "ok"
    ]
    frame = pd.DataFrame(rows, columns=["company", *names])
    # Numbers stay numbers (number formats by metric); a column of nothing but None stays text.
    return frame.astype({m: "float64" for m in names if frame[m].map(_is_number_or_none).all()})


def _is_number_or_none(x: Any) -> bool:
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))


def _companies_frame(companies: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "Company": str(c.get("company") or ""),
            "Folder": str(c.get("slug") or ""),
            "Status": "OK" if c.get("status") == "ok" else "Failed",
            "As of": str(c.get("as_of") or ""),
            "Report": report_link(c) or "",
            "Error": str(c.get("error") or ""),
        }
        for c in companies
    ]
    return pd.DataFrame(rows, columns=["Company", "Folder", "Status", "As of", "Report", "Error"], dtype=object)


def _fill_rule(text: str, tone: str) -> CellIsRule:
    fill, ink = TONE_COLORS[tone]
    return CellIsRule(
        operator="equal",
        formula=[f'"{text}"'],
        fill=PatternFill("solid", fgColor=fill, bgColor=fill),
        font=Font(color=ink, bold=True),
    )


def write_portfolio_workbook(
    companies: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = "Portfolio"
) -> Path:
    """Write portfolio.xlsx: sheets "Flags", "Metrics" and "Companies".

    "Flags" has one row per company and one column per flag, each cell
    Triggered / Clear / Not assessed, coloured by conditional formatting (red for a
    triggered red flag RF…, amber for a triggered warning W…, green clear, grey not
    assessed; a failed run's status red), so the colours follow the text if edited.
    "Metrics" has every metric of the companies with a report, with number formats
    by metric. With trends (entries carrying ``trend``: a batch run with
    ``--previous``), "Trends" has one row per company and run. "Companies" lists status, as-of, the relative link to each report
    (a hyperlink) and the error of failed runs. Client strings are always text.
    """
    columns = flag_columns(companies)
    wb = Workbook()
    taken: set[str] = set()
    top = 3  # row 1: title; the table's own title sits on row ``top``, its header below

    ws = wb.active
    ws.title = "Flags"
    put(ws, 1, 1, f"{_title(title)}: red flags by company", font=Font(bold=True, size=14, color="1F3B5C"))
    write_tables(ws, {"Red flags and warnings": _flags_frame(companies, columns)}, top=top, prefix="flags", taken=taken)
    first, last = top + 2, top + 1 + len(companies)
    if companies:
        red_cols = [j for j, f in enumerate(columns, start=3) if not f["id"].upper().startswith("W")]
        amber_cols = [j for j, f in enumerate(columns, start=3) if f["id"].upper().startswith("W")]
        for cols, tone in ((red_cols, "red"), (amber_cols, "amber")):
            for j in cols:
                ws.conditional_formatting.add(
                    f"{get_column_letter(j)}{first}:{get_column_letter(j)}{last}", _fill_rule("Triggered", tone)
                )
        if columns:
            span = f"C{first}:{get_column_letter(2 + len(columns))}{last}"
            ws.conditional_formatting.add(span, _fill_rule("Clear", "green"))
            ws.conditional_formatting.add(span, _fill_rule("Not assessed", "grey"))
        ws.conditional_formatting.add(f"B{first}:B{last}", _fill_rule("Failed", "red"))
        for j in range(3, 3 + len(columns)):
            ws.column_dimensions[get_column_letter(j)].width = 13
    legend = top + len(companies) + 3
    put(ws, legend, 1, "Flags", font=Font(bold=True))
    for k, f in enumerate(columns, start=1):
        put(ws, legend + k, 1, f["id"], font=Font(bold=True))
        put(ws, legend + k, 2, f["name"])

    ws = wb.create_sheet("Metrics")
    put(ws, 1, 1, f"{_title(title)}: metrics by company", font=Font(bold=True, size=14, color="1F3B5C"))
    write_tables(ws, {"Metrics (SPEC §4)": _metrics_frame(companies)}, top=top, prefix="metrics", taken=taken)

    ws = wb.create_sheet("Companies")
    put(ws, 1, 1, f"{_title(title)}: companies", font=Font(bold=True, size=14, color="1F3B5C"))
    write_tables(ws, {"Runs": _companies_frame(companies)}, top=top, prefix="companies", taken=taken)
    for i, c in enumerate(companies, start=top + 2):
        link = report_link(c)
        if link:
            ws.cell(row=i, column=5).hyperlink = link
        if c.get("status") != "ok":
            ws.cell(row=i, column=3).font = Font(bold=True, color=TONE_COLORS["red"][1])

    if any("trend" in c for c in companies):
        ws = wb.create_sheet("Trends")
        put(ws, 1, 1, f"{_title(title)}: each company across its runs", font=Font(bold=True, size=14, color="1F3B5C"))
        row = write_tables(ws, {"Runs by company": _trends_frame(companies)}, top=top, prefix="trends", taken=taken)
        _write_trend_charts(ws, companies, row, taken)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_repeatably(wb, path)
    return path


def _write_trend_charts(ws: Any, companies: Sequence[Mapping[str, Any]], top: int, taken: set[str]) -> None:
    """Below the runs: for each of :data:`TREND_METRICS`, the metric by as-of date
    (rows) and company (columns), with a native line chart beside it."""
    dates = sorted({str(p.get("as_of")) for c in companies for p in c.get("trend") or [] if p.get("as_of")})
    named = [c for c in companies if c.get("trend")]
    if not dates or not named:
        return
    widths: dict[int, int] = {}
    row = top
    for k, m in enumerate(TREND_METRICS, start=1):
        names = [str(c.get("company") or "") for c in named]  # the roll-up's companies: unique names
        series = [{str(p.get("as_of")): (p.get("metrics") or {}).get(m) for p in c["trend"]} for c in named]
        frame = pd.DataFrame(
            [[d, *(metric_number(s.get(d)) for s in series)] for d in dates], columns=["as_of", *names]
        )
        title = f"{humanize(m)} by run"
        header, row = write_frame(
            ws, frame, top=row, title=title, table_name=excel_table_name(title, f"trend_{k:02d}", taken), widths=widths
        )
        fmt = EXCEL_NUMBER_FORMATS.get(metric_kind(m, 0.5))
        for i in range(header + 1, header + 1 + len(dates)):
            for j in range(2, 2 + len(names)):
                if fmt:
                    ws.cell(i, j).number_format = fmt
        chart = LineChart()
        chart.title = humanize(m)
        chart.height, chart.width = 6.5, 14
        last = header + len(dates)
        chart.add_data(
            Reference(ws, min_col=2, max_col=1 + len(names), min_row=header, max_row=last), titles_from_data=True
        )
        chart.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=last))
        chart.legend.position = "b"
        ws.add_chart(chart, f"{get_column_letter(len(names) + 3)}{header}")
        row = max(row, header + 14)  # room for the chart before the next table


def _trends_frame(companies: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per company and run: as-of, flags raised (red flags, warnings, which)
    and every SPEC metric of that run."""
    names = [
        m for m in METRIC_NAMES if any(m in (p.get("metrics") or {}) for c in companies for p in c.get("trend") or [])
    ]
    rows = []
    for c in companies:
        for p in c.get("trend") or []:
            flags = p.get("flags") or {}
            raised = [fid for fid, status in flags.items() if status == "triggered"]
            rows.append(
                {
                    "company": str(c.get("company") or ""),
                    "as_of": str(p.get("as_of") or ""),
                    "red_flags": sum(not f.upper().startswith("W") for f in raised),
                    "warnings": sum(f.upper().startswith("W") for f in raised),
                    "raised": ", ".join(raised),
                    **{m: metric_number((p.get("metrics") or {}).get(m)) for m in names},
                }
            )
    frame = pd.DataFrame(rows, columns=["company", "as_of", "red_flags", "warnings", "raised", *names])
    return frame.astype({"red_flags": "int64", "warnings": "int64", **dict.fromkeys(names, "float64")})
