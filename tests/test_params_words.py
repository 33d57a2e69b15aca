"""Every figure the report and workbook state comes from the run's parameters.

One real run of the demo company with a 60-day activity window, a 2–4× pipeline
band, a 30% RF1 threshold and a 1–3% uplift range: wherever those figures appear, the report and the
workbook say 60 days, 2.0×–4.0× and 30%, and nowhere the defaults (90 days,
3–5×, 20%). The same run proves that every step notebook ran with the run's
parameters, read from work/params.json.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from diligence.resources import notebooks_dir
from tests.conftest import run_cli

OVERRIDES = {
    "active_window_days": 60,
    "thresholds": {"W5": [2.0, 4.0], "RF1": 0.30},
    "scenarios": {"revenue_uplift_range": [0.01, 0.03]},
}


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory):
    from diligence.synth import DEMO_AS_OF, make_company, write_company

    root = tmp_path_factory.mktemp("words")
    data = write_company(make_company(), root / "data")
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(OVERRIDES))
    out = root / "out"
    result = run_cli("run", data, "--company", "Demo Company", "--as-of", DEMO_AS_OF, "--params", params, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def _report_text(out) -> str:
    soup = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["style", "script"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


def _workbook_text(out) -> str:
    wb = load_workbook(out / "report.xlsx")
    return " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)


# The defaults' figures, as any part of the report or workbook could write them.
STALE = [
    r"\b90 days before",
    r"last 90 days",
    r"worked in (the last )?90 days",
    r"contacted 90d",
    r"3(\.0)?×?\s*[–-]\s*5(\.0)?×",
    r"three to five",
    r"\b20(\.0)?% (red-flag )?threshold",
    r"2[–-]7% of last year",
]


@pytest.mark.parametrize("render", [_report_text, _workbook_text], ids=["report", "workbook"])
def test_parameters_are_stated_as_the_run_used_them(custom_run, render):
    text = render(custom_run)
    for pattern in STALE:
        assert not re.search(pattern, text, re.IGNORECASE), f"{pattern!r} states a default the run did not use"
    assert "60 days" in text
    assert "2.0×–4.0×" in text
    assert "30%" in text
    if render is _report_text:
        assert "1–3% of last year's bookings" in text


def test_scorecard_thresholds_follow_the_parameters(custom_run):
    findings = json.loads((custom_run / "findings.json").read_text())
    flags = {f["id"]: f for f in findings["flags"]}
    assert flags["RF1"]["threshold"] == 0.30 and flags["W5"]["threshold"] == [2.0, 4.0]
    assert (
        "above the 30% threshold" in flags["RF1"]["detail"] or "at or below the 30% threshold" in flags["RF1"]["detail"]
    )
    assert "60 days" in flags["W1"]["detail"]
    soup = BeautifulSoup((custom_run / "report.html").read_text(encoding="utf-8"), "html.parser")
    rows = {
        r.select_one(".dk-flag-id").get_text(): [td.get_text() for td in r.find_all("td")]
        for r in soup.select("table.dk-scorecard tbody tr")
    }
    assert rows["RF1"][4] == "30%" and rows["W5"][4] == "2.0×–4.0×"


def test_every_step_ran_with_the_runs_parameters(custom_run):
    work = custom_run / "work"
    written = json.loads((work / "params.json").read_text())
    assert written["active_window_days"] == 60 and written["thresholds"]["W5"] == [2.0, 4.0]
    steps = sorted((work / "results").glob("*.json"))
    assert len(steps) == len(list(notebooks_dir().glob("[0-9][0-9]_*.ipynb")))
    for path in steps:
        assert json.loads(path.read_text())["params"] == written, path.name
