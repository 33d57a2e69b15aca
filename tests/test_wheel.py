"""The kit as a package: the built wheel runs the demo with no checkout in sight.

The wheel is built once (sdist, then the wheel from the sdist, as a release is
built) and installed without its dependencies into a new virtual environment in
a temporary folder; the dependencies come from the test environment through a
``.pth`` file (and nbconvert's base templates are copied to where a full
install puts them), which saves downloading them again and still lets
``pip check`` prove that the wheel's pins are met. The demo then runs from a folder with no
notebooks, templates or ``diligence/`` beside it, on the kernel that the first
run installs into the new environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import diligence

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)])
    (found,) = dist.glob("*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh venv holding the wheel; the environment to run it with."""
    home = tmp_path_factory.mktemp("elsewhere")
    env_dir = home / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    (purelib / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # nbconvert's base templates are data files that a full install puts under the prefix.
    shutil.copytree(Path(sys.prefix) / "share" / "jupyter" / "nbconvert", env_dir / "share" / "jupyter" / "nbconvert")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "JUPYTER_PATH", "VIRTUAL_ENV", "DILIGENCE_KERNEL"}
    }
    env["JUPYTER_DATA_DIR"] = str(home / "jupyter")  # no user-level kernel can stand in for the new one
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)], env=env)
    return {"dir": env_dir, "python": python, "env": env, "cwd": home}


def test_the_wheel_holds_every_module_notebook_and_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    def shipped(folder: str, package: str, pattern: str) -> set[str]:
        base = ROOT / folder
        return {
            f"{package}/{p.relative_to(base).as_posix()}"
            for p in base.rglob(pattern)
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
        }

    wanted = (
        shipped("diligence", "diligence", "*.py")
        | shipped("diligence", "diligence", "*.yaml")
        | shipped("notebooks", "diligence/notebooks", "*.ipynb")
        | (shipped("templates", "diligence/templates", "*") - shipped("templates", "diligence/templates", "*.py"))
    )
    assert wanted - names == set(), "files the wheel does not ship"
    assert any(n.endswith("01_data_intake.ipynb") for n in names)


def test_installed_kit_reports_its_version_and_dependencies(installed):
    run = dict(env=installed["env"], cwd=installed["cwd"])
    where = _run([str(installed["python"]), "-c", "import diligence; print(diligence.__file__)"], **run).stdout.strip()
    assert Path(where).is_relative_to(installed["dir"]), (
        "the kit is imported from the new environment, not the checkout"
    )
    version = _run([str(installed["dir"] / "bin" / "diligence"), "--version"], **run).stdout.strip()
    assert version == f"diligence {diligence.__version__}"
    _run([sys.executable, "-m", "pip", "--python", str(installed["python"]), "check"], **run)


def test_installed_kit_runs_the_demo_without_a_checkout(installed):
    out = installed["cwd"] / "demo"
    done = _run(
        [str(installed["dir"] / "bin" / "diligence"), "demo", "--out", str(out)],
        env=installed["env"],
        cwd=installed["cwd"],
    )
    assert "Report written" in done.stdout
    for name in ("report.html", "report.xlsx", "findings.json"):
        assert (out / name).stat().st_size > 0, name
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert findings["kit_version"] == diligence.__version__
    assert len(findings["flags"]) > 0
    # The first run installed the kit's kernel into the new environment, starting its own Python.
    spec = json.loads((installed["dir"] / "share" / "jupyter" / "kernels" / "diligence" / "kernel.json").read_text())
    assert Path(spec["argv"][0]).parent.resolve() == installed["python"].parent.resolve()
