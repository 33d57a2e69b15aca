"""report.xlsx: client text stays text, tables are valid, formats applied, deterministic."""

from __future__ import annotations

import datetime as dt
import re
import time

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from diligence.report.excel import write_workbook
from diligence.report.formats import infer_kind
from diligence.report.safe import excel_text

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "bad\x00control\x07chars\x1b",
    "=1+1",
]

ACCOUNTS = pd.DataFrame(
    {
        "account_name": pd.array(HOSTILE, dtype="string"),
        "owner_rep_id": pd.array(["r1", None, "r2", "r3", "r4", "r5", "r6", "=r7"], dtype="string"),
        "potential": [1_000_000.0, 2.5, np.nan, 4.0, np.inf, 6.0, 7.0, 8.0],
        "rep_assigned_pct": [0.25] * 8,
        "accounts": pd.array([1, 2, None, 4, 5, 6, 7, 8], dtype="Int64"),
        "pipeline_coverage": [3.5] * 8,
        "close_date": pd.to_datetime(["2026-01-31"] * 7 + [None]).tz_localize("Europe/Paris"),
        "is_won": pd.array([True, False, None, True, True, False, True, True], dtype="boolean"),
    }
)
FINDINGS = {
    "schema_version": 2,
    "company": '=cmd|" /C calc"!A0',
    "as_of": "2026-06-30",
    "metrics": {
        "accounts_total": 1234,
        "unassigned_pct": 0.31,
        "attainment_max_min_ratio": 2.5,
        "win_rate": None,
        "months_since_rebalance": 14.2,
    },
    "flags": [
        {
            "id": "RF1",
            "name": "unassigned_accounts",
            "status": "triggered",
            "value": 0.31,
            "threshold": 0.2,
            "detail": '=HYPERLINK("http://x","y")',
        },
        {"id": "W1", "name": "coverage_gap", "status": "triggered", "value": 0.4, "threshold": 0.3, "detail": "40%"},
        {
            "id": "W5",
            "name": "pipeline_coverage_off_band",
            "status": "clear",
            "value": 3.5,
            "threshold": [3.0, 5.0],
            "detail": "",
        },
        {
            "id": "RF4",
            "name": "territory_perception_gap",
            "status": "not_assessed",
            "value": None,
            "threshold": 0.1,
            "detail": "no rep_survey",
        },
    ],
    "data_quality": {
        "files": [{"table": "accounts", "file": "=accounts.csv", "rows_read": 10, "rows_kept": 9, "rows_set_aside": 1}],
        "issues": [
            {
                "level": "warning",
                "table": "accounts",
                "column": "owner_rep_id",
                "count": 3,
                "rows": [2, 5, 9],
                "message": "+unknown rep",
                "action": "check",
            }
        ],
        "warning_count": 1,
        "error_count": 0,
    },
}
STEPS = {
    "Coverage: who owns what? [1/2]": {
        "Accounts": ACCOUNTS,
        "Nothing found": ACCOUNTS.iloc[:0],
        "No columns": pd.DataFrame(),
    },
    "Coverage: who owns what? [1/2] — by segment": {
        "By segment": pd.DataFrame({"segment": ["SMB", "Enterprise"], "accounts": [300, 25]}).set_index("segment"),
        "Duplicate headers": pd.DataFrame([[1, 2, 3]], columns=["potential", "Potential", "potential"]),
    },
    "Summary": {"x": pd.DataFrame({"a": [1]})},
}


