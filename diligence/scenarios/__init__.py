"""Scenario modelling: a rebalanced coverage plan and a capacity plan, each set
beside today.

- :func:`~diligence.scenarios.rebalance.rebalance` proposes a new assignment
  of accounts to reps (exact MILP or fast heuristic behind one function);
- :mod:`~diligence.scenarios.capacity_plan` sizes headcount, hiring by
  quarter with ramp and attrition, and what the plan costs and returns;
- :mod:`~diligence.scenarios.compare` recomputes the SPEC metrics and flags
  on each scenario's tables with the very functions that measure today;
- :mod:`~diligence.scenarios.disruption` prices each move by what it
  disturbs (open deals, customers, the owner's activity);
- :mod:`~diligence.scenarios.curve` solves the rebalancer at a series of
  balance tolerances and recommends one at the knee;
- :mod:`~diligence.scenarios.plans` evaluates named plans side by side;
- :mod:`~diligence.scenarios.sensitivity` gives the plan's economics low /
  base / high and the tornado of its assumptions.

Scenario settings are not SPEC §6 parameters: they have their own defaults,
:data:`~diligence.params.SCENARIO_DEFAULTS`, overridden by the run parameter
``scenarios`` and validated with the other parameters by
:func:`~diligence.params.resolve_settings`.
"""

from __future__ import annotations

from diligence.params import SCENARIO_DEFAULTS, resolve_settings
from diligence.scenarios.rebalance import Plan, rebalance

__all__ = ["SCENARIO_DEFAULTS", "Plan", "rebalance", "resolve_settings"]
