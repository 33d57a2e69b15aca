"""Plain-English findings generated from the numbers, one function per step.

Each step function takes the step's metrics, the run's parameters and the flags
evaluated on those metrics (:func:`diligence.metrics.flags.evaluate`), and
returns the sentences the report shows, so the narrative never drifts from the
figures and never holds placeholder text. Where a sentence says how a figure
stands against its threshold, the words come from the evaluated flag
(:func:`~diligence.metrics.flags.relation`): the narrative never judges a
metric itself, so it always agrees with the scorecard. A metric the data does
not allow produces no sentence of its own; the summary says what could not be
assessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from diligence.metrics.flags import relation, severity
from diligence.registry import FLAGS, spec
from diligence.text import fmt_int, fmt_pct, fmt_ratio, format_value

Metrics = Mapping[str, Any]
Flags = Sequence[Mapping[str, Any]]


def _has(m: Metrics, *names: str) -> bool:
    return all(m.get(n) is not None for n in names)


def _judged(flags: Flags, flag_id: str) -> str:
    """ ", above the 20% threshold (red flag RF1)" for a judged flag; "" otherwise."""
    flag = next((f for f in flags if f.get("id") == flag_id), None)
    phrase = relation(flag) if flag else ""
    if not phrase:
        return ""
    kind = "red flag" if spec(flag_id).is_red else "warning"
    return f", {phrase} ({kind} {flag_id})"


def _kpis(m: Metrics, items: Sequence[tuple[str, str, str | None]]) -> list[tuple[str, str]]:
    """(label, formatted value) tiles; a metric that a flag judges reads as the flag shows it."""
    return [(label, format_value(m.get(name), kind or metric_kind(name))) for label, name, kind in items]


def metric_kind(name: str) -> str:
    """How a metric reads: as the flag that judges it shows it, else by its name."""
    from diligence.report.formats import value_kind

    judged = next((s for s in FLAGS if s.metric == name), None)
    return judged.kind if judged else value_kind(name, None)


def band_text(params: Mapping[str, Any]) -> str:
    """The pipeline-coverage band of this run, as it reads: "3.0×–5.0×"."""
    return spec("W5").threshold_text(params["thresholds"]["W5"])


def coverage_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Accounts", "accounts_total", "int"),
            ("Rep-assigned", "rep_assigned_pct", "pct"),
            ("Unassigned", "unassigned_pct", None),
            ("Orphaned accounts", "orphaned_accounts", "int"),
            (f"Worked in the last {params['active_window_days']} days", "contacted_90d_pct", "pct"),
            ("Assigned, not worked", "assigned_not_worked_pct", None),
        ],
    )


def market_coverage(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
    out = []
    if _has(m, "unassigned_pct", "accounts_total"):
        out.append(
            f"{fmt_pct(m['unassigned_pct'])} of the {fmt_int(m['accounts_total'])} accounts have neither an active rep "
            f"nor a partner{_judged(flags, 'RF1')}."
        )
    if _has(m, "orphaned_accounts") and m["orphaned_accounts"]:
        out.append(
            f"{fmt_int(m['orphaned_accounts'])} accounts are still owned in the CRM by reps who have left or are unknown."
        )
    if _has(m, "unassigned_potential_pct", "unassigned_pct"):
        out.append(f"Unassigned accounts hold {fmt_pct(m['unassigned_potential_pct'])} of the market's potential.")
    if _has(m, "assigned_not_worked_pct"):
        out.append(
            f"{fmt_pct(m['assigned_not_worked_pct'])} of rep-assigned accounts saw no activity in the last "
            f"{params['active_window_days']} days{_judged(flags, 'W1')}: assigned is not covered."
        )
    if _has(m, "white_space_cells") and m["white_space_cells"]:
        share = (
            f", holding {fmt_pct(m['white_space_potential_pct'])} of potential"
            if _has(m, "white_space_potential_pct")
            else ""
        )
        n = m["white_space_cells"]
        cells = "market cell has" if n == 1 else "market cells have"
        out.append(
            f"{fmt_int(n)} {cells} {params['white_space_min_accounts']} or more accounts and no coverage at all{share}."
        )
    return out


def balance_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Attainment max/min", "attainment_max_min_ratio", None),
            ("Attainment CV (worst group)", "attainment_cv_max", None),
            ("Potential max/min", "potential_max_min_ratio", None),
        ],
    )


def capacity_balance(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
    out = []
    if _has(m, "attainment_max_min_ratio"):
        out.append(
            f"In the most uneven group of comparable territories, the best rep attains "
            f"{fmt_ratio(m['attainment_max_min_ratio'])} the worst{_judged(flags, 'RF2')}."
        )
    elif m.get("attainment_zero_min_groups"):
        out.append(
            f"{fmt_int(m['attainment_zero_min_groups'])} group(s) of comparable territories include a tenured rep "
            f"with no bookings at all in the year while others sell{_judged(flags, 'RF2')}."
        )
    if _has(m, "attainment_cv_max"):
        out.append(
            f"The coefficient of variation of attainment reaches {spec('W2').value_text(m['attainment_cv_max'])} "
            f"within a comparable group{_judged(flags, 'W2')}."
        )
    if _has(m, "potential_max_min_ratio"):
        out.append(
            f"The richest book in a comparable group holds {fmt_ratio(m['potential_max_min_ratio'])} the potential "
            f"of the poorest{_judged(flags, 'W3')}."
        )
    return out


def pipeline_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Median pipeline coverage", "pipeline_coverage_median", None),
            (f"Reps outside {band_text(params)}", "pipeline_coverage_out_of_band_pct", "pct"),
            ("Win rate (365 days)", "win_rate", "pct"),
        ],
    )


def pipeline_win_rates(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
    out = []
    if _has(m, "pipeline_coverage_median"):
        out.append(
            f"The median quota-carrying rep has {fmt_ratio(m['pipeline_coverage_median'])} pipeline coverage for the "
            f"next 90 days{_judged(flags, 'W5')}."
        )
    if _has(m, "pipeline_coverage_out_of_band_pct"):
        out.append(
            f"{fmt_pct(m['pipeline_coverage_out_of_band_pct'])} of those reps sit outside the {band_text(params)} band."
        )
    if _has(m, "win_rate"):
        implied = (
            f", which implies about {fmt_ratio(1 / m['win_rate'])} coverage to make quota" if m["win_rate"] else ""
        )
        out.append(f"The company won {fmt_pct(m['win_rate'])} of the deals it closed in the last year{implied}.")
    return out


def pipeline_quality_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Stale share of next quarter's pipeline", "stale_pipeline_pct", None),
            ("…pushed back twice or more", "pushed_pipeline_pct", "pct"),
            ("Quality-adjusted coverage (median)", "quality_pipeline_coverage_median", "ratio"),
            ("Median sales cycle", "sales_cycle_days_median", "days"),
        ],
    )


def pipeline_quality(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
    """Sentences of the pipeline-quality step: how much of the pipeline behind
    coverage is stale, and what coverage is left once it is set aside."""
    out = []
    if _has(m, "stale_pipeline_pct"):
        out.append(
            f"{fmt_pct(m['stale_pipeline_pct'])} of the open pipeline closing in the next 90 days is stale — open "
            f"longer than twice the median sales cycle, or pushed back twice or more{_judged(flags, 'W9')}."
        )
    if _has(m, "pushed_pipeline_pct"):
        out.append(
            f"{fmt_pct(m['pushed_pipeline_pct'])} of it has had its expected close date moved later at least twice."
        )
    if _has(m, "pipeline_coverage_median", "quality_pipeline_coverage_median"):
        out.append(
            f"Counting only deals that are not stale, the median rep's coverage falls from "
            f"{fmt_ratio(m['pipeline_coverage_median'])} to {fmt_ratio(m['quality_pipeline_coverage_median'])} "
            f"(the usual band is {band_text(params)})."
        )
    if _has(m, "sales_cycle_days_median"):
        out.append(
            f"A won deal takes {format_value(m['sales_cycle_days_median'], 'days')} from creation to close (median "
            "of the last year's wins)."
        )
    return out


def productivity_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Reps at quota", "reps_at_quota_pct", None),
            ("Bookings of the top fifth of reps", "top_fifth_bookings_share", "pct"),
            ("Realised attrition (365 days)", "annual_attrition_observed", "pct"),
            ("Months to first win (median)", "months_to_first_win_median", "months"),
        ],
    )


def productivity(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
    """Sentences of the productivity step: attainment, concentration, attrition
    and ramp, from the company's own history."""
    out = []
    if _has(m, "reps_at_quota_pct"):
        out.append(
            f"{fmt_pct(m['reps_at_quota_pct'])} of the reps who carried a quota all year reached it"
            f"{_judged(flags, 'W10')}: a coverage model that counts every seat at full quota overstates what "
            "the team delivers, so the scenario step prices seats at the attainment observed here."
        )
    if _has(m, "top_fifth_bookings_share"):
        out.append(
            f"The best fifth of those reps booked {fmt_pct(m['top_fifth_bookings_share'])} of their bookings"
            + (
                ": losing a few of them would cost more than their headcount suggests."
                if m["top_fifth_bookings_share"] > 0.4
                else "."
            )
        )
    if _has(m, "annual_attrition_observed"):
        leaving = (
            f"; at that rate about {m['annual_attrition_observed'] * m['quota_carrying_reps']:.0f} of today's "
            f"{m['quota_carrying_reps']:,} must be replaced each year before headcount grows at all"
            if _has(m, "quota_carrying_reps")
            else ""
        )
        out.append(
            f"Over the last year {fmt_pct(m['annual_attrition_observed'])} of quota-carrying reps left "
            f"(departures over the mean headcount){leaving}."
        )
    if _has(m, "months_to_first_win_median"):
        out.append(
            f"Reps hired 6 to 24 months ago took {format_value(m['months_to_first_win_median'], 'months')} to win "
            "their first deal (median): a hire made today adds nothing to bookings before then."
        )
    if _has(m, "potential_bookings_rank_corr"):
        corr = m["potential_bookings_rank_corr"]
        out.append(
            f"The potential used ranks accounts with a rank correlation of {format_value(corr, 'num')} against "
            "their last year's bookings"
            + (
                ": it says little about where bookings come from, so potential-weighted findings deserve caution."
                if corr < 0.3
                else "."
            )
        )
    return out