@pytest.mark.parametrize(
    ("name", "dtype", "kind"),
    [
        ("unassigned_potential_pct", "float64", "pct"),
        ("win_rate", "float64", "pct"),
        ("potential_max_min_ratio", "float64", "ratio"),
        ("pipeline_coverage_median", "float64", "ratio"),
        ("attainment_cv_max", "float64", "num"),
        ("attainment", "float64", "pct"),
        ("quota", "int64", "money"),
        ("bookings", "float64", "money"),
        ("accounts", "float64", "int"),
        ("employees", "Int64", "int"),
        ("score", "float64", "num"),
        ("close_date", "datetime64[ns]", "date"),
        ("potential", "string", "text"),
        ("is_won", "boolean", "bool"),
        ("cycle_days_median", "float64", "int"),
        ("aged_and_pushed_pipeline", "float64", "money"),
        ("tenure_months", "float64", "num"),
    ],
)
def test_infer_kind(name, dtype, kind):
    assert infer_kind(name, pd.Series([], dtype=dtype).dtype) == kind


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = write_workbook(FINDINGS, STEPS, tmp_path_factory.mktemp("xlsx") / "out" / "report.xlsx")
    return path, load_workbook(path)


def _cells(wb):
    return [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]


def test_sheet_order_and_names(book):
    _, wb = book
    assert wb.sheetnames[0] == "Summary"
    assert wb.sheetnames[-2:] == ["Data Quality", "Definitions"]
    assert wb.sheetnames[1:4] == ["Coverage who owns what 1 2", "Coverage who owns what 1 2 — by", "Summary (2)"]
    for name in wb.sheetnames:
        assert len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)
    assert len({n.lower() for n in wb.sheetnames}) == len(wb.sheetnames)


def test_no_formulas_and_client_text_preserved(book):
    _, wb = book
    cells = _cells(wb)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    ws = wb["Coverage who owns what 1 2"]
    names = [ws.cell(row=r, column=1) for r in range(5, 5 + len(HOSTILE))]
    assert [c.value for c in names] == [excel_text(h) for h in HOSTILE]
    assert names[6].value == "badcontrolchars"
    assert all(c.data_type == "s" for c in names)
    assert names[0].quotePrefix  # Excel keeps it text even when the cell is edited
    assert ws["B12"].value == "=r7" and ws["B12"].data_type == "s"
    summary = wb["Summary"]
    assert summary["A1"].value == '=cmd|" /C calc"!A0' and summary["A1"].data_type == "s"
    assert summary["F7"].value == '=HYPERLINK("http://x","y")' and summary["F7"].data_type == "s"
    every_string = [c for c in cells if isinstance(c.value, str)]
    assert every_string and all(c.data_type == "s" for c in every_string)


def test_tables_cover_header_and_data(book):
    _, wb = book
    ws = wb["Coverage who owns what 1 2"]
    assert dict(ws.tables.items()) == {"t01_01_Accounts": "A4:H12"}
    table = ws.tables["t01_01_Accounts"]
    assert table.tableStyleInfo.name == "TableStyleMedium2"
    assert table.autoFilter is not None and table.autoFilter.ref == "A4:H12"
    headers = [c.value for c in ws[4]]
    assert headers == [
        "Account name",
        "Owner rep ID",
        "Potential",
        "Rep assigned %",
        "Accounts",
        "Pipeline coverage",
        "Close date",
        "Is won",
    ]
    assert [col.name for col in table.tableColumns] == headers
    assert ws.freeze_panes == "A5"
    assert ws["A4"].font.bold

    names = [n.lower() for s in wb for n in s.tables]
    assert len(names) == len(set(names))
    for s in wb:
        for name, ref in s.tables.items():
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            assert max_row > min_row  # at least one data row
            header = [s.cell(row=min_row, column=c).value for c in range(min_col, max_col + 1)]
            assert all(isinstance(h, str) and h for h in header)
            assert len({h.lower() for h in header}) == len(header)


def test_empty_frames_have_no_table(book):
    _, wb = book
    ws = wb["Coverage who owns what 1 2"]
    titles = {ws.cell(row=r, column=1).value: r for r in range(1, ws.max_row + 1)}
    r = titles["Nothing found"]
    assert ws.cell(row=r + 1, column=1).value == "Account name"
    assert ws.cell(row=r + 2, column=1).value == "(none)"
    assert ws.cell(row=titles["No columns"] + 1, column=1).value == "(none)"
    assert len(ws.tables) == 1


