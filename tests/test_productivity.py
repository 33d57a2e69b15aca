"""Productivity definitions (SPEC §3, schema 2): at quota, top fifth, attrition,
months to first win, sales cycle, potential–bookings rank correlation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diligence.metrics import flags, productivity
from tests.helpers import days, frame


def opps(rows: list[tuple]) -> pd.DataFrame:
    """(owner, amount, created offset, close offset, won) -> closed opportunities."""
    n = len(rows)
    return frame(
        "opportunities",
        opportunity_id=[f"o{i}" for i in range(n)],
        account_id=[f"a{i % 3}" for i in range(n)],
        owner_rep_id=[r[0] for r in rows],
        amount=[float(r[1]) for r in rows],
        created_date=[days(r[2]) for r in rows],
        close_date=[days(r[3]) for r in rows],
        is_closed=[True] * n,
        is_won=[bool(r[4]) for r in rows],
    )


def reps(ids: list[str], quota: list[float | None], hire: list[int | None], end: list[int | None] | None = None):
    n = len(ids)
    return frame(
        "reps",
        rep_id=ids,
        rep_name=[i.upper() for i in ids],
        segment=["SMB"] * n,
        role=["AE"] * n,
        hire_date=[days(h) if h is not None else None for h in hire],
        end_date=[days(e) if e is not None else None for e in (end or [None] * n)],
        quota=quota,
    )


def accounts(n: int = 3, potential: list[float] | None = None) -> pd.DataFrame:
    cols = dict(account_id=[f"a{i}" for i in range(n)], account_name=[f"A{i}" for i in range(n)])
    if potential is not None:
        cols["potential"] = potential
    return frame("accounts", **cols)


def test_at_quota_counts_eligible_reps_only_and_exactly_one_is_at_quota(params):
    # r1 exactly at quota, r2 just below, r3 above; r4 hired 364 days ago (not eligible), r5 no quota
    tables = {
        "reps": reps(
            ["r1", "r2", "r3", "r4", "r5"], [100.0, 100.0, 100.0, 100.0, None], [-800, -365, None, -364, -800]
        ),
        "accounts": accounts(),
        "opportunities": opps(
            [("r1", 100, -50, -10, 1), ("r2", 99, -50, -10, 1), ("r3", 150, -50, -10, 1), ("r4", 500, -50, -10, 1)]
        ),
    }
    m = productivity.metrics(tables, params)
    assert m["eligible_reps"] == 3 and m["reps_at_quota"] == 2
    assert m["reps_at_quota_pct"] == pytest.approx(2 / 3)
    # n = 3: ceil(0.6) = 1 rep, the best: 150 of 349
    assert m["top_fifth_bookings_share"] == pytest.approx(150 / 349)


@pytest.mark.parametrize(("n", "top"), [(1, 1), (5, 1), (6, 2), (10, 2), (11, 3)])
def test_top_fifth_is_ceil_of_a_fifth(params, n, top):
    ids = [f"r{i:02d}" for i in range(n)]
    amounts = [float(10 * (i + 1)) for i in range(n)]
    tables = {
        "reps": reps(ids, [100.0] * n, [-800] * n),
        "accounts": accounts(),
        "opportunities": opps([(r, a, -50, -10, 1) for r, a in zip(ids, amounts)]),
    }
    expected = sum(sorted(amounts, reverse=True)[:top]) / sum(amounts)
    assert productivity.metrics(tables, params)["top_fifth_bookings_share"] == pytest.approx(expected)


def test_top_fifth_is_none_when_eligible_bookings_are_zero(params):
    tables = {
        "reps": reps(["r1", "r2"], [100.0, 100.0], [-800, -800]),
        "accounts": accounts(),
        "opportunities": opps([("r1", 100, -50, -10, 0)]),  # lost: no bookings
    }
    m = productivity.metrics(tables, params)
    assert m["top_fifth_bookings_share"] is None
    assert m["reps_at_quota_pct"] == 0.0
    status = {f["id"]: f["status"] for f in flags.evaluate(m, params, tables)}
    assert status["W10"] == "triggered"


def test_without_opportunities_w10_is_not_assessed_with_the_reason(params):
    tables = {"reps": reps(["r1"], [100.0], [-800]), "accounts": accounts()}
    m = productivity.metrics(tables, params)
    assert m["reps_at_quota_pct"] is None and m["top_fifth_bookings_share"] is None
    w10 = next(f for f in flags.evaluate(m, params, tables) if f["id"] == "W10")
    assert w10["status"] == "not_assessed" and "opportunities" in w10["detail"]


def test_realised_attrition_window_edges(params):
    # quota > 0 everywhere except q0. Ends: -365 (outside the window, not counted; gone at T-365),
    # -364 (leaver, there at T-365), 0 (leaver at T itself, there at T-365), +1 (no leaver: there at T).
    tables = {
        "reps": reps(
            ["a", "b", "c", "d", "e", "q0"],
            [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
            [-2000, -2000, -2000, -2000, -100, -2000],
            [-365, -364, 0, 1, None, -10],
        ),
        "accounts": accounts(),
    }
    a = productivity.realised_attrition(tables, params)
    # at T-365: b, c, d (a ended exactly then; e not hired yet); at T: d, e
    assert a == {"leavers": 2, "headcount_start": 3, "headcount_end": 2, "rate": pytest.approx(2 / 2.5)}
    assert productivity.metrics(tables, params)["annual_attrition_observed"] == pytest.approx(0.8)


def test_attrition_is_none_without_an_end_date_column(params):
    r = reps(["a"], [1.0], [-900]).drop(columns="end_date")
    assert productivity.metrics({"reps": r, "accounts": accounts()}, params)["annual_attrition_observed"] is None


def test_months_to_first_win_cohort_edges(params):
    # hired at -730 (outside), -729, -180 (inside, the newest allowed), -179 (outside);
    # x: first win before its hire date (ignored) and one after T (ignored): no win, left out and counted
    tables = {
        "reps": reps(["old", "in1", "in2", "new", "x"], [1.0] * 5, [-730, -729, -180, -179, -400]),
        "accounts": accounts(),
        "opportunities": opps(
            [
                ("old", 10, -729, -700, 1),
                ("in1", 10, -700, -729 + 61, 1),  # 61 days after hire
                ("in1", 10, -700, -600, 1),  # later win: not the first
                ("in2", 10, -180, -180, 1),  # won on its hire day: 0 months
                ("new", 10, -170, -100, 1),
                ("x", 10, -500, -401, 1),  # before hire
                ("x", 10, -300, 5, 1),  # after T (a data error: closed in the future)
            ]
        ),
    }
    cohort = productivity.ramp_cohort(tables, params).set_index("rep_id")
    assert sorted(cohort.index) == ["in1", "in2", "x"]
    assert cohort.loc["in1", "months_to_first_win"] == pytest.approx(61 / 30.44)
    assert cohort.loc["in2", "months_to_first_win"] == 0.0
    assert math.isnan(cohort.loc["x", "months_to_first_win"])
    m = productivity.metrics(tables, params)
    assert m["months_to_first_win_median"] == pytest.approx(61 / 30.44 / 2)
    assert m["ramp_cohort_reps"] == 3 and m["ramp_cohort_without_win"] == 1


def test_sales_cycle_window_edges(params):
    from diligence.metrics import pipeline_quality

    tables = {
        "reps": reps(["r"], [1.0], [-2000]),
        "accounts": accounts(),
        "opportunities": opps(
            [
                ("r", 10, -400, -365, 1),  # closed exactly 365 days before T: outside
                ("r", 10, -394, -364, 1),  # 30 days
                ("r", 10, -50, 0, 1),  # closed at T: 50 days
                ("r", 10, -100, -10, 0),  # lost: not a won deal
            ]
        ),
    }
    cycles = productivity.sales_cycles(tables, params)
    assert sorted(cycles["cycle_days"]) == [30.0, 50.0]
    assert pipeline_quality.metrics(tables, params)["sales_cycle_days_median"] == 40.0


def test_rank_correlation_is_spearman_with_average_ranks(params):
    potential = [5.0, 5.0, 1.0, 3.0, 8.0]
    tables = {
        "reps": reps(["r"], [1.0], [-2000]),
        "accounts": accounts(5, potential),
        "opportunities": frame(
            "opportunities",
            opportunity_id=["o1", "o2", "o3", "o4"],
            account_id=["a0", "a1", "a4", "a3"],
            owner_rep_id=["r"] * 4,
            amount=[10.0, 20.0, 20.0, 5.0],
            created_date=[days(-50)] * 4,
            close_date=[days(-10)] * 4,
            is_closed=[True] * 4,
            is_won=[True] * 4,
        ),
    }
    bookings = pd.Series([10.0, 20.0, 0.0, 5.0, 20.0])
    expected = pd.Series(potential).corr(bookings, method="spearman")
    assert productivity.metrics(tables, params)["potential_bookings_rank_corr"] == pytest.approx(expected)


def test_rank_correlation_is_none_when_a_side_is_constant(params):
    tables = {
        "reps": reps(["r"], [1.0], [-2000]),
        "accounts": accounts(3, [1.0, 2.0, 3.0]),
        "opportunities": opps([("r", 10, -50, -10, 0)]),  # nothing won: bookings all 0
    }
    assert productivity.metrics(tables, params)["potential_bookings_rank_corr"] is None
    tables["accounts"] = accounts(3)  # no potential, no revenue: every account weighs 1
    tables["opportunities"] = opps([("r", 10, -50, -10, 1)])
    assert productivity.metrics(tables, params)["potential_bookings_rank_corr"] is None


def test_implied_ramp_reproduces_the_linear_ramp():
    # a linear ramp of R months over m months of tenure books p * (m - R/2) once ramped, p * m^2 / (2R) before
    p, m = 10.0, 12.0
    for ramp in (0.0, 3.0, 6.0, 12.0, 18.0, 24.0):
        booked = p * (m - ramp / 2) if ramp <= m else p * m * m / (2 * ramp)
        got = productivity.implied_ramp(pd.Series([booked]), pd.Series([m]), p).iloc[0]
        assert got == pytest.approx(ramp)
    assert math.isnan(productivity.implied_ramp(pd.Series([0.0]), pd.Series([m]), p).iloc[0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=30))
def test_top_fifth_share_is_between_its_bounds(amounts):
    """The best ceil(n/5) reps book at least their head-count share and at most everything."""
    from diligence.params import resolve_params

    n = len(amounts)
    ids = [f"r{i:02d}" for i in range(n)]
    tables = {
        "reps": reps(ids, [100.0] * n, [-800] * n),
        "accounts": accounts(),
        "opportunities": opps([(r, a, -50, -10, 1) for r, a in zip(ids, amounts)]),
    }
    share = productivity.metrics(tables, resolve_params({"as_of": "2026-06-30"}))["top_fifth_bookings_share"]
    if sum(amounts) == 0:
        assert share is None
    else:
        k = math.ceil(0.2 * n)
        assert k / n - 1e-9 <= share <= 1 + 1e-9
        assert share == pytest.approx(float(np.sort(amounts)[::-1][:k].sum()) / sum(amounts))


def test_tenured_pace_is_the_segments_when_it_has_two_reps(params):
    r = frame(
        "reps",
        rep_id=["e1", "e2", "s1", "s2", "m1", "new"],
        rep_name=list("ABCDEF"),
        segment=["Ent", "Ent", "SMB", "SMB", "Mid", "SMB"],
        role=["AE"] * 6,
        hire_date=[days(-900)] * 5 + [days(-364)],  # "new" is not eligible yet
        quota=[100.0] * 6,
    )
    tables = {
        "reps": r,
        "accounts": accounts(),
        "opportunities": opps(
            [("e1", 1200, -50, -10, 1), ("e2", 1200, -50, -10, 1), ("s1", 120, -50, -10, 1), ("s2", 240, -50, -10, 1)]
            + [("m1", 600, -50, -10, 1)]
        ),
    }
    pace = productivity.tenured_pace(tables, params, pd.Series(["Ent", "SMB", "Mid", "(blank)"]))
    # Ent: 1200 / 12; SMB: median(120, 240) / 12; Mid has one rep and (blank) none: all five reps' median 600 / 12
    assert pace.tolist() == [100.0, 15.0, 50.0, 50.0]
