"""Make client strings safe where they become names: file names, Excel cells, sheets, tables.

Client strings (company, account, rep and partner names) are data. They must never
become a path outside the output folder, a formula in Excel, or a name that makes
Excel repair the workbook.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

#: Excel's hard limit on the characters of one cell; longer text triggers a repair prompt.
EXCEL_CELL_MAX = 32_767
#: Excel's limit on sheet-name length.
SHEET_NAME_MAX = 31
#: Characters Excel refuses in sheet names.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: Names Windows refuses as file names, whatever the extension.
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)
#: Text Excel would read as a formula or a command if typed: kept as text with a quote prefix.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _ascii(text: str) -> str:
    """Fold accents (é → e) and drop what has no ASCII form."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slugify(name: str, *, max_len: int = 80) -> str:
    """Return a filesystem-safe slug for a company (or any) name.

    Parameters
    ----------
    name
        Any text, typically a client's company name.
    max_len
        Longest slug returned (80 by default).

    Returns
    -------
    str
        ASCII, lower case, only ``[a-z0-9-]``, no leading or trailing dash or dot,
        never empty (``"company"``) and never a Windows device name. Path
        separators and dots become dashes, so ``"../../etc"`` gives ``"etc"``:
        the slug can only ever name one folder inside the output folder.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", _ascii(str(name)).lower()).strip("-")
    slug = slug[:max_len].rstrip("-")
    if not slug:
        return "company"
    return f"{slug}-company"[:max_len] if slug in _WINDOWS_RESERVED else slug


def excel_text(value: Any) -> Any:
    """Return ``value`` ready for an openpyxl cell: strings cleaned, anything else untouched.

    Strings lose the control characters openpyxl refuses
    (``ILLEGAL_CHARACTERS_RE``: everything below 0x20 except tab, line feed and
    carriage return), carriage returns become line feeds (the XML inside the file
    would turn them into line feeds on reading anyway), and they are cut to Excel's
    32,767-character cell limit. Numbers, dates and None are returned as they are.

    This does not stop a string from being read as a formula: the writer must also
    set ``cell.data_type = "s"`` (see :mod:`diligence.report.excel`).
    """
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
        return text[:EXCEL_CELL_MAX]
    return value


def excel_sheet_name(title: Any, taken: set[str]) -> str:
    """Return a valid, unused Excel sheet name for ``title`` and record it in ``taken``.

    Excel wants at most 31 characters, none of ``[]:*?/\\``, no leading or trailing
    apostrophe, not the reserved ``History``, and names unique without regard to
    case. ``taken`` holds the lower-cased names already used; it is updated.
    """
    base = _SHEET_FORBIDDEN.sub(" ", excel_text(str(title)).replace("\t", " ").replace("\r", " ").replace("\n", " "))
    base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
    if base.lower() == "history":
        base = "History (step)"
    base = base[:SHEET_NAME_MAX].rstrip().rstrip("'")
    name, k = base, 2
    while name.lower() in taken:
        suffix = f" ({k})"
        name = base[: SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
        k += 1
    taken.add(name.lower())
    return name


def excel_table_name(title: Any, prefix: str, taken: set[str]) -> str:
    """Return a unique Excel table ``displayName`` and record it in ``taken``.

    Table names must start with a letter, hold only letters, digits and
    underscores, must not read as a cell reference (``A1``, ``R1C1``) and are unique
    in the workbook without regard to case. ``prefix`` (e.g. ``"t03_02"``) starts
    with a letter and contains an underscore, so the result can never be a cell
    reference; the title adds a readable tail.
    """
    tail = re.sub(r"[^A-Za-z0-9]+", "_", _ascii(str(title))).strip("_")[:40].rstrip("_")
    base = f"{prefix}_{tail}" if tail else prefix
    name, k = base, 2
    while name.lower() in taken:
        name = f"{base}_{k}"
        k += 1
    taken.add(name.lower())
    return name


def css_string(text: Any) -> str:
    """``text`` as a double-quoted CSS string that cannot end the string, the
    rule or the ``<style>`` element it sits in: quotes, backslashes, angle
    brackets, ampersands and control characters become CSS hex escapes."""

    def escape(ch: str) -> str:
        if ch in "\\\"'<>&" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"\\{ord(ch):x} "
        return ch

    return '"' + "".join(escape(ch) for ch in str(text)) + '"'
