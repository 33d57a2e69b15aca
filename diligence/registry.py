"""The flag registry (SPEC §5): one entry per red flag and warning.

Everything the kit says about a flag comes from its entry here: its id and
name, the metric it judges, how its value and threshold read, its default
threshold and comparison, the inputs it needs, the headline a reader sees and
the sentences of its detail. Evaluation (:mod:`diligence.metrics.flags`),
parameter validation (:mod:`diligence.params`), the scorecard, the narrative,
the methodology appendix and the workbook all read these entries, so adding a
flag is one entry here plus its metric.

Sentences are ``str.format`` templates. ``{value}`` is the judged value as it
reads (``31.2%``, ``2.4×``, ``19.4 months``, ``0.45``); the run's parameters
fill ``{window_days}``, ``{grid}``, ``{min_accounts}``, ``{segments}``,
``{levels}`` and ``{groups}`` (" (same segment and role)").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from diligence.text import fmt_exact_pct, fmt_num, fmt_plain, fmt_ratio, format_value

RED, AMBER = "red_flag", "warning"

#: How a flag's value is compared with its threshold.
ABOVE, BELOW, OUTSIDE = "above", "below", "outside"


@dataclass(frozen=True)
class FlagSpec:
    """One flag of SPEC §5.

    Attributes
    ----------
    id, name
        The SPEC's id (``RF1``) and name (``unassigned_accounts``).
    level
        :data:`RED` (red flag) or :data:`AMBER` (warning).
    metric
        The SPEC §4 metric judged.
    kind
        How value and threshold read: ``pct``, ``ratio``, ``months``, ``int``
        (a count) or ``num``.
    threshold
        The default threshold; a ``(low, high)`` band for :data:`OUTSIDE`.
    test
        :data:`ABOVE` (triggered when value > threshold), :data:`BELOW`
        (value < threshold) or :data:`OUTSIDE` (value outside the band, its
        ends inside). Values within rounding of the threshold count as equal.
    needs
        The tables (``"activities"``) and columns (``"reps.level"``) the metric
        needs, alternatives joined by ``|``; ``"accounts.*white_space_dimensions"``
        stands for any of the columns that parameter names. They say why a flag
        is not assessed.
    headline
        The finding in a reader's words, for the key findings.
    action
        What to do about it when it is raised, for the deck's flag slides.
    says
        The measured statement, completed by how it stands against the
        threshold. For counts, a ``(one, many)`` pair completing "No …",
        "1 …", "3 …".
    says_zero
        The statement when the value is 0, where it reads better otherwise.
    otherwise
        Why the flag is not assessed when every input was there.
    rule
        When the flag triggers, for the methodology appendix.
    unbounded_by
        Extra metrics counting groups where the ratio is unbounded (a zero
        minimum while a peer is positive); any > 0 triggers the flag.
    unbounded
        ``(one, many, rest)`` of the unbounded sentence: "2 reps have a book …".
    missing_triggers
        A sentence for when the value is None although ``needs`` are met
        (``{basis}``: how events were identified); the flag is then triggered.
    unless
        ``(parameter, clear sentence, triggered tail)``: the flag is clear
        whenever the boolean parameter is true.
    """

    id: str
    name: str
    level: str
    metric: str
    kind: str
    threshold: Any
    headline: str
    says: str | tuple[str, str]
    rule: str
    action: str = ""
    needs: tuple[str, ...] = ()
    test: str = ABOVE
    says_zero: str | None = None
    otherwise: str = ""
    unbounded_by: tuple[str, ...] = ()
    unbounded: tuple[str, str, str] | None = None
    missing_triggers: str | None = None
    unless: tuple[str, str, str] | None = None

    @property
    def is_red(self) -> bool:
        return self.level == RED

    def value_text(self, value: Any) -> str:
        """The value as the scorecard and the sentences show it ("31.2%", "—")."""
        return format_value(value, self.kind)

    def threshold_text(self, threshold: Any | None = None) -> str:
        """The threshold as a person set it: "20%", "2.0×", "12 months", "3.0×–5.0×"."""
        t = self.threshold if threshold is None else threshold
        if isinstance(t, (list, tuple)):
            return "–".join(self.threshold_text(x) for x in t)
        if self.kind == "pct":
            return fmt_exact_pct(t)
        if self.kind == "ratio":
            return fmt_ratio(t)
        if self.kind == "months":
            return f"{fmt_plain(t)} months"
        if self.kind == "num":
            return fmt_num(t)
        return fmt_plain(t)

    def relation(self, status: str, value: Any, threshold: Any | None = None) -> str:
        """How a judged value stands against the threshold, as a phrase:
        "above the 20% threshold", "within the 12-month threshold", "inside the
        3.0×–5.0× band", "at or below the threshold of 0"; "" for a count of 0
        that is clear (the count says it all)."""
        t = self.threshold if threshold is None else threshold
        hit = status == "triggered"
        if self.test == OUTSIDE:
            lo, _ = t
            side = ("below" if value is not None and value < lo else "above") if hit else "inside"
            return f"{side} the {self.threshold_text(t)} band"
        if self.kind == "months":
            return f"{'more than' if hit else 'within'} the {fmt_plain(t)}-month threshold"
        if self.kind == "int":
            if not hit and value == 0:
                return ""
            return f"{'above' if hit else 'at or below'} the threshold of {fmt_plain(t)}"
        if self.test == BELOW:
            words = "below" if hit else "at or above"
        else:
            words = "above" if hit else "at or below"
        return f"{words} the {self.threshold_text(t)} threshold"


_ATTAINMENT_NEEDS = (
    "reps.quota",
    "opportunities",
    "opportunities.owner_rep_id",
    "opportunities.close_date",
    "opportunities.is_won",
)

#: The flags, in SPEC §5 order.
FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec(
        id="RF1",
        name="unassigned_accounts",
        level=RED,
        metric="unassigned_pct",
        kind="pct",
        threshold=0.20,
        headline="Too much of the market has no owner",
        action="Give every unassigned account an owner: the highest-potential ones to reps with room in their books now, the long tail to an inside-sales or partner motion.",
        says="{value} of accounts have no active rep or partner",
        needs=("accounts.owner_rep_id",),
        otherwise="the accounts table has no rows.",
        rule="unassigned_pct above the threshold",
    ),
    FlagSpec(
        id="RF2",
        name="attainment_disparity",
        level=RED,
        metric="attainment_max_min_ratio",
        kind="ratio",
        threshold=2.0,
        headline="Comparable territories produce very different results",
        action="Rebalance books within each comparable group so that potential, not history, sets each rep's share, and review the lowest attainers' books before judging the reps.",
        says="In the worst comparable group the highest attainment is {value} the lowest",
        needs=_ATTAINMENT_NEEDS,
        otherwise="no comparable group{groups} has two or more quota-carrying reps employed for the whole year "
        "with attainment above zero.",
        unbounded_by=("attainment_zero_min_groups",),
        unbounded=(
            "comparable group has",
            "comparable groups have",
            "a rep at 0% attainment while a peer booked business, so max/min attainment is unbounded",
        ),
        rule="in some comparable group, max attainment above threshold × min attainment",
    ),
    FlagSpec(
        id="RF3",
        name="stale_rebalancing",
        level=RED,
        metric="months_since_rebalance",
        kind="months",
        threshold=12,
        headline="Territories are not rebalanced",
        action="Set a yearly territory review: rebalance before each plan year, with a written rule for reassigning a book when its rep leaves.",
        says="The last rebalance event was {value} before the as-of date",
        needs=("assignment_history",),
        missing_triggers="No rebalance event is recorded in assignment_history on or before the as-of date "
        "({basis}), which counts as {relation}.",
        rule="no rebalance event within the threshold (months) before the as-of date",
    ),
    FlagSpec(
        id="RF4",
        name="territory_perception_gap",
        level=RED,
        metric="survey_mismatch_pct",
        kind="pct",
        threshold=0.10,
        headline="Reps do not recognise their territories in the CRM",
        action="Agree the territory definitions with the reps and load the agreed books into the CRM, so that coverage is measured on the territories actually worked.",
        says="{value} of surveyed active reps describe their territory differently from what they own in the CRM",
        needs=("rep_survey", "accounts.owner_rep_id"),
        otherwise="no surveyed rep is active at the as-of date with an answer that can be compared with the CRM.",
        rule="survey_mismatch_pct above the threshold",
    ),
    FlagSpec(
        id="RF5",
        name="channel_conflict_without_rules",
        level=RED,
        metric="channel_conflict_accounts",
        kind="int",
        threshold=0,
        headline="Direct and partner teams chase the same accounts without rules",
        action="Write rules of engagement (who owns which accounts, how a partner registers a deal, how a conflict is settled) and apply them first to the accounts in conflict.",
        says=(
            "account had direct and partner deals open at the same time in the 365 days before the as-of date",
            "accounts had direct and partner deals open at the same time in the 365 days before the as-of date",
        ),
        needs=("opportunities", "opportunities.channel"),
        otherwise="the opportunities do not allow channel conflicts to be measured.",
        unless=(
            "rules_of_engagement_documented",
            "rules of engagement between the channels are documented",
            "and no rules of engagement are documented",
        ),
        rule="channel_conflict_accounts above the threshold and rules of engagement not documented",
    ),
    FlagSpec(
        id="RF6",
        name="headcount_driven_design",
        level=RED,
        metric="headcount_shortfall_pct",
        kind="pct",
        threshold=0.25,
        headline="The sales team is sized below what the market needs",
        action="Size the team from the market's needs: hire into the segments short of reps, with the ramp and the backfill of attrition in the hiring plan.",
        says="The most short-staffed segment has {value} fewer quota-carrying reps than its capacity need",
        says_zero="No segment has fewer quota-carrying reps than its capacity need (0.0% shortfall)",
        needs=("accounts.segment", "reps.segment", "reps.quota"),
        otherwise="no segment has a capacity need.",
        rule="headcount_shortfall_pct above the threshold",
    ),
    FlagSpec(
        id="W1",
        name="coverage_gap",
        level=AMBER,
        metric="assigned_not_worked_pct",
        kind="pct",
        threshold=0.30,
        headline="Assigned accounts are not being worked",
        action="Review the unworked books with their owners: take back what a rep cannot work and give it to reps or a pooled motion with capacity.",
        says="{value} of rep-assigned accounts had no logged activity in the {window_days} days before the as-of date",
        needs=("activities", "accounts.owner_rep_id"),
        otherwise="no account is rep-assigned.",
        rule="assigned_not_worked_pct above the threshold",
    ),
    FlagSpec(
        id="W2",
        name="attainment_variance",
        level=AMBER,
        metric="attainment_cv_max",
        kind="num",
        threshold=0.40,
        headline="Attainment varies widely within comparable groups",
        action="Find out whether the spread comes from the books or from the reps: set each rep's attainment against the potential of their book before acting on performance.",
        says="The largest coefficient of variation of attainment within a comparable group is {value}",
        needs=_ATTAINMENT_NEEDS,
        otherwise="no comparable group{groups} has two or more quota-carrying reps employed for the whole year "
        "with bookings.",
        rule="attainment_cv_max above the threshold",
    ),
    FlagSpec(
        id="W3",
        name="opportunity_imbalance",
        level=AMBER,
        metric="potential_max_min_ratio",
        kind="ratio",
        threshold=3.0,
        headline="Comparable books hold very different potential",
        action="Move accounts from the richest books to the poorest within each comparable group until the potential per rep sits inside the balance band.",
        says="In the worst comparable group the largest book holds {value} the potential of the smallest",
        needs=("reps.quota", "accounts.owner_rep_id"),
        otherwise="no comparable group{groups} has two or more active quota-carrying reps.",
        unbounded_by=("potential_zero_books", "potential_zero_min_groups"),
        unbounded=(
            "rep has",
            "reps have",
            "a book with no potential while comparable peers hold some, so max/min book potential is unbounded",
        ),
        rule="potential_max_min_ratio above the threshold",
    ),
    FlagSpec(
        id="W4",
        name="white_space",
        level=AMBER,
        metric="white_space_cells",
        kind="int",
        threshold=0,
        headline="Whole parts of the market have no coverage",
        action="Give each white-space cell an owner (a rep, a partner or an inside-sales motion), starting with the cells that hold the most potential.",
        says=(
            "{grid} cell holds {min_accounts} or more accounts with none covered by a rep or partner",
            "{grid} cells hold {min_accounts} or more accounts with none covered by a rep or partner",
        ),
        needs=("accounts.owner_rep_id", "accounts.*white_space_dimensions"),
        otherwise="the white-space grid could not be built.",
        rule="white_space_cells above the threshold",
    ),
    FlagSpec(
        id="W5",
        name="pipeline_coverage_off_band",
        level=AMBER,
        metric="pipeline_coverage_median",
        kind="ratio",
        threshold=(3.0, 5.0),
        test=OUTSIDE,
        headline="Pipeline coverage is outside the usual band",
        action="Below the band, build pipeline in the reps' books before the quarter starts; above it, qualify harder, as much of that pipeline will not close.",
        says="The median pipeline coverage of active quota-carrying reps (open pipeline closing in the next 90 days "
        "over a quarter's quota) is {value}",
        needs=("opportunities", "opportunities.owner_rep_id", "opportunities.close_date", "reps.quota"),
        otherwise="no active quota-carrying rep to measure pipeline coverage for.",
        rule="pipeline_coverage_median outside the band",
    ),
    FlagSpec(
        id="W6",
        name="seniority_mismatch",
        level=AMBER,
        metric="junior_on_enterprise_pct",
        kind="pct",
        threshold=0.10,
        headline="Junior reps hold enterprise accounts",
        action="Move enterprise accounts from junior reps to senior ones, or pair each junior with a senior owner on the largest accounts.",
        says="{value} of {segments} accounts are owned by active {levels} reps",
        needs=("accounts.segment", "accounts.owner_rep_id", "reps.level"),
        otherwise="no account is in the enterprise segments ({segments}).",
        rule="junior_on_enterprise_pct above the threshold",
    ),
    FlagSpec(
        id="W7",
        name="rep_overlap",
        level=AMBER,
        metric="multi_rep_accounts",
        kind="int",
        threshold=0,
        headline="Several reps pursue the same accounts",
        action="Name one owner per account and settle how a second rep may work it (an overlay role, split credit), so that reps stop competing for the same customer.",
        says=(
            "account had direct deals of two or more reps open at the same time in the 365 days before the as-of date",
            "accounts had direct deals of two or more reps open at the same time in the 365 days before the as-of date",
        ),
        needs=("opportunities", "opportunities.owner_rep_id"),
        otherwise="the opportunities do not allow rep overlaps to be measured.",
        rule="multi_rep_accounts above the threshold",
    ),
    FlagSpec(
        id="W8",
        name="merger_overlap",
        level=AMBER,
        metric="cross_crm_conflicting_owners",
        kind="int",
        threshold=0,
        headline="The merger left duplicate customers with two owners",
        action="Merge each duplicate customer into one record with one owner, starting with those owned by two active reps.",
        says=(
            "pair of accounts duplicated across the merged CRMs is owned by two different active reps",
            "pairs of accounts duplicated across the merged CRMs are owned by two different active reps",
        ),
        needs=("accounts.source_company",),
        otherwise="accounts.source_company names fewer than two source companies.",
        rule="cross_crm_conflicting_owners above the threshold",
    ),
    FlagSpec(
        id="W9",
        name="stale_pipeline",
        level=AMBER,
        metric="stale_pipeline_pct",
        kind="pct",
        threshold=0.25,
        headline="Much of next quarter's pipeline is stale",
        action="Clean next quarter's pipeline: close or re-date deals open far past the usual cycle or pushed back repeatedly, and forecast on the quality-adjusted coverage.",
        says="{value} of the open pipeline closing in the 90 days after the as-of date is stale: open for more "
        "than twice the median sales cycle, or its close date pushed back twice or more",
        needs=("opportunities", "opportunities.close_date"),
        otherwise="no open pipeline closes in the 90 days after the as-of date, or neither the won deals' sales "
        "cycle nor a deal history allows its age or pushes to be judged.",
        rule="stale_pipeline_pct above the threshold",
    ),
    FlagSpec(
        id="W10",
        name="low_quota_attainment",
        level=AMBER,
        metric="reps_at_quota_pct",
        kind="pct",
        threshold=0.40,
        test=BELOW,
        headline="Few reps reach their quota",
        action="Before changing the team, test whether quotas ask more than the books can yield: set each quota against its book's potential and the attainment observed.",
        says="{value} of the reps who carried a quota for the whole 365 days before the as-of date reached it",
        needs=_ATTAINMENT_NEEDS,
        otherwise="no rep carried a quota for the whole 365 days before the as-of date.",
        rule="reps_at_quota_pct below the threshold",
    ),
)

BY_ID: dict[str, FlagSpec] = {spec.id: spec for spec in FLAGS}
FLAG_IDS: tuple[str, ...] = tuple(BY_ID)


def spec(flag_id: str) -> FlagSpec:
    """The registry entry of ``flag_id``; KeyError names the known ids."""
    try:
        return BY_ID[str(flag_id)]
    except KeyError:
        raise KeyError(f"unknown flag id {flag_id!r}; flag ids are {', '.join(FLAG_IDS)}") from None


def default_thresholds() -> dict[str, Any]:
    """Flag id → default threshold, as the parameters hold them (a band as a list)."""
    return {s.id: list(s.threshold) if isinstance(s.threshold, tuple) else s.threshold for s in FLAGS}


def threshold_ok(flag_id: str, value: Any) -> bool:
    """Whether ``value`` has the shape of ``flag_id``'s threshold: a finite number,
    or a ``[low, high]`` band with low ≤ high (a NaN would switch a flag off)."""

    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    if BY_ID[flag_id].test == OUTSIDE:
        return (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(number(x) for x in value)
            and value[0] <= value[1]
        )
    return number(value)
