"""The one way the kit reads YAML (mapping files, ``--params``, portfolio files).

Safe construction only (``yaml.SafeLoader``: no Python objects), and two bounds
a hostile file would otherwise exploit: **aliases are refused** (a "billion
laughs" file nests a few aliases into billions of nodes before anything can be
said), and the file may hold at most :data:`MAX_BYTES`. A date YAML itself cannot
build (``2024-02-30``) and text that is not UTF-8 are refused too. Every refusal
is an :class:`~diligence.errors.InputError` naming the file and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from diligence.errors import InputError

MAX_BYTES = 1_000_000  # a mapping or a portfolio of thousands of companies is far smaller


class _NoAliases(yaml.SafeLoader):
    """SafeLoader that stops at the first alias (``*name``)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            mark = event.start_mark
            raise InputError(
                f"uses a YAML alias (*{event.anchor}) at line {mark.line + 1}: aliases are not accepted; "
                "write the values out in full"
            )
        return super().compose_node(parent, index)


def read_yaml(path: str | Path, what: str, *, encoding: str = "utf-8") -> Any:
    """The YAML document in ``path``; ``what`` names it in messages ("--params", "portfolio").

    Raises InputError when the file is missing, larger than :data:`MAX_BYTES`,
    not text in ``encoding``, not YAML, uses an alias, or holds an impossible date.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                f"{what}: {path} is {size:,} bytes; a YAML file of the kit may hold at most {MAX_BYTES:,}."
            )
        text = path.read_bytes().decode(encoding)
    except FileNotFoundError:
        raise InputError(f"{what}: file {path} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{what}: {path} is a folder; give the YAML file.") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{what}: {path} is not {encoding.upper()} text ({exc.reason}); save it as UTF-8.") from None
    except OSError as exc:
        raise InputError(f"{what}: {path} cannot be read ({exc.strerror or exc}).") from None
    return parse_yaml(text, f"{what}: {path}")


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML ``text`` with the kit's loader; ``where`` starts every message."""
    try:
        return yaml.load(text, Loader=_NoAliases)
    except InputError as exc:
        raise InputError(f"{where} {exc}.") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{where} is not valid YAML ({exc}).") from None
    except ValueError as exc:  # YAML's own date type: 2026-02-30 looks like a date but is none
        raise InputError(f"{where} holds a value that is not a date ({exc}); write dates as YYYY-MM-DD.") from None
    except RecursionError:
        raise InputError(f"{where} nests too deeply to be read.") from None
