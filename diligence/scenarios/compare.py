"""Today against the scenarios, on the SPEC's own metrics and flags.

Each scenario is a modified copy of the run's tables (new owners; planned
hires as extra reps), measured by :func:`diligence.metrics.coverage.metrics`,
:func:`diligence.metrics.balance.metrics` and :func:`diligence.metrics.capacity.metrics` and
judged by :func:`diligence.metrics.flags.evaluate`: the functions that measure today,
so there is no second implementation to drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from diligence.metrics import balance, capacity, coverage, flags
from diligence.text import fmt_money, fmt_pct

#: Metrics a reassignment or hires can change, in the order shown.
KEY_METRICS: tuple[str, ...] = (
    "rep_assigned_pct",
    "unassigned_pct",
    "orphaned_accounts",
    "unassigned_potential_pct",
    "assigned_not_worked_pct",
    "white_space_cells",
    "potential_max_min_ratio",
    "potential_zero_books",
    "junior_on_enterprise_pct",
    "headcount_shortfall_pct",
    "quota_headcount",
)

#: Flags whose metrics a reassignment or hires can change; the others judge
#: opportunities, history or surveys, which a new plan does not rewrite.
SCENARIO_FLAGS: tuple[str, ...] = ("RF1", "RF6", "W1", "W3", "W4", "W6")


def scenario_metrics(tables: dict, params: dict, recorded: dict[str, Any] | None = None) -> dict[str, Any]:
    """Coverage, balance and capacity metrics of ``tables``, over ``recorded``
    (the run's other metrics, kept as they are)."""
    return {
        **(recorded or {}),
        **coverage.metrics(tables, params),
        **balance.metrics(tables, params),
        **capacity.metrics(tables, params),
    }


def same_tables(a: dict, b: dict) -> bool:
    """Whether two sets of tables hold the same frames (the same names, each
    frame the same object or equal in values, dtypes and labels)."""
    return a.keys() == b.keys() and all(a[k] is b[k] or a[k].equals(b[k]) for k in a)


def compare(
    scenarios: dict[str, dict],
    params: dict,
    recorded: dict[str, Any] | None = None,
    measured: Sequence[tuple[dict, dict[str, Any]]] = (),
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, Any]]]:
    """Side-by-side metrics and flags of named scenarios (``name -> tables``).

    ``measured``: tables already measured by :func:`scenario_metrics` over the
    same ``recorded``, with their metrics (the named plans'); a scenario whose
    tables are the same (:func:`same_tables`) takes those metrics rather than
    measuring again.

    Returns ``(metrics, flag_status, all_metrics)``: ``metrics`` has a
    ``metric`` column and one column per scenario (rows :data:`KEY_METRICS`);
    ``flag_status`` has ``id, name`` and one status column per scenario (rows
    :data:`SCENARIO_FLAGS`); ``all_metrics`` maps each scenario to every
    metric computed.
    """
    every = {
        name: next((dict(m) for seen, m in measured if same_tables(t, seen)), None)
        or scenario_metrics(t, params, recorded)
        for name, t in scenarios.items()
    }
    judged = {name: {f["id"]: f for f in flags.evaluate(m, params, scenarios[name])} for name, m in every.items()}
    metrics = pd.DataFrame({"metric": pd.array(list(KEY_METRICS), dtype="string")})
    for name, m in every.items():
        metrics[name] = pd.array([m.get(k) for k in KEY_METRICS], dtype="Float64")
    first = next(iter(judged.values()))
    status = pd.DataFrame(
        {
            "id": pd.array(list(SCENARIO_FLAGS), dtype="string"),
            "name": pd.array([first[f]["name"] for f in SCENARIO_FLAGS], dtype="string"),
        }
    )
    for name, fl in judged.items():
        status[name] = pd.array([fl[f]["status"] for f in SCENARIO_FLAGS], dtype="string")
    return metrics, status, every


TODAY, REBALANCED, WITH_HIRES = "today", "rebalanced", "rebalanced + hires"
#: Movable accounts from which the trade-off curve's heuristic solves run in a
#: worker process beside the step (below, a solve takes less than starting one).
SOLVE_AHEAD_MIN_ACCOUNTS = 50_000


