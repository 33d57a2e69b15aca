"""Time the rebalancer's heuristic on large companies, and compare it with the
MILP on small ones.

    .venv/bin/python benchmarks/bench_scenarios.py [--sizes 10000 100000] [--reps 50 200] [--compare 30] [--tolerances 0.1 0.2]
        [--curve-sizes 100000 1000000] [--plans 20]

Companies are random: three segments, reps spread over them (a fifth junior),
a quarter of accounts unassigned, books skewed. In the solver comparison every
account also gets a move cost of 1 to 4 (as open deals, customers and owners'
activity give them), and the heuristic's disruption is set against the MILP's.
Targets: 100k accounts and 200 reps in under 30 s; each point of the trade-off
curve under 60 s at 1M accounts; twenty named plans on the demo company in
under a minute.
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


def company(n_accounts: int, n_reps: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    rep_seg = SEGMENTS[np.arange(n_reps) % 3]
    reps = typed(
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
    evaluated = plans.evaluate_plans(run.tables, run.params, settings, run.metrics())
    return {"plans": len(evaluated), "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--reps", type=int, nargs="*", default=[50, 200])
    ap.add_argument("--compare", type=int, default=30)
    ap.add_argument("--tolerances", type=float, nargs="*", default=[0.1, 0.2])
    ap.add_argument("--curve-sizes", type=int, nargs="*", default=[100_000])
    ap.add_argument("--curve-reps", type=int, default=200)
    ap.add_argument("--plans", type=int, default=20)
    args = ap.parse_args()
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