def channels_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Channel conflict accounts", "channel_conflict_accounts", "int"),
            ("Multi-rep accounts", "multi_rep_accounts", "int"),
        ],
    )


def channels_overlaps(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
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


def governance_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Months since rebalance", "months_since_rebalance", None),
            ("Attrition-driven changes", "attrition_driven_changes_pct", "pct"),
            ("Survey mismatch", "survey_mismatch_pct", None),
        ],
    )


def territory_governance(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
    out = []
    if _has(m, "months_since_rebalance"):
        out.append(
            f"The last formal rebalance was {spec('RF3').value_text(m['months_since_rebalance'])} before the as-of "
            f"date{_judged(flags, 'RF3')}."
        )
    if _has(m, "attrition_driven_changes_pct"):
        out.append(f"{fmt_pct(m['attrition_driven_changes_pct'])} of owner changes were forced by departures.")
    if _has(m, "survey_mismatch_pct"):
        out.append(
            f"{fmt_pct(m['survey_mismatch_pct'])} of surveyed reps describe their territory differently from the "
            f"CRM{_judged(flags, 'RF4')}."
        )
    return out


def capacity_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Headcount shortfall (worst segment)", "headcount_shortfall_pct", None),
            ("Enterprise accounts with junior reps", "junior_on_enterprise_pct", None),
        ],
    )


