"""portfolio.pptx: the companies of a batch side by side, as slides.

A title slide; the flags heatmap (one row per company, one column per flag,
coloured by status; twelve companies a slide); the key metrics side by side
(five companies a slide); with earlier runs (``batch --previous``), the
trends: each company's key metrics first and last run, coloured by whether they
moved the right way, and its red flags and warnings at each run; then one slide per company with its top findings, or
the error of a failed run. Built from what portfolio.html shows
(:func:`~diligence.report.portfolio.portfolio_context`) and each company's
findings.json, with the slide frame, tables and text rules of
:mod:`diligence.report.deck`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pptx.util import Inches

from diligence.registry import spec
from diligence.report.deck import (
    BODY_BOTTOM,
    BODY_TOP,
    MARGIN,
    MUTED,
    SLIDE_W,
    TONES,
    Deck,
    clean,
    fill_cell,
    lines_needed,
    table,
    text_box,
)
from diligence.report.formats import flag_tone
from diligence.report.narrative import ranked_flags
from diligence.report.portfolio import portfolio_context

HEATMAP_ROWS = 12
METRIC_COLUMNS = 5
METRIC_ROWS = 14
TOP_FINDINGS = 4
TREND_ROWS = 10


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


def _heatmap_title(context: Mapping[str, Any]) -> str:
    rows = [r for r in context["heatmap"] if not r["failed"]]
    if not rows:
        return "No company produced a report"
    with_red = sum(r["red"] > 0 for r in rows)
    counts: dict[str, int] = {}
    for r in rows:
        for col, cell in zip(context["flag_columns"], r["cells"]):
            if cell["tone"] in ("red", "amber"):
                counts[col["id"]] = counts.get(col["id"], 0) + 1
    title = f"{with_red} of {len(rows)} companies raise at least one red flag"
    if counts and max(counts.values()) > 1:
        top = max(counts, key=lambda k: (counts[k], -list(counts).index(k)))
        title += f"; the most common is {top} ({counts[top]} of {len(rows)})"
    return title


def _heatmap_slides(deck: Deck, context: Mapping[str, Any]) -> None:
    columns = context["flag_columns"]
    title = _heatmap_title(context)
    pages = _chunks(context["heatmap"], HEATMAP_ROWS)
    for k, page in enumerate(pages, start=1):
        suffix = f" ({k} of {len(pages)})" if len(pages) > 1 else ""
        slide = deck.slide(
            title + suffix, [f"{c['id']}: {c['name']}" for c in columns] + ["Raised: triggered; n/a: not assessed."]
        )
        rows, tones = [], []
        for r in page:
            if r["failed"]:
                rows.append([r["company"], "Run failed", *[""] * (len(columns) - 1)])
                tones.append([None, "grey", *[None] * (len(columns) - 1)])
            else:
                rows.append([r["company"], *(c["label"] for c in r["cells"])])
                tones.append([None, *(c["tone"] for c in r["cells"])])
        shape = table(
            slide, MARGIN, BODY_TOP, SLIDE_W - 2 * MARGIN, ["Company", *(c["id"] for c in columns)], rows,
            widths=[3.2, *[0.9] * len(columns)], size=10, tones=tones,
        )  # fmt: skip
        for i, r in enumerate(page, start=1):
            if r["failed"] and len(columns) > 1:  # one cell across the flags: the run has none
                cells = shape.table
                cells.cell(i, 1).merge(cells.cell(i, len(columns)))
                fill_cell(
                    cells.cell(i, 1),
                    "Run failed: no flags",
                    10,
                    bold=True,
                    color=TONES["grey"][1],
                    fill=TONES["grey"][0],
                )


def _metric_slides(deck: Deck, context: Mapping[str, Any]) -> None:
    companies = [c["company"] for c in context["metric_companies"]]
    rows = context["metric_rows"]
    if not companies or not rows:
        return
    col_pages = _chunks(list(range(len(companies))), METRIC_COLUMNS)
    row_pages = _chunks(rows, METRIC_ROWS)
    n = len(col_pages) * len(row_pages)
    k = 0
    for cols in col_pages:
        for page in row_pages:
            k += 1
            suffix = f" ({k} of {n})" if n > 1 else ""
            slide = deck.slide(
                f"Key metrics side by side{suffix}",
                [f"{r['label']}: {r['definition']}" for r in page if r["definition"]],
            )
            table(
                slide, MARGIN, BODY_TOP, SLIDE_W - 2 * MARGIN, ["Metric", *(companies[j] for j in cols)],
                [[r["label"], *(r["cells"][j] for j in cols)] for r in page],
                widths=[3.6, *[1.7] * len(cols)], size=10, align_right=[False, *[True] * len(cols)],
            )  # fmt: skip


def _trend_slides(deck: Deck, context: Mapping[str, Any]) -> None:
    """The trends of portfolio.html as slides: a company a row, a column per
    trend metric reading ``first → last`` (green when the last change went the
    metric's right way, red the wrong way), then the flags raised at each run."""
    trends = context.get("trends")
    if not trends:
        return
    metrics = context["trend_metrics"]
    dates = context["trend_dates"]
    since = f" since {dates[0]}" if dates else ""
    pages = _chunks(trends, TREND_ROWS)
    for k, page in enumerate(pages, start=1):
        suffix = f" ({k} of {len(pages)})" if len(pages) > 1 else ""
        slide = deck.slide(
            f"How each company moved{since}{suffix}",
            [
                "Each cell: the metric at the company's first run → at its last.",
                "Green: the last change went the metric's right way; red: the wrong way.",
                "Flags: red flags and warnings raised at each run, oldest first.",
            ],
        )
        rows, tones = [], []
        for r in page:
            if r["failed"]:
                cells = ["Run failed", *[""] * (len(metrics) - 1)]
                row_tones = ["grey", *[None] * (len(metrics) - 1)]
            else:
                cells = [f"{c['first']} → {c['last']}" if c["runs"] > 1 else c["last"] for c in r["cells"]]
                row_tones = [c["tone"] if c["tone"] != "grey" else None for c in r["cells"]]
            flags = " → ".join(f"{run['red']}/{run['amber']}" for run in r["runs"]) or "—"
            name = r["company"] + (" (new)" if r["new"] else "")
            rows.append([name, *cells, flags])
            tones.append([None, *row_tones, None])
        table(
            slide, MARGIN, BODY_TOP, SLIDE_W - 2 * MARGIN,
            ["Company", *(m["label"] for m in metrics), "Red/amber flags by run"], rows,
            widths=[2.4, *[1.35] * len(metrics), 1.5], size=10, lines=2, tones=tones,
            align_right=[False, *[True] * len(metrics), True],
        )  # fmt: skip


def _company_slide(deck: Deck, row: Mapping[str, Any], entry: Mapping[str, Any], findings: Mapping | None) -> None:
    name = clean(entry.get("company")) or "Company"
    width = SLIDE_W - 2 * MARGIN
    if entry.get("status") != "ok":
        slide = deck.slide(f"{name}: the run failed", [clean(entry.get("error"))])
        text_box(slide, MARGIN, BODY_TOP, width, Inches(1.5), [(clean(entry.get("error")), {"lines": 4})], size=14)
        return
    flags = list((findings or {}).get("flags") or [])
    ranked = ranked_flags(flags)
    red = sum(spec(f["id"]).is_red for f in ranked)
    title = f"{name}: {red} red flag{'s' if red != 1 else ''} and {len(ranked) - red} warning{'s' if len(ranked) - red != 1 else ''} raised"
    slide = deck.slide(title, [clean(f.get("detail")) for f in ranked])
    top = BODY_TOP + Inches(0.05)
    if not ranked:
        text_box(slide, MARGIN, top, width, Inches(1.0), ["No red flag or warning is raised."], size=16)
    for f in ranked[:TOP_FINDINGS]:
        detail = clean(f.get("detail"))
        height = Inches(0.42) + Inches(0.25) * min(3, lines_needed(detail, width, 14))
        text_box(
            slide, MARGIN, top, width, height,
            [
                (f"{f['id']} · {spec(f['id']).headline}", {"size": 17, "bold": True, "color": TONES[flag_tone(f)][1]}),
                (detail, {"size": 14, "lines": 3}),
            ],
            space_after=3,
        )  # fmt: skip
        top += height + Inches(0.12)
    others = [f["id"] for f in ranked[TOP_FINDINGS:]]
    if others:
        text_box(
            slide, MARGIN, BODY_BOTTOM - Inches(0.45), width, Inches(0.4), [f"Also raised: {', '.join(others)}."],
            size=12, color=MUTED,
        )  # fmt: skip


def write_portfolio_deck(
    companies: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    title: str = "Portfolio",
    findings: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write portfolio.pptx.

    Parameters
    ----------
    companies
        The roll-up entries (:func:`~diligence.execution.batch.rollup.rollup_entry`),
        each with its ``as_of``, in portfolio-file order.
    path
        Where to write the deck.
    title
        The portfolio's title.
    findings
        Each company's findings.json by slug, for its top findings; a company
        without one shows its flags only in the heatmap.
    """
    context = portfolio_context(companies, title=title)
    deck = Deck(f"{context['title']} · Coverage diligence")
    counts = context["counts"]
    subtitle = [
        "Coverage diligence, portfolio",
        f"{counts['total']} companies, {counts['ok']} reported"
        + (f", {counts['failed']} failed" if counts["failed"] else ""),
        f"As of {context['as_of_range']}" if context["as_of_range"] else "",
    ]
    deck.title_slide(context["title"], subtitle)
    _heatmap_slides(deck, context)
    _metric_slides(deck, context)
    _trend_slides(deck, context)
    for row, entry in zip(context["heatmap"], companies):
        _company_slide(deck, row, entry, (findings or {}).get(str(entry.get("slug"))))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    as_of = max((str(c["as_of"]) for c in companies if c.get("as_of")), default=None)
    return deck.save(path, as_of)
