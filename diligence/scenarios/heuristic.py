"""Fast rebalancing: a greedy with local search that scales to 100k accounts
and hundreds of reps.

1. **Place** the accounts that need an owner (forced off a rule-breaking
   owner, or newly assigned), highest potential first, each to the eligible
   rep whose book is lowest relative to its comparable group's mean at that
   moment. This fixes which group each lands in, hence every group's mean.

Two starts follow, and the better answer by the MILP's objective is kept:

- *as placed*: the step-1 placement stays and step 2 balances around it;
- *shed first* (:func:`_shed`): the placed accounts are taken back out; each
  book above its band sheds the fewest of today's accounts that bring it
  under the top, to the peers furthest below; the placed accounts then fill
  the gaps, largest first. Paid moves go where books are too heavy and the
  free accounts do the fine-tuning, which is how the optimum looks.

On each start:

2. **Balance** each comparable group: while a book lies outside
   ``(1 ± tol) × group mean``, move one account between it and a peer,
   never pushing either outside the band. Accounts already moved or newly
   placed move again for free and are preferred; otherwise the move that
   closes the gap in one go with the least potential, else the largest that
   fits (fewest moves). In a large group a bulk round comes first
   (:func:`_bulk_balance`): the books above the band give up at once the
   accounts that fit in their excess, to the books furthest below it.
3. **Exchange**: each book still outside its band trades with a peer of its
   group: one account out, one back, or both (a swap), cheapest in moves
   first; when no exchange keeps the peer in band, one that pushes the peer
   out by less than it brings the book in (an ejection chain; total
   violation falls every round).
4. **Undo** moves that turned out unnecessary: a moved account goes back to
   its owner of today when both books stay inside their bands.
5. **Consolidate**: moves sharing a rep are sent home together and steps 3–4
   rerun on that group; the trial is kept when balance is no worse and
   fewer accounts move (one larger account often replaces two).
6. **Pair repair**: a book still outside its band (a tight band over a few
   large accounts, where one-for-one exchanges cannot reach) is re-split
   exactly with one peer at a time (:func:`_resplit`, a two-sided knapsack).
7. **Pair improvement**: two reps an account moved between are re-split
   exactly when that needs fewer moves.

Last, on the better of the two answers:

8. **Re-home** (:func:`_rehome`): where a group's band is out of reach (a
   junior rep who cannot receive enterprise accounts, say), the accounts
   placed in it in step 1 go to another group that takes them with less
   harm, and steps 2–7 run again; kept when the objective improves.
9. **Fill** (:func:`_fill`): where a band cannot hold every book, the
   excess is spread over the peers still under the top of the band (and a
   shortfall over those above the bottom) by exchanges, as the MILP, which
   weighs balance above every move, spreads it.

A move is priced as the MILP prices it: the account's move cost (1 plus
its disruption weights). Wherever the steps count moves they count that
cost, so an idle account goes before a customer or an account with an open
deal whenever either would do (step 2 and the shed start take the cheapest
tier of accounts that does the job).

Only (account, rep) pairs the MILP allows are ever used: eligible reps of the
group, or the account's owner of today. Moves in steps 2–7 stay inside a
group, so a group's mean is fixed there. Everything is deterministic:
ties break by account and rep index, and the work done on very large
instances is bounded by counts, never by a clock.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import hashlib
import heapq
import itertools
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, InvalidStateError, wait
from dataclasses import dataclass, replace
from typing import BinaryIO

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from diligence.processes import die_with_parent
from diligence.scenarios.instance import (
    ASSIGNED,
    BAND_EPS,
    POTENTIAL_WEIGHT,
    Instance,
    band,
    loads,
    outside,
    score,
    slack_weight,
)
from diligence.scenarios.milp import quiet_stdout

_INF = float("inf")


#: The group scales of the instance being solved (:meth:`Instance.scale`), set
#: for the length of one :func:`_solve` (per thread: the scenario step solves in
#: threads): each step asked for them again, a pass over every account each time.
_SCALE = threading.local()


def _scale(inst: Instance) -> np.ndarray:
    """``inst.scale()``, computed once per solve."""
    known = getattr(_SCALE, "solving", None)
    return known[1] if known is not None and known[0] is inst else inst.scale()


@dataclass
class HeuristicResult:
    owner: np.ndarray
    seconds: float


class _Lowest:
    """The book with the least potential among a fixed set of reps whose
    books only grow (ties by rep index): a heap with stale entries skipped."""

    def __init__(self, reps: np.ndarray, load: np.ndarray) -> None:
        self.heap = list(zip(load[reps].tolist(), reps.tolist()))
        heapq.heapify(self.heap)

    def top(self, load: np.ndarray) -> tuple[float, int]:
        """(potential, rep) of the lowest book under ``load``."""
        heap = self.heap
        while True:
            x, r = heap[0]
            now = float(load[r])
            if now == x:
                return x, r
            heapq.heapreplace(heap, (now, r))


def _place(inst: Instance, owner: np.ndarray, load: np.ndarray) -> None:
    """Step 1, in place: owners for forced and new accounts."""
    todo = np.flatnonzero(owner < 0)
    if not len(todo):
        return
    # account ids are sorted, so position breaks potential ties by account_id
    todo = todo[np.lexsort((todo, -inst.potential[todo]))]
    eligible_reps = [np.flatnonzero(row) for row in inst.eligible]
    g = inst.rep_group
    n_g = max(inst.n_groups, 1)
    member = g >= 0
    gsum = np.bincount(g[member], load[member], n_g).astype(float)
    gcnt = np.bincount(g[member], minlength=n_g).astype(float)
    # within a group the book lowest relative to the mean is the lowest book: one heap per
    # (class, group) replaces a pass over every eligible rep per account
    lowest: dict[int, list[tuple[int, _Lowest]]] = {}
    for c, reps in enumerate(eligible_reps):
        if len(reps) and (g[reps] >= 0).all():
            lowest[c] = [(int(h), _Lowest(reps[g[reps] == h], load)) for h in np.unique(g[reps])]
    for a in todo.tolist():
        c = int(inst.cls[a])
        if c in lowest:
            best = None
            for h, heap in lowest[c]:
                x, r = heap.top(load)
                key = (x / max(gsum[h] / max(gcnt[h], 1), 1e-12), r)
                if best is None or key < best:
                    best = key
            r = best[1]
        else:  # reps in no group: their reference is the eligible reps' mean book
            reps = eligible_reps[c]
            rg = g[reps]
            ref = np.where(rg >= 0, gsum[np.maximum(rg, 0)] / np.maximum(gcnt[np.maximum(rg, 0)], 1), load[reps].mean())
            fill = load[reps] / np.maximum(ref, 1e-12)
            r = int(reps[int(np.argmin(fill))])
        owner[a] = r
        load[r] += inst.potential[a]
        if g[r] >= 0:
            gsum[g[r]] += inst.potential[a]


def _rep_keys(owner: np.ndarray, n_reps: int) -> np.ndarray:
    """``owner`` as the narrowest unsigned integers that hold every rep index:
    numpy sorts 16-bit keys by radix, several times faster than 64-bit ones."""
    return owner.astype(np.uint16) if n_reps < (1 << 16) - 1 else owner


def _receiver(x: float, cand: np.ndarray, load: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> int:
    """Where an account of potential ``x`` goes among ``cand``: of the books it
    fits under the top of their band, the one furthest below its band (the
    lowest relative to it); when it fits nowhere, the book with the most room."""
    room = hi[cand] - load[cand]
    fits = room >= x
    if fits.any():
        c = cand[fits]
        return int(c[int(np.argmax(lo[c] - load[c]))])
    return int(cand[int(np.argmax(room))])


def _fewest_covering(x: np.ndarray, need: float) -> np.ndarray:
    """Positions of the fewest values of ``x`` summing to at least ``need``:
    the largest ones but the last, then the smallest that completes the sum
    (all of them when even that falls short)."""
    order = np.lexsort((np.arange(len(x)), -x))
    cum = np.cumsum(x[order])
    k = int(np.searchsorted(cum, need, side="left"))
    if k >= len(x):
        return order
    top = order[:k]
    rest = order[k:]
    short = need - (cum[k - 1] if k else 0.0)
    ok = rest[x[rest] >= short]  # order[k] qualifies, but for round-off
    return np.concatenate([top, ok[[int(np.argmin(x[ok]))]] if len(ok) else rest[:1]])


def _cheapest_covering(inst: Instance, acc: np.ndarray, need: float) -> np.ndarray:
    """Accounts of ``acc`` summing to at least ``need`` at the least move
    cost: for each cost level, the fewest accounts of that cost or less that
    cover ``need`` (:func:`_fewest_covering`); the level whose pick costs
    least wins, the lower on a tie. Idle accounts are shed before the ones
    whose move disturbs a customer or a deal, unless that takes more moves
    than it saves."""
    cost = inst.move_cost[acc]
    best = None
    for level in np.unique(cost):
        pool = acc[cost <= level]
        pick = pool[_fewest_covering(inst.potential[pool], need)]
        total = float(np.sort(inst.move_cost[pick]).sum())
        covers = inst.potential[pick].sum() >= need
        key = (not covers, total)
        if best is None or key < best[0]:
            best = (key, pick)
    return best[1]


def _shed(inst: Instance, owner: np.ndarray, load: np.ndarray) -> None:
    """The *shed first* start, in place: in each comparable group the
    accounts step 1 placed are taken back out; every book above its band then
    sheds the fewest of today's accounts that bring it under the top (the
    largest ones, the last as small as will do), each to the eligible peer
    furthest below its band; the placed accounts then go back, largest first,
    to the books furthest below theirs. Moves cost only where today's books
    are too heavy, and the accounts that move for free fill the gaps."""
    lo, hi = band(inst, load)  # the group means include the placed accounts
    scale = _scale(inst)
    placed = inst.kind != ASSIGNED
    eligible = inst.eligible
    for g in range(inst.n_groups):
        members = np.flatnonzero(inst.rep_group == g)
        eps = BAND_EPS * scale[g]
        in_group = inst.rep_group[owner] == g
        fluid = np.flatnonzero(placed & in_group)
        np.subtract.at(load, owner[fluid], inst.potential[fluid])
        # each book's own accounts, indexed once (a scan of every account per book was the cost
        # on large instances); the ones it receives meanwhile are kept beside them
        own = np.flatnonzero(~placed & in_group)
        own = own[np.argsort(_rep_keys(owner[own], inst.n_reps), kind="stable")]
        cuts = np.searchsorted(owner[own], np.arange(inst.n_reps + 1))
        got: dict[int, list[int]] = defaultdict(list)
        n_eligible = eligible[:, members].sum(axis=1)
        for r in members[np.lexsort((members, -(load[members] - hi[members])))]:
            excess = load[r] - hi[r]
            if excess <= eps:
                continue
            mine = own[cuts[r] : cuts[r + 1]]
            mine = np.unique(np.concatenate([mine[owner[mine] == r], np.array(got[int(r)], dtype=np.int64)]))
            peers = members[members != r]
            # classes some peer may take: the members eligible, less the book itself
            mine = mine[(n_eligible - eligible[:, r])[inst.cls[mine]] > 0] if len(peers) else mine[:0]
            if not len(mine):
                continue
            pick = _cheapest_covering(inst, mine, excess)
            for a in pick[np.lexsort((pick, -inst.potential[pick]))]:
                cand = peers[eligible[inst.cls[a], peers]]
                dst = _receiver(inst.potential[a], cand, load, lo, hi)
                owner[a] = dst
                got[dst].append(int(a))
                load[r] -= inst.potential[a]
                load[dst] += inst.potential[a]
        # in a group (one band) the receiver of :func:`_receiver` is the lowest eligible book:
        # one heap per class, the books only growing now
        lowest: dict[int, _Lowest] = {}
        for a in fluid[np.lexsort((fluid, -inst.potential[fluid]))].tolist():
            c = int(inst.cls[a])
            if c not in lowest:
                lowest[c] = _Lowest(members[eligible[c, members]], load) if n_eligible[c] else None
            dst = lowest[c].top(load)[1] if lowest[c] is not None else int(owner[a])
            owner[a] = dst
            load[dst] += inst.potential[a]


#: The tier of accounts free to move (already moved or newly placed); a paid
#: account's tier is its move cost (≥ 1).
FREE = -1.0


class _Books:
    """Each rep's movable accounts by class, in sorted lists by tier: free to
    move (already moved or newly placed), and paid (still with today's
    owner) at each move cost. A rep's lists are built when first read: on a
    large instance most books are never touched."""

    def __init__(self, inst: Instance, owner: np.ndarray) -> None:
        self.lists: dict[tuple[int, int, float], list[tuple[float, int]]] = defaultdict(list)
        self._classes: dict[int, set[int]] = defaultdict(set)
        self.tiers: dict[tuple[int, int], set[float]] = defaultdict(set)
        self.cost = inst.move_cost
        self.inst = inst
        free = (inst.kind != ASSIGNED) | (owner != inst.current)
        self._tier = np.where(free, FREE, inst.move_cost)
        held = np.flatnonzero(owner >= 0)
        # by rep, then potential, then account: each list is built sorted by appending
        self._order = held[np.lexsort((held, inst.potential[held], owner[held]))]
        self._cuts = np.searchsorted(owner[self._order], np.arange(inst.n_reps + 1))
        self._built = np.zeros(inst.n_reps, dtype=bool)

    def _build(self, rep: int) -> None:
        self._built[rep] = True
        acc = self._order[self._cuts[rep] : self._cuts[rep + 1]]
        if not len(acc):
            return
        # by class and tier, each run keeping the book's order (potential, then account): sorted lists
        cls, tier = self.inst.cls[acc], self._tier[acc]
        order = np.lexsort((np.arange(len(acc)), tier, cls))
        acc, cls, tier = acc[order], cls[order], tier[order]
        cuts = np.flatnonzero((cls[1:] != cls[:-1]) | (tier[1:] != tier[:-1])) + 1
        items = list(zip(self.inst.potential[acc].tolist(), acc.tolist()))
        classes = self._classes[rep]
        for start, end, c, t in zip(
            [0, *cuts.tolist()], [*cuts.tolist(), len(acc)], cls[np.r_[0, cuts]].tolist(), tier[np.r_[0, cuts]].tolist()
        ):
            self.lists[(rep, c, t)].extend(items[start:end])
            classes.add(c)
            if t != FREE:
                self.tiers[(rep, c)].add(t)

    def classes(self, rep: int) -> set[int]:
        """The classes of the accounts ``rep`` holds."""
        if not self._built[rep]:
            self._build(rep)
        return self._classes[rep]

    def tier(self, a: int, free: bool) -> float:
        return FREE if free else float(self.cost[a])

    def remove(self, rep: int, cls: int, tier: float, item: tuple[float, int]) -> None:
        if not self._built[rep]:
            self._build(rep)
        lst = self.lists[(rep, cls, tier)]
        del lst[bisect.bisect_left(lst, item)]

    def add(self, rep: int, cls: int, tier: float, item: tuple[float, int]) -> None:
        if not self._built[rep]:
            self._build(rep)
        lst = self.lists[(rep, cls, tier)]
        if lst:
            bisect.insort(lst, item)
        else:
            lst.append(item)
        self._classes[rep].add(cls)
        if tier != FREE:
            self.tiers[(rep, cls)].add(tier)

    def best(self, rep: int, cls: int, cap: float, need: float) -> tuple[tuple[float, int] | None, float, tuple]:
        """The account to move out of ``rep`` (class ``cls``) with potential
        ≤ ``cap``: the largest free one; else, of each tier's smallest paid
        one ≥ ``need`` (costing its tier) or, failing that, its largest paid
        one (costing about one move more, since the gap stays open), the
        cheapest. Returns (item, tier, rank key: smaller is better)."""
        if not self._built[rep]:
            self._build(rep)
        free = self.lists.get((rep, cls, FREE))
        if free:
            i = bisect.bisect_right(free, (cap, _INF)) - 1
            if i >= 0 and free[i][0] > 0:
                return free[i], FREE, (0, 0.0, 0, -free[i][0])
        best: tuple = (None, FREE, ())
        for tier in sorted(self.tiers.get((rep, cls), ())):
            paid = self.lists.get((rep, cls, tier))
            if paid:
                hi = bisect.bisect_right(paid, (cap, _INF))
                lo = bisect.bisect_left(paid, (need, -1))
                # one that closes the gap costs its tier; one that does not, about one move more
                if lo < hi:
                    cand = (paid[lo], tier, (1, tier, 0, paid[lo][0]))
                elif hi > 0 and paid[hi - 1][0] > 0:
                    cand = (paid[hi - 1], tier, (1, tier + 1.0, 1, -paid[hi - 1][0]))
                else:
                    continue
                if best[0] is None or cand[2] < best[2]:
                    best = cand
        return best


#: Partner books examined per balancing move: in a large group, the ones with
#: the most room (or surplus) are the only ones worth trying, and scanning all
#: of them made each move cost a pass over the whole group.
BALANCE_PARTNERS = 40


#: Passes over the stuck books of a large group step 2 makes at most (a count).
BALANCE_PASSES = 20


def _widest(members: np.ndarray, slack: np.ndarray) -> np.ndarray:
    """The :data:`BALANCE_PARTNERS` members with the most slack (all of them
    in a small group), most slack first, ties by rep index."""
    k = BALANCE_PARTNERS
    if len(members) <= k:
        return members
    # a partition finds the k-th largest slack in linear time; only the members at or
    # above it (ties included, so the choice is the same as a full sort's) are sorted
    kth = np.partition(-slack, k - 1)[k - 1]
    cand = np.flatnonzero(-slack <= kth)
    order = np.lexsort((members[cand], -slack[cand]))[:k]
    return members[cand[order]]


#: Groups of more books than this get a bulk round before the one-move steps
#: of step 2 (:func:`_bulk_balance`): moving one account per pass over a group
#: of thousands of books made step 2 cost a pass per move.
BULK_MIN_GROUP = BALANCE_PARTNERS


def _shed_pick(inst: Instance, owner: np.ndarray, tier: np.ndarray, acc: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Of ``acc`` (accounts of several books), the ones each book gives up
    toward ``amount`` (indexed by rep): free accounts first, then paid ones
    by move cost, largest first within a tier, as long as the total given
    stays within the amount (accounts larger than it are passed over)."""
    x = inst.potential[acc]
    src = owner[acc]
    acc = acc[x <= amount[src]]
    if not len(acc):
        return acc
    x, src = inst.potential[acc], owner[acc]
    order = np.lexsort((acc, -x, tier[acc], src))
    acc, x, src = acc[order], x[order], src[order]
    first = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    run = np.cumsum(np.r_[True, src[1:] != src[:-1]]) - 1
    cum = np.cumsum(x)
    within = cum - (cum[first] - x[first])[run]
    return acc[within <= amount[src]]


