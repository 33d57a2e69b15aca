"""Plain-language definitions and labels of the metrics (SPEC §4), for the
methodology appendix, the workbook's Definitions and Summary sheets.

Definitions that depend on a parameter are templates (``{window_days}``,
``{band}``) filled from the run's parameters by :func:`metric_definitions`, so a
report never states a default the run did not use. The flags' rules live in
the flag registry (:mod:`diligence.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diligence.params import DEFAULTS
from diligence.registry import spec
from diligence.report.formats import humanize

METRIC_DEFINITIONS: dict[str, str] = {
    "accounts_total": "Rows of the accounts table.",
    "rep_assigned_pct": "Accounts owned by an active rep / all accounts.",
    "partner_only_pct": "Accounts not rep-assigned but designated to a partner / all accounts.",
    "unassigned_pct": "Accounts neither rep-assigned nor partner-only (orphans included) / all accounts.",
    "orphaned_accounts": "Accounts whose owner is a departed or unknown rep.",
    "unassigned_potential_pct": "Potential of unassigned accounts / total potential.",
    "contacted_90d_pct": "Accounts with at least one activity in the {window_days} days before the as-of date / all accounts.",
    "assigned_not_worked_pct": "Rep-assigned accounts with no activity in the {window_days} days before the as-of date / rep-assigned accounts.",
    "attainment_max_min_ratio": "Worst comparable group's highest / lowest attainment (bookings / quota); empty when that lowest is 0.",
    "attainment_cv_max": "Largest coefficient of variation (population std / mean) of attainment over comparable groups.",
    "potential_max_min_ratio": "Worst comparable group's largest / smallest book potential.",
    "pipeline_coverage_median": "Median over active quota-carrying reps of open pipeline closing in the next 90 days / (quota × 90 / 365).",
    "pipeline_coverage_out_of_band_pct": "Share of active quota-carrying reps whose pipeline coverage is outside the {band} band.",
    "win_rate": "Won / closed opportunities, closed in the 365 days before the as-of date (counts).",
    "channel_conflict_accounts": "Accounts with a direct and a partner opportunity whose lifetimes overlap in the last 365 days.",
    "multi_rep_accounts": "Accounts with direct opportunities of two or more reps whose lifetimes overlap in the last 365 days.",
    "white_space_cells": "Cells of the white-space grid with enough accounts and none of them rep-assigned or partner-only.",
    "white_space_potential_pct": "Potential in white-space cells / total potential.",
    "months_since_rebalance": "Days from the last rebalance event to the as-of date / 30.44; empty when there was none.",
    "attrition_driven_changes_pct": "Share of owner changes caused by attrition (departures).",
    "survey_mismatch_pct": "Surveyed active reps whose own description of their territory differs from their book / surveyed active reps.",
    "junior_on_enterprise_pct": "Enterprise accounts owned by junior reps / enterprise accounts.",
    "headcount_shortfall_pct": "Largest over segments of (reps needed − active quota-carrying reps) / reps needed; 0 when none is short.",
    "cross_crm_duplicates": "Pairs of accounts from different legacy CRMs with the same normalised domain or name.",
    "cross_crm_conflicting_owners": "Duplicate pairs whose two rows are rep-assigned to different reps.",
    "reps_at_quota_pct": "Eligible reps (quota-carrying, employed the whole 365 days before the as-of date) whose "
    "bookings of those 365 days reached their annual quota / eligible reps.",
    "top_fifth_bookings_share": "Bookings of the best fifth of eligible reps (the first ceil(0.2 × n) by bookings) / "
    "bookings of all eligible reps.",
    "annual_attrition_observed": "Quota-carrying reps who left in the 365 days before the as-of date / the mean of "
    "the quota-carrying headcounts a year before and at the as-of date.",
    "months_to_first_win_median": "Median months (days / 30.44) from hire to first won deal, for quota-carrying reps "
    "hired 6 to 24 months before the as-of date; reps without a win yet are left out and counted.",
    "sales_cycle_days_median": "Median days from creation to close of the deals won in the 365 days before the as-of date.",
    "stale_pipeline_pct": "Amount of stale deals (open longer than twice the median sales cycle, or close date pushed "
    "back twice or more) / amount of the open pipeline closing in the 90 days after the as-of date.",
    "pushed_pipeline_pct": "Amount of near-pipeline deals whose expected close date moved later at least twice / "
    "amount of the near pipeline.",
    "quality_pipeline_coverage_median": "Pipeline coverage counting only near-pipeline deals that are not stale; "
    "median over active quota-carrying reps.",
    "potential_bookings_rank_corr": "Spearman rank correlation, over all accounts, of the potential used with the "
    "account's won bookings of the 365 days before the as-of date.",
}


#: Labels of metrics whose SPEC name would mislead once humanized (the name is fixed, the window is a parameter).
_LABELS: dict[str, str] = {
    "contacted_90d_pct": "Accounts worked in the last {window_days} days",
}


def _words(params: Mapping[str, Any] | None) -> dict[str, Any]:
    p = params or {}
    band = (p.get("thresholds") or {}).get("W5") or DEFAULTS["thresholds"]["W5"]
    return {
        "window_days": p.get("active_window_days", DEFAULTS["active_window_days"]),
        "band": spec("W5").threshold_text(band),
    }


def metric_definitions(params: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Metric name → its definition, in SPEC order, with this run's windows and bands."""
    words = _words(params)
    return {name: text.format(**words) for name, text in METRIC_DEFINITIONS.items()}


def metric_label(name: str, params: Mapping[str, Any] | None = None) -> str:
    """A metric's name for a reader: "Unassigned %", "Accounts worked in the last 60 days"."""
    label = _LABELS.get(name)
    return label.format(**_words(params)) if label else humanize(name)


#: findings.json's ``potential_basis`` in a reader's words.
_BASIS_WORDS = {
    "column": "the client's own potential column",
    "model": "modelled from the company's own wins (validated on a held-out year)",
    "proxy:annual_revenue": "annual revenue, as a proxy",
}


def potential_basis_text(code: Any) -> str:
    """What weighs the accounts in this report, in words ("annual revenue, as a proxy")."""
    if code is None:
        return "account count (no potential or revenue was provided)"
    text = str(code)
    return _BASIS_WORDS.get(text, f"{text.removeprefix('proxy:')}, as a proxy" if text.startswith("proxy:") else text)
