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
3. **Exchange**: each book still outside its band trades with a peer of its
   group: one account out, one back, or both (a swap), cheapest in moves
   first; when no exchange keeps the peer in band, one that pushes the peer
   out by less than it brings the book in (an ejection chain; total
   violation falls every round). Only (account, rep) pairs the MILP allows
   are used: eligible reps of the group, or the account's owner of today.
4. **Undo** moves that turned out unnecessary: a moved account goes back to
   its owner of today when both books stay inside their bands.
5. **Consolidate**: moves sharing a rep are sent home together and steps 3–4
   rerun on that group; the trial is kept when balance is no worse and
   fewer accounts move (one larger account often replaces two).

Moves stay inside a group, so a group's mean is fixed; forced and new
accounts are placed across groups only in step 1.
"""
from __future__ import annotations

import bisect
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from diligence.scenarios.instance import ASSIGNED, BAND_EPS, Instance, band, loads, score

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


#: Partner books examined per balancing move: in a large group, the ones with
#: the most room (or surplus) are the only ones worth trying, and scanning all
#: of them made each move cost a pass over the whole group.
BALANCE_PARTNERS = 40


def _widest(members: np.ndarray, slack: np.ndarray) -> np.ndarray:
    """The :data:`BALANCE_PARTNERS` members with the most slack (all of them
    in a small group), most slack first, ties by rep index."""
    if len(members) <= BALANCE_PARTNERS:
        return members
    order = np.lexsort((members, -slack))[:BALANCE_PARTNERS]
    return members[order]


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
            if stuck:
                worst[np.isin(members, np.fromiter(stuck, np.int64))] = -np.inf
            i = int(np.argmax(worst))
            if worst[i] <= eps:
                break
            rep = int(members[i])
            best = None
            if over[i] > eps:  # move one account out of rep
                need, most = load[rep] - hi[rep], load[rep] - lo[rep]
                partners = _widest(members, hi[members] - load[members])
                for cls in sorted(books.classes[rep]):
                    for r in partners:
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
                for r in _widest(members, load[members] - lo[members]):
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


def _move_cost(inst: Instance, owner: np.ndarray, acc: np.ndarray, dst: int) -> np.ndarray:
    """Change in the move count when accounts ``acc`` go to ``dst``: −1 for an
    account going back to today's owner, +1 for one leaving it, else 0."""
    paid = inst.kind[acc] == ASSIGNED
    was = paid & (owner[acc] != inst.current[acc])
    now = paid & (inst.current[acc] != dst)
    return now.astype(np.int64) - was.astype(np.int64)


def _receivable(inst: Instance, acc: np.ndarray, dst: int) -> np.ndarray:
    """Which of ``acc`` may go to ``dst``: an eligible rep, or today's owner."""
    return inst.eligible[inst.cls[acc], dst] | ((inst.kind[acc] == ASSIGNED) & (inst.current[acc] == dst))


def _best_exchange(inst: Instance, owner: np.ndarray, held: dict[int, np.ndarray], rep: int, peer: int,
                   t_lo: float, t_hi: float) -> tuple | None:
    """The cheapest exchange between ``rep`` and ``peer`` (same group):
    account ``a`` (or none) from rep to peer and ``b`` (or none) back, so that
    the potential going from rep to peer, ``x_a − x_b``, lies in
    ``[t_lo, t_hi]``. Returns (moves added, potential moved, a, b) or None;
    −1 stands for "no account"."""
    if t_lo > t_hi:
        return None
    out = held[rep][_receivable(inst, held[rep], peer)]
    back = held[peer][_receivable(inst, held[peer], rep)]
    xa = np.concatenate([[0.0], inst.potential[out]])
    ca = np.concatenate([[0], _move_cost(inst, owner, out, peer)])
    ia = np.concatenate([[-1], out])
    xb_all = np.concatenate([[0.0], inst.potential[back]])
    cb_all = np.concatenate([[0], _move_cost(inst, owner, back, rep)])
    ib_all = np.concatenate([[-1], back])
    best = None
    for tier in (-1, 0, 1):
        sel = cb_all == tier
        if not sel.any():
            continue
        order = np.lexsort((ib_all[sel], xb_all[sel]))
        xb, ib = xb_all[sel][order], ib_all[sel][order]
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
        cand = (int(cost[j]), float(moved[j]), int(ia[ok][j]), int(ib[pick][j]))
        if best is None or cand[:2] < best[:2]:
            best = cand
    return best


#: Exchange candidates (rep, peer) examined at most, over all passes of one
#: solve: bounds the time on very large instances deterministically (a clock
#: would make the plan depend on the machine), far above what small ones use.
EXCHANGE_BUDGET = 200_000


