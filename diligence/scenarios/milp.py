"""Exact rebalancing: a mixed-integer programme solved by HiGHS (``highspy``),
warm-started from a known answer (the heuristic's) when one is given.

Variables: binary ``x[a, r]`` for each allowed (account, rep) pair
(:meth:`Instance.candidates`), the continuous total ``T[g]`` of each
comparable group's books, and slacks ``s⁺[r], s⁻[r] ≥ 0`` of each grouped
rep's band.

- every movable account has exactly one owner: ``Σ_r x[a, r] = 1``;
- ``T[g] = base[g] + Σ p[a] x[a, r]`` over reps ``r`` of group ``g``;
- each grouped rep's book ``L[r] = base[r] + Σ_a p[a] x[a, r]`` keeps
  ``L[r] ≤ (1 + tol) T[g] / n[g] + s⁺[r]`` and
  ``L[r] ≥ (1 − tol) T[g] / n[g] − s⁻[r]`` (the group mean is linear in x,
  so the band follows the plan's own mean);
- minimise ``Σ moves × (c[a] + ½ p[a] / Σp) + W Σ (s⁺ + s⁻) / scale[g]``: the
  balance slack first (``W`` outweighs every move), then the disruption
  (``c[a]``, the account's move cost: 1 plus its disruption weights, so the
  number of accounts moved when there are none), then the potential moved
  (its weight totals less than one move).

Potentials are divided by their mean so that the coefficients are near 1.

**Parts.** Groups that no account links (no account may go to reps of both)
are independent programmes, and the objective is a sum over them: HiGHS
solves each part on its own (:func:`_parts`), a far smaller search than the
whole at once (on the demo company about 5× faster for the same optimum).
The answer's objective and bound are the parts' sums; it is optimal when
every part is, and ``node_limit`` counts nodes in each part.

**Warm start and budget.** Given a ``start`` (an owner per movable account,
the heuristic's plan), HiGHS begins from it as its incumbent: the answer is
never worse than the start, and branch-and-bound prunes from the first node.
HiGHS runs single-threaded with its fixed seed, so a solve that ends on the
gap or on ``node_limit`` gives the same answer on any machine; ``time_limit``
is the budget that stops a solve which would take longer (shared by the parts in
order: a part reached with the budget spent keeps its start), and the result then
says so (``stopped``) and carries the gap it reached.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from diligence.scenarios.instance import ASSIGNED, FORCED, POTENTIAL_WEIGHT, Instance, loads, slack_weight

MIP_REL_GAP = 1e-6  # HiGHS stops, and a solution counts as optimal, within this relative gap
_QUIET = {"depth": 0, "saved": -1}
_QUIET_LOCK = threading.Lock()  # solver threads enter and leave at any time


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """File descriptor 1 on the null device for the duration.

    HiGHS writes to the process's standard output below Python (its banner
    when a process makes its first instance, before any option can turn
    logging off; a debugging line of scipy's copy in some searches): in a step
    kernel those lines would land in the report. Solver threads nest: the
    first to enter points the descriptor at the null device, the last to
    leave points it back, so no thread can restore another's null device.
    Python's own prints (``sys.stdout``) are not touched."""
    with _QUIET_LOCK:
        if _QUIET["depth"] == 0:
            sys.stdout.flush()
            _QUIET["saved"] = os.dup(1)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.close(null)
        _QUIET["depth"] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET["depth"] -= 1
            if _QUIET["depth"] == 0:
                ctypes.CDLL(None).fflush(None)  # what C buffered goes to the null device too
                os.dup2(_QUIET["saved"], 1)
                os.close(_QUIET["saved"])


def _highs() -> highspy.Highs:
    """A silent HiGHS instance."""
    with quiet_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    return h


@dataclass
class MilpResult:
    """What HiGHS returned: an owner per movable account (None without a
    feasible solution), whether it is proven optimal, the relative gap, the
    best bound on the objective, HiGHS's message and the wall time."""

    owner: np.ndarray | None
    optimal: bool
    gap: float | None
    bound: float | None
    objective: float | None
    message: str
    seconds: float
    stopped: bool = False  # ended by the time budget before closing the gap


