"""Shared fixtures: a small synthetic company and one real end-to-end run of it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Notebooks run with their defaults (nbval) build the demo company here, not in a shared cache.
os.environ.setdefault("DILIGENCE_CACHE", tempfile.mkdtemp(prefix="diligence-test-cache-"))
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the real ``diligence`` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "diligence", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def params() -> dict:
    """The default parameters at the hand-built frames' as-of date (tests.helpers.T)."""
    from diligence.params import resolve_params
    from tests.helpers import T

    return resolve_params({"as_of": T})


@pytest.fixture(scope="session")
def small_company(tmp_path_factory) -> Path:
    """A 400-account synthetic company written as SPEC-named CSVs."""
    from diligence.synth import make_company, write_company

    return write_company(make_company(n_accounts=400, seed=11), tmp_path_factory.mktemp("small") / "data")


@pytest.fixture(scope="session")
def small_run(small_company, tmp_path_factory):
    """One real ``diligence run`` of the small company: (process result, output folder)."""
    from diligence.synth import DEMO_AS_OF

    out = tmp_path_factory.mktemp("run") / "Small Co"
    result = run_cli("run", small_company, "--company", "Small Co", "--as-of", DEMO_AS_OF, "--out", out)
    return result, out
