"""The rebalancing problem as arrays: which accounts may move, to which reps,
and the balance band each comparable group must meet.

Both solvers (:mod:`~diligence.scenarios.milp`, :mod:`~diligence.scenarios.heuristic`)
read an :class:`Instance` and return one owner per movable account; :func:`score`
judges any such answer the same way, so the two can be compared.

Who is in the problem (SPEC §3 words):

- **reps**: active, quota-carrying reps; their comparable group is the one
  :func:`diligence.metrics.balance.book_potential` gives (groups of ≥ 2 reps);
- **assigned** accounts: owned by one of those reps, not locked and not of a
  protected disruption class (``protect``, :mod:`~diligence.scenarios.disruption`);
  they may stay (free) or move to an eligible rep (one move each, costing
  ``move_cost``: 1 plus the ``disruption_weights`` of the account's classes);
- **forced** accounts (only with ``reassign_junior_enterprise``): owned by an
  active rep who breaks the seniority rule (an enterprise-segment account with
  a junior owner); they must move, and each counts as a move. Without the
  setting the rule governs every account the plan gives, and today's junior
  holdings stay where they are;
- **new** accounts: unassigned (orphaned or no owner; partner-only accounts
  keep their partner), not locked, given an owner where the segment's capacity
  allows: at most ``accounts_per_rep × headcount − rep-assigned accounts`` of
  the segment, highest potential first. Assigning them is not a move.

Every other account is fixed and its potential counts in its owner's book.
What is balanced is the potential, unless ``balance_on`` says ``workload``
or ``composite`` (:func:`diligence.scenarios.disruption.balance_measure`);
``potential`` in the arrays then holds that measure.

A rep is **eligible** for an account when it covers the account's segment
(case-insensitive), is not junior when the account is enterprise-segment, and,
with ``region_affinity``, has the account's region (either blank: any).
An account's current owner always remains a candidate unless a rule forces it
out, and an account owned today moves only inside its owner's comparable
group (a rebalance between AE and AM teams is a different decision).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from diligence.metrics import balance, capacity
from diligence.metrics.coverage import (
    ORPHANED,
    REP_ASSIGNED,
    UNOWNED,
    active_rep_mask,
    as_of_date,
    classify_accounts,
    column_or_blank,
    positions_in,
)
from diligence.metrics.memo import once_per_tables
from diligence.scenarios import disruption

ASSIGNED, FORCED, NEW = 0, 1, 2
KIND_LABELS = {ASSIGNED: "assigned", FORCED: "forced", NEW: "new"}
ALL_SEGMENTS = "(all)"
#: Distance outside the band, relative to the group scale, that still counts as
#: inside (the solver's feasibility round-off).
BAND_EPS = 1e-6
#: Weight of one move's potential in the objective: always below one move.
POTENTIAL_WEIGHT = 0.5


@dataclass
class Instance:
    """A rebalancing problem in array form (see the module docstring).

    Rep arrays have one entry per rep (``rep_ids`` sorted); account arrays one
    per movable account (``account_pos`` are positions in ``accounts``).
    ``eligible[c, r]`` says whether rep ``r`` may receive accounts of class
    ``c``; ``cls`` is each account's class.
    """

    rep_ids: np.ndarray
    rep_group: np.ndarray  # int, -1 = in no comparable group
    group_labels: np.ndarray
    base: np.ndarray  # potential of each rep's fixed accounts
    account_pos: np.ndarray
    account_ids: np.ndarray
    potential: np.ndarray
    current: np.ndarray  # rep index today, -1 when unassigned or not a quota rep
    kind: np.ndarray  # ASSIGNED / FORCED / NEW
    cls: np.ndarray
    eligible: np.ndarray  # bool, classes x reps
    tolerance: float
    move_cost: np.ndarray | None = None  # cost of moving each account (≥ 1); None: 1 each

    def __post_init__(self) -> None:
        if self.move_cost is None:
            self.move_cost = np.ones(len(self.account_ids))

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_reps(self) -> int:
        return len(self.rep_ids)

    @property
    def n_groups(self) -> int:
        return len(self.group_labels)

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """(account index, rep index) of every allowed pair, sorted by account
        then rep: for an account with an owner today, its owner and the
        eligible reps of the owner's comparable group; for a forced or new
        account, every eligible rep."""
        a, r = np.nonzero(self.eligible[self.cls])
        # An account moves only inside its owner's comparable group: a group's
        # books are then never emptied into another's to dodge the band.
        cur = self.current[a]
        keep = (self.kind[a] != ASSIGNED) | (
            (cur >= 0)
            & (self.rep_group[np.maximum(cur, 0)] >= 0)
            & (self.rep_group[r] == self.rep_group[np.maximum(cur, 0)])
        )
        a, r = a[keep], r[keep]
        stay = np.flatnonzero((self.kind == ASSIGNED) & (self.current >= 0))
        a = np.concatenate([a, stay])
        r = np.concatenate([r, self.current[stay]])
        pairs = np.unique(a.astype(np.int64) * max(self.n_reps, 1) + r)
        return pairs // max(self.n_reps, 1), pairs % max(self.n_reps, 1)

    def scale(self) -> np.ndarray:
        """A potential scale per group (its mean book today, at least the mean
        account), so that balance slack is judged relative to the group."""
        loads = self.base.copy()
        held = self.current >= 0
        np.add.at(loads, self.current[held], self.potential[held])
        out = np.ones(self.n_groups)
        member = self.rep_group >= 0
        if member.any():
            sums = np.bincount(self.rep_group[member], loads[member], self.n_groups)
            counts = np.bincount(self.rep_group[member], minlength=self.n_groups)
            out = sums / np.maximum(counts, 1)
        floor = float(self.potential.mean()) if self.n_accounts else 1.0
        return np.maximum(out, max(floor, 1e-9))


def _norm(values: pd.Series) -> pd.Series:
    """Case- and space-insensitive key, blank as ''."""
    return values.astype("string").str.strip().str.casefold().fillna("")


@once_per_tables(("accounts",), ("enterprise_segments", "region_affinity", "segmented"))
def _account_keys(tables: dict, keys: dict) -> pd.DataFrame:
    """What :func:`build_instance` reads of each account alone, the same for
    every plan of one company (the scenario step builds five problems or more):
    ``seg`` and ``reg`` (normalised; ``reg`` blank without region affinity),
    ``ent`` (an enterprise segment), ``cls`` (the class: distinct (seg, reg,
    ent), numbered in that order), ``id`` (the account_id as text) and
    ``id_rank`` (its place among the sorted ids). ``keys`` holds
    ``enterprise_segments``, ``region_affinity`` and ``segmented``."""
    accounts = tables["accounts"]
    seg = _norm(accounts["segment"]) if keys["segmented"] else pd.Series(ALL_SEGMENTS, index=accounts.index)
    reg = _norm(column_or_blank(accounts, "region")) if keys["region_affinity"] else pd.Series("", index=accounts.index)
    out = pd.DataFrame(
        {
            "seg": seg.array,
            "reg": reg.array,
            "ent": seg.isin({s.strip().casefold() for s in keys["enterprise_segments"]}).to_numpy(bool),
        }
    )
    classes = out.drop_duplicates().sort_values(["seg", "reg", "ent"], kind="stable").reset_index(drop=True)
    out["cls"] = out.merge(classes.reset_index(names="cls"), on=["seg", "reg", "ent"], how="left")["cls"].to_numpy(
        np.int64
    )
    ids = accounts["account_id"].to_numpy(dtype=object)
    out["id"] = pd.Series(ids, dtype=object)  # as the problem holds them: converted once, not per problem
    rank = np.empty(len(out), dtype=np.int64)
    rank[np.argsort(ids.astype(str), kind="stable")] = np.arange(len(out))
    out["id_rank"] = rank
    return out


def build_instance(tables: dict, params: dict, settings: dict, classes: pd.DataFrame | None = None) -> Instance:
    """The rebalancing problem of ``tables`` (see the module docstring).

    ``classes`` is :func:`diligence.scenarios.disruption.account_classes` of
    ``tables`` (computed when not given): it prices each move and says which
    accounts ``protect`` keeps where they are."""
    accounts, reps = tables["accounts"], tables["reps"]
    disrupt = disruption.account_classes(tables, params) if classes is None else classes
    as_of = as_of_date(params)
    books = balance.book_potential(tables, params)  # active quota reps, sorted, with group
    rep_ids = books["rep_id"].to_numpy(dtype=object)
    group = books["group"].astype("string")
    group_labels = np.array(sorted(group.dropna().unique()), dtype=object)
    rep_group = pd.Categorical(group, categories=group_labels).codes.astype(np.int64)
    by_id = reps.drop_duplicates("rep_id").set_index("rep_id")
    rep_rows = by_id.reindex(pd.Index(rep_ids, dtype="string"))

    segmented = "segment" in accounts and "segment" in reps
    keys = _account_keys(
        tables,
        {
            "enterprise_segments": sorted(params["enterprise_segments"]),
            "region_affinity": bool(settings["region_affinity"]),
            "segmented": segmented,
        },
    )
    acc_seg = pd.Series(keys["seg"].array, index=accounts.index)
    rep_seg = _norm(rep_rows["segment"]) if segmented else pd.Series(ALL_SEGMENTS, index=rep_rows.index)
    rep_reg = (
        _norm(column_or_blank(rep_rows, "region"))
        if settings["region_affinity"]
        else pd.Series("", index=rep_rows.index)
    )
    enterprise = keys["ent"].to_numpy(bool)
    junior_levels = {s.strip().casefold() for s in params["junior_levels"]}
    rep_junior = _norm(column_or_blank(rep_rows, "level")).isin(junior_levels).to_numpy(bool)

    # Account classes: (segment, region, enterprise); eligibility is a class x rep matrix.
    cls_all = keys["cls"].to_numpy(np.int64)
    classes = keys.drop_duplicates("cls").sort_values("cls")[["seg", "reg", "ent"]]
    c_seg = classes["seg"].to_numpy(dtype=object)[:, None]
    c_reg = classes["reg"].to_numpy(dtype=object)[:, None]
    r_seg = rep_seg.to_numpy(dtype=object)[None, :]
    r_reg = rep_reg.to_numpy(dtype=object)[None, :]
    eligible = (
        (c_seg == r_seg)
        & (c_seg != "")
        & ~(classes["ent"].to_numpy(bool)[:, None] & rep_junior[None, :])
        & ((c_reg == "") | (r_reg == "") | (c_reg == r_reg))
    )
    has_candidate = eligible.any(axis=1)[cls_all]

    potential = disruption.balance_measure(tables, params, settings).to_numpy(float)
    owner = column_or_blank(accounts, "owner_rep_id")
    current = positions_in(owner, pd.Index(rep_ids, dtype=owner.dtype))
    locked = accounts["account_id"].isin(settings["locked_accounts"]).to_numpy(bool)
    locked = locked | disruption.protected(disrupt, settings["protect"])
    cost = disruption.move_cost(disrupt, settings["disruption_weights"])
    state = classify_accounts(accounts, reps, as_of)
    rep_assigned = state.isin([REP_ASSIGNED]).to_numpy(bool)

    # Forced: an active owner (quota-carrying or not) who is junior on an enterprise account.
    active = reps.loc[active_rep_mask(reps, as_of)]
    junior_ids = active.loc[_norm(column_or_blank(active, "level")).isin(junior_levels).to_numpy(bool), "rep_id"]
    breaks_rule = enterprise & owner.isin(junior_ids).to_numpy(bool) & rep_assigned
    forced = breaks_rule & has_candidate & ~locked & bool(settings["reassign_junior_enterprise"])
    assigned = (current >= 0) & ~forced & ~locked

    # New: unassigned accounts, highest potential first, within each segment's capacity room.
    unassigned = state.isin([ORPHANED, UNOWNED]).to_numpy(bool) & has_candidate & ~locked
    room = _segment_room(tables, params, acc_seg, rep_assigned, segmented, len(rep_ids))
    order = pd.DataFrame({"seg": acc_seg.array, "p": potential, "id": keys["id_rank"].to_numpy()})
    order = order.loc[unassigned].sort_values(["p", "id"], ascending=[False, True], kind="stable")
    rank = order.groupby("seg", sort=False).cumcount()
    limit = order["seg"].map(room).astype(float).fillna(0.0).to_numpy(float)
    take = order.index[rank.to_numpy(float) < limit]
    new = np.zeros(len(accounts), dtype=bool)
    new[accounts.index.get_indexer(take)] = True

    scope = assigned | forced | new
    kind = np.select([forced, new], [FORCED, NEW], ASSIGNED)[scope]
    fixed_owned = ~scope & (current >= 0)
    base = np.bincount(current[fixed_owned], potential[fixed_owned], len(rep_ids)) if len(rep_ids) else np.zeros(0)
    cur = np.where(kind == ASSIGNED, current[scope], -1)
    pos = np.flatnonzero(scope)
    ids = keys["id"].to_numpy()[pos]
    # Sort by account_id so that solvers see the same problem whatever the input's row order.
    sort = np.argsort(keys["id_rank"].to_numpy()[pos], kind="stable")
    return Instance(
        rep_ids=rep_ids,
        rep_group=rep_group,
        group_labels=group_labels,
        base=np.asarray(base, float),
        account_pos=pos[sort],
        account_ids=ids[sort],
        potential=potential[scope][sort],
        current=cur[sort].astype(np.int64),
        kind=kind[sort].astype(np.int64),
        cls=cls_all[scope][sort],
        eligible=eligible,
        tolerance=float(settings["balance_tolerance"]),
        move_cost=cost[scope][sort],
    )


def _segment_room(
    tables: dict, params: dict, acc_seg: pd.Series, rep_assigned: np.ndarray, segmented: bool, n_reps: int
) -> dict[str, float]:
    """Accounts each segment's reps can still take at the ``accounts_per_rep``
    norm: ``norm × headcount − rep-assigned accounts`` (≥ 0), by segment key."""
    taken = acc_seg[rep_assigned].value_counts()
    if not segmented:
        norm = float(params["accounts_per_rep"].get("other", 150))
        return {ALL_SEGMENTS: max(0.0, norm * n_reps - float(taken.sum()))}
    table = capacity.capacity_table(tables, params)
    key = _norm(table["segment"])
    cap = pd.Series((table["accounts_per_rep"] * table["headcount"]).to_numpy(float), index=key.to_numpy())
    return (cap - taken.reindex(cap.index).fillna(0)).clip(lower=0).to_dict()


@dataclass
class Score:
    """How good one answer is: moves, potential moved, and balance."""

    moves: int
    disruption: float  # sum of the moved accounts' move costs (= moves without disruption weights)
    potential_moved: float
    newly_assigned: int
    violation: float  # sum over reps of distance outside the band, relative to the group scale
    within_tolerance: bool
    objective: float  # the MILP's objective value for this answer


def loads(inst: Instance, owner: np.ndarray) -> np.ndarray:
    """Book potential of each rep under ``owner`` (rep index per movable account)."""
    out = inst.base.copy()
    np.add.at(out, owner, inst.potential)
    return out


def band(inst: Instance, load: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) bound of each rep's book: (1 ∓ tolerance) × its group's
    mean under ``load``; ±inf for reps in no comparable group."""
    member = inst.rep_group >= 0
    lo = np.full(inst.n_reps, -np.inf)
    hi = np.full(inst.n_reps, np.inf)
    if member.any():
        sums = np.bincount(inst.rep_group[member], load[member], inst.n_groups)
        counts = np.bincount(inst.rep_group[member], minlength=inst.n_groups)
        mean = (sums / np.maximum(counts, 1))[inst.rep_group[member]]
        lo[member] = (1 - inst.tolerance) * mean
        hi[member] = (1 + inst.tolerance) * mean
    return lo, hi


