"""Named plans side by side: each a set of assumptions, evaluated the same way.

A plan (``scenarios.plans`` in the parameters, validated by
:func:`diligence.params.resolve_settings`) is a ``name``, the hires it makes
per segment now (``hires_by_segment``: the plan then keeps each segment at
today's headcount plus those hires, replacing leavers; absent: the hires the
``accounts_per_rep`` norms call for, the plan keeping each segment at its
need, :func:`~diligence.scenarios.capacity_plan.headcount_need`)
and any scenario settings it changes (``balance_tolerance``, ``attrition``,
``ramp_months``, ``protect``, ``disruption_weights``, ...). Without plans in
the parameters, :data:`DEFAULT_PLANS` are shown.

Each plan is evaluated by :func:`evaluate_plan`:

1. its hires are added to the reps as planned reps
   (:func:`~diligence.scenarios.capacity_plan.planned_hires`);
2. the accounts are rebalanced under its settings by the heuristic (every
   plan the same solver, so plans differ only by their assumptions, and
   twenty plans take seconds), except that a plan posing the very problem
   of a plan already solved (``known``: the scenario step's main plan and
   plan with hires) shows that plan's answer, proof included;
3. its metrics are those of :func:`diligence.scenarios.compare.scenario_metrics`
   on the plan's tables and its flags those of
   :func:`diligence.metrics.flags.evaluate`: the functions that measure today;
4. its cost is the cost of its hires over the plan and its value (low, base,
   high) the value of the plan at the base assumptions and with every
   assumption at its worst and best end (:mod:`~diligence.scenarios.sensitivity`).

Every plan's cost and value are measured against one baseline, today's team
with attrition not replaced, and only capacity within each segment's need
counts as bookings (:mod:`~diligence.scenarios.capacity_plan`): so the plans
compare, and a plan that backfills a segment already above its need pays for
hires that add nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from diligence.metrics import flags
from diligence.scenarios import capacity_plan as cp
from diligence.scenarios import disruption, sensitivity
from diligence.scenarios.compare import KEY_METRICS, SCENARIO_FLAGS, scenario_metrics
from diligence.scenarios.instance import build_instance
from diligence.scenarios.rebalance import Plan, apply_plan, rebalance
from diligence.text import fmt_money

#: The plans shown when the parameters name none.
DEFAULT_PLANS: list[dict[str, Any]] = [
    {"name": "Rebalance, today's headcount kept", "hires_by_segment": {}},  # leavers replaced, no new seats
    {"name": "Rebalance and hire to the norms", "hires_by_segment": None},
    {
        "name": "Wider band, customers kept",
        "hires_by_segment": None,
        "balance_tolerance": 0.20,
        "protect": ["customer"],
    },
]


def plan_settings(settings: dict, plan: dict) -> dict:
    """The scenario settings of ``plan``: ``settings`` with the plan's own
    values (``attrition`` is ``annual_attrition``; ``hires_by_segment`` travels
    to :func:`~diligence.scenarios.capacity_plan.headcount_need`)."""
    out = dict(settings)
    for key, value in plan.items():
        if key == "name":
            continue
        out["annual_attrition" if key == "attrition" else key] = value
    return out


def plans_of(settings: dict) -> list[dict]:
    """The plans to evaluate: the settings' own, else :data:`DEFAULT_PLANS`."""
    return [dict(p) for p in (settings["plans"] if settings.get("plans") is not None else DEFAULT_PLANS)]


def pose(tables: dict, params: dict, settings: dict, plan: dict) -> dict[str, Any]:
    """A named plan's problem, before it is solved: ``settings`` (the plan's,
    observed inputs filled in), ``hires`` (its planned hires), ``hired`` (the
    tables with them) and ``instance`` (the rebalancing problem of those:
    :func:`~diligence.scenarios.instance.build_instance`). The scenario step
    poses the plans first on a large company, so that a worker process can
    solve them while the step solves its own plans."""
    s = cp.with_inputs(tables, params, plan_settings(settings, plan))
    hires = cp.planned_hires(tables, params, s)
    hired = cp.with_hires(tables, hires) if len(hires) else tables
    problem = build_instance(hired, params, s, disruption.account_classes(hired, params))
    return {"settings": s, "hires": hires, "hired": hired, "instance": problem}


