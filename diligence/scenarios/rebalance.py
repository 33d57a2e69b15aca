"""The rebalancer: from today's assignment, a proposed one that balances books,
gives unassigned accounts an owner where capacity allows, keeps the rules and
moves as few accounts as possible.

:func:`rebalance` builds the problem (:mod:`~diligence.scenarios.instance`),
always runs the heuristic and, when the problem has at most
``milp_max_accounts`` movable accounts, the exact MILP warm-started from the
heuristic's plan within the time budget ``milp_time_limit_s`` (a solve the
budget stops says so: ``Plan.stopped``, with the gap it reached). It keeps the better answer by the MILP's own objective
(balance first, then moves, then potential moved) and reports the solver and
its optimality gap: HiGHS's gap for the MILP, and for the heuristic the gap to
the MILP's proven bound when the MILP ran (unknown otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from diligence.metrics import balance
from diligence.metrics.coverage import (
    ORPHANED,
    account_potential,
    as_of_date,
    classify_accounts,
    column_or_blank,
    lookup,
)
from diligence.scenarios import disruption, heuristic, milp
from diligence.scenarios.instance import ASSIGNED, FORCED, NEW, Instance, Score, band, build_instance, loads, score

MILP, HEURISTIC = "MILP (HiGHS)", "heuristic"


@dataclass
class Plan:
    """A proposed assignment and how it was found.

    ``owner`` is the proposed ``owner_rep_id`` of every account (indexed like
    ``accounts``); ``moves`` lists each account whose owner changes (see
    :func:`move_list`); ``score`` judges it; ``solver`` names the answer kept,
    ``gap`` its relative optimality gap (None when unknown); ``comparison``
    holds both solvers' figures when both ran.
    """

    owner: pd.Series
    moves: pd.DataFrame
    score: Score
    solver: str
    gap: float | None
    optimal: bool
    seconds: float
    instance: Instance = field(repr=False)
    comparison: dict[str, Any] = field(default_factory=dict)
    classes: pd.DataFrame | None = field(default=None, repr=False)  # disruption classes of every account
    stopped: bool = False  # the MILP ran out of its time budget (milp_time_limit_s) before closing its gap

    def moved_ids(self) -> pd.Series:
        """Ids of the accounts the plan moves from one rep to another (the
        newly assigned ones excluded)."""
        moves = self.moves
        return moves.loc[~moves["reason"].isin(list(NEW_REASONS)), "account_id"]

    def disruption(self) -> dict[str, Any]:
        """What the plan disturbs (:func:`diligence.scenarios.disruption.summary`)
        and its disruption cost (``score.disruption``)."""
        return {**disruption.summary(self.classes, self.moved_ids()), "disruption": self.score.disruption}

    def disruption_by_class(self) -> pd.DataFrame:
        """Accounts moved per disruption class (:func:`diligence.scenarios.disruption.by_class`)."""
        return disruption.by_class(self.classes, self.moved_ids())

    def band_position(self) -> pd.DataFrame:
        """Where each quota rep's planned book sits against its group's band.

        Columns: ``rep_id``; ``band``: "below", "within" or "above" (blank
        for a rep in no comparable group); ``can_receive``: whether any
        account of the problem may go to the rep under the rules (a junior
        rep among enterprise accounts may not); ``off_band_pct``: how far
        outside, relative to the nearer edge of the band.
        """
        inst = self.instance
        owner = (
            inst.rep_ids.searchsorted(self.owner.iloc[inst.account_pos].to_numpy(dtype=object))
            if inst.n_accounts
            else np.zeros(0, np.int64)
        )
        load = loads(inst, owner)
        lo, hi = band(inst, load)
        slack = 1e-6 * inst.scale()[np.maximum(inst.rep_group, 0)]
        grouped = inst.rep_group >= 0
        below, above = grouped & (load < lo - slack), grouped & (load > hi + slack)
        where = np.select([below, above, grouped], ["below", "above", "within"], None)
        off = np.where(
            below, 1 - load / np.where(below, lo, 1.0), np.where(above, load / np.where(above, hi, 1.0) - 1, 0.0)
        )
        classes = np.unique(inst.cls)
        return pd.DataFrame(
            {
                "rep_id": pd.array(inst.rep_ids, dtype="string"),
                "band": pd.array(where, dtype="string"),
                "can_receive": inst.eligible[classes].any(axis=0) if len(classes) else np.zeros(inst.n_reps, bool),
                "off_band_pct": pd.array(np.where(grouped, off, np.nan), dtype="Float64"),
            }
        )

    def books_outside_band(self) -> int:
        """Reps of a comparable group whose planned book lies outside the band."""
        return int(self.band_position()["band"].isin(["below", "above"]).sum())

    def summary(self) -> dict[str, Any]:
        """Headline figures, named as the scenario step records them."""
        disrupted = self.disruption()
        return {
            "scenario_solver_milp": int(self.solver == MILP),
            "scenario_optimality_gap": self.gap,
            "scenario_proven_optimal": int(self.optimal),
            "scenario_accounts_moved": self.score.moves,
            "scenario_disruption": self.score.disruption,
            "scenario_open_pipeline_moved": disrupted["open_pipeline_moved"],
            "scenario_customers_moved": disrupted["customers_moved"],
            "scenario_potential_moved": self.score.potential_moved,
            "scenario_accounts_newly_assigned": self.score.newly_assigned,
            "scenario_potential_newly_assigned": float(
                np.sort(self.instance.potential[self.instance.kind == NEW]).sum()
            ),
            "scenario_books_within_tolerance": int(self.score.within_tolerance),
            "scenario_books_outside_band": self.books_outside_band(),
        }


def _relative_gap(objective: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def owner_index(inst: Instance, owner: pd.Series) -> np.ndarray:
    """Rep index in ``inst`` of each movable account's owner in ``owner``
    (``owner_rep_id`` by account row, as :attr:`Plan.owner`); −1 where that
    rep is not one of the problem's."""
    ids = owner.iloc[inst.account_pos].astype("string").fillna("").to_numpy(dtype=object)
    return pd.Index(inst.rep_ids).get_indexer(ids).astype(np.int64)


