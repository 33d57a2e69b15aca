"""A seeded mutator over a company's export files, for the fuzzing harness.

Each case copies a clean company, applies one or two mutations of the kinds
real data rooms hold (truncated or corrupted bytes, another encoding, junk
rows and columns, broken headers, extreme numbers and dates, a broken mapping
file) and reads it as a run does. The kit passes a case when reading ends in
data (with counted warnings or errors) or a clean refusal (``InputError``,
exit 2): any other exception is a defect.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

EXTREME_NUMBERS = ["1e400", "-1e308", "NaN", "inf", "-0", "∞", "1,2,3", "€1.000", "0x1F", "9" * 400, "1e-400"]
EXTREME_DATES = ["0000-00-00", "9999-12-31", "31/02/2020", "2020-13-01", "1900-01-01", "yesterday", "1e9", "2262-04-12"]
JUNK = [
    "Total",
    "Grand Totals (5 records)",
    "Confidential Information - Do Not Distribute",
    ",,,,,,",
    '"unterminated',
    "\x00\x01\x02",
    '=HYPERLINK("x")',
    "ä" * 50,
]


def _csvs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.csv"))


def truncate(folder: Path, rng: random.Random) -> str:
    path = rng.choice(_csvs(folder))
    data = path.read_bytes()
    path.write_bytes(data[: rng.randrange(0, max(1, len(data)))])
    return f"truncate {path.name}"


def flip_bytes(folder: Path, rng: random.Random) -> str:
    path = rng.choice(_csvs(folder))
    data = bytearray(path.read_bytes())
    for _ in range(rng.randint(1, 20)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    path.write_bytes(bytes(data))
    return f"flip bytes in {path.name}"


def re_encode(folder: Path, rng: random.Random) -> str:
    path = rng.choice(_csvs(folder))
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    encoding = rng.choice(["latin-1", "utf-16", "cp1252", "utf-8-sig"])
    path.write_bytes(
        text.encode("utf-8", errors="surrogateescape")
        .decode("utf-8", errors="replace")
        .encode(encoding, errors="replace")
    )
    return f"{path.name} as {encoding}"


def junk_rows(folder: Path, rng: random.Random) -> str:
    path = rng.choice(_csvs(folder))
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    for _ in range(rng.randint(1, 5)):
        lines.insert(rng.randrange(1, len(lines) + 1), rng.choice(JUNK))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    return f"junk rows in {path.name}"


def junk_column(folder: Path, rng: random.Random) -> str:
    path = rng.choice(_csvs(folder))
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    head = rng.choice(["extra", "", "  ", lines[0].split(",")[0] if lines else "x"])
    lines = [f"{lines[0]},{head}"] + [f"{line},{rng.choice(JUNK + EXTREME_NUMBERS)}" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    return f"junk column {head!r} in {path.name}"


def break_header(folder: Path, rng: random.Random) -> str:
    path = rng.choice(_csvs(folder))
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    if not lines:
        return "empty file"
    cells = lines[0].split(",")
    j = rng.randrange(len(cells))
    how = rng.choice(["blank", "duplicate", "upper", "drop", "spaces"])
    if how == "blank":
        cells[j] = ""
    elif how == "duplicate":
        cells[j] = cells[(j + 1) % len(cells)]
    elif how == "upper":
        cells[j] = cells[j].upper()
    elif how == "drop":
        cells.pop(j)
    else:
        cells[j] = "   "
    lines[0] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    return f"header {how} in {path.name}"


def extreme_values(folder: Path, rng: random.Random) -> str:
    path = rng.choice(_csvs(folder))
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    if len(lines) < 2:
        return "too short"
    for _ in range(rng.randint(1, 10)):
        i = rng.randrange(1, len(lines))
        cells = lines[i].split(",")
        j = rng.randrange(len(cells))
        cells[j] = rng.choice(EXTREME_NUMBERS + EXTREME_DATES)
        lines[i] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    return f"extreme values in {path.name}"


def broken_mapping(folder: Path, rng: random.Random) -> str:
    text = rng.choice(
        [
            "accounts: [",
            "accounts: {Account Name: nonexistent_column}",
            "keep: {accounts: [segment]}",
            "a: &a [1,2]\nb: [*a,*a]",
            "files: {opportunities: missing.csv}",
            "filters: {accounts: {segment: [SMB]}}",
            "\x00\xff",
            "preset: nothing",
            "accounts: {" + ", ".join(f"c{i}: account_id" for i in range(50)) + "}",
        ]
    )
    (folder / "mapping.yaml").write_bytes(text.encode("utf-8", errors="surrogateescape"))
    return f"mapping.yaml: {text[:30]!r}"


def remove_file(folder: Path, rng: random.Random) -> str:
    path = rng.choice(_csvs(folder))
    path.unlink()
    return f"remove {path.name}"


MUTATIONS: tuple[Callable[[Path, random.Random], str], ...] = (
    truncate, flip_bytes, re_encode, junk_rows, junk_column, break_header, extreme_values, broken_mapping, remove_file,
)  # fmt: skip


def mutate(clean: Path, target: Path, seed: int) -> list[str]:
    """Copy ``clean`` to ``target`` and apply one or two seeded mutations; return what was done."""
    rng = random.Random(seed)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(clean, target)
    return [rng.choice(MUTATIONS)(target, rng) for _ in range(rng.randint(1, 2))]


def read_case(folder: Path, as_of: str) -> str:
    """Read a mutated company as a run does: ``"ok"`` (data, warnings allowed) or
    ``"refused"`` (an InputError: exit 2). Anything else propagates: a defect."""
    from diligence.errors import InputError
    from diligence.intake import load_company

    try:
        intake = load_company(folder, as_of=as_of)
        intake.raise_for_errors()
    except InputError as exc:
        assert str(exc).strip(), "a refusal says why"
        return "refused"
    return "ok"
