"""The capacity plan's inputs (observed, set or assumed) and its backtest a year back."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.params import ASSUMED_INPUTS, ASSUMED_RAMP_MONTHS, resolve_settings
from diligence.scenarios import capacity_plan
from diligence.scenarios.backtest import backtest
from tests.helpers import days, frame


def company(hires: int = 0, leavers: int = 0) -> dict:
    """Two tenured SMB reps booking 120 a year in the year before T - 365 and 100 each since,
    plus ``hires`` reps hired 100 days before T and ``leavers`` who left 30 days before T."""
    ids = ["r1", "r2"] + [f"h{i}" for i in range(hires)] + [f"l{i}" for i in range(leavers)]
    n = len(ids)
    reps = frame(
        "reps",
        rep_id=ids,
        rep_name=[i.upper() for i in ids],
        segment=["SMB"] * n,
        role=["AE"] * n,
        hire_date=[days(-1000)] * 2 + [days(-100)] * hires + [days(-1000)] * leavers,
        end_date=[None] * (2 + hires) + [days(-30)] * leavers,
        quota=[100.0] * n,
    )
    rows = [("r1", -400, 120.0), ("r2", -400, 120.0), ("r1", -100, 100.0), ("r2", -100, 100.0)]
    opps = frame(
        "opportunities",
        opportunity_id=[f"o{i}" for i in range(len(rows))],
        account_id=["a0"] * len(rows),
        owner_rep_id=[r[0] for r in rows],
        amount=[r[2] for r in rows],
        created_date=[days(-900)] * len(rows),
        close_date=[days(r[1]) for r in rows],
        is_closed=[True] * len(rows),
        is_won=[True] * len(rows),
    )
    accounts = frame("accounts", account_id=["a0"], account_name=["A"], segment=["SMB"], owner_rep_id=["r1"])
    return {"accounts": accounts, "reps": reps, "opportunities": opps}


def test_inputs_are_set_observed_or_assumed(params):
    tables = company()
    inputs = capacity_plan.plan_inputs(tables, params, resolve_settings({"ramp_months": 4})).set_index("setting")
    assert inputs.loc["ramp_months", "basis"] == "set" and inputs.loc["ramp_months", "value"] == 4.0
    # two reps are too few to observe attrition: the assumption, and the note says why
    assert inputs.loc["annual_attrition", "basis"] == "assumed"
    assert inputs.loc["annual_attrition", "value"] == ASSUMED_INPUTS["annual_attrition"]
    assert "too few reps" in inputs.loc["annual_attrition", "note"]
    assert inputs.loc["productivity", "basis"] == "assumed"  # 2 eligible reps < 3


def test_attrition_is_observed_with_enough_reps(params):
    tables = company(hires=0, leavers=8)
    inputs = capacity_plan.plan_inputs(tables, params, resolve_settings({})).set_index("setting")
    # 10 reps a year ago, 2 now: 8 leavers over a mean of 6
    assert inputs.loc["annual_attrition", "basis"] == "observed"
    assert inputs.loc["annual_attrition", "value"] == pytest.approx(8 / 6)
    assert inputs.loc["annual_attrition", "reps"] == 6
    settings = capacity_plan.with_inputs(tables, params, resolve_settings({}))
    assert settings["annual_attrition"] == capacity_plan.MAX_ATTRITION
    # too few recent hires to observe a ramp: the assumed ramp, by segment
    assert settings["ramp_months"] == ASSUMED_RAMP_MONTHS
    inputs = inputs.reset_index()
    ramp = inputs.loc[inputs["setting"] == "ramp_months"].iloc[0]
    assert ramp["basis"] == "assumed" and pd.isna(ramp["value"])
    assert ramp["figure"] == "Enterprise 9.0 months, Mid-Market 6.0, SMB 4.0, other 6.0"
    assert "Bridge Group" in ramp["note"]


def test_backtest_predicts_from_what_was_known_a_year_back(params):
    tables = company(hires=1)
    settings = resolve_settings({"annual_attrition": 0.0, "ramp_months": 0})
    result = backtest(tables, params, settings)
    assert result["reason"] is None and result["as_of"] == days(-365)
    # two reps in seat all year at 120 a year, and the hire present in the 3 months whose middle
    # falls after its start (T - 100 = T0 + 265 days: mid-months at 289, 320, 350 days)
    assert result["predicted"] == pytest.approx(240 + 3 * 10)
    assert result["actual"] == 200.0
    assert result["error_pct"] == pytest.approx(70 / 200)
    total = result["by_segment"].set_index("segment").loc["Total"]
    assert total["reps_at_start"] == 2 and total["hires_in_year"] == 1


def test_backtest_says_why_it_cannot_run(params):
    tables = company()
    tables.pop("opportunities")
    result = backtest(tables, params, resolve_settings({}))
    assert result["predicted"] is None and "opportunities" in result["reason"]


def test_input_findings_say_where_each_input_comes_from(params):
    from diligence.scenarios.compare import input_findings

    tables = company(hires=0, leavers=8)
    inputs = capacity_plan.plan_inputs(tables, params, resolve_settings({"ramp_months": 3}))
    text = " ".join(input_findings(inputs, backtest(tables, params, resolve_settings({"ramp_months": 3}))))
    assert "attrition (133% a year, over a mean headcount of 6) is observed" in text
    assert "ramp (3.0 months) is set in the scenario settings" in text
    assert "productivity of a ramped rep (100% of quota) is assumed" in text
