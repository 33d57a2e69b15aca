"""Plain-English findings generated from the numbers, one function per step.

Each function takes a step's metrics (and the run's parameters) and returns the
sentences the report shows, so the narrative never drifts from the figures and
never holds placeholder text. A metric the data does not allow produces no
sentence of its own; the summary says what could not be assessed.
"""
from __future__ import annotations

from typing import Any

from diligence.report.display import fmt_int, fmt_pct, fmt_ratio

Metrics = dict[str, Any]


def _has(m: Metrics, *names: str) -> bool:
    return all(m.get(n) is not None for n in names)


def _kpis(m: Metrics, spec: list[tuple[str, str, Any]]) -> list[tuple[str, str]]:
    return [(label, fmt(m.get(name))) for label, name, fmt in spec]


def coverage_kpis(m: Metrics) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Accounts", "accounts_total", fmt_int),
            ("Rep-assigned", "rep_assigned_pct", fmt_pct),
            ("Unassigned", "unassigned_pct", fmt_pct),
            ("Orphaned accounts", "orphaned_accounts", fmt_int),
            ("Contacted in window", "contacted_90d_pct", fmt_pct),
            ("Assigned, not worked", "assigned_not_worked_pct", fmt_pct),
        ],
    )


def market_coverage(m: Metrics, params: dict[str, Any]) -> list[str]:
    out = []
    t = params["thresholds"]
    if _has(m, "unassigned_pct", "accounts_total"):
        verdict = "above" if m["unassigned_pct"] > t["RF1"] else "within"
        out.append(
            f"{fmt_pct(m['unassigned_pct'])} of the {fmt_int(m['accounts_total'])} accounts have neither an active rep "
            f"nor a partner, {verdict} the {fmt_pct(t['RF1'])} red-flag threshold."
        )
    if _has(m, "orphaned_accounts") and m["orphaned_accounts"]:
        out.append(
            f"{fmt_int(m['orphaned_accounts'])} accounts are still owned in the CRM by reps who have left or are unknown."
        )
    if _has(m, "unassigned_potential_pct", "unassigned_pct"):
        out.append(
            f"Unassigned accounts hold {fmt_pct(m['unassigned_potential_pct'])} of the market's potential."
        )
    if _has(m, "assigned_not_worked_pct"):
        verdict = "above" if m["assigned_not_worked_pct"] > t["W1"] else "within"
        out.append(
            f"{fmt_pct(m['assigned_not_worked_pct'])} of rep-assigned accounts saw no activity in the last "
            f"{params['active_window_days']} days ({verdict} the {fmt_pct(t['W1'])} threshold): assigned is not covered."
        )
    if _has(m, "white_space_cells") and m["white_space_cells"]:
        share = f", holding {fmt_pct(m['white_space_potential_pct'])} of potential" if _has(m, "white_space_potential_pct") else ""
        n = m["white_space_cells"]
        cells = "market cell has" if n == 1 else "market cells have"
        out.append(f"{fmt_int(n)} {cells} enough accounts and no coverage at all{share}.")
    return out


def balance_kpis(m: Metrics) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Attainment max/min", "attainment_max_min_ratio", fmt_ratio),
            ("Attainment CV (worst group)", "attainment_cv_max", fmt_pct),
            ("Potential max/min", "potential_max_min_ratio", fmt_ratio),
        ],
    )


def capacity_balance(m: Metrics, params: dict[str, Any]) -> list[str]:
    out = []
    t = params["thresholds"]
    if _has(m, "attainment_max_min_ratio"):
        verdict = "more than" if m["attainment_max_min_ratio"] > t["RF2"] else "within"
        out.append(
            f"In the most uneven group of comparable territories, the best rep attains "
            f"{fmt_ratio(m['attainment_max_min_ratio'])} the worst, {verdict} the {fmt_ratio(t['RF2'])} red-flag line."
        )
    elif m.get("attainment_zero_min_groups"):
        out.append(
            f"{fmt_int(m['attainment_zero_min_groups'])} group(s) of comparable territories include a tenured rep "
            f"with no bookings at all in the year while others sell."
        )
    if _has(m, "attainment_cv_max"):
        out.append(f"Attainment varies by up to {fmt_pct(m['attainment_cv_max'])} (coefficient of variation) within a group.")
    if _has(m, "potential_max_min_ratio"):
        verdict = "above" if m["potential_max_min_ratio"] > t["W3"] else "within"
        out.append(
            f"The richest book in a comparable group holds {fmt_ratio(m['potential_max_min_ratio'])} the potential "
            f"of the poorest ({verdict} the {fmt_ratio(t['W3'])} threshold)."
        )
    return out


