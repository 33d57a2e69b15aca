"""Real CRM exports run end to end: their quirks become counted warnings, never crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

SFDC = ROOT / "tests" / "data" / "sfdc_excerpt"
SFDC_HISTORY = ROOT / "tests" / "data" / "sfdc_history_excerpt"
MAVEN = ROOT.parent / "shared" / "realdata" / "maven_crm_sales_opportunities"  # not redistributable: used in place


def _run(data: Path, tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "out"
    result = run_cli("run", data, "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name in ("report.html", "report.xlsx", "findings.json"):
        assert (out / name).is_file()
    return json.loads((out / "findings.json").read_text())


def test_salesforce_data_loader_export(tmp_path):
    findings = _run(SFDC, tmp_path, "--mapping", "salesforce", "--company", "Workshop Org", "--as-of", "2024-06-30")
    metrics = findings["metrics"]
    assert metrics["accounts_total"] == 22
    assert metrics["win_rate"] is not None, "IsWon/IsClosed blank: derived from StageName"
    status = {f["id"]: f["status"] for f in findings["flags"]}
    # No history, survey, levels or legacy CRMs in this export: said, not guessed.
    for fid in ("RF3", "RF4", "W6", "W8"):
        assert status[fid] == "not_assessed"
    assert findings["data_quality"]["warning_count"] > 0


@pytest.mark.skipif(not MAVEN.is_dir(), reason="the Maven CRM data set is not beside this checkout")
def test_maven_crm_with_a_consultant_mapping(tmp_path):
    findings = _run(
        MAVEN,
        tmp_path,
        "--mapping",
        str(ROOT / "examples" / "maven_mapping.yaml"),
        "--company",
        "Maven CRM",
        "--as-of",
        "2017-12-31",
    )
    assert findings["metrics"]["accounts_total"] == 85
    # No account owner column: assignment cannot be judged, so RF1 is not assessed rather than 100% unassigned.
    assert {f["id"]: f["status"] for f in findings["flags"]}["RF1"] == "not_assessed"
    assert findings["data_quality"]["warning_count"] > 0


def test_salesforce_export_with_opportunity_history(tmp_path):
    """OpportunityHistory.csv with US dates and times; the export's last changes come after the as-of date."""
    findings = _run(
        SFDC_HISTORY, tmp_path, "--mapping", "salesforce", "--company", "Sample Org", "--as-of", "2026-02-28"
    )
    assert findings["schema_version"] == 2
    tables = {t["file"]: t for t in findings["data_quality"]["files"]}
    assert tables["OpportunityHistory.csv"]["table"] == "opportunity_history"
    assert tables["OpportunityHistory.csv"]["rows_kept"] == 48
    late = [
        w
        for w in findings["data_quality"]["warnings"]
        if w["table"] == "opportunity_history" and "after the as-of date" in w["message"]
    ]
    assert late and late[0]["count"] == 7
    status = {f["id"]: f for f in findings["flags"]}
    # no owners and no quotas in this export: said, not guessed
    assert status["W10"]["status"] == "not_assessed" and status["W10"]["detail"]
    assert status["W9"]["status"] in {"not_assessed", "clear", "triggered"}
