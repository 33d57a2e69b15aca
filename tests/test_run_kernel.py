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
