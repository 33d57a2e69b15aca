"""The kit finds exactly what was planted: the demo company's problems, and none in a healthy one."""

from __future__ import annotations

import json

import pytest

from diligence.metrics import all_metrics, flags
from diligence.params import resolve_params
from diligence.synth import DEMO_AS_OF, PLANTED, make_company
from tests.conftest import run_cli


def evaluate(tables):
    params = resolve_params({"as_of": DEMO_AS_OF})
    metrics = all_metrics(tables, params)
    return {f["id"]: f["status"] for f in flags.evaluate(metrics, params, tables)}


def test_demo_company_raises_every_planted_flag():
    status = evaluate(make_company())
    assert {fid for fid, s in status.items() if s == "triggered"} == set(PLANTED)
    assert "not_assessed" not in status.values()


@pytest.mark.parametrize("seed", [7, 21])
def test_healthy_company_raises_no_flag(seed):
    status = evaluate(make_company(seed=seed, profile="healthy"))
    assert set(status.values()) == {"clear"}, status


def test_accounts_and_reps_only_runs_and_says_what_it_cannot_assess(tmp_path):
    from diligence.synth import write_company

    tables = make_company(n_accounts=300, seed=3)
    data = write_company({k: tables[k] for k in ("accounts", "reps")}, tmp_path / "data")
    out = tmp_path / "out"
    result = run_cli("run", data, "--company", "Lean Co", "--as-of", DEMO_AS_OF, "--out", out)
    assert result.returncode == 0, result.stderr
    findings = json.loads((out / "findings.json").read_text())
    by_id = {f["id"]: f for f in findings["flags"]}
    for fid in ("RF2", "RF3", "RF4", "RF5", "W1", "W2", "W5", "W7", "W9", "W10"):
        assert by_id[fid]["status"] == "not_assessed", fid
        assert "not provided" in by_id[fid]["detail"] or "needs" in by_id[fid]["detail"], by_id[fid]["detail"]
    assert by_id["RF1"]["status"] in {"triggered", "clear"}
    assert findings["metrics"]["win_rate"] is None and findings["metrics"]["accounts_total"] == 300
