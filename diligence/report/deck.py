"""report.pptx: the findings as the slide deck an investment committee reads (python-pptx).

Slides, 16:9: title; executive summary (the flag counts and the key findings as
action titles); the scorecard as a native table; one slide per triggered red
flag and per triggered warning the key findings name (action title, a native
chart or the evidence table, three lines of evidence with their numbers, what
to do about it); the scenario and value slide; appendices (data received and
its quality, flag definitions and thresholds).

Every sentence comes from the run's own results (the step narratives, the
evaluated flags, the registry's headlines and actions), so the deck says what
the report says. Client strings are only ever text runs (python-pptx escapes
them), cleaned of the control characters XML cannot hold, and cut with an
ellipsis to the room they have, so nothing overflows its slide. Each slide uses
the "Title Only" layout with its title filled, so no placeholder is left empty;
the footer (company, page number) is plain text boxes.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from diligence.registry import BY_ID, FLAGS, spec
from diligence.report.definitions import metric_definitions, metric_label, potential_basis_text
from diligence.report.display import readable_economics, readable_metrics
from diligence.report.excel import NATIVE_CHARTS, save_package
from diligence.report.formats import (
    EXCEL_NUMBER_FORMATS,
    STATUS_LABELS,
    flag_threshold_text,
    flag_tone,
    flag_value_text,
    format_value,
    humanize,
    infer_kind,
    is_missing,
)
from diligence.report.narrative import ranked_flags
from diligence.report.quality import data_quality_line
from diligence.report.safe import excel_text

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
BODY_TOP = Inches(1.45)
FOOTER_TOP = Inches(7.0)
BODY_BOTTOM = Inches(6.85)
FONT = "Calibri"

NAVY = RGBColor(0x1F, 0x3B, 0x5C)
INK = RGBColor(0x1F, 0x29, 0x33)
MUTED = RGBColor(0x61, 0x6E, 0x7C)
RULE = RGBColor(0xD9, 0xE2, 0xEC)
SOFT = RGBColor(0xF5, 0xF7, 0xFA)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
#: Status tone -> (fill, text) as the workbook's scorecard colours them.
TONES: dict[str, tuple[RGBColor, RGBColor]] = {
    "red": (RGBColor(0xFF, 0xC7, 0xCE), RGBColor(0x9C, 0x00, 0x06)),
    "amber": (RGBColor(0xFF, 0xEB, 0x9C), RGBColor(0x9C, 0x57, 0x00)),
    "green": (RGBColor(0xC6, 0xEF, 0xCE), RGBColor(0x00, 0x61, 0x00)),
    "grey": (RGBColor(0xE7, 0xE6, 0xE6), RGBColor(0x59, 0x59, 0x59)),
}
SERIES_COLORS = (NAVY, RGBColor(0xE0, 0x7A, 0x5F), RGBColor(0x9A, 0xA5, 0xB1), RGBColor(0x2E, 0x8B, 0x57))
#: Mean width of a character, in ems, for cutting text to its box (generous: the
#: deck may be opened where Calibri is replaced by a wider face).
_EM_PER_CHAR = 0.53
_LINE = 1.2  # line height, in multiples of the font size


class StepResult(Protocol):
    """What the deck reads of a step's recorded results
    (:class:`diligence.execution.results.StepResult`)."""

    metrics: dict[str, Any]
    findings: list[str]
    tables: dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Evidence:
    """What a flag's slide shows beside its evidence: a chart over a step table
    (``chart``: a :data:`~diligence.report.excel.NATIVE_CHARTS` spec) or, where
    no chart says it better, the first rows of the table (``columns``, kept to
    the rows where ``where`` is true)."""

    table: str
    chart: tuple[str, tuple[str, ...], str, str] | None = None
    columns: tuple[str, ...] = ()
    where: str | None = None


#: Flag id -> the evidence its slide shows.
FLAG_EVIDENCE: dict[str, Evidence] = {
    "RF1": Evidence("Coverage by segment", NATIVE_CHARTS["Coverage by segment"]),
    "RF2": Evidence(
        "Comparable groups",
        (
            "group",
            ("attainment_min", "attainment_mean", "attainment_max"),
            "clustered",
            "Attainment in each comparable group: lowest, mean, highest",
        ),
    ),
    "RF3": Evidence("Owner changes by month", NATIVE_CHARTS["Owner changes by month"]),
    "RF4": Evidence(
        "Survey against CRM",
        columns=("rep_name", "described_segment", "book_segment", "described_region", "book_region"),
        where="mismatch",
    ),
    "RF5": Evidence("Channel conflicts", columns=("account_name", "direct_owner_name", "partner_name", "overlap_days")),
    "RF6": Evidence("Capacity need by segment", NATIVE_CHARTS["Capacity need by segment"]),
    "W1": Evidence(
        "Assigned not worked", columns=("account_name", "segment", "potential", "owner_name", "last_activity_date")
    ),
    "W2": Evidence(
        "Comparable groups", ("group", ("attainment_cv",), "clustered", "Coefficient of variation of attainment")
    ),
    "W3": Evidence(
        "Comparable groups",
        (
            "group",
            ("potential_min", "potential_mean", "potential_max"),
            "clustered",
            "Book potential: lowest, mean, highest",
        ),
    ),
    "W4": Evidence("White space grid", columns=("segment", "region", "accounts", "potential"), where="white_space"),
    "W5": Evidence("Pipeline coverage by rep", NATIVE_CHARTS["Pipeline coverage by rep"]),
    "W6": Evidence(
        "Seniority on enterprise accounts",
        columns=("segment", "level", "accounts", "share_of_segment", "potential"),
        where="enterprise",
    ),
    "W7": Evidence("Multi-rep accounts", columns=("account_name", "reps", "rep_names", "max_overlap_days")),
    "W8": Evidence(
        "Cross-CRM duplicates",
        columns=("account_name_a", "source_company_a", "account_name_b", "source_company_b"),
    ),
    "W9": Evidence("Near pipeline by segment", NATIVE_CHARTS["Near pipeline by segment"]),
    "W10": Evidence("Attainment of eligible reps", NATIVE_CHARTS["Attainment of eligible reps"]),
}

MAX_TABLE_ROWS = 10
_NUMBER = re.compile(r"\d[\d,.]*")
MAX_CHART_CATEGORIES = 30


# ---------------------------------------------------------------- text helpers


def clean(text: Any) -> str:
    """Client or computed text as a slide may hold it: a string without the
    control characters XML refuses, line breaks as spaces."""
    if is_missing(text):
        return ""
    return " ".join(str(excel_text(str(text))).split())


def fit(text: Any, width: int, size: float, lines: int = 1) -> str:
    """``text`` cut with an ellipsis to what ``lines`` lines of a box ``width``
    EMU wide hold at ``size`` points."""
    text = clean(text)
    room = max(4, int(lines * Emu(width).pt / (size * _EM_PER_CHAR)))
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _style(run: Any, size: float, *, bold: bool = False, color: RGBColor = INK, italic: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    run.font.color.rgb = color


def text_box(
    slide: Any,
    left: int,
    top: int,
    width: int,
    height: int,
    paragraphs: Sequence[str | tuple[str, dict[str, Any]]],
    *,
    size: float = 14,
    color: RGBColor = INK,
    align: PP_ALIGN | None = None,
    space_after: float = 6,
    fill: RGBColor | None = None,
) -> Any:
    """A text box of ``paragraphs`` (a string, or ``(text, style)`` with ``size``,
    ``bold``, ``color``, ``italic`` or ``lines``), each cut to the lines its box holds."""
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = Inches(0.08)
    frame.margin_top = frame.margin_bottom = Inches(0.04)
    if fill is not None:
        box.fill.solid()
        box.fill.fore_color.rgb = fill
    inner = width - Inches(0.16)
    for i, item in enumerate(paragraphs):
        text, style = (item, {}) if isinstance(item, str) else item
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        p.space_after = Pt(space_after)
        if align is not None:
            p.alignment = align
        s = style.get("size", size)
        run = p.add_run()
        run.text = fit(text, inner, s, style.get("lines", 1))
        _style(
            run, s, bold=style.get("bold", False), color=style.get("color", color), italic=style.get("italic", False)
        )
    return box


def lines_needed(text: str, width: int, size: float) -> int:
    """How many lines ``text`` takes in a box ``width`` EMU wide at ``size`` points."""
    per_line = max(1, int(Emu(width - Inches(0.16)).pt / (size * _EM_PER_CHAR)))
    return max(1, math.ceil(len(clean(text)) / per_line))


# ---------------------------------------------------------------- slide frame


class Deck:
    """A 16:9 presentation whose slides share a title, a footer and a page number."""

    def __init__(self, footer: str) -> None:
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = SLIDE_W, SLIDE_H
        self.footer = clean(footer)
        self._title_only = self.prs.slide_layouts[5]
        self._title_layout = self.prs.slide_layouts[0]

    def slide(self, title: str, notes: Sequence[str] = (), *, size: float = 24) -> Any:
        """A new slide with its (action) title, the footer and speaker ``notes``."""
        slide = self.prs.slides.add_slide(self._title_only)
        shape = slide.shapes.title
        shape.left, shape.top, shape.width, shape.height = MARGIN, Inches(0.3), SLIDE_W - 2 * MARGIN, Inches(1.0)
        frame = shape.text_frame
        frame.word_wrap = True
        frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        frame.text = fit(title, shape.width - Inches(0.2), size, 2)
        for p in frame.paragraphs:
            p.alignment = PP_ALIGN.LEFT
            for run in p.runs:
                _style(run, size, bold=True, color=NAVY)
        rule = slide.shapes.add_shape(1, MARGIN, Inches(1.32), SLIDE_W - 2 * MARGIN, Pt(1.5))
        rule.fill.solid()
        rule.fill.fore_color.rgb = RULE
        rule.line.fill.background()
        rule.shadow.inherit = False
        self._footer(slide)
        self._notes(slide, notes)
        return slide

    def title_slide(self, title: str, subtitle: Sequence[str]) -> Any:
        slide = self.prs.slides.add_slide(self._title_layout)
        head, sub = slide.placeholders[0], slide.placeholders[1]
        head.left, head.top, head.width, head.height = MARGIN, Inches(2.2), SLIDE_W - 2 * MARGIN, Inches(1.5)
        sub.left, sub.top, sub.width, sub.height = MARGIN, Inches(3.9), SLIDE_W - 2 * MARGIN, Inches(2.2)
        head.text_frame.word_wrap = True
        head.text_frame.text = fit(title, head.width - Inches(0.2), 40, 2)
        for run in head.text_frame.paragraphs[0].runs:
            _style(run, 40, bold=True, color=NAVY)
        head.text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT
        lines = [clean(s) for s in subtitle if clean(s)] or ["Coverage diligence"]
        sub.text_frame.word_wrap = True
        for i, text in enumerate(lines):
            p = sub.text_frame.paragraphs[0] if i == 0 else sub.text_frame.add_paragraph()
            p.alignment = PP_ALIGN.LEFT
            run = p.add_run()
            run.text = fit(text, sub.width - Inches(0.2), 18)
            _style(run, 18 if i == 0 else 16, bold=i == 0, color=INK if i == 0 else MUTED)
        band = slide.shapes.add_shape(1, 0, 0, SLIDE_W, Inches(0.35))
        band.fill.solid()
        band.fill.fore_color.rgb = NAVY
        band.line.fill.background()
        band.shadow.inherit = False
        self._footer(slide)
        return slide

    def _footer(self, slide: Any) -> None:
        number = len(self.prs.slides)
        width = SLIDE_W - 2 * MARGIN - Inches(1.0)
        text_box(slide, MARGIN, FOOTER_TOP, width, Inches(0.32), [self.footer], size=9, color=MUTED)
        text_box(
            slide, SLIDE_W - MARGIN - Inches(1.0), FOOTER_TOP, Inches(1.0), Inches(0.32), [str(number)],
            size=9, color=MUTED, align=PP_ALIGN.RIGHT,
        )  # fmt: skip

    @staticmethod
    def _notes(slide: Any, notes: Sequence[str]) -> None:
        text = "\n\n".join(clean(n) for n in notes if clean(n))
        if text:
            slide.notes_slide.notes_text_frame.text = text

    def save(self, path: Path, as_of: Any = None) -> Path:
        buffer = io.BytesIO()
        self.prs.save(buffer)
        save_package(buffer.getvalue(), path, as_of)
        return path


# ---------------------------------------------------------------- tables and charts


def table(
    slide: Any,
    left: int,
    top: int,
    width: int,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    widths: Sequence[float] | None = None,
    size: float = 11,
    lines: int = 1,
    tones: Sequence[Sequence[str | None]] | None = None,
    align_right: Sequence[bool] | None = None,
) -> Any:
    """A native table: a navy header row, then ``rows`` of text cut to ``lines``
    lines of their column; ``tones`` colours a cell as its status does."""
    n_cols = len(header)
    shares = list(widths or [1.0] * n_cols)
    col_widths = [int(width * w / sum(shares)) for w in shares]
    row_h = int(Pt(size * _LINE * lines + 7))
    head_h = int(Pt(size * _LINE * 2 + 7)) if any(len(h) > 18 for h in header) else row_h
    shape = slide.shapes.add_table(len(rows) + 1, n_cols, left, top, sum(col_widths), head_h + row_h * len(rows))
    tbl = shape.table
    tbl.first_row = True
    for j, w in enumerate(col_widths):
        tbl.columns[j].width = w
    tbl.rows[0].height = head_h
    for i in range(1, len(rows) + 1):
        tbl.rows[i].height = row_h
    right = list(align_right or [False] * n_cols)
    for j, text in enumerate(header):
        fill_cell(
            tbl.cell(0, j), fit(text, col_widths[j] - Inches(0.1), size, 2), size, bold=True, color=WHITE, fill=NAVY
        )
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            tone = tones[i - 1][j] if tones else None
            fill, color = TONES[tone] if tone else (WHITE if i % 2 else SOFT, INK)
            fill_cell(
                tbl.cell(i, j),
                fit(value, col_widths[j] - Inches(0.1), size, lines),
                size,
                color=color,
                fill=fill,
                bold=bool(tone),
                right=right[j],
            )
    return shape


def fill_cell(cell: Any, text: str, size: float, *, bold=False, color=INK, fill=WHITE, right=False) -> None:
    """Write ``text`` into a table cell in the deck's style."""
    cell.fill.solid()
    cell.fill.fore_color.rgb = fill
    cell.margin_left = cell.margin_right = Inches(0.05)
    cell.margin_top = cell.margin_bottom = Inches(0.02)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    frame = cell.text_frame
    frame.word_wrap = True
    frame.text = text
    p = frame.paragraphs[0]
    p.alignment = PP_ALIGN.RIGHT if right else PP_ALIGN.LEFT
    for run in p.runs:
        _style(run, size, bold=bold, color=color)