def _fill_to(x: np.ndarray, caps: np.ndarray, slack: np.ndarray) -> np.ndarray:
    """Entry (position in ``caps``) each value of ``x`` (taken in order) goes
    to, −1 for none: the values are laid end to end and cut where the
    capacities ``caps`` end, each going to the entry its start falls in, as
    long as it ends no more than that entry's ``slack`` past the entry's end."""
    if not len(caps) or not len(x):
        return np.full(len(x), -1, np.int64)
    ends = np.cumsum(caps)
    start = np.cumsum(x) - x
    j = np.searchsorted(ends, start, side="right")
    ok = j < len(caps)
    jj = np.minimum(j, len(caps) - 1)
    ok &= start + x <= ends[jj] + slack[jj]
    return np.where(ok, jj, -1)


def _bulk_give(
    inst: Instance,
    owner: np.ndarray,
    load: np.ndarray,
    tier: np.ndarray,
    moving: np.ndarray,
    takers: np.ndarray,
    targets: tuple[float, ...],
    top: np.ndarray,
) -> None:
    """Give accounts ``moving`` (largest first) to the books ``takers`` that
    may receive them, in place: each taker, most below its target first,
    is filled toward each of ``targets`` in turn (never past ``top``, its
    band's top less a margin); the accounts left over stay where they are."""
    if not len(moving) or not len(takers):
        return
    classes = np.unique(inst.cls[moving])
    counts = inst.eligible[classes][:, takers].sum(axis=1)
    # the classes the fewest books may take go first, while those books still have room
    for c in classes[np.lexsort((classes, counts))]:
        reps = takers[inst.eligible[c, takers]]
        acc = moving[inst.cls[moving] == c]
        acc = acc[np.lexsort((acc, -inst.potential[acc]))]
        for target in targets:
            if not len(acc) or not len(reps):
                break
            cap = target - load[reps]
            rr = reps[cap > 0]
            cap = cap[cap > 0]
            order = np.lexsort((rr, -cap))
            rr, cap = rr[order], cap[order]
            entry = _fill_to(inst.potential[acc], cap, top[rr] - target)
            go = entry >= 0
            a, dst = acc[go], rr[entry[go]]
            np.subtract.at(load, owner[a], inst.potential[a])
            np.add.at(load, dst, inst.potential[a])
            owner[a] = dst
            tier[a] = np.where((inst.kind[a] == ASSIGNED) & (dst == inst.current[a]), inst.move_cost[a], FREE)
            acc = acc[~go]


