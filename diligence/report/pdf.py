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
import time
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


class PdfPrint:
    """A print of the report under way (:func:`start_print`): Chromium runs in
    its own process while the caller writes the other deliverables;
    :meth:`wait` finishes it. As a context manager, leaving the block stops
    a print not finished (:meth:`cancel`)."""

    def __init__(self, cmd: list[str], pdf: Path, profile: tempfile.TemporaryDirectory, timeout: float) -> None:
        self._pdf, self._profile, self._timeout = pdf, profile, timeout
        self._started = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                preexec_fn=die_with_parent(),
            )
        except OSError as exc:
            profile.cleanup()
            raise PdfError(f"Chromium could not be started ({exc}).") from None

    def wait(self) -> Path:
        """The printed PDF, once Chromium is done (within the timeout counted
        from the start). Raises :class:`PdfError` when it fails or times out."""
        try:
            left = max(self._timeout - (time.monotonic() - self._started), 0.0)
            try:
                _out, err = self._proc.communicate(timeout=left)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.communicate()
                raise PdfError(f"Chromium did not print the report within {self._timeout:g} s.") from None
        finally:
            self._profile.cleanup()
        pdf = self._pdf
        if self._proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
            tail = (err or "").strip().splitlines()[-3:]
            raise PdfError(f"Chromium could not print the report (exit {self._proc.returncode}): {' '.join(tail)}")
        return pdf

    def cancel(self) -> None:
        """Stop the print (the run failed meanwhile) and remove its profile."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.communicate()
        self._profile.cleanup()

    def __enter__(self) -> PdfPrint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()  # a print not waited for (the run failed meanwhile) is stopped


def start_print(html: Path, pdf: Path, chromium: str, *, timeout: float = PRINT_TIMEOUT_S) -> PdfPrint:
    """Start printing ``html`` (a self-contained report) to ``pdf`` with
    ``chromium`` and return at once (:class:`PdfPrint`; its ``wait`` ends it).

    Chromium's own header and footer are off (the report's ``@page`` rules
    draw its footer). A throwaway profile folder keeps the user's own profile
    untouched.
    """
    html, pdf = Path(html).resolve(), Path(pdf).resolve()
    profile = tempfile.TemporaryDirectory(prefix="chromium-")
    cmd = [
        chromium,
        "--headless=new",
        "--no-sandbox",  # runs as root in containers; the page is our own local file
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={profile.name}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.as_uri(),
    ]
    return PdfPrint(cmd, pdf, profile, timeout)


def print_pdf(html: Path, pdf: Path, chromium: str, *, timeout: float = PRINT_TIMEOUT_S) -> Path:
    """Print ``html`` to ``pdf`` with ``chromium`` and wait for it
    (:func:`start_print`). Raises :class:`PdfError` when Chromium fails or
    times out."""
    return start_print(html, pdf, chromium, timeout=timeout).wait()
