"""`diligence batch`: fan-out, fault isolation, skipping, roll-up (SPEC §7).

The first half needs no notebook run: the task's skip logic, timeout and crash
handling (with a stand-in child program), and the roll-up from hand-written
findings. The second half runs real portfolios through the command line, with
local worker processes and with a real Dask LocalCluster.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from diligence.execution.batch import (
    FINGERPRINT_FILE,
    input_fingerprint,
    kit_fingerprint,
    make_job,
    rollup_entry,
    run_batch,
    run_company_task,
    write_rollup,
)
from diligence.execution.batch import child as child_process
from diligence.execution.batch.portfolio_file import CompanySpec
from tests.conftest import run_cli

FLAG_IDS = ["RF1", "RF2", "RF3", "RF4", "RF5", "RF6", "W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "W10"]


def spec(tmp_path: Path, name: str = "Alpha Software", **kw) -> CompanySpec:
    data = tmp_path / "data" / name
    data.mkdir(parents=True, exist_ok=True)
    (data / "accounts.csv").write_text("account_id,account_name\nA1,One\n")
    return CompanySpec(
        name=name,
        slug=kw.pop("slug", "alpha-software"),
        data=str(data),
        as_of="2026-09-30",
        params=kw.pop("params", {"as_of": "2026-09-30"}),
        mapping=None,
    )


def complete_outputs(job: dict) -> Path:
    """Pretend a run succeeded: the three outputs and the fingerprint of its inputs."""
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    for name in ("report.html", "report.xlsx", "findings.json"):
        (out / name).write_text("{}")
    (out / FINGERPRINT_FILE).parent.mkdir(parents=True, exist_ok=True)
    (out / FINGERPRINT_FILE).write_text(json.dumps(input_fingerprint(job)))
    return out


@pytest.fixture
def child(monkeypatch):
    """Replace the child program that runs a company by a snippet of Python."""

    def use(code: str) -> None:
        monkeypatch.setattr(child_process, "_CHILD", code)

    return use


# --- the task: skip, timeout, crash ------------------------------------------------


def test_complete_and_unchanged_company_is_skipped(tmp_path, child):
    child("import sys; sys.exit(7)")  # would fail if it ran
    job = make_job(spec(tmp_path), tmp_path / "out")
    complete_outputs(job)
    result = run_company_task(job)
    assert result["status"] == "skipped" and result["error"] is None and result["exit_code"] == 0
    assert result["findings"] == str(Path(job["out"]) / "findings.json")


@pytest.mark.parametrize(
    "change",
    ["data bytes", "new data file", "params", "as_of", "company", "missing output", "force"],
)
def test_any_change_of_inputs_or_outputs_runs_again(tmp_path, child, change):
    child("import sys; print('ran'); sys.exit(7)")
    job = make_job(spec(tmp_path), tmp_path / "out")
    out = complete_outputs(job)
    data = Path(job["data"])
    if change == "data bytes":
        (data / "accounts.csv").write_text("account_id,account_name\nA1,Uno\n")
    elif change == "new data file":
        (data / "reps.csv").write_text("rep_id,rep_name\n")
    elif change == "params":
        job["params"] = {**job["params"], "active_window_days": 30}
    elif change == "as_of":
        job["as_of"] = "2026-10-31"
    elif change == "company":
        job["company"] = "Alpha Software GmbH"
    elif change == "missing output":
        (out / "report.xlsx").unlink()
    elif change == "force":
        job["force"] = True
    result = run_company_task(job)
    assert result["status"] == "failed"
    assert "ended with code 7" in result["error"] and "ran" in result["error"]


def test_hidden_files_in_the_data_folder_do_not_count(tmp_path, child):
    child("import sys; sys.exit(7)")
    job = make_job(spec(tmp_path), tmp_path / "out")
    complete_outputs(job)
    (Path(job["data"]) / ".DS_Store").write_bytes(b"\x00\x01")
    assert run_company_task(job)["status"] == "skipped"


def test_a_hung_company_is_stopped_with_its_children(tmp_path, child):
    psutil = pytest.importorskip("psutil")
    pid_file = tmp_path / "grandchild.pid"
    child(
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(120)\n"
    )
    job = make_job(spec(tmp_path), tmp_path / "out", timeout=3)
    leftover = Path(job["out"]).parent / ".alpha-software.build-1234abcd"
    leftover.mkdir(parents=True)
    started = time.perf_counter()
    result = run_company_task(job)
    assert time.perf_counter() - started < 30
    assert result["status"] == "failed" and result["exit_code"] == 1
    assert result["error"].startswith("timed out after 3 s")
    assert not leftover.exists(), "the killed run's build folder is removed"
    grandchild = int(pid_file.read_text())
    deadline = time.time() + 10
    while psutil.pid_exists(grandchild) and psutil.Process(grandchild).status() != psutil.STATUS_ZOMBIE:
        assert time.time() < deadline, "the run's own child processes (its kernels) are killed too"
        time.sleep(0.1)


def test_the_task_reports_the_childs_outcome(tmp_path, child):
    child(
        "import json, sys\n"
        "job = json.loads(sys.stdin.read())\n"
        "open(job['result'], 'w').write(json.dumps({'status': 'failed', 'exit_code': 2, 'error': 'duplicate account_id A1'}))\n"
    )
    result = run_company_task(make_job(spec(tmp_path), tmp_path / "out"))
    assert result["status"] == "failed" and result["exit_code"] == 2
    assert result["error"] == "duplicate account_id A1"
    assert result["findings"] is None


def test_the_task_never_raises(tmp_path):
    result = run_company_task({"company": "X", "slug": "x"})  # no out, no data
    assert result["status"] == "failed"
    assert "KeyError" in result["error"]


def test_real_child_reports_bad_data_as_input_error(tmp_path):
    """The real child program: a duplicate key is an InputError, exit code 2, and nothing is published."""
    job = make_job(spec(tmp_path), tmp_path / "out")
    data = Path(job["data"])
    (data / "accounts.csv").write_text("account_id,account_name\nA1,One\nA1,Two\n")
    (data / "reps.csv").write_text("rep_id,rep_name\nR1,Rep\n")
    result = run_company_task(job)
    assert result["status"] == "failed" and result["exit_code"] == 2
    assert "account_id" in result["error"] and "A1" in result["error"]
    assert not Path(job["out"]).exists()


def test_kit_fingerprint_follows_the_shipped_folders_wherever_they_are(tmp_path, monkeypatch):
    """The notebooks and templates are found through diligence.resources (a checkout or
    an installed package alike); caches and hidden files do not count, contents do,
    and the place the folders are in does not."""
    from diligence import resources

    shipped = tmp_path / "one"
    (shipped / "notebooks").mkdir(parents=True)
    (shipped / "templates" / "report").mkdir(parents=True)
    (shipped / "notebooks" / "01_data_intake.ipynb").write_text('{"cells": []}')
    (shipped / "templates" / "report" / "index.html.j2").write_text("<html>{{ body }}</html>")

    def use(root: Path) -> str:
        monkeypatch.setattr(resources, "notebooks_dir", lambda: root / "notebooks")
        monkeypatch.setattr(resources, "templates_dir", lambda: root / "templates")
        kit_fingerprint.cache_clear()
        return kit_fingerprint()

    try:
        first = use(shipped)
        (shipped / "notebooks" / ".ipynb_checkpoints").mkdir()
        (shipped / "notebooks" / ".ipynb_checkpoints" / "01_data_intake-checkpoint.ipynb").write_text("{}")
        (shipped / "templates" / "__pycache__").mkdir()
        (shipped / "templates" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00")
        (shipped / "templates" / "report" / ".index.html.j2.swp").write_bytes(b"\x01")
        assert use(shipped) == first, "caches and hidden files do not count"
        elsewhere = tmp_path / "two"
        shutil.copytree(shipped, elsewhere)
        assert use(elsewhere) == first, "the same files in another place: the same kit"
        (elsewhere / "templates" / "report" / "index.html.j2").write_text("<html>{{ body }}!</html>")
        assert use(elsewhere) != first, "a changed template is a changed kit"
    finally:
        kit_fingerprint.cache_clear()


def _runs_of(psutil, root) -> list:
    """The company runs (child interpreters) under ``root``, oldest first."""
    found = []
    for proc in root.children(recursive=True):
        try:
            if "child_main" in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.Error:
            pass
    return sorted(found, key=lambda p: p.create_time())


@pytest.mark.parametrize("where", ["local", "dask"])
def test_a_lost_worker_fails_its_company_alone(tmp_path, small_company, where):
    """The process running one company killed mid-run (locally the company's run
    itself; on a cluster the Dask worker that waits for it) fails that company
    alone: the other company gets its report, the lost one's kernels die with it,
    and its seconds count from when it was taken up, not from when the loss was
    noticed."""
    psutil = pytest.importorskip("psutil")
    from contextlib import ExitStack

    from diligence.synth import DEMO_AS_OF

    path = tmp_path / "lost.yaml"
    path.write_text(
        f"defaults:\n  as_of: {DEMO_AS_OF}\n  params: {{}}\ncompanies:\n"
        f"  - name: Lost Co\n    data: {small_company}\n  - name: Kept Co\n    data: {small_company}\n"
    )
    ran_for: list[float] = []
    orphans: list = []

    def kill_one(started: float) -> None:
        """Wait for the first company's run, let it work 3 s, then kill the process
        that runs it (the run; on a cluster the worker above it)."""
        deadline = time.monotonic() + 120
        while not (runs := _runs_of(psutil, psutil.Process())):
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)
        time.sleep(3)
        run = runs[0]
        try:
            kernels = run.children(recursive=True)
            victim = run if where == "local" else run.parent()
        except psutil.NoSuchProcess:
            return  # the run ended by itself within 3 s: nothing to test
        ran_for.append(time.perf_counter() - started)
        orphans.extend(kernels)
        if where == "dask":
            orphans.append(run)
        victim.kill()

    def on_start(jobs, slots) -> None:
        threading.Thread(target=kill_one, args=(time.perf_counter(),), daemon=True).start()

    with ExitStack() as stack:
        scheduler = None
        if where == "dask":
            distributed = pytest.importorskip("distributed")
            import dask

            stack.enter_context(dask.config.set({"distributed.scheduler.allowed-failures": 0}))  # no retry elsewhere
            cluster = stack.enter_context(
                distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
            )
            scheduler = cluster.scheduler_address
        result = run_batch(path, tmp_path / "out", workers=2, scheduler=scheduler, on_start=on_start, formats="html")
    assert ran_for, "the company's run never started, or ended within 3 s"
    lost, kept = sorted(result.results, key=lambda r: r["status"])
    assert kept["status"] == "ok", kept
    assert lost["status"] == "failed" and result.exit_code == 1, lost
    expected = "the run's process was killed (signal 9)" if where == "local" else "the worker was lost"
    assert lost["error"].startswith(expected), lost
    assert ran_for[0] - 1 <= lost["seconds"] <= result.seconds, (lost["seconds"], ran_for)
    time.sleep(2)
    alive = [p for p in orphans if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes of the lost run live on: {alive}"
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")) == []


# --- the roll-up ---------------------------------------------------------------------


def findings(company: str, statuses: dict[str, str], metrics: dict) -> dict:
    return {
        "schema_version": 1,
        "company": company,
        "as_of": "2026-09-30",
        "metrics": metrics,
        "flags": [
            {
                "id": fid,
                "name": fid.lower(),
                "status": statuses.get(fid, "clear"),
                "value": None,
                "threshold": None,
                "detail": "",
            }
            for fid in FLAG_IDS
        ],
        "data_quality": {},
    }


@pytest.fixture
def rolled_up(tmp_path):
    """A three-company roll-up written from hand-made findings: ok, skipped, failed."""
    out = tmp_path / "batch"
    names = ["Beta <b>Corp</b>", '=HYPERLINK("http://evil")', "Gamma & Sons"]
    specs = [spec(tmp_path, n, slug=s) for n, s in zip(names, ["beta-b-corp-b", "hyperlink-http-evil", "gamma-sons"])]
    jobs = [make_job(s, out) for s in specs]
    Path(jobs[0]["out"]).mkdir(parents=True)
    (Path(jobs[0]["out"]) / "findings.json").write_text(
        json.dumps(
            findings(
                names[0],
                {"RF1": "triggered", "W4": "triggered", "RF4": "not_assessed"},
                {
                    "accounts_total": 300,
                    "unassigned_pct": 0.25,
                    "months_since_rebalance": 19.1,
                    "attainment_max_min_ratio": None,
                },
            )
        )
    )
    Path(jobs[1]["out"]).mkdir(parents=True)
    (Path(jobs[1]["out"]) / "findings.json").write_text(
        json.dumps(
            findings(
                names[1],
                {},
                {
                    "accounts_total": 1200,
                    "unassigned_pct": 0.05,
                    "months_since_rebalance": 2.0,
                    "attainment_max_min_ratio": 1.4,
                },
            )
        )
    )
    results = [
        {"status": "ok", "error": None},
        {"status": "skipped", "error": None},
        {"status": "failed", "error": "The data has 1 error(s): accounts, column account_id: duplicate <key> A1"},
    ]
    entries = [rollup_entry(j, r) for j, r in zip(jobs, results)]
    paths = write_rollup(out, entries, {s.slug: s.as_of for s in specs}, title="Q3 portfolio")
    return out, names, paths


def test_portfolio_json_is_exactly_the_spec_shape(rolled_up):
    _out, names, paths = rolled_up
    doc = json.loads(paths["json"].read_text())
    assert list(doc) == ["schema_version", "companies"] and doc["schema_version"] == 1
    assert [c["company"] for c in doc["companies"]] == names, "portfolio-file order"
    for c in doc["companies"]:
        assert list(c) == ["company", "slug", "status", "error", "flags", "metrics"]
    beta, evil, gamma = doc["companies"]
    assert beta["status"] == "ok" and beta["error"] is None
    assert list(beta["flags"]) == FLAG_IDS
    assert (
        beta["flags"]["RF1"] == "triggered"
        and beta["flags"]["RF4"] == "not_assessed"
        and beta["flags"]["RF2"] == "clear"
    )
    assert beta["metrics"]["unassigned_pct"] == 0.25 and beta["metrics"]["attainment_max_min_ratio"] is None
    assert evil["status"] == "ok", "a skipped company counts as ok"
    assert gamma == {
        "company": "Gamma & Sons",
        "slug": "gamma-sons",
        "status": "failed",
        "error": "The data has 1 error(s): accounts, column account_id: duplicate <key> A1",
        "flags": {},
        "metrics": {},
    }


def test_roll_up_is_deterministic(rolled_up):
    out, _, paths = rolled_up
    first = {k: p.read_bytes() for k, p in paths.items() if k != "xlsx"}
    doc = json.loads(paths["json"].read_text())
    write_rollup(out, doc["companies"], {c["slug"]: "2026-09-30" for c in doc["companies"]}, title="Q3 portfolio")
    assert {k: p.read_bytes() for k, p in paths.items() if k != "xlsx"} == first


def test_an_ok_company_without_readable_findings_is_failed(tmp_path):
    job = make_job(spec(tmp_path), tmp_path / "out")
    entry = rollup_entry(job, {"status": "ok", "error": None})
    assert entry["status"] == "failed" and "findings.json could not be read" in entry["error"]


def test_portfolio_html_is_self_contained_escaped_and_linked(rolled_up):
    _out, _, paths = rolled_up
    html = paths["html"].read_text()
    assert "<b>Corp</b>" not in html and "Beta &lt;b&gt;Corp&lt;/b&gt;" in html
    assert "Gamma &amp; Sons" in html
    assert "duplicate &lt;key&gt; A1" in html, "the failed company's error is shown, escaped"
    assert 'href="beta-b-corp-b/report.html"' in html
    assert 'href="hyperlink-http-evil/report.html"' in html
    assert 'href="gamma-sons/report.html"' not in html, "no link to a report that failed"
    assert 'href="http' not in html and "src=" not in html and "<script" not in html and "@import" not in html
    # Heatmap cells coloured by tone: RF1 raised (red), W4 raised (amber), RF4 not assessed, the rest clear.
    assert html.count("dk-hm dk-hm-red") == 1 and html.count("dk-hm dk-hm-amber") == 1
    assert html.count("dk-hm dk-hm-grey") == 1 and html.count("dk-hm dk-hm-green") == 2 * len(FLAG_IDS) - 3
    assert "25.0%" in html and "19.1 months" in html and "1.4×" in html


def test_portfolio_workbook_sheets_fills_and_text(rolled_up):
    _, names, paths = rolled_up
    wb = load_workbook(paths["xlsx"])
    assert wb.sheetnames == ["Flags", "Metrics", "Companies"]
    flags = pd.DataFrame(wb["Flags"].iter_rows(min_row=5, max_row=7, values_only=True)).iloc[:, :16]
    assert flags.iloc[:, 0].tolist() == names
    assert flags.iloc[:, 1].tolist() == ["OK", "OK", "Failed"]
    assert flags.iloc[0, 2] == "Triggered" and flags.iloc[0, 5] == "Not assessed" and flags.iloc[1, 2] == "Clear"
    evil = wb["Flags"].cell(row=6, column=1)
    assert evil.data_type == "s" and evil.value.startswith("="), "client text is never a formula"
    rules = {(str(cf.sqref), r.formula[0]) for cf in wb["Flags"].conditional_formatting for r in cf.rules}
    assert ("C5", '"Triggered"') not in rules and ("C5:C7", '"Triggered"') in rules
    last = get_column_letter(2 + len(FLAG_IDS))
    assert (f"C5:{last}7", '"Clear"') in rules and ("B5:B7", '"Failed"') in rules
    red = next(r for cf in wb["Flags"].conditional_formatting if str(cf.sqref) == "C5:C7" for r in cf.rules)
    amber = next(r for cf in wb["Flags"].conditional_formatting if str(cf.sqref) == "I5:I7" for r in cf.rules)
    assert red.dxf.fill.bgColor.rgb.endswith("FFC7CE") and amber.dxf.fill.bgColor.rgb.endswith("FFEB9C")

    metrics = wb["Metrics"]
    header = [c.value for c in metrics[4]]
    assert header[:3] == ["Company", "Accounts total", "Unassigned %"]
    assert [metrics.cell(row=r, column=1).value for r in (5, 6)] == names[:2], "failed companies have no metrics row"
    assert metrics.cell(row=5, column=3).value == 0.25 and metrics.cell(row=5, column=3).number_format == "0.0%"

    companies = wb["Companies"]
    rows = list(companies.iter_rows(min_row=5, max_row=7, values_only=True))
    assert [r[2] for r in rows] == ["OK", "OK", "Failed"]
    assert rows[2][5].endswith("duplicate <key> A1") and rows[2][4] is None
    assert companies.cell(row=5, column=5).hyperlink.target == "beta-b-corp-b/report.html"


def test_roll_up_when_every_company_failed(tmp_path):
    jobs = [make_job(spec(tmp_path, n, slug=n.lower()), tmp_path / "out") for n in ("Alpha", "Beta")]
    entries = [rollup_entry(j, {"status": "failed", "error": f"{j['company']} broke"}) for j in jobs]
    paths = write_rollup(tmp_path / "out", entries, {}, title="Portfolio")
    wb = load_workbook(paths["xlsx"])
    assert [r[:3] for r in wb["Flags"].iter_rows(min_row=5, max_row=6, values_only=True)] == [
        ("Alpha", "Failed", "—"),
        ("Beta", "Failed", "—"),
    ]
    html = paths["html"].read_text()
    assert "Alpha broke" in html and "Beta broke" in html and "report.html" not in html


# --- real portfolios through the command line ---------------------------------------


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory, small_company) -> Path:
    """Two good companies and one with a duplicate account id. "Small Co" is the
    company that `diligence run` runs alone in the shared `small_run` fixture."""
    from diligence.synth import DEMO_AS_OF, make_company, write_company

    root = tmp_path_factory.mktemp("portfolio")
    write_company(make_company(n_accounts=300, seed=23), root / "beta")
    broken = write_company(make_company(n_accounts=300, seed=5), root / "broken")
    accounts = (broken / "accounts.csv").read_text().splitlines()
    (broken / "accounts.csv").write_text("\n".join([*accounts, accounts[1]]) + "\n")
    duplicate = accounts[1].split(",")[0]
    path = root / "q3_portfolio.yaml"
    path.write_text(
        f"defaults:\n  as_of: {DEMO_AS_OF}\n"
        "companies:\n"
        f"  - name: Small Co\n    data: {small_company}\n"
        "  - name: Beta Systems\n    data: beta/\n"
        "  - name: Broken Data Ltd\n    data: broken\n"
    )
    return path, duplicate


def run_batch_cli(portfolio_path: Path, out: Path, *extra: str):
    return run_cli("batch", portfolio_path, "--out", out, *extra, timeout=900)


SLUGS = ["small-co", "beta-systems", "broken-data-ltd"]


def check_statuses(out: Path, duplicate: str) -> dict:
    doc = json.loads((out / "portfolio.json").read_text())
    assert [(c["company"], c["slug"], c["status"]) for c in doc["companies"]] == [
        ("Small Co", "small-co", "ok"),
        ("Beta Systems", "beta-systems", "ok"),
        ("Broken Data Ltd", "broken-data-ltd", "failed"),
    ]
    broken = doc["companies"][2]
    assert "account_id" in broken["error"] and duplicate in broken["error"], broken["error"]
    assert broken["flags"] == {} and broken["metrics"] == {}
    for c in doc["companies"][:2]:
        assert c["error"] is None and list(c["flags"]) == FLAG_IDS
        assert c["metrics"]["accounts_total"] in (400, 300)
    return doc


@pytest.fixture(scope="module")
def local_batch(portfolio, tmp_path_factory):
    path, _ = portfolio
    out = tmp_path_factory.mktemp("local") / "batch"
    result = run_batch_cli(path, out, "--workers", "3")
    return result, out


def test_local_batch_statuses_and_outputs(local_batch, portfolio):
    result, out = local_batch
    assert result.returncode == 1, result.stderr  # one company failed
    assert "Traceback" not in result.stderr
    check_statuses(out, portfolio[1])
    for slug in SLUGS[:2]:
        for name in ("report.html", "report.xlsx", "findings.json"):
            assert (out / slug / name).is_file()
        assert (out / slug / FINGERPRINT_FILE).is_file()
    assert not (out / "broken-data-ltd").exists(), "bad data leaves no partial report"
    assert not list(out.glob(".*")), "no build folder left behind"
    for name in ("portfolio.json", "portfolio.html", "portfolio.xlsx", "portfolio.pptx"):
        assert (out / name).is_file()
    for slug in SLUGS[:2]:
        assert (out / slug / "report.pptx").is_file()
    from pptx import Presentation

    titles = [s.shapes.title.text_frame.text for s in Presentation(str(out / "portfolio.pptx")).slides]
    assert titles[-3].startswith("Small Co: ") and titles[-2].startswith("Beta Systems: ")
    assert titles[-1] == "Broken Data Ltd: the run failed"
    html = (out / "portfolio.html").read_text()
    assert 'href="small-co/report.html"' in html and "Broken Data Ltd" in html
    # One log line per company on stderr, with its status.
    for line in ("ok       Small Co", "ok       Beta Systems", "failed   Broken Data Ltd"):
        assert line in result.stderr, result.stderr


def test_batch_findings_are_those_of_a_run_alone(local_batch, small_run):
    run_result, alone = small_run
    assert run_result.returncode == 0, run_result.stderr
    _, out = local_batch
    assert (out / "small-co" / "findings.json").read_bytes() == (alone / "findings.json").read_bytes()


def test_dask_cluster_gives_the_same_results(local_batch, portfolio, tmp_path):
    distributed = pytest.importorskip("distributed")
    path, duplicate = portfolio
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        result = run_batch_cli(path, out, "--scheduler", cluster.scheduler_address)
    assert result.returncode == 1, result.stderr
    check_statuses(out, duplicate)
    _, local = local_batch
    for slug in SLUGS[:2]:
        assert (out / slug / "findings.json").read_bytes() == (local / slug / "findings.json").read_bytes()
    assert json.loads((out / "portfolio.json").read_text()) == json.loads((local / "portfolio.json").read_text())


def test_rerun_skips_complete_companies_and_force_reruns_them(local_batch, portfolio):
    path, duplicate = portfolio
    _, out = local_batch
    reports = [out / slug / "report.html" for slug in SLUGS[:2]]
    before = [p.stat().st_mtime_ns for p in reports]
    started = time.perf_counter()
    again = run_batch_cli(path, out, "--workers", "3")
    assert again.returncode == 1, again.stderr
    assert "skipped  Small Co" in again.stderr and "skipped  Beta Systems" in again.stderr
    assert "failed   Broken Data Ltd" in again.stderr, "a failed company is tried again"
    assert [p.stat().st_mtime_ns for p in reports] == before
    assert time.perf_counter() - started < 60
    check_statuses(out, duplicate)

    forced = run_batch_cli(path, out, "--workers", "3", "--force")
    assert forced.returncode == 1, forced.stderr
    assert "ok       Small Co" in forced.stderr and "ok       Beta Systems" in forced.stderr
    assert all(p.stat().st_mtime_ns > t for p, t in zip(reports, before))
    check_statuses(out, duplicate)


def test_all_ok_exits_0_and_bad_portfolio_exits_2(local_batch, portfolio, tmp_path):
    path, _ = portfolio
    _, out = local_batch
    good = tmp_path / "good.yaml"
    good.write_text(
        path.read_text().split("  - name: Broken")[0].replace("data: beta/", f"data: {path.parent / 'beta'}")
    )
    result = run_batch_cli(good, out)  # both companies current: skipped, so this is quick
    assert result.returncode == 0, result.stderr
    assert [c["status"] for c in json.loads((out / "portfolio.json").read_text())["companies"]] == ["ok", "ok"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("companies:\n  - {name: A, data: a, params: {white_space_min_acounts: 3}}\n")
    result = run_batch_cli(bad, tmp_path / "never")
    assert result.returncode == 2
    assert "white_space_min_acounts" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "never").exists()
    assert run_batch_cli(tmp_path / "missing.yaml", tmp_path / "never").returncode == 2
    assert run_batch_cli(good, tmp_path / "never", "--workers", "0").returncode == 2
    no_port = run_batch_cli(good, tmp_path / "never", "--scheduler", "scheduler-host")
    assert no_port.returncode == 2 and "--scheduler" in no_port.stderr
    assert not (tmp_path / "never").exists()
