"""Frames built once per tables (metrics.memo): the same answer as building them again."""

from __future__ import annotations

import pandas as pd

from diligence.metrics import coverage
from diligence.metrics.memo import once_per_tables
from diligence.params import resolve_params
from tests.helpers import T, days, frame


def _counting():
    calls = []

    @once_per_tables(("accounts",), ("as_of",))
    def build(tables, params):
        calls.append(1)
        return tables["accounts"].assign(twice=tables["accounts"]["potential"] * 2)

    return build, calls


def _tables():
    return {"accounts": pd.DataFrame({"account_id": ["a1", "a2"], "potential": [1.0, 2.0]})}


def test_built_once_for_the_same_tables_and_parameters():
    build, calls = _counting()
    tables, params = _tables(), {"as_of": "2026-09-30"}
    first, again = build(tables, params), build(dict(tables), dict(params))
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, again)


def test_other_tables_or_parameters_build_again():
    build, calls = _counting()
    tables = _tables()
    build(tables, {"as_of": "2026-09-30"})
    build(tables, {"as_of": "2026-06-30"})  # another parameter value
    assert len(calls) == 2
    other = _tables()  # equal, but another frame
    build(other, {"as_of": "2026-06-30"})
    assert len(calls) == 3


def test_a_table_written_in_place_is_a_new_input():
    build, calls = _counting()
    tables, params = _tables(), {"as_of": "2026-09-30"}
    assert build(tables, params)["twice"].tolist() == [2.0, 4.0]
    tables["accounts"].loc[0, "potential"] = 10.0
    assert build(tables, params)["twice"].tolist() == [20.0, 4.0]
    tables["accounts"]["potential"] = [3.0, 3.0]
    assert build(tables, params)["twice"].tolist() == [6.0, 6.0]
    assert len(calls) == 3


def test_a_caller_writing_to_its_result_leaves_the_kept_one_alone():
    build, calls = _counting()
    tables, params = _tables(), {"as_of": "2026-09-30"}
    mine = build(tables, params)
    mine.loc[0, "twice"] = -1.0
    mine["extra"] = 1
    again = build(tables, params)
    assert again["twice"].tolist() == [2.0, 4.0]
    assert "extra" not in again
    assert len(calls) == 1


def _coverage_tables(owner_of_a2: str):
    reps = frame("reps", rep_id=["r1", "r2"], rep_name=["Ann", "Bob"], end_date=[None, days(-5)])
    accounts = frame(
        "accounts",
        account_id=["a1", "a2", "a3"],
        account_name=["A1", "A2", "A3"],
        owner_rep_id=["r1", owner_of_a2, None],
        segment=["SMB", "SMB", "Ent"],
        potential=[10.0, 20.0, 30.0],
    )
    activities = frame("activities", account_id=["a1", "a3"], activity_date=[T, days(-100)])
    return {"accounts": accounts, "reps": reps, "activities": activities}


def test_coverage_answers_follow_their_tables_not_the_last_ones():
    params = resolve_params({"as_of": T})
    one, two = _coverage_tables("r1"), _coverage_tables("r2")  # r2 has left: a2 is orphaned
    m1 = coverage.metrics(one, params)
    m2 = coverage.metrics(two, params)
    assert (m1["orphaned_accounts"], m2["orphaned_accounts"]) == (0, 1)
    assert coverage.metrics(one, params) == m1
    assert coverage.orphaned_books(two, params)["owner_rep_id"].tolist() == ["r2"]
    assert coverage.orphaned_books(one, params).empty
    # a wider window: the same tables, another answer
    wide = resolve_params({"as_of": T, "active_window_days": 365})
    assert coverage.metrics(one, wide)["accounts_worked"] == 2
    assert coverage.metrics(one, params)["accounts_worked"] == 1


def test_without_names_every_table_and_every_parameter_is_part_of_the_key():
    calls = []

    @once_per_tables()
    def build(tables, params):
        calls.append(1)
        return tables["accounts"].assign(scaled=tables["accounts"]["potential"] * params["factor"])

    tables, params = _tables(), {"factor": 2.0, "other": 1}
    build(tables, params)
    build(tables, {**params})
    assert len(calls) == 1
    assert build(tables, {**params, "other": 2})["scaled"].tolist() == [2.0, 4.0]  # any parameter counts
    assert len(calls) == 2
    more = {**tables, "reps": pd.DataFrame({"rep_id": ["r1"]})}
    build(more, {**params, "other": 2})  # another table beside the ones it reads
    assert len(calls) == 3


def test_clear_all_forgets_every_kept_frame():
    from diligence.metrics import memo

    build, calls = _counting()
    tables, params = _tables(), {"as_of": "2026-09-30"}
    build(tables, params)
    memo.clear_all()
    build(tables, params)
    assert len(calls) == 2


def test_latest_activity_is_grouped_once_for_accounts_that_only_change_owner(monkeypatch):
    # The scenario step measures plans whose accounts change owner: the
    # activities are grouped once, and each plan's accounts read the same dates.
    accounts = frame("accounts", account_id=["a1", "a2"], owner_rep_id=["r1", "r1"])
    activities = frame(
        "activities",
        activity_id=["x1", "x2", "x3"],
        account_id=["a1", "a1", "a2"],
        rep_id=["r1", "r1", "r1"],
        activity_date=pd.to_datetime([days(-10), days(-3), days(5)]),  # x3 after T
    )
    grouped = []
    real = pd.Series.groupby
    monkeypatch.setattr(pd.Series, "groupby", lambda self, *a, **k: grouped.append(1) or real(self, *a, **k))
    coverage._latest_activity.cache_clear()
    today = coverage.last_activity_dates(accounts, activities, pd.Timestamp(T))
    moved = coverage.last_activity_dates(accounts.assign(owner_rep_id="r2"), activities, pd.Timestamp(T))
    assert len(grouped) == 1
    assert today.tolist() == moved.tolist() == [pd.Timestamp(days(-3)), pd.NaT]
    # another as-of date (the backtest's) groups again
    earlier = coverage.last_activity_dates(accounts, activities, pd.Timestamp(days(-5)))
    assert earlier.tolist() == [pd.Timestamp(days(-10)), pd.NaT]
    assert len(grouped) == 2