def _bulk_balance(
    inst: Instance, owner: np.ndarray, load: np.ndarray, lo: np.ndarray, hi: np.ndarray, members: np.ndarray, eps: float
) -> None:
    """Step 2's bulk round on one large group, in place. Each book above its
    band gives up accounts worth at most its excess (free ones first, then
    the cheapest, largest first, so the fewest moves), and they go to the
    books furthest below the band: first up to a quarter into it, then up
    to the group mean. Books still below their band then take, the same way,
    from the books above the mean, never below it. No book is pushed outside
    its band and none crosses it the other way; what is left (at most about
    one account per book) goes to the one-move steps."""
    if not len(members):
        return
    mean = 0.5 * (lo[members[0]] + hi[members[0]])
    low, top = lo[members[0]], hi[members[0]] - eps
    quarter = low + 0.25 * (mean - low)
    tops = np.full(inst.n_reps, top)
    free = (inst.kind != ASSIGNED) | (owner != inst.current)
    tier = np.where(free, FREE, inst.move_cost)
    receives = inst.eligible[:, members].any(axis=0)
    # Books above the band give their excess.
    amount = np.zeros(inst.n_reps)
    amount[members] = np.maximum(load[members] - hi[members], 0.0)
    givers = members[amount[members] > eps]
    takers = members[(load[members] < quarter) & receives]
    if len(givers) and len(takers):
        is_giver = np.zeros(inst.n_reps, dtype=bool)
        is_giver[givers] = True
        acc = np.flatnonzero(is_giver[owner])
        acc = acc[inst.eligible[:, takers].any(axis=1)[inst.cls[acc]]]
        moving = _shed_pick(inst, owner, tier, acc, amount)
        _bulk_give(inst, owner, load, tier, moving, takers, (quarter, mean), tops)
    # Books still below the band take from those above the mean.
    takers = members[(load[members] < low - eps) & receives]
    if not len(takers):
        return
    short = float((quarter - load[takers]).sum())
    donors = members[load[members] > mean + eps]
    if not len(donors):
        return
    surplus = load[donors] - mean
    order = np.lexsort((donors, -surplus))
    donors, surplus = donors[order], surplus[order]
    amount = np.zeros(inst.n_reps)
    amount[donors] = np.clip(short - (np.cumsum(surplus) - surplus), 0.0, surplus)
    is_donor = np.zeros(inst.n_reps, dtype=bool)
    is_donor[donors[amount[donors] > eps]] = True
    acc = np.flatnonzero(is_donor[owner])
    acc = acc[inst.eligible[:, takers].any(axis=1)[inst.cls[acc]]]
    moving = _shed_pick(inst, owner, tier, acc, amount)
    _bulk_give(inst, owner, load, tier, moving, takers, (quarter,), tops)


def _balance(inst: Instance, owner: np.ndarray, load: np.ndarray, max_moves: int) -> None:
    """Step 2, in place: moves inside each comparable group until every book
    is in its band, after a bulk round (:func:`_bulk_balance`) in a group of
    more than :data:`BULK_MIN_GROUP` books."""
    lo, hi = band(inst, load)
    scale = _scale(inst)
    for g in range(inst.n_groups):
        members = np.flatnonzero(inst.rep_group == g)
        if len(members) > BULK_MIN_GROUP:
            _bulk_balance(inst, owner, load, lo, hi, members, BAND_EPS * scale[g])
    books = _Books(inst, owner)
    eligible = inst.eligible
    group_of_owner = np.where(owner >= 0, inst.rep_group[np.maximum(owner, 0)], -1)
    for g in range(inst.n_groups):
        members = np.flatnonzero(inst.rep_group == g)
        eps = BAND_EPS * scale[g]
        # members no move helps until another move changes the group (positions in members)
        stuck = np.zeros(len(members), dtype=bool)
        n_stuck = 0
        # in a large group, a stuck book waits for a peer with more room (or surplus) than the
        # most it tried (``widest``): clearing every mark at each move made each move retry every
        # book no move can help (junior books below an enterprise band, say)
        large = len(members) > BULK_MIN_GROUP
        passes = moved = 0
        widest = np.zeros(len(members))
        pos = {int(r): k for k, r in enumerate(members)} if large else {}
        # the members that may take some class the group's books hold (the others never receive)
        held = np.unique(inst.cls[group_of_owner == g])
        takes = eligible[held][:, members].any(axis=0)
        for _ in range(max_moves):
            over = load[members] - hi[members]
            under = lo[members] - load[members]
            worst = np.maximum(over, under)
            if n_stuck:
                worst[stuck] = -np.inf
            i = int(np.argmax(worst))
            if worst[i] <= eps:
                # every book left is stuck: in a large group, a new pass over them all when moves
                # were made since the last one (up to BALANCE_PASSES passes)
                if not (large and moved and passes < BALANCE_PASSES and n_stuck):
                    break
                passes += 1
                moved = 0
                stuck[:] = False
                n_stuck = 0
                continue
            rep = int(members[i])
            best = None
            tried = eps
            if over[i] > eps:  # move one account out of rep
                need, most = load[rep] - hi[rep], load[rep] - lo[rep]
                mine = sorted(books.classes(rep))
                partners = _widest(members, hi[members] - load[members])
                for cls in mine:
                    found: dict[float, tuple] = {}  # by cap: the partners with room for the most ask the same
                    for r in partners:
                        room = hi[r] - load[r]
                        if r == rep or room <= eps or not eligible[cls, r]:
                            continue
                        tried = max(tried, room)
                        cap = min(most, room)
                        if cap not in found:
                            found[cap] = books.best(rep, cls, cap, need)
                        item, tier, key = found[cap]
                        if item is not None and (best is None or key < best[0]):
                            best = (key, item, tier, rep, int(r), cls)
            else:  # move one account into rep
                need, most = lo[rep] - load[rep], hi[rep] - load[rep]
                for r in _widest(members, load[members] - lo[members]):
                    surplus = load[r] - lo[r]
                    if r == rep or surplus <= eps:
                        continue
                    for cls in sorted(books.classes(int(r))):
                        if not eligible[cls, rep]:
                            continue
                        tried = max(tried, surplus)
                        item, tier, key = books.best(int(r), cls, min(most, surplus), need)
                        if item is not None and (best is None or key < best[0]):
                            best = (key, item, tier, int(r), rep, cls)
            if best is None:
                stuck[i] = True
                widest[i] = tried if over[i] > eps or takes[i] else _INF
                n_stuck += 1
                continue
            _, item, tier, src, dst, cls = best
            x, a = item
            books.remove(src, cls, tier, item)
            owner[a] = dst
            now_free = not (inst.kind[a] == ASSIGNED and dst == inst.current[a])
            books.add(dst, cls, books.tier(a, now_free), item)
            load[src] -= x
            load[dst] += x
            moved += 1
            if n_stuck and large:
                # the source gained room, the destination surplus; the two books themselves changed
                free = stuck & (
                    ((over > eps) & (hi[src] - load[src] > widest)) | ((over <= eps) & (load[dst] - lo[dst] > widest))
                )
                free[[pos[src], pos[dst]]] = True
                stuck &= ~free
                n_stuck = int(stuck.sum())
            elif n_stuck:
                stuck[:] = False
                n_stuck = 0


def _move_cost(inst: Instance, owner: np.ndarray, acc: np.ndarray, dst: int | np.ndarray) -> np.ndarray:
    """Change in the disruption when accounts ``acc`` go to ``dst`` (one rep,
    or one per account): minus its move cost for an account going back to
    today's owner, plus it for one leaving it, else 0 (without disruption
    weights, the change in the move count)."""
    paid = inst.kind[acc] == ASSIGNED
    was = paid & (owner[acc] != inst.current[acc])
    now = paid & (inst.current[acc] != dst)
    return (now.astype(float) - was.astype(float)) * inst.move_cost[acc]


