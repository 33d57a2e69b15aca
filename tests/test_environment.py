"""environment.yml (for conda users) pins exactly what pyproject.toml pins."""
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(specs):
    out = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = _pins(s for s in pip_section if "==" in s)
    assert listed == wanted
    assert all("==" in spec for spec in project["dependencies"]), "pin every runtime dependency"
