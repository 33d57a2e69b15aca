"""Overlaps in selling: direct and partner deals, or several reps, on one account at once.

Definitions follow SPEC §3. ``T`` is the as-of date and the look-back window is
the 365 days before T, half-open on the left: ``(T - 365 days, T]``.

An opportunity's **lifetime** runs from ``created_date`` to its end, both days
included:

- a closed opportunity ends on its ``close_date``;
- an open opportunity runs to T (its ``close_date`` is only an expectation);
- a closed opportunity without ``close_date`` ends on its ``created_date``:
  all we know is that it existed the day it was created;
- an end before the start (bad data) is moved to the start.

Whether a deal is closed comes from ``is_closed``; where that is blank or the
column is absent, a won deal or one with a ``close_date`` on or before T counts
as closed and any other as open.

Two lifetimes **overlap inside the window** when the window and both lifetimes
share at least one calendar day. Sharing a single day counts: a partner deal
that closes on the day the direct one is created was still open that day, and
the two sellers were in the account together. A partner deal that closed the
day before the direct one opened does not overlap it. Overlap days count the
shared calendar days, so a same-day touch is 1 day.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from diligence.metrics.coverage import member_of
from diligence.metrics.memo import once_per_tables

WINDOW_DAYS = 365
DIRECT, PARTNER = "direct", "partner"


def opportunity_lifetimes(
    opportunities: pd.DataFrame, as_of: pd.Timestamp, window_days: int = WINDOW_DAYS
) -> pd.DataFrame:
    """Lifetime of each opportunity and its part inside ``(T - window_days, T]``.

    Parameters
    ----------
    opportunities
        The ``opportunities`` table (``created_date`` required; ``close_date``
        and ``is_closed`` used when present).
    as_of
        T.
    window_days
        Length of the look-back window.

    Returns
    -------
    DataFrame
        Indexed like ``opportunities``: ``lifetime_start``, ``lifetime_end``
        (see the module docstring for the rules), ``window_start`` and
        ``window_end`` (the lifetime clipped to the window, both days
        included; ``NaT`` when it misses the window) and ``in_window``.
    """
    as_of = pd.Timestamp(as_of)
    first_day = as_of - pd.Timedelta(days=window_days - 1)  # (T - 365d, T] in whole days
    start = opportunities["created_date"]
    if "close_date" in opportunities:
        close = opportunities["close_date"]
    else:
        close = pd.Series(pd.NaT, index=opportunities.index, dtype=start.dtype)
    inferred_closed = close.notna() & (close <= as_of)
    if "is_won" in opportunities:
        inferred_closed = inferred_closed | opportunities["is_won"].fillna(False).astype(bool)
    if "is_closed" in opportunities:
        closed = opportunities["is_closed"].fillna(inferred_closed).astype(bool)
    else:
        closed = inferred_closed
    # Open: to T. Closed: to close_date, or the creation day when that is blank.
    end = close.where(closed, as_of).where(~closed | close.notna(), start)
    end = end.where(~(end < start), start)
    w_start = start.where(start > first_day, first_day)
    w_end = end.where(end < as_of, as_of)
    in_window = (start.notna() & (w_start <= w_end)).astype(bool)
    return pd.DataFrame(
        {
            "lifetime_start": start,
            "lifetime_end": end,
            "window_start": w_start.where(in_window),
            "window_end": w_end.where(in_window),
            "in_window": in_window,
        },
        index=opportunities.index,
    )


def _channel(opportunities: pd.DataFrame) -> pd.Series:
    # Intake lower-cases channel and defaults blanks to direct (SPEC §2); kept here
    # so that a frame built by hand reads the same.
    return opportunities["channel"].astype("string").str.strip().str.lower().fillna(DIRECT)


def _window_intervals(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Opportunities whose lifetime touches the window, with the clipped interval."""
    life = opportunity_lifetimes(opportunities, as_of)
    keep = life["in_window"] & opportunities["account_id"].notna()
    cols = ["opportunity_id", "account_id"] + [c for c in ("owner_rep_id", "partner_id") if c in opportunities]
    out = opportunities.loc[keep, cols].copy()
    if "channel" in opportunities:
        out["channel"] = _channel(opportunities.loc[keep])
    out["start"] = life.loc[keep, "window_start"]
    out["end"] = life.loc[keep, "window_end"]
    return out


