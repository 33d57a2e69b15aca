"""Time the rebalancer's heuristic on large companies, and compare it with the
MILP on small ones.

    .venv/bin/python benchmarks/bench_scenarios.py [--sizes 10000 100000] [--reps 50 200] [--compare 30] [--tolerances 0.1 0.2]
        [--curve-sizes 100000 1000000] [--plans 20]
    .venv/bin/python benchmarks/bench_scenarios.py --shapes [--shape-accounts 1000000] [--curve-points 2]

Companies are random: three segments, reps spread over them (a fifth junior),
a quarter of accounts unassigned, books skewed. In the solver comparison every
account also gets a move cost of 1 to 4 (as open deals, customers and owners'
activity give them), and the heuristic's disruption is set against the MILP's.
Targets: 100k accounts and 200 reps in under 30 s; each point of the trade-off
curve under 60 s at 1M accounts; twenty named plans on the demo company in
under a minute.

``--shapes`` builds three companies of ``--shape-accounts`` accounts, each in
a process of its own so that its peak memory is its own, and prints for each
the heuristic's seconds, the process's peak memory and the seconds per point
of the trade-off curve (the first ``--curve-points`` tolerances, the
heuristic alone): the generator's default (:func:`diligence.synth.make_company`:
books of about 75 accounts, owners inside their segment); *cross-segment*:
books of about 2,000 accounts, owners drawn across segments, a sixth of
accounts unowned; *tiny books*: 10,000 reps of about 100 accounts each.
Target: the heuristic in at most 30 s and each curve point under 60 s on
every shape at 1M accounts.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diligence.contract import typed
from diligence.params import resolve_params
from diligence.scenarios import curve, heuristic, instance, milp, plans, rebalance, resolve_settings

SEGMENTS = np.array(["Enterprise", "Mid-Market", "SMB"])


def _reps(rng: np.random.Generator, rep_seg: np.ndarray) -> pd.DataFrame:
    """One AE per entry of ``rep_seg`` (its segment), a fifth of them junior."""
    n_reps = len(rep_seg)
    return typed(
        "reps",
        pd.DataFrame(
            {
                "rep_id": [f"R{i:05d}" for i in range(n_reps)],
                "rep_name": [f"Rep {i}" for i in range(n_reps)],
                "role": "AE",
                "level": np.where(rng.random(n_reps) < 0.2, "junior", "senior"),
                "segment": rep_seg,
                "hire_date": pd.Timestamp("2020-01-01"),
                "quota": 100.0,
            }
        ),
    )


def company(n_accounts: int, n_reps: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    rep_seg = SEGMENTS[np.arange(n_reps) % 3]
    reps = _reps(rng, rep_seg)
    seg = rng.choice(3, size=n_accounts, p=[0.1, 0.3, 0.6])
    # skewed books: each segment's reps get accounts with unequal weights
    owner = np.empty(n_accounts, dtype=object)
    for s in range(3):
        ids = np.flatnonzero(seg == s)
        pool = np.flatnonzero(rep_seg == SEGMENTS[s])
        w = rng.lognormal(0, 0.5, len(pool))
        owner[ids] = reps["rep_id"].to_numpy(dtype=object)[pool[rng.choice(len(pool), size=len(ids), p=w / w.sum())]]
    owner[rng.random(n_accounts) < 0.25] = None
    accounts = typed(
        "accounts",
        pd.DataFrame(
            {
                "account_id": [f"A{i:07d}" for i in range(n_accounts)],
                "account_name": "x",
                "owner_rep_id": owner,
                "segment": SEGMENTS[seg],
                "potential": np.round(rng.lognormal(3, 0.8, n_accounts), 1),
            }
        ),
    )
    return {"accounts": accounts, "reps": reps}


def per_rep_norm(n_accounts: int, n_reps: int) -> dict:
    return {"other": math.ceil(n_accounts / n_reps * 1.1)}


def time_heuristic(n_accounts: int, n_reps: int) -> dict:
    tables = company(n_accounts, n_reps)
    norm = math.ceil(n_accounts / n_reps * 1.1)
    params = resolve_params({"as_of": "2026-06-30", "accounts_per_rep": dict.fromkeys(SEGMENTS, norm)})
    t0 = time.perf_counter()
    plan = rebalance(tables, params, resolve_settings(), solver="heuristic")
    return {
        "accounts": n_accounts,
        "reps": n_reps,
        "seconds": round(time.perf_counter() - t0, 2),
        "moved": plan.score.moves,
        "newly_assigned": plan.score.newly_assigned,
        "within_tolerance": plan.score.within_tolerance,
        "books_outside_band": plan.books_outside_band(),
    }


def compare_solvers(n: int, tolerance: float) -> pd.DataFrame:
    rows = []
    for seed in range(n):
        rng = np.random.default_rng(seed)
        tables = company(int(rng.integers(60, 200)), int(rng.integers(6, 13)), seed)
        params = resolve_params({"as_of": "2026-06-30", "accounts_per_rep": dict.fromkeys(SEGMENTS, 40)})
        inst = instance.build_instance(tables, params, resolve_settings({"balance_tolerance": tolerance}))
        cost = 1 + np.random.default_rng(seed).choice([0, 0, 1, 2, 3], size=inst.n_accounts).astype(float)
        inst = dataclasses.replace(inst, move_cost=cost)
        exact = milp.solve(inst, 30)
        greedy_run = heuristic.solve(inst)
        best, greedy = instance.score(inst, exact.owner), instance.score(inst, greedy_run.owner)
        rows.append(
            {
                "tolerance": tolerance,
                "seed": seed,
                "accounts": inst.n_accounts,
                "optimal": exact.optimal,
                "milp_feasible_band": best.within_tolerance,
                "milp_moves": best.moves,
                "heuristic_moves": greedy.moves,
                "milp_disruption": best.disruption,
                "heuristic_disruption": greedy.disruption,
                "heuristic_in_band": greedy.within_tolerance,
                "milp_seconds": round(exact.seconds, 2),
                "heuristic_seconds": round(greedy_run.seconds, 3),
            }
        )
    return pd.DataFrame(rows)


def time_curve(n_accounts: int, n_reps: int) -> dict:
    """The trade-off curve on a random company, the heuristic alone (above
    ``milp_max_accounts`` the MILP does not run): seconds per point."""
    tables = company(n_accounts, n_reps)
    norm = math.ceil(n_accounts / n_reps * 1.1)
    params = resolve_params({"as_of": "2026-06-30", "accounts_per_rep": dict.fromkeys(SEGMENTS, norm)})
    settings = resolve_settings({"curve_milp_node_limit": 0})
    t0 = time.perf_counter()
    points, _, _ = curve.tradeoff_curve(tables, params, settings)
    seconds = time.perf_counter() - t0
    return {
        "accounts": n_accounts,
        "reps": n_reps,
        "points": len(points),
        "seconds": round(seconds, 1),
        "seconds_per_point": round(seconds / len(points), 1),
        "moves": points["moves"].tolist(),
    }


def time_plans(n: int) -> dict:
    """``n`` named plans (tolerances and hires varied) on the demo company."""
    from diligence.execution.notebook import open_run

    run = open_run(None, None)
    variants = [
        {
            "name": f"Plan {i + 1}",
            "balance_tolerance": [0.05, 0.1, 0.15, 0.2, 0.25][i % 5],
            **({"hires_by_segment": {}} if i % 4 == 0 else {}),
            **({"protect": ["customer"]} if i % 3 == 0 else {}),
        }
        for i in range(n)
    ]
    settings = resolve_settings({**run.params["scenarios"], "plans": variants})
    t0 = time.perf_counter()
    evaluated = plans.evaluate_plans(run.tables, run.params, settings)
    return {"plans": len(evaluated), "seconds": round(time.perf_counter() - t0, 1)}


SHAPES = ("generator", "cross-segment", "tiny-books")


def shape_company(shape: str, n_accounts: int, seed: int = 11) -> dict:
    """The tables of one benchmark shape (module notes) with ``n_accounts`` accounts."""
    if shape == "generator":
        from diligence.synth import make_company

        return make_company(n_accounts=n_accounts, seed=seed)
    rng = np.random.default_rng(seed)
    n_reps = max(n_accounts // 2000, 6) if shape == "cross-segment" else 10_000
    rep_seg = SEGMENTS[np.arange(n_reps) % 3]
    reps = _reps(rng, rep_seg)
    seg = rng.choice(3, size=n_accounts, p=[0.1, 0.3, 0.6])
    weights = rng.lognormal(0, 0.5, n_reps)
    if shape == "cross-segment":
        # owners drawn from every rep whatever the account's segment: books mix segments
        pick = rng.choice(n_reps, size=n_accounts, p=weights / weights.sum())
        unowned = rng.random(n_accounts) < 1 / 6
    else:
        # owners inside the account's segment, skewed books
        pick = np.empty(n_accounts, np.int64)
        for s_ in range(3):
            ids = np.flatnonzero(seg == s_)
            pool = np.flatnonzero(rep_seg == SEGMENTS[s_])
            w = weights[pool]
            pick[ids] = pool[rng.choice(len(pool), size=len(ids), p=w / w.sum())]
        unowned = rng.random(n_accounts) < 0.1
    owner = reps["rep_id"].to_numpy(dtype=object)[pick]
    owner[unowned] = None
    accounts = typed(
        "accounts",
        pd.DataFrame(
            {
                "account_id": [f"A{i:07d}" for i in range(n_accounts)],
                "account_name": "x",
                "owner_rep_id": owner,
                "segment": SEGMENTS[seg],
                "potential": np.round(rng.lognormal(3, 0.8, n_accounts), 1),
            }
        ),
    )
    return {"accounts": accounts, "reps": reps}


def time_shape(shape: str, n_accounts: int, curve_points: int) -> dict:
    """The heuristic, then ``curve_points`` points of the trade-off curve, on
    one shape; seconds of each and the process's peak memory (run it in a
    process of its own: the peak is the process's)."""
    import resource

    t0 = time.perf_counter()
    tables = shape_company(shape, n_accounts)
    built = time.perf_counter() - t0
    n_reps = len(tables["reps"])
    norm = math.ceil(n_accounts / max(n_reps, 1) * 1.1)
    params = resolve_params({"as_of": "2026-06-30", "accounts_per_rep": dict.fromkeys(SEGMENTS, norm)})
    if shape == "generator":
        from diligence.synth import DEMO_AS_OF

        params = resolve_params({"as_of": DEMO_AS_OF})
    t0 = time.perf_counter()
    plan = rebalance(tables, params, resolve_settings(), solver="heuristic")
    seconds = time.perf_counter() - t0
    out = {
        "shape": shape,
        "accounts": n_accounts,
        "reps": n_reps,
        "build_seconds": round(built, 1),
        "heuristic_seconds": round(seconds, 1),
        "movable": plan.instance.n_accounts,
        "moved": plan.score.moves,
        "newly_assigned": plan.score.newly_assigned,
        "books_outside_band": plan.books_outside_band(),
    }
    if curve_points:
        tolerances = resolve_settings()["curve_tolerances"][:curve_points]
        settings = resolve_settings({"curve_milp_node_limit": 0, "curve_tolerances": tolerances})
        t0 = time.perf_counter()
        points, _, _ = curve.tradeoff_curve(tables, params, settings)
        out["curve_seconds_per_point"] = round((time.perf_counter() - t0) / len(points), 1)
        out["curve_moves"] = points["moves"].tolist()
    out["peak_memory_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    return out


def run_shapes(n_accounts: int, curve_points: int, shapes: tuple[str, ...] = SHAPES) -> None:
    """:func:`time_shape` for each shape, each in a fresh process."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    for shape in shapes:
        with ctx.Pool(1) as pool:
            print(pool.apply(time_shape, (shape, n_accounts, curve_points)), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--reps", type=int, nargs="*", default=[50, 200])
    ap.add_argument("--compare", type=int, default=30)
    ap.add_argument("--tolerances", type=float, nargs="*", default=[0.1, 0.2])
    ap.add_argument("--curve-sizes", type=int, nargs="*", default=[100_000])
    ap.add_argument("--curve-reps", type=int, default=200)
    ap.add_argument("--plans", type=int, default=20)
    ap.add_argument("--shapes", nargs="*", choices=SHAPES, help="time the three 1M shapes (module notes) and stop")
    ap.add_argument("--shape-accounts", type=int, default=1_000_000)
    ap.add_argument("--curve-points", type=int, default=2)
    args = ap.parse_args()
    if args.shapes is not None:
        run_shapes(args.shape_accounts, args.curve_points, tuple(args.shapes) or SHAPES)
        return
    for n in args.curve_sizes:
        print(time_curve(n, args.curve_reps), flush=True)
    if args.plans:
        print(time_plans(args.plans), flush=True)
    for n in args.sizes:
        for r in args.reps:
            print(time_heuristic(n, r), flush=True)
    for tolerance in args.tolerances if args.compare else []:
        table = compare_solvers(args.compare, tolerance)
        print(table.to_string(index=False))
        ok = table[table["milp_feasible_band"]]
        print(
            f"tolerance ±{tolerance:.0%}: MILP proven optimal {int(table['optimal'].sum())}/{len(table)}; "
            f"band feasible for MILP {len(ok)}, heuristic in band there {int(ok['heuristic_in_band'].sum())}; "
            f"moves heuristic/MILP {int(ok['heuristic_moves'].sum())}/{int(ok['milp_moves'].sum())}; "
            f"disruption heuristic/MILP {ok['heuristic_disruption'].sum():g}/{ok['milp_disruption'].sum():g}",
            flush=True,
        )


if __name__ == "__main__":
    main()