def same_problem(a: Instance, b: Instance) -> bool:
    """Whether two instances pose the same problem: every array and the tolerance equal."""
    return all(
        np.array_equal(getattr(a, f.name), getattr(b, f.name))
        if isinstance(getattr(a, f.name), np.ndarray)
        else getattr(a, f.name) == getattr(b, f.name)
        for f in fields(Instance)
    )


def rebalance(
    tables: dict,
    params: dict,
    settings: dict,
    *,
    solver: str = "auto",
    classes: pd.DataFrame | None = None,
    start: Plan | None = None,
    known: Sequence[Plan] = (),
    instance: Instance | None = None,
) -> Plan:
    """Propose a rebalanced assignment of ``tables``.

    Parameters
    ----------
    tables, params
        The run's tables and resolved SPEC §6 parameters.
    settings
        Resolved scenario settings (:func:`diligence.scenarios.resolve_settings`).
    solver
        ``"auto"`` (heuristic always, MILP too when small enough; the better
        kept), ``"milp"`` or ``"heuristic"`` to force one.
    classes
        :func:`diligence.scenarios.disruption.account_classes` of ``tables``
        (computed when not given).
    start
        A plan on the same accounts (today's reps rebalanced, when these
        tables add hires): the heuristic begins from its owners where the
        rules allow, so the MILP's warm start is already close to the optimum.
    known
        Plans already found (the scenario step's main plan and plan with
        hires): when one of them solved this very problem
        (:func:`same_problem`) it is returned as it is, with its proof, rather
        than solved again, so that a named plan equal to one of them shows
        the same answer.
    instance
        The problem of these tables, settings and classes, when already built
        (:func:`~diligence.scenarios.instance.build_instance`).

    Returns
    -------
    Plan
    """
    classes = disruption.account_classes(tables, params) if classes is None else classes
    inst = build_instance(tables, params, settings, classes) if instance is None else instance
    for plan in known:
        if same_problem(plan.instance, inst):
            return plan
    runs: dict[str, tuple[np.ndarray, float, bool, float | None]] = {}
    bound = None
    stopped = False
    if solver in ("auto", "heuristic"):
        h = heuristic.solve(inst, start=None if start is None else owner_index(inst, start.owner))
        runs[HEURISTIC] = (h.owner, h.seconds, False, None)
    if solver == "milp" or (solver == "auto" and inst.n_accounts <= settings["milp_max_accounts"]):
        # warm-started from the heuristic's plan: never worse than it, and pruning from the first node
        start = runs[HEURISTIC][0] if HEURISTIC in runs else None
        m = milp.solve(inst, settings["milp_time_limit_s"], start=start)
        bound = m.bound
        stopped = m.stopped
        if m.owner is not None:
            runs[MILP] = (m.owner, m.seconds, m.optimal, m.gap)
    if not runs:  # a forced MILP without a solution in time
        h = heuristic.solve(inst)
        runs[HEURISTIC] = (h.owner, h.seconds, False, None)
    scores = {name: score(inst, run[0]) for name, run in runs.items()}
    # the MILP wins ties: its answer carries a proof
    name = min(runs, key=lambda k: (round(scores[k].objective, 9), k != MILP))
    owner, _seconds, optimal, gap = runs[name]
    if name == HEURISTIC:
        gap = _relative_gap(scores[name].objective, bound)
        optimal = gap is not None and gap <= 1e-6
    comparison = {
        k: {
            "moves": s.moves,
            "potential_moved": s.potential_moved,
            "within_tolerance": s.within_tolerance,
            "violation": s.violation,
            "objective": s.objective,
            "seconds": runs[k][1],
        }
        for k, s in scores.items()
    }
    out = plan_of(tables, params, inst, owner, classes, scores[name], name, gap, bool(optimal), runs, comparison)
    out.stopped = bool(stopped and not optimal)
    return out


