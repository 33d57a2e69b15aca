"""Time the modelled potential at scale: fit on the year before last, validate on the last
year (AUC, lift, 200 bootstrap rounds, calibration), refit and score every account.

    .venv/bin/python benchmarks/bench_potential.py [--accounts 1000000]

The company is the synthetic generator's (``diligence.synth``), so wins follow its
segments; the timing, not the AUC, is what this measures. Prints the seconds of
each phase and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--min-auc",
        type=float,
        default=0.5,
        help="0.5 (the default here) makes the model validate, so the refit and scoring are timed too",
    )
    args = parser.parse_args()

    from diligence.metrics.potential_model import model_potential
    from diligence.synth import DEMO_AS_OF, make_company

    started = time.perf_counter()
    tables = make_company(n_accounts=args.accounts, seed=args.seed)
    made = time.perf_counter()
    model = model_potential(
        tables["accounts"], tables["opportunities"], tables["activities"], DEMO_AS_OF, min_auc=args.min_auc
    )
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"accounts            {args.accounts:,}")
    print(f"generate (not timed) {made - started:6.1f} s")
    print(f"fit + validate + score {done - made:6.1f} s   (train {model.n_train:,}, test {model.n_test:,})")
    print(f"holdout AUC {model.auc}, lift {model.top_decile_lift}, used {model.used}: {model.reason}")
    print(f"peak memory         {peak:6.2f} GiB")


if __name__ == "__main__":
    main()
