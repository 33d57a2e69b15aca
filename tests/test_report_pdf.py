"""report.pdf: the HTML report printed by the real headless Chromium, and --formats."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from diligence.errors import InputError
from diligence.execution.outputs import FORMATS, parse_formats
from diligence.report.pdf import find_chromium
from tests.conftest import run_cli

CHROMIUM = find_chromium()
if not CHROMIUM and os.environ.get("CI"):
    pytest.fail("chromium is required in CI (make test installs it)", pytrace=False)
needs_chromium = pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed")


@needs_chromium
def test_pdf_has_the_cover_page_numbers_and_every_section(small_run):
    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    result, out = small_run
    assert result.returncode == 0, result.stderr
    reader = PdfReader(out / "report.pdf")
    pages = [p.extract_text() or "" for p in reader.pages]
    n = len(pages)
    assert n > 10
    assert "Small Co" in pages[0] and "Coverage model assessment" in pages[0]
    assert "Page" not in pages[0], "no footer on the cover"
    assert f"Page 2 of {n}" in pages[1] and "Small Co · Coverage diligence" in pages[1]
    assert f"Page {n} of {n}" in pages[-1]
    soup = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    titles = [h.get_text(" ", strip=True) for h in soup.select("section.dk-section h2, .dk-section > h1")]
    text = " ".join(" ".join(p.split()) for p in pages)
    assert titles, "the report has sections"
    for title in titles:
        assert " ".join(title.split()) in text, title


def test_formats_choose_the_deliverables_and_a_missing_chromium_is_said_once(small_company, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "diligence", "run", str(small_company), "--company", "Small Co",
         "--as-of", "2026-09-30", "--out", str(out), "--formats", "xlsx,pdf"],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "DILIGENCE_CHROMIUM": "/nonexistent/chromium"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (out / "report.xlsx").is_file() and (out / "findings.json").is_file()
    assert not (out / "report.html").exists() and not (out / "report.pdf").exists()
    assert result.stderr.count("report.pdf was skipped") == 1 and "apt-get install chromium" in result.stderr


def test_parse_formats():
    assert parse_formats(None) == FORMATS == parse_formats("all")
    assert parse_formats("PDF, html json") == ("html", "pdf")
    assert parse_formats(["xlsx"]) == ("xlsx",)
    with pytest.raises(InputError, match=r"unknown format.*docx"):
        parse_formats("html,docx")
    with pytest.raises(InputError, match="name at least one"):
        parse_formats("json")


def test_unknown_format_is_exit_2_before_any_work(tmp_path: Path):
    result = run_cli("run", tmp_path, "--company", "X", "--out", tmp_path / "o", "--formats", "pptx2")
    assert result.returncode == 2 and "unknown format" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


@needs_chromium
def test_a_print_started_then_given_up_leaves_no_chromium_and_no_profile(tmp_path: Path):
    import psutil

    from diligence.report.pdf import PdfError, start_print

    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Print me</h1></body></html>", encoding="utf-8")
    # a print waited for gives its PDF, as print_pdf does
    done = start_print(page, tmp_path / "page.pdf", CHROMIUM)
    assert done.wait().stat().st_size > 0
    # the run failing while Chromium prints: the print is stopped and cleaned up
    given_up = start_print(page, tmp_path / "other.pdf", CHROMIUM)
    profile = Path(given_up._profile.name)
    assert profile.is_dir()
    given_up.cancel()
    assert given_up._proc.poll() is not None
    assert not profile.exists()
    assert not psutil.pid_exists(given_up._proc.pid) or psutil.Process(given_up._proc.pid).status() == "zombie"
    # a Chromium that cannot print is an error the run turns into a note
    with pytest.raises(PdfError):
        start_print(tmp_path / "missing" / "page.html", tmp_path / "x.pdf", sys.executable).wait()
