"""`diligence run` for real: papermill executes every step notebook in a kernel."""

from __future__ import annotations

import json

from diligence.contract import METRIC_NAMES
from diligence.registry import FLAG_IDS
from tests.conftest import run_cli


def test_run_writes_the_three_outputs(small_run):
    result, out = small_run
    assert result.returncode == 0, result.stderr
    for name in ("report.html", "report.xlsx", "findings.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    executed = sorted(p.name for p in (out / "notebooks").glob("*.ipynb"))
    assert executed[0].startswith("01_") and executed[-1].startswith("13_")
    assert not list(out.parent.glob(".*build*")), "the build folder is moved or removed"


def test_findings_follow_the_schema(small_run):
    _, out = small_run
    findings = json.loads((out / "findings.json").read_text())
    assert findings["schema_version"] == 2
    assert findings["company"] == "Small Co"
    assert list(findings["metrics"])[: len(METRIC_NAMES)] == list(METRIC_NAMES)
    assert findings["metrics"]["accounts_total"] == 400
    assert [f["id"] for f in findings["flags"]] == list(FLAG_IDS)
    for flag in findings["flags"]:
        assert set(flag) == {"id", "name", "status", "value", "threshold", "detail"}
        assert flag["status"] in {"triggered", "clear", "not_assessed"}
        assert flag["detail"]
    assert isinstance(findings["data_quality"], dict)
    assert findings["potential_basis"] in {"column", "model", None} or findings["potential_basis"].startswith("proxy:")
    card = findings["potential_model"]
    assert set(card) == {"auc", "auc_low", "auc_high", "top_decile_lift", "n_train", "n_test", "used", "reason"}
    assert isinstance(card["used"], bool) and card["reason"]


def test_report_has_the_market_potential_section_with_its_basis(small_run):
    _, out = small_run
    html = (out / "report.html").read_text()
    assert "Market potential" in html and "Model card" in html
    assert "Potential-weighted figures in this report use" in html


def test_report_has_no_code_and_no_error(small_run):
    _, out = small_run
    html = (out / "report.html").read_text()
    assert "In&nbsp;[" not in html and "In [" not in html
    assert "Traceback" not in html and "open_run(" not in html
    assert "Small Co" in html


def test_same_inputs_same_findings_byte_for_byte(small_company, small_run, tmp_path):
    from diligence.synth import DEMO_AS_OF

    _, first = small_run
    again = tmp_path / "again"
    result = run_cli("run", small_company, "--company", "Small Co", "--as-of", DEMO_AS_OF, "--out", again)
    assert result.returncode == 0, result.stderr
    assert (again / "findings.json").read_bytes() == (first / "findings.json").read_bytes()


def test_rerun_replaces_outputs_and_bad_input_leaves_them(small_company, tmp_path):
    from diligence.synth import DEMO_AS_OF

    out = tmp_path / "out"
    assert run_cli("run", small_company, "--company", "A", "--as-of", DEMO_AS_OF, "--out", out).returncode == 0
    before = (out / "findings.json").read_bytes()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "accounts.csv").write_text("account_id,account_name\nA1,One\nA1,Two\n")
    (broken / "reps.csv").write_text("rep_id,rep_name\nR1,Rep\n")
    result = run_cli("run", broken, "--company", "A", "--as-of", DEMO_AS_OF, "--out", out)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "account_id" in result.stderr and "accounts" in result.stderr
    assert (out / "findings.json").read_bytes() == before, "a failed run leaves the previous report intact"
    fresh = tmp_path / "fresh"
    assert run_cli("run", broken, "--company", "A", "--out", fresh).returncode == 2
    assert not fresh.exists() or not any(fresh.iterdir()), "nothing is written for bad input"


def test_bad_arguments_exit_2(small_company, tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("active_window_dayz: 30\n")
    result = run_cli("run", small_company, "--company", "A", "--out", tmp_path / "o", "--params", params)
    assert result.returncode == 2
    assert "active_window_dayz" in result.stderr and "Traceback" not in result.stderr
    params.write_text("scenarios: {balance_tolerance: 2.5, ramp_monthz: 3}\n")
    result = run_cli("run", small_company, "--company", "A", "--out", tmp_path / "o", "--params", params)
    assert result.returncode == 2 and "ramp_monthz" in result.stderr, result.stderr
    result = run_cli("run", small_company, "--company", "A", "--as-of", "30/06/2026", "--out", tmp_path / "o")
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr
    assert not (tmp_path / "o").exists()


def test_the_run_says_where_its_time_went(small_run):
    from diligence.execution.run import step_notebooks

    result, _ = small_run
    steps = [p.stem.split("_")[0] for p in step_notebooks()]
    (line,) = [ln for ln in result.stdout.splitlines() if ln.strip().startswith("seconds:")]
    parts = [p.split() for p in line.split(":", 1)[1].split(" · ")]
    assert [name for name, _ in parts] == ["intake", "potential", *steps, "outputs"]
    assert all(float(s) >= 0 for _, s in parts)