def _receivable(inst: Instance, acc: np.ndarray, dst: int) -> np.ndarray:
    """Which of ``acc`` may go to ``dst``: an eligible rep, or today's owner."""
    return inst.eligible[inst.cls[acc], dst] | ((inst.kind[acc] == ASSIGNED) & (inst.current[acc] == dst))


def _side(inst: Instance, owner: np.ndarray, acc: np.ndarray) -> tuple:
    """What :func:`_best_exchange` reads of the accounts ``acc`` a book holds,
    gathered once per book: (accounts, potential, class, paid, owner of
    today, move cost, 1.0 where already moved)."""
    paid = inst.kind[acc] == ASSIGNED
    cur = inst.current[acc]
    return acc, inst.potential[acc], inst.cls[acc], paid, cur, inst.move_cost[acc], (paid & (owner[acc] != cur)) * 1.0


def _offer(inst: Instance, side: tuple, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The accounts of a book (:func:`_side`) that may go to ``dst``, after a
    leading "no account" (−1): (potential, change in disruption, account);
    the change as :func:`_move_cost` gives it."""
    acc, x, cls, paid, cur, cost, was = side
    ok = inst.eligible[cls, dst] | (paid & (cur == dst))
    change = ((paid & (cur != dst)) * 1.0 - was) * cost
    return np.concatenate([[0.0], x[ok]]), np.concatenate([[0.0], change[ok]]), np.concatenate([[-1], acc[ok]])


class _Held(dict):
    """The accounts of ``sel`` each book holds under ``owner`` (``held[rep]``),
    sorted by owner once and cut on first use: an exchange pass reads tens of
    the thousands of books."""

    def __init__(self, owner: np.ndarray, sel: np.ndarray, n_reps: int) -> None:
        super().__init__()
        self._by_rep = sel[np.argsort(_rep_keys(owner[sel], n_reps), kind="stable")]
        self._cuts = np.searchsorted(owner[self._by_rep], np.arange(n_reps + 1))

    def book(self, rep: int) -> np.ndarray:
        """The accounts ``rep`` held under ``owner`` when this was built."""
        return self._by_rep[self._cuts[rep] : self._cuts[rep + 1]]

    def __missing__(self, rep: int) -> np.ndarray:
        self[rep] = books = self.book(rep)
        return books


class _HeldSince(dict):
    """``held[rep]`` as :class:`_Held` gives it, for a trial ``owner`` that
    differs from the owners ``base`` was built on only at ``changed``: each
    book is the base's, less what left it, plus what came (in no particular
    order: nothing that reads a book depends on its order). A consolidation
    trial changes a few books of a million accounts; sorting them all again
    for each trial was most of its cost."""

    def __init__(self, base: _Held, owner: np.ndarray, changed: np.ndarray) -> None:
        super().__init__()
        self._base, self._owner, self._changed = base, owner, changed

    def __missing__(self, rep: int) -> np.ndarray:
        owner = self._owner
        books = self._base.book(rep)
        if len(self._changed):
            came = self._changed[owner[self._changed] == rep]
            books = books[owner[books] == rep]
            if len(came):
                books = np.concatenate([books, came])
        self[rep] = books
        return books


class _Pair:
    """What :func:`_best_exchange` searches between ``rep`` and a ``peer``
    of its group, gathered once for every window asked of the two books
    unchanged (step 3 asks a strict then a loose window, step 9 several): the
    accounts rep may give the peer (``give``, :func:`_offer`), the cheapest
    change and the smallest and largest potential among them (``least``,
    ``span``), and the accounts the peer may give back by cost tier,
    cheapest first (``tiers``: the tier, then its accounts' potential and
    index sorted by potential then account, then their smallest and largest
    potential)."""

    __slots__ = ("give", "least", "span", "tiers")

    def __init__(self, inst: Instance, side_r: tuple, side_p: tuple, rep: int, peer: int) -> None:
        self.give = _offer(inst, side_r, peer)
        self.least = float(self.give[1].min())
        self.span = float(self.give[0].min()), float(self.give[0].max())
        xb, cb, ib = _offer(inst, side_p, rep)
        order = np.lexsort((ib, xb, cb))  # one sort: each tier is then a slice
        xb, cb, ib = xb[order], cb[order], ib[order]
        cuts = [0, *(np.flatnonzero(cb[1:] != cb[:-1]) + 1).tolist(), len(cb)]
        self.tiers = [
            (tier, xb[i:j], ib[i:j], float(xb[i]), float(xb[j - 1]))
            for tier, i, j in zip(cb[cuts[:-1]].tolist(), cuts[:-1], cuts[1:])
        ]


def _best_exchange(
    inst: Instance,
    owner: np.ndarray,
    held: dict[int, np.ndarray],
    rep: int,
    peer: int,
    t_lo: float,
    t_hi: float,
    pair: _Pair | None = None,
) -> tuple | None:
    """The cheapest exchange between ``rep`` and ``peer`` (same group):
    account ``a`` (or none) from rep to peer and ``b`` (or none) back, so that
    the potential going from rep to peer, ``x_a − x_b``, lies in
    ``[t_lo, t_hi]``. Returns (moves added, potential moved, a, b) or None;
    −1 stands for "no account". ``pair``: the two books' :class:`_Pair`,
    when already gathered (it is then all that is read)."""
    if t_lo > t_hi:
        return None
    if pair is None:
        pair = _Pair(inst, _side(inst, owner, held[rep]), _side(inst, owner, held[peer]), rep, peer)
    xa, ca, ia = pair.give
    best = None
    for tier, xb, ib, xb_lo, xb_hi in pair.tiers:
        # tiers come cheapest first: once the cheapest pair of a tier costs more than the best found,
        # no later tier can do better
        if best is not None and tier + pair.least > best[0]:
            break
        if xb_lo > pair.span[1] - t_lo or xb_hi < pair.span[0] - t_hi:
            continue  # no b of the tier fits any a (most tiers, most windows): the search would find none
        # b with x_a − t_hi ≤ x_b ≤ x_a − t_lo; the smallest such b
        first = np.searchsorted(xb, xa - t_hi, side="left")
        last = np.searchsorted(xb, xa - t_lo, side="right")
        ok = np.flatnonzero(first < last)
        if not len(ok):
            continue
        pick = first[ok]
        cost = ca[ok] + tier
        moved = np.where(ca[ok] > 0, xa[ok], 0.0) + np.where(tier > 0, xb[pick], 0.0)
        j = int(np.lexsort((ia[ok], moved, cost))[0])
        cand = (float(cost[j]), float(moved[j]), int(ia[ok][j]), int(ib[pick][j]))
        if best is None or cand[:2] < best[:2]:
            best = cand
    return best


#: Work of the exchange steps at most, over all passes of one start: (rep,
#: peer) candidates examined, and accounts of the two books those candidates
#: read. Both are counts, so the work, hence the time, is bounded on very large
#: instances deterministically (a clock would make the plan depend on the
#: machine): the first where books are small (10,000 reps of tiny books), the
#: second where books hold thousands of accounts. Small companies stay far
#: below both (the demo company reads about 1% of the second).
EXCHANGE_BUDGET = 200_000
EXCHANGE_READS = 20_000_000
#: Peers step 3 tries per book in a large group (the ones with the most room the
#: way the book must go).
EXCHANGE_PARTNERS = 20
#: Of those candidates, the most step 5 examines (its trials re-examine the
#: books they change, tens of peers each: on large instances they took most
#: of the exchange work for a few moves saved). Small companies stay far below.
CONSOLIDATE_BUDGET = 5_000


class _Memo:
    """The best exchange of each (book, peer, strict) found by steps 3 and 5
    on one start, with the version of the two books it was found on: a
    consolidation trial re-examines mostly books it did not change, and the
    exchange found for two unchanged books is the same. A version is fresh
    each time a book changes (:meth:`sync` finds the changes made between
    calls), so entries of a trial that was dropped never match again."""

    def __init__(self, inst: Instance, owner: np.ndarray) -> None:
        self.cache: dict[tuple[int, int, bool], tuple[int, int, tuple | None]] = {}
        self.version = np.zeros(inst.n_reps, np.int64)
        self.owner = owner.copy()
        self.counter = itertools.count(1)

    def fork(self) -> _Memo:
        """A memo for a trial: the same entries and version numbers, its own books."""
        other = copy.copy(self)
        other.version, other.owner = self.version.copy(), self.owner.copy()
        return other

    def adopt(self, other: _Memo) -> None:
        """Take the books of a trial that was kept."""
        self.version, self.owner = other.version, other.owner

    def bump(self, reps: np.ndarray) -> None:
        """Fresh versions for the books of ``reps``."""
        for r in reps.tolist():
            self.version[r] = next(self.counter)

    def sync(self, owner: np.ndarray) -> None:
        """Fresh versions for the books that changed since last seen."""
        diff = np.flatnonzero(owner != self.owner)
        if len(diff):
            reps = np.unique(np.concatenate([self.owner[diff], owner[diff]]))
            self.bump(reps[reps >= 0])
            self.owner[diff] = owner[diff]


def _exchange(
    inst: Instance,
    owner: np.ndarray,
    load: np.ndarray,
    max_rounds: int,
    group: int | None = None,
    budget: list[int] | None = None,
    stuck: set[int] | None = None,
    memo: _Memo | None = None,
    held: dict[int, np.ndarray] | None = None,
) -> None:
    """Step 3, in place: bring the books step 2 left outside their band
    inside, one exchange with a peer at a time (an account out, one back, or
    both), cheapest first. An exchange that keeps the peer in its band (or no
    farther outside) is preferred; failing that, one that pushes the peer out
    by less than it brings the book in, so that the next round fixes the peer
    (an ejection chain). Total violation falls at every round. With
    ``group``, only that comparable group's books are worked on. ``budget``
    (``[candidates, reads]``, shared between calls: :data:`EXCHANGE_BUDGET`)
    counts the candidates examined and the accounts they read; the pass
    stops where it is when either runs out. ``stuck`` (updated in place)
    holds the books no exchange fixed, to start from in a later call;
    ``memo`` the exchanges found by earlier calls (:class:`_Memo`);
    ``held`` the accounts each book holds under ``owner``, when already
    gathered (:class:`_HeldSince`)."""
    budget = budget if budget is not None else [EXCHANGE_BUDGET, EXCHANGE_READS]
    lo, hi = band(inst, load)
    scale = _scale(inst)
    member = (inst.rep_group >= 0) if group is None else (inst.rep_group == group)
    margin = 0.5 * BAND_EPS * scale[np.maximum(inst.rep_group, 0)]
    # only the books worked on (and their peers, of the same groups) are indexed: on a large
    # instance, sorting every account for each group's pass dominated the step
    sel = np.flatnonzero(member[owner])
    held = _Held(owner, sel, inst.n_reps) if held is None else held
    stuck = set() if stuck is None else stuck  # reps no exchange fixes until their group changes
    # a book below its band that may take no account its peers hold (a junior book among
    # enterprise ones, none of its own accounts away) gains from no exchange: it starts stuck
    if len(sel):
        takes = inst.eligible[np.bincount(inst.cls[sel], minlength=len(inst.eligible)) > 0].any(axis=0)
        away = sel[(inst.kind[sel] == ASSIGNED) & (owner[sel] != inst.current[sel])]
        takes[inst.current[away]] = True
        stuck.update(np.flatnonzero(member & ~takes & (load < lo)).tolist())
    # best exchange of each (rep, peer, strict), valid while neither book changes
    memo = _Memo(inst, owner) if memo is None else memo
    memo.sync(owner)
    cache = memo.cache
    # each book's :func:`_side`, with the version it was gathered at
    sides: dict[int, tuple[int, tuple]] = {}
    for _ in range(max_rounds):
        viol = np.where(member, outside(load, lo, hi), 0.0)
        bad = np.flatnonzero(viol > 2 * margin)
        move = None
        for rep in bad[np.argsort(-viol[bad], kind="stable")]:
            if rep in stuck:
                continue
            # potential t leaving rep that puts it inside its band
            r_lo, r_hi = load[rep] - hi[rep] + margin[rep], load[rep] - lo[rep] - margin[rep]
            peers = np.flatnonzero(inst.rep_group == inst.rep_group[rep])
            peers = peers[peers != rep]
            # in a large group only the peers with the most room the way the book must go are tried:
            # scanning every peer made one round cost a pass over the group
            room_toward = hi[peers] - load[peers] if load[rep] > hi[rep] else load[peers] - lo[peers]
            peers = _widest(peers, room_toward)
            if len(peers) >= BALANCE_PARTNERS:
                # in a large group the first :data:`EXCHANGE_PARTNERS`: a book no exchange fixes
                # (most of those left outside at 1M accounts) cost a full scan in both modes
                peers = peers[:EXCHANGE_PARTNERS]
            pairs: dict[int, _Pair] = {}  # the two windows read the same books
            for strict in (True, False):
                best = None
                for peer in peers:
                    if budget[0] <= 0 or budget[1] <= 0:
                        return
                    budget[0] -= 1
                    if strict:  # the peer ends no farther outside its band
                        p_lo = min(lo[peer], load[peer]) - load[peer] + margin[peer]
                        p_hi = max(hi[peer], load[peer]) - load[peer] - margin[peer]
                    else:  # the peer ends less outside than the two are now
                        room = viol[peer] + viol[rep] - 2 * margin[peer]
                        p_lo, p_hi = lo[peer] - room - load[peer], hi[peer] + room - load[peer]
                    key = (int(rep), int(peer), strict)
                    hit = cache.get(key)
                    if hit is not None and hit[0] == memo.version[rep] and hit[1] == memo.version[peer]:
                        cand = hit[2]
                    else:
                        pair = pairs.get(int(peer))
                        if pair is None:
                            for r in (int(rep), int(peer)):
                                if r not in sides or sides[r][0] != memo.version[r]:
                                    sides[r] = (int(memo.version[r]), _side(inst, owner, held[r]))
                            pair = pairs[int(peer)] = _Pair(
                                inst, sides[int(rep)][1], sides[int(peer)][1], int(rep), int(peer)
                            )
                        cand = _best_exchange(
                            inst, owner, held, int(rep), int(peer), max(r_lo, p_lo), min(r_hi, p_hi), pair=pair
                        )
                        cache[key] = (int(memo.version[rep]), int(memo.version[peer]), cand)
                        budget[1] -= len(held[int(rep)]) + len(held[int(peer)])
                    if cand is not None and (best is None or cand[:2] < best[0][:2]):
                        best = (cand, int(peer))
                if best is not None:
                    move = (int(rep), best)
                    break
            if move is not None:
                break
            stuck.add(int(rep))
        if move is None:
            return
        rep, ((_, _, a, b), peer) = move
        _swap(inst, owner, load, held, a, b, rep, peer)
        memo.bump(np.array([rep, peer]))
        swapped = [x for x in (a, b) if x >= 0]
        memo.owner[swapped] = owner[swapped]
        peers = np.flatnonzero(inst.rep_group == inst.rep_group[rep])
        if len(peers) > BULK_MIN_GROUP:
            # in a large group only the two books changed: retrying every stuck book of the group
            # after each exchange spent the budget on books no exchange can fix
            stuck -= {rep, peer}
        else:
            stuck -= set(peers.tolist())


def _swap(
    inst: Instance,
    owner: np.ndarray,
    load: np.ndarray,
    held: dict[int, np.ndarray],
    a: int,
    b: int,
    src: int,
    dst: int,
) -> None:
    """Carry out an exchange: account ``a`` goes from ``src`` to ``dst`` and
    account ``b`` (none when negative) from ``dst`` to ``src``; the owners,
    the books' loads and the accounts each book holds (``held``) follow."""
    for acc, to, frm in ((a, dst, src), (b, src, dst)):
        if acc >= 0:
            owner[acc] = to
            load[frm] -= inst.potential[acc]
            load[to] += inst.potential[acc]
            held[frm] = held[frm][held[frm] != acc]
            held[to] = np.append(held[to], acc)


