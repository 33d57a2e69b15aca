"""Capacity: is there enough selling headcount for the market, at the right level?

Definitions follow SPEC §3 and §4:

- **Capacity need** of a segment: ``ceil(accounts in segment /
  accounts_per_rep)``, with ``accounts_per_rep`` a parameter per segment (its
  ``other`` entry for segments it does not name). **Headcount**: active,
  quota-carrying reps whose ``segment`` is that segment.
- **Junior on enterprise**: accounts of the ``enterprise_segments``
  rep-assigned to active reps whose ``level`` is one of the ``junior_levels``,
  over all accounts of the ``enterprise_segments``.

Segment and level names are matched case-insensitively and trimmed
(``"enterprise "`` is ``Enterprise``); tables show the account's own spelling
(the first in sort order when several occur). Accounts with a blank segment
have no capacity model: they are left out of the need and counted apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diligence.metrics.coverage import (
    BLANK,
    REP_ASSIGNED,
    account_potential,
    active_quota_reps,
    active_rep_mask,
    as_of_date,
    classify_accounts,
    lookup,
    share,
    sorted_by_value,
)

OTHER = "other"


def _norm(values: pd.Series) -> pd.Series:
    """Case- and space-insensitive matching key for segment and level names."""
    return values.astype("string").str.strip().str.casefold()


def _rate_lookup(params: dict) -> dict[str, tuple[str, float]]:
    """``accounts_per_rep`` by normalised segment name: (parameter key, rate)."""
    return {str(k).strip().casefold(): (str(k), float(v)) for k, v in params["accounts_per_rep"].items()}


def capacity_assessable(tables: dict) -> bool:
    """Whether capacity need can be set against headcount: accounts and reps
    both have a ``segment`` column and reps a ``quota`` column."""
    return "segment" in tables["accounts"] and {"segment", "quota"} <= set(tables["reps"].columns)


def capacity_table(tables: dict, params: dict) -> pd.DataFrame:
    """Capacity need against headcount, per segment.

    Columns: ``segment, accounts, accounts_per_rep`` (the rate used),
    ``rate_from`` (the ``accounts_per_rep`` key it came from, e.g. ``other``),
    ``capacity_need`` (ceil(accounts / rate)), ``headcount`` (active,
    quota-carrying reps of the segment), ``shortfall`` (need − headcount,
    negative for a surplus), ``shortfall_pct`` (shortfall / need; blank when
    need is 0) and ``accounts_per_head`` (accounts / headcount; blank without
    headcount). One row per segment of accounts or of those reps; sorted by
    segment. Empty when accounts have no ``segment`` column.
    """
    columns = [
        "segment",
        "accounts",
        "accounts_per_rep",
        "rate_from",
        "capacity_need",
        "headcount",
        "shortfall",
        "shortfall_pct",
        "accounts_per_head",
    ]
    accounts = tables["accounts"]
    if "segment" not in accounts:
        return pd.DataFrame(columns=columns)
    reps = active_quota_reps(tables["reps"], as_of_date(params))
    # counted by name first: a million accounts hold a handful of names, normalised once each
    acc_seg = accounts["segment"].astype("string").value_counts(dropna=True)
    rep_seg = (reps["segment"] if "segment" in reps else pd.Series([], dtype="string")).astype("string")
    rep_seg = rep_seg.value_counts(dropna=True)
    counts = pd.DataFrame(
        {
            "name": pd.concat([acc_seg.index.to_series(), rep_seg.index.to_series()], ignore_index=True),
            "accounts": np.concatenate([acc_seg.to_numpy(), np.zeros(len(rep_seg), int)]),
            "headcount": np.concatenate([np.zeros(len(acc_seg), int), rep_seg.to_numpy()]),
        }
    )
    counts["key"] = _norm(counts["name"])
    out = (
        counts.groupby("key", sort=True)
        .agg(segment=("name", "min"), accounts=("accounts", "sum"), headcount=("headcount", "sum"))
        .reset_index()
    )
    out["accounts"] = out["accounts"].astype(int)
    out["headcount"] = out["headcount"].astype(int)
    rates = _rate_lookup(params)  # always holds "other": resolve_params merges into the defaults
    known = out["key"].isin(list(rates))
    out["rate_from"] = out["key"].map({k: name for k, (name, _) in rates.items()}).where(known, rates[OTHER][0])
    out["accounts_per_rep"] = (
        out["key"].map({k: rate for k, (_, rate) in rates.items()}).where(known, rates[OTHER][1]).astype(float)
    )
    out["capacity_need"] = np.ceil(out["accounts"] / out["accounts_per_rep"]).astype(int)
    out["shortfall"] = out["capacity_need"] - out["headcount"]
    out["shortfall_pct"] = out["shortfall"] / out["capacity_need"].where(out["capacity_need"] > 0)
    out["accounts_per_head"] = out["accounts"] / out["headcount"].where(out["headcount"] > 0)
    out["segment"] = out["segment"].astype("string")
    return out.sort_values("segment", kind="stable")[columns].reset_index(drop=True)


def _rep_level(accounts: pd.DataFrame, reps: pd.DataFrame) -> pd.Series:
    """Level of each account's owner (blank when unknown), indexed like accounts."""
    level = reps.drop_duplicates("rep_id").set_index("rep_id")["level"].astype("string")
    return lookup(accounts["owner_rep_id"], level)


