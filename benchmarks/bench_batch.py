"""Time a portfolio batch: 8 demo-size companies with 1 local worker, then with 2.

The companies are generated first (not timed), each with its own seed, and
written as CSV folders with a portfolio file. Each batch runs into a fresh
output folder with ``--force``, so nothing is skipped, through the real
command line (``python -m diligence batch``).

    .venv/bin/python benchmarks/bench_batch.py [--companies 8] [--accounts 3000] [--workers 1 2]

Prints the wall time of each batch and the speed-up over the first. On a
2-core machine, 2 workers should take clearly less than 1: the companies are
independent, so the speed-up is bounded by the cores and by the kernels' own
start-up time, not by the batch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_portfolio(root: Path, n_companies: int, n_accounts: int) -> Path:
    """Write ``n_companies`` synthetic companies and their portfolio file under ``root``."""
    sys.path.insert(0, str(ROOT))
    from diligence.synth import DEMO_AS_OF, make_company, write_company

    lines = [f"defaults:\n  as_of: {DEMO_AS_OF}\ncompanies:"]
    for k in range(n_companies):
        write_company(make_company(n_accounts=n_accounts, seed=100 + k), root / f"company_{k + 1:02d}")
        lines.append(f"  - name: Company {k + 1:02d}\n    data: company_{k + 1:02d}/")
    path = root / "portfolio.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def time_batch(portfolio: Path, out: Path, workers: int) -> tuple[float, dict]:
    """Run the batch once; return its wall time and the statuses of portfolio.json."""
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "diligence",
            "batch",
            str(portfolio),
            "--out",
            str(out),
            "--workers",
            str(workers),
            "--force",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"batch failed (exit {result.returncode}):\n{result.stderr}")
    doc = json.loads((out / "portfolio.json").read_text(encoding="utf-8"))
    statuses = {c["status"] for c in doc["companies"]}
    return seconds, {"ok": sum(c["status"] == "ok" for c in doc["companies"]), "statuses": sorted(statuses)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=8)
    parser.add_argument("--accounts", type=int, default=3000, help="accounts per company (the demo's size)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        portfolio = make_portfolio(root, args.companies, args.accounts)
        timings = {}
        for n in args.workers:
            seconds, summary = time_batch(portfolio, root / f"out_{n}", n)
            timings[n] = seconds
            print(
                f"{args.companies} companies x {args.accounts:,} accounts, {n} worker(s): "
                f"{seconds:7.1f} s  ({seconds / args.companies:.1f} s per company; {summary['ok']} ok)",
                flush=True,
            )
        base = timings[args.workers[0]]
        for n in args.workers[1:]:
            print(f"speed-up {args.workers[0]} -> {n} worker(s): {base / timings[n]:.2f}x")


if __name__ == "__main__":
    main()