def _reassign(inst: Instance, owner: np.ndarray, load: np.ndarray, acc: np.ndarray, dst: np.ndarray) -> None:
    """Give accounts ``acc`` to reps ``dst``, in place, books following."""
    np.subtract.at(load, owner[acc], inst.potential[acc])
    np.add.at(load, dst, inst.potential[acc])
    owner[acc] = dst


def _undo(
    inst: Instance, owner: np.ndarray, load: np.ndarray, group: int | None = None, books: np.ndarray | None = None
) -> None:
    """Step 4, in place: send moved accounts home when both books stay in band
    (with ``group``, only the accounts held in that comparable group; with
    ``books``, a mask of reps, only the accounts held by or owned today by one)."""
    lo, hi = band(inst, load)
    moved = np.flatnonzero((inst.kind == ASSIGNED) & (owner != inst.current))
    if group is not None:
        moved = moved[inst.rep_group[owner[moved]] == group]
    if books is not None:
        moved = moved[books[owner[moved]] | books[inst.current[moved]]]
    order = moved[np.lexsort((moved, -inst.potential[moved]))]
    # only within a group, where the band does not move with the transfer
    order = order[inst.rep_group[owner[order]] == inst.rep_group[inst.current[order]]]
    # plain lists: this loop visits every moved account and numpy's per-item access dominated it
    member = (inst.rep_group >= 0).tolist()
    lo_, hi_, book = lo.tolist(), hi.tolist(), load.tolist()
    back = []
    for a, src, dst, x in zip(
        order.tolist(), owner[order].tolist(), inst.current[order].tolist(), inst.potential[order].tolist()
    ):
        ok_src = not member[src] or book[src] - x >= lo_[src] - 1e-9 * abs(lo_[src])
        ok_dst = not member[dst] or book[dst] + x <= hi_[dst] + 1e-9 * abs(hi_[dst])
        if ok_src and ok_dst:
            back.append(a)
            book[src] -= x
            book[dst] += x
    back = np.array(back, dtype=np.int64)
    owner[back] = inst.current[back]
    load[:] = book


def undo_moves(inst: Instance, owner: np.ndarray) -> None:
    """Step 4 on a finished answer, in place: moved accounts go back to their
    owner of today where both books stay inside their bands (used to reuse
    an answer found under a tighter band)."""
    load = loads(inst, owner)
    _undo(inst, owner, load)


def _trial_sets(moved: np.ndarray, labels: list[np.ndarray]):
    """The moves of each label value held by two or more of ``moved`` (which is
    ascending), label by label, values ascending: each set in ``moved``'s order.
    A generator: :func:`_consolidate` tries the first few of tens of thousands."""
    for lab in labels:
        order = np.argsort(lab, kind="stable")
        _, starts, counts = np.unique(lab[order], return_index=True, return_counts=True)
        for s, c in zip(starts.tolist(), counts.tolist()):
            if c >= 2:
                yield moved[order[s : s + c]]


