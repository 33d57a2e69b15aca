"""Time the calculations alone (no intake, no notebooks) at 10k, 100k and 1M accounts.

Each size runs in a fresh process: the synthetic company is generated first
(not timed), the peak-memory counter is reset, then every concern's metrics,
the flags and the evidence tables the notebooks show are computed and timed.

    .venv/bin/python benchmarks/bench_metrics.py [--sizes 10000 100000 1000000] [--shape default|wide|tiny] [--scenarios]

``--shape`` recuts the books (:data:`diligence.synth.SHAPES`): ``wide`` books of
about 2,000 accounts across segments with a sixth unowned, ``tiny`` 10,000 reps.

``--scenarios`` also times the scenario step's calculations
(:func:`diligence.scenarios.compare.run_scenarios`: every plan, the trade-off
curve, the named plans and the sensitivity), reported apart (``scenarios_s``):
what a run's scenario step computes, without its notebook.

Targets: the 1M-account company in under 60 s and 6 GiB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


def measure(n_accounts: int, shape: str = "default", scenarios: bool = False) -> dict:
    sys.path.insert(0, str(ROOT))
    from diligence.metrics import (
        METRIC_MODULES,
        balance,
        channels,
        coverage,
        flags,
        governance,
        merger,
        pipeline,
        pipeline_quality,
        productivity,
    )
    from diligence.params import resolve_params
    from diligence.synth import DEMO_AS_OF, make_company

    t0 = time.perf_counter()
    tables = make_company(n_accounts=n_accounts, seed=7, shape=shape)
    generated = time.perf_counter() - t0
    params = resolve_params({"as_of": DEMO_AS_OF})
    _reset_peak()
    base = _peak_rss_mib()
    timings: dict[str, float] = {}
    metrics: dict = {}

    def timed(name, fn, *args, **kw):
        start = time.perf_counter()
        result = fn(*args, **kw)
        timings[name] = round(time.perf_counter() - start, 3)
        return result

    for name in METRIC_MODULES:
        module = importlib.import_module(f"diligence.metrics.{name}")
        metrics.update(timed(f"{name}.metrics", module.metrics, tables, params))
    timed("flags.evaluate", flags.evaluate, metrics, params, tables)
    for name, fn in [
        ("coverage.coverage_by", lambda: coverage.coverage_by(tables, params, by=["segment"])),
        ("coverage.white_space", lambda: coverage.white_space(tables, params)),
        ("coverage.top_unassigned", lambda: coverage.top_unassigned(tables, params, n=25)),
        ("balance.comparable_groups", lambda: balance.comparable_groups(tables, params)),
        ("pipeline.pipeline_coverage", lambda: pipeline.pipeline_coverage(tables, params)),
        ("channels.conflict_accounts", lambda: channels.conflict_accounts(tables, params)),
        ("governance.survey_mismatches", lambda: governance.survey_mismatches(tables, params)),
        ("merger.duplicate_pairs", lambda: merger.duplicate_pairs(tables, params)),
        ("merger.fuzzy_candidates", lambda: merger.fuzzy_candidates(tables, params)),
        ("pipeline_quality.quality_coverage", lambda: pipeline_quality.quality_coverage(tables, params)),
        ("pipeline_quality.most_pushed", lambda: pipeline_quality.most_pushed(tables, params)),
        (
            "pipeline_quality.win_rate_by_stage_reached",
            lambda: pipeline_quality.win_rate_by_stage_reached(tables, params),
        ),
        ("productivity.ramp_curves", lambda: productivity.ramp_curves(tables, params)),
        ("productivity.attrition_by_quarter", lambda: productivity.attrition_by_quarter(tables, params)),
    ]:
        timed(name, fn)
    scenario_s = None
    if scenarios:
        from diligence.scenarios import compare, resolve_settings

        start = time.perf_counter()
        compare.run_scenarios(tables, params, resolve_settings(params["scenarios"]), metrics)
        scenario_s = round(time.perf_counter() - start, 2)
    return {
        "accounts": n_accounts,
        "shape": shape,
        "rows": {t: len(f) for t, f in tables.items()},
        "generate_s": round(generated, 1),
        "calculations_s": round(sum(timings.values()), 2),
        "scenarios_s": scenario_s,
        "peak_rss_mib": round(_peak_rss_mib(), 0),
        "rss_before_calculations_mib": round(base, 0),
        "timings_s": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--shape", default="default", help="how books are cut: default, wide or tiny")
    parser.add_argument("--scenarios", action="store_true", help="also time the scenario step's calculations")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.shape, args.scenarios)))
        return
    print(f"shape {args.shape}")
    print(f"{'accounts':>10} {'opps':>10} {'activities':>11} {'history':>10} {'calc s':>8} {'peak MiB':>9}  slowest")
    for n in args.sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--shape", args.shape, *(["--scenarios"] * args.scenarios)],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            print(proc.stderr[-2000:])
            raise SystemExit(proc.returncode)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        slow = sorted(r["timings_s"].items(), key=lambda kv: -kv[1])[:3]
        print(
            f"{n:>10,} {r['rows'].get('opportunities', 0):>10,} {r['rows'].get('activities', 0):>11,} "
            f"{r['rows'].get('opportunity_history', 0):>10,} "
            f"{r['calculations_s']:>8.2f} {r['peak_rss_mib']:>9,.0f}  "
            + ", ".join(f"{k} {v:.2f}s" for k, v in slow)
            + (f"; scenario step {r['scenarios_s']:.1f}s" if r["scenarios_s"] is not None else "")
        )


if __name__ == "__main__":
    main()
