"""The run's work folder: validated tables in parquet, parameters, data quality.

Intake parses the client's files once; every later step reads these parquet
files, so no notebook parses a CSV or a workbook again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from diligence.contract import TABLES

TABLES_DIR = "tables"
PARAMS_FILE = "params.json"
DATA_QUALITY_FILE = "data_quality.json"


def save_tables(tables: dict[str, pd.DataFrame], work_dir: str | Path) -> None:
    """Write each contract table to ``work_dir/tables/<table>.parquet``."""
    out = Path(work_dir) / TABLES_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.reset_index(drop=True).to_parquet(out / f"{name}.parquet", index=False)


#: The tables last read in this process, by their files' identity: a warm kernel
#: serves several steps of one run, and reads its tables once.
_LAST_READ: dict[tuple, dict[str, pd.DataFrame]] = {}


def load_tables(work_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read the validated tables back, in contract order; absent tables stay absent.

    The files are read once per process while they stay the same (path, size,
    modification time); each call gets shallow copies, which pandas'
    copy-on-write keeps apart, so what one step does to its frames never
    reaches the next step's.
    """
    root = (Path(work_dir) / TABLES_DIR).resolve()
    files = {name: root / f"{name}.parquet" for name in TABLES if (root / f"{name}.parquet").exists()}
    stamp = tuple((name, str(path), path.stat().st_size, path.stat().st_mtime_ns) for name, path in files.items())
    tables = _LAST_READ.get(stamp)
    if tables is None:
        _LAST_READ.clear()
        tables = _LAST_READ[stamp] = {name: pd.read_parquet(path) for name, path in files.items()}
    return {name: frame.copy(deep=False) for name, frame in tables.items()}


def write_json(data: Any, path: str | Path) -> None:
    """Write ``data`` as stable, human-readable JSON (UTF-8, trailing newline)."""
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
