"""The capacity plan's economics against one baseline, and ramp by segment, on
tiny hand-built companies whose answers are worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.contract import typed
from diligence.errors import InputError
from diligence.params import ASSUMED_RAMP_MONTHS, resolve_params, resolve_settings
from diligence.scenarios import capacity_plan as cp
from diligence.scenarios import plans, sensitivity

AS_OF = "2026-06-30"
PARAMS = resolve_params({"as_of": AS_OF, "accounts_per_rep": {"SMB": 100, "Enterprise": 20}})
ADDED = "Bookings capacity added over the plan"
COST = "Cost of hires over the plan"
KEPT, NORMS = plans.DEFAULT_PLANS[0]["name"], plans.DEFAULT_PLANS[1]["name"]


def company(reps_by_segment: dict[str, int], accounts_by_segment: dict[str, int]) -> dict:
    """Reps (quota 400, hired long ago) and accounts (owned by the segment's first rep) per segment."""
    reps = [
        (f"{seg[:3]}{i}", f"Rep {seg} {i}", "AE", "senior", seg, "East", 400.0)
        for seg, n in reps_by_segment.items()
        for i in range(n)
    ]
    frame = pd.DataFrame(reps, columns=["rep_id", "rep_name", "role", "level", "segment", "region", "quota"])
    frame["hire_date"] = pd.Timestamp("2020-01-01")
    accounts = [
        (f"{seg[:3]}-A{i}", f"{seg[:3]}0", seg, "East", 1.0) for seg, n in accounts_by_segment.items() for i in range(n)
    ]
    acc = pd.DataFrame(accounts, columns=["account_id", "owner_rep_id", "segment", "region", "potential"])
    acc["account_name"] = "Name " + acc["account_id"]
    return {"accounts": typed("accounts", acc), "reps": typed("reps", frame)}


def settings(**overrides) -> dict:
    base = {"quota_per_ramped_rep": 400.0, "fully_loaded_cost_per_rep": 100.0, "ramp_months": 6}
    return resolve_settings({**base, **overrides})


def econ(tables: dict, s: dict, plan: dict | None = None) -> pd.Series:
    """The economics (low column, by item) of ``plan`` (the norms when None) under ``s``."""
    chosen = plans.plan_settings(s, plan or {"name": "norms", "hires_by_segment": None})
    return cp.economics(tables, PARAMS, chosen).set_index("item")["low"]


def test_one_segment_by_hand():
    # SMB: 2 reps, 350 accounts at 100 per rep -> need 4; no attrition, 6-month ramp, quota 400, cost 100
    tables = company({"SMB": 2}, {"SMB": 350})
    s = settings(annual_attrition=0.0)
    plan = cp.hiring_plan(tables, PARAMS, s)
    assert plan["hires"].tolist() == [2, 0, 0, 0]
    # the two hires are 25%, 75%, 100%, 100% productive: 2.5, 3.5, 4, 4 FTE against a baseline of 2
    assert plan["selling_fte"].tolist() == pytest.approx([2.5, 3.5, 4.0, 4.0])
    assert plan["baseline_selling_fte"].tolist() == pytest.approx([2.0] * 4)
    e = econ(tables, s)
    # (0.5 + 1.5 + 2 + 2) FTE-quarters × 400 / 4 = 600; cost 2 hires × 100 a year, over the year = 200
    assert e[ADDED] == pytest.approx(600.0)
    assert e[COST] == pytest.approx(200.0)
    assert e[cp.RUN_RATE] == pytest.approx(2 * 400.0)
    assert e["Net of hires over the plan (added bookings − cost)"] == pytest.approx(400.0)
    assert e["Headcount at the plan's end"] == pytest.approx(4.0)
    assert e["Headcount at the plan's end, baseline"] == pytest.approx(2.0)
    assert e["Net hires (hires − expected leavers)"] == pytest.approx(2.0)


def test_two_segments_by_hand_with_ramp_by_segment():
    # SMB 2 reps for a need of 3 (ramp 3 months); Enterprise 1 rep for a need of 2 (40 accounts at 20; ramp 6)
    tables = company({"SMB": 2, "Enterprise": 1}, {"SMB": 300, "Enterprise": 40})
    s = settings(annual_attrition=0.0, ramp_months={"smb": 3, "ENTERPRISE": 6})
    plan = cp.hiring_plan(tables, PARAMS, s).set_index(["quarter", "segment"])
    assert plan.loc[(1, "SMB"), "hires"] == 1 and plan.loc[(1, "Enterprise"), "hires"] == 1
    # first quarter: a 3-month ramp is 50% productive on average, a 6-month one 25%
    assert plan.loc[(1, "SMB"), "productive_fte"] == pytest.approx(2.5)
    assert plan.loc[(1, "Enterprise"), "productive_fte"] == pytest.approx(1.25)
    # SMB: 0.5 + 1 + 1 + 1 FTE-quarters; Enterprise: 0.25 + 0.75 + 1 + 1; × 400 / 4 each
    assert econ(tables, s)[ADDED] == pytest.approx((3.5 + 3.0) * 100.0)


def test_capacity_beyond_the_need_is_not_credited():
    # SMB: 5 reps for a need of 4. Attrition 10%: the baseline keeps 4.5 reps a year on, still above the need
    tables = company({"SMB": 5}, {"SMB": 350})
    s = settings(annual_attrition=0.10)
    kept, norms = econ(tables, s, plans.DEFAULT_PLANS[0]), econ(tables, s, plans.DEFAULT_PLANS[1])
    evaluated = plans.evaluate_plans(tables, PARAMS, s)
    assert evaluated[0]["over_need"] == [("SMB", 5, 4)]
    assert "adds cost, not bookings (SMB: 5 reps for a need of 4)." in plans.plans_note(evaluated)
    # keeping today's headcount backfills leavers: it costs, and adds nothing the accounts call for
    assert kept["Hires in the plan"] >= 1 and kept[COST] > 0
    assert kept[ADDED] == pytest.approx(0.0, abs=1e-9) and kept[cp.RUN_RATE] == pytest.approx(0.0, abs=1e-9)
    # hiring to the norms hires nobody here: no cost, no value
    assert norms["Hires in the plan"] == 0 and norms[COST] == 0 and norms[ADDED] == pytest.approx(0.0, abs=1e-9)


def test_zero_attrition_keeping_headcount_hires_nobody_and_costs_nothing():
    tables = company({"SMB": 2, "Enterprise": 1}, {"SMB": 350, "Enterprise": 60})
    kept = econ(tables, settings(annual_attrition=0.0), plans.DEFAULT_PLANS[0])
    assert kept["Hires in the plan"] == 0 and kept[COST] == 0 and kept[ADDED] == 0
    assert kept["Headcount at the plan's end"] == kept["Headcount at the plan's end, baseline"] == 3


@pytest.mark.parametrize("attrition", [0.0, 0.15, 0.3])
def test_below_the_norm_everywhere_hiring_to_the_norms_is_worth_at_least_keeping_headcount(attrition):
    # every segment below its need: SMB 2 reps for 4, Enterprise 1 rep for 3
    tables = company({"SMB": 2, "Enterprise": 1}, {"SMB": 350, "Enterprise": 60})
    s = settings(annual_attrition=attrition, ramp_months=None)  # the assumed ramp, by segment
    kept, norms = econ(tables, s, plans.DEFAULT_PLANS[0]), econ(tables, s, plans.DEFAULT_PLANS[1])
    assert norms[ADDED] >= kept[ADDED] > (0 if attrition else -1)
    assert norms[cp.RUN_RATE] >= kept[cp.RUN_RATE]
    assert norms[COST] >= kept[COST]
    assert norms["Headcount at the plan's end"] >= kept["Headcount at the plan's end"]


def test_the_standard_plans_side_by_side_against_one_baseline():
    tables = company({"SMB": 2, "Enterprise": 1}, {"SMB": 350, "Enterprise": 60})
    s = settings(annual_attrition=0.2, ramp_months=None)
    evaluated = {e["name"]: e for e in plans.evaluate_plans(tables, PARAMS, s)}
    kept, norms = evaluated[KEPT], evaluated[NORMS]
    assert norms["value_base"] >= kept["value_base"]
    assert norms["value_low"] <= norms["value_base"] <= norms["value_high"]
    assert kept["baseline_headcount_end"] == pytest.approx(norms["baseline_headcount_end"])
    assert kept["baseline_headcount_end"] == pytest.approx(3 * 0.8)
    assert kept["net_hires"] == pytest.approx(kept["hires"] - kept["expected_leavers"])
    table = plans.side_by_side(list(evaluated.values()))
    for column in ("net_hires", "headcount_end", "value_base", "cost"):
        assert column in table.columns
    assert "attrition not replaced" in plans.plans_note(list(evaluated.values()))
    assert norms["value_base"] > kept["value_base"]
    sentence = plans.plans_sentence(list(evaluated.values()))
    assert f"worth most at the base assumptions is “{NORMS}”" in sentence and f"“{KEPT}” is worth least" in sentence


def test_ramp_by_segment_matches_the_usual_spellings_and_falls_back():
    segments = pd.Series(["Enterprise", "mid market", "MM", "Mid-Market", "smb", " SMB ", "Strategic"], dtype="string")
    assert cp.ramp_by_segment(None, segments).tolist() == [9.0, 6.0, 6.0, 6.0, 4.0, 4.0, 6.0]
    assert cp.ramp_by_segment(3, segments).tolist() == [3.0] * 7
    assert cp.ramp_by_segment({"Enterprise": 12}, segments).tolist() == [12.0, 6.0, 6.0, 6.0, 4.0, 4.0, 6.0]
    assert cp.ramp_by_segment({"mid_market": 5, "other": 7}, segments).tolist() == [7.0, 5.0, 5.0, 5.0, 7.0, 7.0, 7.0]
    # the assumed default: enterprise ramps longer than mid-market, mid-market longer than SMB
    assert ASSUMED_RAMP_MONTHS["Enterprise"] > ASSUMED_RAMP_MONTHS["Mid-Market"] > ASSUMED_RAMP_MONTHS["SMB"]


def test_the_sensitivity_moves_every_segments_ramp():
    segments = pd.Series(["Enterprise", "Mid-Market", "SMB", "Other"], dtype="string")
    for ramp in (None, 5.0, {"Enterprise": 12}, {"SMB": 1, "other": 8}):
        base = cp.ramp_by_segment(ramp, segments)
        for months in (-2.0, 2.0):
            moved = cp.ramp_by_segment(cp.shift_ramp(ramp, months), segments)
            assert moved.tolist() == (base + months).clip(lower=0).tolist(), (ramp, months)
    tables = company({"SMB": 2, "Enterprise": 1}, {"SMB": 350, "Enterprise": 60})
    result = sensitivity.sensitivity(tables, PARAMS, settings(annual_attrition=0.0, ramp_months={"SMB": 3}))
    tornado = result["tornado"].set_index("driver")
    assert tornado.loc["ramp_months", "value_at_low"] > tornado.loc["ramp_months", "value_at_high"]
    assert tornado.loc["ramp_months", "low_text"] == "2 months shorter"


def test_ramp_months_is_validated_at_the_edge():
    assert resolve_settings({"ramp_months": {"Enterprise": 9, "SMB": 3}})["ramp_months"] == {
        "Enterprise": 9.0,
        "SMB": 3.0,
    }
    assert resolve_settings({"ramp_months": 4})["ramp_months"] == 4.0
    for bad in ({"Enterprise": -1}, "six", [6, 9], {}, {"SMB": "3"}):
        with pytest.raises(InputError, match="ramp_months"):
            resolve_settings({"ramp_months": bad})
    plan = resolve_settings({"plans": [{"name": "Slow", "ramp_months": {"Enterprise": 12}}]})["plans"][0]
    assert plan["ramp_months"] == {"Enterprise": 12.0}
    with pytest.raises(InputError, match=r"plans\[0\] \(Slow\).*ramp_months"):
        resolve_settings({"plans": [{"name": "Slow", "ramp_months": {"Enterprise": -3}}]})
    with pytest.raises(InputError, match="ramp_months"):
        resolve_params({"scenarios": {"ramp_months": "long"}})


def test_the_appendix_cites_where_each_default_comes_from():
    from diligence.report.html import assumption_rows

    tables = company({"SMB": 2}, {"SMB": 10})
    inputs = cp.plan_inputs(tables, PARAMS, resolve_settings({}))
    rows = {r["item"]: r for r in assumption_rows(inputs, resolve_params({"as_of": AS_OF}))}
    ramp = rows["Ramp to full productivity (months)"]
    assert ramp["basis"] == "assumed" and ramp["value"].startswith("Enterprise 9.0 months")
    assert "Bridge Group" in ramp["source"]
    assert "CSO Insights" in rows["Annual attrition"]["source"]
    norms = rows["Accounts per rep (capacity need)"]
    assert "Winning By Design" in norms["source"] and "No published figure" in norms["source"]


def test_an_observed_or_set_input_says_which_default_it_replaced():
    from diligence.report.html import assumption_rows

    tables = company({"SMB": 2}, {"SMB": 10})
    inputs = cp.plan_inputs(tables, PARAMS, resolve_settings({"ramp_months": {"SMB": 3}}))
    # as the company's history would give it: an observed attrition
    inputs.loc[inputs["setting"] == "annual_attrition", ["basis", "note"]] = ["observed", "reps who left / headcount"]
    rows = {r["item"]: r for r in assumption_rows(inputs, PARAMS)}
    ramp, attrition = rows["Ramp to full productivity (months)"], rows["Annual attrition"]
    assert ramp["basis"] == "set" and ramp["value"] == "SMB 3.0 months"
    assert "This set value replaced the default" in ramp["source"] and "Bridge Group" in ramp["source"]
    assert attrition["source"].startswith("reps who left / headcount. This observed value replaced the default")
    assert "CSO Insights" in attrition["source"] and "Set scenarios" not in attrition["source"]


def test_a_named_plan_may_set_its_ramp_by_segment():
    tables = company({"SMB": 2, "Enterprise": 1}, {"SMB": 350, "Enterprise": 60})
    s = resolve_settings(
        {
            "annual_attrition": 0.0,
            "quota_per_ramped_rep": 400.0,
            "fully_loaded_cost_per_rep": 100.0,
            "plans": [
                {"name": "Fast", "ramp_months": 1},
                {"name": "Slow enterprise", "ramp_months": {"enterprise": 12, "other": 1}},
            ],
        }
    )
    fast, slow = plans.evaluate_plans(tables, PARAMS, s)
    assert slow["settings"]["ramp_months"] == {"enterprise": 12.0, "other": 1.0}
    assert fast["hires"] == slow["hires"] and fast["cost"] == slow["cost"]
    assert fast["value_base"] > slow["value_base"]
