"""Fuzz the intake at length: thousands of mutated companies (tests/fuzzing.py), and
optionally whole runs on some of them.

    .venv/bin/python benchmarks/fuzz.py [--cases 3000] [--runs 0] [--seed 0]

Prints how many cases ended in data (exit 0), in a clean refusal (exit 2) and
anything else (a defect, with the seed that replays it). ``make test`` runs 300
such cases and two whole runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=0, help="whole runs on the first cases that read")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from diligence.synth import DEMO_AS_OF, make_company, write_company
    from tests.fuzzing import mutate, read_case

    counts = {"ok": 0, "refused": 0, "defect": 0}
    runs = {0: 0, 2: 0, "other": 0}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clean = write_company(make_company(n_accounts=150, seed=4), root / "clean")
        for seed in range(args.seed, args.seed + args.cases):
            case = root / "case"
            done = mutate(clean, case, seed)
            try:
                outcome = read_case(case, DEMO_AS_OF)
            except Exception as exc:
                counts["defect"] += 1
                print(f"defect: seed {seed} ({'; '.join(done)}): {type(exc).__name__}: {exc}")
                traceback.print_exc(limit=3)
                continue
            counts[outcome] += 1
            if outcome == "ok" and sum(runs.values()) < args.runs:
                result = subprocess.run(
                    [sys.executable, "-m", "diligence", "run", str(case), "--company", "Fuzz", "--as-of", DEMO_AS_OF,
                     "--out", str(root / f"out{seed}"), "--formats", "html"],
                    capture_output=True, text=True, cwd=ROOT,
                )  # fmt: skip
                key = result.returncode if result.returncode in (0, 2) else "other"
                runs[key] += 1
                if key == "other" or "Traceback" in result.stderr:
                    print(
                        f"run defect: seed {seed} ({'; '.join(done)}): exit {result.returncode}\n{result.stderr[-1500:]}"
                    )
    seconds = time.perf_counter() - started
    print(
        f"{args.cases} cases in {seconds:.0f} s: {counts['ok']} read (exit 0), {counts['refused']} refused (exit 2), "
        f"{counts['defect']} defects"
    )
    if args.runs:
        print(f"whole runs: {runs[0]} exit 0, {runs[2]} exit 2, {runs['other']} other")
    return 1 if counts["defect"] or runs["other"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