class _TextWorkbookWriter(CategoryWorkbookWriter):
    """The chart's embedded data sheet, with client labels kept as text (never
    formulas) and a fixed creation date, so the same chart gives the same bytes."""

    def _open_worksheet(self, xlsx_file):  # python-pptx names it so
        from contextlib import contextmanager

        from xlsxwriter import Workbook

        @contextmanager
        def opened():
            import datetime as dt

            workbook = Workbook(xlsx_file, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
            workbook.set_properties({"created": dt.datetime(2000, 1, 1)})
            worksheet = workbook.add_worksheet()
            yield workbook, worksheet
            workbook.close()

        return opened()


class _ChartData(CategoryChartData):
    @property
    def _workbook_writer(self) -> _TextWorkbookWriter:
        return _TextWorkbookWriter(self)


def bar_chart(
    slide: Any, frame: pd.DataFrame, chart: tuple[str, tuple[str, ...], str, str], box: tuple[int, int, int, int]
) -> Any | None:
    """A native bar chart of ``frame`` as a NATIVE_CHARTS spec draws it, or None
    when the table lacks its columns or has no row."""
    category, values, grouping, title = chart
    if category not in frame or any(v not in frame for v in values) or frame.empty:
        return None
    over_time = category in ("month", "quarter")
    data = frame.tail(MAX_CHART_CATEGORIES) if over_time else frame.head(MAX_CHART_CATEGORIES)
    kinds = {v: infer_kind(v, data[v].dtype) for v in values}
    number_format = EXCEL_NUMBER_FORMATS.get(kinds[values[0]], "General")
    chart_data = _ChartData(number_format=number_format)
    chart_data.categories = [fit(c, Inches(2.2), 10) for c in data[category].map(_label)]
    for v in values:
        numbers = pd.to_numeric(data[v], errors="coerce").astype(float)
        chart_data.add_series(humanize(v), [None if pd.isna(x) else float(x) for x in numbers])
    horizontal = len(data) > 8
    kind = {
        "percentStacked": XL_CHART_TYPE.BAR_STACKED_100 if horizontal else XL_CHART_TYPE.COLUMN_STACKED_100,
        "stacked": XL_CHART_TYPE.BAR_STACKED if horizontal else XL_CHART_TYPE.COLUMN_STACKED,
    }.get(grouping, XL_CHART_TYPE.BAR_CLUSTERED if horizontal else XL_CHART_TYPE.COLUMN_CLUSTERED)
    if grouping == "clustered" and len(data) > 12 and not str(data[category].dtype).startswith(("object", "str")):
        kind = XL_CHART_TYPE.COLUMN_CLUSTERED  # a time axis stays horizontal however long
    if over_time:
        kind = XL_CHART_TYPE.COLUMN_CLUSTERED
    graphic = slide.shapes.add_chart(kind, *box, chart_data)
    c = graphic.chart
    c.has_title = True
    c.chart_title.text_frame.text = fit(title, box[2], 14)
    _style(c.chart_title.text_frame.paragraphs[0].runs[0], 14, bold=True, color=INK)
    c.font.size = Pt(10)
    c.font.name = FONT
    c.has_legend = len(values) > 1
    if c.has_legend:
        c.legend.position = XL_LEGEND_POSITION.BOTTOM
        c.legend.include_in_layout = False
    for i, series in enumerate(c.plots[0].series):
        series.format.fill.solid()
        series.format.fill.fore_color.rgb = SERIES_COLORS[i % len(SERIES_COLORS)]
    if horizontal and kind != XL_CHART_TYPE.COLUMN_CLUSTERED:
        c.category_axis.reverse_order = True  # first row on top, as in the table
    c.value_axis.has_major_gridlines = True
    c.value_axis.major_gridlines.format.line.color.rgb = RULE
    c.value_axis.tick_labels.font.size = Pt(10)
    if grouping != "percentStacked":
        c.value_axis.tick_labels.number_format = number_format
        c.value_axis.tick_labels.number_format_is_linked = False
    c.category_axis.tick_labels.font.size = Pt(9 if len(data) > 12 else 10)
    return graphic


def _label(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m")
    return clean(value)


def frame_rows(
    frame: pd.DataFrame, columns: Sequence[str]
) -> tuple[list[str], list[list[str]], list[bool], list[float]]:
    """Header texts, formatted rows, right-alignment and relative widths (by the
    longest text, within bounds) of ``columns`` of ``frame``."""
    cols = [c for c in columns if c in frame]
    kinds = [infer_kind(c, frame[c].dtype) for c in cols]
    rows = [
        [format_value(v, k) if k != "text" else clean(v) for v, k in zip(r, kinds)]
        for r in frame[cols].itertuples(index=False)
    ]
    headers = [humanize(c) for c in cols]
    widths = [float(min(32, max(8, len(h) * 0.6, *(len(r[j]) for r in rows)))) for j, h in enumerate(headers)]
    return headers, rows, [k not in ("text", "date", "bool") for k in kinds], widths


# ---------------------------------------------------------------- content


def slide_flags(flags: Sequence[Mapping[str, Any]], limit: int = 4) -> list[Mapping[str, Any]]:
    """The flags that get a slide: every triggered red flag, and the triggered
    warnings among the first ``limit`` key findings."""
    ranked = ranked_flags(flags)
    named = {f["id"] for f in ranked[:limit]}
    return [f for f in ranked if spec(f["id"]).is_red or f["id"] in named]


def flag_title(flag: Mapping[str, Any]) -> str:
    """The action title of a flag's slide: its finding, with its number."""
    entry = spec(flag["id"])
    value, threshold = flag_value_text(flag), flag_threshold_text(flag)
    if value in ("", "—"):
        return entry.headline
    against = "outside the band of" if isinstance(flag.get("threshold"), (list, tuple)) else "against a threshold of"
    return f"{entry.headline}: {value}, {against} {threshold}"


def evidence_lines(flag: Mapping[str, Any], steps: Sequence[StepResult], n: int = 3) -> list[str]:
    """Up to ``n`` sentences with numbers from the step that judges the flag's
    metric: the one naming the flag first, then those naming no other flag, then
    those judging a related flag; the flag's own detail when no step sentence
    names it, or when it adds a number."""
    markers = {s.id: f"{'red flag' if s.is_red else 'warning'} {s.id})" for s in FLAGS}
    marker = markers[flag["id"]]
    others = [m for fid, m in markers.items() if fid != flag["id"]]
    detail = clean(flag.get("detail"))
    for step in steps:
        sentences = [clean(s) for s in step.findings]
        if any(marker in s for s in sentences):
            # this flag's sentence first, then those of its step that judge no other flag
            own = [s for s in sentences if marker in s]
            rest = [s for s in sentences if marker not in s and not any(m in s for m in others)]
            related = [s for s in sentences if marker not in s and s not in rest]
            lines = [s for s in own + rest + related if any(ch.isdigit() for ch in s)][:n]
            if len(lines) < n and detail and not set(_NUMBER.findall(detail)) <= set(_NUMBER.findall(" ".join(lines))):
                lines.append(detail)  # the scorecard's sentence, when it says something the step did not
            return lines
    return [detail][:n] if detail else []


def _tables(steps: Sequence[StepResult]) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for step in steps:
        for title, frame in step.tables.items():
            out.setdefault(title, frame)
    return out


def _counts(flags: Sequence[Mapping[str, Any]]) -> tuple[int, int, int, int, int]:
    red = sum(f.get("status") == "triggered" and spec(f["id"]).is_red for f in flags if f.get("id") in BY_ID)
    amber = sum(f.get("status") == "triggered" and not spec(f["id"]).is_red for f in flags if f.get("id") in BY_ID)
    n_red = sum(s.is_red for s in FLAGS)
    missing = sum(f.get("status") == "not_assessed" for f in flags)
    return red, n_red, amber, len(FLAGS) - n_red, missing


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ---------------------------------------------------------------- slides


def _summary_slide(deck: Deck, findings: Mapping[str, Any], steps: Sequence[StepResult]) -> None:
    flags = findings.get("flags") or []
    red, n_red, amber, n_amber, missing = _counts(flags)
    title = f"{red} of {n_red} red flags and {amber} of {n_amber} warnings are raised"
    ranked = ranked_flags(flags)[:4]
    if ranked:
        title += f": {spec(ranked[0]['id']).headline.lower()}"
    slide = deck.slide(title, ["Key findings, most serious first: triggered red flags, then the most severe warnings."])
    width = SLIDE_W - 2 * MARGIN
    top = BODY_TOP + Inches(0.05)
    if not ranked:
        text_box(slide, MARGIN, top, width, Inches(1.0), ["No red flag or warning is raised."], size=18)
    for f in ranked:
        detail = clean(f.get("detail"))
        n_lines = min(3, lines_needed(detail, width, 14))
        height = Inches(0.42) + Pt(14 * _LINE * n_lines + 6)
        tone = TONES[flag_tone(f)][1]
        text_box(
            slide,
            MARGIN,
            top,
            width,
            height,
            [
                (f"{f['id']} · {spec(f['id']).headline}", {"size": 17, "bold": True, "color": tone}),
                (detail, {"size": 14, "lines": 3}),
            ],
            space_after=3,
        )
        top += height + Inches(0.12)
    tail = []
    others = [f["id"] for f in ranked_flags(flags)[len(ranked) :]]
    if others:
        tail.append(f"Also raised: {', '.join(others)} (scorecard on the next slide).")
    if missing:
        ids = ", ".join(f["id"] for f in flags if f.get("status") == "not_assessed")
        tail.append(f"{_plural(missing, 'check')} could not be assessed from the data provided: {ids}.")
    dq = data_quality_line(findings.get("data_quality"))
    if dq:
        tail.append(f"Data received: {dq}")
    if tail:
        text_box(
            slide, MARGIN, BODY_BOTTOM - Inches(1.0), width, Inches(1.0), [(t, {"lines": 1}) for t in tail],
            size=12, color=MUTED, space_after=2,
        )  # fmt: skip


def _scorecard_slide(deck: Deck, findings: Mapping[str, Any]) -> None:
    flags = [f for f in findings.get("flags") or [] if f.get("id") in BY_ID]
    red, _, amber, _, missing = _counts(flags)
    clear = sum(f.get("status") == "clear" for f in flags)
    title = f"Scorecard: {_plural(red + amber, 'check')} raised, {clear} clear"
    if missing:
        title += f", {missing} not assessed"
    slide = deck.slide(
        f"{title} of {len(flags)}",
        [f"{f['id']}: {spec(f['id']).rule}." for f in flags],
    )
    rows, tones = [], []
    for f in flags:
        entry = spec(f["id"])
        rows.append(
            [
                f["id"],
                humanize(entry.name),
                STATUS_LABELS.get(str(f.get("status")), "Not assessed"),
                flag_value_text(f),
                flag_threshold_text(f),
            ]
        )
        tones.append([None, None, flag_tone(f), None, None])
    size = 11 if len(rows) <= 16 else 9
    table(
        slide, MARGIN, BODY_TOP, SLIDE_W - 2 * MARGIN, ["ID", "Flag", "Status", "Value", "Threshold"], rows,
        widths=[0.8, 6.0, 1.8, 1.7, 2.0], size=size, tones=tones, align_right=[False, False, False, True, True],
    )  # fmt: skip


def _flag_slide(
    deck: Deck, flag: Mapping[str, Any], steps: Sequence[StepResult], tables: Mapping[str, pd.DataFrame], params: Any
) -> None:
    entry = spec(flag["id"])
    definition = metric_definitions(params).get(entry.metric, "")
    notes = [
        clean(flag.get("detail")),
        f"{metric_label(entry.metric, params)}: {definition}" if definition else "",
        f"Raised when: {entry.rule} ({flag_threshold_text(flag)}).",
    ]
    slide = deck.slide(flag_title(flag), notes, size=22)
    left_w = Inches(7.7)
    box = (MARGIN, BODY_TOP, left_w, BODY_BOTTOM - BODY_TOP)
    evidence = FLAG_EVIDENCE.get(flag["id"])
    frame = tables.get(evidence.table) if evidence else None
    shown = False
    if evidence is not None and frame is not None and not frame.empty:
        if evidence.where and evidence.where in frame:
            frame = frame[frame[evidence.where].fillna(False).astype(bool)]
        if evidence.chart is not None:
            shown = bar_chart(slide, frame, evidence.chart, box) is not None
        elif len(frame):
            header, rows, right, widths = frame_rows(frame.head(MAX_TABLE_ROWS), evidence.columns)
            text_box(slide, MARGIN, BODY_TOP, left_w, Inches(0.4), [(evidence.table, {"bold": True})], size=14)
            table(
                slide, MARGIN, BODY_TOP + Inches(0.45), left_w, header, rows, widths=widths, size=11, align_right=right
            )
            more = len(frame) - min(len(frame), MAX_TABLE_ROWS)
            if more:
                top = BODY_TOP + Inches(0.45) + Pt((11 * _LINE + 7) * (len(rows) + 2))
                text_box(
                    slide, MARGIN, top, left_w, Inches(0.35),
                    [f"… and {more:,} more in the workbook (“{evidence.table}”)."], size=11, color=MUTED,
                )  # fmt: skip
            shown = True
    if not shown:
        text_box(slide, MARGIN, BODY_TOP, left_w, Inches(0.5), ["The evidence table is in the workbook."], size=12)
    right_left = MARGIN + left_w + Inches(0.3)
    right_w = SLIDE_W - MARGIN - right_left
    tone = flag_tone(flag)
    kind = "Red flag" if entry.is_red else "Warning"
    tag = text_box(
        slide, right_left, BODY_TOP, right_w, Inches(0.4), [(f"{kind} {flag['id']} · {humanize(entry.name)}", {"bold": True})],
        size=12, color=TONES[tone][1], fill=TONES[tone][0],
    )  # fmt: skip
    top = tag.top + tag.height + Inches(0.15)
    lines = evidence_lines(flag, steps)
    paras: list[tuple[str, dict[str, Any]]] = [("Evidence", {"bold": True, "color": NAVY, "size": 15})]
    paras += [(f"• {s}", {"lines": 4}) for s in lines]
    height = Inches(0.45) + sum(Pt(13 * _LINE * min(4, lines_needed(s, right_w, 13)) + 6) for s in lines)
    text_box(slide, right_left, top, right_w, height, paras, size=13, space_after=4)
    top += height + Inches(0.1)
    action = entry.action or "See the report's section on this finding."
    room = max(Inches(0.8), BODY_BOTTOM - top)
    text_box(
        slide, right_left, top, right_w, room,
        [("What to do", {"bold": True, "color": NAVY, "size": 15}), (action, {"lines": 5})],
        size=13, space_after=4, fill=SOFT,
    )  # fmt: skip


#: Rows of the plan's economics the scenario slide leaves to the report and the workbook, for room.
_ECONOMICS_NOT_ON_SLIDE = (
    "Expected leavers over the plan",
    "Headcount at the plan's end",
    "Headcount at the plan's end, baseline",
)


def _scenario_slide(deck: Deck, tables: Mapping[str, pd.DataFrame], steps: Sequence[StepResult], params: Any) -> None:
    metrics, flags = tables.get("Scenario metrics"), tables.get("Scenario flags")
    economics = tables.get("Plan economics")
    if metrics is None or metrics.empty:
        return
    step = next((s for s in steps if "Scenario metrics" in s.tables), None)
    m = step.metrics if step else {}
    title = "The rebalanced plan, with and without hires, against today"
    if flags is not None and not flags.empty:
        cleared = flags[(flags["today"] == "triggered") & (flags["rebalanced"] == "clear")]["id"].tolist()
        more = flags[(flags["rebalanced"] == "triggered") & (flags["rebalanced + hires"] == "clear")]["id"].tolist()
        parts = []
        if cleared:
            moved = int(m.get("scenario_accounts_moved") or 0)
            given = int(m.get("scenario_accounts_newly_assigned") or 0)
            what = f"{_plural(moved, 'account')} moved" + (f" and {given:,} given an owner" if given else "")
            parts.append(f"a rebalance ({what}) clears {', '.join(cleared)}")
        if more:
            hires = int(m.get("scenario_hires_now") or 0)
            parts.append(f"{_plural(hires, 'hire')} also {'clears' if hires == 1 else 'clear'} {', '.join(more)}")
        if parts:
            title = "; ".join(parts)
            title = title[0].upper() + title[1:]
    notes = list(step.findings) if step else []
    slide = deck.slide(title, notes, size=22)
    left_w = Inches(6.9)
    header = ["Metric", "Today", "Rebalanced", "+ hires"]
    shown = readable_metrics(metrics)
    rows = [
        [metric_label(str(name), params), *values[1:4]]
        for name, values in zip(metrics["metric"], shown.itertuples(index=False))
    ]
    text_box(slide, MARGIN, BODY_TOP, left_w, Inches(0.4), [("Main metrics", {"bold": True})], size=14)
    table(
        slide, MARGIN, BODY_TOP + Inches(0.45), left_w, header, rows[:12],
        widths=[3.4, 1.1, 1.3, 1.1], size=11, align_right=[False, True, True, True],
    )  # fmt: skip
    right_left = MARGIN + left_w + Inches(0.3)
    right_w = SLIDE_W - MARGIN - right_left
    if economics is not None and not economics.empty:
        erows = [
            [clean(r.item), r.low if r.low == r.high else f"{r.low} – {r.high}"]
            for r in readable_economics(economics).itertuples(index=False)
            if r.item not in _ECONOMICS_NOT_ON_SLIDE
        ]
        text_box(slide, right_left, BODY_TOP, right_w, Inches(0.4), [("Value of the plan", {"bold": True})], size=14)
        table(
            slide, right_left, BODY_TOP + Inches(0.45), right_w, ["Item", "Low – high"], erows,
            widths=[3.4, 1.8], size=10, lines=2, align_right=[False, True],
        )  # fmt: skip
        top = BODY_TOP + Inches(0.45) + Pt((10 * _LINE * 2 + 7) * (len(erows) + 1)) + Inches(0.15)
        inputs = tables.get("Capacity plan inputs")
        assumptions = []
        if inputs is not None and not inputs.empty and "figure" in inputs:
            assumptions = [
                f"{clean(r.input)}: {clean(r.figure)} ({clean(r.basis)})" for r in inputs.itertuples(index=False)
            ]
        uplift = next(
            (clean(r.basis) for r in economics.itertuples(index=False) if "uplift" in str(r.item).lower()), ""
        )
        if uplift:
            assumptions.append(f"Territory-design uplift: {uplift}")
        if assumptions and top < BODY_BOTTOM - Inches(0.5):
            text_box(
                slide, right_left, top, right_w, BODY_BOTTOM - top,
                [("Assumptions", {"bold": True, "color": NAVY}), *[(a, {"size": 10}) for a in assumptions]],
                size=11, color=MUTED, space_after=2,
            )  # fmt: skip


def _data_slide(deck: Deck, findings: Mapping[str, Any]) -> None:
    dq = findings.get("data_quality") or {}
    line = data_quality_line(dq)
    slide = deck.slide(
        f"Appendix: data received ({line.rstrip('.')})" if line else "Appendix: data received",
        [clean(i.get("message")) for i in (dq.get("issues") or [])[:20]],
        size=20,
    )
    width = SLIDE_W - 2 * MARGIN
    files = [
        [
            clean(f.get("table")),
            clean(f.get("file")),
            *(format_value(f.get(k), "int") for k in ("rows_read", "rows_kept", "rows_set_aside")),
        ]
        for f in dq.get("files") or []
    ]
    top = BODY_TOP
    if files:
        shown = files[:9]
        table(
            slide, MARGIN, top, width, ["Table", "File", "Rows read", "Rows kept", "Set aside"], shown,
            widths=[2.2, 5.0, 1.5, 1.5, 1.5], size=10, align_right=[False, False, True, True, True],
        )  # fmt: skip
        top += Pt((10 * _LINE + 7) * (len(shown) + 1)) + Inches(0.25)
    issues = list(dq.get("issues") or [])
    room_rows = int((BODY_BOTTOM - top - Inches(0.1)) / Pt(10 * _LINE + 7)) - 1
    if issues and room_rows > 0:
        shown = issues[: min(room_rows, 8)]
        rows = [[clean(i.get("level")).capitalize(), clean(i.get("table")), clean(i.get("message"))] for i in shown]
        tones = [["red" if str(i.get("level")) == "error" else "amber", None, None] for i in shown]
        table(
            slide, MARGIN, top, width, ["Level", "Table", "Issue"], rows,
            widths=[1.1, 1.9, 8.7], size=10, tones=tones,
        )  # fmt: skip


def _definitions_slides(deck: Deck, findings: Mapping[str, Any], params: Any) -> None:
    flags = [f for f in findings.get("flags") or [] if f.get("id") in BY_ID]
    definitions = metric_definitions(params)
    for red in (True, False):
        group = [f for f in flags if spec(f["id"]).is_red == red]
        if not group:
            continue
        slide = deck.slide(
            f"Appendix: {'red flags' if red else 'warnings'}, when each is raised",
            [
                f"{metric_label(spec(f['id']).metric, params)}: {definitions.get(spec(f['id']).metric, '')}"
                for f in group
            ],
            size=20,
        )
        rows = [
            [
                f["id"],
                humanize(spec(f["id"]).name),
                definitions.get(spec(f["id"]).metric, ""),
                spec(f["id"]).rule.replace(spec(f["id"]).metric, metric_label(spec(f["id"]).metric, params)),
                flag_threshold_text(f),
            ]
            for f in group
        ]
        table(
            slide, MARGIN, BODY_TOP, SLIDE_W - 2 * MARGIN, ["ID", "Flag", "What is measured", "Raised when", "Threshold"],
            rows, widths=[0.6, 2.0, 5.6, 2.7, 1.2], size=10, lines=2,
        )  # fmt: skip


def write_deck(
    findings: Mapping[str, Any],
    steps: Sequence[StepResult],
    out_path: str | Path,
    *,
    prepared_by: str = "",
    data_period: str | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Path:
    """Write report.pptx from the run's findings and step results.

    Parameters
    ----------
    findings
        The SPEC §7 findings (company, as_of, metrics, flags, data_quality).
    steps
        The recorded step results (:func:`~diligence.execution.results.load_results`):
        their narratives give the evidence, their tables the charts.
    out_path
        Where to write the deck (its folder is created if needed).
    prepared_by, data_period, parameters
        The title slide's lines, and the windows the definitions name.

    Returns
    -------
    Path
        ``out_path``; the same inputs give the same bytes.
    """
    company = clean(findings.get("company")) or "Company"
    as_of = clean(findings.get("as_of"))
    deck = Deck(f"{company} · Coverage diligence · as of {as_of}")
    subtitle = ["Coverage diligence", f"As of {as_of}" if as_of else ""]
    if data_period:
        subtitle.append(f"Data period: {data_period}")
    if prepared_by:
        subtitle.append(f"Prepared by {prepared_by}")
    subtitle.append(f"Potential basis: {potential_basis_text(findings.get('potential_basis'))}")
    deck.title_slide(company, subtitle)
    flags = findings.get("flags") or []
    tables = _tables(steps)
    _summary_slide(deck, findings, steps)
    _scorecard_slide(deck, findings)
    for flag in slide_flags(flags):
        _flag_slide(deck, flag, steps, tables, parameters)
    _scenario_slide(deck, tables, steps, parameters)
    _data_slide(deck, findings)
    _definitions_slides(deck, findings, parameters)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    return deck.save(out_path, findings.get("as_of"))
