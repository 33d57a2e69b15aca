"""report.html and the display helpers: escaped client text, no code, no external requests."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter
from matplotlib.figure import Figure

from diligence.report import charts
from diligence.report.display import (
    finding,
    fmt_int,
    fmt_money,
    fmt_pct,
    fmt_ratio,
    show_flags,
    show_kpis,
    show_table,
)
from diligence.report.html import merge_notebooks, render_html

v4 = nbformat.v4
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"

FLAGS = [
    {
        "id": "RF1",
        "name": "unassigned_accounts",
        "status": "triggered",
        "value": 0.31,
        "threshold": 0.2,
        "detail": f"31% of accounts unassigned {SCRIPT}",
    },
    {"id": "W1", "name": "coverage_gap", "status": "triggered", "value": 0.42, "threshold": 0.3, "detail": "42%"},
    {"id": "RF2", "name": "attainment_disparity", "status": "clear", "value": 1.5, "threshold": 2.0, "detail": ""},
    {
        "id": "W5",
        "name": "pipeline_coverage_off_band",
        "status": "clear",
        "value": 3.4,
        "threshold": [3.0, 5.0],
        "detail": "",
    },
    {
        "id": "RF4",
        "name": "territory_perception_gap",
        "status": "not_assessed",
        "value": None,
        "threshold": 0.1,
        "detail": "no rep_survey table",
    },
]
FINDINGS = {
    "schema_version": 2,
    "company": SCRIPT,
    "as_of": "2026-06-30",
    "metrics": {"accounts_total": 1234, "unassigned_pct": 0.31, "win_rate": None},
    "flags": FLAGS,
    "data_quality": {
        "files": [{"table": "accounts", "file": "accounts.csv", "rows_read": 10, "rows_kept": 9, "rows_set_aside": 1}],
        "issues": [],
        "warning_count": 2,
        "error_count": 0,
    },
}


# --- number formatting -------------------------------------------------------------


def test_number_formats():
    assert fmt_pct(0.312) == "31.2%"
    assert fmt_money(1_234_567) == "$1.2M"
    assert fmt_money(850_000) == "$850K"
    assert fmt_money(999_960) == "$1.0M"
    assert fmt_money(2_500_000_000) == "$2.5B"
    assert fmt_money(950) == "$950"
    assert fmt_money(999_960_000) == "$1.0B"
    assert fmt_money(-12_345) == "-$12K"
    assert fmt_ratio(2.43) == "2.4×"
    assert fmt_int(1234) == "1,234"
    for missing in (None, np.nan, pd.NA, pd.NaT):
        assert fmt_pct(missing) == fmt_money(missing) == fmt_ratio(missing) == fmt_int(missing) == "—"


# --- display helpers ---------------------------------------------------------------


def test_show_table_escapes_formats_and_truncates():
    df = pd.DataFrame(
        {
            "account_name": pd.array([SCRIPT, IMG, "Plain & Co"] + [f"a{i}" for i in range(27)], dtype="string"),
            "potential": [1_200_000.0, np.nan] + [1000.0] * 28,
            "rep_assigned_pct": [0.5] * 30,
        }
    )
    out = show_table(df, title="Accounts <b>", formats={"potential": "money", "not_there": "pct"}, note="n<1>")
    html = out._repr_html_()
    assert 'class="dk-table"' in html
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Plain &amp; Co" in html
    assert "$1.2M" in html and "—" in html and "50.0%" in html
    assert "Showing 25 of 30 rows." in html
    assert html.count("<tr>") == 1 + 25  # header + shown rows
    assert "<th>Account name</th>" in html and "Rep assigned %" in html
    assert "Accounts &lt;b&gt;" in html and "n&lt;1&gt;" in html


def test_show_table_small_frame_named_index_and_bad_format():
    df = pd.DataFrame({"segment": ["SMB", "Enterprise"], "accounts": [300, 25]}).set_index("segment")
    html = show_table(df)._repr_html_()
    assert "<th>Segment</th>" in html and ">300<" in html
    assert "Showing" not in html
    assert "No rows." in show_table(df.iloc[:0])._repr_html_()
    cat = pd.DataFrame({"segment": pd.Categorical(["SMB", None]), "attainment_cv": [0.4512, np.nan]})
    html = show_table(cat)._repr_html_()
    assert "<td>—</td>" in html and ">0.45<" in html and "nan" not in html.lower()
    with pytest.raises(ValueError, match="unknown format"):
        show_table(df, formats={"accounts": "percent"})


def test_show_flags_pills_and_escaping():
    html = show_flags(FLAGS)._repr_html_()
    assert html.count("dk-pill-red") == 1  # RF1 triggered
    assert html.count("dk-pill-amber") == 1  # W1 triggered: a warning, not a red flag
    assert html.count("dk-pill-green") == 2
    assert html.count("dk-pill-grey") == 1
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "31.0%" in html and ">20%<" in html and "3.0×–5.0×" in html


def test_kpis_and_finding_escape():
    html = show_kpis([("Accounts <x>", "1,234"), (SCRIPT, "31%")])._repr_html_()
    assert html.count('class="dk-kpi"') == 2 and "<script>" not in html and "Accounts &lt;x&gt;" in html
    assert (
        finding(f"Gap {IMG}")._repr_html_()
        == f'<p class="dk-finding">Gap {IMG.replace("<", "&lt;").replace(">", "&gt;")}</p>'
    )


# --- charts ------------------------------------------------------------------------


def test_charts_return_figures_outside_pyplot():
    df = pd.DataFrame(
        {
            "rep": pd.array(["Ann", SCRIPT, None], dtype="string"),
            "segment": ["SMB", "SMB", "Enterprise"],
            "status": ["assigned", "unassigned", "assigned"],
            "potential": [1e6, 5e5, 2e5],
            "attainment": [0.8, 1.3, np.nan],
            "accounts": [10, 5, 3],
        }
    )
    before = plt.get_fignums()
    figs = [
        charts.bar(df, "rep", "potential", fmt="money", title="Book potential"),
        charts.bar(df, "rep", "attainment", fmt="pct", horizontal=False, hue="segment"),
        charts.stacked_share(df, "segment", "status", "accounts"),
        charts.heatmap(df.pivot_table(index="segment", columns="status", values="accounts", aggfunc="sum")),
        charts.scatter(df, "potential", "attainment", hue="segment"),
        charts.bar(df.iloc[:0], "rep", "potential"),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert plt.get_fignums() == before  # never registered: no double display, nothing to close
    ax = figs[0].axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ann", SCRIPT, "(blank)"]
    assert [t.get_text() for t in ax.texts] == ["$1.0M", "$500K", "$200K"]  # value labels, formatted
    shares = figs[2].axes[0]
    assert [round(v, 3) for v in shares.containers[0].datavalues] == [1.0, round(10 / 15, 3)]
    with pytest.raises(ValueError):
        charts.bar(df, "rep", "potential", fmt="dollars")


def test_more_bars_than_can_be_named_are_all_drawn_unlabelled_and_quickly():
    n = charts.MAX_LABELLED_BARS * 40
    values = np.linspace(5.0, 0.0, n)
    df = pd.DataFrame({"rep_name": [f"Rep {i}" for i in range(n)], "coverage": values})
    started = time.perf_counter()
    fig = charts.bar(df, "rep_name", "coverage", fmt="ratio", title="Coverage")
    data, _ = DisplayFormatter().format(fig)
    assert time.perf_counter() - started < 20  # separate patches and names took minutes
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    (bars,) = ax.collections
    tops = [path.vertices[:, 0].max() for path in bars.get_paths()]
    assert len(tops) == n and np.allclose(tops, values)  # every bar, in the frame's order from the top
    assert ax.get_ylim()[0] > ax.get_ylim()[1]
    assert [t.get_text() for t in ax.get_yticklabels()] == [] and len(ax.texts) == 0
    assert f"{n:,} bars" in ax.get_ylabel()
    few = charts.bar(df.head(charts.MAX_LABELLED_BARS), "rep_name", "coverage", fmt="ratio").axes[0]
    assert len(few.get_yticklabels()) == charts.MAX_LABELLED_BARS  # named as before
    both = pd.concat([df.assign(measure="raw"), df.assign(measure="quality", coverage=values / 2)])
    split = charts.bar(both, "rep_name", "coverage", hue="measure", fmt="ratio").axes[0]
    raw, quality = split.collections
    assert np.allclose([p.vertices[:, 0].max() for p in quality.get_paths()], values / 2)
    first_raw, first_quality = raw.get_paths()[0].vertices[:, 1], quality.get_paths()[0].vertices[:, 1]
    assert first_raw.max() <= first_quality.min() + 1e-9  # side by side within the rep's slot
    assert [t.get_text() for t in split.get_legend().get_texts()] == ["raw", "quality"]


def test_more_lines_than_can_be_named_are_drawn_faint_under_their_median():
    n = charts.MAX_NAMED_LINES * 50
    rng = np.random.default_rng(4)
    months = rng.integers(1, 13, n)  # reps hired at different times: shorter and longer lines
    df = pd.DataFrame(
        {
            "rep_name": np.repeat([f"Rep {i}" for i in range(n)], months),
            "month": np.concatenate([np.arange(1, k + 1) for k in months]),
        }
    )
    df["booked"] = df["month"] * rng.uniform(0.5, 1.5, len(df))
    started = time.perf_counter()
    fig = charts.lines(df.assign(ref=df["month"]), "month", "booked", hue="rep_name", reference="ref", fmt_y="num")
    DisplayFormatter().format(fig)
    assert time.perf_counter() - started < 20  # a line and a legend entry per rep took seconds
    ax = fig.axes[0]
    (crowd,) = ax.collections
    assert len(crowd.get_segments()) == n
    assert [len(s) for s in crowd.get_segments()] == months.tolist()  # each rep's whole line, in order
    median, reference = ax.get_lines()
    assert reference.get_linestyle() == "--"
    expected = df.groupby("month")["booked"].median()
    assert median.get_xdata().tolist() == expected.index.tolist()
    assert np.allclose(median.get_ydata(), expected.to_numpy())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["each rep", f"median of the {n:,}", "Ref"]
    # as many as can be named: a line each, named
    few = df.loc[df["rep_name"].isin([f"Rep {i}" for i in range(charts.MAX_NAMED_LINES)])]
    ax = charts.lines(few, "month", "booked", hue="rep_name", fmt_y="num").axes[0]
    assert len(ax.get_lines()) == charts.MAX_NAMED_LINES and not ax.collections
    assert len(ax.get_legend().get_texts()) == charts.MAX_NAMED_LINES


def test_chart_displays_itself_as_png_deterministically():
    df = pd.DataFrame({"rep": ["Ann", "Bob"], "accounts": [10, 5]})
    data, _ = DisplayFormatter().format(charts.bar(df, "rep", "accounts", title="Accounts"))
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    again, _ = DisplayFormatter().format(charts.bar(df, "rep", "accounts", title="Accounts"))
    assert again["image/png"] == data["image/png"]


# --- report.html -------------------------------------------------------------------


def _png() -> str:
    """A chart as the kernel would send it: IPython's display formatter, base64."""
    df = pd.DataFrame({"rep": ["Ann", "Bob"], "accounts": [10, 5]})
    data, _ = DisplayFormatter().format(charts.bar(df, "rep", "accounts"))
    return base64.b64encode(data["image/png"]).decode("ascii")