def run_scenarios(tables: dict, params: dict, settings: dict, recorded: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the scenario step shows: both plans, the comparison, the capacity plan.

    Returns a dict with ``plan`` (today's reps rebalanced), ``plan_hires``
    (rebalanced with the hires now added as reps), ``hires`` (their rows),
    ``metrics`` and ``flags`` (:func:`compare` over today / rebalanced /
    rebalanced + hires), ``books`` (:func:`~diligence.scenarios.rebalance.book_changes`),
    ``need``, ``hiring``, ``hiring_by_quarter``, ``economics``
    (:mod:`~diligence.scenarios.capacity_plan`), ``solvers`` (both solvers'
    figures), ``summary`` (the ``scenario_*`` metrics to record), and for the
    decision: ``disruption`` and ``disruption_by_class`` (what the plan
    disturbs, :mod:`~diligence.scenarios.disruption`), ``curve``,
    ``recommended_tolerance`` and ``curve_sentence``
    (:mod:`~diligence.scenarios.curve`), ``plans`` (the named plans
    evaluated, :mod:`~diligence.scenarios.plans`) and ``plans_table``, and
    ``sensitivity`` (:mod:`~diligence.scenarios.sensitivity`); ``findings``
    is the ``scenarios`` object of ``findings.json``.
    """
    from diligence.scenarios import capacity_plan as cp
    from diligence.scenarios import curve as tradeoff
    from diligence.scenarios import disruption, heuristic, sensitivity
    from diligence.scenarios import plans as named
    from diligence.scenarios.backtest import backtest
    from diligence.scenarios.instance import build_instance
    from diligence.scenarios.rebalance import apply_plan, book_changes, rebalance, same_problem

    inputs = cp.plan_inputs(tables, params, settings)
    asked = settings  # as given: what the backtest judges
    settings = cp.with_inputs(tables, params, settings, inputs)
    classes = disruption.account_classes(tables, params)  # hires own nothing: the same for the hired tables
    problem = build_instance(tables, params, settings, classes)
    hires = cp.planned_hires(tables, params, settings)
    hired = cp.with_hires(tables, hires)
    problem_hires = build_instance(hired, params, settings, classes) if len(hires) else None
    posed = None
    # The plan with hires and the curve start from the main plan and spend their time in HiGHS, which
    # leaves Python's lock: each runs in a thread of its own beside the named plans and the
    # sensitivity, so a second core works too. Each result depends only on its inputs. On a large
    # company the named plans' and the curve's problems are pure-Python heuristic solves, which
    # threads cannot run side by side: a worker process solves them, starting while the main plan is
    # solved (the curve's first point: it needs only the main problem, so the worker starts at once;
    # the named plans, posed meanwhile, go before the curve's other points).
    # The named plans are posed before the main plan is solved: posed beside the plan with hires,
    # they slowed it by more than they took.
    with heuristic.SolveAhead() as ahead, ThreadPoolExecutor(max_workers=2, thread_name_prefix="scenarios") as pool:
        if problem.n_accounts >= SOLVE_AHEAD_MIN_ACCOUNTS:
            tradeoff.solve_ahead(ahead, problem, settings)
            posed = [named.pose(tables, params, settings, p) for p in named.plans_of(settings)]
            for p in posed:
                # a plan posing the main plan's or the hiring plan's problem takes that plan's answer
                if not any(k is not None and same_problem(k, p["instance"]) for k in (problem, problem_hires)):
                    # before the curve's points not yet sent: the step asks for the plans first, the
                    # curve last; taken back if the worker, on a slow point, has not started it when
                    # the step reaches it
                    ahead.submit(p["instance"], take_back=True, first=True)
        plan = rebalance(tables, params, settings, classes=classes, instance=problem)
        hiring_plan = (
            pool.submit(rebalance, hired, params, settings, classes=classes, start=plan, instance=problem_hires)
            if len(hires)
            else None
        )
        curving = pool.submit(tradeoff.tradeoff_curve, tables, params, settings, classes=classes, known=plan)
        tested = backtest(tables, params, asked)  # after the main plan: nothing waits for it
        sens = sensitivity.sensitivity(tables, params, settings)
        plan_hires = plan if hiring_plan is None else hiring_plan.result()
        # a named plan that poses the main plan's or the hiring plan's problem shows that answer
        evaluated = named.evaluate_plans(tables, params, settings, recorded, known=(plan, plan_hires), posed=posed)
        curve, _owners, _inst = curving.result()
    recommended, curve_sentence = tradeoff.recommendation(curve, settings["balance_tolerance"])
    scenarios = {TODAY: tables, REBALANCED: apply_plan(tables, plan), WITH_HIRES: apply_plan(hired, plan_hires)}
    # a named plan that took the main plan or the hiring plan as its answer has measured its tables
    measured = [(e["tables"], e["metrics"]) for e in evaluated if any(e["rebalanced"] is p for p in (plan, plan_hires))]
    metrics, status, every = compare(scenarios, params, recorded, measured)
    need = cp.headcount_need(tables, params, settings)
    hiring = cp.hiring_plan(tables, params, settings)
    solvers = pd.DataFrame(
        [
            {
                "scenario": name,
                "solver": solver,
                "moves": c["moves"],
                "potential_moved": c["potential_moved"],
                "within_tolerance": c["within_tolerance"],
                "balance_violation": c["violation"],
                "seconds": c["seconds"],
                "kept": solver == p.solver,
            }
            for name, p in ((REBALANCED, plan), (WITH_HIRES, plan_hires))
            for solver, c in p.comparison.items()
        ]
    )
    summary = {**plan.summary(), **cp.plan_summary(need, hiring)}
    for prefix, name in (("scenario_rebalanced_", REBALANCED), ("scenario_hires_", WITH_HIRES)):
        for key in ("unassigned_pct", "potential_max_min_ratio", "headcount_shortfall_pct"):
            summary[prefix + key] = every[name].get(key)
    summary["scenario_hires_accounts_moved"] = plan_hires.score.moves
    summary["scenario_backtest_error_pct"] = tested["error_pct"]
    summary["scenario_inputs_observed"] = int((inputs["basis"] == cp.OBSERVED).sum())
    summary["scenario_recommended_tolerance"] = recommended
    return {
        "disruption": plan.disruption(),
        "disruption_by_class": plan.disruption_by_class(),
        "curve": curve,
        "recommended_tolerance": recommended,
        "curve_sentence": curve_sentence,
        "plans": evaluated,
        "plans_table": named.side_by_side(evaluated),
        "sensitivity": sens,
        "findings": {"curve": tradeoff.curve_records(curve), "plans": named.plan_records(evaluated)},
        "plan": plan,
        "plan_hires": plan_hires,
        "hires": hires,
        "metrics": metrics,
        "flags": status,
        "books": _books_against_band(book_changes(tables, params, scenarios[REBALANCED]), plan),
        "need": need,
        "hiring": hiring,
        "hiring_by_quarter": cp.hiring_by_quarter(hiring),
        "economics": cp.economics(tables, params, settings, hiring),
        "solvers": solvers,
        "summary": summary,
        "uplift_range": list(settings["revenue_uplift_range"]),
        "inputs": inputs,
        "backtest": tested,
    }


def _books_against_band(books: pd.DataFrame, plan) -> pd.DataFrame:
    """The books table with each planned book's place against its band, the
    books left outside first (furthest out first), then by rep."""
    out = books.merge(plan.band_position()[["rep_id", "band", "off_band_pct"]], on="rep_id", how="left")
    order = out["band"].map({"below": 0, "above": 0, "within": 1}).fillna(2)
    return (
        out.assign(_o=order, _d=-out["off_band_pct"].fillna(0))
        .sort_values(["_o", "_d", "rep_id"], kind="stable")
        .drop(columns=["_o", "_d"])
        .reset_index(drop=True)
    )


def findings(result: dict[str, Any]) -> list[str]:
    """Plain-English sentences on the scenarios, for the report."""
    plan, status = result["plan"], result["flags"].set_index("id")
    out = [
        f"The rebalanced plan moves {plan.score.moves:,} accounts between reps and gives an owner to "
        f"{plan.score.newly_assigned:,} unassigned accounts (found by the {plan.solver}"
        + (f", optimality gap {plan.gap:.2%}" if plan.gap is not None else ", optimality not proven")
        + ")."
    ]
    outside = _outside_band(plan.band_position())
    if outside:
        out.append(outside)
    cleared = [f for f in status.index if status.loc[f, TODAY] == "triggered" and status.loc[f, REBALANCED] == "clear"]
    if cleared:
        out.append("Rebalancing alone clears " + ", ".join(cleared) + ".")
    more = [
        f for f in status.index if status.loc[f, REBALANCED] == "triggered" and status.loc[f, WITH_HIRES] == "clear"
    ]
    hires = len(result["hires"])
    if hires:
        out.append(
            f"Adding the {hires:,} hires the norms call for now"
            + (" also clears " + ", ".join(more) if more else "")
            + "."
        )
    econ = result["economics"].set_index("item")
    uplift = econ.loc["Revenue uplift from better territory design, a year"]
    if pd.notna(uplift["low"]):
        low, high = (f"{x * 100:g}" for x in result["uplift_range"])
        out.append(
            f"Better territory design is worth {fmt_money(uplift['low'])} to {fmt_money(uplift['high'])} a year "
            f"({low}–{high}% of last year's bookings), a range rather than a forecast."
        )
    if "disruption" in result:
        out.append(disruption_sentence(result["disruption"]))
    if result.get("curve_sentence"):
        out.append(result["curve_sentence"])
    if result.get("plans"):
        from diligence.scenarios.plans import plans_sentence

        said = plans_sentence(result["plans"])
        if said:
            out.append(said)
    if "sensitivity" in result:
        from diligence.scenarios.sensitivity import value_sentence

        said = value_sentence(result["sensitivity"])
        if said:
            out.append(said)
    out.extend(input_findings(result["inputs"], result["backtest"]))
    return out


def disruption_sentence(d: dict[str, Any]) -> str:
    """What the plan disturbs, in one sentence (:meth:`Plan.disruption`)."""
    active = d["accounts_moved"] - d["idle_moved"]
    return (
        f"Of the {d['accounts_moved']:,} accounts the plan moves, {d['idle_moved']:,} are idle and {active:,} "
        f"are active ({d['open_opportunity_moved']:,} with an open opportunity, {d['owner_activity_moved']:,} "
        f"worked by their owner in the window); {fmt_money(d['open_pipeline_moved'])} of open pipeline and "
        f"{d['customers_moved']:,} {'customer' if d['customers_moved'] == 1 else 'customers'} (a win in the last "
        "365 days) change owner."
    )


def _input_phrase(row: pd.Series) -> str:
    value = (
        f"{row['value']:.0%} a year"
        if row["setting"] == "annual_attrition"
        else str(row["figure"])
        if row["setting"] == "ramp_months"
        else f"{row['value']:.0%} of quota"
    )
    name = {"annual_attrition": "attrition", "ramp_months": "ramp", "productivity": "productivity of a ramped rep"}[
        row["setting"]
    ]
    if row["basis"] == "observed":
        behind = (
            f"over a mean headcount of {row['reps']:g}"
            if row["setting"] == "annual_attrition"
            else f"from {row['reps']:g} reps"
        )
        return f"{name} ({value}, {behind})"
    return f"{name} ({value})"


def input_findings(inputs: pd.DataFrame, tested: dict[str, Any]) -> list[str]:
    """Sentences on where the capacity plan's inputs come from and how the model
    did when run a year ago (:mod:`~diligence.scenarios.backtest`)."""
    out = []
    parts = []
    for basis, says in (
        ("observed", "observed in the company's history"),
        ("set", "set in the scenario settings"),
        ("assumed", "assumed, the data being too thin to show them"),
    ):
        rows = inputs.loc[inputs["basis"] == basis]
        if len(rows):
            names = [_input_phrase(r) for _, r in rows.iterrows()]
            verb = "is" if len(names) == 1 else "are"
            parts.append(f"{', '.join(names[:-1]) + ' and ' if len(names) > 1 else ''}{names[-1]} {verb} {says}")
    if parts:
        out.append("Of the capacity plan's inputs, " + "; ".join(parts) + ".")
    if tested.get("error_pct") is not None:
        error = tested["error_pct"]
        out.append(
            f"Run as of {tested['as_of']} with only what was known then (and the hires actually made), the capacity "
            f"model predicted {fmt_money(tested['predicted'])} of bookings for the following year; the reps booked "
            f"{fmt_money(tested['actual'])}, so the model {'over' if error > 0 else 'under'}stated them by "
            f"{fmt_pct(abs(error))}." + (f" A caveat: {tested['caveat']}." if tested.get("caveat") else "")
        )
    elif tested.get("reason"):
        out.append(f"The capacity model could not be backtested a year back: it {tested['reason']}")
    return out


def _outside_band(position: pd.DataFrame) -> str:
    """One sentence on the planned books left outside the band, and why
    (empty when every book of a comparable group is inside)."""
    band = position["band"].fillna("")
    stuck = band.eq("below") & ~position["can_receive"]
    below = band.eq("below") & position["can_receive"]
    above = band.eq("above")

    def count(mask: pd.Series) -> str:
        n = int(mask.sum())
        return f"{n:,} {'stays' if n == 1 else 'stay'}"

    def furthest(mask: pd.Series) -> str:
        return fmt_pct(position.loc[mask, "off_band_pct"].max())

    parts = []
    if stuck.any():
        parts.append(
            f"{count(stuck)} below it because the rules let {'the rep' if stuck.sum() == 1 else 'their reps'} "
            "receive none of the accounts (a junior rep among enterprise accounts, say)"
        )
    if below.any():
        parts.append(f"{count(below)} below it (at most {furthest(below)} under its bottom)")
    if above.any():
        parts.append(
            f"{count(above)} above it (at most {furthest(above)} over its top)"
            + (", as the group means count the books that cannot grow" if stuck.any() else "")
        )
    if not parts:
        return ""
    total = int((stuck | below | above).sum())
    return (
        f"{total:,} {'book' if total == 1 else 'books'} outside the balance band under the rules "
        "(capacity, seniority, locks): "
        + "; ".join(parts)
        + ". The plan keeps each as close as it can; they head the table “Books today and in the plan”."
    )
