"""Coverage definitions (SPEC §3) pinned on tiny hand-built tables."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.metrics import coverage
from diligence.params import resolve_params
from tests.helpers import T, days, frame


@pytest.fixture
def reps():
    return frame(
        "reps",
        rep_id=["r1", "r2", "gone", "new"],
        rep_name=["Ann", "Bob", "Gil", "Nia"],
        hire_date=["2020-01-01", None, "2019-01-01", days(10)],
        end_date=[None, None, days(-30), None],  # Gil left last month; Nia starts in 10 days
    )


@pytest.fixture
def tables(reps):
    accounts = frame(
        "accounts",
        account_id=["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"],
        account_name=["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"],
        owner_rep_id=["r1", "r2", "gone", "zz", None, None, "new", "r1"],
        partner_id=[None, None, None, None, "p1", None, None, "p1"],
        segment=["SMB", "SMB", "SMB", "Ent", "Ent", "Ent", "SMB", "SMB"],
        region=["N"] * 8,
        potential=[10.0, 20.0, 30.0, 40.0, 50.0, None, 70.0, 80.0],
    )
    activities = frame(
        "activities",
        account_id=["a1", "a2", "a2", "a3", "a8", "a8"],
        activity_date=[T, days(-90), days(1), days(-89), days(-200), days(-91)],
    )
    return {"accounts": accounts, "reps": reps, "activities": activities}


def test_potential_column_blanks_count_as_zero():
    acc = frame(
        "accounts", account_id=["a", "b"], account_name=["A", "B"], potential=[5.0, None], annual_revenue=[100.0, 100.0]
    )
    assert coverage.potential_basis(acc) == "potential"
    assert coverage.account_potential(acc).tolist() == [5.0, 0.0]


def test_potential_proxy_annual_revenue_when_potential_all_blank():
    acc = frame(
        "accounts", account_id=["a", "b"], account_name=["A", "B"], potential=[None, None], annual_revenue=[100.0, None]
    )
    assert coverage.potential_basis(acc) == "annual_revenue (proxy)"
    assert coverage.account_potential(acc).tolist() == [100.0, 0.0]


def test_potential_proxy_account_count(reps, params):
    acc = frame(
        "accounts", account_id=["a", "b", "c", "d"], account_name=list("ABCD"), owner_rep_id=["r1", None, "gone", "r2"]
    )
    assert coverage.potential_basis(acc) == "account count (proxy)"
    pot = coverage.account_potential(acc.set_index(pd.Index([7, 8, 9, 10])))
    assert pot.tolist() == [1.0] * 4 and pot.index.tolist() == [7, 8, 9, 10] and pot.dtype == float
    m = coverage.metrics({"accounts": acc, "reps": reps}, params)
    # with no potential, potential shares degrade to account shares
    assert m["unassigned_potential_pct"] == m["unassigned_pct"] == 0.5


def test_assignment_classes_and_orphans(tables, params):
    m = coverage.metrics(tables, params)
    # rep-assigned: a1, a2, a8 (r1, r2 active); partner-only: a5; orphaned: a3 (left), a4 (unknown),
    # a7 (not started yet); unowned: a6
    assert m["accounts_total"] == 8
    assert m["rep_assigned_pct"] == 3 / 8
    assert m["partner_only_pct"] == 1 / 8
    assert m["unassigned_pct"] == 4 / 8
    assert m["orphaned_accounts"] == 3
    assert m["unassigned_potential_pct"] == pytest.approx((30 + 40 + 0 + 70) / 300)


def test_worked_window_edges(tables, params):
    cov = coverage.account_coverage(tables, params).set_index("account_id")
    assert cov.loc["a1", "worked"]  # activity at T counts
    assert not cov.loc["a2", "worked"]  # exactly 90 days before T does not; after T does not
    assert cov.loc["a3", "worked"]  # 89 days before T counts
    assert not cov.loc["a8", "worked"]
    assert cov.loc["a2", "last_activity_date"] == pd.Timestamp(days(-90))  # the one after T is ignored
    assert cov.loc["a8", "last_activity_date"] == pd.Timestamp(days(-91))
    m = coverage.metrics(tables, params)
    assert m["contacted_90d_pct"] == 2 / 8
    assert m["assigned_not_worked_pct"] == 2 / 3  # a2 and a8 of a1, a2, a8


def test_active_window_parameter(tables):
    params = resolve_params({"as_of": T, "active_window_days": 91})
    assert coverage.metrics(tables, params)["contacted_90d_pct"] == 3 / 8  # a2 now inside


def test_account_coverage_columns_and_order(tables, params):
    cov = coverage.account_coverage(tables, params)
    assert cov["account_id"].tolist() == sorted(cov["account_id"])
    assert cov.set_index("account_id").loc["a3", "assignment"] == coverage.ORPHANED
    assert cov.set_index("account_id").loc["a6", "assignment"] == coverage.UNOWNED
    assert {
        "account_name",
        "segment",
        "region",
        "owner_rep_id",
        "orphaned",
        "worked",
        "last_activity_date",
        "potential",
    } <= set(cov.columns)


def test_missing_activities_gives_none(tables, params):
    del tables["activities"]
    m = coverage.metrics(tables, params)
    assert m["contacted_90d_pct"] is None and m["assigned_not_worked_pct"] is None
    assert m["rep_assigned_pct"] == 3 / 8
    assert coverage.assigned_not_worked(tables, params).empty


def test_missing_owner_column_gives_none(tables, params):
    tables["accounts"] = tables["accounts"].drop(columns="owner_rep_id")
    m = coverage.metrics(tables, params)
    for name in (
        "rep_assigned_pct",
        "partner_only_pct",
        "unassigned_pct",
        "orphaned_accounts",
        "unassigned_potential_pct",
        "assigned_not_worked_pct",
        "white_space_cells",
        "white_space_potential_pct",
    ):
        assert m[name] is None, name
    assert m["accounts_total"] == 8 and m["contacted_90d_pct"] == 2 / 8


def _grid_accounts(owners_by_cell: dict[tuple[str, str], list]) -> pd.DataFrame:
    rows = [(seg, reg, owner) for (seg, reg), owners in owners_by_cell.items() for owner in owners]
    n = len(rows)
    return frame(
        "accounts",
        account_id=[f"a{i:02d}" for i in range(n)],
        account_name=[f"A{i}" for i in range(n)],
        segment=[r[0] for r in rows],
        region=[r[1] for r in rows],
        owner_rep_id=[r[2] for r in rows],
        potential=[1.0] * n,
    )


def test_white_space_cells(reps, params):
    accounts = _grid_accounts(
        {
            ("SMB", "N"): [None] * 5,  # white space: 5 accounts, none covered
            ("SMB", "S"): ["gone"] * 6,  # white space: orphans are not coverage
            ("Ent", "N"): [None] * 4,  # too small
            ("Ent", "S"): [None] * 4 + ["r1"],  # covered by one rep
        }
    )
    tables = {"accounts": accounts, "reps": reps}
    grid = coverage.white_space(tables, params)
    assert grid[["segment", "region"]].apply(tuple, axis=1).tolist() == [
        ("Ent", "N"),
        ("Ent", "S"),
        ("SMB", "N"),
        ("SMB", "S"),
    ]
    assert grid["white_space"].tolist() == [False, False, True, True]
    assert grid["covered"].tolist() == [0, 1, 0, 0]
    m = coverage.metrics(tables, params)
    assert m["white_space_cells"] == 2
    assert m["white_space_potential_pct"] == 11 / 20


def test_white_space_partner_counts_as_coverage_and_min_accounts_param(reps):
    accounts = _grid_accounts({("SMB", "N"): [None] * 5})
    accounts["partner_id"] = pd.array(["p1", None, None, None, None], dtype="string")
    tables = {"accounts": accounts, "reps": reps}
    assert coverage.metrics(tables, resolve_params({"as_of": T}))["white_space_cells"] == 0
    accounts2 = _grid_accounts({("SMB", "N"): [None] * 3})
    tables2 = {"accounts": accounts2, "reps": reps}
    assert coverage.metrics(tables2, resolve_params({"as_of": T}))["white_space_cells"] == 0
    assert (
        coverage.metrics(tables2, resolve_params({"as_of": T, "white_space_min_accounts": 3}))["white_space_cells"] == 1
    )


def test_white_space_dimensions_absent(reps, params):
    accounts = _grid_accounts({("SMB", "N"): [None] * 5, ("SMB", "S"): ["r1"] * 5})
    only_segment = {"accounts": accounts.drop(columns="region"), "reps": reps}
    assert coverage.metrics(only_segment, params)["white_space_cells"] == 0  # one SMB cell, covered
    assert coverage.white_space(only_segment, params).columns[0] == "segment"
    neither = {"accounts": accounts.drop(columns=["region", "segment"]), "reps": reps}
    m = coverage.metrics(neither, params)
    assert m["white_space_cells"] is None and m["white_space_potential_pct"] is None


def test_white_space_blank_dimension_is_no_cell(reps, params):
    accounts = _grid_accounts({("SMB", "N"): [None] * 5})
    accounts["region"] = pd.array([None] * 5, dtype="string")
    assert coverage.metrics({"accounts": accounts, "reps": reps}, params)["white_space_cells"] == 0


def test_top_unassigned_ranked_with_reasons(tables, params):
    top = coverage.top_unassigned(tables, params)
    assert top["account_id"].tolist() == ["a7", "a4", "a3", "a6"]  # potential 70, 40, 30, 0
    reasons = dict(zip(top["account_id"], top["reason"]))
    assert reasons["a3"] == f"owner Gil left {days(-30)}"
    assert reasons["a4"] == "owner zz not in reps"
    assert reasons["a6"] == "no owner"
    assert reasons["a7"] == f"owner Nia starts {days(10)}"
    assert coverage.top_unassigned(tables, params, n=2)["account_id"].tolist() == ["a7", "a4"]


def test_assigned_not_worked_list(tables, params):
    out = coverage.assigned_not_worked(tables, params)
    assert out["account_id"].tolist() == ["a8", "a2"]  # potential 80 then 20
    assert out["owner_name"].tolist() == ["Ann", "Bob"]
    assert out["days_since_activity"].tolist() == [91, 90]


def test_orphaned_books(tables, params):
    books = coverage.orphaned_books(tables, params)
    assert books["owner_rep_id"].tolist() == ["new", "zz", "gone"]
    assert books["status"].tolist() == ["not yet started", "unknown", "departed"]
    gone = books.set_index("owner_rep_id").loc["gone"]
    assert gone["rep_name"] == "Gil" and gone["end_date"] == pd.Timestamp(days(-30))
    assert gone["accounts"] == 1 and gone["potential"] == 30.0 and gone["worked"] == 1


def test_orphan_with_partner_is_partner_only_but_counted_orphaned(reps, params):
    accounts = frame("accounts", account_id=["a"], account_name=["A"], owner_rep_id=["gone"], partner_id=["p1"])
    m = coverage.metrics({"accounts": accounts, "reps": reps}, params)
    assert m["partner_only_pct"] == 1.0 and m["orphaned_accounts"] == 1 and m["unassigned_pct"] == 0.0


def test_coverage_by_segment(tables, params):
    by = coverage.coverage_by(tables, params).set_index("segment")
    assert by.index.tolist() == ["Ent", "SMB"]
    assert by.loc["SMB", "accounts"] == 5
    assert by.loc["SMB", "rep_assigned"] == 3 and by.loc["SMB", "orphaned"] == 2
    assert by.loc["Ent", "partner_only"] == 1 and by.loc["Ent", "unowned"] == 1
    assert by.loc["Ent", "unassigned_pct"] == pytest.approx(2 / 3)
    assert by.loc["SMB", "worked"] == 2  # a1, a3
    everything = coverage.coverage_by(tables, params, by=[])
    assert len(everything) == 1 and everything.loc[0, "accounts"] == 8
    assert everything.loc[0, "unassigned"] == 4


def test_empty_accounts(reps, params):
    accounts = frame("accounts", account_id=[], account_name=[], owner_rep_id=[], segment=[], region=[])
    m = coverage.metrics({"accounts": accounts, "reps": reps}, params)
    assert m["accounts_total"] == 0 and m["rep_assigned_pct"] is None and m["white_space_cells"] == 0


def test_member_of_and_lookup_in_on_text_keys():
    from diligence.metrics.coverage import lookup_in, member_of

    values = pd.Series(["a", None, "c", "a"], dtype="string")
    assert member_of(values, pd.Series(["a", "b", None], dtype="string")).tolist() == [True, False, False, True]
    frame = pd.DataFrame(
        {"k": pd.array(["a", "b", "c"], dtype="string"), "v": pd.array(["A", "B", pd.NA], dtype="string")}
    )
    got = lookup_in(pd.Series(["c", "z", "a", None], dtype="string", index=[10, 11, 12, 13]), frame, "k", "v")
    assert got.index.tolist() == [10, 11, 12, 13] and got.tolist()[2] == "A"
    assert got.isna().tolist() == [True, True, False, True]


@pytest.mark.parametrize("dtype", ["string", "string[python]", "str", object])
def test_positions_in_is_get_indexer(dtype):
    from diligence.metrics.coverage import positions_in

    index = pd.Index(pd.Series(["b", "a", "d", "c"], dtype=dtype))
    keys = pd.Series(["a", "zz", "c", None, "d", "a", "B"], dtype=dtype)
    got = positions_in(keys, index)
    assert got.tolist() == [1, -1, 3, -1, 2, 1, -1]
    assert got.tolist() == index.get_indexer(keys).tolist()
    # a blank key finds a blank in the index, as pandas finds it
    with_blank = pd.Index(pd.Series(["a", None], dtype=dtype))
    assert positions_in(keys, with_blank).tolist() == with_blank.get_indexer(keys).tolist()
    # text against numbers: nothing found, not an error
    assert positions_in(pd.Series([1, 2]), index).tolist() == [-1, -1]
