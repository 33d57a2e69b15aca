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


def _third_party_imports() -> set[str]:
    import ast
    import sys

    found = set()
    for path in (ROOT / "diligence").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != "diligence"}


def test_every_package_the_kit_imports_is_declared():
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(_pins(project["dependencies"]))
    providers = packages_distributions()
    missing = {
        module: providers.get(module)
        for module in _third_party_imports()
        if not {d.lower().replace("_", "-") for d in providers.get(module, [])} & declared
    }
    assert missing == {}, "imported by diligence/ but not pinned in pyproject.toml"
