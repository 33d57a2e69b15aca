"""findings.json (SPEC §7): the machine-readable result of one company's run.

Built from the steps' recorded results, never recomputed. Deterministic: keys
in a fixed order, floats rounded to 10 significant digits so that the last bits
of floating-point sums never change the file.
"""

from __future__ import annotations

from typing import Any

import diligence
from diligence.contract import METRIC_NAMES
from diligence.execution.results import StepResult, to_jsonable

SCHEMA_VERSION = 2


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def collect_metrics(steps: list[StepResult]) -> dict[str, Any]:
    """Every metric the steps recorded: SPEC names first (``null`` when no step
    could compute one), then extra metrics in alphabetical order."""
    found: dict[str, Any] = {}
    for step in steps:
        found.update(step.metrics)
    ordered = {name: found.get(name) for name in METRIC_NAMES}
    ordered.update({k: found[k] for k in sorted(found) if k not in ordered})
    return ordered


def collect_flags(steps: list[StepResult]) -> list[dict[str, Any]]:
    """The flags recorded by the last step that recorded any (the summary)."""
    flags: list[dict[str, Any]] = []
    for step in steps:
        if step.flags:
            flags = step.flags
    keys = ("id", "name", "status", "value", "threshold", "detail")
    return [{k: f.get(k) for k in keys} for f in flags]


def collect_extra(steps: list[StepResult], key: str) -> Any:
    """The value a step recorded under ``key`` in its extras (the last one wins), else None."""
    found = None
    for step in steps:
        if key in step.extra:
            found = step.extra[key]
    return found


def build_findings(
    company: str,
    as_of: str,
    steps: list[StepResult],
    data_quality: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the SPEC §7 findings document.

    ``previous`` is the comparison with an earlier run (``--previous``): ``as_of``,
    ``metrics`` (name → ``previous``, ``current``, ``change``) and ``flags`` (id →
    ``previous``, ``current``), written last under ``previous``; without an earlier
    run the key is left out, so such findings are what they always were.
    """
    document = {
        "schema_version": SCHEMA_VERSION,
        "kit_version": diligence.__version__,
        "company": company,
        "as_of": as_of,
        "metrics": collect_metrics(steps),
        "flags": collect_flags(steps),
        "data_quality": data_quality,
        "potential_basis": collect_extra(steps, "potential_basis"),
        "potential_model": collect_extra(steps, "potential_model"),
        # the scenario step's curve and named plans: {"curve": [...], "plans": [...]}
        "scenarios": collect_extra(steps, "scenarios"),
    }
    if previous is not None:
        document["previous"] = previous
    return _round(to_jsonable(document))
