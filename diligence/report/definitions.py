"""Plain-language definitions of the metrics and flags (SPEC §4, §5), for the workbook's
Definitions sheet when the run passes none of its own."""
from __future__ import annotations

METRIC_DEFINITIONS: dict[str, str] = {
    "accounts_total": "Rows of the accounts table.",
    "rep_assigned_pct": "Accounts owned by an active rep / all accounts.",
    "partner_only_pct": "Accounts not rep-assigned but designated to a partner / all accounts.",
    "unassigned_pct": "Accounts neither rep-assigned nor partner-only (orphans included) / all accounts.",
    "orphaned_accounts": "Accounts whose owner is a departed or unknown rep.",
    "unassigned_potential_pct": "Potential of unassigned accounts / total potential.",
    "contacted_90d_pct": "Accounts with at least one activity in the active window before the as-of date / all accounts.",
    "assigned_not_worked_pct": "Rep-assigned accounts with no activity in the active window / rep-assigned accounts.",
    "attainment_max_min_ratio": "Worst comparable group's highest / lowest attainment (bookings / quota); empty when that lowest is 0.",
    "attainment_cv_max": "Largest coefficient of variation (population std / mean) of attainment over comparable groups.",
    "potential_max_min_ratio": "Worst comparable group's largest / smallest book potential.",
    "pipeline_coverage_median": "Median over active quota-carrying reps of open pipeline closing in the next 90 days / (quota × 90 / 365).",
    "pipeline_coverage_out_of_band_pct": "Share of active quota-carrying reps whose pipeline coverage is outside 3–5×.",
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
}

FLAG_RULES: dict[str, str] = {
    "RF1": "unassigned_pct above the threshold",
    "RF2": "in some comparable group, max attainment above threshold × min attainment",
    "RF3": "no rebalance event within the threshold (months) before the as-of date",
    "RF4": "survey_mismatch_pct above the threshold",
    "RF5": "channel_conflict_accounts above the threshold and rules of engagement not documented",
    "RF6": "headcount_shortfall_pct above the threshold",
    "W1": "assigned_not_worked_pct above the threshold",
    "W2": "attainment_cv_max above the threshold",
    "W3": "potential_max_min_ratio above the threshold",
    "W4": "white_space_cells above the threshold",
    "W5": "pipeline_coverage_median outside the band",
    "W6": "junior_on_enterprise_pct above the threshold",
    "W7": "multi_rep_accounts above the threshold",
    "W8": "cross_crm_conflicting_owners above the threshold",
}
