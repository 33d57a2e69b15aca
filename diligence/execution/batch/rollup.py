"""The batch's roll-up: portfolio.json, portfolio.html, portfolio.xlsx (SPEC §7) and portfolio.pptx.

When every task is back, each company's ``findings.json`` is read into one
entry, and the entries are written side by side, failed companies included
with their error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diligence.contract import METRIC_NAMES
from diligence.errors import InputError
from diligence.execution.batch.atomic import write_json_atomic

ROLLUP_JSON, ROLLUP_HTML, ROLLUP_XLSX = "portfolio.json", "portfolio.html", "portfolio.xlsx"
ROLLUP_PPTX = "portfolio.pptx"


def rollup_entry(job: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    """One company of portfolio.json, from its task result and its findings.json.

    A skipped company counts as ok (its findings are current). An ok company
    whose findings.json cannot be read is failed. Keys, in order: ``company``,
    ``slug``, ``status``, ``error`` (None when ok), ``flags`` (id → status, in the
    findings' order; empty when failed), ``metrics`` (empty when failed).
    """
    entry = {
        "company": job["company"],
        "slug": job["slug"],
        "status": "failed",
        "error": result.get("error"),
        "flags": {},
        "metrics": {},
    }
    if result.get("status") not in ("ok", "skipped"):
        entry["error"] = entry["error"] or "failed without a message"
        return entry
    try:
        findings = json.loads((Path(job["out"]) / "findings.json").read_text(encoding="utf-8"))
        flags = {str(f["id"]): f["status"] for f in findings.get("flags") or []}
        metrics = dict(findings.get("metrics") or {})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        entry["error"] = f"findings.json could not be read: {type(exc).__name__}: {exc}"
        return entry
    return {**entry, "status": "ok", "error": None, "flags": flags, "metrics": metrics}


def trend_point(findings: Mapping[str, Any]) -> dict[str, Any]:
    """One run of a company in its trend: ``as_of``, its SPEC metrics and its flags (id → status)."""
    metrics = findings.get("metrics") or {}
    return {
        "as_of": str(findings.get("as_of")),
        "metrics": {m: metrics.get(m) for m in METRIC_NAMES if m in metrics},
        "flags": {str(f["id"]): f["status"] for f in findings.get("flags") or []},
    }


@dataclass
class PreviousRollup:
    """An earlier batch's output folder (``--previous``): its roll-up entries by slug."""

    folder: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def company_folder(self, slug: str) -> Path | None:
        """The company's report folder there, or None when it has none (a new company)."""
        folder = self.folder / slug
        return folder if (folder / "findings.json").is_file() else None

    def trend(self, slug: str) -> list[dict[str, Any]]:
        """The company's runs up to that batch, oldest first: the trend its roll-up
        carried, else its report there alone; empty for a new company."""
        entry = self.entries.get(slug) or {}
        if isinstance(entry.get("trend"), list):
            return [p for p in entry["trend"] if isinstance(p, dict) and p.get("as_of")]
        folder = self.company_folder(slug)
        if folder is None:
            return []
        try:
            return [trend_point(json.loads((folder / "findings.json").read_text(encoding="utf-8")))]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return []  # the company's own run says so: its --previous is the same folder


def load_previous_rollup(folder: str | Path) -> PreviousRollup:
    """Read an earlier batch's output folder; a missing or broken one is an InputError naming it (exit 2)."""
    path = Path(folder)
    where = f"--previous {path}"
    if not path.is_dir():
        raise InputError(f"{where}: no such folder; give the output folder of an earlier batch.")
    rollup = path / ROLLUP_JSON
    if not rollup.is_file():
        raise InputError(f"{where}: holds no {ROLLUP_JSON}; give the output folder of an earlier batch.")
    try:
        data = json.loads(rollup.read_text(encoding="utf-8"))
        companies = data["companies"]
        entries = {str(c["slug"]): dict(c) for c in companies}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{where}: its {ROLLUP_JSON} cannot be read ({type(exc).__name__}: {exc}).") from None
    return PreviousRollup(folder=path, entries=entries)


def company_trend(earlier: Sequence[Mapping[str, Any]], findings: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A company's runs, oldest first: the earlier points dated before this run, then this run
    (when it has findings). Points of the same date keep the latest."""
    now = trend_point(findings) if findings else None
    points = {str(p["as_of"]): dict(p) for p in earlier if now is None or str(p["as_of"]) < now["as_of"]}
    if now is not None:
        points[now["as_of"]] = now
    return [points[d] for d in sorted(points)]


def write_rollup(
    out: str | Path,
    entries: Sequence[Mapping[str, Any]],
    as_of: Mapping[str, str],
    *,
    title: str = "Portfolio",
    company_dirs: Mapping[str, str | Path] | None = None,
    deck: bool = True,
    previous: PreviousRollup | None = None,
) -> dict[str, Path]:
    """Write portfolio.json, portfolio.html, portfolio.xlsx and (``deck``) portfolio.pptx into ``out``.

    ``entries`` are :func:`rollup_entry` dicts in portfolio-file order (kept);
    ``as_of`` maps slug → as-of date, shown in the HTML and the workbook;
    ``company_dirs`` maps slug → the company's output folder, whose findings.json
    gives the deck each company's top findings. With ``previous`` (an earlier
    batch), each entry gains ``trend``: its runs across the batches found
    (:func:`company_trend`), shown in portfolio.html and portfolio.xlsx. Each file
    is written aside and renamed into place.
    """
    from diligence.report.portfolio import render_portfolio_html, write_portfolio_workbook
    from diligence.report.portfolio_deck import write_portfolio_deck

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    findings = _company_findings(entries, company_dirs or {})
    if previous is not None:
        entries = [
            {**e, "trend": company_trend(previous.trend(str(e["slug"])), findings.get(str(e["slug"])))} for e in entries
        ]
    shown = [{**e, "as_of": as_of.get(str(e["slug"]))} for e in entries]
    paths = {"json": out / ROLLUP_JSON, "html": out / ROLLUP_HTML, "xlsx": out / ROLLUP_XLSX}
    write_json_atomic({"schema_version": 1, "companies": [dict(e) for e in entries]}, paths["json"])
    writers: list[tuple[str, Any]] = [("html", render_portfolio_html), ("xlsx", write_portfolio_workbook)]
    if deck:
        paths["pptx"] = out / ROLLUP_PPTX
        writers.append(("pptx", lambda c, path, title: write_portfolio_deck(c, path, title=title, findings=findings)))
    for key, write in writers:
        tmp = paths[key].with_name(f".{paths[key].stem}.tmp-{os.getpid()}{paths[key].suffix}")
        try:
            write(shown, tmp, title=title)
            os.replace(tmp, paths[key])
        finally:
            tmp.unlink(missing_ok=True)
    return paths


def _company_findings(
    entries: Sequence[Mapping[str, Any]], company_dirs: Mapping[str, str | Path]
) -> dict[str, dict[str, Any]]:
    """slug → findings.json of each company with a report (one that cannot be read is left out)."""
    found = {}
    for e in entries:
        folder = company_dirs.get(str(e["slug"]))
        if e.get("status") != "ok" or folder is None:
            continue
        try:
            found[str(e["slug"])] = json.loads((Path(folder) / "findings.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return found


def portfolio_title(path: str | Path) -> str:
    """A title from the portfolio file's name: ``q3_portfolio.yaml`` → "Q3 portfolio"."""
    words = " ".join(Path(path).stem.replace("_", " ").replace("-", " ").split())
    return (words[:1].upper() + words[1:]) if words else "Portfolio"
