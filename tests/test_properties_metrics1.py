"""Properties of the coverage, balance, pipeline and capacity metrics on random
small companies: fractions stay in [0, 1], metrics are plain numbers or None,
and shuffling the rows of every input table changes no metric (bit for bit)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diligence.contract import TABLES, typed
from diligence.metrics import balance, capacity, coverage, pipeline
from diligence.params import resolve_params

T = pd.Timestamp("2026-06-30")
MODULES = (coverage, balance, pipeline, capacity)
FRACTIONS_ALSO = ("win_rate",)


def frame(table: str, columns: dict) -> pd.DataFrame:
    return typed(table, pd.DataFrame(columns))


def optional_columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table].columns if not c.required]


def drop_some(draw, table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Usually every column; sometimes the client did not send some optional ones."""
    if draw(st.integers(0, 3)):
        return df
    gone = draw(st.sets(st.sampled_from([c for c in optional_columns(table) if c in df])))
    return df.drop(columns=sorted(gone))


def day(offset: int | None) -> pd.Timestamp | None:
    return None if offset is None else T + pd.Timedelta(days=offset)


maybe = st.none
# sevenths round differently when added in another order: a real test of order-independence
amounts = st.one_of(
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.integers(0, 10**7).map(lambda i: i / 7),
)
flags = st.sampled_from([True, False, None])


@st.composite
def companies(draw) -> dict[str, pd.DataFrame]:
    n_reps = draw(st.integers(1, 8))
    rep_ids = [f"r{i}" for i in range(n_reps)]
    rep_rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["SMB", "Enterprise", "enterprise", None]),
                st.sampled_from(["AE", "AM"]),
                st.sampled_from(["junior", "Senior", None]),
                st.one_of(maybe(), st.integers(-800, 30)),
                st.one_of(maybe(), st.integers(-100, 100)),
                st.sampled_from([None, 0.0, 50.0, 100.0, 333.3]),
            ),
            min_size=n_reps,
            max_size=n_reps,
        )
    )
    reps = frame(
        "reps",
        {
            "rep_id": rep_ids,
            "rep_name": [f"Rep {i}" for i in range(n_reps)],
            "segment": [r[0] for r in rep_rows],
            "role": [r[1] for r in rep_rows],
            "level": [r[2] for r in rep_rows],
            "hire_date": [day(r[3]) for r in rep_rows],
            "end_date": [day(r[4]) for r in rep_rows],
            "quota": [r[5] for r in rep_rows],
        },
    )
    owners = st.sampled_from(rep_ids + ["zz", None])
    acc_rows = draw(
        st.lists(
            st.tuples(
                owners,
                st.sampled_from(["p1", None]),
                st.sampled_from(["SMB", "Enterprise", "Gov", None]),
                st.sampled_from(["N", "S"]),
                st.one_of(maybe(), amounts),
            ),
            min_size=0,
            max_size=25,
        )
    )
    n_acc = len(acc_rows)
    acc_ids = [f"a{i}" for i in range(n_acc)]
    account_cols = {
        "account_id": acc_ids,
        "account_name": [f"Account {i}" for i in range(n_acc)],
        "owner_rep_id": [r[0] for r in acc_rows],
        "partner_id": [r[1] for r in acc_rows],
        "segment": [r[2] for r in acc_rows],
        "region": [r[3] for r in acc_rows],
    }
    if draw(st.booleans()):
        account_cols["potential"] = [r[4] for r in acc_rows]
    tables = {
        "accounts": drop_some(draw, "accounts", frame("accounts", account_cols)),
        "reps": drop_some(draw, "reps", reps),
    }
    targets = st.sampled_from(acc_ids or ["a0"])
    if draw(st.booleans()):
        opp_rows = draw(
            st.lists(
                st.tuples(targets, owners, amounts, st.integers(-800, 0), st.integers(-400, 120), flags, flags),
                max_size=30,
            )
        )
        tables["opportunities"] = frame(
            "opportunities",
            {
                "opportunity_id": [f"o{i}" for i in range(len(opp_rows))],
                "account_id": [r[0] for r in opp_rows],
                "owner_rep_id": [r[1] for r in opp_rows],
                "amount": [r[2] for r in opp_rows],
                "created_date": [day(r[3]) for r in opp_rows],
                "close_date": [day(r[4]) for r in opp_rows],
                "is_closed": [r[5] for r in opp_rows],
                "is_won": [r[6] for r in opp_rows],
            },
        )
        tables["opportunities"] = drop_some(draw, "opportunities", tables["opportunities"])
    if draw(st.booleans()):
        act_rows = draw(st.lists(st.tuples(targets, st.integers(-120, 10)), max_size=30))
        tables["activities"] = frame(
            "activities",
            {
                "account_id": [r[0] for r in act_rows],
                "activity_date": [day(r[1]) for r in act_rows],
            },
        )
    return tables


def all_metrics(tables: dict, params: dict) -> dict:
    out: dict = {}
    for module in MODULES:
        out.update(module.metrics(tables, params))
    return out


def shuffled(tables: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for name, df in tables.items():
        moved = df.iloc[rng.permutation(len(df))]
        out[name] = moved.reset_index(drop=True) if seed % 2 else moved  # with and without the old labels
    return out


PARAMS = resolve_params({"as_of": T.date().isoformat(), "white_space_min_accounts": 2})
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(companies())
def test_fractions_in_unit_interval_and_plain_types(tables):
    metrics = all_metrics(tables, PARAMS)
    for name, value in metrics.items():
        assert value is None or type(value) in (int, float), (name, type(value))
        if isinstance(value, float):
            assert math.isfinite(value), name
        if value is not None and (name.endswith("_pct") or name in FRACTIONS_ALSO):
            assert 0.0 <= value <= 1.0, (name, value)


@SETTINGS
@given(companies(), st.integers(0, 2**32 - 1))
def test_shuffling_rows_changes_no_metric(tables, seed):
    assert all_metrics(shuffled(tables, seed), PARAMS) == all_metrics(tables, PARAMS)


DETAIL_TABLES = (
    coverage.account_coverage,
    coverage.coverage_by,
    coverage.white_space,
    coverage.top_unassigned,
    coverage.assigned_not_worked,
    coverage.orphaned_books,
    balance.comparable_groups,
    balance.pipeline_load,
    pipeline.pipeline_coverage,
    pipeline.win_rates_by,
    capacity.capacity_table,
    capacity.seniority_mix,
)


@settings(SETTINGS, max_examples=25)
@given(companies(), st.integers(0, 2**32 - 1))
def test_shuffling_rows_changes_no_detail_table(tables, seed):
    moved = shuffled(tables, seed)
    for build in DETAIL_TABLES:
        pd.testing.assert_frame_equal(build(moved, PARAMS), build(tables, PARAMS), obj=build.__name__)
