"""Backtest of the capacity model: run a year ago, with only what was known then.

The capacity plan turns headcount into bookings through three inputs: attrition,
ramp and the productivity of a ramped rep (:func:`~diligence.scenarios.capacity_plan.plan_inputs`).
The backtest measures how well those inputs, observed at ``T0 = T − 365 days``,
predicted the year ``(T0, T]`` that has since happened:

- **Inputs at T0**: :func:`~diligence.scenarios.capacity_plan.plan_inputs` on the
  data with the as-of date moved to T0 (the same settings: a value set stays
  set), and the productivity of a ramped rep per segment as the median
  bookings of ``(T0 − 365d, T0]`` of the reps eligible at T0 (the segment's
  when at least two such reps, else all of them).
- **Who sells**: the reps quota-carrying at T0, thinned by the attrition known at
  T0 (expected presence ``(1 − a)^(t/12)`` at month t), plus the reps with
  quota > 0 actually hired in ``(T0, T]``, present while actually employed.
  Hiring decisions are taken as they were made: the backtest tests the
  productivity model, not the hiring plan.
- **Predicted** bookings: over 12 months (measured mid-month), presence × ramp
  fraction (:func:`~diligence.scenarios.capacity_plan.ramp_fraction`, months
  since hire over the ramp of the rep's segment, a blank hire date counting as
  ramped) × productivity / 12.
- **Actual** bookings: won opportunities closed in ``(T0, T]`` owned by reps
  with quota > 0.
- **Error**: (predicted − actual) / actual.

When the opportunities start less than a year plus a median sales cycle before
T0, the productivity known at T0 rests on a partly covered year (deals still
open when the export begins are missing): ``caveat`` says so, since the
prediction is then understated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diligence.metrics import productivity
from diligence.metrics.coverage import as_of_date, column_or_blank, label_blanks, quota_carrying_mask
from diligence.metrics.pipeline import LOOKBACK_DAYS, closed_in_window, outcomes_known, won_mask
from diligence.scenarios.capacity_plan import plan_inputs, ramp_by_segment, ramp_fraction, ramp_setting

MONTHS = 12
COLUMNS = [
    "segment",
    "reps_at_start",
    "hires_in_year",
    "bookings_per_ramped_rep",
    "predicted_bookings",
    "actual_bookings",
    "error_pct",
]


def backtest(tables: dict, params: dict, settings: dict) -> dict:
    """The capacity model run as of T − 365 days against what happened since (module notes).

    Returns ``{"as_of": T0 (ISO), "inputs": plan_inputs at T0, "by_segment":
    frame of COLUMNS plus a "Total" row, "predicted", "actual", "error_pct",
    "reason", "caveat"}``; ``reason`` says why there is no backtest (then the
    figures are None and the frame empty), ``caveat`` what limits it.
    """
    as_of = as_of_date(params)
    start = as_of - pd.Timedelta(days=LOOKBACK_DAYS)
    then = {**params, "as_of": start.date().isoformat()}
    empty = {
        "as_of": then["as_of"],
        "inputs": None,
        "by_segment": pd.DataFrame(columns=COLUMNS),
        "predicted": None,
        "actual": None,
        "error_pct": None,
        "caveat": None,
    }
    opps = tables.get("opportunities")
    if not outcomes_known(opps) or "owner_rep_id" not in opps:
        return empty | {"reason": "needs won opportunities with an owner and a close date."}
    eligible = productivity.eligible_attainment(tables, then)
    if len(eligible) < 2:
        return empty | {"reason": "fewer than two reps carried a quota for the whole year before the backtest date."}
    cycle = productivity.median_sales_cycle(tables, then) or 0.0
    first = opps["created_date"].min()
    caveat = None
    if pd.notna(first) and first > start - pd.Timedelta(days=LOOKBACK_DAYS + cycle):
        caveat = (
            f"the opportunities start on {first.date().isoformat()}, less than a year and a sales cycle before "
            f"{start.date().isoformat()}: the productivity known then is understated, and so is the prediction"
        )
    inputs = plan_inputs(tables, then, settings)
    values = inputs.set_index("setting")["value"]
    attrition = float(values["annual_attrition"])

    reps = tables["reps"]
    team = productivity.quota_carrying_at(reps, start)
    hire = column_or_blank(reps, "hire_date", "datetime64[ns]").astype("datetime64[ns]")
    end = column_or_blank(reps, "end_date", "datetime64[ns]").astype("datetime64[ns]")
    hired = quota_carrying_mask(reps) & (hire > start).fillna(False) & (hire <= as_of).fillna(False)
    sellers = team | hired
    segment = label_blanks(column_or_blank(reps, "segment"))

    # productivity per segment, known at T0
    overall = float(eligible["bookings"].median())
    rep_segment = pd.Series(segment.to_numpy(), index=reps["rep_id"].to_numpy())
    seg_of = eligible["rep_id"].map(rep_segment)
    by_seg = eligible.assign(seg=seg_of).groupby("seg")["bookings"].agg(["median", "size"])
    per_seg = by_seg.loc[by_seg["size"] >= 2, "median"]
    yearly = segment.map(per_seg).astype(float).fillna(overall).to_numpy(float)

    months = np.arange(MONTHS) + 0.5
    mid = start.to_datetime64() + (months * productivity.MONTH_DAYS * 86400e9).astype("timedelta64[ns]")
    hire_ns = hire.to_numpy("datetime64[ns]")
    end_ns = end.to_numpy("datetime64[ns]")
    since = (mid[None, :] - hire_ns[:, None]).astype("timedelta64[D]").astype(float) / productivity.MONTH_DAYS
    ramp = ramp_by_segment(ramp_setting(settings, inputs), column_or_blank(reps, "segment")).to_numpy(float)
    ramped = np.where(np.isnan(since), 1.0, ramp_fraction(np.nan_to_num(since, nan=0.0), ramp[:, None]))
    ramped = np.where(np.isnat(hire_ns)[:, None], 1.0, ramped)
    team_presence = (1 - attrition) ** (months / 12)[None, :] * np.ones((len(reps), 1))
    employed = (hire_ns[:, None] <= mid[None, :]) & (np.isnat(end_ns)[:, None] | (end_ns[:, None] > mid[None, :]))
    presence = np.where(team.to_numpy(bool)[:, None], team_presence, employed.astype(float))
    presence = np.where(sellers.to_numpy(bool)[:, None], presence, 0.0)
    predicted_rep = (presence * ramped).sum(axis=1) * yearly / MONTHS

    won = closed_in_window(opps, as_of) & won_mask(opps)
    quota_ids = reps.loc[quota_carrying_mask(reps), "rep_id"]
    actual = opps.loc[won & opps["owner_rep_id"].isin(quota_ids)]
    actual_seg = actual["owner_rep_id"].map(rep_segment)
    actual_by = actual.assign(seg=actual_seg).sort_values("amount", kind="stable").groupby("seg")["amount"].sum()

    frame = pd.DataFrame(
        {
            "segment": segment,
            "team": team.to_numpy(bool),
            "hired": hired.to_numpy(bool),
            "yearly": np.where(sellers, yearly, np.nan),
            "predicted": predicted_rep,
        }
    )
    out = (
        frame.groupby("segment", sort=True)
        .agg(
            reps_at_start=("team", "sum"),
            hires_in_year=("hired", "sum"),
            bookings_per_ramped_rep=("yearly", "median"),
            predicted_bookings=("predicted", "sum"),
        )
        .reset_index()
    )
    out = out.loc[(out["reps_at_start"] + out["hires_in_year"]) > 0]
    out["actual_bookings"] = out["segment"].map(actual_by).astype(float).fillna(0.0)
    total_pred, total_actual = (
        float(np.sort(out["predicted_bookings"].to_numpy(float)).sum()),
        float(np.sort(actual_by.to_numpy(float)).sum()),
    )
    total = pd.DataFrame(
        [
            {
                "segment": "Total",
                "reps_at_start": int(out["reps_at_start"].sum()),
                "hires_in_year": int(out["hires_in_year"].sum()),
                "bookings_per_ramped_rep": overall,
                "predicted_bookings": total_pred,
                "actual_bookings": total_actual,
            }
        ]
    )
    out = pd.concat([out, total], ignore_index=True)
    out["error_pct"] = ((out["predicted_bookings"] - out["actual_bookings"]) / out["actual_bookings"]).where(
        out["actual_bookings"] > 0
    )
    out = out.astype({"segment": "string", "reps_at_start": int, "hires_in_year": int})
    return {
        "as_of": then["as_of"],
        "inputs": inputs,
        "by_segment": out[COLUMNS].reset_index(drop=True),
        "predicted": total_pred,
        "actual": total_actual,
        "error_pct": (total_pred - total_actual) / total_actual if total_actual > 0 else None,
        "reason": None,
        "caveat": caveat,
    }
