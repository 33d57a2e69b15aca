"""Portfolio trends: `diligence batch --previous` over two quarters, and the roll-up's trend pieces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diligence.errors import InputError
from diligence.execution.batch.rollup import company_trend, load_previous_rollup, trend_point, write_rollup
from diligence.report.portfolio import sparkline
from tests.conftest import run_cli

Q1, Q2 = "2026-09-30", "2026-12-30"


def _point(as_of: str, unassigned: float, raised: tuple[str, ...] = ()) -> dict:
    return {
        "as_of": as_of,
        "metrics": {"unassigned_pct": unassigned},
        "flags": {fid: "triggered" if fid in raised else "clear" for fid in ("RF1", "W1")},
    }


def test_company_trend_keeps_earlier_runs_in_order_and_ends_with_this_one():
    findings = {
        "as_of": Q2,
        "metrics": {"unassigned_pct": 0.2, "extra": 1},
        "flags": [{"id": "RF1", "status": "clear"}],
    }
    earlier = [_point("2026-06-30", 0.4), _point(Q1, 0.3), _point(Q2, 0.9)]  # a run of the same date is replaced
    trend = company_trend(earlier, findings)
    assert [p["as_of"] for p in trend] == ["2026-06-30", Q1, Q2]
    assert (
        trend[-1]
        == trend_point(findings)
        == {"as_of": Q2, "metrics": {"unassigned_pct": 0.2}, "flags": {"RF1": "clear"}}
    )
    assert company_trend([], findings) == [trend_point(findings)]
    assert company_trend(earlier[:1], None) == earlier[:1]  # failed this run: the earlier runs stay


def test_a_missing_or_broken_previous_batch_is_an_input_error_naming_it(tmp_path):
    for folder, says in (
        (tmp_path / "missing", "no such folder"),
        (tmp_path, "holds no portfolio.json"),
    ):
        with pytest.raises(InputError, match=says) as info:
            load_previous_rollup(folder)
        assert str(folder) in str(info.value)
    (tmp_path / "portfolio.json").write_text('{"companies": 3}')
    with pytest.raises(InputError, match="cannot be read"):
        load_previous_rollup(tmp_path)


def test_sparkline_scales_into_its_box():
    line = sparkline([0.4, None, 0.2])
    assert line["dots"] == [(3.0, 3.0), (93.0, 23.0)]  # highest at the top, lowest at the bottom
    assert line["points"] == "3.0,3.0 93.0,23.0"
    assert sparkline([None, None]) == {"points": "", "dots": []}
    assert sparkline([0.5])["dots"] == [(48.0, 13.0)]


def test_trends_are_written_escaped_and_only_with_a_previous_batch(tmp_path):
    earlier = tmp_path / "q1"
    company = earlier / "evil"
    company.mkdir(parents=True)
    old = {"as_of": Q1, "metrics": {"unassigned_pct": 0.4}, "flags": [{"id": "RF1", "status": "triggered"}]}
    (company / "findings.json").write_text(json.dumps(old))
    (earlier / "portfolio.json").write_text(json.dumps({"schema_version": 1, "companies": [{"slug": "evil"}]}))
    now = tmp_path / "q2"
    (now / "evil").mkdir(parents=True)
    new = {"as_of": Q2, "metrics": {"unassigned_pct": 0.3}, "flags": [{"id": "RF1", "status": "clear"}]}
    (now / "evil" / "findings.json").write_text(json.dumps(new))
    entry = {
        "company": "<script>alert(1)</script> =HYPERLINK(1)",
        "slug": "evil",
        "status": "ok",
        "error": None,
        "flags": {"RF1": "clear"},
        "metrics": new["metrics"],
    }
    dirs = {"evil": now / "evil"}
    write_rollup(now, [entry], {"evil": Q2}, company_dirs=dirs, deck=True, previous=load_previous_rollup(earlier))
    doc = json.loads((now / "portfolio.json").read_text())
    assert [p["as_of"] for p in doc["companies"][0]["trend"]] == [Q1, Q2]
    from pptx import Presentation

    slides = list(Presentation(str(now / "portfolio.pptx")).slides)
    trend = next(s for s in slides if s.shapes.title.text_frame.text.startswith("How each company moved"))
    assert trend.shapes.title.text_frame.text == f"How each company moved since {Q1}"
    grid = next(sh for sh in trend.shapes if sh.has_table).table
    assert grid.cell(1, 0).text.startswith("<script>alert(1)</script> =HYP")  # the name as text, never markup
    assert grid.cell(1, 1).text == "40.0% → 30.0%"  # unassigned % fell: the right way
    assert grid.cell(1, len(grid.columns) - 1).text == "1/0 → 0/0"
    html = (now / "portfolio.html").read_text()
    assert 'id="trends"' in html and "<svg" in html and "<polyline" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    from openpyxl import load_workbook

    ws = load_workbook(now / "portfolio.xlsx")["Trends"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)
    assert len(ws._charts) == 6  # a line per trend metric
    titles = [c.value for c in ws["A"] if isinstance(c.value, str)]
    assert "Unassigned % by run" in titles
    row = titles and next(c.row for c in ws["A"] if c.value == "Unassigned % by run")
    assert [ws.cell(row + 2, 1).value, ws.cell(row + 2, 2).value] == [Q1, 0.4]
    assert ws.cell(row + 3, 2).value == 0.3 and ws.cell(row + 3, 2).number_format == "0.0%"
    write_rollup(tmp_path / "alone", [entry], {"evil": Q2}, company_dirs=dirs, deck=False)
    assert "trend" not in json.loads((tmp_path / "alone" / "portfolio.json").read_text())["companies"][0]
    assert 'id="trends"' not in (tmp_path / "alone" / "portfolio.html").read_text()


# --- two quarters of a portfolio, end to end ---------------------------------------------


def _portfolio(path: Path, as_of: str, companies: dict[str, Path]) -> Path:
    lines = [f"defaults:\n  as_of: {as_of}\n", "companies:\n"]
    lines += [f"  - name: {name}\n    data: {data}\n" for name, data in companies.items()]
    path.write_text("".join(lines))
    return path


@pytest.fixture(scope="module")
def two_batches(tmp_path_factory):
    """Quarter 1: Alpha and Beta; quarter 2: both a quarter later, and Gamma, new."""
    from diligence.intake import load_company
    from diligence.synth import later_quarter, make_company, write_company

    root = tmp_path_factory.mktemp("trends")
    q1 = {}
    for name, seed in (("Alpha", 3), ("Beta", 4)):
        q1[name] = write_company(make_company(n_accounts=200, seed=seed), root / "q1" / name.lower())
    first = run_cli("batch", _portfolio(root / "q1.yaml", Q1, q1), "--out", root / "out1", "--formats", "html,xlsx")
    q2 = {
        name: write_company(later_quarter(load_company(data, as_of=Q1).tables, Q1), root / "q2" / name.lower())
        for name, data in q1.items()
    }
    q2["Gamma"] = write_company(make_company(n_accounts=200, seed=5, as_of=Q2), root / "q2" / "gamma")
    second = run_cli(
        "batch", _portfolio(root / "q2.yaml", Q2, q2), "--out", root / "out2",
        "--formats", "html,xlsx", "--previous", root / "out1",
    )  # fmt: skip
    return first, second, root


def test_batch_with_previous_writes_trends_for_every_company(two_batches):
    first, second, root = two_batches
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    doc = json.loads((root / "out2" / "portfolio.json").read_text())
    trends = {c["slug"]: c["trend"] for c in doc["companies"]}
    assert set(trends) == {"alpha", "beta", "gamma"}
    assert [p["as_of"] for p in trends["alpha"]] == [Q1, Q2] == [p["as_of"] for p in trends["beta"]]
    assert [p["as_of"] for p in trends["gamma"]] == [Q2]  # new: its one run, no error
    for slug in ("alpha", "beta"):
        earlier = json.loads((root / "out1" / slug / "findings.json").read_text())
        now = json.loads((root / "out2" / slug / "findings.json").read_text())
        assert trends[slug][0]["metrics"]["unassigned_pct"] == earlier["metrics"]["unassigned_pct"]
        assert trends[slug][1]["metrics"]["unassigned_pct"] == now["metrics"]["unassigned_pct"]
        assert now["previous"]["as_of"] == Q1
    assert "previous" not in json.loads((root / "out2" / "gamma" / "findings.json").read_text())
    html = (root / "out2" / "portfolio.html").read_text()
    assert html.count("<svg") >= 3 * 6 and "New</span>" in html
    assert "trend" not in json.loads((root / "out1" / "portfolio.json").read_text())["companies"][0]


def test_batch_with_a_missing_previous_folder_exits_2(tmp_path):
    from diligence.synth import make_company, write_company

    data = write_company(make_company(n_accounts=100, seed=1), tmp_path / "alpha")
    missing = tmp_path / "no-such-batch"
    result = run_cli(
        "batch", _portfolio(tmp_path / "p.yaml", Q1, {"Alpha": data}), "--out", tmp_path / "out", "--previous", missing
    )
    assert result.returncode == 2, result.stderr
    assert str(missing) in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
