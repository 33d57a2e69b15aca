"""The output-folder contract and the one YAML loader: nothing of the client's is ever replaced,
no YAML file can hang the kit."""

from __future__ import annotations

import os
import time

import pytest

from diligence.errors import InputError
from diligence.execution.outdir import MARKER, check_out, check_portfolio_out, clear_leftovers, is_report
from diligence.yamlfile import MAX_BYTES, read_yaml
from tests.conftest import run_cli

BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
)


def test_a_client_folder_is_never_replaced(small_company, tmp_path):
    client = tmp_path / "client"
    (client / "notebooks").mkdir(parents=True)
    (client / "work").mkdir()
    (client / "notebooks" / "analysis.ipynb").write_text("{}")
    (client / "work" / "accounts.csv").write_text("id\n1\n")
    result = run_cli("run", small_company, "--company", "X", "--out", client)
    assert result.returncode == 2, result.stderr
    assert "the folder holds files the kit did not write" in result.stderr and "--force" in result.stderr
    assert (client / "work" / "accounts.csv").read_text() == "id\n1\n"
    assert (client / "notebooks" / "analysis.ipynb").exists()
    assert not list(tmp_path.glob(".client*")), "nothing built beside it"


def test_an_out_that_is_a_file_is_refused_before_any_step(small_company, tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("keep me")
    started = time.perf_counter()
    result = run_cli("run", small_company, "--company", "X", "--out", target)
    assert result.returncode == 2 and "is a file, not a folder" in result.stderr
    assert time.perf_counter() - started < 30 and target.read_text() == "keep me"


def test_the_folders_a_run_may_write_into(tmp_path):
    assert check_out(tmp_path / "new") == (tmp_path / "new").resolve()
    (tmp_path / "empty").mkdir()
    check_out(tmp_path / "empty")
    marked = tmp_path / "marked"
    marked.mkdir()
    (marked / MARKER).write_text("{}")
    (marked / "notes.txt").write_text("x")
    assert is_report(marked) and check_out(marked)
    legacy = tmp_path / "legacy"
    (legacy / "work").mkdir(parents=True)
    (legacy / "findings.json").write_text("{}")
    (legacy / "work" / "params.json").write_text("{}")
    assert check_out(legacy)
    other = tmp_path / "other"
    other.mkdir()
    (other / "accounts.csv").write_text("x")
    with pytest.raises(InputError, match=r"accounts\.csv"):
        check_out(other)
    assert check_out(other, force=True) == other.resolve()


def test_a_batch_writes_only_into_its_own_folder(tmp_path):
    check_portfolio_out(tmp_path / "new")
    data = tmp_path / "data"
    data.mkdir()
    (data / "accounts.csv").write_text("x")
    with pytest.raises(InputError, match="no earlier batch wrote"):
        check_portfolio_out(data)
    (tmp_path / "q3" / "alpha").mkdir(parents=True)
    (tmp_path / "q3" / "alpha" / MARKER).write_text("{}")  # an interrupted batch: a report, no roll-up yet
    check_portfolio_out(tmp_path / "q3")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_portfolio_out(tmp_path / "file")


def test_leftovers_of_a_killed_run_are_cleared(tmp_path):
    out = tmp_path / "report"
    for name in (".report.build-1a2b3c4d", ".report.old-5e6f7a8b"):
        (tmp_path / name / "work").mkdir(parents=True)
    (tmp_path / ".other.build-00000000").mkdir()
    clear_leftovers(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.build-00000000"]


def test_the_run_marks_its_folder(small_run):
    result, out = small_run
    assert result.returncode == 0 and (out / MARKER).is_file() and is_report(out)


@pytest.mark.parametrize("where", ["params", "mapping", "portfolio"])
def test_yaml_alias_bombs_are_refused_at_once(small_company, tmp_path, where):
    import shutil

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    started = time.perf_counter()
    if where == "params":
        result = run_cli("run", small_company, "--company", "X", "--out", tmp_path / "o", "--params", bomb)
    elif where == "mapping":
        data = tmp_path / "data"
        shutil.copytree(small_company, data)
        (data / "mapping.yaml").write_text(BOMB)
        result = run_cli("validate", data)
    else:
        text = f"defaults:\n  params: &p {{active_window_days: 90}}\n  extra: *p\ncompanies:\n  - name: A\n    data: {small_company}\n"
        bomb.write_text(text)
        result = run_cli("batch", bomb, "--out", tmp_path / "b")
    assert result.returncode == 2, result.stderr
    assert "alias" in result.stderr and "Traceback" not in result.stderr
    assert time.perf_counter() - started < 30


def test_yaml_files_are_bounded_in_size_and_dates(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (MAX_BYTES + 1))
    with pytest.raises(InputError, match="at most"):
        read_yaml(big, "--params")
    bad_date = tmp_path / "date.yaml"
    bad_date.write_text("as_of: 2024-02-30\n")
    with pytest.raises(InputError, match="not a date"):
        read_yaml(bad_date, "--params")


def test_temp_folders_of_dead_runs_are_cleared(tmp_path):
    import os
    import subprocess
    import sys

    from diligence.execution.scratch import PREFIX, clear_dead

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"{PREFIX}{gone.stdout.strip()}-run-abc"
    alive = tmp_path / f"{PREFIX}{os.getppid()}-run-def"
    other = tmp_path / "dk-notes"
    for folder in (dead, alive, other):
        folder.mkdir()
    (dead / "k1").mkdir()
    clear_dead(tmp_path)
    assert not dead.exists() and alive.exists() and other.exists()


def test_a_runs_temp_folder_holds_what_it_makes_and_goes_on_every_exit(tmp_path, monkeypatch):
    import tempfile

    from diligence.execution.scratch import scratch

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(KeyboardInterrupt), scratch("run") as folder:
        assert folder.parent == tmp_path and folder.name.startswith(f"dk-{os.getpid()}-run-")
        assert tempfile.mkdtemp().startswith(str(folder)), "the run's temp files go inside its folder"
        with scratch("batch") as inner:
            assert inner.parent == tmp_path, "a nested folder sits beside, not inside"
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == [] and os.environ["TMPDIR"] == str(tmp_path)
