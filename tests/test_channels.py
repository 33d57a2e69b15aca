"""Channel conflict and multi-rep accounts (SPEC §3) on hand-built opportunities."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.metrics import channels

T = "2025-06-30"
PARAMS = {"as_of": T}


def _opps(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (id, account, owner, channel, partner, created, close, is_closed)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "opportunity_id",
            "account_id",
            "owner_rep_id",
            "channel",
            "partner_id",
            "created_date",
            "close_date",
            "is_closed",
        ],
    )
    frame = frame.astype(
        dict.fromkeys(("opportunity_id", "account_id", "owner_rep_id", "channel", "partner_id"), "string")
    )
    frame["created_date"] = pd.to_datetime(frame["created_date"])
    frame["close_date"] = pd.to_datetime(frame["close_date"])
    frame["is_closed"] = frame["is_closed"].astype("boolean")
    frame["amount"] = 1000.0
    return frame


def _tables(opps: pd.DataFrame) -> dict:
    ids = sorted(opps["account_id"].dropna().unique())
    accounts = pd.DataFrame(
        {"account_id": ids, "account_name": [f"Account {i}" for i in ids], "owner_rep_id": ["r1"] * len(ids)},
        dtype="string",
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2", "r3"], "rep_name": ["Ann", "Bob", "Cy"]}, dtype="string")
    partners = pd.DataFrame({"partner_id": ["p1"], "partner_name": ["Partner One"]}, dtype="string")
    return {"accounts": accounts, "reps": reps, "opportunities": opps, "partners": partners}


def _metrics(rows: list[tuple]) -> dict:
    return channels.metrics(_tables(_opps(rows)), PARAMS)


# --- channel conflict -------------------------------------------------------


def test_partner_deal_closed_before_direct_opened_is_no_conflict():
    m = _metrics(
        [
            ("o1", "a1", None, "partner", "p1", "2025-01-01", "2025-02-28", True),
            ("o2", "a1", "r1", "direct", None, "2025-03-01", "2025-04-01", True),
        ]
    )
    assert m["channel_conflict_accounts"] == 0


def test_same_day_touch_is_a_conflict_of_one_day():
    rows = [
        ("o1", "a1", None, "partner", "p1", "2025-01-01", "2025-03-01", True),
        ("o2", "a1", "r1", "direct", None, "2025-03-01", "2025-04-01", True),
    ]
    tables = _tables(_opps(rows))
    assert channels.metrics(tables, PARAMS)["channel_conflict_accounts"] == 1
    detail = channels.conflict_accounts(tables, PARAMS)
    assert detail.loc[0, "overlap_days"] == 1
    assert detail.loc[0, "overlap_start"] == pd.Timestamp("2025-03-01")


def test_open_deal_runs_to_as_of_date():
    # The partner deal opened long before the window and is still open: its
    # lifetime reaches T, so the direct deal opened last month overlaps it.
    rows = [
        ("o1", "a1", None, "partner", "p1", "2023-01-01", "2024-01-01", False),
        ("o2", "a1", "r2", "direct", None, "2025-06-01", "2025-06-10", True),
    ]
    opps = _opps(rows)
    life = channels.opportunity_lifetimes(opps, pd.Timestamp(T))
    assert life.loc[0, "lifetime_end"] == pd.Timestamp(T)
    assert life.loc[0, "window_start"] == pd.Timestamp(T) - pd.Timedelta(days=364)
    tables = _tables(opps)
    assert channels.metrics(tables, PARAMS)["channel_conflict_accounts"] == 1
    detail = channels.conflict_accounts(tables, PARAMS)
    row = detail.iloc[0]
    assert (row["direct_opportunity_id"], row["direct_owner_rep_id"], row["direct_owner_name"]) == ("o2", "r2", "Bob")
    assert (row["partner_opportunity_id"], row["partner_id"], row["partner_name"]) == ("o1", "p1", "Partner One")
    assert row["overlap_days"] == 10
    assert row["account_name"] == "Account a1"


def test_deals_entirely_before_the_window_do_not_count():
    # Both lifetimes overlap each other but end on T - 365 days, outside (T - 365d, T].
    edge = (pd.Timestamp(T) - pd.Timedelta(days=365)).date().isoformat()
    rows = [
        ("o1", "a1", None, "partner", "p1", "2024-01-01", edge, True),
        ("o2", "a1", "r1", "direct", None, "2024-02-01", edge, True),
    ]
    assert _metrics(rows)["channel_conflict_accounts"] == 0
    # One day later both lifetimes share the window's first day.
    inside = (pd.Timestamp(T) - pd.Timedelta(days=364)).date().isoformat()
    rows = [r[:6] + (inside, True) for r in rows]
    assert _metrics(rows)["channel_conflict_accounts"] == 1


def test_closed_deal_without_close_date_lives_one_day():
    rows = [
        ("o1", "a1", None, "partner", "p1", "2025-03-01", None, True),
        ("o2", "a1", "r1", "direct", None, "2025-03-02", "2025-04-01", True),
        ("o3", "a2", None, "partner", "p1", "2025-03-01", None, True),
        ("o4", "a2", "r1", "direct", None, "2025-02-01", "2025-03-01", True),
    ]
    opps = _opps(rows)
    life = channels.opportunity_lifetimes(opps, pd.Timestamp(T))
    assert life.loc[0, "lifetime_end"] == pd.Timestamp("2025-03-01")
    tables = _tables(opps)
    assert channels.conflict_account_ids(tables, PARAMS).tolist() == ["a2"]


def test_missing_is_closed_infers_from_close_date():
    opps = _opps(
        [
            ("o1", "a1", None, "partner", "p1", "2025-01-01", "2025-02-01", None),  # past close: closed
            ("o2", "a1", "r1", "direct", None, "2025-03-01", "2025-09-01", None),  # future close: open
        ]
    )
    life = channels.opportunity_lifetimes(opps, pd.Timestamp(T))
    assert life["lifetime_end"].tolist() == [pd.Timestamp("2025-02-01"), pd.Timestamp(T)]
    assert channels.metrics(_tables(opps), PARAMS)["channel_conflict_accounts"] == 0


def test_conflicts_are_counted_per_account():
    rows = [
        ("o1", "a1", None, "partner", "p1", "2025-01-01", "2025-03-01", True),
        ("o2", "a1", "r1", "direct", None, "2025-02-01", "2025-04-01", True),
        ("o3", "a1", "r2", "direct", None, "2025-02-15", "2025-04-01", True),
        ("o4", "a2", None, "partner", "p1", "2025-01-01", "2025-03-01", True),
        ("o5", "a3", "r1", "direct", None, "2025-01-01", "2025-03-01", True),
    ]
    tables = _tables(_opps(rows))
    assert channels.metrics(tables, PARAMS)["channel_conflict_accounts"] == 1
    detail = channels.conflict_accounts(tables, PARAMS)
    assert detail["account_id"].tolist() == ["a1"]
    assert detail.loc[0, "overlapping_pairs"] == 2
    # The longest overlap is shown: o2 shares Feb 1 - Mar 1 (29 days) with o1.
    assert detail.loc[0, "direct_opportunity_id"] == "o2"
    assert detail.loc[0, "overlap_days"] == 29


def test_partner_id_falls_back_to_the_account():
    opps = _opps(
        [
            ("o1", "a1", None, "partner", None, "2025-01-01", "2025-03-01", True),
            ("o2", "a1", "r1", "direct", None, "2025-02-01", "2025-04-01", True),
        ]
    )
    tables = _tables(opps)
    tables["accounts"]["partner_id"] = pd.array(["p1"], dtype="string")
    assert channels.conflict_accounts(tables, PARAMS).loc[0, "partner_id"] == "p1"


def test_no_opportunities_or_no_channel_is_none():
    tables = _tables(_opps([("o1", "a1", "r1", "direct", None, "2025-01-01", "2025-02-01", True)]))
    no_opps = {k: v for k, v in tables.items() if k != "opportunities"}
    assert channels.metrics(no_opps, PARAMS)["channel_conflict_accounts"] is None
    assert channels.metrics(no_opps, PARAMS)["multi_rep_accounts"] is None
    tables["opportunities"] = tables["opportunities"].drop(columns="channel")
    m = channels.metrics(tables, PARAMS)
    assert m["channel_conflict_accounts"] is None
    assert m["multi_rep_accounts"] == 0
    assert channels.conflict_accounts(tables, PARAMS).empty


# --- multi-rep ----------------------------------------------------------------


def test_same_rep_twice_is_not_multi_rep():
    rows = [
        ("o1", "a1", "r1", "direct", None, "2025-01-01", "2025-03-01", True),
        ("o2", "a1", "r1", "direct", None, "2025-02-01", "2025-04-01", True),
    ]
    assert _metrics(rows)["multi_rep_accounts"] == 0


def test_two_reps_overlapping_is_multi_rep_and_sequential_is_not():
    rows = [
        ("o1", "a1", "r1", "direct", None, "2025-01-01", "2025-03-01", True),
        ("o2", "a1", "r2", "direct", None, "2025-03-01", "2025-04-01", True),  # shares Mar 1
        ("o3", "a2", "r1", "direct", None, "2025-01-01", "2025-02-28", True),
        ("o4", "a2", "r2", "direct", None, "2025-03-01", "2025-04-01", True),  # handed over
    ]
    tables = _tables(_opps(rows))
    assert channels.metrics(tables, PARAMS)["multi_rep_accounts"] == 1
    table = channels.multi_rep_accounts_table(tables, PARAMS)
    assert table["account_id"].tolist() == ["a1"]
    row = table.iloc[0]
    assert (row["reps"], row["rep_ids"], row["rep_names"]) == (2, "r1; r2", "Ann; Bob")
    assert (row["overlapping_opportunities"], row["max_overlap_days"]) == (2, 1)


def test_same_rep_bridging_does_not_link_two_others():
    # r1's two deals overlap each other; r2's deal overlaps neither.
    rows = [
        ("o1", "a1", "r1", "direct", None, "2025-01-01", "2025-02-10", True),
        ("o2", "a1", "r1", "direct", None, "2025-02-01", "2025-03-01", True),
        ("o3", "a1", "r2", "direct", None, "2025-03-02", "2025-04-01", True),
    ]
    assert _metrics(rows)["multi_rep_accounts"] == 0
    # A third rep inside r1's span makes it multi-rep.
    rows.append(("o4", "a1", "r3", "direct", None, "2025-01-05", "2025-01-06", True))
    assert _metrics(rows)["multi_rep_accounts"] == 1


def test_partner_deals_do_not_make_multi_rep():
    rows = [
        ("o1", "a1", "r1", "direct", None, "2025-01-01", "2025-03-01", True),
        ("o2", "a1", "r2", "partner", "p1", "2025-02-01", "2025-04-01", True),
    ]
    m = _metrics(rows)
    assert m["multi_rep_accounts"] == 0
    assert m["channel_conflict_accounts"] == 1
    assert m["partner_opportunities_365d"] == 1


@pytest.mark.parametrize("party", ["channel", "owner_rep_id"])
def test_overlapping_accounts_on_an_empty_frame(party):
    empty = pd.DataFrame(
        {
            "account_id": pd.Series(dtype="string"),
            party: pd.Series(dtype="string"),
            "start": pd.Series(dtype="datetime64[ns]"),
            "end": pd.Series(dtype="datetime64[ns]"),
        }
    )
    assert len(channels.overlapping_accounts(empty, party)) == 0