def seniority_mix(tables: dict, params: dict) -> pd.DataFrame:
    """Rep-assigned accounts by account segment and owner's level.

    Columns: ``segment, level`` (blank as ``(blank)``), ``accounts``,
    ``share_of_segment`` (of the segment's rep-assigned accounts),
    ``potential``, ``enterprise`` (segment among ``enterprise_segments``) and
    ``junior`` (level among ``junior_levels``), both case-insensitive. Sorted
    by segment then level. Empty when accounts lack ``segment`` or
    ``owner_rep_id`` or reps lack ``level``.
    """
    columns = ["segment", "level", "accounts", "share_of_segment", "potential", "enterprise", "junior"]
    accounts, reps = tables["accounts"], tables["reps"]
    if not ("segment" in accounts and "owner_rep_id" in accounts and "level" in reps):
        return pd.DataFrame(columns=columns)
    assigned = (classify_accounts(accounts, reps, as_of_date(params)) == REP_ASSIGNED).to_numpy(bool)
    data = pd.DataFrame(
        {
            "segment": accounts["segment"].astype("string").fillna(BLANK),
            "level": _rep_level(accounts, reps).fillna(BLANK),
            "potential": account_potential(accounts),
        }
    ).loc[assigned]
    grouped = sorted_by_value(data, "potential").groupby(["segment", "level"], sort=True)
    out = pd.DataFrame({"accounts": grouped.size(), "potential": grouped["potential"].sum()}).reset_index()
    out["share_of_segment"] = out["accounts"] / out.groupby("segment")["accounts"].transform("sum")
    enterprise = {s.strip().casefold() for s in params["enterprise_segments"]}
    junior = {s.strip().casefold() for s in params["junior_levels"]}
    out["enterprise"] = _norm(out["segment"]).isin(enterprise).astype(bool)
    out["junior"] = _norm(out["level"]).isin(junior).astype(bool)
    return out[columns]


def junior_on_enterprise(tables: dict, params: dict) -> tuple[int, int] | None:
    """(enterprise accounts rep-assigned to junior reps, enterprise accounts).

    None when the data cannot say: accounts without ``segment`` or
    ``owner_rep_id``, or reps without ``level``.
    """
    accounts, reps = tables["accounts"], tables["reps"]
    if not ("segment" in accounts and "owner_rep_id" in accounts and "level" in reps):
        return None
    as_of = as_of_date(params)
    enterprise = _norm(accounts["segment"]).isin({s.strip().casefold() for s in params["enterprise_segments"]})
    enterprise = enterprise.fillna(False).to_numpy(bool)
    active = reps.loc[active_rep_mask(reps, as_of)]
    junior_ids = active.loc[
        _norm(active["level"])
        .isin({s.strip().casefold() for s in params["junior_levels"]})
        .fillna(False)
        .to_numpy(bool),
        "rep_id",
    ]
    on_junior = accounts["owner_rep_id"].isin(junior_ids).to_numpy(bool)
    return int((enterprise & on_junior).sum()), int(enterprise.sum())


def metrics(tables: dict, params: dict) -> dict[str, float | int | None]:
    """Capacity metrics of SPEC §4.

    ``headcount_shortfall_pct``: largest over segments of (need − headcount) /
    need, 0 when no segment is short; None when accounts or reps have no
    ``segment`` column or reps no ``quota`` (headcount unknown).
    ``junior_on_enterprise_pct``: see :func:`junior_on_enterprise`; None
    without the columns or without enterprise accounts. Extras
    ``capacity_need_total``, ``quota_headcount`` (active, quota-carrying reps
    of the segments in the table), ``accounts_without_segment`` and
    ``enterprise_accounts``.
    """
    out: dict[str, float | int | None] = {}
    if capacity_assessable(tables):
        table = capacity_table(tables, params)
        short = table["shortfall_pct"].dropna()
        out["headcount_shortfall_pct"] = float(max(short.max(), 0.0)) if len(short) else 0.0
        out["capacity_need_total"] = int(table["capacity_need"].sum())
        out["quota_headcount"] = int(table["headcount"].sum())
    else:
        out.update(headcount_shortfall_pct=None, capacity_need_total=None, quota_headcount=None)
    accounts = tables["accounts"]
    out["accounts_without_segment"] = int(accounts["segment"].isna().sum()) if "segment" in accounts else None
    junior = junior_on_enterprise(tables, params)
    out["junior_on_enterprise_pct"] = share(*junior) if junior else None
    out["enterprise_accounts"] = junior[1] if junior else None
    return out