def _write_notebooks(folder: Path) -> list[Path]:
    hostile = pd.DataFrame({"account_name": [SCRIPT, IMG], "potential": [1e6, 2e5]})
    nb1 = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                "company = 'x'\nSECRET_PARAMETER = 1",
                metadata={"tags": ["parameters"]},
                outputs=[v4.new_output("stream", name="stdout", text="PARAMETERS_OUTPUT")],
            ),
            v4.new_code_cell("company = 'Injected'", metadata={"tags": ["injected-parameters"]}),
            v4.new_markdown_cell("# Coverage\n\nWho owns which accounts."),
            v4.new_code_cell(
                "show_table(accounts)",
                execution_count=3,
                outputs=[
                    v4.new_output(
                        "execute_result",
                        data={"text/html": show_table(hostile, title="Accounts").html, "text/plain": "HtmlBlock(1)"},
                        execution_count=3,
                    ),
                    v4.new_output("stream", name="stderr", text="STDERR_NOISE"),
                ],
            ),
            v4.new_code_cell(
                "charts.bar(...)",
                execution_count=4,
                outputs=[
                    v4.new_output(
                        "display_data",
                        data={"image/png": _png(), "text/plain": "<Figure size 750x200 with 1 Axes>"},
                    )
                ],
            ),
            v4.new_code_cell(
                "hidden()",
                metadata={"tags": ["remove"]},
                outputs=[v4.new_output("stream", name="stdout", text="REMOVED_CELL")],
            ),
        ]
    )
    nb2 = v4.new_notebook(
        cells=[
            v4.new_code_cell("import diligence", execution_count=1),
            v4.new_markdown_cell("## Balance of books"),
            v4.new_code_cell(
                "finding(...)",
                outputs=[v4.new_output("display_data", data={"text/html": finding(f"Books are uneven {IMG}").html})],
            ),
            v4.new_code_cell(
                "1/0",
                outputs=[
                    v4.new_output("error", ename="ZeroDivisionError", evalue="boom", traceback=["TRACEBACK_TEXT"])
                ],
            ),
            v4.new_code_cell(
                "external()",
                outputs=[
                    v4.new_output(
                        "display_data",
                        data={
                            "text/html": '<script src="https://cdn.example.com/x.js"></script>'
                            '<img src="https://tracker.example.com/p.gif"><p>kept</p>'
                        },
                    )
                ],
            ),
        ]
    )
    paths = [folder / "01_coverage.ipynb", folder / "02_balance.ipynb"]
    for nb, path in zip((nb1, nb2), paths):
        nbformat.write(nb, path)
    return paths


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    notebooks = _write_notebooks(folder)
    out = render_html(
        notebooks,
        FINDINGS,
        folder / "out" / "report.html",
        prepared_by="Deal team <x>",
        data_period="2025-07-01 to 2026-06-30",
    )
    return notebooks, out, out.read_text(encoding="utf-8")


