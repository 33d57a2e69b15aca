"""What a move disturbs: the disruption class of each account and its price.

An account belongs to none, some or all of three **disruption classes**
(T the as-of date):

- ``open_opportunity``: it has an opportunity open at T
  (:func:`diligence.metrics.pipeline.open_mask`);
- ``customer``: it has an opportunity won with ``close_date`` in the 365 days
  before T;
- ``owner_activity``: its owner of today (``owner_rep_id``) logged an
  activity on it in the ``active_window_days`` before T.

An account in none of them is **idle**. Moving an account costs
``1 + Σ weight[c]`` over its classes ``c`` (``disruption_weights``), so that
with the default weights an idle account moves before an active one whenever
either would balance the books; an account of a class listed in ``protect``
does not move at all. The **disruption** of a plan is the sum of the costs of
the accounts it moves (with no weights, its number of moves).

A plan's disturbance is reported as the accounts moved per class, the **open
pipeline that changes owner** (the amount of the open opportunities, any
owner, of the accounts that move) and the **customers that get a new owner**.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from diligence.metrics.coverage import as_of_date, column_or_blank, lookup, member_of, within_days_before
from diligence.metrics.memo import once_per_tables
from diligence.metrics.pipeline import LOOKBACK_DAYS, open_mask, won_mask

CLASSES: tuple[str, ...] = ("open_opportunity", "customer", "owner_activity")
CLASS_LABELS: dict[str, str] = {
    "open_opportunity": "open opportunity",
    "customer": "customer",
    "owner_activity": "worked by its owner",
}
IDLE = "idle"


@once_per_tables(("accounts", "opportunities", "activities"), ("as_of", "active_window_days"))
def account_classes(tables: dict, params: Mapping[str, Any]) -> pd.DataFrame:
    """The disruption classes of every account (module notes), built once for
    the same tables and parameters (the scenario step's plans all ask for them:
    :func:`~diligence.metrics.memo.once_per_tables`).

    Returns a frame indexed like ``accounts``: ``account_id``, one boolean
    column per class of :data:`CLASSES`, and ``open_pipeline`` (amount of the
    account's open opportunities at T, 0 when none).
    """
    accounts = tables["accounts"]
    as_of = as_of_date(params)
    ids = accounts["account_id"]
    out = pd.DataFrame({"account_id": ids.astype("string")}, index=accounts.index)
    opps = tables.get("opportunities")
    if opps is not None and len(opps):
        amount = column_or_blank(opps, "amount", "Float64").astype("Float64").fillna(0.0)
        is_open = open_mask(opps, as_of).to_numpy(bool)
        pipeline = amount[is_open].groupby(opps["account_id"][is_open], sort=False).sum()
        close = column_or_blank(opps, "close_date", "datetime64[ns]")
        recent = (won_mask(opps) & within_days_before(close, as_of, LOOKBACK_DAYS)).to_numpy(bool)
        out["open_opportunity"] = member_of(ids, opps["account_id"][is_open])
        out["customer"] = member_of(ids, opps["account_id"][recent])
        out["open_pipeline"] = lookup(ids, pipeline).astype(float).fillna(0.0).to_numpy(float)
    else:
        out["open_opportunity"] = False
        out["customer"] = False
        out["open_pipeline"] = 0.0
    acts = tables.get("activities")
    owner = column_or_blank(accounts, "owner_rep_id")
    if acts is not None and len(acts) and "rep_id" in acts:
        window = within_days_before(acts["activity_date"], as_of, int(params["active_window_days"]))
        pairs = acts.loc[window.to_numpy(bool), ["account_id", "rep_id"]]
        out["owner_activity"] = _pair_in(ids, owner, pairs["account_id"], pairs["rep_id"])
    else:
        out["owner_activity"] = False
    return out[["account_id", *CLASSES, "open_pipeline"]]


def _pair_in(a: pd.Series, b: pd.Series, in_a: pd.Series, in_b: pd.Series) -> np.ndarray:
    """Whether each row's pair ``(a, b)`` is among the pairs ``(in_a, in_b)``
    (False where either of its values is missing). Each side's values are
    coded as integers over one vocabulary, so a pair is one int64 key: a
    MultiIndex of millions of text pairs takes seconds more."""
    codes_a, _ = pd.factorize(pd.concat([a, in_a], ignore_index=True).astype("string"))
    codes_b, _ = pd.factorize(pd.concat([b, in_b], ignore_index=True).astype("string"))
    keys = codes_a.astype(np.int64) * (int(codes_b.max(initial=-1)) + 2) + (codes_b + 1)
    known = (codes_a >= 0) & (codes_b >= 0)
    n = len(a)
    return np.isin(keys[:n], keys[n:][known[n:]]) & known[:n]


def move_cost(classes: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """Cost of moving each account: ``1 + Σ weights[c]`` over the classes it is in."""
    cost = np.ones(len(classes))
    for name in CLASSES:
        cost += float(weights.get(name, 0.0)) * classes[name].to_numpy(bool)
    return cost


def protected(classes: pd.DataFrame, protect: list[str]) -> np.ndarray:
    """True for accounts in any class of ``protect`` (they may not move)."""
    out = np.zeros(len(classes), dtype=bool)
    for name in protect:
        out |= classes[name].to_numpy(bool)
    return out


def class_label(classes: pd.DataFrame) -> pd.Series:
    """Each account's classes in words (``"open opportunity, customer"``), or ``"idle"``."""
    parts = [np.where(classes[c].to_numpy(bool), CLASS_LABELS[c], "") for c in CLASSES]
    joined = pd.Series([", ".join(p for p in row if p) for row in zip(*parts)], index=classes.index, dtype="string")
    return joined.mask(joined == "", IDLE)


def summary(classes: pd.DataFrame, moved_ids: pd.Series) -> dict[str, Any]:
    """What moving the accounts ``moved_ids`` disturbs.

    Returns ``accounts_moved``, ``idle_moved``, ``<class>_moved`` for each
    class (an account counts in every class it is in), ``open_pipeline_moved``
    (open pipeline that changes owner) and ``customers_moved`` (customers that
    get a new owner; the same as ``customer_moved``, named as the report says it).
    """
    moving = classes.loc[classes["account_id"].isin(pd.Index(moved_ids.astype("string")))]
    flags = moving[list(CLASSES)].to_numpy(bool)
    out: dict[str, Any] = {"accounts_moved": len(moving), "idle_moved": int((~flags.any(axis=1)).sum())}
    for j, name in enumerate(CLASSES):
        out[f"{name}_moved"] = int(flags[:, j].sum())
    out["open_pipeline_moved"] = float(np.sort(moving["open_pipeline"].to_numpy(float)).sum())
    out["customers_moved"] = out["customer_moved"]
    return out


def by_class(classes: pd.DataFrame, moved_ids: pd.Series) -> pd.DataFrame:
    """Accounts moved per disruption class: ``class, accounts, open_pipeline``
    (idle first, then :data:`CLASSES`; an account counts in each class it is in)."""
    moving = classes.loc[classes["account_id"].isin(pd.Index(moved_ids.astype("string")))]
    flags = moving[list(CLASSES)].to_numpy(bool)
    idle = ~flags.any(axis=1)
    pipe = moving["open_pipeline"].to_numpy(float)
    rows = [(IDLE, int(idle.sum()), float(np.sort(pipe[idle]).sum()))]
    for j, name in enumerate(CLASSES):
        rows.append((CLASS_LABELS[name], int(flags[:, j].sum()), float(np.sort(pipe[flags[:, j]]).sum())))
    out = pd.DataFrame(rows, columns=["class", "accounts", "open_pipeline"])
    return out.astype({"class": "string"})


BALANCE_MEASURES: tuple[str, ...] = ("potential", "workload", "composite")


def balance_measure(tables: dict, params: Mapping[str, Any], settings: Mapping[str, Any]) -> pd.Series:
    """What the rebalancer balances, per account (indexed like ``accounts``),
    by ``settings["balance_on"]``:

    - ``potential``: the potential used (:func:`diligence.metrics.coverage.account_potential`);
    - ``workload``: the activities logged on the account in the
      ``active_window_days`` before T (any rep);
    - ``composite``: ``Σ w[k] × x[k] / mean(x[k]) / Σ w`` over potential,
      workload and ``bookings`` (won amount closed in the 365 days before T),
      with ``w = settings["balance_weights"]``: each part scaled so that the
      mean account scores 1 (a part that is 0 everywhere adds nothing), as
      ZS-style alignment indices combine them.
    """
    from diligence.metrics.coverage import account_potential

    accounts = tables["accounts"]
    how = settings.get("balance_on", "potential")
    potential = account_potential(accounts).astype(float).fillna(0.0)
    if how == "potential":
        return potential
    as_of = as_of_date(params)
    acts = tables.get("activities")
    workload = pd.Series(0.0, index=accounts.index)
    if acts is not None and len(acts):
        inside = within_days_before(acts["activity_date"], as_of, int(params["active_window_days"])).to_numpy(bool)
        counts = acts["account_id"][inside].value_counts()
        workload = lookup(accounts["account_id"], counts).astype(float).fillna(0.0)
    if how == "workload":
        return workload
    bookings = pd.Series(0.0, index=accounts.index)
    opps = tables.get("opportunities")
    if opps is not None and len(opps):
        close = column_or_blank(opps, "close_date", "datetime64[ns]")
        won = (won_mask(opps) & within_days_before(close, as_of, LOOKBACK_DAYS)).to_numpy(bool)
        amount = column_or_blank(opps, "amount", "Float64").astype("Float64").fillna(0.0)
        sums = amount[won].groupby(opps["account_id"][won], sort=False).sum()
        bookings = lookup(accounts["account_id"], sums).astype(float).fillna(0.0)
    weights = settings["balance_weights"]
    total = sum(float(weights[k]) for k in ("potential", "workload", "bookings")) or 1.0
    out = pd.Series(0.0, index=accounts.index)
    for key, part in (("potential", potential), ("workload", workload), ("bookings", bookings)):
        mean = float(part.mean()) if len(part) else 0.0
        if mean > 0:
            out = out + float(weights[key]) * part / mean
    return out / total
