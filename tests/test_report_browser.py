"""report.html as a reader opens it: real headless Chromium, every network request blocked."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and os.environ.get("CI"):
    pytest.fail("chromium is required in CI (make test installs it)", pytrace=False)
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed")

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def opened_report(small_run, tmp_path_factory):
    """Open the small company's report; collect requests, failures and console errors."""
    from playwright.sync_api import sync_playwright

    result, out = small_run
    assert result.returncode == 0, result.stderr
    report = out / "report.html"
    seen = {"requests": [], "blocked": [], "failed": [], "console": [], "page_errors": []}
    shot = tmp_path_factory.mktemp("shots") / "report.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(r):
            url = r.request.url
            if url.startswith(("file:", "data:")):
                r.continue_()
            else:
                seen["blocked"].append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("request", lambda r: seen["requests"].append(r.url))
        page.on("requestfailed", lambda r: seen["failed"].append(r.url))
        page.on("console", lambda m: m.type == "error" and seen["console"].append(m.text))
        page.on("pageerror", lambda e: seen["page_errors"].append(str(e)))
        page.goto(report.as_uri(), wait_until="load")
        facts = page.evaluate(
            """() => ({
                title: document.title,
                cover: document.querySelector('.dk-cover-company')?.textContent,
                scorecardRows: document.querySelectorAll('.dk-scorecard tbody tr, table.dk-flags tbody tr').length,
                headings: Array.from(document.querySelectorAll('h1')).map(h => h.textContent.trim()),
                images: Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0, src: i.src.slice(0, 30)})),
                codeCells: document.querySelectorAll('.jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt, .jp-CodeMirrorEditor, div.highlight').length,
                scripts: Array.from(document.scripts).map(s => s.src).filter(Boolean),
            })"""
        )
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    return seen, facts, shot


def test_no_request_leaves_the_file(opened_report):
    seen, facts, _ = opened_report
    assert seen["blocked"] == [], "the report asked another host for something"
    assert seen["failed"] == []
    assert all(u.startswith(("file:", "data:")) for u in seen["requests"])
    assert facts["scripts"] == []


def test_no_console_or_page_error(opened_report):
    seen, _, _ = opened_report
    assert seen["console"] == [] and seen["page_errors"] == []


def test_cover_scorecard_and_every_section_present(opened_report):
    _, facts, _ = opened_report
    assert facts["cover"].strip() == "Small Co"
    assert facts["scorecardRows"] >= 14
    for section in (
        "Data received and its quality",
        "Market coverage and white space",
        "Capacity and balance of territories",
        "Pipeline coverage and win rates",
        "Channels and overlaps",
        "Territory governance",
        "Headcount, capacity and seniority",
        "Post-merger overlap",
        "Red-flag summary",
    ):
        assert any(section in h for h in facts["headings"]), section
    assert facts["codeCells"] == 0
    assert facts["images"] and all(i["ok"] for i in facts["images"]), "every chart is embedded and decodes"


def test_screenshot_is_produced(opened_report):
    _, _, shot = opened_report
    assert shot.stat().st_size > 50_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