def outside(load: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Distance of each book outside its band ``[lo, hi]``: 0 inside, and 0
    for a rep in no comparable group (its band is unbounded)."""
    return np.maximum(np.maximum(load - hi, lo - load), 0.0)


def slack_weight(inst: Instance) -> float:
    """Objective weight of one group-scale of balance slack: large enough that
    any balance gain outweighs every possible move."""
    return 1000.0 * (float(np.sort(inst.move_cost).sum()) + 1)


def score(inst: Instance, owner: np.ndarray) -> Score:
    """Judge an answer: moves (assigned accounts whose owner changes, plus
    forced ones), their disruption (sum of their move costs), potential
    moved, newly assigned accounts, balance violation, and the objective the
    MILP minimises for it: disruption, plus the potential moved as a share of
    the total (weighted below one move), plus the weighted balance slack."""
    moved = ((inst.kind == ASSIGNED) & (owner != inst.current)) | (inst.kind == FORCED)
    pot_moved = float(np.sort(inst.potential[moved]).sum())
    total = float(inst.potential.sum()) or 1.0
    load = loads(inst, owner)
    lo, hi = band(inst, load)
    member = inst.rep_group >= 0
    scale = inst.scale()
    out = outside(load, lo, hi)
    rel = np.where(member, out / scale[np.maximum(inst.rep_group, 0)], 0.0)
    violation = float(rel.sum())
    cost = float(np.sort(inst.move_cost[moved]).sum())
    objective = cost + POTENTIAL_WEIGHT * pot_moved / total + slack_weight(inst) * violation
    return Score(
        moves=int(moved.sum()),
        disruption=cost,
        potential_moved=pot_moved,
        newly_assigned=int((inst.kind == NEW).sum()),
        violation=violation,
        within_tolerance=bool((rel <= BAND_EPS).all()),
        objective=objective,
    )
