"""report.pptx and portfolio.pptx, read back with python-pptx (and printed by LibreOffice)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Emu

from diligence.execution.results import load_results
from diligence.registry import FLAGS, spec
from diligence.report.deck import FLAG_EVIDENCE, fit, write_deck
from diligence.report.narrative import key_findings
from diligence.report.portfolio_deck import write_portfolio_deck

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _has_impress() -> bool:
    """LibreOffice prints a deck only with its Impress module."""
    if not SOFFICE:
        return False
    program = Path(SOFFICE).resolve().parent
    return any(program.glob("libsdlo*")) or any(program.parent.glob("program/libsdlo*"))


needs_impress = pytest.mark.skipif(
    not _has_impress(), reason="LibreOffice Impress is not installed (apt-get install libreoffice-impress-nogui)"
)


def texts(prs: Presentation) -> list[str]:
    """Every text a reader can see or edit: shapes, table cells, chart labels, notes."""
    out = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if shape.has_table:
                out += [c.text for row in shape.table.rows for c in row.cells]
            if shape.has_chart:
                out += [str(c) for c in shape.chart.plots[0].categories]
        if slide.has_notes_slide:
            out.append(slide.notes_slide.notes_text_frame.text)
    return out


def check_frame(prs: Presentation) -> None:
    """Every slide titled, no placeholder empty, no shape past the slide's edges."""
    width, height = prs.slide_width, prs.slide_height
    assert abs(width / height - 16 / 9) < 0.01
    for n, slide in enumerate(prs.slides, start=1):
        assert slide.shapes.title is not None and slide.shapes.title.text_frame.text.strip(), f"slide {n}: no title"
        for ph in slide.placeholders:
            assert ph.has_text_frame and ph.text_frame.text.strip(), f"slide {n}: empty placeholder {ph.name}"
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, f"slide {n}: {shape.name} starts off the slide"
            assert shape.left + shape.width <= width, f"slide {n}: {shape.name} runs past the right edge"
            assert shape.top + shape.height <= height, f"slide {n}: {shape.name} runs past the bottom"


def expected_flag_slides(flags: list[dict]) -> list[str]:
    """Every triggered red flag, and the triggered warnings the key findings name."""
    named = key_findings(flags)
    triggered = [f["id"] for f in flags if f["status"] == "triggered"]
    return [i for i in triggered if spec(i).is_red or any(k.startswith(spec(i).headline + ".") for k in named)]


@pytest.fixture(scope="module")
def deck(small_run):
    result, out = small_run
    assert result.returncode == 0, result.stderr
    return Presentation(str(out / "report.pptx")), json.loads((out / "findings.json").read_text()), out


def test_run_writes_a_deck_whose_slides_follow_the_flags(deck):
    prs, findings, _ = deck
    check_frame(prs)
    titles = [s.shapes.title.text_frame.text for s in prs.slides]
    flag_slides = expected_flag_slides(findings["flags"])
    assert flag_slides, "the small company raises flags"
    # title, summary, scorecard, one per flag, scenarios, data received, two definition slides
    assert len(prs.slides) == 3 + len(flag_slides) + 1 + 1 + 2, titles
    assert titles[0] == "Small Co"
    for fid, title in zip(flag_slides, titles[3:]):
        assert title.startswith(spec(fid).headline), (fid, title)
    raised = sum(f["status"] == "triggered" for f in findings["flags"] if spec(f["id"]).is_red)
    assert titles[1].startswith(f"{raised} of 6 red flags")
    assert titles[-2:] == ["Appendix: red flags, when each is raised", "Appendix: warnings, when each is raised"]


def test_flag_slides_hold_a_native_chart_or_table_evidence_and_an_action(deck):
    prs, findings, _ = deck
    flag_slides = expected_flag_slides(findings["flags"])
    for fid, slide in zip(flag_slides, list(prs.slides)[3:]):
        shapes = list(slide.shapes)
        if FLAG_EVIDENCE[fid].chart is not None:
            assert any(s.has_chart for s in shapes), f"{fid}: no native chart"
        text = "\n".join(s.text_frame.text for s in shapes if s.has_text_frame)
        assert "Evidence" in text and "What to do" in text and spec(fid).action[:40] in text, fid
        assert sum(ch.isdigit() for ch in text) >= 3, f"{fid}: evidence without numbers"
        notes = slide.notes_slide.notes_text_frame.text
        assert "Raised when" in notes, fid