def _consolidate(
    inst: Instance,
    owner: np.ndarray,
    load: np.ndarray,
    max_trials: int = 64,
    budget: list[int] | None = None,
    stuck: set[int] | None = None,
    memo: _Memo | None = None,
) -> None:
    """Step 5, in place: where two or more accounts moved between the same
    two reps, or out of one rep, or into one, try sending them home and
    letting steps 3–4 find fewer moves (often one larger account, with new
    accounts shuffled for free); keep the trial when it is no worse on
    balance and strictly fewer moves. ``stuck``: the books step 3 left
    outside their band (:func:`_exchange`), kept up to date; ``memo``: the
    exchanges found so far (:class:`_Memo`)."""
    moved = np.flatnonzero((inst.kind == ASSIGNED) & (owner != inst.current))
    if len(moved) < 2:
        return
    # sets of moves tried together: same two reps, same source, same destination
    n = inst.n_reps
    labels = [
        inst.current[moved].astype(np.int64) * n + owner[moved],
        n * n + inst.current[moved],
        n * n + n + owner[moved],
    ]
    before = None
    lo, hi = band(inst, load)
    scale = _scale(inst)
    # the books before any trial, sorted once; a trial's books are these with its changes
    home = owner.copy()
    books = _Held(home, np.flatnonzero((inst.rep_group >= 0)[home]), inst.n_reps)
    for back in itertools.islice(_trial_sets(moved, labels), max_trials):
        trial, trial_load = owner.copy(), load.copy()
        back = back[owner[back] != inst.current[back]]  # an earlier trial may have sent some home
        if len(back) < 2:
            continue
        _reassign(inst, trial, trial_load, back, inst.current[back])
        if budget is not None and (budget[0] <= 0 or budget[1] <= 0):
            return
        group = int(inst.rep_group[inst.current[back[0]]])
        # in a large group the books step 3 could not fix, and the trial leaves as they were, stay
        # stuck: retrying them in every trial spent the budget on books no exchange fixes
        members = np.flatnonzero(inst.rep_group == group)
        large = len(members) > BULK_MIN_GROUP
        kept = None
        if stuck is not None and large:
            kept = stuck - set(np.flatnonzero(trial_load != load).tolist())
        fork = memo.fork() if memo is not None else None
        held = _HeldSince(books, trial, np.flatnonzero(trial != home))
        _exchange(inst, trial, trial_load, inst.n_accounts, group, budget, kept, fork, held)
        # the other groups are as the last pass of step 4 left them
        undone = trial_load.copy()
        # in a large group, only the books the trial changed: the others are as the last pass left them
        _undo(inst, trial, trial_load, group, (trial_load != load) if large else None)
        if large:
            # only this group's books changed: judged on them, not on a score of every account
            changed = np.flatnonzero(trial != owner)
            paid, cost = inst.kind[changed] == ASSIGNED, inst.move_cost[changed]
            now = float(np.sort(cost[paid & (trial[changed] != inst.current[changed])]).sum())
            was = float(np.sort(cost[paid & (owner[changed] != inst.current[changed])]).sum())
            worse = outside(trial_load[members], lo[members], hi[members]).sum()
            worse -= outside(load[members], lo[members], hi[members]).sum()
            keep = worse / scale[group] <= 1e-12 and now < was - 1e-9
        else:
            before = score(inst, owner) if before is None else before
            after = score(inst, trial)
            keep = after.violation <= before.violation + 1e-12 and after.disruption < before.disruption - 1e-9
        if keep:
            if kept is not None:
                stuck.clear()
                stuck.update(kept - set(np.flatnonzero(trial_load != undone).tolist()))
            if memo is not None:
                memo.adopt(fork)
            owner[:] = trial
            load[:] = trial_load
            before = None if large else after


#: Largest pair problem :func:`_resplit` solves (accounts the two reps hold
#: that could sit with either), and HiGHS's branch-and-bound node cap on it: a
#: node count, not a clock, so that the answer never depends on the machine.
RESPLIT_MAX_ACCOUNTS = 400
RESPLIT_NODE_LIMIT = 2_000


