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


def load_tables(work_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read the validated tables back, in contract order; absent tables stay absent."""
    root = Path(work_dir) / TABLES_DIR
    return {name: pd.read_parquet(root / f"{name}.parquet") for name in TABLES if (root / f"{name}.parquet").exists()}


def write_json(data: Any, path: str | Path) -> None:
    """Write ``data`` as stable, human-readable JSON (UTF-8, trailing newline)."""
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
