"""Productivity: how much the reps sell, how fast new ones ramp and how many leave,
measured on the company's own history rather than assumed.

Definitions follow SPEC §3 (schema_version 2):

- **Quota-carrying rep at a date D**: quota > 0, ``hire_date`` blank or ≤ D,
  ``end_date`` blank or > D.
- **Eligible rep**: attainment defined (active and quota-carrying at T,
  employed the whole ``(T - 365d, T]``: :func:`diligence.metrics.balance.attainment`).
  **At quota**: attainment ≥ 1.
- **Top-fifth share**: eligible reps ordered by bookings, the first
  ``ceil(0.2 × n)``; their bookings / all eligible bookings (ties do not
  change the sum, so their order does not matter).
- **Realised attrition**: reps with quota > 0 whose ``end_date`` falls in
  ``(T - 365d, T]`` / the mean of the quota-carrying headcounts at T − 365d
  and at T.
- **Months to first win**: reps with quota > 0 hired in ``(T - 730d, T - 180d]``;
  days from ``hire_date`` to the earliest ``close_date`` of a won opportunity
  they own with ``hire_date ≤ close_date ≤ T``, / 30.44. Reps without such a
  win are left out of the median and counted.
- **Sales cycle** of a won opportunity closed in ``(T - 365d, T]``:
  ``close_date − created_date`` in days.
- **Potential–bookings rank correlation**: Spearman (average ranks for ties)
  over all accounts between the potential used and the account's won
  bookings closed in ``(T - 365d, T]`` (0 when none); None when either side is
  constant.

Beyond the SPEC, for the capacity plan (module :mod:`diligence.scenarios.capacity_plan`):

- **Implied ramp** of a recent hire (the ramp cohort above): the ramp length R
  (months) of the plan's linear ramp that reproduces its cumulative bookings
  B over its m months of tenure, given the tenured pace p: the median
  monthly bookings (365-day bookings / 12) of the eligible reps of its
  segment, or of all eligible reps when its segment has fewer than two. With x = B / (p·m): R = 2m(1 − x) when x ≥ ½ (ramped before
  today), R = m / (2x) when 0 < x < ½ (still ramping); no bookings at all
  gives no estimate. The median over the cohort is the observed ramp.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from diligence.metrics.balance import attainment
from diligence.metrics.coverage import (
    account_potential,
    account_segment,
    active_rep_mask,
    as_of_date,
    column_or_blank,
    label_blanks,
    lookup,
    order_free_sum,
    quota_carrying_mask,
    share,
    within_days_before,
)
from diligence.metrics.memo import once_per_tables
from diligence.metrics.pipeline import LOOKBACK_DAYS, closed_in_window, outcomes_known, won_mask

MONTH_DAYS = 30.44
#: The ramp cohort: hired in (T - 730d, T - 180d].
COHORT_OLDEST_DAYS, COHORT_NEWEST_DAYS = 730, 180
TOP_SHARE = 0.2
MAX_RAMP_MONTHS = 36.0  # an implied ramp beyond three years says "not ramping", not a length


def quota_carrying_at(reps: pd.DataFrame, date: pd.Timestamp) -> pd.Series:
    """Boolean mask of reps quota-carrying at ``date`` (quota > 0 and employed then)."""
    return (active_rep_mask(reps, date) & quota_carrying_mask(reps)).astype(bool)


def _wins(tables: dict) -> pd.DataFrame | None:
    """Won opportunities with an owner: ``owner, amount, created_date, close_date``; None without the data."""
    opps = tables.get("opportunities")
    if not outcomes_known(opps):
        return None
    won = won_mask(opps)
    return pd.DataFrame(
        {
            "owner": column_or_blank(opps, "owner_rep_id"),
            "account_id": opps["account_id"],
            "amount": opps["amount"].fillna(0.0).astype(float),
            "created_date": opps["created_date"],
            "close_date": opps["close_date"],
        }
    ).loc[won]


# --- Attainment against quota ----------------------------------------------


@once_per_tables()
def eligible_attainment(tables: dict, params: dict) -> pd.DataFrame:
    """Attainment of the eligible reps, best first.

    Columns of :func:`~diligence.metrics.balance.attainment` (eligible reps
    with a measured attainment only), plus ``at_quota`` (attainment ≥ 1),
    ``rank`` (1 = most bookings; ties by rep_id) and ``top_fifth`` (among the
    first ``ceil(0.2 n)``). Empty without usable opportunities.
    """
    att = attainment(tables, params)
    att = att.loc[att["eligible"].astype(bool) & att["attainment"].notna()]
    att = att.sort_values(["bookings", "rep_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    n = len(att)
    return att.assign(
        at_quota=(att["attainment"] >= 1.0).astype(bool),
        rank=np.arange(1, n + 1),
        top_fifth=np.arange(n) < math.ceil(TOP_SHARE * n),
    )


def bookings_concentration(tables: dict, params: dict) -> pd.DataFrame:
    """Lorenz-style curve of bookings over eligible reps, best first.

    Columns: ``rank, rep_id, rep_name, bookings, reps_share`` (cumulative share
    of reps) and ``bookings_share`` (cumulative share of bookings; blank when
    eligible bookings are 0).
    """
    att = eligible_attainment(tables, params)
    total = order_free_sum(att["bookings"])
    n = len(att)
    return pd.DataFrame(
        {
            "rank": att["rank"],
            "rep_id": att["rep_id"],
            "rep_name": att["rep_name"],
            "bookings": att["bookings"].astype(float),
            "reps_share": att["rank"] / n if n else att["rank"].astype(float),
            "bookings_share": att["bookings"].cumsum() / total if total else np.nan,
        }
    )


# --- Attrition ---------------------------------------------------------------


def departures(tables: dict, params: dict, days: int = 2 * LOOKBACK_DAYS) -> pd.DataFrame:
    """Reps with quota > 0 who left in the ``days`` before T.

    Columns: ``rep_id, rep_name, segment, role, hire_date, end_date, quarter``
    (calendar quarter of ``end_date``, e.g. ``2025Q3``), ``tenure_months``
    (blank without a hire date) and ``in_last_year`` (``end_date`` in the 365
    days before T: the departures behind realised attrition). Sorted by
    end_date then rep_id. Empty without an ``end_date`` column.
    """
    reps = tables["reps"]
    columns = ["rep_id", "rep_name", "segment", "role", "hire_date", "end_date", "quarter", "tenure_months"]
    if "end_date" not in reps:
        return pd.DataFrame(columns=[*columns, "in_last_year"])
    as_of = as_of_date(params)
    left = quota_carrying_mask(reps) & within_days_before(reps["end_date"], as_of, days)
    out = reps.loc[left]
    hire = column_or_blank(out, "hire_date", "datetime64[ns]").astype("datetime64[ns]")
    frame = pd.DataFrame(
        {
            "rep_id": out["rep_id"],
            "rep_name": out["rep_name"],
            "segment": label_blanks(column_or_blank(out, "segment")),
            "role": column_or_blank(out, "role"),
            "hire_date": hire,
            "end_date": out["end_date"],
            "quarter": out["end_date"].dt.to_period("Q").astype(str).astype("string"),
            "tenure_months": (out["end_date"] - hire).dt.days / MONTH_DAYS,
        }
    )
    frame["in_last_year"] = within_days_before(frame["end_date"], as_of, LOOKBACK_DAYS)
    return frame.sort_values(["end_date", "rep_id"], kind="stable").reset_index(drop=True)


def realised_attrition(tables: dict, params: dict) -> dict[str, float | int | None]:
    """Realised attrition of the year before T and its parts.

    ``leavers`` (quota > 0, ``end_date`` in ``(T - 365d, T]``),
    ``headcount_start`` and ``headcount_end`` (quota-carrying at T − 365d and
    at T) and ``rate`` (leavers / their mean; None with a zero mean). All None
    without an ``end_date`` column.
    """
    reps = tables["reps"]
    if "end_date" not in reps:
        return dict.fromkeys(("leavers", "headcount_start", "headcount_end", "rate"))
    as_of = as_of_date(params)
    start = int(quota_carrying_at(reps, as_of - pd.Timedelta(days=LOOKBACK_DAYS)).sum())
    end = int(quota_carrying_at(reps, as_of).sum())
    leavers = int((quota_carrying_mask(reps) & within_days_before(reps["end_date"], as_of, LOOKBACK_DAYS)).sum())
    return {
        "leavers": leavers,
        "headcount_start": start,
        "headcount_end": end,
        "rate": share(leavers, (start + end) / 2),
    }


def attrition_by_quarter(tables: dict, params: dict) -> pd.DataFrame:
    """Departures of the two years before T by calendar quarter and segment.

    Columns: ``quarter, segment, departures, tenure_months_median``.
    """
    dep = departures(tables, params)
    if dep.empty:
        return pd.DataFrame(columns=["quarter", "segment", "departures", "tenure_months_median"])
    return (
        dep.groupby(["quarter", "segment"], sort=True)
        .agg(departures=("rep_id", "size"), tenure_months_median=("tenure_months", "median"))
        .reset_index()
    )


# --- Ramp ----------------------------------------------------------------------


def ramp_cohort(tables: dict, params: dict) -> pd.DataFrame:
    """The reps behind months to first win and the implied ramp.

    Reps with quota > 0 hired in ``(T - 730d, T - 180d]``. Columns: ``rep_id,
    rep_name, segment, hire_date, end_date, tenure_months`` (to T, or to their
    end date when they left), ``first_win_date`` (earliest won close date in
    ``[hire_date, T]``), ``months_to_first_win``, ``bookings_since_hire``
    (won in ``[hire_date, min(T, end_date)]``) and ``implied_ramp_months``
    (module notes; blank without wins or without tenured reps to compare
    with). Sorted by hire_date then rep_id.
    """
    reps = tables["reps"]
    as_of = as_of_date(params)
    columns = [
        "rep_id",
        "rep_name",
        "segment",
        "hire_date",
        "end_date",
        "tenure_months",
        "first_win_date",
        "months_to_first_win",
        "bookings_since_hire",
        "implied_ramp_months",
    ]
    if "hire_date" not in reps:
        return pd.DataFrame(columns=columns)
    hire = reps["hire_date"]
    in_cohort = (
        quota_carrying_mask(reps)
        & (hire > as_of - pd.Timedelta(days=COHORT_OLDEST_DAYS)).fillna(False)
        & (hire <= as_of - pd.Timedelta(days=COHORT_NEWEST_DAYS)).fillna(False)
    )
    cohort = reps.loc[in_cohort]
    end = column_or_blank(cohort, "end_date", "datetime64[ns]").astype("datetime64[ns]")
    until = end.where(end < as_of, as_of).fillna(as_of)
    out = pd.DataFrame(
        {
            "rep_id": cohort["rep_id"],
            "rep_name": cohort["rep_name"],
            "segment": label_blanks(column_or_blank(cohort, "segment")),
            "hire_date": cohort["hire_date"],
            "end_date": end,
            "tenure_months": (until - cohort["hire_date"]).dt.days / MONTH_DAYS,
        }
    )
    wins = _wins(tables)
    if wins is None or "owner_rep_id" not in tables["opportunities"]:
        out["first_win_date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        out["months_to_first_win"] = np.nan
        out["bookings_since_hire"] = np.nan
        out["implied_ramp_months"] = np.nan
        return out.sort_values(["hire_date", "rep_id"], kind="stable").reset_index(drop=True)[columns]
    w = wins.loc[wins["owner"].isin(out["rep_id"])]
    w = w.assign(hire=lookup(w["owner"], out.set_index("rep_id")["hire_date"]).astype("datetime64[ns]"))
    w = w.loc[(w["close_date"] >= w["hire"]) & (w["close_date"] <= as_of)]
    first = w.groupby("owner")["close_date"].min()
    out["first_win_date"] = lookup(out["rep_id"], first).astype("datetime64[ns]")
    out["months_to_first_win"] = (out["first_win_date"] - out["hire_date"]).dt.days / MONTH_DAYS
    w = w.assign(until=lookup(w["owner"], pd.Series(until.to_numpy(), index=out["rep_id"])).astype("datetime64[ns]"))
    since = w.loc[w["close_date"] <= w["until"]].sort_values("amount", kind="stable").groupby("owner")["amount"].sum()
    out["bookings_since_hire"] = out["rep_id"].map(since).astype(float).fillna(0.0)
    monthly = tenured_pace(tables, params, out["segment"])
    out["implied_ramp_months"] = implied_ramp(out["bookings_since_hire"], out["tenure_months"], monthly)
    return out.sort_values(["hire_date", "rep_id"], kind="stable").reset_index(drop=True)[columns]


def tenured_pace(tables: dict, params: dict, segments: pd.Series) -> pd.Series:
    """Monthly bookings of a tenured rep for each entry of ``segments`` (labels
    as :func:`~diligence.metrics.coverage.label_blanks` writes them).

    The median 365-day bookings / 12 of the eligible reps of that segment when
    it has at least two, else of all eligible reps; blank without eligible reps.
    """
    att = eligible_attainment(tables, params)
    if att.empty:
        return pd.Series(np.nan, index=segments.index)
    reps = tables["reps"]
    seg_of = pd.Series(label_blanks(column_or_blank(reps, "segment")).to_numpy(), index=reps["rep_id"].to_numpy())
    by = att.assign(seg=att["rep_id"].map(seg_of)).groupby("seg")["bookings"].agg(["median", "size"])
    per_segment = by.loc[by["size"] >= 2, "median"]
    overall = float(att["bookings"].median())
    return segments.map(per_segment).astype(float).fillna(overall) / 12


def implied_ramp(bookings: pd.Series, tenure_months: pd.Series, monthly: float | pd.Series | None) -> pd.Series:
    """Ramp length (months) of a linear ramp that reproduces ``bookings`` over
    ``tenure_months`` at ``monthly`` bookings once ramped (module notes).

    Blank where there are no bookings, no tenure, or no positive ``monthly``;
    capped at :data:`MAX_RAMP_MONTHS`.
    """
    b = bookings.to_numpy(float)
    m = tenure_months.to_numpy(float)
    p = np.broadcast_to(np.asarray(np.nan if monthly is None else monthly, dtype=float), b.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = b / (p * m)
        ramp = np.where(x >= 0.5, 2 * m * (1 - np.minimum(x, 1.0)), m / (2 * x))
    ramp = np.where((b > 0) & (m > 0) & (p > 0), np.minimum(ramp, MAX_RAMP_MONTHS), np.nan)
    return pd.Series(ramp, index=bookings.index, dtype=float)


def ramp_curves(tables: dict, params: dict) -> pd.DataFrame:
    """Cumulative bookings of each ramp-cohort rep by month since hire.

    Columns: ``rep_id, rep_name, segment, month`` (1 = the first 30.44 days
    after hire), ``cumulative_bookings``, ``tenured_pace`` (month × the
    segment's tenured monthly bookings, :func:`tenured_pace`: where a rep hired
    fully productive would stand) and ``tenured_months_booked`` (cumulative
    bookings in months of a tenured rep's bookings: reps of all segments on one
    scale, the line y = month being full productivity from day one). Months
    run to the rep's tenure at T (or at departure). Empty without wins or
    cohort.
    """
    cohort = ramp_cohort(tables, params)
    columns = ["rep_id", "rep_name", "segment", "month", "cumulative_bookings", "tenured_pace", "tenured_months_booked"]
    wins = _wins(tables)
    cohort = cohort.loc[cohort["tenure_months"] >= 1]
    if wins is None or cohort.empty:
        return pd.DataFrame(columns=columns)
    months = np.floor(cohort["tenure_months"].to_numpy(float)).astype(int)
    grid = pd.DataFrame(
        {
            "rep_id": np.repeat(cohort["rep_id"].to_numpy(object), months),
            "rep_name": np.repeat(cohort["rep_name"].to_numpy(object), months),
            "segment": np.repeat(cohort["segment"].to_numpy(object), months),
            "month": np.concatenate([np.arange(1, k + 1) for k in months]),
        }
    )
    as_of = as_of_date(params)
    hire = cohort.set_index("rep_id")["hire_date"]
    w = wins.loc[wins["owner"].isin(cohort["rep_id"])]
    w = w.assign(hire=lookup(w["owner"], hire).astype("datetime64[ns]"))
    w = w.loc[(w["close_date"] >= w["hire"]) & (w["close_date"] <= as_of)]
    w = w.assign(month=np.floor((w["close_date"] - w["hire"]).dt.days / MONTH_DAYS).astype(int) + 1)
    per_month = w.sort_values("amount", kind="stable").groupby(["owner", "month"])["amount"].sum()
    per_month.index = per_month.index.set_names(["rep_id", "month"])
    grid = grid.merge(per_month.rename("amount").reset_index(), on=["rep_id", "month"], how="left")
    grid["cumulative_bookings"] = grid["amount"].fillna(0.0).groupby(grid["rep_id"]).cumsum()
    monthly = tenured_pace(tables, params, grid["segment"])
    grid["tenured_pace"] = grid["month"] * monthly
    grid["tenured_months_booked"] = grid["cumulative_bookings"] / monthly.where(monthly > 0)
    for c in ("rep_id", "rep_name", "segment"):
        grid[c] = grid[c].astype("string")
    return grid[columns]


# --- Sales cycle and potential ---------------------------------------------------


def sales_cycles(tables: dict, params: dict) -> pd.DataFrame:
    """Won opportunities closed in the 365 days before T and their sales cycle.

    Columns: ``opportunity_id, account_id, segment`` (the account's),
    ``amount, created_date, close_date, cycle_days``. Empty without
    usable opportunities.
    """
    columns = ["opportunity_id", "account_id", "segment", "amount", "created_date", "close_date", "cycle_days"]
    opps = tables.get("opportunities")
    if not outcomes_known(opps):
        return pd.DataFrame(columns=columns)
    as_of = as_of_date(params)
    won = opps.loc[closed_in_window(opps, as_of) & won_mask(opps)]
    out = pd.DataFrame(
        {
            "opportunity_id": won["opportunity_id"],
            "account_id": won["account_id"],
            "segment": account_segment(won, tables["accounts"]),
            "amount": won["amount"].fillna(0.0).astype(float),
            "created_date": won["created_date"],
            "close_date": won["close_date"],
            "cycle_days": (won["close_date"] - won["created_date"]).dt.days.astype(float),
        }
    )
    return out.reset_index(drop=True)[columns]


def median_sales_cycle(tables: dict, params: dict) -> float | None:
    """Median sales cycle in days of the last year's wins (:func:`sales_cycles`); None without any."""
    opps = tables.get("opportunities")
    if not outcomes_known(opps):
        return None
    won = closed_in_window(opps, as_of_date(params)) & won_mask(opps)
    cycles = (opps.loc[won, "close_date"] - opps.loc[won, "created_date"]).dt.days.dropna()
    return float(cycles.median()) if len(cycles) else None


def sales_cycle_by_segment(tables: dict, params: dict) -> pd.DataFrame:
    """Sales cycle of the last year's wins by account segment.

    Columns: ``segment, won, cycle_days_median, cycle_days_p25,
    cycle_days_p75, won_amount``.
    """
    cycles = sales_cycles(tables, params)
    columns = ["segment", "won", "cycle_days_median", "cycle_days_p25", "cycle_days_p75", "won_amount"]
    if cycles.empty:
        return pd.DataFrame(columns=columns)
    return (
        cycles.sort_values("amount", kind="stable")
        .groupby("segment", sort=True)
        .agg(
            won=("opportunity_id", "size"),
            cycle_days_median=("cycle_days", "median"),
            cycle_days_p25=("cycle_days", lambda s: s.quantile(0.25)),
            cycle_days_p75=("cycle_days", lambda s: s.quantile(0.75)),
            won_amount=("amount", "sum"),
        )
        .reset_index()[columns]
    )


def account_bookings(tables: dict, params: dict) -> pd.Series | None:
    """Won bookings of each account closed in the 365 days before T (0 when
    none), indexed like accounts; None without usable opportunities."""
    opps = tables.get("opportunities")
    if not outcomes_known(opps):
        return None
    won = opps.loc[closed_in_window(opps, as_of_date(params)) & won_mask(opps)]
    per = (
        pd.DataFrame({"account_id": won["account_id"], "amount": won["amount"].fillna(0.0).astype(float)})
        .sort_values("amount", kind="stable")
        .groupby("account_id")["amount"]
        .sum()
    )
    accounts = tables["accounts"]
    return accounts["account_id"].map(per).astype(float).fillna(0.0).rename("bookings")


def potential_bookings_rank_corr(tables: dict, params: dict) -> float | None:
    """Spearman rank correlation (average ranks) of the potential used with
    last year's won bookings, over all accounts; None when either is constant
    or there are no usable opportunities."""
    bookings = account_bookings(tables, params)
    if bookings is None:
        return None
    potential = account_potential(tables["accounts"])
    if potential.nunique() < 2 or bookings.nunique() < 2:
        return None
    rp = potential.rank(method="average").to_numpy(float)
    rb = bookings.rank(method="average").to_numpy(float)
    value = float(np.corrcoef(rp, rb)[0, 1])
    return value if math.isfinite(value) else None


# --- Metrics -----------------------------------------------------------------------


def metrics(tables: dict, params: dict) -> dict[str, float | int | None]:
    """Productivity metrics of SPEC §4 (schema 2).

    ``reps_at_quota_pct, top_fifth_bookings_share, annual_attrition_observed,
    months_to_first_win_median, potential_bookings_rank_corr`` (the sales
    cycle is recorded with pipeline quality, which it ages); extras ``eligible_reps``,
    ``reps_at_quota``, ``attrition_leavers_365d``, ``quota_carrying_reps`` (at T;
    None without an end_date column), ``ramp_cohort_reps``,
    ``ramp_cohort_without_win``, ``ramp_months_observed`` (median implied
    ramp), ``ramp_months_observed_reps``, ``won_deals_365d_with_cycle``.
    """
    att = eligible_attainment(tables, params)
    n = len(att)
    total = order_free_sum(att["bookings"])
    top = order_free_sum(att.loc[att["top_fifth"], "bookings"])
    attrition = realised_attrition(tables, params)
    cohort = ramp_cohort(tables, params)
    first = cohort["months_to_first_win"].dropna()
    ramp = cohort["implied_ramp_months"].dropna()
    cycles = sales_cycles(tables, params)["cycle_days"].dropna()
    return {
        "reps_at_quota_pct": share(int(att["at_quota"].sum()), n),
        "top_fifth_bookings_share": share(top, total) if n else None,
        "annual_attrition_observed": attrition["rate"],
        "months_to_first_win_median": float(first.median()) if len(first) else None,
        "potential_bookings_rank_corr": potential_bookings_rank_corr(tables, params),
        "eligible_reps": int(n) if outcomes_known(tables.get("opportunities")) else None,
        "reps_at_quota": int(att["at_quota"].sum()) if n else None,
        "attrition_leavers_365d": attrition["leavers"],
        "quota_carrying_reps": attrition["headcount_end"],
        "ramp_cohort_reps": int(len(cohort)),
        "ramp_cohort_without_win": int(cohort["months_to_first_win"].isna().sum()),
        "ramp_months_observed": float(ramp.median()) if len(ramp) else None,
        "ramp_months_observed_reps": int(len(ramp)),
        "won_deals_365d_with_cycle": int(len(cycles)),
    }
