"""`--previous`: an earlier run read, checked and compared with this one, end to end.

The end-to-end test runs the small demo-profile company of the shared ``small_run``
fixture a quarter later (synth.later_quarter, with part of its own rebalanced plan
made) against that first run, and checks what the second run says changed
against metrics computed directly on the two quarters' tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from diligence.errors import InputError
from diligence.execution.previous import PLAN_STEP, PLAN_TABLE, compare, load_previous
from diligence.execution.results import RESULTS_DIR
from diligence.metrics import coverage
from diligence.params import Params
from tests.conftest import run_cli

LATER = "2026-12-30"


def _findings(folder: Path, **changes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "schema_version": 2,
        "company": "Co",
        "as_of": "2026-06-30",
        "metrics": {"unassigned_pct": 0.3, "win_rate": 0.2},
        "flags": [{"id": "RF1", "status": "triggered"}],
        "data_quality": {},
        **changes,
    }
    (folder / "findings.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d: d / "missing", "no such folder"),
        (lambda d: (d / "file.txt").write_text("x") and d / "file.txt", "is not a folder"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "holds no findings.json"),
        (lambda d: _findings(d / "bad").joinpath("findings.json").write_text("{oops") and d / "bad", "cannot be read"),
        (lambda d: _findings(d / "v3", schema_version=3), "schema version 3"),
        (lambda d: _findings(d / "nometrics", metrics=None), "no metrics or flags"),
        (lambda d: _findings(d / "nodate", as_of="soon"), "no usable as_of"),
        (lambda d: _findings(d / "later", as_of="2026-09-30"), "not before this run's"),
    ],
)
def test_a_missing_or_broken_previous_folder_is_an_input_error_naming_it(tmp_path, make, says):
    folder = make(tmp_path)
    with pytest.raises(InputError) as info:
        load_previous(folder, before="2026-09-30")
    assert str(folder) in str(info.value) and says in str(info.value)
    assert info.value.exit_code == 2


def test_broken_tables_in_the_work_folder_are_an_input_error(tmp_path):
    folder = _findings(tmp_path / "run")
    (folder / "work" / "tables").mkdir(parents=True)
    (folder / "work" / "tables" / "accounts.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="work folder cannot be read"):
        load_previous(folder)


def test_schema_1_findings_without_tables_compare_with_plain_notes(tmp_path):
    earlier = load_previous(_findings(tmp_path / "v1", schema_version=1), before="2026-09-30")
    params = Params.resolve({"as_of": "2026-09-30"}).as_dict()
    current = {
        "schema_version": 2,
        "metrics": {"unassigned_pct": 0.2, "win_rate": 0.2, "reps_at_quota_pct": 0.5},
        "flags": [{"id": "RF1", "status": "clear"}],
    }
    result = compare(earlier, current, {}, params)
    assert result.block["as_of"] == "2026-06-30"
    assert result.block["metrics"]["unassigned_pct"] == {"previous": 0.3, "current": 0.2, "change": pytest.approx(-0.1)}
    assert result.block["metrics"]["reps_at_quota_pct"] == {"previous": None, "current": 0.5, "change": None}
    assert result.block["flags"] == {"RF1": {"previous": "triggered", "current": "clear"}}
    text = " ".join(result.notes)
    assert "schema version 1" in text and "parameters are not in its folder" in text and "work/tables" in text
    assert "Owner changes by reason" not in result.tables


def test_cli_run_with_a_missing_previous_exits_2_and_writes_nothing(small_company, tmp_path):
    out = tmp_path / "out"
    missing = tmp_path / "no-such-run"
    result = run_cli(
        "run", small_company, "--company", "Small Co", "--as-of", LATER, "--out", out, "--previous", missing
    )
    assert result.returncode == 2, result.stderr
    assert str(missing) in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))


# --- two quarters of the small demo company, end to end --------------------------------


def _plan(run: Path) -> pd.DataFrame:
    index = json.loads((run / "work" / RESULTS_DIR / f"{PLAN_STEP}.json").read_text())
    entry = next(t for t in index["tables"] if t["title"] == PLAN_TABLE)
    return pd.read_parquet(run / "work" / RESULTS_DIR / PLAN_STEP / entry["file"])


@pytest.fixture(scope="module")
def two_quarters(small_company, small_run, tmp_path_factory):
    """The small company's run (``small_run``), then the same company a quarter later
    with 60% of that run's plan made, run with ``--previous`` the first run.
    Returns (second run's process result, first run, second run, tables then, tables now, plan)."""
    from diligence.intake import load_company
    from diligence.synth import DEMO_AS_OF, later_quarter, write_company

    first_result, first = small_run
    assert first_result.returncode == 0, first_result.stderr
    root = tmp_path_factory.mktemp("quarters")
    plan = _plan(first)
    before = load_company(small_company, as_of=DEMO_AS_OF).tables
    data = write_company(later_quarter(before, DEMO_AS_OF, moves=plan, carried=0.6), root / "data")
    now = load_company(data, as_of=LATER).tables
    out = root / "q2"
    result = run_cli(
        "run", data, "--company", "Small Co", "--as-of", LATER, "--out", out,
        "--previous", first, "--formats", "html,xlsx", "--jobs", "2",
    )  # fmt: skip
    return result, first, out, before, now, plan


def test_the_later_run_says_what_changed_against_metrics_computed_directly(two_quarters):
    from diligence.synth import DEMO_AS_OF

    result, first, second, before, now, _ = two_quarters
    assert result.returncode == 0, result.stderr
    then = json.loads((first / "findings.json").read_text())
    doc = json.loads((second / "findings.json").read_text())
    assert "previous" not in then, "a run without --previous writes the findings it always wrote"
    block = doc["previous"]
    assert block["as_of"] == DEMO_AS_OF and list(doc)[-1] == "previous"
    assert set(block["metrics"]) == set(doc["metrics"]) | set(then["metrics"])
    for name, entry in block["metrics"].items():
        assert entry["previous"] == then["metrics"].get(name), name
        assert entry["current"] == doc["metrics"].get(name), name
        if isinstance(entry["previous"], (int, float)) and isinstance(entry["current"], (int, float)):
            assert entry["change"] == pytest.approx(entry["current"] - entry["previous"], rel=1e-6, abs=1e-9), name
    # The coverage metrics computed directly on each quarter's tables give the same change.
    direct_then = coverage.metrics(before, Params.resolve({"as_of": DEMO_AS_OF}))
    direct_now = coverage.metrics(now, Params.resolve({"as_of": LATER}))
    for name in ("accounts_total", "unassigned_pct", "orphaned_accounts", "rep_assigned_pct"):
        assert block["metrics"][name]["change"] == pytest.approx(direct_now[name] - direct_then[name], abs=1e-9)
    assert block["metrics"]["accounts_total"]["change"] > 0  # the quarter added accounts
    flags_then = {f["id"]: f["status"] for f in then["flags"]}
    flags_now = {f["id"]: f["status"] for f in doc["flags"]}
    assert block["flags"] == {i: {"previous": flags_then[i], "current": flags_now[i]} for i in flags_now}


def test_owner_changes_and_the_plan_carried_out_match_the_two_quarters_tables(two_quarters):
    result, _, second, before, now, plan = two_quarters
    assert result.returncode == 0, result.stderr
    step = json.loads((second / "work" / RESULTS_DIR / "00_changes.json").read_text())
    summary = step["extra"]["changes"]["summary"]
    owners = pd.merge(
        before["accounts"][["account_id", "owner_rep_id"]],
        now["accounts"][["account_id", "owner_rep_id"]],
        on="account_id",
        how="outer",
        suffixes=("_then", "_now"),
        indicator=True,
    )
    both = owners["_merge"] == "both"
    differ = owners["owner_rep_id_then"].fillna("") != owners["owner_rep_id_now"].fillna("")
    assert summary["owner_changes"] == int((both & differ).sum()) > 0
    assert summary["new_accounts"] == int((owners["_merge"] == "right_only").sum()) > 0
    # Each changed owner's reason is its last owner change of the quarter in the history.
    reasons = pd.read_parquet(
        second / "work" / RESULTS_DIR / "00_changes" / next(t["file"] for t in step["tables"] if "reason" in t["title"])
    )
    hist = now["assignment_history"]
    quarter = hist.loc[hist["effective_date"] > pd.Timestamp("2026-09-30")]
    last = quarter.sort_values("effective_date", kind="stable").drop_duplicates("account_id", keep="last")
    moved = set(owners.loc[both & differ, "account_id"])
    expected = last.loc[last["account_id"].isin(moved), "change_type"].value_counts()
    got = reasons.loc[reasons["change"] == "owner changed"].set_index("reason")["accounts"]
    assert got.to_dict() == expected.to_dict()
    assert {"rebalance", "attrition"} <= set(got.index)
    # The plan: how many of its moves happened, directly from the tables.
    owner_now = now["accounts"].set_index("account_id")["owner_rep_id"]
    planned = plan["to_rep_id"].astype("string").fillna("").to_numpy()
    made = int((owner_now.reindex(plan["account_id"]).astype("string").fillna("").to_numpy() == planned).sum())
    assert summary["plan"]["planned_moves"] == len(plan) > 0
    assert summary["plan"]["moves_made"] == made
    assert summary["plan"]["plan_carried_out_pct"] == pytest.approx(made / len(plan))
    assert 0.4 <= made / len(plan) <= 0.8  # about the 60% the quarter carried out
    assert summary["reps_joined"] == 3 and summary["reps_left"] >= 1


def test_the_report_and_workbook_show_what_changed(two_quarters):
    from openpyxl import load_workbook

    from diligence.synth import DEMO_AS_OF

    result, _, second, *_ = two_quarters
    assert result.returncode == 0, result.stderr
    html = (second / "report.html").read_text()
    assert f"What changed since {DEMO_AS_OF}" in html
    assert html.index('id="what-changed"') < html.index('class="dk-section" id="section-')  # after the summary
    assert "of the plan&#39;s moves made" in html or "of the plan's moves made" in html
    wb = load_workbook(second / "report.xlsx")
    assert wb.sheetnames[:2] == ["Summary", "What changed"]
    values = [c.value for row in wb["What changed"].iter_rows() for c in row]
    assert "Metrics then and now" in values and "Moves of the earlier plan" in values


def test_same_inputs_and_previous_give_the_same_findings_bytes(two_quarters, tmp_path):
    result, first, second, *_ = two_quarters
    assert result.returncode == 0, result.stderr
    data = second.parent / "data"
    again = tmp_path / "again"
    rerun = run_cli(
        "run", data, "--company", "Small Co", "--as-of", LATER, "--out", again,
        "--previous", first, "--formats", "html", "--jobs", "2",
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert (again / "findings.json").read_bytes() == (second / "findings.json").read_bytes()


def test_synth_after_a_run_writes_its_company_a_quarter_later(small_run, tmp_path):
    from diligence.intake import load_company

    first_result, first = small_run
    assert first_result.returncode == 0, first_result.stderr
    result = run_cli("synth", "--out", tmp_path / "later", "--after", first)
    assert result.returncode == 0, result.stderr
    intake = load_company(tmp_path / "later", as_of=LATER)
    assert not intake.errors
    assert (
        len(intake.tables["accounts"]) > json.loads((first / "findings.json").read_text())["metrics"]["accounts_total"]
    )
    missing = run_cli("synth", "--out", tmp_path / "x", "--after", tmp_path / "nowhere")
    assert missing.returncode == 2 and "--after" in missing.stderr and "Traceback" not in missing.stderr
