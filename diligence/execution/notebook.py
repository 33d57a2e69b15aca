"""What a step notebook needs: its run's tables and parameters, and a way to record results.

A notebook's ``parameters`` cell names the run's work folder, the company, and
whatever a person wants to change for that notebook (``as_of``, ``params``).
``open_run`` reads the run's validated parameters from ``work/params.json``
(written by the run, so every parameter reaches every notebook the same way),
applies the cell's overrides, validated again, and loads the tables. With
``work_dir = None`` it uses the bundled demo company, so every notebook runs
top to bottom in JupyterLab as it is.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from diligence.execution import potential, store
from diligence.execution.results import StepResult, record_step
from diligence.params import Params

DEMO_COMPANY = "Demo Company"
WARNINGS_FILE = "warnings.log"


@dataclass
class Run:
    """One company's run as a notebook sees it."""

    work_dir: Path
    company: str
    params: Params
    tables: dict[str, pd.DataFrame]

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.params["as_of"])

    def data_quality(self) -> dict[str, Any]:
        """The intake's data-quality summary for this run (empty for the demo cache)."""
        path = self.work_dir / store.DATA_QUALITY_FILE
        return store.read_json(path) if path.exists() else {}

    def metrics(self, before: str) -> dict[str, Any]:
        """Every metric recorded by the steps that come before the step named
        ``before`` (``"12_summary"``): what it reads is the same whether the
        steps after it, run beside it, have recorded yet or not."""
        from diligence.execution.findings import collect_metrics
        from diligence.execution.results import load_results

        earlier = [r for r in load_results(self.work_dir, with_tables=False) if r.step < before]
        return collect_metrics(earlier)

    def record(self, step: str, title: str, **results: Any) -> None:
        """Record this step's metrics, flags, findings and tables for the report,
        with the parameters the step ran with."""
        record_step(self.work_dir, StepResult(step=step, title=title, params=self.params.as_dict(), **results))


def log_warnings(work_dir: Path) -> None:
    """Send Python warnings raised in this kernel to ``work_dir/warnings.log``.

    The report shows findings, not library chatter, so warnings must not reach
    a cell's output; they are kept in the run's work folder for whoever audits
    the run instead of being switched off.
    """
    log = Path(work_dir) / WARNINGS_FILE

    def show(message, category, filename, lineno, file=None, line=None):
        with open(log, "a", encoding="utf-8") as f:
            f.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


def demo_work_dir() -> Path:
    """A work folder holding the demo company's tables, built once per machine."""
    from diligence.synth import DEMO_AS_OF, make_company

    root = Path(os.environ.get("DILIGENCE_CACHE", Path(tempfile.gettempdir()) / "diligence-demo"))
    work = root / f"demo-{DEMO_AS_OF}"
    if not (work / store.DATA_QUALITY_FILE).exists() or not (work / potential.POTENTIAL_FILE).exists():
        from diligence.intake import load_company
        from diligence.synth import write_company

        work.mkdir(parents=True, exist_ok=True)
        # Through the real intake, so the notebooks show what a client run shows.
        data = write_company(make_company(), work / "data")
        intake = load_company(data, as_of=DEMO_AS_OF)
        store.save_tables(potential.prepare(intake.tables, Params.resolve({"as_of": DEMO_AS_OF}), work), work)
        store.write_json(intake.data_quality(), work / store.DATA_QUALITY_FILE)
    return work


def open_run(
    work_dir: str | Path | None,
    company: str | None = None,
    *,
    as_of: str | None = None,
    params: dict[str, Any] | None = None,
) -> Run:
    """Load a run for a notebook.

    Parameters
    ----------
    work_dir
        The run's work folder (``tables/*.parquet``, ``params.json``,
        ``data_quality.json``), or ``None`` for the bundled demo company.
    company
        The company's name, shown in headings.
    as_of, params
        Overrides from the notebook's ``parameters`` cell, on top of the run's
        parameters (SPEC §6 names; validated exactly as ``--params`` is, so an
        unknown name is an error).
    """
    overrides = {**(params or {}), **({"as_of": as_of} if as_of else {})}
    if work_dir is None:
        from diligence.synth import DEMO_AS_OF

        work_dir = demo_work_dir()
        company = company or DEMO_COMPANY
        base = Params.resolve({"as_of": DEMO_AS_OF})
    else:
        base = Params.load(Path(work_dir) / store.PARAMS_FILE)
    log_warnings(Path(work_dir))
    return Run(
        work_dir=Path(work_dir),
        company=company or "",
        params=base.replace(overrides, source="notebook parameters") if overrides else base,
        tables=store.load_tables(work_dir),
    )
