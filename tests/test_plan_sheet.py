"""The workbook's capacity plan recalculates: LibreOffice computes its formulas
headless, and they give the kit's own figures; change an input and they move."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from diligence.params import resolve_params, resolve_settings
from diligence.report.plan_sheet import SHEET_TITLE, write_plan_sheet
from diligence.scenarios import capacity_plan as cp
from diligence.synth import DEMO_AS_OF, make_company

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
if not SOFFICE and os.environ.get("CI"):
    pytest.fail("LibreOffice is required in CI (make test installs it)", pytrace=False)
needs_libreoffice = pytest.mark.skipif(not SOFFICE, reason="LibreOffice (soffice) is not installed")


def recalculated(path: Path, out: Path):
    """``path`` opened, recalculated and saved by headless LibreOffice; the sheet with values."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [SOFFICE, "--headless", f"-env:UserInstallation={(out / 'profile').as_uri()}", "--calc",
         "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return load_workbook(out / path.name, data_only=True)[SHEET_TITLE]


@pytest.fixture(scope="module")
def plan_book(tmp_path_factory):
    tables = make_company(n_accounts=2000, seed=5)
    params = resolve_params({"as_of": DEMO_AS_OF})
    settings = resolve_settings({})
    filled = cp.with_inputs(tables, params, settings)
    plan = cp.hiring_plan(tables, params, filled)
    economics = cp.economics(tables, params, filled, plan).set_index("item")
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    cells = write_plan_sheet(
        ws,
        cp.headcount_need(tables, params, filled),
        cp.plan_inputs(tables, params, settings),
        params["scenarios"],
        float(economics.loc["Bookings, the year before the as-of date", "low"]),
    )
    path = tmp_path_factory.mktemp("plan") / "plan.xlsx"
    wb.save(path)
    return path, cells, plan, economics


@needs_libreoffice
def test_formulas_give_the_kits_figures_and_follow_an_input(plan_book, tmp_path):
    path, cells, plan, economics = plan_book
    ws = recalculated(path, tmp_path / "a")
    for item, (low, high) in cells["economics"].items():
        assert ws[low].value == pytest.approx(economics.loc[item, "low"], rel=1e-9, abs=1e-6), item
        assert ws[high].value == pytest.approx(economics.loc[item, "high"], rel=1e-9, abs=1e-6), item
    kit = plan.set_index(["quarter", "segment"])
    for row in cells["plan"]:
        expected = kit.loc[(row["quarter"], row["segment"])]
        assert ws[row["hires"]].value == expected["hires"]
        assert ws[row["productive_fte"]].value == pytest.approx(expected["productive_fte"])
    assert any(kit["hires"] > 0), "the test company hires: the ramp matters"

    # a slower ramp in every segment: the hires' bookings fall, the cost does not move
    book = load_workbook(path)
    for cell in cells["ramp"].values():
        book[SHEET_TITLE][cell.replace("$", "")] = 24
    changed = tmp_path / "changed" / "plan.xlsx"
    changed.parent.mkdir()
    book.save(changed)
    ws2 = recalculated(changed, tmp_path / "b")
    added = cells["economics"]["Bookings capacity added over the plan"][1]
    cost = cells["economics"]["Cost of hires over the plan"][1]
    assert ws2[added].value < ws[added].value
    assert ws2[cost].value == pytest.approx(ws[cost].value)


def test_the_run_workbook_carries_the_live_plan(small_run):
    result, out = small_run
    assert result.returncode == 0, result.stderr
    wb = load_workbook(out / "report.xlsx")
    assert SHEET_TITLE in wb.sheetnames
    ws = wb[SHEET_TITLE]
    formulas = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert len(formulas) > 20
    inputs = [c for row in ws.iter_rows() for c in row if c.fill.fgColor.rgb.endswith("DDEBF7")]
    assert len(inputs) >= 7, "inputs are marked as input cells"
    assert wb.sheetnames.index(SHEET_TITLE) == wb.sheetnames.index("Scenarios") + 1
