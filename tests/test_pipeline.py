"""Pipeline coverage and win rate (SPEC §3) on tiny hand-built tables."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.metrics import pipeline
from diligence.params import resolve_params
from tests.helpers import T, days, frame

QUARTER = 365 / 90  # quota × 90/365 = 1 when quota is this


def opps(rows: list[tuple]) -> pd.DataFrame:
    """rows of (owner, account, amount, close offset in days, is_closed, is_won)."""
    return frame(
        "opportunities",
        opportunity_id=[f"o{i}" for i in range(len(rows))],
        account_id=[r[1] for r in rows],
        owner_rep_id=[r[0] for r in rows],
        amount=[r[2] for r in rows],
        created_date=["2025-01-01"] * len(rows),
        close_date=[days(r[3]) for r in rows],
        is_closed=[r[4] for r in rows],
        is_won=[r[5] for r in rows],
    )


@pytest.fixture
def base():
    reps = frame(
        "reps",
        rep_id=["r1", "r2", "r3", "gone", "free"],
        rep_name=["R1", "R2", "R3", "Gone", "Free"],
        segment=["SMB", "SMB", "Ent", "SMB", "SMB"],
        end_date=[None, None, None, days(-1), None],
        quota=[QUARTER, QUARTER, QUARTER, QUARTER, 0.0],
    )
    accounts = frame("accounts", account_id=["a1", "a2"], account_name=["A1", "A2"], segment=["SMB", "Ent"])
    return {"reps": reps, "accounts": accounts}


def test_close_date_window_edges(base, params):
    base["opportunities"] = opps(
        [
            ("r1", "a1", 1.0, 90, False, False),  # exactly T+90: counts
            ("r1", "a1", 10.0, 0, False, False),  # at T: not after T
            ("r1", "a1", 100.0, 91, False, False),  # beyond the horizon
            ("r1", "a1", 1000.0, 30, True, True),  # closed
        ]
    )
    cov = pipeline.pipeline_coverage(base, params).set_index("rep_id")
    assert cov.index.tolist() == ["r1", "r2", "r3"]  # active, quota-carrying only
    assert cov.loc["r1", "open_pipeline"] == 1.0 and cov.loc["r1", "open_opportunities"] == 1
    assert cov.loc["r1", "coverage"] == pytest.approx(1.0)
    assert cov.loc["r2", "coverage"] == 0.0 and cov.loc["r2", "band"] == "below"


def test_median_and_band(base, params):
    base["opportunities"] = opps(
        [
            ("r1", "a1", 2.0, 10, False, False),
            ("r2", "a1", 3.0, 10, False, False),  # exactly 3: inside the band
            ("r3", "a2", 6.0, 10, False, False),
            ("gone", "a1", 50.0, 10, False, False),
        ]
    )
    m = pipeline.metrics(base, params)
    assert m["pipeline_coverage_median"] == pytest.approx(3.0)
    assert m["pipeline_coverage_out_of_band_pct"] == pytest.approx(2 / 3)
    assert m["pipeline_coverage_below_band_pct"] == pytest.approx(1 / 3)
    assert m["pipeline_reps"] == 3
    bands = pipeline.pipeline_coverage(base, params)["band"].tolist()
    assert bands == ["below", "within", "above"]
    wide = resolve_params({"as_of": T, "thresholds": {"W5": [1.0, 10.0]}})
    assert pipeline.metrics(base, wide)["pipeline_coverage_out_of_band_pct"] == 0.0


def test_win_rate_window(base, params):
    base["opportunities"] = opps(
        [
            ("r1", "a1", 1.0, 0, True, True),  # closed at T: counts
            ("r1", "a1", 1.0, -364, True, False),  # counts
            ("r1", "a2", 1.0, -365, True, True),  # exactly 365 days before T: does not
            ("r1", "a2", 1.0, -10, True, False),  # counts
            ("r1", "a2", 1.0, 10, False, False),  # open: not closed
        ]
    )
    m = pipeline.metrics(base, params)
    assert m["win_rate"] == pytest.approx(1 / 3)
    assert m["closed_opportunities_365d"] == 3 and m["won_opportunities_365d"] == 1


def test_win_rates_by_segment(base, params):
    base["opportunities"] = opps(
        [
            ("r1", "a1", 1.0, -5, True, True),
            ("r1", "a1", 1.0, -5, True, False),
            ("r1", "a1", 1.0, -5, True, False),
            ("r1", "a1", 1.0, -5, True, False),
            ("r3", "a2", 1.0, -5, True, False),
        ]
    )
    out = pipeline.win_rates_by(base, params).set_index("segment")
    assert out.index.tolist() == ["Ent", "SMB", "(all)"]
    assert out.loc["SMB", "win_rate"] == 0.25 and out.loc["SMB", "implied_coverage"] == 4.0
    assert out.loc["Ent", "win_rate"] == 0.0 and pd.isna(out.loc["Ent", "implied_coverage"])
    assert out.loc["(all)", "closed"] == 5 and out.loc["(all)", "won"] == 1
    assert out.loc["SMB", "band_low"] == 3.0 and out.loc["SMB", "band_high"] == 5.0


def test_unknown_outcome_is_open_only_when_close_date_is_after_t(base, params):
    rows = opps(
        [
            ("r1", "a1", 1.0, 10, None, None),  # unknown, expected after T: open
            ("r1", "a1", 10.0, -10, None, None),  # unknown, dated before T: neither
            ("r1", "a1", 100.0, -10, None, True),  # won: closed won
        ]
    )
    assert pipeline.open_mask(rows, pd.Timestamp(T)).tolist() == [True, False, False]
    assert pipeline.closed_mask(rows).tolist() == [False, False, True]
    base["opportunities"] = rows
    m = pipeline.metrics(base, params)
    assert m["win_rate"] == 1.0 and m["closed_opportunities_365d"] == 1
    assert pipeline.pipeline_coverage(base, params).set_index("rep_id").loc["r1", "open_pipeline"] == 1.0


def test_missing_opportunities_gives_none(base, params):
    m = pipeline.metrics(base, params)
    assert all(m[k] is None for k in ("pipeline_coverage_median", "pipeline_coverage_out_of_band_pct", "win_rate"))
    assert pipeline.win_rates_by(base, params).empty


def test_missing_outcome_columns(base, params):
    base["opportunities"] = opps([("r1", "a1", 1.0, 10, False, False)]).drop(columns=["is_closed", "is_won"])
    m = pipeline.metrics(base, params)
    assert m["win_rate"] is None
    assert m["pipeline_coverage_median"] == pytest.approx(0.0)  # r1 1.0, r2 and r3 0
    assert pipeline.pipeline_coverage(base, params).set_index("rep_id").loc["r1", "coverage"] == pytest.approx(1.0)


def test_no_quota_carrying_reps(base, params):
    base["reps"] = base["reps"].assign(quota=0.0)
    base["opportunities"] = opps([("r1", "a1", 1.0, 10, False, False)])
    m = pipeline.metrics(base, params)
    assert m["pipeline_coverage_median"] is None and m["pipeline_coverage_out_of_band_pct"] is None
    assert m["pipeline_reps"] == 0


def test_reps_without_quota_column(base, params):
    base["reps"] = base["reps"].drop(columns="quota")
    base["opportunities"] = opps([("r1", "a1", 1.0, 10, False, False)])
    m = pipeline.metrics(base, params)
    assert m["pipeline_coverage_median"] is None and m["pipeline_reps"] == 0
    assert pipeline.pipeline_coverage(base, params).empty