def pipeline_kpis(m: Metrics) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Median pipeline coverage", "pipeline_coverage_median", fmt_ratio),
            ("Reps outside 3–5×", "pipeline_coverage_out_of_band_pct", fmt_pct),
            ("Win rate (365 days)", "win_rate", fmt_pct),
        ],
    )


def pipeline_win_rates(m: Metrics, params: dict[str, Any]) -> list[str]:
    out = []
    lo, hi = params["thresholds"]["W5"]
    if _has(m, "pipeline_coverage_median"):
        where = "below" if m["pipeline_coverage_median"] < lo else "above" if m["pipeline_coverage_median"] > hi else "inside"
        out.append(
            f"The median quota-carrying rep has {fmt_ratio(m['pipeline_coverage_median'])} pipeline coverage for the "
            f"next 90 days, {where} the {lo:g}–{hi:g}× band."
        )
    if _has(m, "pipeline_coverage_out_of_band_pct"):
        out.append(f"{fmt_pct(m['pipeline_coverage_out_of_band_pct'])} of those reps sit outside the band.")
    if _has(m, "win_rate"):
        implied = f", which implies about {fmt_ratio(1 / m['win_rate'])} coverage to make quota" if m["win_rate"] else ""
        out.append(f"The company won {fmt_pct(m['win_rate'])} of the deals it closed in the last year{implied}.")
    return out


def channels_kpis(m: Metrics) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Channel conflict accounts", "channel_conflict_accounts", fmt_int),
            ("Multi-rep accounts", "multi_rep_accounts", fmt_int),
        ],
    )


def channels_overlaps(m: Metrics, params: dict[str, Any]) -> list[str]:
    out = []
    if _has(m, "channel_conflict_accounts"):
        rules = (
            "rules of engagement are documented"
            if params["rules_of_engagement_documented"]
            else "no rules of engagement are documented"
        )
        out.append(
            f"{fmt_int(m['channel_conflict_accounts'])} accounts had a direct and a partner deal open at the same time "
            f"in the last year; {rules}."
        )
    if _has(m, "multi_rep_accounts"):
        out.append(f"{fmt_int(m['multi_rep_accounts'])} accounts were pursued by two or more reps at once.")
    return out


def governance_kpis(m: Metrics) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Months since rebalance", "months_since_rebalance", lambda v: "never" if v is None else f"{v:.1f}"),
            ("Attrition-driven changes", "attrition_driven_changes_pct", fmt_pct),
            ("Survey mismatch", "survey_mismatch_pct", fmt_pct),
        ],
    )


def territory_governance(m: Metrics, params: dict[str, Any]) -> list[str]:
    out = []
    t = params["thresholds"]
    if _has(m, "months_since_rebalance"):
        verdict = "longer than" if m["months_since_rebalance"] > t["RF3"] else "within"
        out.append(
            f"The last formal rebalance was {m['months_since_rebalance']:.1f} months before the as-of date, "
            f"{verdict} the {t['RF3']:g}-month norm."
        )
    if _has(m, "attrition_driven_changes_pct"):
        out.append(f"{fmt_pct(m['attrition_driven_changes_pct'])} of owner changes were forced by departures.")
    if _has(m, "survey_mismatch_pct"):
        out.append(
            f"{fmt_pct(m['survey_mismatch_pct'])} of surveyed reps describe their territory differently from the CRM."
        )
    return out


def capacity_kpis(m: Metrics) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Headcount shortfall (worst segment)", "headcount_shortfall_pct", fmt_pct),
            ("Enterprise accounts with junior reps", "junior_on_enterprise_pct", fmt_pct),
        ],
    )