def overlapping_accounts(intervals: pd.DataFrame, party: str) -> pd.Index:
    """Accounts where two different ``party`` values hold intervals sharing a day.

    Parameters
    ----------
    intervals
        One row per interval: ``account_id``, ``party`` and ``start`` / ``end``
        (dates, both days included).
    party
        The column telling the sides apart (``channel``, ``owner_rep_id``).

    Returns
    -------
    Index
        Sorted ``account_id`` values.

    Notes
    -----
    Runs in ``O(n log n)`` without pairing rows. Each party's intervals in an
    account are first merged into disjoint blocks; after that any two blocks of
    an account that share a day belong to different parties, and a block shares
    a day with an earlier-starting one exactly when it starts on or before the
    latest end seen so far in that account.
    """
    iv = intervals.loc[intervals[party].notna()]
    if iv.empty:
        return pd.Index([], name="account_id", dtype="string")
    acc, accounts = pd.factorize(iv["account_id"])
    # Integer columns only: sorting and grouping stay cheap on millions of rows.
    work = pd.DataFrame(
        {
            "acc": acc,
            "pty": pd.factorize(iv[party])[0],
            "s": iv["start"].to_numpy("datetime64[D]").astype(np.int64),
            "e": iv["end"].to_numpy("datetime64[D]").astype(np.int64),
        }
    ).sort_values(["acc", "pty", "s", "e"], kind="stable")
    seen_end = work.groupby(["acc", "pty"], sort=False)["e"].cummax()
    prev_end = seen_end.groupby([work["acc"], work["pty"]], sort=False).shift(1)
    block = (prev_end.isna() | (work["s"] > prev_end)).cumsum()
    blocks = work.groupby(block, sort=False).agg(acc=("acc", "first"), s=("s", "min"), e=("e", "max"))
    blocks = blocks.sort_values(["acc", "s"], kind="stable")
    latest = blocks.groupby("acc", sort=False)["e"].cummax()
    prev_latest = latest.groupby(blocks["acc"], sort=False).shift(1)
    hit = np.unique(blocks.loc[blocks["s"] <= prev_latest, "acc"].to_numpy())
    return pd.Index(accounts[hit], name="account_id").astype("string").sort_values()


def _conflicts(iv: pd.DataFrame) -> pd.Index:
    return overlapping_accounts(iv.loc[iv["channel"].isin([DIRECT, PARTNER])], "channel")


def _multi_rep(iv: pd.DataFrame) -> pd.Index:
    direct = iv.loc[iv["channel"] == DIRECT] if "channel" in iv else iv
    return overlapping_accounts(direct, "owner_rep_id")