def evaluate_plan(
    tables: dict,
    params: dict,
    settings: dict,
    plan: dict,
    recorded: dict[str, Any] | None = None,
    known: Sequence[Plan] = (),
    posed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One named plan, evaluated (module notes). ``known``: plans already
    found on these tables; one that solved the named plan's very problem is
    its answer (:func:`~diligence.scenarios.rebalance.rebalance`). ``posed``:
    the plan's :func:`pose`, when already made.

    Returns ``name, tables`` (the plan's accounts and reps), ``rebalanced``
    (the :class:`~diligence.scenarios.rebalance.Plan`), ``metrics`` (every
    metric computed on the plan's tables), ``flags`` (every flag, evaluated),
    ``moves``, ``disruption``, ``hires_now`` (seats added now), ``hires``
    (hires over the plan, leavers replaced included), ``expected_leavers``,
    ``net_hires`` (hires − expected leavers), ``headcount_end`` and
    ``baseline_headcount_end`` (the plan's and the baseline's headcount at the
    plan's end), ``cost``, ``value_low``, ``value_base``, ``value_high``,
    ``over_need`` ((segment, headcount, need) of the segments whose headcount
    today is above their need) and ``settings`` (the plan's, with observed
    inputs filled in).
    """
    posed = pose(tables, params, settings, plan) if posed is None else posed
    s, hires, hired = posed["settings"], posed["hires"], posed["hired"]
    moved = rebalance(hired, params, s, solver="heuristic", known=known, instance=posed["instance"])
    planned = apply_plan(hired, moved)
    metrics = scenario_metrics(planned, params, recorded)
    judged = flags.evaluate(metrics, params, planned)
    value = sensitivity.sensitivity(tables, params, s, items=[sensitivity.VALUE])
    row = value["ranges"].set_index("item").loc[sensitivity.VALUE]
    need = cp.headcount_need(tables, params, s)
    econ = cp.economics(tables, params, s, need=need).set_index("item")["low"]
    over = need.loc[need["headcount"] > need["capacity_need"]]
    return {
        "over_need": [
            (str(seg), int(head), int(need))
            for seg, head, need in zip(over["segment"], over["headcount"], over["capacity_need"])
        ],
        "name": plan["name"],
        "tables": planned,
        "rebalanced": moved,
        "metrics": metrics,
        "flags": judged,
        "moves": moved.score.moves,
        "disruption": moved.score.disruption,
        "hires_now": len(hires),
        "hires": int(econ["Hires in the plan"]),
        "expected_leavers": round(float(econ["Expected leavers over the plan"]), 6),
        "net_hires": round(float(econ["Net hires (hires − expected leavers)"]), 6),
        "headcount_end": round(float(econ["Headcount at the plan's end"]), 6),
        "baseline_headcount_end": round(float(econ["Headcount at the plan's end, baseline"]), 6),
        "cost": float(econ["Cost of hires over the plan"]),
        "value_low": None if pd.isna(row["low"]) else float(row["low"]),
        "value_base": None if pd.isna(row["base"]) else float(row["base"]),
        "value_high": None if pd.isna(row["high"]) else float(row["high"]),
        "settings": s,
    }


def evaluate_plans(
    tables: dict,
    params: dict,
    settings: dict,
    recorded: dict[str, Any] | None = None,
    known: Sequence[Plan] = (),
    posed: Sequence[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every plan of :func:`plans_of`, in order (:func:`evaluate_plan`).
    ``posed``: their :func:`pose`, in the same order, when already made."""
    plans = plans_of(settings)
    posed = [None] * len(plans) if posed is None else posed
    return [evaluate_plan(tables, params, settings, plan, recorded, known, p) for plan, p in zip(plans, posed)]


def side_by_side(evaluated: list[dict[str, Any]]) -> pd.DataFrame:
    """The plans as one table: a row per plan with ``plan, balance_tolerance,
    hires_now, hires, expected_leavers, net_hires, headcount_end,
    baseline_headcount_end, moves, disruption, customers_moved,
    open_pipeline_moved, cost, value_low, value_base, value_high``, the
    :data:`~diligence.scenarios.compare.KEY_METRICS` and the status of each
    :data:`~diligence.scenarios.compare.SCENARIO_FLAGS` flag."""
    rows = []
    for e in evaluated:
        by_id = {f["id"]: f["status"] for f in e["flags"]}
        disrupted = e["rebalanced"].disruption()
        rows.append(
            {
                "plan": e["name"],
                "balance_tolerance": e["settings"]["balance_tolerance"],
                "hires_now": e["hires_now"],
                "hires": e["hires"],
                "expected_leavers": e["expected_leavers"],
                "net_hires": e["net_hires"],
                "headcount_end": e["headcount_end"],
                "baseline_headcount_end": e["baseline_headcount_end"],
                "moves": e["moves"],
                "disruption": e["disruption"],
                "customers_moved": disrupted["customers_moved"],
                "open_pipeline_moved": disrupted["open_pipeline_moved"],
                "cost": e["cost"],
                "value_low": e["value_low"],
                "value_base": e["value_base"],
                "value_high": e["value_high"],
                **{k: e["metrics"].get(k) for k in KEY_METRICS},
                **{f: by_id.get(f) for f in SCENARIO_FLAGS},
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["plan"] = out["plan"].astype("string")
    for f in SCENARIO_FLAGS:
        out[f] = out[f].astype("string")
    for k in KEY_METRICS:
        out[k] = pd.array(out[k], dtype="Float64")
    return out


#: How :func:`side_by_side` splits into tables narrow enough to read and print
#: (:func:`diligence.report.display.table_parts`, led by ``plan``): title -> columns.
SIDE_BY_SIDE_PARTS: dict[str, tuple[str, ...]] = {
    "Plans side by side": (
        "balance_tolerance",
        "moves",
        "hires_now",
        "hires",
        "net_hires",
        "headcount_end",
        "cost",
        "value_low",
        "value_base",
        "value_high",
    ),
    "Plans: disruption and headcount": (
        "disruption",
        "customers_moved",
        "open_pipeline_moved",
        "expected_leavers",
        "baseline_headcount_end",
    ),
    "Plans: metrics": KEY_METRICS,
    "Flags by plan": SCENARIO_FLAGS,
}


def plans_note(evaluated: list[dict[str, Any]]) -> str:
    """The note under the plans table: the baseline every plan is measured against."""
    if not evaluated:
        return ""
    ends = sorted({round(e["baseline_headcount_end"], 1) for e in evaluated})
    quarters = int(evaluated[0]["settings"]["plan_quarters"])
    end = f"{ends[0]:,.1f}" if len(ends) == 1 else f"{ends[0]:,.1f} to {ends[-1]:,.1f} (each plan's attrition)"
    over = evaluated[0].get("over_need") or []
    above = (
        ": backfilling a segment above its need today adds cost, not bookings ("
        + "; ".join(f"{seg}: {head:,} reps for a need of {need:,}" for seg, head, need in over)
        + ")"
        if over
        else ""
    )
    return (
        "Cost and value are against the baseline: today's team with attrition not replaced, "
        f"{end} quota-carrying reps after {quarters} quarters. Capacity beyond a segment's need adds no value"
        + above
        + ". A plan's balance band changes the accounts it moves, not its value. "
        "Net hires: hires − expected leavers; headcount at the plan's end, expected."
    )


def plans_sentence(evaluated: list[dict[str, Any]]) -> str:
    """One sentence setting the plans' values side by side: the plan worth most
    at the base assumptions, and the one worth least (empty with fewer than two
    plans, or without values)."""
    valued = [e for e in evaluated if e.get("value_base") is not None]
    if len(valued) < 2:
        return ""
    order = sorted(valued, key=lambda e: (-e["value_base"], e["name"]))
    best, worst = order[0], order[-1]
    if best["value_base"] == worst["value_base"]:
        return ""

    def said(e: dict[str, Any]) -> str:
        hires = f"{e['hires']:,} {'hire' if e['hires'] == 1 else 'hires'}"
        return f"{fmt_money(e['value_base'])}, with {hires} costing {fmt_money(e['cost'])}"

    return (
        "Against one baseline, today's team with attrition not replaced, the plan worth most at the base "
        f"assumptions is “{best['name']}” ({said(best)}); “{worst['name']}” is worth least ({said(worst)})."
    )


def plan_records(evaluated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plans as ``findings.json`` holds them: ``name, metrics`` (the key
    metrics), ``flags`` (id -> status of the flags a plan can change),
    ``moves, hires, cost, value_low, value_high``, and for reading them side
    by side ``hires_now, net_hires, headcount_end, baseline_headcount_end,
    value_base`` (cost and value against the common baseline: module notes)."""
    out = []
    for e in evaluated:
        by_id = {f["id"]: f["status"] for f in e["flags"]}
        out.append(
            {
                "name": e["name"],
                "metrics": {k: e["metrics"].get(k) for k in KEY_METRICS},
                "flags": {f: by_id.get(f) for f in SCENARIO_FLAGS},
                "moves": e["moves"],
                "hires": e["hires"],
                "cost": e["cost"],
                "value_low": e["value_low"],
                "value_high": e["value_high"],
                "hires_now": e["hires_now"],
                "net_hires": e["net_hires"],
                "headcount_end": e["headcount_end"],
                "baseline_headcount_end": e["baseline_headcount_end"],
                "value_base": e["value_base"],
            }
        )
    return out
