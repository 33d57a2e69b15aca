"""Time a whole run against the floor of papermill itself, side by side.

The kit: ``diligence run`` on a synthetic company (the demo company by default),
wall time and the peak memory of its process tree (the run and its kernels).
The floor: the same step notebooks with every code cell but the parameters cell
emptied, executed as a run executes them (a kernel per step, the same
parameters), in a fresh process too. The ratio is what the speed issue judges
(the demo: at most 2x the floor).

    .venv/bin/python benchmarks/bench_run.py [--accounts 3000] [--formats html,xlsx,pptx,pdf] [--repeat 1]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_FLOOR = """
import sys, tempfile
from pathlib import Path
from diligence.execution.run import execute_step
build = Path(sys.argv[1])
(build / "work").mkdir(parents=True, exist_ok=True)
for source in sorted(Path(sys.argv[2]).glob("*.ipynb")):
    execute_step(source, build / source.name, {"work_dir": "work", "company": "Bench Co"}, cwd=build,
                 log_path=build / "kernel.log", scratch_dir=Path(tempfile.mkdtemp()))
"""


def emptied_notebooks(target: Path) -> Path:
    """The step notebooks with every code cell but the parameters cell emptied."""
    import nbformat

    from diligence.execution.run import step_notebooks

    target.mkdir(parents=True, exist_ok=True)
    for source in step_notebooks():
        nb = nbformat.read(source, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                cell.source = ""
        nbformat.write(nb, target / source.name)
    return target


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, summed over the process tree) of ``cmd``."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root, peak = psutil.Process(proc.pid), 0.0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed: {proc.stderr.read()[-2000:]}")
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=None, help="default: the demo company")
    parser.add_argument("--formats", default=None, help="the run's --formats (default: all)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    from diligence.synth import DEMO_AS_OF, make_company, write_company

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tables = make_company() if args.accounts is None else make_company(n_accounts=args.accounts)
        data = write_company(tables, root / "data")
        n = len(tables["accounts"])
        empty = emptied_notebooks(root / "empty")
        n_steps = len(list(empty.glob("*.ipynb")))
        rows = []
        for i in range(args.repeat):
            run = [sys.executable, "-m", "diligence", "run", str(data), "--company", "Bench Co",
                   "--as-of", DEMO_AS_OF, "--out", str(root / f"out{i}")]  # fmt: skip
            if args.formats:
                run += ["--formats", args.formats]
            kit = timed(run)
            floor = timed([sys.executable, "-c", _FLOOR, str(root / f"floor{i}"), str(empty)])
            rows.append((kit, floor))
    print(f"{n:,} accounts, {n_steps} steps, formats {args.formats or 'all'}")
    print(f"{'':>6} {'kit s':>8} {'floor s':>8} {'ratio':>6} {'kit MiB':>8} {'floor MiB':>9}")
    for i, ((ks, km), (fs, fm)) in enumerate(rows, 1):
        print(f"{i:>6} {ks:>8.1f} {fs:>8.1f} {ks / fs:>6.2f} {km:>8.0f} {fm:>9.0f}")


if __name__ == "__main__":
    main()
