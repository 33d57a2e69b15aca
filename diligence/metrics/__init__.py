"""The metric modules, one per concern; each has ``metrics(tables, params) -> dict``.

:data:`METRIC_MODULES` lists them in report order, for the callers that want
every metric at once (:func:`all_metrics`: benchmarks, tests on synthetic
companies); a run records them step by step instead.
"""

from __future__ import annotations

import importlib
from typing import Any

METRIC_MODULES: tuple[str, ...] = (
    "coverage",
    "balance",
    "pipeline",
    "pipeline_quality",
    "productivity",
    "channels",
    "governance",
    "capacity",
    "merger",
)


def all_metrics(tables: dict, params: dict) -> dict[str, Any]:
    """Every metric module's ``metrics`` merged, in :data:`METRIC_MODULES` order."""
    out: dict[str, Any] = {}
    for name in METRIC_MODULES:
        out.update(importlib.import_module(f"diligence.metrics.{name}").metrics(tables, params))
    return out
