"""Fast rebalancing: a greedy that scales to 100k accounts and hundreds of reps.

1. **Place** the accounts that need an owner (forced off a rule-breaking
   owner, or newly assigned), highest potential first, each to the eligible
   rep whose book is lowest relative to its comparable group's mean at that
   moment (new accounts fill the thin books before anyone has to move).
2. **Balance** each comparable group: while a book lies outside
   ``(1 ± tol) × group mean``, move one account between it and a peer,
   never pushing either outside the band. Accounts already moved or newly
   placed move again for free and are preferred; otherwise the move that
   closes the gap in one go with the least potential, else the largest that
   fits (fewest moves).
3. **Undo** moves that turned out unnecessary: a moved account goes back to
   its owner of today when both books stay inside their bands.

Moves in step 2 stay inside a group, so a group's mean is fixed there. The
heuristic does not swap accounts: a book that only a swap could fix stays
outside its band, and the rebalancer reports it.
"""
from __future__ import annotations

import bisect
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from diligence.scenarios.instance import ASSIGNED, BAND_EPS, Instance, band, loads

_INF = float("inf")


@dataclass
class HeuristicResult:
    owner: np.ndarray
    seconds: float


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
    for a in todo:
        reps = eligible_reps[inst.cls[a]]
        rg = g[reps]
        ref = np.where(rg >= 0, gsum[np.maximum(rg, 0)] / np.maximum(gcnt[np.maximum(rg, 0)], 1), load[reps].mean())
        fill = load[reps] / np.maximum(ref, 1e-12)
        r = int(reps[int(np.argmin(fill))])
        owner[a] = r
        load[r] += inst.potential[a]
        if g[r] >= 0:
            gsum[g[r]] += inst.potential[a]


class _Books:
    """Each rep's movable accounts by class, in two sorted lists: free to move
    (already moved or newly placed) and paid (still with today's owner)."""

    def __init__(self, inst: Instance, owner: np.ndarray) -> None:
        self.lists: dict[tuple[int, int, bool], list[tuple[float, int]]] = defaultdict(list)
        self.classes: dict[int, set[int]] = defaultdict(set)
        free = (inst.kind != ASSIGNED) | (owner != inst.current)
        order = np.lexsort((np.arange(inst.n_accounts), inst.potential))
        for a in order:
            key = (int(owner[a]), int(inst.cls[a]), bool(free[a]))
            self.lists[key].append((float(inst.potential[a]), int(a)))
            self.classes[int(owner[a])].add(int(inst.cls[a]))

    def remove(self, rep: int, cls: int, free: bool, item: tuple[float, int]) -> None:
        lst = self.lists[(rep, cls, free)]
        del lst[bisect.bisect_left(lst, item)]

    def add(self, rep: int, cls: int, free: bool, item: tuple[float, int]) -> None:
        bisect.insort(self.lists[(rep, cls, free)], item)
        self.classes[rep].add(cls)

    def best(self, rep: int, cls: int, cap: float, need: float) -> tuple[tuple[float, int] | None, bool]:
        """The account to move out of ``rep`` (class ``cls``) with potential
        ≤ ``cap``: the largest free one; else the smallest paid one ≥ ``need``;
        else the largest paid one. Returns (item, free)."""
        free = self.lists.get((rep, cls, True))
        if free:
            i = bisect.bisect_right(free, (cap, _INF)) - 1
            if i >= 0 and free[i][0] > 0:
                return free[i], True
        paid = self.lists.get((rep, cls, False))
        if paid:
            hi = bisect.bisect_right(paid, (cap, _INF))
            lo = bisect.bisect_left(paid, (need, -1))
            if lo < hi:
                return paid[lo], False
            if hi > 0 and paid[hi - 1][0] > 0:
                return paid[hi - 1], False
        return None, False


def _rank(item: tuple[float, int] | None, free: bool, need: float) -> tuple:
    """Sort key of a candidate move (smaller is better)."""
    x = item[0]
    if free:
        return (0, -x)
    return (1, x) if x >= need else (2, -x)