def plan_of(
    tables: dict,
    params: dict,
    inst: Instance,
    owner: np.ndarray,
    classes: pd.DataFrame,
    judged: Score,
    name: str,
    gap: float | None,
    optimal: bool,
    runs: dict[str, tuple] | None = None,
    comparison: dict[str, Any] | None = None,
) -> Plan:
    """A :class:`Plan` from a solver's answer ``owner`` on ``inst``."""
    new_owner = apply_owner(tables["accounts"], inst, owner)
    runs = runs or {}
    return Plan(
        owner=new_owner,
        moves=move_list(tables, params, inst, owner, classes),
        score=judged,
        solver=name,
        gap=gap,
        optimal=bool(optimal),
        seconds=float(sum(r[1] for r in runs.values())),
        instance=inst,
        comparison=comparison or {},
        classes=classes,
    )


def apply_owner(accounts: pd.DataFrame, inst: Instance, owner: np.ndarray) -> pd.Series:
    """``owner_rep_id`` of every account once ``owner`` (rep index per movable
    account) is applied; other accounts keep theirs."""
    out = column_or_blank(accounts, "owner_rep_id").astype("string").to_numpy(dtype=object).copy()
    out[inst.account_pos] = inst.rep_ids[owner]
    return pd.Series(pd.array(out, dtype="string"), index=accounts.index, name="owner_rep_id")


def apply_plan(tables: dict, plan: Plan) -> dict:
    """A copy of ``tables`` with the plan's owners (the frames not touched are shared)."""
    out = dict(tables)
    out["accounts"] = tables["accounts"].assign(owner_rep_id=plan.owner)
    return out


MOVE_COLUMNS = [
    "account_id",
    "account_name",
    "segment",
    "region",
    "potential",
    "from_rep_id",
    "from_rep",
    "to_rep_id",
    "to_rep",
    "reason",
    "move_class",
]
#: Reasons of accounts that get an owner without being moved from one.
NEW_REASONS = ("owner departed or unknown", "no owner")


