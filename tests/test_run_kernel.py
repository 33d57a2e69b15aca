"""Each step runs in its own kernel, and that kernel is gone when the step ends."""

from __future__ import annotations

import os
import time

import nbformat
import pytest

from diligence.errors import StepError
from diligence.execution.run import execute_step


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "diligence", "display_name": "Coverage diligence", "language": "python"}
    nb.metadata.language_info = {"name": "python"}
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata.tags = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(s) for s in sources)]
    nbformat.write(nb, path)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_step_kernel_is_shut_down(tmp_path):
    source = _notebook(tmp_path / "in.ipynb", "import os\nprint(os.getpid(), x)")
    target = tmp_path / "out.ipynb"
    execute_step(source, target, {"x": 5}, cwd=tmp_path, log_path=tmp_path / "kernel.log")
    pid, x = nbformat.read(target, as_version=4).cells[-1].outputs[0]["text"].split()
    assert x == "5", "papermill injected the parameter"
    deadline = time.monotonic() + 10
    while _alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(int(pid)), "the kernel outlived its step"


def test_a_cell_error_names_the_step_and_cell(tmp_path):
    source = _notebook(tmp_path / "07_broken_step.ipynb", "y = 2", "1 / 0")
    with pytest.raises(StepError) as err:
        execute_step(source, tmp_path / "out.ipynb", {}, cwd=tmp_path, log_path=tmp_path / "kernel.log")
    message = str(err.value)
    assert "07_broken_step" in message and "cell 3 (1 / 0)" in message and "ZeroDivisionError" in message


def _steps_build(tmp_path):
    build = tmp_path / "build"
    (build / "work").mkdir(parents=True)
    (build / "notebooks").mkdir()
    return build


def test_steps_run_side_by_side_and_come_back_in_order(tmp_path):
    from diligence.execution.run import execute_steps

    stamp = "import time, os\nstart = time.time()\ntime.sleep(2)\nprint(os.getpid(), start, time.time())"
    steps = [_notebook(tmp_path / f"0{i}_step.ipynb", stamp) for i in (1, 2, 3)]
    build = _steps_build(tmp_path)
    executed, seconds = execute_steps(steps, build, {"x": 1}, scratch_dir=tmp_path, jobs=2)
    assert [p.name for p in executed] == ["01_step.ipynb", "02_step.ipynb", "03_step.ipynb"]
    assert list(seconds) == ["01_step", "02_step", "03_step"] and all(s >= 2 for s in seconds.values())
    spans = [
        tuple(map(float, nbformat.read(p, as_version=4).cells[-1].outputs[0]["text"].split()[1:])) for p in executed
    ]
    assert spans[1][0] < spans[0][1], "the first two steps ran at the same time"


def test_a_failing_step_stops_the_steps_beside_it(tmp_path):
    from diligence.execution.run import execute_steps

    pid_file = tmp_path / "slow.pid"
    slow = _notebook(
        tmp_path / "01_slow.ipynb",
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)",
    )
    broken = _notebook(tmp_path / "02_broken.ipynb", "import time\ntime.sleep(3)\n1 / 0")
    later = _notebook(tmp_path / "03_later.ipynb", f"open({str(tmp_path / 'later.ran')!r}, 'w').write('1')")
    build = _steps_build(tmp_path)
    started = time.monotonic()
    with pytest.raises(StepError, match="02_broken"):
        execute_steps([slow, broken, later], build, {"x": 1}, scratch_dir=tmp_path, jobs=2)
    assert time.monotonic() - started < 60, "the slow step was not stopped"
    assert not _alive(int(pid_file.read_text())), "the slow step's kernel lives on"


def test_steps_share_warm_kernels_but_never_a_namespace(tmp_path):
    """One kernel per concurrent step, reused: each step still starts from an empty namespace."""
    from diligence.execution.run import execute_steps

    first = _notebook(tmp_path / "01_sets.ipynb", "import os\nleft_over = 41\nprint(os.getpid())")
    second = _notebook(
        tmp_path / "02_reads.ipynb",
        "import os\nprint(os.getpid(), 'left_over' in dir(), 'os' in dir())",
    )
    build = _steps_build(tmp_path)
    executed, _ = execute_steps([first, second], build, {"x": 1}, scratch_dir=tmp_path, jobs=1)
    (pid_first,) = nbformat.read(executed[0], as_version=4).cells[-1].outputs[0]["text"].split()
    pid, left, imported = nbformat.read(executed[1], as_version=4).cells[-1].outputs[0]["text"].split()
    assert pid == pid_first, "the second step ran in the first step's warm kernel"
    assert left == "False", "a name of the first step reached the second"
    assert imported == "True"
    deadline = time.monotonic() + 10
    while _alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(int(pid)), "the warm kernel outlived the run's steps"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("k")], "a kernel's socket folder was left"