def _balance(inst: Instance, owner: np.ndarray, load: np.ndarray, max_moves: int) -> None:
    """Step 2, in place: moves inside each comparable group until every book is in its band."""
    lo, hi = band(inst, load)
    scale = inst.scale()
    books = _Books(inst, owner)
    eligible = inst.eligible
    for g in range(inst.n_groups):
        members = np.flatnonzero(inst.rep_group == g)
        eps = BAND_EPS * scale[g]
        stuck: set[int] = set()
        for _ in range(max_moves):
            over = load[members] - hi[members]
            under = lo[members] - load[members]
            worst = np.maximum(over, under)
            worst[[i for i, r in enumerate(members) if r in stuck]] = -np.inf
            i = int(np.argmax(worst))
            if worst[i] <= eps:
                break
            rep = int(members[i])
            best = None
            if over[i] > eps:  # move one account out of rep
                need, most = load[rep] - hi[rep], load[rep] - lo[rep]
                for cls in sorted(books.classes[rep]):
                    for r in members:
                        room = hi[r] - load[r]
                        if r == rep or room <= eps or not eligible[cls, r]:
                            continue
                        item, free = books.best(rep, cls, min(most, room), need)
                        if item is not None:
                            key = _rank(item, free, need)
                            if best is None or key < best[0]:
                                best = (key, item, free, rep, int(r), cls)
            else:  # move one account into rep
                need, most = lo[rep] - load[rep], hi[rep] - load[rep]
                for r in members:
                    surplus = load[r] - lo[r]
                    if r == rep or surplus <= eps:
                        continue
                    for cls in sorted(books.classes[int(r)]):
                        if not eligible[cls, rep]:
                            continue
                        item, free = books.best(int(r), cls, min(most, surplus), need)
                        if item is not None:
                            key = _rank(item, free, need)
                            if best is None or key < best[0]:
                                best = (key, item, free, int(r), rep, cls)
            if best is None:
                stuck.add(rep)
                continue
            _, item, free, src, dst, cls = best
            x, a = item
            books.remove(src, cls, free, item)
            owner[a] = dst
            now_free = not (inst.kind[a] == ASSIGNED and dst == inst.current[a])
            books.add(dst, cls, now_free, item)
            load[src] -= x
            load[dst] += x
            stuck.clear()


def _undo(inst: Instance, owner: np.ndarray, load: np.ndarray) -> None:
    """Step 3, in place: send moved accounts home when both books stay in band."""
    lo, hi = band(inst, load)
    member = inst.rep_group >= 0
    moved = np.flatnonzero((inst.kind == ASSIGNED) & (owner != inst.current))
    for a in moved[np.lexsort((moved, -inst.potential[moved]))]:
        src, dst, x = owner[a], inst.current[a], inst.potential[a]
        ok_src = not member[src] or load[src] - x >= lo[src] - 1e-9 * abs(lo[src])
        ok_dst = not member[dst] or load[dst] + x <= hi[dst] + 1e-9 * abs(hi[dst])
        # only within a group, where the band does not move with the transfer
        if ok_src and ok_dst and inst.rep_group[src] == inst.rep_group[dst]:
            owner[a] = dst
            load[src] -= x
            load[dst] += x


def solve(inst: Instance, max_moves: int | None = None) -> HeuristicResult:
    """Rebalance ``inst`` greedily (see the module docstring)."""
    start = time.perf_counter()
    owner = np.where(inst.kind == ASSIGNED, inst.current, -1).astype(np.int64)
    if inst.n_accounts == 0:
        return HeuristicResult(owner, 0.0)
    held = owner >= 0
    load = loads(inst, owner) if held.all() else inst.base.copy()
    if not held.all():
        np.add.at(load, owner[held], inst.potential[held])
    _place(inst, owner, load)
    _balance(inst, owner, load, max_moves or inst.n_accounts)
    _undo(inst, owner, load)
    return HeuristicResult(owner, time.perf_counter() - start)