def test_report_has_no_code_prompts_parameters_or_errors(rendered):
    _, _, html = rendered
    for absent in (
        "In [",
        "In&nbsp;[",
        "Out[",
        "SECRET_PARAMETER",
        "PARAMETERS_OUTPUT",
        "Injected",
        "STDERR_NOISE",
        "TRACEBACK_TEXT",
        "ZeroDivisionError",
        "REMOVED_CELL",
        "show_table(",
        "import diligence",
        "<Figure size",
    ):
        assert absent not in html, absent


def test_report_escapes_hostile_client_text(rendered):
    _, _, html = rendered
    assert "<script" not in html.lower()
    assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    cover = re.search(r'<h1 class="dk-cover-company">(.*?)</h1>', html, re.S).group(1)
    assert cover == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; — Coverage diligence</title>" in html
    assert "Deal team &lt;x&gt;" in html and "2025-07-01 to 2026-06-30" in html


def test_report_requests_nothing_from_other_hosts(rendered):
    _, _, html = rendered
    assert not re.search(r"<script\b", html, re.I)
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"""\b(?:src|href|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", html, re.I)
    assert "@import" not in html
    assert "<p>kept</p>" in html  # the rest of that output survives
    srcs = re.findall(r'<img[^>]*\bsrc="([^"]*)"', html)
    assert len(srcs) == 1 and srcs[0].startswith("data:image/png;base64,")  # the chart, inline


def test_report_has_scorecard_toc_and_sections(rendered):
    _, _, html = rendered
    assert 'class="dk-table dk-scorecard"' in html
    assert html.count('<span class="dk-pill dk-pill-red">Triggered</span>') == 1
    assert html.count('<span class="dk-pill dk-pill-amber">Triggered</span>') == 1
    assert html.count('<span class="dk-pill dk-pill-green">Clear</span>') == 2
    assert html.count('<span class="dk-pill dk-pill-grey">Not assessed</span>') == 1
    assert "31% of accounts unassigned &lt;script&gt;" in html
    assert "3.0×–5.0×" in html
    sections = re.findall(r'<section class="dk-section" id="([^"]+)">', html)
    assert sections == ["section-1-coverage", "section-2-balance-of-books"]
    toc = re.search(r'<nav[^>]*class="dk-toc"[^>]*>(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'href="#([^"]+)"', toc) == sections + ["methodology"]
    assert ">Coverage</a>" in toc and ">Balance of books</a>" in toc
    appendix = re.search(r'<section class="dk-section dk-appendix" id="methodology">(.*?)</section>', html, re.S).group(
        1
    )
    assert "unassigned_pct" in appendix and "Accounts neither rep-assigned nor partner-only" in appendix
    assert "Raised when" in appendix
    assert html.count("<section") == html.count("</section>")
    assert "@media print" in html and "break-before: page" in html
    assert "1,234" in html  # headline KPI


def test_report_is_small_and_deterministic(rendered, tmp_path):
    notebooks, out, html = rendered
    assert out.stat().st_size < 5_000_000
    again = render_html(
        notebooks,
        FINDINGS,
        tmp_path / "report.html",
        prepared_by="Deal team <x>",
        data_period="2025-07-01 to 2026-06-30",
    )
    assert again.read_text(encoding="utf-8") == html


def test_merge_marks_sections_and_drops_empty_cells(rendered):
    notebooks, _, _ = rendered
    merged, sections = merge_notebooks(notebooks)
    assert [s["title"] for s in sections] == ["Coverage", "Balance of books"]
    assert all(c.source == "" for c in merged.cells if c.cell_type == "code")
    assert all(c.outputs for c in merged.cells if c.cell_type == "code")
    assert len({c.id for c in merged.cells}) == len(merged.cells)
    starts = [c.metadata.get("dk_section", {}).get("id") for c in merged.cells if "dk_section" in c.metadata]
    assert starts == [s["id"] for s in sections]
    assert sum(bool(c.metadata.get("dk_section_end")) for c in merged.cells) == 2


def test_failed_notebook_is_never_rendered(tmp_path):
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Step")])
    nb.metadata["papermill"] = {"exception": True}
    path = tmp_path / "failed.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="failed"):
        render_html([path], FINDINGS, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_minimal_findings_still_render(tmp_path):
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("Text without a heading")])
    path = tmp_path / "03_capacity_plan.ipynb"
    nbformat.write(nb, path)
    html = render_html([path], {"company": "Acme"}, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Acme" in html and "No flags were evaluated." in html
    assert ">Capacity plan</a>" in html


def test_appendix_notebooks_follow_the_diagnostic(tmp_path):
    intake_nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Data received")])
    intake_nb.metadata["diligence"] = {"appendix": True}
    step_nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Market coverage")])
    paths = [tmp_path / "01_intake.ipynb", tmp_path / "02_coverage.ipynb"]
    for nb, path in zip((intake_nb, step_nb), paths):
        nbformat.write(nb, path)
    html = render_html(
        paths,
        FINDINGS,
        tmp_path / "report.html",
        parameters={"active_window_days": 90, "comparable_by": ["segment", "role"]},
    ).read_text()
    toc = re.search(r'<nav[^>]*class="dk-toc"[^>]*>(.*?)</nav>', html, re.S).group(1)
    titles = re.findall(r'<a href="#[^"]+">([^<]+)</a>', toc)
    assert titles == ["Market coverage", "Appendix: Data received", "Appendix: methodology"]
    assert "<code>comparable_by</code></td><td>segment, role</td>" in html