def test_kernels_started_early_serve_the_steps_with_the_kit_imported_and_an_empty_namespace(tmp_path):
    from diligence.execution.run import KernelPool, execute_steps

    probe = "import os, sys\nprint(os.getpid(), 'diligence.metrics.coverage' in sys.modules, '_il' in dir())"
    steps = [_notebook(tmp_path / f"0{i}_probe.ipynb", probe) for i in (1, 2)]
    build = _steps_build(tmp_path)
    with open(tmp_path / "kernel.log", "a") as log, KernelPool(tmp_path, log, build) as pool:
        pool.start_early(1)
        executed, _ = execute_steps(steps, build, {"x": 1}, scratch_dir=tmp_path, jobs=1, pool=pool)
        lines = [nbformat.read(p, as_version=4).cells[-1].outputs[0]["text"].split() for p in executed]
    assert lines[0] == lines[1] and lines[0][1:] == ["True", "False"], lines  # one early kernel, kit in, names out
    pid = int(lines[0][0])
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), "the early kernel outlived the pool"


def test_a_pool_closed_while_its_early_kernels_start_leaves_none_behind(tmp_path):
    import psutil

    from diligence.execution.run import KernelPool

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    with open(tmp_path / "log.txt", "a") as log, KernelPool(tmp_path, log, tmp_path) as pool:
        pool.start_early(2)
        time.sleep(0.5)  # the run failed (bad data, Ctrl+C) while they were starting
    deadline = time.monotonic() + 10
    while {p.pid for p in me.children(recursive=True)} - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not {p.pid for p in me.children(recursive=True) if p.is_running()} - before, "an early kernel lives on"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("k")], "a kernel's socket folder was left"


def test_a_long_step_starts_first_and_a_reading_step_waits_only_for_those_before_it(tmp_path):
    from diligence.execution.run import execute_steps, submission_order

    stamp = "import time\nstart = time.time()\ntime.sleep({})\nprint(start, time.time())"
    first = _notebook(tmp_path / "01_step.ipynb", stamp.format(1))
    reader = _notebook(tmp_path / "02_summary.ipynb", "# run.metrics(before='02_summary')\n" + stamp.format(0))
    long = _notebook(tmp_path / "03_long.ipynb", stamp.format(8))  # room for a slow kernel to take the next step
    nb = nbformat.read(long, as_version=4)
    nb.metadata["diligence"] = {"long_running": True}
    nbformat.write(nb, long)
    steps = [first, reader, long]
    assert submission_order(steps) == [long, first, reader]
    executed, _ = execute_steps(steps, _steps_build(tmp_path), {"x": 1}, scratch_dir=tmp_path, jobs=2)
    assert [p.name for p in executed] == ["01_step.ipynb", "02_summary.ipynb", "03_long.ipynb"]
    (_, e1), (s2, _), (s3, e3) = (
        tuple(map(float, nbformat.read(p, as_version=4).cells[-1].outputs[0]["text"].split())) for p in executed
    )
    assert s3 < e1, "the long step ran beside the first, not after the step that reads it"
    assert e1 <= s2 < e3, "the reading step waited for the step before it, not for the long one after it"


def test_a_step_reads_the_metrics_of_the_steps_before_it_only(tmp_path):
    from diligence.execution.notebook import Run
    from diligence.params import Params

    run = Run(work_dir=tmp_path, company="Co", params=Params.resolve({"as_of": "2026-06-30"}), tables={})
    run.record("01_first", "First", metrics={"a": 1})
    run.record("03_later", "Later", metrics={"b": 2})
    earlier, every = run.metrics(before="02_summary"), run.metrics(before="04_next")
    assert earlier["a"] == 1 and "b" not in earlier
    assert every["a"] == 1 and every["b"] == 2


def test_a_kernel_no_step_will_take_is_shut_down_while_the_long_step_runs_on(tmp_path):
    # On a large company a warm kernel holds gigabytes: once the last step has
    # taken its kernel, one given back is shut down rather than kept idle.
    from diligence.execution.run import execute_steps

    pid_file = tmp_path / "short.pid"
    short = _notebook(tmp_path / "01_short.ipynb", f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))")
    long = _notebook(
        tmp_path / "02_long.ipynb",
        "import os, time\n"
        "def alive(pid):\n"
        "    try:\n"
        "        os.kill(pid, 0)\n"
        "    except ProcessLookupError:\n"
        "        return False\n"
        "    return True\n"
        "deadline = time.time() + 20\n"
        f"while not os.path.exists({str(pid_file)!r}) and time.time() < deadline:\n"
        "    time.sleep(0.2)\n"
        f"pid = int(open({str(pid_file)!r}).read())\n"
        "while alive(pid) and time.time() < deadline:\n"
        "    time.sleep(0.2)\n"
        "print('alive' if alive(pid) else 'gone')",
    )
    nb = nbformat.read(long, as_version=4)
    nb.metadata["diligence"] = {"long_running": True}
    nbformat.write(nb, long)
    executed, _ = execute_steps([short, long], _steps_build(tmp_path), {"x": 1}, scratch_dir=tmp_path, jobs=2)
    assert nbformat.read(executed[1], as_version=4).cells[-1].outputs[0]["text"].strip() == "gone"
