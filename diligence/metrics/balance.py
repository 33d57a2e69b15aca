"""Balance: are comparable territories comparable in opportunity and in result?

Definitions follow SPEC §3:

- **Comparable territories**: the books of active, quota-carrying (quota > 0)
  reps with the same values of ``comparable_by`` (default segment and role); a
  ``comparable_by`` column absent from reps is ignored, and with none present
  all such reps form one group. A rep blank in a grouping column belongs to no
  group (its peers are unknown). A group needs at least two reps.
- **Book** of a rep: the accounts it owns; book potential per
  :func:`diligence.metrics.coverage.account_potential`.
- **Attainment**: bookings / quota, bookings = amount of won opportunities
  owned by the rep with ``close_date`` in ``(T - 365d, T]``. Only reps employed
  for that whole window are *eligible*: ``hire_date`` blank or on/before
  ``T - 365d`` (and active at T). Attainment statistics of a group use its
  eligible reps and need at least two of them.

A group whose minimum is 0 while its maximum is positive has an infinite
max/min ratio: it is the worst group of all, and the ratio metric is None
(``attainment_zero_min_groups`` / ``potential_zero_min_groups`` count such
groups so that flags can still trigger on them).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from diligence.metrics.coverage import (
    account_potential,
    active_quota_reps,
    as_of_date,
    column_or_blank,
    share,
    sorted_by_value,
    within_days_before,
)
from diligence.metrics.memo import once_per_tables
from diligence.metrics.pipeline import (
    LOOKBACK_DAYS,
    closed_in_window,
    open_mask,
    outcomes_known,
    pipeline_coverage,
    won_mask,
)

GROUP_SEPARATOR = " / "


def comparable_dimensions(reps: pd.DataFrame, params: dict) -> list[str]:
    """The ``comparable_by`` parameters that are columns of reps, in order."""
    return [c for c in params["comparable_by"] if c in reps]


def _quota_reps(tables: dict, params: dict) -> pd.DataFrame:
    """Active quota-carrying reps (sorted by rep_id) with their comparable group.

    ``group`` is the label of the rep's comparable group (keys joined by
    `` / ``, ``all`` without dimensions), blank when the rep is blank in a
    dimension or alone in its group; ``group_reps`` counts reps with the same
    keys.
    """
    reps = active_quota_reps(tables["reps"], as_of_date(params))
    dims = comparable_dimensions(reps, params)
    out = pd.DataFrame({"rep_id": reps["rep_id"], "rep_name": reps["rep_name"]})
    for d in dims:
        out[d] = reps[d].astype("string")
    if dims:
        keyed = out[dims].notna().all(axis=1)
        label = out[dims[0]]
        for d in dims[1:]:
            label = label + GROUP_SEPARATOR + out[d]
        label = label.where(keyed)
    else:
        label = pd.Series("all", index=out.index, dtype="string")
    size = label.map(label.value_counts()).astype("Int64")
    out["group"] = label.where(size >= 2).astype("string")
    out["group_reps"] = size
    out["hire_date"] = column_or_blank(reps, "hire_date", "datetime64[ns]").astype("datetime64[ns]")
    out["quota"] = column_or_blank(reps, "quota", "Float64").astype(float)
    return out


@once_per_tables()
def attainment(tables: dict, params: dict) -> pd.DataFrame:
    """Attainment of each active, quota-carrying rep (SPEC §3).

    Columns: ``rep_id, rep_name``, the comparable dimensions, ``group``
    (blank when not in a comparable group), ``group_reps``, ``hire_date,
    quota, bookings`` (won in ``(T - 365d, T]``), ``attainment`` (bookings /
    quota) and ``eligible`` (employed the whole window: ``hire_date`` blank or
    on/before ``T - 365d``). Bookings and attainment are blank without usable
    opportunities (an ``owner_rep_id``, a ``close_date`` and known outcomes).
    Sorted by ``rep_id``.
    """
    as_of = as_of_date(params)
    out = _quota_reps(tables, params)
    opps = tables.get("opportunities")
    if outcomes_known(opps) and "owner_rep_id" in opps:
        won = closed_in_window(opps, as_of) & won_mask(opps)
        wins = (
            sorted_by_value(
                pd.DataFrame({"owner": opps["owner_rep_id"], "amount": opps["amount"].fillna(0.0)}).loc[won], "amount"
            )
            .groupby("owner", sort=False)["amount"]
            .sum()
        )
        out["bookings"] = out["rep_id"].map(wins).astype(float).fillna(0.0)
    else:
        out["bookings"] = np.nan
    out["attainment"] = out["bookings"] / out["quota"]
    start = as_of - pd.Timedelta(days=LOOKBACK_DAYS)
    out["eligible"] = (out["hire_date"].isna() | (out["hire_date"] <= start)).astype(bool)
    return out


def book_potential(tables: dict, params: dict) -> pd.DataFrame:
    """Book of each active, quota-carrying rep: accounts owned and their potential.

    Columns: ``rep_id, rep_name``, the comparable dimensions, ``group,
    group_reps, accounts, potential``. Accounts and potential are blank when
    accounts have no ``owner_rep_id`` column. Sorted by ``rep_id``.
    """
    out = _quota_reps(tables, params).drop(columns=["hire_date", "quota"])
    accounts = tables["accounts"]
    if "owner_rep_id" in accounts:
        books = (
            sorted_by_value(
                pd.DataFrame({"owner": accounts["owner_rep_id"], "potential": account_potential(accounts)}), "potential"
            )
            .groupby("owner", sort=False)["potential"]
            .agg(["size", "sum"])
        )
        out["accounts"] = out["rep_id"].map(books["size"]).fillna(0).astype("Int64")
        out["potential"] = out["rep_id"].map(books["sum"]).astype(float).fillna(0.0)
    else:
        out["accounts"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["potential"] = np.nan
    return out


def _spread(values: pd.DataFrame, column: str, prefix: str) -> pd.DataFrame:
    """Per group: count, min, max, mean, population CV, max/min ratio, zero-min flag.

    Statistics need at least two values; the ratio is blank when min is 0, the
    CV when the mean is 0.
    """
    data = values.loc[values["group"].notna() & values[column].notna(), ["group", column]]
    grouped = data.groupby("group", sort=True)[column]
    out = pd.DataFrame(
        {
            f"{prefix}_reps": grouped.size(),
            f"{prefix}_min": grouped.min(),
            f"{prefix}_max": grouped.max(),
            f"{prefix}_mean": grouped.mean(),
            "_std": grouped.std(ddof=0),
        }
    )
    enough = out[f"{prefix}_reps"] >= 2
    out.loc[~enough, [f"{prefix}_min", f"{prefix}_max", f"{prefix}_mean", "_std"]] = np.nan
    mean, low, high = out[f"{prefix}_mean"], out[f"{prefix}_min"], out[f"{prefix}_max"]
    out[f"{prefix}_cv"] = out.pop("_std") / mean.where(mean > 0)
    out[f"{prefix}_ratio"] = high / low.where(low > 0)
    out[f"{prefix}_zero_min"] = ((low == 0) & (high > 0)).astype(bool)
    return out


def comparable_groups(tables: dict, params: dict) -> pd.DataFrame:
    """One row per comparable group: how far apart its reps are.

    Columns: the comparable dimensions, ``group, reps``; attainment over
    eligible reps: ``attainment_reps, attainment_min, attainment_max,
    attainment_mean, attainment_cv`` (population std / mean),
    ``attainment_ratio`` (max / min, blank when min is 0),
    ``attainment_zero_min`` (min 0 while max > 0); book potential over all the
    group's reps: ``potential_reps, potential_min, ..., potential_zero_min``
    and ``zero_potential_books`` (reps with no potential in a group where
    others have some). Statistics are blank with fewer than two values.
    Sorted by group.
    """
    att = attainment(tables, params)
    books = book_potential(tables, params)
    dims = comparable_dimensions(tables["reps"], params)
    members = att.loc[att["group"].notna()]
    base = members.groupby("group", sort=True).agg(reps=("rep_id", "size"), **{d: (d, "first") for d in dims})
    att_stats = _spread(att.loc[att["eligible"]], "attainment", "attainment")
    pot_stats = _spread(books, "potential", "potential")
    out = base.join(att_stats, how="left").join(pot_stats, how="left")
    zero = (
        books.loc[books["group"].notna()]
        .assign(zero=lambda f: (f["potential"] == 0) & f["group"].map(pot_stats["potential_max"]).gt(0))
        .groupby("group")["zero"]
        .sum()
    )
    out["zero_potential_books"] = zero.reindex(out.index).fillna(0).astype(int)
    for col in ("attainment_reps", "potential_reps"):
        out[col] = out[col].fillna(0).astype(int)
    for col in ("attainment_zero_min", "potential_zero_min"):
        out[col] = out[col].astype("boolean").fillna(False).astype(bool)
    return out.reset_index()[dims + ["group"] + [c for c in out.columns if c not in dims]]


def pipeline_load(tables: dict, params: dict) -> pd.DataFrame:
    """Each active, quota-carrying rep's open pipeline against quota, and win rate.

    ``open_pipeline`` = amount of all its open opportunities (any expected
    close date); ``pipeline_to_quota`` = open pipeline / quota; ``heavy`` marks
    the top quartile of that load (the ``ceil(n / 4)`` heaviest, ties by
    ``rep_id``; none with fewer than 4 reps). ``closed`` / ``won`` count its
    opportunities closed in ``(T - 365d, T]``; ``win_rate`` = won / closed.
    Blank without usable opportunities. Sorted by ``rep_id``.
    """
    as_of = as_of_date(params)
    reps = _quota_reps(tables, params)
    out = reps[["rep_id", "rep_name", "group", "quota"]].copy()
    opps = tables.get("opportunities")
    if not (outcomes_known(opps) and "owner_rep_id" in opps):
        for col in ("open_pipeline", "pipeline_to_quota", "win_rate"):
            out[col] = np.nan
        out["closed"] = out["won"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["heavy"] = pd.array([pd.NA] * len(out), dtype="boolean")
        return out[
            [
                "rep_id",
                "rep_name",
                "group",
                "quota",
                "open_pipeline",
                "pipeline_to_quota",
                "heavy",
                "closed",
                "won",
                "win_rate",
            ]
        ]
    data = pd.DataFrame(
        {
            "owner": opps["owner_rep_id"],
            "amount": opps["amount"].fillna(0.0),
            "open": open_mask(opps, as_of).astype(int),
            "closed": closed_in_window(opps, as_of).astype(int),
        }
    )
    data["won"] = (data["closed"].astype(bool) & won_mask(opps)).astype(int)
    data["open_amount"] = data["amount"].where(data["open"].astype(bool), 0.0)
    per_rep = sorted_by_value(data, "open_amount").groupby("owner", sort=False)[["open_amount", "closed", "won"]].sum()
    out["open_pipeline"] = out["rep_id"].map(per_rep["open_amount"]).astype(float).fillna(0.0)
    out["pipeline_to_quota"] = out["open_pipeline"] / out["quota"]
    out["closed"] = out["rep_id"].map(per_rep["closed"]).fillna(0).astype("Int64")
    out["won"] = out["rep_id"].map(per_rep["won"]).fillna(0).astype("Int64")
    out["win_rate"] = (out["won"] / out["closed"].where(out["closed"] > 0)).astype(float)
    n_heavy = math.ceil(len(out) / 4) if len(out) >= 4 else 0
    rank = out.sort_values(["pipeline_to_quota", "rep_id"], ascending=[False, True], kind="stable").index[:n_heavy]
    out["heavy"] = out.index.isin(rank)
    return out[
        [
            "rep_id",
            "rep_name",
            "group",
            "quota",
            "open_pipeline",
            "pipeline_to_quota",
            "heavy",
            "closed",
            "won",
            "win_rate",
        ]
    ]


def pipeline_load_vs_win_rate(tables: dict, params: dict) -> pd.DataFrame:
    """Win rate of the reps carrying the heaviest pipelines against the rest.

    Oversized books tend to be worked less well; ``win_rate_index`` sets the
    company beside the 1.37× (balanced) / 0.87× (oversized) benchmark. Cohorts from :func:`pipeline_load`: ``heavy``
    (top quartile of open pipeline / quota) and ``rest``. Columns: ``cohort,
    reps, open_pipeline, median_pipeline_quota_ratio, closed, won, win_rate``
    (pooled counts) and ``win_rate_index`` (cohort win rate / the win rate of
    all these reps together). Empty with fewer than 4 reps or without usable
    opportunities.
    """
    load = pipeline_load(tables, params)
    columns = [
        "cohort",
        "reps",
        "open_pipeline",
        "median_pipeline_quota_ratio",
        "closed",
        "won",
        "win_rate",
        "win_rate_index",
    ]
    if not load["heavy"].fillna(False).astype(bool).any():
        return pd.DataFrame(columns=columns)
    cohort = np.where(load["heavy"].astype(bool), "heavy", "rest")
    grouped = load.assign(cohort=cohort).groupby("cohort", sort=True)
    out = pd.DataFrame(
        {
            "reps": grouped.size(),
            "open_pipeline": grouped["open_pipeline"].apply(lambda v: float(np.sort(v.to_numpy(float)).sum())),
            "median_pipeline_quota_ratio": grouped["pipeline_to_quota"].median(),
            "closed": grouped["closed"].sum().astype(int),
            "won": grouped["won"].sum().astype(int),
        }
    )
    out["win_rate"] = out["won"] / out["closed"].where(out["closed"] > 0)
    overall = share(int(load["won"].sum()), int(load["closed"].sum()))
    out["win_rate_index"] = out["win_rate"] / overall if overall else np.nan
    return out.reset_index()[columns]


def _worst_ratio(groups: pd.DataFrame, prefix: str) -> float | None:
    """Worst group's max / min: None when a group has min 0 and max > 0 (the
    worst of all) or when no group has a ratio."""
    if groups[f"{prefix}_zero_min"].any():
        return None
    ratios = groups[f"{prefix}_ratio"].dropna()
    return float(ratios.max()) if len(ratios) else None


def metrics(tables: dict, params: dict) -> dict[str, float | int | None]:
    """Balance metrics of SPEC §4 and the extras the flags need.

    ``attainment_max_min_ratio`` (worst comparable group's max / min
    attainment; None when that min is 0), ``attainment_cv_max`` (largest
    population CV over groups; groups with mean 0 skipped),
    ``potential_max_min_ratio`` (worst group's max / min book potential; None
    when that min is 0); extras ``attainment_zero_min_groups`` (groups with
    min attainment 0 while max > 0, RF2 triggers on them),
    ``potential_zero_min_groups``, ``potential_zero_books`` (reps with an
    empty-potential book in a group where others have potential),
    ``comparable_groups`` (groups of ≥ 2 reps), ``attainment_eligible_reps``
    and ``heavy_pipeline_win_rate_ratio`` (win rate of the top-quartile
    pipeline load over the rest's). Counts are None when nothing could be
    measured.
    """
    groups = comparable_groups(tables, params)
    att = groups.loc[groups["attainment_reps"] >= 2]
    pot = groups.loc[groups["potential_reps"] >= 2]
    cohorts = pipeline_load_vs_win_rate(tables, params).set_index("cohort")
    heavy_ratio = None
    if len(cohorts) == 2:
        rest = cohorts.loc["rest", "win_rate"]
        heavy = cohorts.loc["heavy", "win_rate"]
        if pd.notna(heavy) and pd.notna(rest) and rest > 0:
            heavy_ratio = float(heavy / rest)
    cv = att["attainment_cv"].dropna()
    return {
        "attainment_max_min_ratio": _worst_ratio(att, "attainment"),
        "attainment_cv_max": float(cv.max()) if len(cv) else None,
        "attainment_zero_min_groups": int(att["attainment_zero_min"].sum()) if len(att) else None,
        "attainment_eligible_reps": int(att["attainment_reps"].sum()) if len(att) else None,
        "potential_max_min_ratio": _worst_ratio(pot, "potential"),
        "potential_zero_min_groups": int(pot["potential_zero_min"].sum()) if len(pot) else None,
        "potential_zero_books": int(pot["zero_potential_books"].sum()) if len(pot) else None,
        "comparable_groups": len(groups),
        "heavy_pipeline_win_rate_ratio": heavy_ratio,
    }


def rep_balance(tables: dict, params: dict) -> pd.DataFrame:
    """Each quota-carrying rep's attainment next to the potential of its book.

    :func:`attainment` and :func:`book_potential` joined on ``rep_id``, so a
    reader can see whether the best performers simply hold the richest books.
    """
    books = book_potential(tables, params)[["rep_id", "accounts", "potential"]]
    return attainment(tables, params).merge(books, on="rep_id", how="left", validate="one_to_one")


def territory_table(tables: dict, params: dict) -> pd.DataFrame:
    """One row per quota-carrying rep's territory: what it holds and what it returns.

    Columns: the :func:`rep_balance` columns (book ``accounts`` and
    ``potential``, ``bookings``, ``quota``, ``attainment``), then
    ``pipeline_coverage`` (see :func:`diligence.metrics.pipeline.pipeline_coverage`),
    ``closed`` and ``won`` (the rep's opportunities closed in the 365 days
    before T), ``win_rate`` (won / closed, counts), ``activities`` (logged by
    the rep in those 365 days) and ``activities_per_won_deal`` — the effort a
    territory costs for each deal it returns (blank without a won deal or
    without an activities table).
    """
    as_of = as_of_date(params)
    frame = rep_balance(tables, params)
    coverage = pipeline_coverage(tables, params)
    frame = frame.merge(
        coverage[["rep_id", "coverage"]].rename(columns={"coverage": "pipeline_coverage"}),
        on="rep_id",
        how="left",
    )
    opps = tables.get("opportunities")
    if opps is not None and outcomes_known(opps) and "owner_rep_id" in opps:
        closed = opps[closed_in_window(opps, as_of)]
        results = (
            closed.assign(won=won_mask(closed).astype(int))
            .groupby("owner_rep_id", observed=True)["won"]
            .agg(closed="size", won="sum")
            .rename_axis("rep_id")
            .reset_index()
        )
        frame = frame.merge(results, on="rep_id", how="left")
        frame[["closed", "won"]] = frame[["closed", "won"]].fillna(0).astype("int64")
        frame["win_rate"] = (frame["won"] / frame["closed"]).where(frame["closed"] > 0)
    acts = tables.get("activities")
    if acts is not None and "rep_id" in acts:
        recent = acts[within_days_before(acts["activity_date"], as_of, LOOKBACK_DAYS)]
        counts = recent.groupby("rep_id", observed=True).size().rename("activities").reset_index()
        frame = frame.merge(counts, on="rep_id", how="left")
        frame["activities"] = frame["activities"].fillna(0).astype("int64")
        if "won" in frame:
            frame["activities_per_won_deal"] = (frame["activities"] / frame["won"]).where(frame["won"] > 0)
    return frame.sort_values("rep_id", kind="stable").reset_index(drop=True)