@once_per_tables(("opportunities",), ("as_of",))
def _all_intervals(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    """:func:`_window_intervals` of every opportunity, built once per table and T."""
    return _window_intervals(tables["opportunities"], pd.Timestamp(params["as_of"]))


def conflict_account_ids(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.Index | None:
    """Channel conflict accounts (SPEC §3): an account with a direct and a
    partner opportunity whose lifetimes overlap inside the 365 days before T.

    ``None`` when there is no ``opportunities`` table or no ``channel`` column.
    """
    opps = tables.get("opportunities")
    if opps is None or "channel" not in opps:
        return None
    return _conflict_ids(tables, params)


@once_per_tables(("opportunities",), ("as_of",))
def _conflict_ids(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.Index:
    return _conflicts(_all_intervals(tables, params))


@once_per_tables(("opportunities",), ("as_of",))
def _multi_rep_ids(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.Index:
    return _multi_rep(_all_intervals(tables, params))


def multi_rep_account_ids(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.Index | None:
    """Multi-rep accounts (SPEC §3): an account with direct opportunities owned
    by two or more different reps whose lifetimes overlap inside the 365 days
    before T. The same rep owning several overlapping deals is not multi-rep;
    departed reps count as reps (their deals still overlapped).

    ``None`` when there is no ``opportunities`` table or no ``owner_rep_id``
    column. Without a ``channel`` column every opportunity is direct (SPEC §2).
    """
    opps = tables.get("opportunities")
    if opps is None or "owner_rep_id" not in opps:
        return None
    return _multi_rep_ids(tables, params)


def _overlapping_pairs(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Pairs of intervals of the same account sharing a day (suffixes _a, _b)."""
    pairs = left.merge(right, on="account_id", suffixes=("_a", "_b"))
    o_start = pairs[["start_a", "start_b"]].max(axis=1)
    o_end = pairs[["end_a", "end_b"]].min(axis=1)
    pairs = pairs.assign(overlap_start=o_start, overlap_end=o_end)
    pairs = pairs.loc[o_start <= o_end]
    return pairs.assign(overlap_days=((pairs["overlap_end"] - pairs["overlap_start"]).dt.days + 1).astype("int64"))


def _names(table: pd.DataFrame | None, key: str, name: str, among: pd.Series | None = None) -> pd.Series:
    """``table[name]`` by ``table[key]`` (the first row of each key), for
    mapping; only the keys ``among`` are kept when given (a few thousand
    accounts' names are looked up among a million without indexing them all)."""
    if table is None or name not in table:
        return pd.Series(dtype="string", name=name)
    if among is not None:
        table = table.loc[member_of(table[key], among), [key, name]]
    return table.dropna(subset=[key]).drop_duplicates(key).set_index(key)[name]


def conflict_accounts(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    """Evidence for channel conflict: one row per conflict account.

    Shows the pair of overlapping opportunities with the longest overlap
    (ties broken by opportunity ids): the direct deal and its owner, the
    partner deal and its partner (the deal's ``partner_id``, else the
    account's), the shared days, and how many direct/partner pairs overlap.
    Sorted by overlap days (longest first), then account id. Empty when the
    metric cannot be computed.
    """
    columns = [
        "account_id",
        "account_name",
        "direct_opportunity_id",
        "direct_owner_rep_id",
        "direct_owner_name",
        "partner_opportunity_id",
        "partner_id",
        "partner_name",
        "overlap_start",
        "overlap_end",
        "overlap_days",
        "overlapping_pairs",
    ]
    ids = conflict_account_ids(tables, params)
    if ids is None or len(ids) == 0:
        return pd.DataFrame(columns=columns)
    opps = tables["opportunities"]
    iv = _window_intervals(opps.loc[opps["account_id"].isin(ids)], pd.Timestamp(params["as_of"]))
    for col in ("owner_rep_id", "partner_id"):
        if col not in iv:
            iv[col] = pd.Series(pd.NA, index=iv.index, dtype="string")
    accounts = tables["accounts"]
    acc_partner = _names(accounts, "account_id", "partner_id", among=iv["account_id"])
    iv["partner_id"] = iv["partner_id"].fillna(iv["account_id"].map(acc_partner))
    direct = iv.loc[iv["channel"] == DIRECT, ["account_id", "opportunity_id", "owner_rep_id", "start", "end"]]
    partner = iv.loc[iv["channel"] == PARTNER, ["account_id", "opportunity_id", "partner_id", "start", "end"]]
    pairs = _overlapping_pairs(direct, partner).rename(
        columns={
            "opportunity_id_a": "direct_opportunity_id",
            "owner_rep_id": "direct_owner_rep_id",
            "opportunity_id_b": "partner_opportunity_id",
        }
    )
    pairs["overlapping_pairs"] = pairs.groupby("account_id")["account_id"].transform("size").astype("int64")
    best = pairs.sort_values(
        ["account_id", "overlap_days", "direct_opportunity_id", "partner_opportunity_id"],
        ascending=[True, False, True, True],
    ).drop_duplicates("account_id")
    best = best.assign(
        account_name=best["account_id"].map(_names(accounts, "account_id", "account_name", best["account_id"])),
        direct_owner_name=best["direct_owner_rep_id"].map(
            _names(tables.get("reps"), "rep_id", "rep_name", best["direct_owner_rep_id"])
        ),
        partner_name=best["partner_id"].map(_names(tables.get("partners"), "partner_id", "partner_name")),
    )
    return best.sort_values(["overlap_days", "account_id"], ascending=[False, True])[columns].reset_index(drop=True)


def multi_rep_accounts_table(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    """Evidence for rep overlap: one row per multi-rep account.

    Lists the account's CRM owner, the reps whose direct deals overlapped
    (ids and names, sorted by id, joined with ``"; "``), how many such reps and
    overlapping opportunities, and the longest overlap in days. Sorted by
    number of reps (most first), then account id.
    """
    columns = [
        "account_id",
        "account_name",
        "account_owner_rep_id",
        "reps",
        "rep_ids",
        "rep_names",
        "overlapping_opportunities",
        "max_overlap_days",
    ]
    ids = multi_rep_account_ids(tables, params)
    if ids is None or len(ids) == 0:
        return pd.DataFrame(columns=columns)
    opps = tables["opportunities"]
    iv = _window_intervals(opps.loc[opps["account_id"].isin(ids)], pd.Timestamp(params["as_of"]))
    if "channel" in iv:
        iv = iv.loc[iv["channel"] == DIRECT]
    iv = iv.loc[iv["owner_rep_id"].notna(), ["account_id", "opportunity_id", "owner_rep_id", "start", "end"]]
    pairs = _overlapping_pairs(iv, iv)
    pairs = pairs.loc[pairs["owner_rep_id_a"] < pairs["owner_rep_id_b"]]
    sides = [["account_id", f"opportunity_id_{s}", f"owner_rep_id_{s}"] for s in ("a", "b")]
    involved = pd.concat([pairs[cols].set_axis(["account_id", "opportunity_id", "rep_id"], axis=1) for cols in sides])
    rep_names = _names(tables.get("reps"), "rep_id", "rep_name", involved["rep_id"])
    reps = involved.drop_duplicates(["account_id", "rep_id"]).sort_values(["account_id", "rep_id"])
    reps = reps.assign(rep_name=reps["rep_id"].map(rep_names).fillna(reps["rep_id"]).astype("string"))
    by_account = reps.groupby("account_id").agg(
        reps=("rep_id", "size"),
        rep_ids=("rep_id", "; ".join),
        rep_names=("rep_name", "; ".join),
    )
    opportunities = involved.drop_duplicates(["account_id", "opportunity_id"])
    by_account["overlapping_opportunities"] = opportunities.groupby("account_id").size()
    by_account["max_overlap_days"] = pairs.groupby("account_id")["overlap_days"].max()
    out = by_account.reset_index()
    accounts = tables["accounts"]
    out["account_name"] = out["account_id"].map(_names(accounts, "account_id", "account_name", out["account_id"]))
    out["account_owner_rep_id"] = out["account_id"].map(
        _names(accounts, "account_id", "owner_rep_id", out["account_id"])
    )
    out = out.astype({"reps": "int64", "overlapping_opportunities": "int64", "max_overlap_days": "int64"})
    return out.sort_values(["reps", "account_id"], ascending=[False, True])[columns].reset_index(drop=True)


def metrics(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> dict[str, float | int | None]:
    """SPEC §4 channel metrics.

    Returns
    -------
    dict
        ``channel_conflict_accounts`` and ``multi_rep_accounts`` (counts,
        ``None`` when the data does not allow them; see
        :func:`conflict_account_ids` and :func:`multi_rep_account_ids`), plus
        ``partner_opportunities_365d``: partner opportunities whose lifetime
        touches the window, which tells a clear RF5 from a company without
        partner deals.
    """
    opps = tables.get("opportunities")
    if opps is None:
        return {"channel_conflict_accounts": None, "multi_rep_accounts": None, "partner_opportunities_365d": None}
    iv = _all_intervals(tables, params)
    has_channel = "channel" in opps
    return {
        "channel_conflict_accounts": len(_conflict_ids(tables, params)) if has_channel else None,
        "multi_rep_accounts": len(_multi_rep_ids(tables, params)) if "owner_rep_id" in opps else None,
        "partner_opportunities_365d": int((iv["channel"] == PARTNER).sum()) if has_channel else None,
    }