def headcount_capacity(m: Metrics, params: dict[str, Any]) -> list[str]:
    out = []
    t = params["thresholds"]
    if _has(m, "headcount_shortfall_pct"):
        if m["headcount_shortfall_pct"] > 0:
            out.append(
                f"The most under-staffed segment has {fmt_pct(m['headcount_shortfall_pct'])} fewer quota-carrying reps "
                f"than its account count needs (red flag above {fmt_pct(t['RF6'])})."
            )
        else:
            out.append("Every segment has at least the headcount its account count needs.")
    if _has(m, "junior_on_enterprise_pct"):
        out.append(f"Junior reps own {fmt_pct(m['junior_on_enterprise_pct'])} of enterprise accounts.")
    return out


def merger_kpis(m: Metrics) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Cross-CRM duplicate pairs", "cross_crm_duplicates", fmt_int),
            ("…owned by two different reps", "cross_crm_conflicting_owners", fmt_int),
        ],
    )


def merger_overlap(m: Metrics, params: dict[str, Any]) -> list[str]:
    if not _has(m, "cross_crm_duplicates"):
        return []
    out = [f"{fmt_int(m['cross_crm_duplicates'])} pairs of accounts appear in both legacy CRMs."]
    if _has(m, "cross_crm_conflicting_owners"):
        out.append(
            f"In {fmt_int(m['cross_crm_conflicting_owners'])} of them, two different active reps own the same customer."
        )
    return out


#: What each flag means for the investment case, in a reader's words.
FLAG_HEADLINES: dict[str, str] = {
    "RF1": "Too much of the market has no owner",
    "RF2": "Comparable territories produce very different results",
    "RF3": "Territories are not rebalanced",
    "RF4": "Reps do not recognise their territories in the CRM",
    "RF5": "Direct and partner teams chase the same accounts without rules",
    "RF6": "The sales team is sized below what the market needs",
    "W1": "Assigned accounts are not being worked",
    "W2": "Attainment varies widely within comparable groups",
    "W3": "Comparable books hold very different potential",
    "W4": "Whole parts of the market have no coverage",
    "W5": "Pipeline coverage is outside the usual band",
    "W6": "Junior reps hold enterprise accounts",
    "W7": "Several reps pursue the same accounts",
    "W8": "The merger left duplicate customers with two owners",
}


def _severity(flag: dict[str, Any]) -> float:
    """How far past its threshold a triggered flag is (value / threshold, or
    the value itself for count thresholds of 0)."""
    value, threshold = flag.get("value"), flag.get("threshold")
    if not isinstance(value, (int, float)):
        return 1.0
    if isinstance(threshold, (list, tuple)):  # a band: distance outside it, relative
        lo, hi = threshold
        return max(lo / value if value else float("inf"), value / hi if hi else 1.0)
    return value / threshold if threshold else float(value)


def key_findings(flags: list[dict[str, Any]], limit: int = 4) -> list[str]:
    """The few findings an investment committee should read first, as
    "headline. evidence" sentences: triggered red flags in the order of the
    red-flag list (market coverage first, as the diligence question is whether
    the market is covered), then triggered warnings, most severe first."""
    triggered = [f for f in flags if f.get("status") == "triggered"]
    red_order = {fid: i for i, fid in enumerate(f"RF{n}" for n in range(1, 7))}
    ranked = sorted(
        triggered,
        key=lambda f: (
            (0, red_order[f["id"]], 0.0) if f["id"] in red_order else (1, 0, -_severity(f)),
            str(f["id"]),
        ),
    )
    return [f"{FLAG_HEADLINES.get(f['id'], f['id'])}. {f['detail']}" for f in ranked[:limit]]


def summary(flags: list[dict[str, Any]]) -> list[str]:
    """The headline: how many red flags and warnings were raised, the key
    findings, and what could not be judged."""
    triggered = [f for f in flags if f["status"] == "triggered"]
    red = [f for f in triggered if f["id"].startswith("RF")]
    amber = [f for f in triggered if f["id"].startswith("W")]
    missing = [f for f in flags if f["status"] == "not_assessed"]
    out = [
        f"{len(red)} of 6 red flags and {len(amber)} of 8 warnings are raised."
        if flags
        else "No flag could be evaluated."
    ]
    out += key_findings(flags)
    if missing:
        out.append(
            f"{len(missing)} flag(s) could not be assessed from the data provided: "
            + ", ".join(f["id"] for f in missing)
            + "."
        )
    return out
