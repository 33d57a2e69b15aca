"""Files the kit ships besides its code: the step notebooks and the report templates.

Both live at the top of the repository (``notebooks/``, ``templates/``) and are
mapped into the package as ``diligence.notebooks`` and ``diligence.templates``
(``package-dir`` in ``pyproject.toml``), so a checkout, an editable install and
an installed wheel all find them the same way: through ``importlib.resources``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from diligence.errors import DiligenceError


def _folder(package: str) -> Path:
    # papermill and nbconvert read real files: a zipped install cannot serve them.
    found = files(package)
    path = Path(str(found))
    if not path.is_dir():
        raise DiligenceError(
            f"The kit's {package.rsplit('.', 1)[-1]} are not on disk ({found}). "
            "Install the kit from its wheel or a checkout, not as a zipped package."
        )
    return path


def notebooks_dir() -> Path:
    """The folder of step notebooks (``NN_name.ipynb``)."""
    return _folder("diligence.notebooks")


def templates_dir() -> Path:
    """The folder of nbconvert and Jinja templates (``report/``, ``portfolio/``)."""
    return _folder("diligence.templates")
