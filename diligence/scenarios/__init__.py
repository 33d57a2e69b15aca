"""Scenario modelling: a rebalanced coverage plan and a capacity plan, each set
beside today.

- :func:`~diligence.scenarios.rebalance.rebalance` proposes a new assignment
  of accounts to reps (exact MILP or fast heuristic behind one function);
- :mod:`~diligence.scenarios.capacity_plan` sizes headcount, hiring by
  quarter with ramp and attrition, and what the plan costs and returns;
- :mod:`~diligence.scenarios.compare` recomputes the SPEC metrics and flags
  on each scenario's tables with the very functions that measure today.

Scenario settings are not SPEC §6 parameters: they have their own defaults,
:data:`SCENARIO_DEFAULTS`, overridden by a plain mapping and validated once by
:func:`resolve_settings`.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from diligence.errors import InputError
from diligence.params import reject_unknown

#: Scenario settings and their defaults.
SCENARIO_DEFAULTS: dict[str, Any] = {
    "balance_tolerance": 0.10,  # every book within ±10% of its comparable group's mean potential
    "ramp_months": 6,  # months for a new hire to reach full productivity (linear ramp)
    "annual_attrition": 0.15,  # expected share of quota-carrying reps leaving per year
    "plan_quarters": 4,  # length of the hiring plan
    "locked_accounts": [],  # account_ids the rebalancer must not move
    "region_affinity": False,  # new owners only from the account's region
    "reassign_junior_enterprise": False,  # also move enterprise accounts junior reps hold today
    "milp_time_limit_s": 20.0,  # HiGHS time limit per solve (two solves per run)
    "milp_max_accounts": 4000,  # above this many movable accounts the heuristic is used alone
    "fully_loaded_cost_per_rep": None,  # None: cost_to_quota_ratio x quota per ramped rep
    "cost_to_quota_ratio": 0.35,  # fully loaded cost of a rep as a share of its quota, when no cost is given
    "quota_per_ramped_rep": None,  # None: median quota of the segment's active quota-carrying reps
    "revenue_uplift_range": [0.02, 0.07],  # revenue gain from better territory design (background documents)
}

_FRACTIONS = ("balance_tolerance", "annual_attrition", "cost_to_quota_ratio")
_POSITIVE = ("milp_time_limit_s", "milp_max_accounts", "plan_quarters")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def resolve_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:data:`SCENARIO_DEFAULTS` with ``overrides`` applied, validated.

    ``fully_loaded_cost_per_rep`` and ``quota_per_ramped_rep`` are a number
    or a mapping segment -> number (or None for the documented default).
    Raises :class:`~diligence.errors.InputError` for an unknown name or a
    value of the wrong type, as SPEC §6 does for run parameters.
    """
    overrides = dict(overrides or {})
    reject_unknown(overrides, SCENARIO_DEFAULTS, "scenario settings: unknown name(s)")
    out = copy.deepcopy(SCENARIO_DEFAULTS)
    out.update({k: v for k, v in overrides.items() if v is not None or SCENARIO_DEFAULTS[k] is None})
    for name in _FRACTIONS:
        if not _number(out[name]) or not 0 <= out[name] < 1:
            raise InputError(f"scenario settings: {name} must be a fraction in [0, 1), got {out[name]!r}.")
    for name in _POSITIVE:
        if not _number(out[name]) or out[name] <= 0:
            raise InputError(f"scenario settings: {name} must be a positive number, got {out[name]!r}.")
    if not _number(out["ramp_months"]) or out["ramp_months"] < 0:
        raise InputError(f"scenario settings: ramp_months must be ≥ 0, got {out['ramp_months']!r}.")
    if isinstance(out["locked_accounts"], str):
        out["locked_accounts"] = [out["locked_accounts"]]
    if not isinstance(out["locked_accounts"], list) or not all(isinstance(a, str) for a in out["locked_accounts"]):
        raise InputError("scenario settings: locked_accounts must be a list of account ids.")
    for name in ("region_affinity", "reassign_junior_enterprise"):
        if not isinstance(out[name], bool):
            raise InputError(f"scenario settings: {name} must be true or false.")
    low_high = out["revenue_uplift_range"]
    if not (isinstance(low_high, (list, tuple)) and len(low_high) == 2 and all(_number(x) for x in low_high)
            and 0 <= low_high[0] <= low_high[1]):
        raise InputError("scenario settings: revenue_uplift_range must be [low, high] with 0 ≤ low ≤ high.")
    out["revenue_uplift_range"] = [float(x) for x in low_high]
    for name in ("fully_loaded_cost_per_rep", "quota_per_ramped_rep"):
        value = out[name]
        ok = value is None or (_number(value) and value >= 0) or (
            isinstance(value, Mapping) and all(_number(v) and v >= 0 for v in value.values()))
        if not ok:
            raise InputError(f"scenario settings: {name} must be a number, a mapping segment -> number, or null.")
    out["plan_quarters"] = int(out["plan_quarters"])
    out["milp_max_accounts"] = int(out["milp_max_accounts"])
    return out


from diligence.scenarios.rebalance import Plan, rebalance  # noqa: E402

__all__ = ["SCENARIO_DEFAULTS", "resolve_settings", "rebalance", "Plan"]
