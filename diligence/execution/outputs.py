"""Which deliverables a run writes (``--formats``).

``findings.json`` and the executed notebooks are always written: they are the
run's record. The others are chosen by name; by default every one that can be
made here (the PDF needs a Chromium, :func:`diligence.report.pdf.find_chromium`).
"""

from __future__ import annotations

from collections.abc import Iterable

from diligence.errors import InputError

#: Deliverable name -> the file it writes in the output folder.
FILES: dict[str, str] = {"html": "report.html", "xlsx": "report.xlsx", "pptx": "report.pptx", "pdf": "report.pdf"}
FORMATS: tuple[str, ...] = tuple(FILES)


def parse_formats(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The formats asked for, in :data:`FORMATS` order; None or "all" means all of them.

    Accepts ``"html,xlsx"`` (commas or spaces, any case, ``json`` allowed and
    ignored: it is always written) or a list. Raises InputError for an unknown
    name or an empty choice.
    """
    if value is None:
        return FORMATS
    names = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    wanted = {str(n).strip().casefold() for n in names} - {"", "json"}
    if wanted == {"all"}:
        return FORMATS
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise InputError(
            f"--formats: unknown format(s) {', '.join(unknown)}. Known: {', '.join(FORMATS)} (findings.json is always written)."
        )
    if not wanted:
        raise InputError(f"--formats: name at least one of {', '.join(FORMATS)}.")
    return tuple(f for f in FORMATS if f in wanted)
