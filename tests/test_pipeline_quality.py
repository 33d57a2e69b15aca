"""Pipeline-quality definitions (SPEC §3, schema 2): near pipeline, aged, pushed,
stale, quality-adjusted coverage."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diligence.metrics import flags, pipeline_quality
from tests.helpers import T, days, frame


def history(rows: list[tuple]) -> pd.DataFrame:
    """(opportunity_id, changed offset, close offset or None) in file order."""
    return frame(
        "opportunity_history",
        opportunity_id=[r[0] for r in rows],
        changed_date=[days(r[1]) for r in rows],
        close_date=[days(r[2]) if r[2] is not None else None for r in rows],
    )


def test_pushes_count_later_close_dates_in_date_then_file_order():
    as_of = pd.Timestamp(T)
    h = history(
        [
            ("o1", -50, 10),
            ("o1", -40, 20),  # later: 1
            ("o1", -40, 5),  # same day, after it in the file: earlier, not a push
            ("o1", -30, None),  # no close date: skipped, the chain goes on from 5
            ("o1", -20, 15),  # later than 5: 2
            ("o1", 3, 90),  # after T: ignored
            ("o2", -10, 30),
            ("o2", -20, 20),  # file order is not date order: -20 comes first, then -10 (later): 1
        ]
    )
    pushes = pipeline_quality.close_date_pushes(h, as_of)
    assert pushes.to_dict() == {"o1": 2, "o2": 1}
    # the same-day rows the other way round: 10 -> 5 -> 20 (a push) -> 15, one push
    swapped = h.iloc[[0, 2, 1, 3, 4, 5, 6, 7]].reset_index(drop=True)
    assert pipeline_quality.close_date_pushes(swapped, as_of)["o1"] == 1


def near_tables(created: list[int], close: list[int], amounts: list[float], owners: list[str], **extra) -> dict:
    n = len(created)
    opps = frame(
        "opportunities",
        opportunity_id=[f"o{i}" for i in range(n)],
        account_id=["a0"] * n,
        owner_rep_id=owners,
        amount=amounts,
        created_date=[days(c) for c in created],
        close_date=[days(c) for c in close],
        is_closed=[False] * n,
        is_won=[False] * n,
    )
    # two won deals of the last year set the median sales cycle to 30 days: aged = open more than 60
    won = frame(
        "opportunities",
        opportunity_id=["w1", "w2"],
        account_id=["a0", "a0"],
        owner_rep_id=["r1", "r1"],
        amount=[1.0, 1.0],
        created_date=[days(-100), days(-60)],
        close_date=[days(-80), days(-20)],
        is_closed=[True, True],
        is_won=[True, True],
    )
    tables = {
        "accounts": frame("accounts", account_id=["a0"], account_name=["A"], segment=["SMB"]),
        "reps": frame(
            "reps",
            rep_id=["r1", "r2"],
            rep_name=["R1", "R2"],
            segment=["SMB", "SMB"],
            role=["AE", "AE"],
            quota=[365.0, 730.0],  # quarter quotas 90 and 180
        ),
        "opportunities": pd.concat([opps, won], ignore_index=True),
    }
    tables.update(extra)
    return tables


def test_near_pipeline_window_and_aged_edge(params):
    # close at T (not after it), T+90 (the last day in), T+91 (out); ages 60 (not aged) and 61 (aged)
    tables = near_tables([-10, -60, -61, -5], [0, 90, 30, 91], [1.0, 10.0, 30.0, 100.0], ["r1", "r1", "r2", "r1"])
    near = pipeline_quality.near_pipeline(tables, params).set_index("opportunity_id")
    assert sorted(near.index) == ["o1", "o2"]
    assert not near.loc["o1", "aged"] and near.loc["o2", "aged"]
    m = pipeline_quality.metrics(tables, params)
    assert m["sales_cycle_days_median"] == 30.0
    assert m["stale_pipeline_pct"] == pytest.approx(30 / 40)
    assert m["pushed_pipeline_pct"] is None  # no history
    # r1: 10 fresh / 90 = 0.111; r2: 30 stale -> 0 / 180 = 0; median 0.0556
    assert m["quality_pipeline_coverage_median"] == pytest.approx((10 / 90 + 0.0) / 2)


def test_stale_is_aged_or_pushed_and_a_deal_without_history_was_never_pushed(params):
    h = history([("o0", -20, 20), ("o0", -15, 40), ("o0", -10, 60), ("o1", -30, 50), ("o1", -20, 60)])
    tables = near_tables([-10, -30, -100], [60, 60, 80], [10.0, 20.0, 40.0], ["r1", "r1", "r2"], opportunity_history=h)
    near = pipeline_quality.near_pipeline(tables, params).set_index("opportunity_id")
    assert near.loc["o0", "pushes"] == 2 and near.loc["o0", "status"] == "pushed"
    assert near.loc["o1", "pushes"] == 1 and near.loc["o1", "status"] == "fresh"
    assert near.loc["o2", "pushes"] == 0 and near.loc["o2", "status"] == "aged"  # no history: not pushed
    m = pipeline_quality.metrics(tables, params)
    assert m["pushed_pipeline_pct"] == pytest.approx(10 / 70)
    assert m["stale_pipeline_pct"] == pytest.approx(50 / 70)
    w9 = next(f for f in flags.evaluate(m, params, tables) if f["id"] == "W9")
    assert w9["status"] == "triggered"


def test_a_near_pipeline_of_zero_is_not_assessed(params):
    tables = near_tables([-10], [30], [0.0], ["r1"])
    m = pipeline_quality.metrics(tables, params)
    assert m["stale_pipeline_pct"] is None and m["near_pipeline_deals"] == 1
    w9 = next(f for f in flags.evaluate(m, params, tables) if f["id"] == "W9")
    assert w9["status"] == "not_assessed"


def test_neither_test_has_its_data(params):
    # no won deal (no sales cycle) and no history: staleness unknown, quality coverage unknown
    tables = near_tables([-10], [30], [10.0], ["r1"])
    tables["opportunities"] = tables["opportunities"].iloc[:1]
    m = pipeline_quality.metrics(tables, params)
    assert m["sales_cycle_days_median"] is None
    assert m["stale_pipeline_pct"] is None and m["quality_pipeline_coverage_median"] is None


def test_history_rows_after_t_do_not_push(params):
    h = history([("o0", -20, 20), ("o0", 1, 40), ("o0", 2, 60)])
    tables = near_tables([-10], [60], [10.0], ["r1"], opportunity_history=h)
    assert pipeline_quality.metrics(tables, params)["pushed_pipeline_pct"] == 0.0


def test_win_rate_by_stage_reached(params):
    tables = near_tables([-10], [30], [10.0], ["r1"])
    tables["opportunity_history"] = frame(
        "opportunity_history",
        opportunity_id=["w1", "w1", "w2", "w2", "o0"],
        changed_date=[days(-100), days(-90), days(-60), days(-20), days(-5)],
        stage=["Qualification", "Negotiation", "Qualification", "Closed Won", "Negotiation"],
    )
    by_stage = pipeline_quality.win_rate_by_stage_reached(tables, params).set_index("stage")
    # closed won stage left out; the open deal o0 does not count
    assert by_stage.to_dict("index") == {
        "Negotiation": {"closed": 1, "won": 1, "win_rate": 1.0},
        "Qualification": {"closed": 2, "won": 2, "win_rate": 1.0},
    }


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(-60, 5), st.one_of(st.none(), st.integers(0, 200))), min_size=1, max_size=25))
def test_pushes_match_a_plain_loop(rows):
    """The vectorised count equals a row-by-row reading of one deal's history."""
    h = history([("o", d, c) for d, c in rows])
    as_of = pd.Timestamp(T)
    kept = sorted(((d, i, c) for i, (d, c) in enumerate(rows) if d <= 0 and c is not None), key=lambda x: (x[0], x[1]))
    expected = sum(1 for a, b in itertools.pairwise(kept) if b[2] > a[2])
    got = pipeline_quality.close_date_pushes(h, as_of)
    assert (int(got["o"]) if "o" in got.index else 0) == expected


def test_pipeline_by_status_sums_amounts_per_state(params):
    h = history([("o0", -20, 20), ("o0", -15, 40), ("o0", -10, 60)])
    tables = near_tables([-10, -100, -5], [60, 80, 30], [10.0, 40.0, 50.0], ["r1", "r2", "r1"], opportunity_history=h)
    table = pipeline_quality.pipeline_by_status(pipeline_quality.near_pipeline(tables, params))
    row = table.set_index("segment").loc["SMB"]
    assert row["fresh_pipeline"] == 50.0 and row["aged_pipeline"] == 40.0 and row["pushed_pipeline"] == 10.0
    assert row["aged_and_pushed_pipeline"] == 0.0 and row["total_pipeline"] == 100.0
    assert row["stale_pct"] == pytest.approx(0.5)
    side = pipeline_quality.coverage_side_by_side(pipeline_quality.quality_coverage(tables, params))
    assert side["measure"].tolist() == ["raw", "quality-adjusted", "raw", "quality-adjusted"]