def test_number_formats_and_values(book):
    _, wb = book
    ws = wb["Coverage who owns what 1 2"]
    assert ws["C5"].value == 1_000_000 and ws["C5"].number_format == "#,##0"
    assert ws["C7"].value is None  # NaN
    assert ws["C9"].value is None  # inf
    assert ws["D5"].number_format == "0.0%"
    assert ws["E5"].number_format == "#,##0" and ws["E7"].value is None
    assert ws["F5"].number_format == '0.00"×"'
    assert ws["G5"].value == dt.datetime(2026, 1, 31) and ws["G5"].number_format == "yyyy-mm-dd"
    assert ws["G12"].value is None  # NaT
    assert ws["H5"].value is True and ws["H7"].value is None

    summary = wb["Summary"]
    rows = {summary.cell(row=r, column=3).value: r for r in range(1, summary.max_row + 1)}
    assert summary[f"B{rows['accounts_total']}"].number_format == "#,##0"
    assert summary[f"B{rows['unassigned_pct']}"].number_format == "0.0%"
    assert summary[f"B{rows['attainment_max_min_ratio']}"].number_format == '0.00"×"'
    assert summary[f"B{rows['win_rate']}"].value is None


def test_scorecard_fills_by_status(book):
    _, wb = book
    ws = wb["Summary"]
    by_id = {ws.cell(row=r, column=2).value: r for r in range(7, 11)}
    fill = {fid: ws.cell(row=r, column=3).fill.fgColor.rgb[-6:] for fid, r in by_id.items()}
    assert fill == {"RF1": "FFC7CE", "W1": "FFEB9C", "W5": "C6EFCE", "RF4": "E7E6E6"}
    assert ws.cell(row=by_id["RF1"], column=3).value == "Triggered"
    assert ws.cell(row=by_id["RF1"], column=4).number_format == "0.0%"
    assert ws.cell(row=by_id["W5"], column=5).value == "3.0×–5.0×"


def test_several_tables_dedupe_and_named_index(book):
    _, wb = book
    ws = wb["Coverage who owns what 1 2 — by"]
    assert ws.freeze_panes == "A5"  # below the first table's header
    assert [c.value for c in ws[4]][:2] == ["Segment", "Accounts"]
    assert ws["A5"].value == "SMB" and ws["B5"].value == 300
    dup_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "Duplicate headers") + 1
    assert [ws.cell(row=dup_row, column=c).value for c in (1, 2, 3)] == ["Potential", "Potential (2)", "Potential (3)"]


def test_data_quality_and_definitions(book):
    _, wb = book
    dq = wb["Data Quality"]
    values = [c.value for row in dq.iter_rows() for c in row if c.value is not None]
    assert "=accounts.csv" in values and "+unknown rep" in values and "2, 5, 9" in values
    assert len(dq.tables) == 2
    defs = wb["Definitions"]
    texts = [c.value for row in defs.iter_rows() for c in row if isinstance(c.value, str)]
    assert "accounts_total" in texts and "Rows of the accounts table." in texts
    assert "RF1" in texts and "20%" in texts


def test_custom_definitions_and_minimal_findings(tmp_path):
    path = write_workbook({"company": "Acme"}, {}, tmp_path / "r.xlsx", definitions=[("Potential", "=proxy")])
    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary", "Data Quality", "Definitions"]
    cell = next(c for row in wb["Definitions"].iter_rows() for c in row if c.value == "=proxy")
    assert cell.data_type == "s"


def test_deterministic(book, tmp_path):
    _, wb = book
    again = load_workbook(write_workbook(FINDINGS, STEPS, tmp_path / "again.xlsx"))

    def snapshot(w):
        return [
            (ws.title, c.coordinate, c.value, c.data_type, c.number_format)
            for ws in w
            for row in ws.iter_rows()
            for c in row
        ]

    assert snapshot(again) == snapshot(wb)


def test_same_inputs_give_the_same_bytes(book, tmp_path):
    path, _ = book
    time.sleep(2.1)  # a zip entry's time has a resolution of two seconds
    again = write_workbook(FINDINGS, STEPS, tmp_path / "again.xlsx")
    assert again.read_bytes() == path.read_bytes()