def solve(
    inst: Instance, time_limit: float = 120.0, node_limit: int | None = None, start: np.ndarray | None = None
) -> MilpResult:
    """Solve ``inst`` exactly, within ``time_limit`` seconds and, when given,
    ``node_limit`` branch-and-bound nodes (a count, so that a bounded solve
    gives the same answer and gap on any machine). ``start`` (rep index per
    movable account, e.g. the heuristic's answer) is HiGHS's first incumbent
    (module notes). Returns a :class:`MilpResult`."""
    t0 = time.perf_counter()
    if inst.n_accounts == 0:
        return MilpResult(np.zeros(0, np.int64), True, 0.0, 0.0, 0.0, "nothing to move", 0.0)
    model = _model(inst)
    pa, pr, n_var = model["pa"], model["pr"], len(model["cost"])
    a_mat = model["a"].tocsr()
    row_part, col_part = _parts(a_mat)
    values = np.zeros(n_var)
    start_values = None if start is None else _start_values(inst, model, start)
    objective = bound = 0.0
    optimal, stopped, messages = True, False, []
    for part in np.unique(col_part):  # labels in a fixed order: the same answer on every run
        cols, rows = np.flatnonzero(col_part == part), np.flatnonzero(row_part == part)
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0:  # the budget is spent: the rest keeps its start, unproven
            if start_values is None:
                return MilpResult(None, False, None, None, None, "Time limit reached", time.perf_counter() - t0)
            values[cols] = start_values[cols]
            objective += float(model["cost"][cols] @ start_values[cols])
            bound, optimal, stopped = None, False, True
            continue
        sub = _solve_part(
            a_mat[rows][:, cols],
            model,
            rows,
            cols,
            n_binary=len(pa),
            time_limit=left,
            node_limit=node_limit,
            start=None if start_values is None else start_values[cols],
        )
        if sub is None:  # no feasible solution in time
            return MilpResult(None, False, None, None, None, "Time limit reached", time.perf_counter() - t0)
        x, part_objective, part_bound, part_optimal, message = sub
        values[cols] = x
        objective += part_objective
        bound = None if bound is None or part_bound is None else bound + part_bound
        optimal &= part_optimal
        stopped |= message == _TIME_LIMIT and not part_optimal
        messages.append(message)
    seconds = time.perf_counter() - t0
    chosen = values[: len(pa)] > 0.5
    owner = np.full(inst.n_accounts, -1, dtype=np.int64)
    owner[pa[chosen]] = pr[chosen]
    gap = 0.0 if optimal else (None if bound is None else max(0.0, objective - bound) / max(abs(objective), 1e-9))
    message = next((m for m in messages if m != _OPTIMAL), _OPTIMAL) if messages else _OPTIMAL
    return MilpResult(owner, bool(optimal), gap, bound, objective, message, seconds, bool(stopped and not optimal))


_OPTIMAL, _TIME_LIMIT = "Optimal", "Time limit reached"


def _parts(a_mat: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """A part label for each row and each column of the constraint matrix:
    two columns share a part when a chain of rows links them. Parts share no
    account and no comparable group, and the objective is a sum over columns,
    so each part is a programme of its own."""
    n_rows = a_mat.shape[0]
    pattern = sparse.csr_matrix((np.ones(a_mat.nnz), a_mat.indices, a_mat.indptr), shape=a_mat.shape)
    _, label = connected_components(sparse.bmat([[None, pattern], [pattern.T, None]], format="csr"), directed=False)
    return label[:n_rows], label[n_rows:]


def _solve_part(
    a_part: sparse.csr_matrix,
    model: dict,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    n_binary: int,
    time_limit: float,
    node_limit: int | None,
    start: np.ndarray | None,
) -> tuple[np.ndarray, float, float | None, bool, str] | None:
    """One part of the programme (its ``rows`` and ``cols``) solved by HiGHS:
    ``(values, objective, bound, optimal, message)``, or None without a
    feasible solution in time."""
    h = _highs()
    for name, value in (
        ("threads", 1),  # one thread: the search, hence the answer, is the same on every run
        ("random_seed", 0),
        ("mip_rel_gap", MIP_REL_GAP),
        ("time_limit", float(time_limit)),
    ):
        h.setOptionValue(name, value)
    if node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(node_limit))
    a_csc = a_part.tocsc()
    a_csc.sort_indices()
    h.passModel(
        len(cols),
        len(rows),
        a_csc.nnz,
        1,  # MatrixFormat.kColwise
        1,  # ObjSense.kMinimize
        0.0,
        model["cost"][cols],
        np.zeros(len(cols)),
        model["upper"][cols],
        model["lb"][rows],
        model["ub"][rows],
        a_csc.indptr.astype(np.int32),
        a_csc.indices.astype(np.int32),
        a_csc.data.astype(float),
        (cols < n_binary).astype(np.int32),  # HighsVarType.kInteger for the x columns
    )
    if start is not None:
        h.setSolution(len(cols), np.arange(len(cols), dtype=np.int32), start)
    with quiet_stdout():
        h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return None
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else None
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    # Proven by the gap, not by HiGHS's status: a solve stopped by the clock with
    # the gap already closed is as optimal as one that stopped itself, and the
    # result must not depend on how busy the machine was.
    optimal = status == highspy.HighsModelStatus.kOptimal or (gap is not None and gap <= MIP_REL_GAP)
    message = _TIME_LIMIT if status == highspy.HighsModelStatus.kTimeLimit else h.modelStatusToString(status)
    values = np.asarray(h.getSolution().col_value)
    return values, float(info.objective_function_value), bound, bool(optimal), message


