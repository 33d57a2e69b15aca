"""Where a run may write: the output-folder contract.

The kit writes only into a folder that is absent, empty, or an earlier report
of its own (it carries :data:`MARKER`, or, from versions before the marker,
``findings.json`` with ``work/params.json``). Anything else — a file, the
client's data folder, a folder of someone's work — is refused before any work
is done, because publishing a report replaces ``notebooks/`` and ``work/`` in
it whole. ``force`` writes into such a folder anyway, still replacing only the
kit's own outputs.

A run builds its outputs in a hidden folder beside ``--out`` and swaps it in
whole (:func:`publish`): killed at any moment, ``--out`` holds the previous
report or the new one, never a mix. One killed (SIGKILL) leaves its hidden
folder behind, and the next run into the same ``--out`` clears it
(:func:`clear_leftovers`).
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from diligence.errors import InputError

MARKER = ".diligence-report.json"
#: Hidden folders a run makes beside ``--out`` (see diligence.execution.run).
LEFTOVER_PATTERNS = (".{name}.build-*", ".{name}.old-*")


def is_report(folder: Path) -> bool:
    """True when ``folder`` holds an earlier report of the kit."""
    return (folder / MARKER).is_file() or (
        (folder / "findings.json").is_file() and (folder / "work" / "params.json").is_file()
    )


def check_out(out: str | Path, *, force: bool = False, option: str = "--out") -> Path:
    """Return ``out`` resolved, or raise InputError when the kit may not write there."""
    out = Path(out).expanduser()
    if out.is_symlink() and not out.exists():
        raise InputError(f"{option} {out}: a link to nothing; name a folder.")
    if out.exists() and not out.is_dir():
        raise InputError(f"{option} {out}: is a file, not a folder; name a new or empty folder for the report.")
    if out.is_dir() and not force:
        entries = sorted(p.name for p in out.iterdir())
        if entries and not is_report(out):
            shown = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
            raise InputError(
                f"{option} {out}: the folder holds files the kit did not write ({shown}). A report replaces "
                "report.*, findings.json, notebooks/ and work/ in its folder: name a new or empty folder, "
                "or add --force to write into this one anyway."
            )
    return out.resolve()


def check_portfolio_out(out: str | Path) -> Path:
    """Return a batch's ``--out`` resolved, or raise InputError: it must be absent,
    empty, or an earlier batch's folder (it holds ``portfolio.json``, or a company's
    report when that batch was interrupted), since the
    roll-up replaces the portfolio files and each company's folder in it."""
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file, not a folder; name a new or empty folder for the portfolio.")
    if out.is_dir():
        entries = sorted(p.name for p in out.iterdir())
        earlier = (out / "portfolio.json").is_file() or any(is_report(p) for p in out.iterdir() if p.is_dir())
        if entries and not earlier:
            shown = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
            raise InputError(
                f"--out {out}: the folder holds files no earlier batch wrote ({shown}); a batch writes a folder "
                "per company and the portfolio files into it: name a new or empty folder."
            )
    return out.resolve()


def clear_leftovers(out: Path) -> None:
    """Remove the hidden build folders an interrupted run left beside ``out``."""
    for pattern in LEFTOVER_PATTERNS:
        for leftover in out.parent.glob(pattern.format(name=out.name)):
            shutil.rmtree(leftover, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2``); False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def publish(build: Path, out: Path, names: Iterable[str]) -> None:
    """Put the finished outputs of ``build`` in ``out``, replacing the old ones whole.

    ``names`` are the kit's outputs. When ``out`` holds nothing else, the two
    folders are swapped in one step, so ``out`` is always one complete report;
    when it holds other files too (``--force``, or files a user added), each
    output is moved in turn and the other files are kept. ``build`` is gone after.
    """
    names = tuple(names)
    if not out.exists():
        build.rename(out)
        return
    if all(p.name in names for p in out.iterdir()) and _exchange(build, out):
        shutil.rmtree(build, ignore_errors=True)  # now the previous report
        return
    trash = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    trash.mkdir()
    try:
        for name in names:
            if (out / name).exists():
                (out / name).rename(trash / name)
        for name in names:
            if (build / name).exists():
                (build / name).rename(out / name)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(build, ignore_errors=True)


def marker(company: str, as_of: Any, version: str) -> str:
    """The marker's content: which kit wrote the folder, for whom and as of when."""
    return (
        json.dumps(
            {"written_by": "coverage diligence kit", "version": version, "company": company, "as_of": as_of}, indent=2
        )
        + "\n"
    )
