"""Pipeline: how much open business each rep carries for the next quarter, and
how often the company wins what it closes.

Definitions follow SPEC §3:

- **Pipeline coverage** of a rep: amount of its open opportunities whose
  ``close_date`` falls in the 90 days after T, ``(T, T + 90d]``, divided by its
  quota × 90 / 365. Target band 3–5× (threshold ``W5``).
- **Win rate**: won / closed (counts), opportunities closed in the 365 days
  before T, ``(T - 365d, T]``.

Open and closed. Intake derives ``is_closed`` / ``is_won`` from ``stage`` when
the client did not send them; a cell can still be blank when the stage is
unknown. Such an opportunity counts as *open* when its ``close_date`` lies
after T (a closed deal's close date is when it closed, which a snapshot taken
at T cannot show in the future), as *closed won* when ``is_won`` is true, and
as neither otherwise (it is left out of both pipeline and win rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diligence.metrics.coverage import (
    active_quota_reps,
    as_of_date,
    column_or_blank,
    is_true,
    label_blanks,
    share,
    sorted_by_value,
    within_days_after,
    within_days_before,
)

HORIZON_DAYS = 90  # pipeline horizon after T
LOOKBACK_DAYS = 365  # closed-business window before T
ALL = "(all)"


def _flag(opportunities: pd.DataFrame, name: str) -> pd.Series:
    return column_or_blank(opportunities, name, "boolean").astype("boolean")


def closed_mask(opportunities: pd.DataFrame) -> pd.Series:
    """True for closed opportunities: ``is_closed`` true, or blank with ``is_won`` true."""
    is_closed, is_won = _flag(opportunities, "is_closed"), _flag(opportunities, "is_won")
    return (is_true(is_closed) | (is_closed.isna() & is_true(is_won))).astype(bool)


def won_mask(opportunities: pd.DataFrame) -> pd.Series:
    """True for closed opportunities that were won (``is_won`` true)."""
    return (closed_mask(opportunities) & is_true(_flag(opportunities, "is_won"))).astype(bool)


def open_mask(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """True for open opportunities at T.

    ``is_closed`` false; or ``is_closed`` blank, ``is_won`` not true and an
    expected ``close_date`` after T (see the module notes).
    """
    is_closed, is_won = _flag(opportunities, "is_closed"), _flag(opportunities, "is_won")
    close = column_or_blank(opportunities, "close_date", "datetime64[ns]")
    unknown_open = is_closed.isna() & ~is_true(is_won) & (close > pd.Timestamp(as_of)).fillna(False)
    return (is_true(~is_closed.fillna(True)) | unknown_open).astype(bool)


def outcomes_known(opportunities: pd.DataFrame | None) -> bool:
    """Whether win rates can be measured: opportunities with a ``close_date``
    and an ``is_closed`` or ``is_won`` column (intake derives both from
    ``stage``)."""
    return (
        opportunities is not None
        and "close_date" in opportunities
        and ("is_closed" in opportunities or "is_won" in opportunities)
    )


def pipeline_assessable(tables: dict) -> bool:
    """Whether pipeline coverage can be measured: opportunities with an
    ``owner_rep_id`` and a ``close_date`` column."""
    opps = tables.get("opportunities")
    return opps is not None and "owner_rep_id" in opps and "close_date" in opps


def closed_in_window(opportunities: pd.DataFrame, as_of: pd.Timestamp, days: int = LOOKBACK_DAYS) -> pd.Series:
    """True for opportunities closed with ``close_date`` in ``(T - days, T]``."""
    close = column_or_blank(opportunities, "close_date", "datetime64[ns]")
    return (closed_mask(opportunities) & within_days_before(close, as_of, days)).astype(bool)


def pipeline_coverage(tables: dict, params: dict) -> pd.DataFrame:
    """Pipeline coverage of each active, quota-carrying rep (SPEC §3).

    Columns: ``rep_id, rep_name, segment, role`` (blank when reps lack them),
    ``quota``, ``open_opportunities`` and ``open_pipeline`` (count and amount
    of open opportunities owned, closing in ``(T, T + 90d]``), ``quarter_quota``
    (quota × 90 / 365), ``coverage`` (pipeline / quarter quota) and ``band``
    (``below`` / ``within`` / ``above`` the ``W5`` band, inclusive). Pipeline
    columns are blank when there is no usable opportunities table. Sorted by
    ``rep_id``.
    """
    as_of = as_of_date(params)
    low, high = params["thresholds"]["W5"]
    reps = active_quota_reps(tables["reps"], as_of)
    out = pd.DataFrame(
        {
            "rep_id": reps["rep_id"],
            "rep_name": reps["rep_name"],
            "segment": column_or_blank(reps, "segment"),
            "role": column_or_blank(reps, "role"),
            "quota": column_or_blank(reps, "quota", "Float64").astype(float),
        }
    )
    out["quarter_quota"] = out["quota"] * HORIZON_DAYS / 365
    if pipeline_assessable(tables):
        opps = tables["opportunities"]
        keep = open_mask(opps, as_of) & within_days_after(opps["close_date"], as_of, HORIZON_DAYS)
        book = (
            sorted_by_value(
                pd.DataFrame({"owner": opps["owner_rep_id"], "amount": opps["amount"].fillna(0.0)}).loc[keep],
                "amount",
            )
            .groupby("owner", sort=False)["amount"]
            .agg(["size", "sum"])
        )
        out["open_opportunities"] = out["rep_id"].map(book["size"]).fillna(0).astype("Int64")
        out["open_pipeline"] = out["rep_id"].map(book["sum"]).astype(float).fillna(0.0)
        out["coverage"] = out["open_pipeline"] / out["quarter_quota"]
    else:
        out["open_opportunities"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["open_pipeline"] = np.nan
        out["coverage"] = np.nan
    band = np.select([out["coverage"] < low, out["coverage"] > high], ["below", "above"], default="within")
    out["band"] = pd.Series(band, index=out.index, dtype="string").where(out["coverage"].notna())
    return out[
        [
            "rep_id",
            "rep_name",
            "segment",
            "role",
            "quota",
            "open_opportunities",
            "open_pipeline",
            "quarter_quota",
            "coverage",
            "band",
        ]
    ]


def win_rates_by(tables: dict, params: dict, by: str | list[str] = "segment") -> pd.DataFrame:
    """Win rate per group, with the pipeline-coverage target it implies.

    Closed = closed with ``close_date`` in ``(T - 365d, T]``; win rate = won /
    closed (counts). Each ``by`` key is taken from the opportunity's account
    when accounts have that column (e.g. ``segment``), else from the
    opportunity (e.g. ``channel``); keys found in neither are ignored. A rep
    who wins one deal in N needs about N× pipeline, so ``implied_coverage`` =
    1 / win rate is shown beside the 3–5× rule of thumb (``band_low``,
    ``band_high`` from threshold ``W5``).

    Columns: the keys (blank as ``(blank)``), ``closed, won, win_rate,
    implied_coverage, band_low, band_high``; groups sorted by key, then a last
    row ``(all)`` for the whole company. Empty when outcomes are unknown.
    """
    keys = [by] if isinstance(by, str) else list(by)
    accounts, opps = tables["accounts"], tables.get("opportunities")
    keys = [k for k in keys if k in accounts or (opps is not None and k in opps)]
    columns = keys + ["closed", "won", "win_rate", "implied_coverage", "band_low", "band_high"]
    if not outcomes_known(opps):
        return pd.DataFrame(columns=columns)
    as_of = as_of_date(params)
    closed = closed_in_window(opps, as_of)
    by_account = accounts.drop_duplicates("account_id").set_index("account_id")
    data = pd.DataFrame(
        {
            **{k: label_blanks(opps["account_id"].map(by_account[k]) if k in accounts else opps[k]) for k in keys},
            "closed": np.ones(len(opps), dtype=int),
            "won": won_mask(opps).astype(int),
        },
        index=opps.index,
    ).loc[closed]
    total = pd.DataFrame({**{k: [ALL] for k in keys}, "closed": [len(data)], "won": [int(data["won"].sum())]})
    if keys:
        groups = data.groupby(keys, sort=True)[["closed", "won"]].sum().reset_index()
        out = pd.concat([groups, total], ignore_index=True)
    else:
        out = total
    out["win_rate"] = out["won"] / out["closed"].where(out["closed"] > 0)
    out["implied_coverage"] = 1 / out["win_rate"].where(out["win_rate"] > 0)
    low, high = params["thresholds"]["W5"]
    out["band_low"], out["band_high"] = float(low), float(high)
    for k in keys:
        out[k] = out[k].astype("string")
    return out[columns].astype({"closed": int, "won": int, "win_rate": float, "implied_coverage": float})


def metrics(tables: dict, params: dict) -> dict[str, float | int | None]:
    """Pipeline metrics of SPEC §4.

    ``pipeline_coverage_median`` (over active, quota-carrying reps),
    ``pipeline_coverage_out_of_band_pct`` (share of them outside the ``W5``
    band, default 3–5×, inclusive), ``win_rate``; extras
    ``pipeline_coverage_below_band_pct``, ``pipeline_coverage_above_band_pct``,
    ``pipeline_reps``, ``open_pipeline_90d``, ``closed_opportunities_365d``,
    ``won_opportunities_365d``. None without usable opportunities, without
    quota-carrying reps, or without closed opportunities (win rate).
    """
    cov = pipeline_coverage(tables, params)
    measured = cov.loc[cov["coverage"].notna()]
    n = len(measured)
    out: dict[str, float | int | None] = {
        "pipeline_coverage_median": float(measured["coverage"].median()) if n else None,
        "pipeline_coverage_out_of_band_pct": share((measured["band"] != "within").sum(), n),
        "pipeline_coverage_below_band_pct": share((measured["band"] == "below").sum(), n),
        "pipeline_coverage_above_band_pct": share((measured["band"] == "above").sum(), n),
        "pipeline_reps": int(n) if pipeline_assessable(tables) else None,
        "open_pipeline_90d": float(np.sort(measured["open_pipeline"].to_numpy(float)).sum()) if n else None,
    }
    opps = tables.get("opportunities")
    if outcomes_known(opps):
        closed = closed_in_window(opps, as_of_date(params))
        won = int((closed & won_mask(opps)).sum())
        out.update(
            win_rate=share(won, int(closed.sum())),
            closed_opportunities_365d=int(closed.sum()),
            won_opportunities_365d=won,
        )
    else:
        out.update(win_rate=None, closed_opportunities_365d=None, won_opportunities_365d=None)
    return out