def test_native_charts_beside_the_tables_that_need_them(tmp_path):
    import zipfile

    import pandas as pd

    from diligence.report.excel import write_workbook

    coverage = pd.DataFrame(
        {
            "segment": ["Enterprise", "SMB"],
            "accounts": [10, 40],
            "rep_assigned": [6, 30],
            "partner_only": [1, 2],
            "orphaned": [2, 3],
            "unowned": [1, 5],
        }
    )
    other = pd.DataFrame({"segment": ["SMB"], "whatever": [1]})
    out = write_workbook(
        {"company": "Co", "as_of": "2026-06-30", "metrics": {}, "flags": []},
        {"Market coverage": {"Coverage by segment": coverage, "Something else": other}},
        tmp_path / "r.xlsx",
    )
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode()
    assert "percentStacked" in xml and "Accounts by assignment class" in xml
    assert "'Market coverage'!$B$" in xml or "Market coverage" in xml


def test_a_flag_in_months_reads_with_its_unit(tmp_path):
    # RF3's value and threshold are durations: "19.4 months", as in the HTML report
    rf3 = {
        "id": "RF3",
        "name": "stale_rebalancing",
        "status": "triggered",
        "value": 19.4,
        "threshold": 12,
        "detail": "The last rebalance was 19.4 months ago.",
    }
    path = write_workbook({**FINDINGS, "flags": [rf3]}, STEPS, tmp_path / "report.xlsx")
    ws = load_workbook(path)["Summary"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=2).value == "RF3")
    assert ws.cell(row=row, column=4).value == 19.4
    assert ws.cell(row=row, column=4).number_format == '0.0" months"'
    assert ws.cell(row=row, column=5).number_format == '0.0" months"'


def test_charts_of_tables_close_together_never_cover_each_other():
    """Short tables stacked a few rows apart each get a chart; each chart starts below the last."""
    from openpyxl import Workbook
    from openpyxl.utils.cell import coordinate_to_tuple

    from diligence.report.excel import _ROW_CM, write_tables

    ws = Workbook().active
    curve = pd.DataFrame({"tolerance": [0.05, 0.1, 0.15], "moves": [100, 90, 70], "books_outside": [7, 7, 2]})
    plans = pd.DataFrame({"plan": ["a", "b"], "moves": [114, 169], "hires": [5, 4]})
    write_tables(ws, {"Trade-off curve": curve, "Plans side by side": plans}, top=1, prefix="t", taken=set())
    rows = [coordinate_to_tuple(c.anchor)[0] for c in ws._charts]  # anchored by cell, as written
    spans = sorted((row, row + c.height / _ROW_CM) for row, c in zip(rows, ws._charts))
    assert len(spans) == 2
    assert spans[1][0] >= spans[0][1], f"the second chart starts inside the first: {spans}"


def test_a_chart_sits_beside_its_own_table_not_beyond_a_wide_table_far_below():
    """A chart clears the tables it lies beside; a wide list further down the sheet does not push it right,
    while a wide table it would cover does."""
    from openpyxl import Workbook
    from openpyxl.utils.cell import coordinate_to_tuple

    from diligence.report.excel import write_tables

    curve = pd.DataFrame({"tolerance": [0.05, 0.1, 0.15], "moves": [100, 90, 70], "books_outside": [7, 7, 2]})
    filler = pd.DataFrame({"x": range(40)})
    wide = pd.DataFrame({f"c{j}": [1, 2] for j in range(25)})

    ws = Workbook().active
    write_tables(ws, {"Trade-off curve": curve, "Filler": filler, "Move list": wide}, top=1, prefix="t", taken=set())
    assert coordinate_to_tuple(ws._charts[0].anchor)[1] == 3 + 2  # three columns, then a gap

    ws = Workbook().active
    write_tables(ws, {"Trade-off curve": curve, "Move list": wide}, top=1, prefix="u", taken=set())
    assert coordinate_to_tuple(ws._charts[0].anchor)[1] == 25 + 2  # the wide table right below it