def _model(inst: Instance) -> dict:
    """The programme of the module notes as arrays: ``cost``, the constraint
    matrix ``a`` with row bounds ``lb``/``ub``, column ``upper`` bounds (lower
    are 0), the (account, rep) pair of each binary column (``pa``, ``pr``),
    and the scaling used (``unit``, ``scale``, ``n_per_group``, ``grouped``)."""
    pa, pr = inst.candidates()
    n_x, n_g = len(pa), inst.n_groups
    grouped = np.flatnonzero(inst.rep_group >= 0)
    n_s = len(grouped)
    unit = float(inst.potential.mean()) or 1.0
    p = inst.potential / unit
    base = inst.base / unit
    scale = inst.scale() / unit
    n_per_group = np.bincount(inst.rep_group[grouped], minlength=n_g).astype(float)

    # Columns: x (n_x) | T (n_g) | s+ (n_s) | s- (n_s)
    col_t, col_sp, col_sm = n_x, n_x + n_g, n_x + n_g + n_s
    n_var = n_x + n_g + 2 * n_s
    moves = ((inst.kind[pa] == ASSIGNED) & (pr != inst.current[pa])) | (inst.kind[pa] == FORCED)
    total = float(inst.potential.sum()) or 1.0
    cost = np.zeros(n_var)
    cost[:n_x] = moves * (inst.move_cost[pa] + POTENTIAL_WEIGHT * inst.potential[pa] / total)
    w = slack_weight(inst) / scale[inst.rep_group[grouped]] if n_s else np.zeros(0)
    cost[col_sp:col_sm] = w
    cost[col_sm:] = w

    rows = []
    # (1) one owner per account
    a_one = sparse.csr_matrix((np.ones(n_x), (pa, np.arange(n_x))), shape=(inst.n_accounts, n_var))
    rows.append((a_one, np.ones(inst.n_accounts), np.ones(inst.n_accounts)))
    if n_s:
        g_of_pair = inst.rep_group[pr]
        in_group = g_of_pair >= 0
        # (2) T[g] - sum p x = base[g]
        base_g = np.bincount(inst.rep_group[grouped], base[grouped], n_g)
        r_idx = np.concatenate([g_of_pair[in_group], np.arange(n_g)])
        c_idx = np.concatenate([np.flatnonzero(in_group), col_t + np.arange(n_g)])
        vals = np.concatenate([-p[pa[in_group]], np.ones(n_g)])
        rows.append((sparse.csr_matrix((vals, (r_idx, c_idx)), shape=(n_g, n_var)), base_g, base_g))
        # (3) and (4): one row per grouped rep
        row_of_rep = np.full(inst.n_reps, -1)
        row_of_rep[grouped] = np.arange(n_s)
        sel = np.flatnonzero(row_of_rep[pr] >= 0)
        g_rep = inst.rep_group[grouped]
        for sign, factor, slack_col in ((1, 1 + inst.tolerance, col_sp), (-1, 1 - inst.tolerance, col_sm)):
            r_idx = np.concatenate([row_of_rep[pr[sel]], np.arange(n_s), np.arange(n_s)])
            c_idx = np.concatenate([sel, col_t + g_rep, slack_col + np.arange(n_s)])
            vals = np.concatenate([p[pa[sel]], -factor / n_per_group[g_rep], -sign * np.ones(n_s)])
            m = sparse.csr_matrix((vals, (r_idx, c_idx)), shape=(n_s, n_var))
            rhs = -base[grouped]
            rows.append((m, np.full(n_s, -np.inf), rhs) if sign > 0 else (m, rhs, np.full(n_s, np.inf)))
    upper = np.full(n_var, np.inf)
    upper[:n_x] = 1
    return {
        "cost": cost,
        "a": sparse.vstack([r[0] for r in rows], format="csr"),
        "lb": np.concatenate([r[1] for r in rows]),
        "ub": np.concatenate([r[2] for r in rows]),
        "upper": upper,
        "pa": pa,
        "pr": pr,
        "unit": unit,
        "n_per_group": n_per_group,
        "grouped": grouped,
    }


def _start_values(inst: Instance, model: dict, owner: np.ndarray) -> np.ndarray:
    """Every column's value for the answer ``owner``: its pairs' binaries, each
    group's total and the least slacks that keep each band row feasible, so
    that HiGHS accepts it as a complete incumbent."""
    pa, pr, grouped = model["pa"], model["pr"], model["grouped"]
    n_x, n_g, n_s = len(pa), inst.n_groups, len(grouped)
    values = np.zeros(len(model["cost"]))
    values[:n_x] = owner[pa] == pr
    if n_s:
        load = loads(inst, owner) / model["unit"]
        g_rep = inst.rep_group[grouped]
        total = np.bincount(g_rep, load[grouped], n_g)
        mean = (total / np.maximum(model["n_per_group"], 1))[g_rep]
        values[n_x : n_x + n_g] = total
        values[n_x + n_g : n_x + n_g + n_s] = np.maximum(load[grouped] - (1 + inst.tolerance) * mean, 0.0)
        values[n_x + n_g + n_s :] = np.maximum((1 - inst.tolerance) * mean - load[grouped], 0.0)
    return values
