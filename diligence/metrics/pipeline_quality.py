"""Pipeline quality: how much of the pipeline behind coverage is real.

Definitions follow SPEC §3 (schema_version 2):

- **Near pipeline**: open opportunities (any owner, any channel) whose
  ``close_date`` falls in ``(T, T + 90d]``: the deals behind pipeline coverage.
- **Aged deal**: a near-pipeline deal with ``T − created_date`` > 2 × the
  median sales cycle (:func:`diligence.metrics.productivity.median_sales_cycle`).
- **Pushed deal**: a near-pipeline deal whose expected close date moved later
  at least twice: its ``opportunity_history`` rows with ``changed_date ≤ T``
  and a ``close_date``, ordered by ``changed_date`` (ties in file order, i.e.
  the table's row order), counting each row whose ``close_date`` is later
  than the previous such row's. A deal with no history was never pushed;
  history rows of unknown deals are ignored (intake warns about them).
- **Stale deal**: aged or pushed, each test applied where its data exists
  (aged needs a median sales cycle, pushed needs ``opportunity_history``).

``stale_pipeline_pct`` and ``pushed_pipeline_pct`` weigh deals by amount.
``quality_pipeline_coverage_median`` is pipeline coverage (SPEC §3) over the
near-pipeline deals that are not stale; where the SPEC is silent this module
makes it None when neither staleness test has its data (the quality of the
pipeline is then unknown, not perfect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diligence.metrics.coverage import (
    account_segment,
    as_of_date,
    column_or_blank,
    label_blanks,
    lookup_in,
    member_of,
    order_free_sum,
    share,
    within_days_after,
)
from diligence.metrics.memo import once_per_tables
from diligence.metrics.pipeline import (
    HORIZON_DAYS,
    closed_in_window,
    open_mask,
    outcomes_known,
    pipeline_assessable,
    pipeline_coverage,
    won_mask,
)
from diligence.metrics.productivity import median_sales_cycle

PUSHES_FOR_PUSHED = 2
AGE_MULTIPLE = 2.0
FRESH, AGED, PUSHED, AGED_AND_PUSHED = "fresh", "aged", "pushed", "aged and pushed"
STATUSES = (FRESH, AGED, PUSHED, AGED_AND_PUSHED)


def history_assessable(tables: dict) -> bool:
    """Whether pushes can be counted: an ``opportunity_history`` table with a ``close_date`` column."""
    history = tables.get("opportunity_history")
    return history is not None and "close_date" in history


def close_date_pushes(history: pd.DataFrame, as_of: pd.Timestamp, deals: pd.Series | None = None) -> pd.Series:
    """Times each deal's expected close date moved later, up to T (module notes).

    ``history``: opportunity_history rows in file order. ``deals``, when given,
    limits the count to those opportunity ids (faster on large histories).
    Returns an int Series indexed by opportunity_id (deals with history rows
    only; ``last_close_date`` and ``history_rows`` are not included).
    """
    keep = ((history["changed_date"] <= as_of).fillna(False) & history["close_date"].notna()).to_numpy(bool, copy=True)
    if deals is not None:
        keep &= member_of(history["opportunity_id"], deals)
    h = history.loc[keep, ["opportunity_id", "changed_date", "close_date"]]
    if h.empty:
        return pd.Series(dtype="int64", name="pushes", index=pd.Index([], dtype="string", name="opportunity_id"))
    codes, ids = pd.factorize(h["opportunity_id"], sort=True)
    changed = h["changed_date"].to_numpy("datetime64[ns]").astype("int64")
    row = np.arange(len(h))  # file order breaks ties of changed_date
    order = np.lexsort((row, changed, codes))
    c = codes[order]
    close = h["close_date"].to_numpy("datetime64[ns]")[order]
    same = np.r_[False, c[1:] == c[:-1]]
    later = np.r_[False, close[1:] > close[:-1]]
    pushes = np.bincount(c, weights=(same & later).astype(float), minlength=len(ids)).astype("int64")
    return pd.Series(pushes, index=pd.Index(ids, name="opportunity_id").astype("string"), name="pushes")


@once_per_tables()
def near_pipeline(tables: dict, params: dict) -> pd.DataFrame:
    """The near pipeline, one row per deal, with its staleness.

    Columns: ``opportunity_id, account_id, owner_rep_id, segment`` (the
    account's), ``channel, stage, amount, created_date, close_date,
    age_days`` (T − created_date), ``pushes`` (blank without a history),
    ``aged``, ``pushed``, ``stale`` (booleans, False where the test lacks its
    data) and ``status`` (fresh / aged / pushed / aged and pushed). Sorted by
    amount (largest first) then opportunity_id. Empty without usable
    opportunities. Built once for the same tables and parameters
    (:func:`~diligence.metrics.memo.once_per_tables`).
    """
    columns = [
        "opportunity_id",
        "account_id",
        "owner_rep_id",
        "segment",
        "channel",
        "stage",
        "amount",
        "created_date",
        "close_date",
        "age_days",
        "pushes",
        "aged",
        "pushed",
        "stale",
        "status",
    ]
    opps = tables.get("opportunities")
    if opps is None or "close_date" not in opps:
        return pd.DataFrame(columns=columns)
    as_of = as_of_date(params)
    near = opps.loc[open_mask(opps, as_of) & within_days_after(opps["close_date"], as_of, HORIZON_DAYS)]
    out = pd.DataFrame(
        {
            "opportunity_id": near["opportunity_id"],
            "account_id": near["account_id"],
            "owner_rep_id": column_or_blank(near, "owner_rep_id"),
            "segment": account_segment(near, tables["accounts"]),
            "channel": column_or_blank(near, "channel"),
            "stage": column_or_blank(near, "stage"),
            "amount": near["amount"].fillna(0.0).astype(float),
            "created_date": near["created_date"],
            "close_date": near["close_date"],
            "age_days": (as_of - near["created_date"]).dt.days.astype(float),
        }
    )
    cycle = median_sales_cycle(tables, params)
    out["aged"] = (out["age_days"] > AGE_MULTIPLE * cycle).fillna(False) if cycle is not None else False
    if history_assessable(tables):
        pushes = close_date_pushes(tables["opportunity_history"], as_of, out["opportunity_id"])
        out["pushes"] = out["opportunity_id"].map(pushes).fillna(0).astype("Int64")
        out["pushed"] = (out["pushes"] >= PUSHES_FOR_PUSHED).astype(bool)
    else:
        out["pushes"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["pushed"] = False
    out["aged"] = out["aged"].astype(bool)
    out["stale"] = out["aged"] | out["pushed"]
    status = np.select(
        [out["aged"] & out["pushed"], out["pushed"], out["aged"]], [AGED_AND_PUSHED, PUSHED, AGED], default=FRESH
    )
    out["status"] = pd.Series(status, index=out.index, dtype="string")
    out = out.sort_values(["amount", "opportunity_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)[columns]


def staleness_assessable(tables: dict, params: dict) -> dict[str, bool]:
    """Which staleness test has its data: ``{"aged": ..., "pushed": ...}``."""
    return {"aged": median_sales_cycle(tables, params) is not None, "pushed": history_assessable(tables)}


def quality_coverage(tables: dict, params: dict, near: pd.DataFrame | None = None) -> pd.DataFrame:
    """Raw and quality-adjusted pipeline coverage of each active, quota-carrying rep.

    Columns of :func:`~diligence.metrics.pipeline.pipeline_coverage`, plus
    ``stale_pipeline`` (amount of its stale near-pipeline deals),
    ``quality_pipeline`` (the rest) and ``quality_coverage`` (quality
    pipeline / quarter quota; blank when neither staleness test has its data).
    ``near``: :func:`near_pipeline`, when already computed.
    """
    cov = pipeline_coverage(tables, params)
    if not pipeline_assessable(tables):
        return cov.assign(stale_pipeline=np.nan, quality_pipeline=np.nan, quality_coverage=np.nan)
    near = near_pipeline(tables, params) if near is None else near
    stale = (
        near.loc[near["stale"]].sort_values("amount", kind="stable").groupby("owner_rep_id", sort=False)["amount"].sum()
    )
    cov["stale_pipeline"] = cov["rep_id"].map(stale).astype(float).fillna(0.0)
    cov["quality_pipeline"] = cov["open_pipeline"] - cov["stale_pipeline"]
    if any(staleness_assessable(tables, params).values()):
        cov["quality_coverage"] = cov["quality_pipeline"] / cov["quarter_quota"]
    else:
        cov["quality_coverage"] = np.nan
    return cov


def coverage_side_by_side(quality: pd.DataFrame) -> pd.DataFrame:
    """:func:`quality_coverage` as one row per rep and measure, for a chart:
    ``rep_name, measure`` (``raw`` / ``quality-adjusted``), ``times_quarter_quota``;
    reps in name order."""
    long = quality.rename(columns={"coverage": "raw", "quality_coverage": "quality-adjusted"}).melt(
        id_vars="rep_name",
        value_vars=["raw", "quality-adjusted"],
        var_name="measure",
        value_name="times_quarter_quota",
    )
    return long.sort_values("rep_name", kind="stable").reset_index(drop=True)


def pipeline_by_status(near: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """Near pipeline by ``by`` (``segment`` or ``owner_rep_id``) split into the
    amounts of fresh, aged, pushed, and aged and pushed deals
    (``fresh_pipeline, aged_pipeline, pushed_pipeline,
    aged_and_pushed_pipeline``), with ``total_pipeline`` and ``stale_pct``.
    Sorted by total, largest first."""
    amounts = [f"{s.replace(' ', '_')}_pipeline" for s in STATUSES]
    columns = [by, *amounts, "total_pipeline", "stale_pct"]
    if near.empty:
        return pd.DataFrame(columns=columns)
    frame = near.assign(key=label_blanks(near[by]))
    wide = (
        frame.sort_values("amount", kind="stable")
        .pivot_table(index="key", columns="status", values="amount", aggfunc="sum", fill_value=0.0, observed=True)
        .reindex(columns=list(STATUSES), fill_value=0.0)
    )
    wide.columns = amounts
    wide["total_pipeline"] = wide[amounts].sum(axis=1)
    stale = wide[amounts[1:]].sum(axis=1)
    wide["stale_pct"] = (stale / wide["total_pipeline"]).where(wide["total_pipeline"] > 0)
    out = wide.rename_axis(by).reset_index()
    out[by] = out[by].astype("string")
    return out.sort_values(["total_pipeline", by], ascending=[False, True], kind="stable").reset_index(drop=True)[
        columns
    ]


def most_pushed(tables: dict, params: dict, n: int = 25, near: pd.DataFrame | None = None) -> pd.DataFrame:
    """The near-pipeline deals pushed most often: a list a sales leader can act on.

    Rows of :func:`near_pipeline` with at least one push, most pushes first,
    then amount; with the owner's name. Empty without a history. ``near``:
    :func:`near_pipeline`, when already computed.
    """
    near = near_pipeline(tables, params) if near is None else near
    if near.empty or near["pushes"].isna().all():
        return near.iloc[:0]
    reps = tables["reps"]
    pushed = near.loc[near["pushes"].fillna(0) > 0]
    pushed = pushed.assign(owner_name=lookup_in(pushed["owner_rep_id"], reps, "rep_id", "rep_name"))
    return (
        pushed.sort_values(["pushes", "amount", "opportunity_id"], ascending=[False, False, True], kind="stable")
        .head(n)
        .reset_index(drop=True)
    )


def win_rate_by_stage_reached(tables: dict, params: dict) -> pd.DataFrame:
    """Win rate of the deals closed in the 365 days before T by the stages their
    history shows they reached (up to T; stages that mean closed are left out).

    Columns: ``stage, closed`` (closed deals that reached it), ``won,
    win_rate``. A deal counts once per stage it reached. Sorted by win rate
    (the stage after which a deal is most likely won last). Empty without a
    history with a ``stage`` column or without known outcomes.
    """
    columns = ["stage", "closed", "won", "win_rate"]
    history, opps = tables.get("opportunity_history"), tables.get("opportunities")
    if history is None or "stage" not in history or not outcomes_known(opps):
        return pd.DataFrame(columns=columns)
    as_of = as_of_date(params)
    closed = closed_in_window(opps, as_of)
    closed_ids = opps.loc[closed, "opportunity_id"]
    won_ids = opps.loc[closed & won_mask(opps), "opportunity_id"]
    keep = (history["changed_date"] <= as_of).fillna(False).to_numpy(bool) & history["stage"].notna().to_numpy(
        bool, copy=True
    )
    keep &= member_of(history["opportunity_id"], closed_ids)
    h = history.loc[keep, ["opportunity_id", "stage"]]
    # stages as codes: a handful of words over millions of rows
    stage_codes, stages = pd.factorize(h["stage"], sort=True)
    open_stage = ~pd.Series(stages).str.casefold().str.contains(r"closed|won|lost", regex=True).to_numpy(bool)
    deal_codes, _ = pd.factorize(h["opportunity_id"])
    pairs = pd.DataFrame({"deal": deal_codes, "stage": stage_codes, "won": member_of(h["opportunity_id"], won_ids)})
    pairs = pairs.loc[open_stage[pairs["stage"].to_numpy()]].drop_duplicates(["deal", "stage"])
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    out = pairs.groupby("stage", sort=True).agg(closed=("deal", "size"), won=("won", "sum")).reset_index()
    out["stage"] = pd.Series(stages).take(out["stage"].to_numpy()).to_numpy()
    out["win_rate"] = out["won"] / out["closed"]
    out["stage"] = out["stage"].astype("string")
    return out.sort_values(["win_rate", "stage"], kind="stable").reset_index(drop=True)[columns]


def metrics(tables: dict, params: dict) -> dict[str, float | int | None]:
    """Pipeline-quality metrics of SPEC §4 (schema 2).

    ``stale_pipeline_pct, pushed_pipeline_pct, quality_pipeline_coverage_median,
    sales_cycle_days_median`` (:mod:`~diligence.metrics.productivity`'s definition);
    extras ``near_pipeline_amount``, ``near_pipeline_deals``,
    ``aged_pipeline_pct``, ``stale_deals``, ``pushed_deals``.
    """
    near = near_pipeline(tables, params)
    cycle = median_sales_cycle(tables, params)
    tests = {"aged": cycle is not None, "pushed": history_assessable(tables)}
    amount = order_free_sum(near["amount"])
    stale = share(order_free_sum(near.loc[near["stale"], "amount"]), amount)
    pushed = share(order_free_sum(near.loc[near["pushed"], "amount"]), amount)
    aged = share(order_free_sum(near.loc[near["aged"], "amount"]), amount)
    cov = quality_coverage(tables, params, near)
    measured = cov["quality_coverage"].dropna()
    has_opps = "opportunities" in tables and "close_date" in tables["opportunities"]
    return {
        "sales_cycle_days_median": cycle,
        "stale_pipeline_pct": stale if any(tests.values()) else None,
        "pushed_pipeline_pct": pushed if tests["pushed"] else None,
        "quality_pipeline_coverage_median": float(measured.median()) if len(measured) else None,
        "aged_pipeline_pct": aged if tests["aged"] else None,
        "near_pipeline_amount": amount if has_opps else None,
        "near_pipeline_deals": int(len(near)) if has_opps else None,
        "stale_deals": int(near["stale"].sum()) if has_opps and any(tests.values()) else None,
        "pushed_deals": int(near["pushed"].sum()) if has_opps and tests["pushed"] else None,
    }


__all__ = [
    "close_date_pushes",
    "coverage_side_by_side",
    "history_assessable",
    "metrics",
    "most_pushed",
    "near_pipeline",
    "pipeline_by_status",
    "quality_coverage",
    "staleness_assessable",
    "win_rate_by_stage_reached",
]
