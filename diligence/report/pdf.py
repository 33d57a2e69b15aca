"""``report.pdf``: the HTML report printed by a headless Chromium.

The print stylesheet of the report (``templates/report/static/report.css``)
does the layout: the cover on its own page, one section per page, tables and
charts kept whole where they fit, and a footer with the company and the page
number (CSS ``@page`` margin boxes, which Chromium prints). This module only
finds a Chromium and asks it to print; nothing is fetched from another host
(the report is self-contained).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from diligence.errors import DiligenceError
from diligence.processes import die_with_parent

#: Where to look, in order: an explicit path, then the usual names on PATH.
CHROMIUM_ENV = "DILIGENCE_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT_S = 300
HOW_TO_GET_IT = "install Chromium (Debian/Ubuntu: apt-get install chromium) or set DILIGENCE_CHROMIUM to a Chromium or Chrome binary"


class PdfError(DiligenceError):
    """Chromium was found but could not print the report."""


def find_chromium() -> str | None:
    """The Chromium to print with: ``$DILIGENCE_CHROMIUM`` when set, else the first
    of :data:`CHROMIUM_NAMES` on PATH; None when there is none."""
    given = os.environ.get(CHROMIUM_ENV, "").strip()
    if given:
        return given if Path(given).is_file() and os.access(given, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html: Path, pdf: Path, chromium: str, *, timeout: float = PRINT_TIMEOUT_S) -> Path:
    """Print ``html`` (a self-contained report) to ``pdf`` with ``chromium``.

    Chromium's own header and footer are off (the report's ``@page`` rules
    draw its footer). A throwaway profile folder keeps the user's own profile
    untouched. Raises :class:`PdfError` when Chromium fails or times out.
    """
    html, pdf = Path(html).resolve(), Path(pdf).resolve()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        cmd = [
            chromium,
            "--headless=new",
            "--no-sandbox",  # runs as root in containers; the page is our own local file
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, check=False, preexec_fn=die_with_parent()
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not print the report within {timeout:g} s.") from None
        except OSError as exc:
            raise PdfError(f"Chromium could not be started ({exc}).") from None
    if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise PdfError(f"Chromium could not print the report (exit {proc.returncode}): {' '.join(tail)}")
    return pdf
