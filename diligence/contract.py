"""The data contract of SPEC §2: tables, their columns, types and keys.

This module is the single source of truth for table and column names. Intake
builds its schemas from it, the synthetic company writes it, and the metric
modules read the names it fixes.

Types after intake (what every metric function may rely on):

========  ==========================================================
kind      pandas dtype after intake
========  ==========================================================
text      pandas string (stripped; empty string becomes missing)
date      ``datetime64[ns]``, naive, at midnight
number    ``float64``
integer   ``Int64`` (nullable)
bool      ``boolean`` (nullable)
========  ==========================================================

Optional columns the client did not send are *absent* from the frame (so a
metric can tell "not provided" from "blank"), with three documented defaults
that intake fills in: ``reps.role`` (``AE``), ``opportunities.channel``
(``direct``) and ``opportunities.is_closed`` / ``is_won`` (derived from
``stage`` when that column exists).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TEXT, DATE, NUMBER, INTEGER, BOOL = "text", "date", "number", "integer", "bool"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    nonneg: bool = False  # negative values are an error (amounts, quotas)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: str | None = None  # unique key column, if any
    required: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


C = Column
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "accounts",
            (
                C("account_id", TEXT, True),
                C("account_name", TEXT, True),
                C("owner_rep_id", TEXT),
                C("partner_id", TEXT),
                C("segment", TEXT),
                C("region", TEXT),
                C("industry", TEXT),
                C("employees", INTEGER, nonneg=True),
                C("annual_revenue", NUMBER, nonneg=True),
                C("potential", NUMBER, nonneg=True),
                C("domain", TEXT),
                C("source_company", TEXT),
            ),
            key="account_id",
            required=True,
        ),
        Table(
            "reps",
            (
                C("rep_id", TEXT, True),
                C("rep_name", TEXT, True),
                C("role", TEXT),
                C("level", TEXT),
                C("segment", TEXT),
                C("region", TEXT),
                C("manager_id", TEXT),
                C("hire_date", DATE),
                C("end_date", DATE),
                C("quota", NUMBER, nonneg=True),
            ),
            key="rep_id",
            required=True,
        ),
        Table(
            "opportunities",
            (
                C("opportunity_id", TEXT, True),
                C("account_id", TEXT, True),
                C("owner_rep_id", TEXT),
                C("channel", TEXT),
                C("partner_id", TEXT),
                C("amount", NUMBER, True, nonneg=True),
                C("stage", TEXT),
                C("created_date", DATE, True),
                C("close_date", DATE),
                C("is_closed", BOOL),
                C("is_won", BOOL),
            ),
            key="opportunity_id",
        ),
        Table(
            "activities",
            (
                C("activity_id", TEXT),
                C("account_id", TEXT, True),
                C("rep_id", TEXT),
                C("activity_date", DATE, True),
                C("type", TEXT),
            ),
            key="activity_id",
        ),
        Table(
            "assignment_history",
            (
                C("account_id", TEXT, True),
                C("rep_id", TEXT),
                C("effective_date", DATE, True),
                C("change_type", TEXT),
            ),
        ),
        Table(
            "rep_survey",
            (
                C("rep_id", TEXT, True),
                C("described_segment", TEXT),
                C("described_region", TEXT),
                C("described_account_count", INTEGER, nonneg=True),
            ),
            key="rep_id",
        ),
        Table(
            "partners",
            (
                C("partner_id", TEXT, True),
                C("partner_name", TEXT),
                C("tier", TEXT),
            ),
            key="partner_id",
        ),
        # One row per change of a deal (schema 2). No key: a deal has many rows,
        # and rows of one day keep their file order (the SPEC's tie-break).
        Table(
            "opportunity_history",
            (
                C("opportunity_id", TEXT, True),
                C("changed_date", DATE, True),
                C("stage", TEXT),
                C("amount", NUMBER, nonneg=True),
                C("close_date", DATE),
            ),
        ),
    )
}
del C

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

#: The pandas dtype of each column kind after intake (see the module docstring).
DTYPES: dict[str, str] = {
    TEXT: "string",
    DATE: "datetime64[ns]",
    NUMBER: "float64",
    INTEGER: "Int64",
    BOOL: "boolean",
}


def typed(table: str, frame):
    """``frame`` with each contract column of ``table`` it holds cast to its
    post-intake dtype; other columns untouched. For hand-built and generated
    frames that must look exactly as intake leaves them."""
    spec = TABLES[table]
    return frame.astype({c: DTYPES[spec.column(c).kind] for c in frame.columns if c in spec.column_names})


#: Tables as passed to every metric function: table name -> validated frame.
#: Optional tables the client did not send are absent from the mapping.
Tables = dict  # dict[str, pandas.DataFrame]


#: SPEC §4 metric names, in the order findings.json lists them.
METRIC_NAMES: tuple[str, ...] = (
    "accounts_total",
    "rep_assigned_pct",
    "partner_only_pct",
    "unassigned_pct",
    "orphaned_accounts",
    "unassigned_potential_pct",
    "contacted_90d_pct",
    "assigned_not_worked_pct",
    "attainment_max_min_ratio",
    "attainment_cv_max",
    "potential_max_min_ratio",
    "pipeline_coverage_median",
    "pipeline_coverage_out_of_band_pct",
    "win_rate",
    "channel_conflict_accounts",
    "multi_rep_accounts",
    "white_space_cells",
    "white_space_potential_pct",
    "months_since_rebalance",
    "attrition_driven_changes_pct",
    "survey_mismatch_pct",
    "junior_on_enterprise_pct",
    "headcount_shortfall_pct",
    "cross_crm_duplicates",
    "cross_crm_conflicting_owners",
    # schema_version 2: productivity and pipeline quality
    "reps_at_quota_pct",
    "top_fifth_bookings_share",
    "annual_attrition_observed",
    "months_to_first_win_median",
    "sales_cycle_days_median",
    "stale_pipeline_pct",
    "pushed_pipeline_pct",
    "quality_pipeline_coverage_median",
    "potential_bookings_rank_corr",
)

#: Which way each SPEC §4 metric is better, for saying whether a change since an
#: earlier run is an improvement: ``higher`` or ``lower`` is better, ``band`` is better
#: nearer the W5 band (pipeline coverage, 3–5× by default), ``neutral`` says nothing on
#: its own (a count of accounts, a mix). Metrics not listed read as neutral. The flags
#: that judge a metric agree with it (tests/test_changes.py checks that).
HIGHER, LOWER, BAND, NEUTRAL = "higher", "lower", "band", "neutral"
#: Which way a metric moved between two runs (:func:`direction`).
BETTER, WORSE, SAME, CHANGED, NOT_COMPARED = "better", "worse", "unchanged", "changed", "not compared"
METRIC_SENSE: dict[str, str] = {
    "accounts_total": NEUTRAL,
    "rep_assigned_pct": HIGHER,
    "partner_only_pct": NEUTRAL,
    "unassigned_pct": LOWER,
    "orphaned_accounts": LOWER,
    "unassigned_potential_pct": LOWER,
    "contacted_90d_pct": HIGHER,
    "assigned_not_worked_pct": LOWER,
    "attainment_max_min_ratio": LOWER,
    "attainment_cv_max": LOWER,
    "potential_max_min_ratio": LOWER,
    "pipeline_coverage_median": BAND,
    "pipeline_coverage_out_of_band_pct": LOWER,
    "win_rate": HIGHER,
    "channel_conflict_accounts": LOWER,
    "multi_rep_accounts": LOWER,
    "white_space_cells": LOWER,
    "white_space_potential_pct": LOWER,
    "months_since_rebalance": LOWER,
    "attrition_driven_changes_pct": LOWER,
    "survey_mismatch_pct": LOWER,
    "junior_on_enterprise_pct": LOWER,
    "headcount_shortfall_pct": LOWER,
    "cross_crm_duplicates": LOWER,
    "cross_crm_conflicting_owners": LOWER,
    "reps_at_quota_pct": HIGHER,
    "top_fifth_bookings_share": NEUTRAL,
    "annual_attrition_observed": LOWER,
    "months_to_first_win_median": LOWER,
    "sales_cycle_days_median": LOWER,
    "stale_pipeline_pct": LOWER,
    "pushed_pipeline_pct": LOWER,
    "quality_pipeline_coverage_median": BAND,
    "potential_bookings_rank_corr": HIGHER,
}


def metric_number(x: Any) -> float | None:
    """A metric value as a finite float, None when it is not a number (blank, text, bool, NaN)."""
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float, np.integer, np.floating)) and np.isfinite(x):
        return float(x)
    return None


def _number_or_infinite(x: Any) -> float | None:
    """:func:`metric_number`, but keeping ``±inf``."""
    if isinstance(x, float) and np.isinf(x):
        return x
    return metric_number(x)


def _distance_to_band(x: float, band: Sequence[float]) -> float:
    lo, hi = band
    return max(lo - x, 0.0, x - hi)


def direction(name: str, previous: Any, current: Any, band: Sequence[float] = (3.0, 5.0)) -> str:
    """Whether ``name`` moved the right way, by its own sense (:data:`~diligence.contract.METRIC_SENSE`).

    ``better`` or ``worse``; ``unchanged`` when equal (or, for a band metric, equally
    far from the band, e.g. both inside it); ``changed`` when a neutral metric
    moved; ``not compared`` when either value is missing. A value of ``±inf``
    stands for a metric past any bound (a max/min ratio whose min is 0): it
    compares as the extreme it is (:func:`diligence.metrics.changes.unbounded`).
    """
    p, c = _number_or_infinite(previous), _number_or_infinite(current)
    sense = METRIC_SENSE.get(name, NEUTRAL)
    if p is None or c is None:
        return NOT_COMPARED
    if sense == NEUTRAL:
        return SAME if np.isclose(p, c, rtol=1e-9, atol=1e-12) else CHANGED
    if sense == BAND:
        p, c, sense = _distance_to_band(p, band), _distance_to_band(c, band), LOWER
    if np.isclose(p, c, rtol=1e-9, atol=1e-12):
        return SAME
    return BETTER if (c > p) == (sense == HIGHER) else WORSE
