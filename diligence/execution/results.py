"""Step results: what each notebook records for the summary, the workbook and findings.json.

A step writes ``results/<step>.json`` (metrics, flags, narrative findings and
the titles of its tables) and one parquet file per table under
``results/<step>/``. The run reads them back to build ``findings.json`` and the
Excel workbook, so nothing is computed twice and nothing travels through the
kernel's memory.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RESULTS_DIR = "results"


@dataclass
class StepResult:
    """One diagnostic step's recorded results."""

    step: str
    title: str
    metrics: dict[str, Any] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON values.

    NaN, NA and infinities become ``None``; timestamps become ISO dates.
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if not math.isfinite(value) else value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value


def _table_file(index: int, title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:40] or "table"
    return f"{index:02d}_{slug}.parquet"


def record_step(work_dir: str | Path, result: StepResult) -> Path:
    """Write ``result`` under ``work_dir/results`` and return its JSON path."""
    root = Path(work_dir) / RESULTS_DIR
    table_dir = root / result.step
    table_dir.mkdir(parents=True, exist_ok=True)
    for old in table_dir.glob("*.parquet"):
        old.unlink()
    table_index = []
    for i, (title, frame) in enumerate(result.tables.items()):
        name = _table_file(i, title)
        frame.reset_index(drop=True).to_parquet(table_dir / name, index=False)
        table_index.append({"title": title, "file": name})
    payload = {
        "step": result.step,
        "title": result.title,
        "metrics": to_jsonable(result.metrics),
        "flags": to_jsonable(result.flags),
        "findings": list(result.findings),
        "tables": table_index,
        "extra": to_jsonable(result.extra),
        "params": to_jsonable(result.params),
    }
    path = root / f"{result.step}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def load_results(work_dir: str | Path, *, with_tables: bool = True) -> list[StepResult]:
    """Read every recorded step under ``work_dir/results``, ordered by step id."""
    root = Path(work_dir) / RESULTS_DIR
    steps = []
    for path in sorted(root.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        tables = {}
        if with_tables:
            tables = {t["title"]: pd.read_parquet(root / data["step"] / t["file"]) for t in data.get("tables", [])}
        steps.append(
            StepResult(
                step=data["step"],
                title=data["title"],
                metrics=data.get("metrics", {}),
                flags=data.get("flags", []),
                findings=data.get("findings", []),
                tables=tables,
                extra=data.get("extra", {}),
                params=data.get("params", {}),
            )
        )
    return steps