def move_list(
    tables: dict, params: dict, inst: Instance, owner: np.ndarray, classes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every account whose owner changes: ``account_id, account_name, segment,
    region, potential, from_rep_id, from_rep, to_rep_id, to_rep, reason,
    move_class`` (its disruption classes in words, ``idle`` for none:
    :func:`diligence.scenarios.disruption.class_label`).

    Reasons: ``owner departed or unknown`` / ``no owner`` (newly assigned),
    ``enterprise account held by a junior rep`` (a rule), ``rebalance: from a
    book above the band`` / ``rebalance: to a book below the band`` (today's
    book of the giver or taker lies outside the band of the plan's group
    mean), else ``rebalance``. Highest potential first, ties by account_id.
    """
    accounts = tables["accounts"]
    moved = ((inst.kind == ASSIGNED) & (owner != inst.current)) | (inst.kind != ASSIGNED)
    idx = np.flatnonzero(moved)
    pos = inst.account_pos[idx]
    acc = accounts.iloc[pos]
    names = tables["reps"].drop_duplicates("rep_id").set_index("rep_id")["rep_name"]
    from_id = column_or_blank(acc, "owner_rep_id").astype("string")
    to_id = pd.Series(pd.array(inst.rep_ids[owner[idx]], dtype="string"), index=acc.index)
    today = loads(inst, np.where(inst.kind == ASSIGNED, inst.current, owner))
    lo, hi = band(inst, loads(inst, owner))
    cur = np.maximum(inst.current[idx], 0)
    src_over = (inst.current[idx] >= 0) & (today[cur] > hi[cur])
    dst_under = today[owner[idx]] < lo[owner[idx]]
    state = classify_accounts(acc, tables["reps"], as_of_date(params)).to_numpy(dtype=object)
    reason = np.select(
        [
            inst.kind[idx] == FORCED,
            (inst.kind[idx] == NEW) & (state == ORPHANED),
            inst.kind[idx] == NEW,
            src_over,
            dst_under,
        ],
        [
            "enterprise account held by a junior rep",
            "owner departed or unknown",
            "no owner",
            "rebalance: from a book above the band",
            "rebalance: to a book below the band",
        ],
        default="rebalance",
    )
    out = pd.DataFrame(
        {
            "account_id": acc["account_id"].astype("string"),
            "account_name": acc["account_name"].astype("string"),
            "segment": column_or_blank(acc, "segment").astype("string"),
            "region": column_or_blank(acc, "region").astype("string"),
            "potential": account_potential(acc).to_numpy(float),
            "from_rep_id": from_id,
            "from_rep": lookup(from_id, names).astype("string"),
            "to_rep_id": to_id,
            "to_rep": lookup(to_id, names).astype("string"),
            "reason": pd.array(reason, dtype="string"),
            "move_class": pd.array(
                disruption.class_label(
                    (disruption.account_classes(tables, params) if classes is None else classes).iloc[pos]
                ).to_numpy(),
                dtype="string",
            ),
        }
    )
    return out.sort_values(["potential", "account_id"], ascending=[False, True], kind="stable")[
        MOVE_COLUMNS
    ].reset_index(drop=True)


def crm_load(plan: Plan) -> pd.DataFrame:
    """The move list as a CRM load file: ``account_id, new_owner_rep_id``, and
    why each account moves and what it disturbs (``reason, move_class``), by account_id."""
    return (
        plan.moves.rename(columns={"to_rep_id": "new_owner_rep_id"})[
            ["account_id", "new_owner_rep_id", "reason", "move_class"]
        ]
        .sort_values("account_id", kind="stable")
        .reset_index(drop=True)
    )


def book_changes(tables: dict, params: dict, plan_tables: dict) -> pd.DataFrame:
    """Each quota-carrying rep's book today and in the plan, from
    :func:`diligence.metrics.balance.book_potential` on both: ``rep_id, rep_name,
    group, accounts_today, potential_today, accounts_plan, potential_plan,
    potential_change_pct``."""
    today = balance.book_potential(tables, params)
    plan = balance.book_potential(plan_tables, params)
    out = plan[["rep_id", "rep_name", "group", "accounts", "potential"]].merge(
        today[["rep_id", "accounts", "potential"]], on="rep_id", how="left", suffixes=("_plan", "_today")
    )
    out["potential_change_pct"] = (out["potential_plan"] / out["potential_today"].where(out["potential_today"] > 0)) - 1
    return out[
        [
            "rep_id",
            "rep_name",
            "group",
            "accounts_today",
            "potential_today",
            "accounts_plan",
            "potential_plan",
            "potential_change_pct",
        ]
    ]
