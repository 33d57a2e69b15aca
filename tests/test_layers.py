"""The package layout is the architecture: no module reaches up a layer.

Imports are read from the source (every ``import`` and ``from … import``,
including those inside functions), so a lazy import cannot hide a reach.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import diligence

ROOT = pathlib.Path(diligence.__file__).parent

#: Layer → the kit's modules it may import (prefixes). Third-party imports are free.
ALLOWED: dict[str, tuple[str, ...]] = {
    "diligence.text": (),
    "diligence.errors": (),
    "diligence.contract": (),
    "diligence.processes": (),
    "diligence.registry": ("diligence.text",),
    "diligence.yamlfile": ("diligence.errors",),
    "diligence.params": ("diligence.errors", "diligence.registry", "diligence.text", "diligence.yamlfile"),
    "diligence.resources": ("diligence.errors",),
    "diligence.synth": ("diligence.contract",),
    "diligence.intake": (
        "diligence.intake",
        "diligence.contract",
        "diligence.errors",
        "diligence.params",
        "diligence.text",
        "diligence.yamlfile",
    ),
    "diligence.metrics": (
        "diligence.metrics",
        "diligence.contract",
        "diligence.params",
        "diligence.registry",
        "diligence.text",
        "diligence.errors",
    ),
    "diligence.scenarios": (
        "diligence.scenarios",
        "diligence.metrics",
        "diligence.contract",
        "diligence.params",
        "diligence.registry",
        "diligence.text",
        "diligence.errors",
        "diligence.processes",  # worker processes die with the step's
    ),
    "diligence.report": (
        "diligence.report",
        "diligence.metrics.flags",
        "diligence.registry",
        "diligence.text",
        "diligence.params",
        "diligence.contract",
        "diligence.resources",
        "diligence.errors",
        "diligence.processes",
    ),
}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _kit_imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            package = ROOT.parent.joinpath(*node.module.split("."))
            if package.is_dir():  # from a package: the modules (or names) taken from it
                found |= {f"{node.module}.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return {name for name in found if name.startswith("diligence.")}


def _layer(module: str) -> str | None:
    return next(
        (
            layer
            for layer in sorted(ALLOWED, key=len, reverse=True)
            if module == layer or module.startswith(layer + ".")
        ),
        None,
    )


MODULES = sorted(p for p in ROOT.rglob("*.py") if _layer(_module_name(p)))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_module_imports_only_its_own_layer_and_those_below(path):
    module = _module_name(path)
    allowed = ALLOWED[_layer(module)]
    reaches = sorted(
        name for name in _kit_imports(path) if not any(name == a or name.startswith(a + ".") for a in allowed)
    )
    assert not reaches, f"{module} reaches up to {', '.join(reaches)}"


def test_every_module_has_a_layer_or_is_an_edge():
    edges = {"diligence", "diligence.__main__", "diligence.cli"}
    loose = [
        _module_name(p)
        for p in ROOT.rglob("*.py")
        if _layer(_module_name(p)) is None
        and _module_name(p) not in edges
        and not _module_name(p).startswith("diligence.execution")
    ]
    assert not loose, f"modules outside the layout: {loose}"