def test_scorecard_is_a_native_table_of_every_flag(deck):
    prs, findings, _ = deck
    table = next(s for s in prs.slides[2].shapes if s.has_table).table
    ids = [table.cell(i, 0).text for i in range(1, len(table.rows))]
    assert ids == [f.id for f in FLAGS]
    status = {table.cell(i, 0).text: table.cell(i, 2).text for i in range(1, len(table.rows))}
    assert status == {
        f["id"]: {"triggered": "Triggered", "clear": "Clear", "not_assessed": "Not assessed"}[f["status"]]
        for f in findings["flags"]
    }


def test_same_results_give_the_same_deck_bytes(deck, tmp_path):
    _, findings, out = deck
    steps = load_results(out / "work")
    a = write_deck(findings, steps, tmp_path / "a.pptx")
    b = write_deck(findings, steps, tmp_path / "b.pptx")
    assert a.read_bytes() == b.read_bytes()


def test_long_and_hostile_strings_stay_text_and_inside_the_slide(tmp_path):
    name = '=HYPERLINK("http://x","y") <script>alert(1)</script> ' + "Very Long Company Name " * 30
    flags = [
        {"id": s.id, "name": s.name, "status": "triggered", "value": None, "threshold": s.threshold,
         "detail": "<b>" + "x" * 900 + "\x07</b>"}
        for s in FLAGS
    ]  # fmt: skip
    findings = {"company": name, "as_of": "2026-06-30", "metrics": {}, "flags": flags, "data_quality": {}}
    path = write_deck(findings, [], tmp_path / "report.pptx", prepared_by="<i>me</i>")
    prs = Presentation(str(path))
    check_frame(prs)
    seen = "\n".join(texts(prs))
    assert "<script>alert(1)</script>" in seen and '=HYPERLINK("http://x"' in seen
    assert "\x07" not in seen
    assert prs.slides[0].shapes.title.text_frame.text.endswith("…")


def test_fit_cuts_with_an_ellipsis_to_the_room_of_the_box():
    assert fit("short", Emu(914400), 12) == "short"
    cut = fit("word " * 100, Emu(914400), 12)
    assert cut.endswith("…") and len(cut) < 20


def test_hostile_names_reach_the_deck_as_literal_text(tmp_path):
    from tests.test_hostile_names import COMPANY

    findings = {"company": COMPANY, "as_of": "2026-06-30", "metrics": {}, "flags": [], "data_quality": {}}
    prs = Presentation(str(write_deck(findings, [], tmp_path / "d.pptx")))
    assert prs.slides[0].shapes.title.text_frame.text == COMPANY


@needs_impress
def test_libreoffice_prints_one_page_per_slide(deck, tmp_path):
    from pypdf import PdfReader

    prs, _, out = deck
    copy = tmp_path / "report.pptx"
    shutil.copy(out / "report.pptx", copy)
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(copy)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    pdf = PdfReader(str(tmp_path / "report.pdf"))
    assert len(pdf.pages) == len(prs.slides)
    assert "Small Co" in pdf.pages[0].extract_text()


def test_portfolio_deck_heatmap_metrics_and_a_slide_per_company(tmp_path, deck):
    _, findings, _ = deck
    entries = [
        {"company": "Small Co", "slug": "small-co", "status": "ok", "error": None, "as_of": findings["as_of"],
         "flags": {f["id"]: f["status"] for f in findings["flags"]}, "metrics": findings["metrics"]},
        {"company": "<b>Broken</b> =1+1", "slug": "broken", "status": "failed", "as_of": None,
         "error": "accounts.csv: duplicate account_id A1", "flags": {}, "metrics": {}},
    ]  # fmt: skip
    path = write_portfolio_deck(entries, tmp_path / "portfolio.pptx", title="Q3", findings={"small-co": findings})
    prs = Presentation(str(path))
    check_frame(prs)
    titles = [s.shapes.title.text_frame.text for s in prs.slides]
    assert titles[0] == "Q3"
    heat = next(s for s in prs.slides[1].shapes if s.has_table).table
    assert [heat.cell(0, j).text for j in range(1, len(heat.columns))] == [f.id for f in FLAGS]
    assert heat.cell(2, 0).text == "<b>Broken</b> =1+1" and heat.cell(2, 1).text == "Run failed: no flags"
    assert titles[2].startswith("Key metrics side by side")
    assert titles[-2].startswith("Small Co: ") and titles[-1] == "<b>Broken</b> =1+1: the run failed"
    company = "\n".join(s.text_frame.text for s in prs.slides[-2].shapes if s.has_text_frame)
    top = [f for f in findings["flags"] if f["status"] == "triggered"]
    assert any(spec(f["id"]).headline in company for f in top)