def _resplit(
    inst: Instance,
    owner: np.ndarray,
    load: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    r: int,
    s: int,
    held: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The best split of two books of one group: of the accounts ``r`` and
    ``s`` hold that either may have (eligible, or its owner of today), which
    go to ``r`` so that both books end inside their bands with the fewest
    moves (then the least potential moved). A knapsack with two sides, solved
    exactly by HiGHS; the band stays put because the two share a group.
    Returns (accounts, new owners) or None when no split is in band.
    ``held``: the accounts the two hold (sorted), when known."""
    held = np.flatnonzero((owner == r) | (owner == s)) if held is None else held
    both = _receivable(inst, held, r) & _receivable(inst, held, s)
    acc = held[both]
    if not len(acc) or len(acc) > RESPLIT_MAX_ACCOUNTS:
        return None
    unit = float(inst.potential[acc].mean()) or 1.0
    p = inst.potential[acc] / unit
    base_r = (load[r] - inst.potential[acc][owner[acc] == r].sum()) / unit
    base_s = (load[s] - inst.potential[acc][owner[acc] == s].sum()) / unit
    margin = 0.5 * BAND_EPS * _scale(inst)[inst.rep_group[r]] / unit
    paid = inst.kind[acc] == ASSIGNED
    home_r = paid & (inst.current[acc] == r)
    home_s = paid & (inst.current[acc] == s)
    weight = inst.move_cost[acc] + POTENTIAL_WEIGHT * inst.potential[acc] / (float(inst.potential.sum()) or 1.0)
    # y = 1 puts the account with r: a move when its home is s, none when r
    cost = np.where(home_s, weight, 0.0) - np.where(home_r, weight, 0.0)
    total = float(p.sum())
    rows = np.vstack([p, p])
    lower = np.array([lo[r] / unit - base_r + margin, base_s + total - hi[s] / unit + margin])
    upper = np.array([hi[r] / unit - base_r - margin, base_s + total - lo[s] / unit - margin])
    with quiet_stdout():  # scipy's HiGHS prints a debugging line in some searches
        res = milp(
            cost,
            constraints=LinearConstraint(rows, lower, upper),
            integrality=np.ones(len(acc)),
            bounds=Bounds(0, 1),
            options={"node_limit": RESPLIT_NODE_LIMIT, "time_limit": 60.0, "disp": False},
        )
    if res.x is None:
        return None
    return acc, np.where(res.x > 0.5, r, s).astype(np.int64)


class _PairBooks:
    """The accounts two reps hold, without a pass over every account per
    pair: an index by rep, plus the accounts reassigned since it was made."""

    def __init__(self, inst: Instance, owner: np.ndarray) -> None:
        keys = _rep_keys(owner, inst.n_reps)
        self.order = np.argsort(keys, kind="stable")
        self.cuts = np.searchsorted(keys[self.order], np.arange(inst.n_reps + 1))
        self.owner = owner
        self.since: list[int] = []

    def held(self, r: int, s: int) -> np.ndarray:
        """The accounts ``r`` or ``s`` holds, sorted."""
        o, c = self.order, self.cuts
        cand = np.concatenate([o[c[r] : c[r + 1]], o[c[s] : c[s + 1]], np.array(self.since, dtype=np.int64)])
        return np.unique(cand[(self.owner[cand] == r) | (self.owner[cand] == s)])


def _pair_repair(inst: Instance, owner: np.ndarray, load: np.ndarray, max_pairs: int = 2 * BALANCE_PARTNERS) -> None:
    """Step 6, in place: a book still outside its band after steps 2–5 (a tight
    band with few, large accounts) is re-split exactly with one peer at a time
    (:func:`_resplit`), peers with the most slack first; the cheapest split
    that puts both books inside is kept."""
    lo, hi = band(inst, load)
    scale = _scale(inst)
    tried = 0
    pairs = _PairBooks(inst, owner)
    while tried < max_pairs:
        viol = outside(load, lo, hi)
        bad = np.flatnonzero(viol > BAND_EPS * scale[np.maximum(inst.rep_group, 0)])
        fixed = False
        for rep in bad[np.lexsort((bad, -viol[bad]))]:
            peers = np.flatnonzero(inst.rep_group == inst.rep_group[rep])
            peers = peers[peers != rep]
            slack = np.minimum(hi[peers] - load[peers], load[peers] - lo[peers])
            best = None
            for peer in _widest(peers, slack):
                if tried >= max_pairs:
                    break
                tried += 1
                split = _resplit(inst, owner, load, lo, hi, int(rep), int(peer), pairs.held(int(rep), int(peer)))
                if split is None:
                    continue
                added = float(_move_cost(inst, owner, *split).sum())
                if best is None or added < best[0]:
                    best = (added, split)
            if best is not None:
                _reassign(inst, owner, load, *best[1])
                pairs.since.extend(best[1][0].tolist())
                fixed = True
                break
        if not fixed:
            return


def _pair_improve(inst: Instance, owner: np.ndarray, load: np.ndarray, max_pairs: int = 2 * BALANCE_PARTNERS) -> None:
    """Step 7, in place: for two reps an account moved between, the exact
    re-split of their books (:func:`_resplit`) when it needs fewer moves."""
    lo, hi = band(inst, load)
    moved = np.flatnonzero((inst.kind == ASSIGNED) & (owner != inst.current))
    pairs = np.unique(np.stack([inst.current[moved], owner[moved]], axis=1), axis=0) if len(moved) else []
    books = _PairBooks(inst, owner)
    for r, s_ in list(pairs)[:max_pairs]:
        r, s_ = int(r), int(s_)
        if inst.rep_group[r] != inst.rep_group[s_] or inst.rep_group[r] < 0:
            continue
        split = _resplit(inst, owner, load, lo, hi, r, s_, books.held(r, s_))
        if split is None:
            continue
        if _move_cost(inst, owner, *split).sum() < -1e-9:
            _reassign(inst, owner, load, *split)
            books.since.extend(split[0].tolist())


def _group_violation(inst: Instance, load: np.ndarray, members: np.ndarray, scale: float) -> float:
    """Total distance of a group's books outside its band, in group scales."""
    if not len(members):
        return 0.0
    books = load[members]
    mean = books.mean()
    return float(outside(books, (1 - inst.tolerance) * mean, (1 + inst.tolerance) * mean).sum()) / scale


#: Placed accounts :func:`_rehome` examines at most (a count, not a clock).
REHOME_BUDGET = 50_000


def _rehome(inst: Instance, owner: np.ndarray, load: np.ndarray) -> bool:
    """Step 8, in place: a placed account (new or forced) sitting in a group
    whose band is not met goes to the least-filled eligible rep of another
    group when that lowers the two groups' total distance outside their bands
    (raising a group's mean pushes the books that cannot grow, such as
    junior reps' among enterprise accounts, further below it). Returns
    whether any account moved."""
    scale = _scale(inst)
    members = [np.flatnonzero(inst.rep_group == g) for g in range(inst.n_groups)]
    viol = np.array([_group_violation(inst, load, m, scale[g]) for g, m in enumerate(members)])
    placed = np.flatnonzero(inst.kind != ASSIGNED)
    changed = False
    # (class, group) -> the other groups' eligible reps, by group: the same for every account alike
    elsewhere: dict[tuple[int, int], list[tuple[int, np.ndarray]]] = {}
    for a in placed[np.lexsort((placed, -inst.potential[placed]))][:REHOME_BUDGET]:
        src = int(owner[a])
        g = int(inst.rep_group[src])
        if g < 0 or viol[g] <= BAND_EPS:
            continue
        key = (int(inst.cls[a]), g)
        if key not in elsewhere:
            cand = np.flatnonzero(inst.eligible[key[0]] & (inst.rep_group != g))
            elsewhere[key] = [(int(h), cand[inst.rep_group[cand] == h]) for h in np.unique(inst.rep_group[cand])]
        if not elsewhere[key]:
            continue
        x = inst.potential[a]
        load[src] -= x
        v_src = _group_violation(inst, load, members[g], scale[g])
        best = None
        for h, reps in elsewhere[key]:
            dst = int(reps[np.argmin(load[reps])])  # the least-filled, the first of equals (reps ascend)
            if h < 0:
                delta = v_src - viol[g]
            else:
                load[dst] += x
                v_dst = _group_violation(inst, load, members[h], scale[h])
                load[dst] -= x
                delta = v_src + v_dst - viol[g] - viol[h]
            if delta < -BAND_EPS and (best is None or delta < best[0]):
                best = (delta, dst, v_dst if h >= 0 else 0.0)
        if best is None:
            load[src] += x
            continue
        _, dst, v_dst = best
        owner[a] = dst
        load[dst] += x
        viol[g] = v_src
        if inst.rep_group[dst] >= 0:
            viol[inst.rep_group[dst]] = v_dst
        changed = True
    return changed


#: Exchanges :func:`_fill` examines at most per call (a count, not a clock).
FILL_BUDGET = 5_000
#: Transfer windows :func:`_fill` tries, as shares of the amount it aims at: the
#: nearest window with an exchange in it wins, its cheapest exchange is made.
FILL_WINDOWS = (0.001, 0.01, 0.1, 0.5, 1.0)


def _fill(inst: Instance, owner: np.ndarray, load: np.ndarray, budget: int = FILL_BUDGET) -> None:
    """Step 9, on the answer kept, in place: where a group's band cannot hold every book (a
    junior rep's book that cannot grow, say), spread what is left over.

    A book above its band by ``e`` gives a peer with room ``r`` under the top
    of the band a transfer ``t ≤ e``: the distance outside the band falls by
    ``min(t, r)`` (a peer pushed over the top passes the excess on in a later
    round, a chain). Likewise a book below its band by ``d`` takes ``t ≤ d``
    from a peer ``s`` above the bottom, gaining ``min(t, s)``. The MILP weighs
    that distance above every move, so its optimum fills every peer to the
    edge before any book sits further out; this step does the same with the
    exchanges of step 3 (one account out, one back, or both): of the
    transfers with the full gain ``min(e, r)`` the cheapest, else the ones
    nearest it. Books are paired most-outside with most-room first; a pair
    with no exchange is not tried again until one of its books changes.
    Total distance outside falls at every exchange; ``budget`` bounds the
    exchanges examined."""
    lo, hi = band(inst, load)
    scale = _scale(inst)
    weight = slack_weight(inst)
    member = inst.rep_group >= 0
    sel = np.flatnonzero(member[owner])
    held = _Held(owner, sel, inst.n_reps)
    receives = np.zeros(inst.n_reps, dtype=bool)
    if inst.n_accounts:
        receives = inst.eligible[np.unique(inst.cls)].any(axis=0)
    tried: set[tuple[int, int]] = set()
    while budget > 0:
        made = False
        for g in range(inst.n_groups):
            members = np.flatnonzero(inst.rep_group == g)
            eps = BAND_EPS * scale[g]
            excess, room = load[members] - hi[members], hi[members] - load[members]
            short, surplus = lo[members] - load[members], load[members] - lo[members]

            # (giver, taker, full gain, largest transfer): an over-band book and the peers with room under the top,
            # an under-band book and the peers above the bottom; most outside first
            # (a generator: in a group of thousands of books only the pairs up to the first exchange
            # made are built)
            def pairs(members=members, excess=excess, room=room, short=short, surplus=surplus, eps=eps):
                takers = np.flatnonzero((room > eps) & receives[members])
                takers = takers[np.lexsort((members[takers], -room[takers]))][:BALANCE_PARTNERS]
                for i in np.lexsort((members, -excess))[: int((excess > eps).sum())]:
                    for j in takers:
                        yield int(members[i]), int(members[j]), float(min(excess[i], room[j])), excess[i]
                givers = np.flatnonzero(surplus > eps)
                givers = givers[np.lexsort((members[givers], -surplus[givers]))][:BALANCE_PARTNERS]
                for j in np.lexsort((members, -short))[: int((short > eps).sum())]:
                    if receives[members[j]]:
                        for i in givers:
                            yield int(members[i]), int(members[j]), float(min(short[j], surplus[i])), short[j]

            for src, dst, aim, most in pairs():
                if (src, dst) in tried or src == dst:
                    continue
                tried.add((src, dst))
                cand = pair = None  # the two books gathered once for the windows
                for share in FILL_WINDOWS:
                    budget -= 1
                    bottom = max(aim * (1 - share), eps)
                    if bottom > most:
                        continue  # an empty window
                    if pair is None:
                        pair = _Pair(inst, _side(inst, owner, held[src]), _side(inst, owner, held[dst]), src, dst)
                    cand = _best_exchange(inst, owner, held, src, dst, bottom, float(most), pair=pair)
                    if cand is not None:
                        break
                # the balance gained (≥ the window's bottom) must outweigh the moves added
                if cand is None or cand[0] >= weight * bottom / scale[g]:
                    if budget <= 0:
                        return
                    continue
                _, _, a, b = cand
                _swap(inst, owner, load, held, a, b, src, dst)
                # the two books changed: their pairs may be worth trying again
                tried = {t for t in tried if src not in t and dst not in t}
                made = True
                break
            if budget <= 0:
                return
        if not made:
            return


def _improve(inst: Instance, owner: np.ndarray, load: np.ndarray, max_moves: int) -> None:
    """Steps 2–7 on one start, in place."""
    _balance(inst, owner, load, max_moves)
    budget = [EXCHANGE_BUDGET, EXCHANGE_READS]
    stuck: set[int] = set()
    memo = _Memo(inst, owner)
    _exchange(inst, owner, load, max_moves, budget=budget, stuck=stuck, memo=memo)
    before = load.copy()
    _undo(inst, owner, load)
    stuck -= set(np.flatnonzero(load != before).tolist())
    _consolidate(inst, owner, load, budget=[min(budget[0], CONSOLIDATE_BUDGET), budget[1]], stuck=stuck, memo=memo)
    _pair_repair(inst, owner, load)
    _pair_improve(inst, owner, load)


def allowed(inst: Instance, owner: np.ndarray) -> np.ndarray:
    """Which entries of ``owner`` (rep index per movable account, −1 for none)
    are pairs the MILP allows (:meth:`Instance.candidates`): today's owner, or
    an eligible rep of the owner's comparable group (any eligible rep for a
    forced or new account)."""
    ok = owner >= 0
    rep = np.maximum(owner, 0)
    eligible = inst.eligible[inst.cls, rep]
    cur = np.maximum(inst.current, 0)
    same_group = (inst.current >= 0) & (inst.rep_group[cur] >= 0) & (inst.rep_group[rep] == inst.rep_group[cur])
    home = (inst.kind == ASSIGNED) & (owner == inst.current)
    return ok & (home | (eligible & ((inst.kind != ASSIGNED) | same_group)))


#: Answers of recent solves by problem fingerprint (:func:`_fingerprint`): the
#: scenario step solves one problem several times (the main plan, the curve
#: point at its tolerance, the named plan that keeps today's headcount).
_RECENT: dict[bytes, np.ndarray] = {}
_RECENT_SIZE = 8
_RECENT_LOCK = threading.Lock()


def _fingerprint(inst: Instance, max_moves: int | None, start: np.ndarray | None) -> bytes:
    """A digest of everything :func:`solve` reads, so equal digests mean equal answers."""
    digest = hashlib.blake2b(digest_size=20)
    for arr in (
        inst.rep_group,
        inst.base,
        inst.potential,
        inst.current,
        inst.kind,
        inst.cls,
        inst.eligible,
        inst.move_cost,
        np.array([inst.tolerance, inst.n_groups, -1 if max_moves is None else max_moves], float),
        np.zeros(0) if start is None else start,
    ):
        a = np.ascontiguousarray(arr)
        digest.update(str((a.dtype, a.shape)).encode())
        digest.update(a.tobytes())
    return digest.digest()


def solve(inst: Instance, max_moves: int | None = None, start: np.ndarray | None = None) -> HeuristicResult:
    """Rebalance ``inst`` greedily (see the module docstring) and return its
    answer (rep index per movable account).

    ``start`` (rep index per movable account, −1 for none) is an answer to a
    near-identical problem, e.g. the same company before hires were added:
    the accounts it gives an allowed owner (:func:`allowed`) begin there
    instead of with today's owner, so that work already done is not redone.
    The same problem solved again returns the answer kept from the first
    time (the solve is deterministic, so nothing but time differs), and a
    problem handed to a worker process (:class:`SolveAhead`) returns the
    answer found there."""
    t0 = time.perf_counter()
    key = _fingerprint(inst, max_moves, start)
    with _RECENT_LOCK:  # the scenario step solves in threads
        known = _RECENT.get(key)
        ahead = _AHEAD.get(key)
    if known is not None:
        return HeuristicResult(known.copy(), time.perf_counter() - t0)
    result = _answer_ahead(ahead) if ahead is not None else None
    if result is None:
        result = _solve(inst, max_moves, start)
        if ahead is not None:
            ahead.answer(result)  # taken back from the worker: whoever else waits for it has it
    with _RECENT_LOCK:
        if len(_RECENT) >= _RECENT_SIZE:
            del _RECENT[next(iter(_RECENT))]
        _RECENT[key] = result.copy()
    return HeuristicResult(result, time.perf_counter() - t0)


#: Solves started ahead in worker processes (:class:`SolveAhead`), by the
#: fingerprint of their problem: :func:`solve` takes the answer from there.
_AHEAD: dict[bytes, _Ahead] = {}


class _Ahead(Future):
    """The answer to a problem handed to the worker (:class:`SolveAhead`).
    ``take_back`` says whether it may be taken back while the worker has not
    started it (:meth:`SolveAhead.take_back`)."""

    def __init__(self, owner: SolveAhead, key: bytes, take_back: bool) -> None:
        super().__init__()
        self.owner, self.key, self.may_take_back = owner, key, take_back

    def answer(self, result: np.ndarray) -> None:
        """Give the answer found elsewhere (the problem was taken back), unless it has one."""
        with contextlib.suppress(InvalidStateError):
            self.set_result(result.copy())


def _answer_ahead(ahead: _Ahead) -> np.ndarray | None:
    """The answer the worker process found, or None when the caller is to
    solve the problem itself: the worker gave none (it was stopped or
    failed), or it has not started on a problem that may be taken back."""
    if ahead.may_take_back and ahead.owner.take_back(ahead.key):
        return None
    try:
        return ahead.result()
    except _WorkerGone:
        return None


class _WorkerGone(Exception):
    """The worker process ended (or was stopped) before answering."""


class SolveAhead:
    """Heuristic solves started before they are asked for, in a worker process.

    On a large company each solve is seconds of pure Python, which holds
    Python's lock: threads cannot run two at once, processes can. ``submit``
    hands a problem to the worker (``python -m diligence.scenarios.worker``,
    problems and answers pickled over its standard input and output, so it
    depends on nothing of the process that starts it); when :func:`solve` is
    later asked the same problem (the same fingerprint) it waits for that
    answer instead of solving again. The worker runs the same deterministic
    function, so the answer is the one :func:`solve` would have found itself.
    Problems go to the worker one at a time, in the order submitted (those
    submitted ``first`` before the others not yet sent), each once it has
    answered the one before; a problem submitted with ``take_back``
    that the worker has not started when it is asked for is solved where it
    is asked instead (the asking process has nothing else to do; the worker
    goes on with the rest). Leaving the ``with`` block stops the worker; a
    problem it has not answered by then (or that it could not answer) is
    solved where it is asked.

    Submit from the thread that lives longest: the worker dies with the
    thread that starts it (:func:`diligence.processes.die_with_parent`).
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._waiting: queue.Queue[Future | None] = queue.Queue()
        self._lock = threading.Condition()
        self._unsent: list[tuple[_Ahead, tuple, bool]] = []  # submitted, not yet sent: (answer, problem, first)
        self._closing = False
        self._reader: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        self._keys: list[bytes] = []

    def __enter__(self) -> SolveAhead:
        return self

    def submit(
        self,
        inst: Instance,
        max_moves: int | None = None,
        start: np.ndarray | None = None,
        take_back: bool = False,
        first: bool = False,
    ) -> None:
        """Start solving ``inst`` (as :func:`solve` would) in the worker;
        ``take_back``: solved where it is asked if the worker has not started it by then;
        ``first``: sent before the problems not submitted ``first`` that wait to be sent."""
        key = _fingerprint(inst, max_moves, start)
        with _RECENT_LOCK:
            if key in _RECENT or key in _AHEAD:
                return
        if self._proc is None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "diligence.scenarios.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                preexec_fn=die_with_parent(),
            )
            self._reader = threading.Thread(target=self._read, name="solve-ahead", daemon=True)
            self._reader.start()
            self._writer = threading.Thread(target=self._write, name="solve-ahead-send", daemon=True)
            self._writer.start()
        future = _Ahead(self, key, take_back)
        # the solver reads no ids or labels: placeholders of the same lengths spare the worker
        # a million strings to unpickle and hold
        slim = replace(
            inst,
            rep_ids=np.zeros(inst.n_reps, np.int8),
            account_ids=np.zeros(inst.n_accounts, np.int8),
            group_labels=np.zeros(inst.n_groups, np.int8),
            account_pos=np.zeros(0, np.int8),
        )
        with _RECENT_LOCK:
            _AHEAD[key] = future
        self._keys.append(key)
        # sent by a thread of its own, when the worker is free: writing here would wait for the
        # answers before it (a large problem fills the pipe), and a problem not sent yet can be
        # taken back
        with self._lock:
            self._unsent.append((future, (slim, max_moves, start), first))
            self._lock.notify_all()

    def take_back(self, key: bytes) -> bool:
        """Take the problem ``key`` back if the worker has not started it; True when taken."""
        with self._lock:
            for i, (future, _, _) in enumerate(self._unsent):
                if future.key == key:
                    del self._unsent[i]
                    return True
        return False

    def _write(self) -> None:
        """Send the problems submitted to the worker, in order, each once it has answered the one before."""
        while True:
            with self._lock:
                while not self._unsent and not self._closing:
                    self._lock.wait()
                if self._closing:
                    return
                at = next((i for i, (_, _, first) in enumerate(self._unsent) if first), 0)
                future, problem, _ = self._unsent.pop(at)
            self._waiting.put(future)  # before sending: the reader hands out answers in this order
            try:
                pickle.dump(problem, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self._proc.stdin.flush()
            except OSError:
                self._give_up()  # the worker is gone: the reader fails what was sent
                return
            wait([future])  # its answer, or the worker gone (the reader fails it)
            if future.exception() is not None:
                self._give_up()
                return

    def _give_up(self) -> None:
        """Fail the problems not sent: each is solved where it is asked."""
        with self._lock:
            unsent, self._unsent = self._unsent, []
        for future, _, _ in unsent:
            with contextlib.suppress(InvalidStateError):
                future.set_exception(_WorkerGone())

    def _read(self) -> None:
        """Hand each answer, in the order the problems went, to its future."""
        while (future := self._waiting.get()) is not None:
            try:
                answer = pickle.load(self._proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                future.set_exception(_WorkerGone())
                while (rest := self._waiting.get()) is not None:
                    rest.set_exception(_WorkerGone())
                return
            future.set_result(answer)

    def stop(self) -> None:
        """Stop the worker now: what it has not answered is solved where it is asked."""
        if self._proc is not None:
            self._proc.kill()
        self._give_up()

    def __exit__(self, *exc: object) -> None:
        with _RECENT_LOCK:
            for key in self._keys:
                _AHEAD.pop(key, None)
        if self._proc is None:
            return
        # every answer asked for has been taken (after an error, none is waited for): what the
        # worker may still be solving is wanted by no one
        self.stop()
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._writer.join()
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        self._waiting.put(None)
        self._reader.join()
        self._proc.wait()
        self._proc.stdout.close()


def serve(source: BinaryIO, answers: BinaryIO) -> None:
    """The worker's loop: solve each pickled ``(instance, max_moves, start)``
    read from ``source`` and write its answer to ``answers``, until ``source`` ends."""
    while True:
        try:
            inst, max_moves, start = pickle.load(source)
        except EOFError:
            return
        pickle.dump(_solve(inst, max_moves, start), answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


def _solve(inst: Instance, max_moves: int | None, start: np.ndarray | None) -> np.ndarray:
    """:func:`solve` without the memory of recent answers."""
    owner = np.where(inst.kind == ASSIGNED, inst.current, -1).astype(np.int64)
    if start is not None:
        owner = np.where(allowed(inst, start), start, owner).astype(np.int64)
    if inst.n_accounts == 0:
        return owner
    _SCALE.solving = (inst, inst.scale())
    try:
        return _solve_from(inst, owner, max_moves)
    finally:
        _SCALE.solving = None


def _solve_from(inst: Instance, owner: np.ndarray, max_moves: int | None) -> np.ndarray:
    """:func:`_solve` from the owners of today (or of the start) in ``owner``."""
    load = inst.base.copy()
    held = owner >= 0
    np.add.at(load, owner[held], inst.potential[held])
    _place(inst, owner, load)
    limit = max_moves or inst.n_accounts
    best = None
    for shed_first in (False, True):
        trial, trial_load = owner.copy(), load.copy()
        if shed_first:
            _shed(inst, trial, trial_load)
        _improve(inst, trial, trial_load, limit)
        key = round(score(inst, trial).objective, 9)
        if best is None or key < best[0]:
            best = (key, trial, trial_load)
    # Where a group's band is out of reach, fewer placed accounts in it may help.
    trial, trial_load = best[1].copy(), best[2].copy()
    if _rehome(inst, trial, trial_load):
        _improve(inst, trial, trial_load, limit)
        key = round(score(inst, trial).objective, 9)
        if key < best[0]:
            best = (key, trial, trial_load)
    # Last, what the band cannot hold is spread over the books that can take it (a polish on the
    # answer kept: run inside each start, it steered the re-homing of step 8 elsewhere).
    _fill(inst, best[1], best[2])
    return best[1]
