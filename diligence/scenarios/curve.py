"""The trade-off curve: how much balance each extra move buys.

The rebalancer is solved at each balance tolerance of ``curve_tolerances``
(default ±5, 10, 15, 20 and 25 %), on one problem built once
(:func:`~diligence.scenarios.instance.build_instance`: the same accounts,
rules and disruption weights; only the band changes). Each point reports the
accounts moved, the disruption (the sum of their move costs), the books left
outside the band, and the proof: ``optimal`` when HiGHS closed the gap, else
the relative ``gap`` of the answer to HiGHS's bound (None when the MILP did
not run).

**How a point is solved** (deterministic; nothing depends on a clock):

- the heuristic (:mod:`~diligence.scenarios.heuristic`) at that tolerance;
- the answer of the next tighter point, which stays inside its (wider) band,
  with the moves the wider band no longer needs sent home: work is reused
  from point to point, and the objective (balance slack, then
  disruption, then potential moved) can never rise as the band loosens, so
  where the band is met the moves and the disruption never rise either;
- the main plan's answer: at its own tolerance with its proof, at the others
  with the moves their band no longer needs sent home (a start for the MILP);
- when the problem has at most ``milp_max_accounts`` movable accounts, the
  MILP bounded by ``curve_milp_node_limit`` branch-and-bound nodes in each
  part of the programme (a count, so the answer and the gap are the same on
  any machine; 0 skips it).

The best answer by the MILP's objective is kept.

**The knee** (:func:`knee`) is the point furthest below the chord joining
the curve's two ends, with tolerance and disruption each scaled to [0, 1],
when it lies at least :data:`KNEE_MIN` below it: where tightening the band
starts to cost disproportionately more moves. It is the recommended
tolerance (:func:`recommendation`); a curve without one (each step of the
band costing about the same) recommends the tolerance the settings give.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from diligence.scenarios import heuristic, milp
from diligence.scenarios.instance import Instance, band, build_instance, loads, score
from diligence.text import fmt_int

#: How far below the chord (in the curve's [0, 1] scale) a point must lie to count as the knee.
KNEE_MIN = 0.05
COLUMNS = ["tolerance", "moves", "disruption", "books_outside", "optimal", "gap", "solver"]


def books_outside(inst: Instance, owner: np.ndarray) -> int:
    """Reps of a comparable group whose book under ``owner`` lies outside its
    band (beyond the solver's round-off), as :meth:`Plan.band_position` counts them."""
    load = loads(inst, owner)
    lo, hi = band(inst, load)
    slack = 1e-6 * inst.scale()[np.maximum(inst.rep_group, 0)]
    grouped = inst.rep_group >= 0
    return int((grouped & ((load < lo - slack) | (load > hi + slack))).sum())


def _relative_gap(objective: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def tradeoff_curve(
    tables: dict,
    params: dict,
    settings: dict,
    *,
    classes: pd.DataFrame | None = None,
    known: Any = None,
) -> tuple[pd.DataFrame, dict[float, np.ndarray], Instance]:
    """The rebalancer at each of ``settings["curve_tolerances"]`` (module notes).

    ``known`` is a :class:`~diligence.scenarios.rebalance.Plan` already solved
    on the same tables and settings (the main plan), reused at its tolerance;
    its problem is the curve's (only the band changes), so it is not built again.

    Returns ``(curve, owners, instance)``: ``curve`` has :data:`COLUMNS`, one
    row per tolerance, loosest last (``solver`` names where the kept answer
    came from); ``owners`` maps each tolerance to its answer (rep index per
    movable account of ``instance``).
    """
    base = known.instance if known is not None else build_instance(tables, params, settings, classes)
    use_milp = 0 < base.n_accounts <= settings["milp_max_accounts"] and settings["curve_milp_node_limit"] > 0
    rows, owners = [], {}
    previous = None
    for tol in settings["curve_tolerances"]:
        inst = dataclasses.replace(base, tolerance=float(tol))
        cands: list[tuple[str, np.ndarray]] = [("heuristic", heuristic.solve(inst).owner)]
        if previous is not None:
            # the tighter answer, with the moves the wider band no longer needs sent home
            relaxed = previous.copy()
            heuristic.undo_moves(inst, relaxed)
            cands.append(("a tighter point", relaxed))
        proven = False
        bound = None
        at_known = known is not None and abs(known.instance.tolerance - tol) < 1e-12
        if known is not None and known.instance.n_accounts:
            # the main plan is an answer at every tolerance: at its own, with its proof; elsewhere a
            # near-optimal start (its moves the wider band no longer needs sent home)
            owner = inst.rep_ids.searchsorted(known.owner.iloc[inst.account_pos].to_numpy(dtype=object))
            owner = owner.astype(np.int64)
            if not at_known:
                heuristic.undo_moves(inst, owner)
            cands.append((known.solver if at_known else "the main plan", owner))
            proven = at_known and bool(known.optimal)
        if not at_known and use_milp:
            # warm-started from the best answer so far: the MILP only has to improve on it
            start = min(cands, key=lambda c: round(score(inst, c[1]).objective, 9))[1]
            m = milp.solve(
                inst, settings["milp_time_limit_s"], node_limit=settings["curve_milp_node_limit"], start=start
            )
            bound = m.bound
            if m.owner is not None:
                cands.append(("MILP (HiGHS)", m.owner))
                proven = m.optimal
        judged = [(round(score(inst, o).objective, 9), i, name, o) for i, (name, o) in enumerate(cands)]
        objective, _, name, owner = min(judged, key=lambda t: (t[0], t[1]))
        best = score(inst, owner)
        if proven and objective <= min(j[0] for j in judged if j[2] != "heuristic") + 1e-9:
            optimal, gap = True, 0.0
        else:
            gap = _relative_gap(best.objective, bound)
            optimal = gap is not None and gap <= milp.MIP_REL_GAP
        rows.append(
            {
                "tolerance": float(tol),
                "moves": best.moves,
                "disruption": best.disruption,
                "books_outside": books_outside(inst, owner),
                "optimal": bool(optimal),
                "gap": gap,
                "solver": name,
            }
        )
        owners[float(tol)] = owner
        previous = owner
    curve = pd.DataFrame(rows, columns=COLUMNS)
    curve["gap"] = curve["gap"].astype("Float64")
    curve["solver"] = curve["solver"].astype("string")
    return curve, owners, base


def solve_ahead(ahead: heuristic.SolveAhead, problem: Instance, settings: dict) -> None:
    """Hand the curve's heuristic solves (the main plan's ``problem`` at each
    other tolerance of ``settings``) to a worker process, so that
    :func:`tradeoff_curve` finds them answered (:class:`~diligence.scenarios.heuristic.SolveAhead`).
    Nothing here needs the main plan's answer: they can start before it. A
    point the worker has not started when the curve asks for it is solved by
    the curve itself (the worker, busy with other points and the named plans,
    would leave the step waiting while it works through them one by one)."""
    for tol in settings["curve_tolerances"]:
        if abs(problem.tolerance - tol) >= 1e-12:
            ahead.submit(dataclasses.replace(problem, tolerance=float(tol)), take_back=True)


def knee(curve: pd.DataFrame) -> int | None:
    """Row position of the curve's knee (module notes), None for an empty
    curve. A flat curve (every point the same disruption) has its knee at the
    tightest tolerance: balance costs nothing there. Ties go to the tighter
    tolerance."""
    if curve.empty:
        return None
    x = curve["tolerance"].to_numpy(float)
    y = curve["disruption"].to_numpy(float)
    if np.ptp(y) <= 1e-9:
        return 0
    if len(curve) < 3:
        return None
    xs = (x - x.min()) / max(np.ptp(x), 1e-12)
    ys = (y - y.min()) / np.ptp(y)
    chord = ys[0] + (ys[-1] - ys[0]) * xs
    below = chord - ys
    return int(np.argmax(below)) if below.max() >= KNEE_MIN else None


def _cost(x: float) -> str:
    return f"{x:,.1f}".rstrip("0").rstrip(".")


def _pct(t: float) -> str:
    return f"±{t * 100:g}%"


def recommendation(curve: pd.DataFrame, configured: float | None = None) -> tuple[float | None, str]:
    """The recommended tolerance and the sentence that justifies it.

    At the knee when there is one: the sentence sets the moves tightening to
    the next point would add against those loosening to the previous one
    would save. A curve without a knee (each step costing about the same)
    recommends ``configured`` when it is on the curve, and says why."""
    if curve.empty:
        return None, ""
    k = knee(curve)
    t = curve["tolerance"].to_numpy(float)
    moves = curve["moves"].to_numpy(int)
    dis = curve["disruption"].to_numpy(float)
    if k is None:
        on_curve = configured is not None and bool(np.isclose(t, configured).any())
        return (float(configured) if on_curve else None), (
            "No tolerance stands out: each step of the band costs about the same number of moves "
            f"(from {fmt_int(moves[0])} at {_pct(t[0])} to {fmt_int(moves[-1])} at {_pct(t[-1])})"
            + (f", so the plan keeps the tolerance set, {_pct(configured)}" if on_curve else "")
            + "; the choice is how much imbalance the sales force can carry against how much change it can absorb."
        )
    parts = [f"{_pct(t[k])} is the recommended tolerance ({fmt_int(moves[k])} accounts moved)"]
    if k > 0:
        parts.append(
            f"tightening it to {_pct(t[k - 1])} costs {fmt_int(moves[k - 1] - moves[k])} more moves "
            f"({_cost(dis[k - 1] - dis[k])} more in disruption cost)"
        )
    if k < len(t) - 1:
        parts.append(
            f"loosening it to {_pct(t[k + 1])} saves only {fmt_int(moves[k] - moves[k + 1])} "
            f"({_cost(dis[k] - dis[k + 1])} in disruption cost)"
        )
    if k == 0 and len(t) > 1:
        parts.append("a looser band buys almost nothing in fewer moves")
    outside = int(curve["books_outside"].iloc[k])
    tail = (
        f" At that tolerance {fmt_int(outside)} {'book stays' if outside == 1 else 'books stay'} outside the band "
        "under the rules."
        if outside
        else ""
    )
    return float(t[k]), parts[0] + ": " + "; ".join(parts[1:]) + "." + tail


def curve_records(curve: pd.DataFrame) -> list[dict[str, Any]]:
    """The curve as ``findings.json`` holds it: ``tolerance, moves, disruption,
    books_outside, optimal, gap`` per point (no timings: the same inputs give
    the same bytes)."""
    keep = ["tolerance", "moves", "disruption", "books_outside", "optimal", "gap"]
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in curve[keep].astype(object).to_dict(orient="records")
    ]
