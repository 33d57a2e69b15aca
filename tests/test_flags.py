"""Red flags (SPEC §5): thresholds, boundaries, not-assessed reasons, wording."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from diligence.metrics import flags
from diligence.params import resolve_params

PARAMS = resolve_params({"as_of": "2025-06-30"})

SPEC_FLAGS = [
    ("RF1", "unassigned_accounts"),
    ("RF2", "attainment_disparity"),
    ("RF3", "stale_rebalancing"),
    ("RF4", "territory_perception_gap"),
    ("RF5", "channel_conflict_without_rules"),
    ("RF6", "headcount_driven_design"),
    ("W1", "coverage_gap"),
    ("W2", "attainment_variance"),
    ("W3", "opportunity_imbalance"),
    ("W4", "white_space"),
    ("W5", "pipeline_coverage_off_band"),
    ("W6", "seniority_mismatch"),
    ("W7", "rep_overlap"),
    ("W8", "merger_overlap"),
    ("W9", "stale_pipeline"),
    ("W10", "low_quota_attainment"),
]

#: Flags judged as "metric > threshold" and the metric each one reads.
SIMPLE = {
    "RF1": "unassigned_pct",
    "RF2": "attainment_max_min_ratio",
    "RF3": "months_since_rebalance",
    "RF4": "survey_mismatch_pct",
    "RF5": "channel_conflict_accounts",
    "RF6": "headcount_shortfall_pct",
    "W1": "assigned_not_worked_pct",
    "W2": "attainment_cv_max",
    "W3": "potential_max_min_ratio",
    "W4": "white_space_cells",
    "W6": "junior_on_enterprise_pct",
    "W7": "multi_rep_accounts",
    "W8": "cross_crm_conflicting_owners",
    "W9": "stale_pipeline_pct",
}


def _full_tables() -> dict:
    """Every table and column present (contents do not matter to the flags)."""
    accounts = pd.DataFrame(
        columns=[
            "account_id",
            "account_name",
            "owner_rep_id",
            "partner_id",
            "segment",
            "region",
            "source_company",
            "domain",
        ],
        dtype="string",
    )
    reps = pd.DataFrame(columns=["rep_id", "rep_name", "role", "level", "segment", "quota"])
    opps = pd.DataFrame(
        columns=["opportunity_id", "account_id", "owner_rep_id", "channel", "close_date", "is_closed", "is_won"]
    )
    return {
        "accounts": accounts,
        "reps": reps,
        "opportunities": opps,
        "activities": pd.DataFrame(columns=["account_id", "activity_date"]),
        "assignment_history": pd.DataFrame(columns=["account_id", "effective_date", "change_type"]),
        "rep_survey": pd.DataFrame(columns=["rep_id"]),
    }


def _by_id(result: list[dict]) -> dict[str, dict]:
    return {f["id"]: f for f in result}


def test_flags_are_the_spec_list_in_order():
    assert [(s.id, s.name) for s in flags.FLAGS] == SPEC_FLAGS
    result = flags.evaluate({}, PARAMS, _full_tables())
    assert [(f["id"], f["name"]) for f in result] == SPEC_FLAGS
    assert all(set(f) == {"id", "name", "status", "value", "threshold", "detail"} for f in result)


@pytest.mark.parametrize("fid", sorted(SIMPLE))
def test_equal_to_threshold_is_clear_and_above_is_triggered(fid):
    t = PARAMS["thresholds"][fid]
    metric = SIMPLE[fid]
    at = _by_id(flags.evaluate({metric: t}, PARAMS, _full_tables()))[fid]
    assert at["status"] == "clear", at
    assert at["value"] == t
    step = 1 if isinstance(t, int) else 0.001
    above = _by_id(flags.evaluate({metric: t + step}, PARAMS, _full_tables()))[fid]
    assert above["status"] == "triggered", above
    assert above["threshold"] == t


@pytest.mark.parametrize("fid", sorted(SIMPLE))
def test_a_metric_that_is_none_is_never_clear(fid):
    tables = _full_tables()
    f = _by_id(flags.evaluate({SIMPLE[fid]: None}, PARAMS, tables))[fid]
    if fid == "RF3":  # history present but no rebalance event: never counts as stale
        assert f["status"] == "triggered"
        assert "No rebalance event" in f["detail"]
    else:
        assert f["status"] == "not_assessed"
        assert f["value"] is None
        assert f["detail"]


def test_rounding_noise_at_the_threshold_is_clear():
    f = _by_id(flags.evaluate({"attainment_max_min_ratio": 2.0000000000004}, PARAMS, _full_tables()))["RF2"]
    assert f["status"] == "clear"


@pytest.mark.parametrize(
    ("median", "status", "word"),
    [(3.0, "clear", "inside"), (5.0, "clear", "inside"), (2.99, "triggered", "below"), (5.01, "triggered", "above")],
)
def test_w5_band_ends_are_inside(median, status, word):
    f = _by_id(flags.evaluate({"pipeline_coverage_median": median}, PARAMS, _full_tables()))["W5"]
    assert f["status"] == status
    assert f"{word} the 3.0×–5.0× band" in f["detail"]
    assert f["threshold"] == [3.0, 5.0]


def test_rf2_triggers_on_a_zero_minimum_group():
    f = _by_id(
        flags.evaluate({"attainment_max_min_ratio": None, "attainment_zero_min_groups": 1}, PARAMS, _full_tables())
    )["RF2"]
    assert f["status"] == "triggered"
    assert f["value"] is None
    assert "unbounded" in f["detail"]
    f = _by_id(
        flags.evaluate({"attainment_max_min_ratio": None, "attainment_zero_min_groups": 0}, PARAMS, _full_tables())
    )["RF2"]
    assert f["status"] == "not_assessed"
    assert "comparable group" in f["detail"]


def test_w3_triggers_on_a_zero_potential_book():
    f = _by_id(flags.evaluate({"potential_max_min_ratio": None, "potential_zero_books": 2}, PARAMS, _full_tables()))[
        "W3"
    ]
    assert f["status"] == "triggered"
    f = _by_id(flags.evaluate({"potential_max_min_ratio": 1.5, "potential_zero_books": 0}, PARAMS, _full_tables()))[
        "W3"
    ]
    assert f["status"] == "clear"


def test_rf3_months_and_missing_history():
    f = _by_id(flags.evaluate({"months_since_rebalance": 12.0}, PARAMS, _full_tables()))["RF3"]
    assert f["status"] == "clear"
    assert (
        f["detail"] == "The last rebalance event was 12.0 months before the as-of date, within the 12-month threshold."
    )
    tables = {k: v for k, v in _full_tables().items() if k != "assignment_history"}
    f = _by_id(flags.evaluate({"months_since_rebalance": None}, PARAMS, tables))["RF3"]
    assert f["status"] == "not_assessed"
    assert f["detail"] == "needs the assignment_history table, which was not provided."


def test_rf5_is_clear_when_rules_of_engagement_are_documented():
    documented = resolve_params({"as_of": "2025-06-30", "rules_of_engagement_documented": True})
    f = _by_id(flags.evaluate({"channel_conflict_accounts": 7}, documented, _full_tables()))["RF5"]
    assert (f["status"], f["value"]) == ("clear", 7)
    assert "documented" in f["detail"]
    f = _by_id(flags.evaluate({"channel_conflict_accounts": 7}, PARAMS, _full_tables()))["RF5"]
    assert f["status"] == "triggered"
    assert f["detail"].startswith("7 accounts had direct and partner deals")
    tables = _full_tables()
    tables["opportunities"] = tables["opportunities"].drop(columns="channel")
    f = _by_id(flags.evaluate({"channel_conflict_accounts": None}, documented, tables))["RF5"]
    assert (f["status"], f["detail"]) == ("not_assessed", "needs opportunities.channel.")


def test_thresholds_come_from_params():
    strict = resolve_params({"as_of": "2025-06-30", "thresholds": {"RF1": 0.05}})
    f = _by_id(flags.evaluate({"unassigned_pct": 0.1}, strict, _full_tables()))["RF1"]
    assert (f["status"], f["threshold"]) == ("triggered", 0.05)
    assert f["detail"] == "10.0% of accounts have no active rep or partner, above the 5% threshold."


def test_detail_wording_and_formats():
    result = _by_id(
        flags.evaluate(
            {
                "unassigned_pct": 0.312,
                "attainment_max_min_ratio": 3.44,
                "white_space_cells": 0,
                "multi_rep_accounts": 1,
            },
            PARAMS,
            _full_tables(),
        )
    )
    assert result["RF1"]["detail"] == "31.2% of accounts have no active rep or partner, above the 20% threshold."
    assert "3.4× the lowest, above the 2.0× threshold" in result["RF2"]["detail"]
    assert result["W4"]["status"] == "clear" and result["W4"]["detail"].startswith("No segment × region cells")
    assert result["W7"]["detail"].startswith("1 account had ")


@pytest.mark.parametrize(
    ("drop", "fid", "reason"),
    [
        ("reps.level", "W6", "needs reps.level."),
        ("rep_survey", "RF4", "needs the rep_survey table, which was not provided."),
        ("activities", "W1", "needs the activities table, which was not provided."),
        ("accounts.source_company", "W8", "needs accounts.source_company."),
        ("opportunities", "W7", "needs the opportunities table, which was not provided."),
        ("reps.quota", "W2", "needs reps.quota."),
        ("opportunities.is_won", "RF2", "needs opportunities.is_won (or a stage column to derive it from)."),
    ],
)
def test_not_assessed_names_what_is_missing(drop, fid, reason):
    tables = _full_tables()
    table, _, column = drop.partition(".")
    if column:
        tables[table] = tables[table].drop(columns=column)
    else:
        del tables[table]
    f = _by_id(flags.evaluate({}, PARAMS, tables))[fid]
    assert (f["status"], f["detail"]) == ("not_assessed", reason)


def test_w4_needs_one_of_its_dimensions():
    tables = _full_tables()
    tables["accounts"] = tables["accounts"].drop(columns=["segment", "region"])
    f = _by_id(flags.evaluate({}, PARAMS, tables))["W4"]
    assert f["detail"] == "needs accounts.segment or accounts.region."


def _all_metrics(tables: dict, params: dict) -> dict:
    from diligence.metrics import balance, capacity, channels, coverage, governance, merger, pipeline

    metrics: dict = {}
    for module in (coverage, balance, pipeline, channels, governance, capacity, merger):
        metrics.update(module.metrics(tables, params))
    return metrics


def test_minimal_company_leaves_every_flag_not_assessed():
    tables = {
        "accounts": pd.DataFrame({"account_id": ["a1", "a2"], "account_name": ["A", "B"]}, dtype="string"),
        "reps": pd.DataFrame({"rep_id": ["r1"], "rep_name": ["R"], "role": ["AE"]}, dtype="string"),
    }
    result = flags.evaluate(_all_metrics(tables, PARAMS), PARAMS, tables)
    assert {f["status"] for f in result} == {"not_assessed"}
    assert all(f["detail"].startswith("needs ") for f in result)


def test_accounts_and_reps_only_company():
    accounts = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(12)],
            "account_name": [f"Acc {i}" for i in range(12)],
            "owner_rep_id": ["r1"] * 5 + ["r2"] * 5 + [None, None],
            "segment": ["Enterprise"] * 6 + ["SMB"] * 6,
            "region": ["EU"] * 12,
        },
        dtype="string",
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["r1", "r2"],
            "rep_name": ["Ann", "Bob"],
            "role": ["AE", "AE"],
            "level": ["junior", "senior"],
            "segment": ["Enterprise", "Enterprise"],
        },
        dtype="string",
    )
    reps["quota"] = [100.0, 100.0]
    tables = {"accounts": accounts, "reps": reps}
    result = _by_id(flags.evaluate(_all_metrics(tables, PARAMS), PARAMS, tables))
    needs_other_tables = {
        "RF2": "opportunities",
        "RF3": "assignment_history",
        "RF4": "rep_survey",
        "RF5": "opportunities",
        "W1": "activities",
        "W2": "opportunities",
        "W5": "opportunities",
        "W7": "opportunities",
    }
    for fid, table in needs_other_tables.items():
        assert result[fid]["status"] == "not_assessed", result[fid]
        assert result[fid]["detail"] == f"needs the {table} table, which was not provided."
    assert result["W8"]["detail"] == "needs accounts.source_company."
    for fid in ("RF1", "RF6", "W3", "W4", "W6"):
        assert result[fid]["status"] in ("triggered", "clear"), result[fid]
    assert result["RF1"]["value"] == pytest.approx(2 / 12)
    json.dumps(list(result.values()))  # plain, serialisable values


def test_values_are_plain_python_numbers():
    import numpy as np

    result = _by_id(
        flags.evaluate(
            {
                "unassigned_pct": np.float64(0.5),
                "white_space_cells": np.int64(3),
                "win_rate": float("nan"),
                "pipeline_coverage_median": float("nan"),
            },
            PARAMS,
            _full_tables(),
        )
    )
    assert type(result["RF1"]["value"]) is float
    assert type(result["W4"]["value"]) is int
    assert result["W5"]["status"] == "not_assessed"


def test_scorecard_is_a_display_table_in_flag_order():
    result = flags.evaluate(
        {"unassigned_pct": 0.312, "pipeline_coverage_median": 2.1, "months_since_rebalance": 14.24},
        PARAMS,
        _full_tables(),
    )
    card = flags.scorecard(result)
    assert card.columns.tolist() == ["id", "name", "status", "value", "threshold", "detail"]
    assert card["id"].tolist() == [fid for fid, _ in SPEC_FLAGS]
    row = card.set_index("id")
    assert (row.loc["RF1", "value"], row.loc["RF1", "threshold"]) == ("31.2%", "20%")
    assert (row.loc["W5", "value"], row.loc["W5", "threshold"]) == ("2.1×", "3.0×–5.0×")
    assert row.loc["RF3", "value"] == "14.2 months"
    assert row.loc["W2", "value"] == "—"