def _exchange(inst: Instance, owner: np.ndarray, load: np.ndarray, max_rounds: int,
              group: int | None = None, budget: list[int] | None = None) -> None:
    """Step 3, in place: bring the books step 2 left outside their band
    inside, one exchange with a peer at a time (an account out, one back, or
    both), cheapest first. An exchange that keeps the peer in its band (or no
    farther outside) is preferred; failing that, one that pushes the peer out
    by less than it brings the book in, so that the next round fixes the peer
    (an ejection chain). Total violation falls at every round. With
    ``group``, only that comparable group's books are worked on. ``budget``
    (a one-item list, shared between calls) counts the candidates examined;
    the pass stops where it is when it runs out."""
    budget = budget if budget is not None else [EXCHANGE_BUDGET]
    lo, hi = band(inst, load)
    scale = inst.scale()
    member = (inst.rep_group >= 0) if group is None else (inst.rep_group == group)
    margin = 0.5 * BAND_EPS * scale[np.maximum(inst.rep_group, 0)]
    by_rep = np.argsort(owner, kind="stable")
    cuts = np.searchsorted(owner[by_rep], np.arange(inst.n_reps + 1))
    held = {r: by_rep[cuts[r]:cuts[r + 1]] for r in range(inst.n_reps)}
    stuck: set[int] = set()  # reps no exchange fixes until their group changes
    # best exchange of each (rep, peer, strict), valid while neither book changes
    version = np.zeros(inst.n_reps, np.int64)
    cache: dict[tuple[int, int, bool], tuple[int, int, tuple | None]] = {}
    for _ in range(max_rounds):
        viol = np.where(member, np.maximum(np.maximum(load - hi, lo - load), 0.0), 0.0)
        bad = np.flatnonzero(viol > 2 * margin)
        move = None
        for rep in bad[np.argsort(-viol[bad], kind="stable")]:
            if rep in stuck:
                continue
            # potential t leaving rep that puts it inside its band
            r_lo, r_hi = load[rep] - hi[rep] + margin[rep], load[rep] - lo[rep] - margin[rep]
            peers = np.flatnonzero(inst.rep_group == inst.rep_group[rep])
            for strict in (True, False):
                best = None
                for peer in peers[peers != rep]:
                    if budget[0] <= 0:
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
                    if hit is not None and hit[0] == version[rep] and hit[1] == version[peer]:
                        cand = hit[2]
                    else:
                        cand = _best_exchange(inst, owner, held, int(rep), int(peer), max(r_lo, p_lo), min(r_hi, p_hi))
                        cache[key] = (int(version[rep]), int(version[peer]), cand)
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
        for acc, dst, src in ((a, peer, rep), (b, rep, peer)):
            if acc >= 0:
                owner[acc] = dst
                load[src] -= inst.potential[acc]
                load[dst] += inst.potential[acc]
                held[src] = held[src][held[src] != acc]
                held[dst] = np.append(held[dst], acc)
        version[[rep, peer]] += 1
        stuck -= set(np.flatnonzero(inst.rep_group == inst.rep_group[rep]).tolist())


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


def _consolidate(inst: Instance, owner: np.ndarray, load: np.ndarray, max_trials: int = 64,
                 budget: list[int] | None = None) -> None:
    """Step 4, in place: where two or more accounts moved between the same
    two reps, or out of one rep, or into one, try sending them home and letting step 3 find fewer moves (often
    one larger account, with new accounts shuffled for free); keep the trial
    when it is no worse on balance and strictly fewer moves."""
    moved = np.flatnonzero((inst.kind == ASSIGNED) & (owner != inst.current))
    if len(moved) < 2:
        return
    # sets of moves tried together: same two reps, same source, same destination
    n = inst.n_reps
    labels = [inst.current[moved].astype(np.int64) * n + owner[moved], n * n + inst.current[moved],
              n * n + n + owner[moved]]
    sets = [moved[lab == k] for lab in labels for k, c in zip(*np.unique(lab, return_counts=True)) if c >= 2]
    before = score(inst, owner)
    for back in sets[:max_trials]:
        trial, trial_load = owner.copy(), load.copy()
        back = back[owner[back] != inst.current[back]]  # an earlier trial may have sent some home
        if len(back) < 2:
            continue
        np.add.at(trial_load, trial[back], -inst.potential[back])
        np.add.at(trial_load, inst.current[back], inst.potential[back])
        trial[back] = inst.current[back]
        if budget is not None and budget[0] <= 0:
            return
        _exchange(inst, trial, trial_load, inst.n_accounts, int(inst.rep_group[inst.current[back[0]]]), budget)
        _undo(inst, trial, trial_load)
        after = score(inst, trial)
        if after.violation <= before.violation + 1e-12 and after.moves < before.moves:
            owner[:] = trial
            load[:] = trial_load
            before = after


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
    budget = [EXCHANGE_BUDGET]
    _exchange(inst, owner, load, max_moves or inst.n_accounts, budget=budget)
    _undo(inst, owner, load)
    _consolidate(inst, owner, load, budget=budget)
    return HeuristicResult(owner, time.perf_counter() - start)
