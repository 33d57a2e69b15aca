"""Kills and interrupts: nothing lost, nothing left behind, nothing running on.

A run killed outright (SIGKILL, as the out-of-memory killer does) at a random
moment, twenty times over, leaves the previous report whole and, after the next
run, nothing in the temp dir or beside the output folder. A run stopped by
SIGTERM and a batch stopped by Ctrl+C clean up themselves and exit 128 + the
signal; the batch writes the roll-up of what finished and starts nothing more.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from diligence.synth import DEMO_AS_OF

psutil = pytest.importorskip("psutil")

KILLS = 20


def _as_at_a_terminal() -> None:
    # A command typed at a terminal takes Ctrl+C; one started from a shell's background job inherits
    # SIGINT ignored (POSIX), and so would this one when the suite itself runs in the background.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list, tmp: Path) -> subprocess.Popen:
    """The real command line in its own process group, as typed at a terminal, its temp dir ``tmp``."""
    env = {**os.environ, "TMPDIR": str(tmp)}
    env.pop("DILIGENCE_TMPDIR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "diligence", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
        preexec_fn=_as_at_a_terminal,
    )


def kit_processes(tmp: Path) -> list:
    """Processes still running that belong to runs under ``tmp`` (kernels, Chromium, runs)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            env = proc.info["environ"] or {}
            ours = (
                str(tmp) in cmd or env.get("DILIGENCE_TMPDIR") == str(tmp) or env.get("TMPDIR", "").startswith(str(tmp))
            )
            if ours and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            pass
    return found


def wait_until_gone(tmp: Path, seconds: float = 10) -> list:
    deadline = time.monotonic() + seconds
    while (alive := kit_processes(tmp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def assert_whole(out: Path, reference: dict[str, bytes]) -> None:
    """``out`` is one complete report: the reference run's files, findings byte for byte."""
    names = {p.name for p in out.iterdir()}
    assert set(reference) <= names, f"missing: {sorted(set(reference) - names)}"
    assert (out / "findings.json").read_bytes() == reference["findings.json"]
    assert (out / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    for name in ("report.xlsx", "report.pptx"):
        if name in reference:
            assert zipfile.ZipFile(out / name).testzip() is None
    if "report.pdf" in reference:
        assert (out / "report.pdf").read_bytes().rstrip().endswith(b"%%EOF")
    steps = sorted(p.name for p in (out / "notebooks").iterdir())
    assert steps == reference["notebooks"].decode().split(",")


@pytest.fixture
def private_tmp(tmp_path) -> Path:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp


def test_kill_9_at_random_moments_never_breaks_the_previous_report(small_company, tmp_path, private_tmp):
    out = tmp_path / "reports" / "Kill Co"
    args = ["run", small_company, "--company", "Kill Co", "--as-of", DEMO_AS_OF, "--out", out]
    started = time.perf_counter()
    first = start(args, private_tmp)
    assert first.wait(600) == 0, first.stderr.read()
    length = time.perf_counter() - started
    reference = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    reference["notebooks"] = ",".join(sorted(p.name for p in (out / "notebooks").iterdir())).encode()

    rng = random.Random(20261204)
    moments = sorted(rng.uniform(0.2, length * 1.05) for _ in range(KILLS))
    for moment in rng.sample(moments, len(moments)):
        run = start(args, private_tmp)
        try:
            run.wait(moment)
        except subprocess.TimeoutExpired:
            os.kill(run.pid, signal.SIGKILL)  # the run alone, as the out-of-memory killer does
            run.wait()
        assert not wait_until_gone(private_tmp), f"processes outlived the run killed at {moment:.1f} s"
        assert_whole(out, reference)

    last = start(args, private_tmp)
    assert last.wait(600) == 0, last.stderr.read()
    assert_whole(out, reference)
    assert sorted(os.listdir(private_tmp)) == [], "the temp dir holds what killed runs left"
    assert sorted(p.name for p in out.parent.iterdir()) == ["Kill Co"], "hidden build folders are left"


def test_sigterm_stops_a_run_cleanly(small_company, tmp_path, private_tmp):
    out = tmp_path / "Term Co"
    run = start(
        ["run", small_company, "--company", "Term Co", "--as-of", DEMO_AS_OF, "--out", out, "--formats", "html"],
        private_tmp,
    )
    deadline = time.monotonic() + 120
    while not any("ipykernel" in " ".join(p.cmdline()) for p in kit_processes(private_tmp)):
        assert time.monotonic() < deadline and run.poll() is None, "no step started"
        time.sleep(0.1)
    run.send_signal(signal.SIGTERM)
    assert run.wait(60) == 128 + signal.SIGTERM
    assert "interrupted" in run.stderr.read()
    assert not wait_until_gone(private_tmp, 5)
    assert os.listdir(private_tmp) == [] and sorted(os.listdir(tmp_path)) == ["tmp"]


def test_ctrl_c_stops_a_batch_and_writes_the_roll_up_of_what_finished(small_company, tmp_path, private_tmp):
    portfolio = tmp_path / "portfolio.yaml"
    names = ["First Co", "Second Co", "Third Co"]
    portfolio.write_text(
        f"defaults:\n  as_of: {DEMO_AS_OF}\ncompanies:\n"
        + "".join(f"  - name: {name}\n    data: {small_company}\n" for name in names)
    )
    out = tmp_path / "q4"
    batch = start(["batch", portfolio, "--out", out, "--workers", "1", "--formats", "html"], private_tmp)
    deadline = time.monotonic() + 300
    while not (out / "first-co" / "findings.json").is_file():
        assert time.monotonic() < deadline and batch.poll() is None, "the first company never finished"
        time.sleep(0.2)
    time.sleep(4)  # the second company is running
    os.killpg(batch.pid, signal.SIGINT)  # Ctrl+C at the terminal: the whole foreground group
    stopped = time.monotonic()
    assert batch.wait(60) == 130, batch.stderr.read()
    assert time.monotonic() - stopped < 30, "the batch took too long to stop"
    assert "interrupted: 1 of 3 companies finished" in batch.stderr.read()

    rollup = json.loads((out / "portfolio.json").read_text(encoding="utf-8"))
    statuses = {c["company"]: (c["status"], c["error"]) for c in rollup["companies"]}
    assert statuses["First Co"] == ("ok", None)
    assert statuses["Second Co"][0] == "failed" and "interrupted" in statuses["Second Co"][1]
    assert statuses["Third Co"] == ("failed", "the batch was interrupted before this company finished")
    assert (out / "portfolio.html").is_file() and (out / "portfolio.xlsx").is_file()
    assert not (out / "second-co").exists() and not (out / "third-co").exists(), "nothing half-written, nothing begun"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert not wait_until_gone(private_tmp, 5)
    assert os.listdir(private_tmp) == []