def headcount_capacity(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
    out = []
    if _has(m, "headcount_shortfall_pct"):
        if m["headcount_shortfall_pct"]:
            out.append(
                f"The most under-staffed segment has {fmt_pct(m['headcount_shortfall_pct'])} fewer quota-carrying reps "
                f"than its account count needs{_judged(flags, 'RF6')}."
            )
        else:
            out.append("Every segment has at least the headcount its account count needs.")
    if _has(m, "junior_on_enterprise_pct"):
        segments = " / ".join(params["enterprise_segments"])
        levels = " / ".join(params["junior_levels"])
        out.append(
            f"{levels.capitalize()} reps own {fmt_pct(m['junior_on_enterprise_pct'])} of {segments} "
            f"accounts{_judged(flags, 'W6')}."
        )
    return out


def merger_kpis(m: Metrics, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _kpis(
        m,
        [
            ("Cross-CRM duplicate pairs", "cross_crm_duplicates", "int"),
            ("…owned by two different reps", "cross_crm_conflicting_owners", "int"),
        ],
    )


def merger_overlap(m: Metrics, params: Mapping[str, Any], flags: Flags) -> list[str]:
    if not _has(m, "cross_crm_duplicates"):
        return []
    out = [f"{fmt_int(m['cross_crm_duplicates'])} pairs of accounts appear in both legacy CRMs."]
    if _has(m, "cross_crm_conflicting_owners"):
        out.append(
            f"In {fmt_int(m['cross_crm_conflicting_owners'])} of them, two different active reps own the same customer."
        )
    return out


def potential_kpis(
    info: Mapping[str, Any], client: Mapping[str, Any], idle: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """Tiles of the market-potential step: the basis, the model's holdout AUC
    and lift, the client potential's rank correlation, the strong-but-idle count."""
    card = info.get("card") or {}
    names = {"column": "Client's column", "model": "Modelled", "proxy": "Proxy"}
    return [
        ("Potential basis", names.get(str(info.get("basis")), "—")),
        ("Model AUC (held-out year)", format_value(card.get("auc"), "num")),
        ("Top-decile lift", format_value(card.get("top_decile_lift"), "ratio")),
        ("Client potential vs bookings (rank corr.)", format_value(client.get("rank_corr"), "num")),
        ("Strong accounts nobody works", format_value(idle.get("accounts"), "int")),
    ]


def potential_card(info: Mapping[str, Any]) -> pd.DataFrame:
    """The model card as a two-column table (``item``, ``value``, both text): what
    it learnt from, its sizes, its holdout figures with their intervals, whether
    it is used and why."""
    card = info.get("card") or {}

    def interval(low: Any, high: Any, kind: str) -> str:
        return "" if low is None else f" ({format_value(low, kind)}–{format_value(high, kind)})"

    rows = [
        ("Model", "gradient-boosted trees, Poisson loss: yearly won bookings of a worked account"),
        ("Learns from", ", ".join(info.get("features") or []) or "—"),
        ("Training", "accounts worked in the year before the last; label: their bookings that year"),
        ("Test", "accounts worked in the last year (held out); label: won anything that year"),
        ("Accounts in training", format_value(card.get("n_train"), "int")),
        ("…of which won anything", format_value(info.get("train_wins"), "int")),
        ("Accounts in the test", format_value(card.get("n_test"), "int")),
        (
            "Holdout AUC (95% interval)",
            format_value(card.get("auc"), "num") + interval(card.get("auc_low"), card.get("auc_high"), "num"),
        ),
        ("Top-decile lift", format_value(card.get("top_decile_lift"), "ratio")),
        (
            "Used when",
            f"AUC ≥ {info.get('min_auc', 0.6):.2f} and ≥ {info.get('min_train_wins', 50)} accounts with wins in training",
        ),
        ("Used", "yes" if card.get("used") else "no"),
        ("Why", str(card.get("reason") or "—")),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def market_potential(
    info: Mapping[str, Any],
    client: Mapping[str, Any],
    difference: Mapping[str, float] | None,
    idle: Mapping[str, Any],
    params: Mapping[str, Any],
) -> list[str]:
    """Sentences of the market-potential step: the basis used and why, how the
    model did on the held-out year, whether the client's potential predicts
    bookings, how the two rank accounts differently, and the strong accounts
    nobody works. ``info`` is what the run recorded
    (:func:`diligence.execution.potential.read`), ``client`` the
    :func:`~diligence.metrics.potential_model.client_check`, ``idle`` the count
    and potential share of the strong-but-idle accounts."""
    out = []
    if info.get("why"):
        out.append(f"Potential-weighted figures in this report use {info['why']}.")
    card = info.get("card") or {}
    if card.get("auc") is not None:
        interval = (
            f" (95% interval {card['auc_low']:.2f}–{card['auc_high']:.2f})" if card.get("auc_low") is not None else ""
        )
        lift = (
            f"; the tenth of accounts it scores highest won {card['top_decile_lift']:.1f}× as often as the average"
            if card.get("top_decile_lift") is not None
            else ""
        )
        out.append(
            f"Trained on the {fmt_int(card['n_train'])} accounts worked in the year before the last and tested on "
            f"the {fmt_int(card['n_test'])} worked in the last year, the model tells accounts that won from those "
            f"that did not with an AUC of {card['auc']:.2f}{interval}{lift}; it must reach "
            f"{info.get('min_auc', 0.6):.2f} to be used."
        )
    elif card:
        out.append(f"No potential model could be tested: {card.get('reason')}.")
    corr, share = client.get("rank_corr"), client.get("top_decile_share")
    if corr is not None:
        # Most accounts book nothing in a year, which holds the rank correlation down; the
        # share of bookings in the top tenth says whether the potential finds the buyers.
        predicts = corr >= 0.3 or (share is not None and share >= 0.3)
        verdict = (
            "it points to where revenue came from"
            if predicts
            else "it says little about where revenue came from, so potential-weighted findings deserve caution"
        )
        top = (
            f", and its top tenth of accounts brought {fmt_pct(share)} of the bookings ({share / 0.1:.1f}× their share)"
            if share is not None
            else ""
        )
        out.append(
            f"The client's own potential ranks accounts with a rank correlation of {corr:.2f} against the last "
            f"year's bookings{top}: {verdict}."
        )
    if difference and difference.get("rank_corr") == difference.get("rank_corr"):  # not NaN
        out.append(
            f"Of the client's top fifth of accounts by potential, the model puts {fmt_pct(difference['top_overlap'])} "
            f"in its own top fifth (rank correlation {difference['rank_corr']:.2f} between the two)."
        )
    if idle.get("accounts"):
        out.append(
            f"{fmt_int(idle['accounts'])} of the top fifth of accounts by potential saw no activity in the last "
            f"{params['active_window_days']} days; they hold {fmt_pct(idle['potential_share'])} of the market's "
            "potential."
        )
    return out


def ranked_flags(flags: Flags) -> list[Mapping[str, Any]]:
    """The triggered flags, most important first: red flags in the order of the
    registry (market coverage first, as the diligence question is whether the
    market is covered), then warnings, most severe first
    (:func:`~diligence.metrics.flags.severity`)."""
    order = {s.id: i for i, s in enumerate(FLAGS)}
    triggered = [f for f in flags if f.get("status") == "triggered" and f.get("id") in order]
    return sorted(
        triggered,
        key=lambda f: (0, order[f["id"]], 0.0) if spec(f["id"]).is_red else (1, 0, -severity(f)),
    )


def key_findings(flags: Flags, limit: int = 4) -> list[str]:
    """The few findings an investment committee should read first, as
    "headline. evidence" sentences, in :func:`ranked_flags` order."""
    return [f"{spec(f['id']).headline}. {f['detail']}" for f in ranked_flags(flags)[:limit]]


def summary(flags: Flags) -> list[str]:
    """The headline: how many red flags and warnings were raised, the key
    findings, and what could not be judged."""
    if not flags:
        return ["No flag could be evaluated."]
    raised = [spec(f["id"]) for f in flags if f["status"] == "triggered"]
    missing = [f for f in flags if f["status"] == "not_assessed"]
    n_red = sum(s.is_red for s in FLAGS)
    red = sum(s.is_red for s in raised)
    out = [f"{red} of {n_red} red flags and {len(raised) - red} of {len(FLAGS) - n_red} warnings are raised."]
    out += key_findings(flags)
    if missing:
        out.append(
            f"{len(missing)} flag(s) could not be assessed from the data provided: "
            + ", ".join(f["id"] for f in missing)
            + "."
        )
    return out
