"""Capacity need, headcount and seniority mix (SPEC §3, §4)."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.metrics import capacity
from diligence.params import resolve_params
from tests.helpers import T, frame


def accounts(segments: list, owners: list | None = None) -> pd.DataFrame:
    n = len(segments)
    return frame(
        "accounts",
        account_id=[f"a{i:03d}" for i in range(n)],
        account_name=[f"A{i}" for i in range(n)],
        segment=segments,
        owner_rep_id=owners if owners is not None else [None] * n,
    )


@pytest.fixture
def reps():
    return frame(
        "reps",
        rep_id=["e1", "s1", "s2", "x1", "gone", "sdr"],
        rep_name=["E1", "S1", "S2", "X1", "Gone", "Sdr"],
        segment=["Enterprise", "SMB", "smb ", "Other", "Enterprise", "Enterprise"],
        level=["Junior", "senior", "mid", "mid", "junior", "junior"],
        end_date=[None, None, None, None, "2026-06-01", None],
        quota=[1.0, 1.0, 1.0, 1.0, 1.0, None],  # the SDR carries no quota
    )


def test_capacity_need_and_shortfall(reps, params):
    tables = {"accounts": accounts(["Enterprise"] * 30 + ["SMB"] * 10 + ["Gov"] * 151), "reps": reps}
    table = capacity.capacity_table(tables, params).set_index("segment")
    assert table.index.tolist() == ["Enterprise", "Gov", "Other", "SMB"]
    assert table.loc["Enterprise", "capacity_need"] == 2  # ceil(30 / 25)
    assert table.loc["Enterprise", "headcount"] == 1  # departed and no-quota reps do not count
    assert table.loc["SMB", "capacity_need"] == 1 and table.loc["SMB", "headcount"] == 2  # "smb " matches
    assert table.loc["Gov", "rate_from"] == "other" and table.loc["Gov", "capacity_need"] == 2  # ceil(151 / 150)
    assert table.loc["Other", "accounts"] == 0 and pd.isna(table.loc["Other", "shortfall_pct"])
    assert table.loc["Gov", "shortfall_pct"] == 1.0
    m = capacity.metrics(tables, params)
    assert m["headcount_shortfall_pct"] == 1.0
    assert m["capacity_need_total"] == 5


def test_no_segment_short_gives_zero(reps, params):
    tables = {"accounts": accounts(["Enterprise"] * 25 + ["smb"] * 3 + [None]), "reps": reps}
    m = capacity.metrics(tables, params)
    assert m["headcount_shortfall_pct"] == 0.0
    assert m["accounts_without_segment"] == 1


def test_accounts_per_rep_parameter(reps):
    tables = {"accounts": accounts(["Enterprise"] * 30), "reps": reps}
    params = resolve_params({"as_of": T, "accounts_per_rep": {"Enterprise": 10}})
    assert capacity.metrics(tables, params)["headcount_shortfall_pct"] == pytest.approx(2 / 3)


def test_shortfall_none_without_segment_columns(reps, params):
    acc = accounts(["Enterprise"] * 3).drop(columns="segment")
    m = capacity.metrics({"accounts": acc, "reps": reps}, params)
    assert m["headcount_shortfall_pct"] is None and m["junior_on_enterprise_pct"] is None
    assert capacity.capacity_table({"accounts": acc, "reps": reps}, params).empty
    m = capacity.metrics({"accounts": accounts(["SMB"]), "reps": reps.drop(columns="segment")}, params)
    assert m["headcount_shortfall_pct"] is None


def test_junior_on_enterprise(reps, params):
    acc = accounts(
        ["Enterprise", "enterprise", "Enterprise", "Enterprise", "SMB"],
        ["e1", "e1", "gone", "s1", "e1"],  # gone is a departed junior: its account is orphaned, not junior-owned
    )
    m = capacity.metrics({"accounts": acc, "reps": reps}, params)
    assert m["junior_on_enterprise_pct"] == 0.5
    assert m["enterprise_accounts"] == 4


def test_junior_levels_parameter(reps):
    acc = accounts(["Enterprise"] * 2, ["e1", "s1"])
    params = resolve_params({"as_of": T, "junior_levels": ["junior", "SENIOR"]})
    assert capacity.metrics({"accounts": acc, "reps": reps}, params)["junior_on_enterprise_pct"] == 1.0


def test_junior_on_enterprise_none(reps, params):
    acc = accounts(["SMB"], ["e1"])
    assert capacity.metrics({"accounts": acc, "reps": reps}, params)["junior_on_enterprise_pct"] is None
    acc = accounts(["Enterprise"], ["e1"])
    no_level = reps.drop(columns="level")
    assert capacity.metrics({"accounts": acc, "reps": no_level}, params)["junior_on_enterprise_pct"] is None


def test_seniority_mix(reps, params):
    acc = accounts(["Enterprise", "Enterprise", "Enterprise", "SMB"], ["e1", "e1", "s1", "s2"])
    mix = capacity.seniority_mix({"accounts": acc, "reps": reps}, params)
    assert mix[["segment", "level"]].apply(tuple, axis=1).tolist() == [
        ("Enterprise", "Junior"),
        ("Enterprise", "senior"),
        ("SMB", "mid"),
    ]
    assert mix["accounts"].tolist() == [2, 1, 1]
    assert mix["share_of_segment"].tolist() == pytest.approx([2 / 3, 1 / 3, 1.0])
    assert mix["enterprise"].tolist() == [True, True, False]
    assert mix["junior"].tolist() == [True, False, False]


def test_shortfall_none_without_quota_column(reps, params):
    m = capacity.metrics({"accounts": accounts(["SMB"]), "reps": reps.drop(columns="quota")}, params)
    assert m["headcount_shortfall_pct"] is None
