"""What changed since an earlier run: the comparison functions on hand-built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from diligence.contract import HIGHER, LOWER, METRIC_NAMES, METRIC_SENSE
from diligence.metrics import changes as ch
from diligence.registry import ABOVE, BELOW, FLAGS, OUTSIDE
from tests.helpers import T, days, frame

BEFORE = pd.Timestamp(days(-91))
NOW = pd.Timestamp(T)


def test_every_spec_metric_has_a_sense_and_flags_agree_with_it():
    assert set(METRIC_SENSE) == set(METRIC_NAMES)
    for flag in FLAGS:
        sense = METRIC_SENSE[flag.metric]
        expected = {ABOVE: LOWER, BELOW: HIGHER, OUTSIDE: "band"}[flag.test]
        assert sense == expected, flag.id


@pytest.mark.parametrize(
    ("name", "previous", "current", "expected"),
    [
        ("unassigned_pct", 0.30, 0.22, ch.BETTER),
        ("unassigned_pct", 0.22, 0.30, ch.WORSE),
        ("win_rate", 0.20, 0.25, ch.BETTER),
        ("reps_at_quota_pct", 0.50, 0.40, ch.WORSE),
        ("pipeline_coverage_median", 2.0, 2.5, ch.BETTER),  # nearer the 3–5× band
        ("pipeline_coverage_median", 6.0, 7.0, ch.WORSE),  # further above it
        ("pipeline_coverage_median", 3.5, 4.5, ch.SAME),  # inside it both times
        ("accounts_total", 100, 120, ch.CHANGED),  # neutral: neither better nor worse
        ("accounts_total", 100, 100, ch.SAME),
        ("win_rate", None, 0.25, ch.NOT_COMPARED),
        ("unassigned_pct", 0.2, 0.2, ch.SAME),
    ],
)
def test_direction_by_the_metrics_own_sense(name, previous, current, expected):
    assert ch.direction(name, previous, current) == expected


def test_metric_changes_rows_values_and_changes():
    out = ch.metric_changes({"unassigned_pct": 0.3, "old_only": 1.0}, {"unassigned_pct": 0.2, "win_rate": 0.4})
    assert list(out["metric"]) == ["unassigned_pct", "win_rate", "old_only"]
    first = out.iloc[0]
    assert first["previous"] == 0.3 and first["current"] == 0.2
    assert first["change"] == pytest.approx(-0.1)
    assert first["direction"] == ch.BETTER
    assert pd.isna(out.iloc[1]["previous"]) and pd.isna(out.iloc[1]["change"])
    assert pd.isna(out.iloc[2]["current"])


def test_a_ratio_that_became_unbounded_moved_the_wrong_way():
    # W3 judges potential_max_min_ratio: blank while W3 is raised means a book with no potential
    now_flags = [{"id": "W3", "status": "triggered"}, {"id": "RF2", "status": "not_assessed"}]
    now = {"potential_max_min_ratio": None, "attainment_max_min_ratio": None, "win_rate": None}
    assert ch.unbounded(now, now_flags) == {"potential_max_min_ratio": np.inf}
    before = {"potential_max_min_ratio": 2.5, "attainment_max_min_ratio": 1.5, "win_rate": 0.3}
    out = ch.metric_changes(before, now, unbounded_metrics=({}, ch.unbounded(now, now_flags))).set_index("metric")
    assert out.loc["potential_max_min_ratio", "direction"] == ch.WORSE
    assert pd.isna(out.loc["potential_max_min_ratio", "current"]) and pd.isna(
        out.loc["potential_max_min_ratio", "change"]
    )
    # blank for want of data (its flag not assessed) is still not compared
    assert out.loc["attainment_max_min_ratio", "direction"] == ch.NOT_COMPARED
    # and back within bounds is better; unbounded both times is unchanged
    back = ch.metric_changes(now, before, unbounded_metrics=(ch.unbounded(now, now_flags), {})).set_index("metric")
    assert back.loc["potential_max_min_ratio", "direction"] == ch.BETTER
    both = ch.unbounded(now, now_flags)
    same = ch.metric_changes(now, now, unbounded_metrics=(both, both)).set_index("metric")
    assert same.loc["potential_max_min_ratio", "direction"] == ch.SAME


def test_flag_changes_raised_cleared_and_not_comparable():
    out = ch.flag_changes(
        {"RF1": "triggered", "RF2": "clear", "RF3": "triggered", "W1": "not_assessed", "W2": "clear"},
        {"RF1": "clear", "RF2": "triggered", "RF3": "triggered", "W1": "clear", "W2": "clear", "W9": "triggered"},
    ).set_index("id")["change"]
    assert out.to_dict() == {
        "RF1": "newly cleared",
        "RF2": "newly raised",
        "RF3": "still raised",
        "W1": "not comparable",
        "W2": "still clear",
        "W9": "newly raised",
    }


def _accounts(owners: dict[str, str | None]) -> pd.DataFrame:
    ids = list(owners)
    return frame(
        "accounts", account_id=ids, account_name=[f"Name {i}" for i in ids], owner_rep_id=list(owners.values())
    )


@pytest.fixture
def two_runs():
    """A1 moved per the plan (R1 → R2), A2 planned to R2 but moved to R3, A3 planned
    and not moved, A4 untouched, A5 orphaned by R4 leaving and given to R2, A6 new, A7 gone."""
    before = _accounts({"A1": "R1", "A2": "R1", "A3": "R1", "A4": "R3", "A5": "R4", "A7": "R3"})
    after = _accounts({"A1": "R2", "A2": "R3", "A3": "R1", "A4": "R3", "A5": "R2", "A6": "R3"})
    history = frame(
        "assignment_history",
        account_id=["A1", "A1", "A2", "A5", "A6", "A4"],
        rep_id=["R1", "R2", "R3", "R2", "R3", "R3"],
        effective_date=[days(-400), days(-30), days(-20), days(-10), days(-5), days(-200)],
        change_type=["new_account", "rebalance", "other", "attrition", "new_account", "rebalance"],
    )
    plan = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A7"], "to_rep_id": ["R2", "R2", "R2", "R1"]})
    return before, after, history, plan


def test_owner_changes_with_reasons_from_the_history(two_runs):
    before, after, history, _ = two_runs
    out = ch.owner_changes(before, after, history, BEFORE, NOW).set_index("account_id")
    assert list(out.index) == ["A1", "A2", "A5", "A6", "A7"]  # A3, A4 kept their owner
    assert out.loc["A1", "reason"] == "rebalance"  # the move inside the window, not the creation
    assert out.loc["A2", "reason"] == "other"
    assert out.loc["A5", "reason"] == "attrition"
    assert out.loc["A6", "change"] == ch.NEW_ACCOUNT and out.loc["A6", "reason"] == "new account"
    assert out.loc["A7", "change"] == ch.REMOVED and out.loc["A7", "reason"] == ch.NOT_RECORDED
    assert out.loc["A7", "account_name"] == "Name A7" and pd.isna(out.loc["A7", "current_owner"])
    assert (out.loc["A5", "previous_owner"], out.loc["A5", "current_owner"]) == ("R4", "R2")
    counts = ch.owner_changes_by_reason(ch.owner_changes(before, after, history, BEFORE, NOW))
    assert counts["accounts"].sum() == 5
    assert counts.set_index(["change", "reason"])["accounts"][(ch.OWNER_CHANGED, "rebalance")] == 1


def test_owner_changes_without_history_are_not_recorded_and_blank_owners_count(two_runs):
    before, _, _, _ = two_runs
    after = _accounts({"A1": None, "A2": "R1", "A3": "R1", "A4": "R3", "A5": "R4", "A7": "R3"})
    out = ch.owner_changes(before, after, None, BEFORE, NOW)
    assert list(out["account_id"]) == ["A1"]
    assert out.iloc[0]["reason"] == ch.NOT_RECORDED


def test_plan_progress_counts_moves_made_elsewhere_not_made_and_gone(two_runs):
    before, after, _, plan = two_runs
    progress = ch.plan_progress(plan, before, after).set_index("account_id")["status"]
    assert progress.to_dict() == {"A1": ch.MADE, "A2": ch.ELSEWHERE, "A3": ch.NOT_MADE, "A7": ch.GONE}
    summary = ch.plan_summary(ch.plan_progress(plan, before, after))
    assert summary == {
        "planned_moves": 4,
        "moves_made": 1,
        "moves_elsewhere": 1,
        "moves_not_made": 1,
        "moves_account_gone": 1,
        "plan_carried_out_pct": 0.25,
    }
    assert ch.plan_summary(ch.plan_progress(plan.iloc[:0], before, after))["plan_carried_out_pct"] is None


def _reps() -> tuple[pd.DataFrame, pd.DataFrame]:
    before = frame(
        "reps",
        rep_id=["R1", "R2", "R4"],
        rep_name=["One", "Two", "Four"],
        hire_date=[days(-900), days(-900), days(-900)],
        end_date=[None, None, None],
        quota=[100.0, 100.0, 100.0],
    )
    after = frame(
        "reps",
        rep_id=["R1", "R2", "R4", "R5", "R6"],
        rep_name=["One", "Two", "Four", "Five", "Six"],
        hire_date=[days(-900), days(-900), days(-900), days(-60), days(-30)],
        end_date=[None, None, days(-40), None, None],
        quota=[100.0, 100.0, 100.0, 365.0, 0.0],
    )
    return before, after


def test_reps_who_joined_and_left():
    before, after = _reps()
    out = ch.rep_changes(before, after, BEFORE, NOW)
    assert out[["rep_id", "change"]].values.tolist() == [["R5", "joined"], ["R6", "joined"], ["R4", "left"]]
    assert out.set_index("rep_id").loc["R4", "end_date"] == pd.Timestamp(days(-40))
    gone = ch.rep_changes(before, after.iloc[:2], BEFORE, NOW)  # a rep absent from the new export left too
    assert gone.set_index("rep_id").loc["R4", "change"] == ch.LEFT


def test_attainment_of_the_reps_hired_since():
    _, reps = _reps()
    opps = frame(
        "opportunities",
        opportunity_id=["O1", "O2", "O3", "O4"],
        account_id=["A1"] * 4,
        owner_rep_id=["R5", "R5", "R5", "R1"],
        amount=[30.0, 50.0, 99.0, 10.0],
        created_date=[days(-200)] * 4,
        close_date=[days(-10), days(-70), days(-5), days(-5)],  # O2 closed before R5's hire
        is_closed=[True, True, True, True],
        is_won=[True, True, False, True],
    )
    out = ch.new_hire_attainment({"reps": reps, "opportunities": opps}, BEFORE, NOW)
    assert list(out["rep_id"]) == ["R5"]  # R6 carries no quota; R1 was hired long before
    row = out.iloc[0]
    assert row["bookings"] == 30.0
    assert row["quota_to_date"] == pytest.approx(365.0 * 61 / 365)
    assert row["attainment_to_date"] == pytest.approx(30.0 / 61)


def test_like_for_like_warnings():
    files = [{"status": "read", "table": "accounts", "columns": {"Account ID": "account_id"}}]
    other = [{"status": "read", "table": "accounts", "columns": {"Id": "account_id"}}]
    same = ch.like_for_like(
        {"schema_version": 2, "data_quality": {"files": files}},
        {"schema_version": 2, "data_quality": {"files": files}},
        {"as_of": "2026-03-31", "active_window_days": 90},
        {"as_of": "2026-06-30", "active_window_days": 90},
    )
    assert same == []
    notes = ch.like_for_like(
        {"schema_version": 1, "data_quality": {"files": other}},
        {"schema_version": 2, "data_quality": {"files": files}},
        {"as_of": "2026-03-31", "active_window_days": 60},
        {"as_of": "2026-06-30", "active_window_days": 90},
    )
    assert len(notes) == 3
    assert "schema version 1" in notes[0] and "active_window_days" in notes[1] and "accounts" in notes[2]
