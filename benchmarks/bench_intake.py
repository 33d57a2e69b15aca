"""Intake speed on what data rooms hold: a large accounts workbook against the same table as CSV.

    .venv/bin/python benchmarks/bench_intake.py [--accounts 300000] [--formats xlsx csv zip]

Writes a synthetic company's two required tables, accounts (``--accounts``
rows) and reps (as CSV), once per format of the accounts table, and times
``diligence validate`` on each in a fresh process (reading, mapping, typing and
every check), with its peak memory. ``zip`` is the CSV folder as one archive.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _write_xlsx(frame, path: Path) -> None:
    """A workbook as Excel writes it: real numbers and dates, one sheet (xlsxwriter, streamed)."""
    import pandas as pd
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Accounts")
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, list(frame.columns))
    for r, values in enumerate(frame.itertuples(index=False), start=1):
        for c, v in enumerate(values):
            if v is None or pd.isna(v):
                continue
            if hasattr(v, "to_pydatetime"):
                ws.write_datetime(r, c, v.to_pydatetime(), date_format)
            else:
                ws.write(r, c, v)
    wb.close()


def make(n_accounts: int, fmt: str, root: Path) -> Path:
    from diligence.synth import make_company, write_company

    tables = make_company(n_accounts=n_accounts, seed=7)
    folder = write_company({"reps": tables["reps"]}, root / fmt)
    if fmt == "xlsx":
        _write_xlsx(tables["accounts"], folder / "accounts.xlsx")
    else:
        write_company({"accounts": tables["accounts"]}, folder)
    if fmt == "zip":
        archive = root / "company.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.iterdir()):
                zf.write(p, p.name)
        shutil.rmtree(folder)
        return archive
    return folder


_CHILD = (
    "import resource, sys\n"
    "from diligence.cli import main\n"
    "code = main(['validate', sys.argv[1], '--as-of', '2026-09-30'])\n"
    "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def time_validate(data: Path) -> tuple[float, float, int]:
    """Seconds and peak MiB of ``diligence validate DATA`` in a fresh process, and its exit code."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(data)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("peak ")]
    if proc.returncode not in (0, 2) or not peak:
        print(proc.stderr[-2000:])
    return seconds, int(peak[-1]) / 1024 if peak else float("nan"), proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=300_000)
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx", "zip"], choices=["csv", "xlsx", "zip"])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(f"{'accounts table':<16} {'rows':>9} {'write s':>8} {'validate s':>11} {'peak MiB':>9} {'exit':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            start = time.perf_counter()
            data = make(args.accounts, fmt, Path(tmp))
            written = time.perf_counter() - start
            seconds, peak, code = time_validate(data)
            print(f"{fmt:<16} {args.accounts:>9,} {written:>8.1f} {seconds:>11.1f} {peak:>9,.0f} {code:>5}")


if __name__ == "__main__":
    main()
