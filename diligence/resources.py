"""Files the kit ships besides its code: the step notebooks and the report templates.

Both live at the top of the repository (``notebooks/``, ``templates/``) and are
shipped inside the package when it is built; these functions are the one way
the rest of the kit finds them.
"""
from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]


def notebooks_dir() -> Path:
    """The folder of step notebooks (``NN_name.ipynb``)."""
    return _CHECKOUT / "notebooks"


def templates_dir() -> Path:
    """The folder of nbconvert and Jinja templates (``report/``, ``portfolio/``)."""
    return _CHECKOUT / "templates"
