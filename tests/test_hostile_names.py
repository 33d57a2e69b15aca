"""Client strings are data: hostile names never become markup, formulas or paths."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import openpyxl
import pytest

from tests.conftest import run_cli

HOSTILE = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '=HYPERLINK("http://example.invalid","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "../../escape",
]
COMPANY = "<script>alert('co')</script> =1+1 ../../Evil"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    from diligence.synth import DEMO_AS_OF, make_company, write_company

    tables = make_company(n_accounts=400, seed=5)
    for table, column in [("accounts", "account_name"), ("reps", "rep_name"), ("partners", "partner_name")]:
        frame = tables[table]
        names = frame[column].copy()
        for i, bad in enumerate(HOSTILE[: len(frame)]):
            names.iloc[i] = bad
        tables[table] = frame.assign(**{column: names})
    root = tmp_path_factory.mktemp("hostile")
    data = write_company(tables, root / "data")
    out = root / "out"
    result = run_cli("run", data, "--company", COMPANY, "--as-of", DEMO_AS_OF, "--out", out)
    return result, root, out


def test_run_succeeds(hostile_run):
    result, _, _ = hostile_run
    assert result.returncode == 0, result.stderr


class _Elements(HTMLParser):
    """Collects every element the browser would build, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_every_client_string(hostile_run):
    _, _, out = hostile_run
    parsed = _Elements()
    parsed.feed((out / "report.html").read_text())
    assert [t for t, _ in parsed.tags if t == "script"] == []
    handlers = [(t, a) for t, a in parsed.tags if any(k.startswith("on") for k in a)]
    assert handlers == [], "no element carries an event handler"
    assert not [a for t, a in parsed.tags if t == "img" and a.get("src") == "x"]
    text = "".join(parsed.text)
    assert COMPANY in text, "the company name is shown, as text"
    assert '<img src=x onerror="alert(1)">' in text and "<script>alert('x')</script>" in text


def test_excel_holds_no_formula_but_the_live_plans_own(hostile_run):
    from diligence.report.plan_sheet import SHEET_TITLE

    _, _, out = hostile_run
    wb = openpyxl.load_workbook(out / "report.xlsx")
    formulas = [
        (ws.title, cell.coordinate, cell.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert [f for f in formulas if f[0] != SHEET_TITLE] == []
    # the live plan's formulas are cell references, numbers and functions: no client text inside
    kit_formula = re.compile(r"^=[A-Z0-9$:(),.+\-*/^<=>]+$")
    assert formulas and all(kit_formula.match(f[2]) for f in formulas), [
        f for f in formulas if not kit_formula.match(f[2])
    ]
    texts = {
        cell.value for ws in wb.worksheets for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)
    }
    assert any(t.startswith("=HYPERLINK") for t in texts), "the hostile name is kept, as text"


def test_findings_keep_the_name_as_data_and_nothing_escapes_out(hostile_run):
    _, root, out = hostile_run
    assert json.loads((out / "findings.json").read_text())["company"] == COMPANY
    outside = sorted(
        p.relative_to(root)
        for p in root.rglob("*")
        if not p.is_relative_to(out) and not p.is_relative_to(root / "data")
    )
    assert outside == [], "no file is written outside --out"


def test_deck_keeps_names_as_text_and_its_charts_hold_no_formula(hostile_run):
    import io

    from pptx import Presentation

    from tests.test_deck import texts

    _, _, out = hostile_run
    prs = Presentation(str(out / "report.pptx"))
    seen = texts(prs)
    assert COMPANY in seen, "the company's name, literal, on the title slide"
    charts = [s.chart for slide in prs.slides for s in slide.shapes if s.has_chart]
    assert charts
    for chart in charts:  # a chart's data sheet opens in Excel: client labels must stay text there too
        wb = openpyxl.load_workbook(io.BytesIO(chart.part.chart_workbook.xlsx_part.blob))
        assert not [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
