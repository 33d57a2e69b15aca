"""Load one company's data: find, read, map, type, check (SPEC §2).

:func:`load_company` never raises for a problem in the data: it returns an
:class:`Intake` holding the contract tables it could build and every problem
found, as :class:`~diligence.intake.issues.Issue` objects. Only arguments that
make reading impossible (no such path, unknown preset, unreadable mapping
file, a bad as-of date) raise :class:`~diligence.errors.InputError`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import os
import re
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from diligence.contract import BOOL, DATE, INTEGER, NUMBER, TABLE_ORDER, TABLES, TEXT, Table
from diligence.errors import InputError
from diligence.intake import archives, checks, owners, parsing
from diligence.intake.archives import ArchiveLimits, ArchiveProblem
from diligence.intake.issues import ERROR, WARNING, Issue, row_phrase, shown, sort_issues
from diligence.intake.mapping import (
    AUX_COLUMNS,
    MAPPING_FILE_NAMES,
    ColumnMapping,
    is_pattern,
    load_mapping,
    normalise_name,
)
from diligence.intake.readers import (
    DATA_SUFFIXES,
    EXCEL_SUFFIXES,
    RawFile,
    ReadProblem,
    peek_headers,
    read_file,
    workbook_sheets,
)
from diligence.intake.schema import ABSURD, MAX_NUMBER, NONNEG, NOT_NULL, UNIQUE, schema_failures
from diligence.params import parse_date

#: Blank means something in these columns (SPEC §2), so a blank is no warning.
BLANK_MEANS = frozenset(
    {
        ("accounts", "owner_rep_id"),  # no owner
        ("accounts", "partner_id"),  # no partner
        ("reps", "end_date"),  # still employed
        ("reps", "quota"),  # not quota-carrying
        ("reps", "manager_id"),
        ("opportunities", "partner_id"),
        ("activities", "activity_id"),
        ("assignment_history", "rep_id"),  # unassigned
    }
)

DEFAULT_ROLE, DIRECT, PARTNER = "AE", "direct", "partner"
_PARTNER_WORDS = r"partner|channel|indirect|resell|\bvar\b|distribut|alliance|wholesale"
_DIRECT_WORDS = r"direct|field|inside|inbound|outbound|self.?serve|online"

_ENTITY = {
    "accounts": "account",
    "reps": "rep",
    "opportunities": "opportunity",
    "activities": "activity",
    "assignment_history": "owner change",
    "rep_survey": "survey answer",
    "partners": "partner",
    "opportunity_history": "deal change",
}


# --------------------------------------------------------------------------- result


@dataclass
class Intake:
    """What :func:`load_company` found: tables, problems, provenance.

    Attributes
    ----------
    tables
        Contract tables (contract column names and types, see ``contract.py``);
        optional tables not sent are absent.
    issues
        Every problem, errors first, in a deterministic order.
    sources
        For each table, the file (and sheet) it came from, as a relative name.
    set_aside
        For optional tables, the rows removed because their key or date was
        blank, with ``file`` and ``row`` (row number in that file) first.
    files
        Every file (or sheet) received: ``file``, ``table`` (or ``None``),
        ``status`` (read, ignored, unreadable, unusable), ``columns``
        (contract column -> the client's header), ``rows_read``,
        ``rows_kept``, ``rows_set_aside``.
    counts
        Per table: ``source``, ``rows_read``, ``rows_filtered`` (by the
        mapping's filters), ``rows_blank`` (empty lines), ``rows_set_aside``,
        ``rows_kept``, ``columns_absent`` (optional columns not sent).
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    set_aside: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    counts: dict[str, dict] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == WARNING]

    def raise_for_errors(self) -> None:
        """Raise :class:`~diligence.errors.InputError` (exit 2) if any error was found."""
        errors = self.errors
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise InputError(f"The data has {len(errors)} error(s): {errors[0]}{more}", problems=errors)

    def data_quality(self) -> dict:
        """The ``data_quality`` section of ``findings.json``: JSON-ready and deterministic.

        Holds ``files`` (each file received, what became of it, its rows
        read, kept and set aside, and which header fed which column),
        ``tables`` (row counts per table and the columns not provided),
        ``error_count``, ``warning_count``, and ``errors``, ``warnings`` and
        ``issues`` (both, errors first) as lists of dicts (``level, table,
        file, column, count, rows, message, action``).
        """
        return {
            "files": [dict(f) for f in self.files],
            "tables": {t: dict(self.counts[t]) for t in TABLE_ORDER if t in self.counts},
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "errors": [i.as_dict() for i in self.errors],
            "warnings": [i.as_dict() for i in self.warnings],
            "issues": [i.as_dict() for i in self.issues],
        }


# --------------------------------------------------------------------------- issues with rows


class _Issues:
    """Collects issues; turns row masks into issues split by source file."""

    def __init__(self) -> None:
        self.items: list[Issue] = []

    def add(
        self,
        level: str,
        table: str | None,
        file: str | None,
        column: str | None,
        count: int,
        message: str,
        action: str,
        rows: tuple = (),
    ) -> None:
        self.items.append(Issue(level, table, file, column, int(count), rows, message, action))

    def add_rows(
        self,
        level: str,
        table: str,
        column: str | None,
        mask: np.ndarray,
        prov: _Provenance,
        message: str,
        action: str,
        values: pd.Series | None = None,
        distinct: bool = False,
    ) -> None:
        """One issue per source file holding rows of ``mask``.

        ``message`` holds ``{n}`` (the count) and ``{where}`` (the first
        rows, and the ``values`` of those rows when given, or the first
        different values when ``distinct``).
        """
        mask = np.asarray(mask, dtype=bool)
        for code, name in enumerate(prov.names):
            idx = np.flatnonzero(mask & (prov.codes == code))
            if not len(idx):
                continue
            rows = shown(prov.rows[idx])
            keys, n_distinct = None, None
            if values is not None and distinct:
                different = pd.unique(values.iloc[idx].to_numpy(object))
                keys, n_distinct = [_show(v) for v in different[:5]], len(different)
            elif values is not None:
                keys = [_show(v) for v in values.iloc[idx[: len(rows)]].tolist()]
            text = message.format(n=len(idx), where=row_phrase(rows, len(idx), keys, n_distinct))
            self.add(level, table, name, column, len(idx), text, action, rows)


def _show(value: object) -> str:
    """A value as the client would recognise it: dates without a midnight time, 12 not 12.0."""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class _Provenance:
    """Where each row of a table came from: file (code into ``names``) and row number."""

    names: list[str]
    codes: np.ndarray
    rows: np.ndarray

    def take(self, keep: np.ndarray) -> _Provenance:
        return _Provenance(self.names, self.codes[keep], self.rows[keep])


# --------------------------------------------------------------------------- finding files


@dataclass(eq=False)
class _Source:
    label: str  # file name, or sheet name inside a workbook
    path: Path
    raw: RawFile | ReadProblem | None = None  # filled for workbook sheets
    archive: str | None = None  # the zip archive the file was unpacked from

    @property
    def shown(self) -> str:
        return self.label if self.archive is None else f"{self.label} (in {self.archive})"


def _key(name: str) -> str:
    """A file or sheet name compared without case, spaces around it, or a data suffix."""
    n = normalise_name(name)
    for suffix in DATA_SUFFIXES + (".xls",):  # .xls: matched, then refused with advice
        if n.endswith(suffix):
            return n[: -len(suffix)]
    return n


def _is_part_of(stem: str, table: str) -> bool:
    """A file holding part of a split table: ``opportunities_2024``, ``accounts-part 2``, ``reps (1)``."""
    rest = stem[len(table) :] if stem.startswith(table) else ""
    return bool(rest) and rest[0] in " _-.(" and any(ch.isdigit() for ch in rest)


def _same_stem(found: list[_Source]) -> list[_Source]:
    """The files among ``found`` that are one table twice (``accounts.csv`` and ``accounts.xlsx``)."""
    stems = pd.Series([_key(s.label) for s in found], dtype=object)
    return [s for s, twice in zip(found, stems.duplicated(keep=False), strict=True) if twice]


def _match_sources(
    sources: list[_Source], cmap: ColumnMapping, issues: _Issues, display: str
) -> dict[str, list[_Source]]:
    """Assign files (or sheets) to tables: by the mapping's ``files`` first, else by name.

    Several entries under ``files`` stack their files (Task + Event), as do
    the files a pattern matches and the parts of a split table found by name
    (``opportunities_2024.csv`` + ``opportunities_2025.csv``). One table present
    twice under the same name (``accounts.csv`` and ``accounts.xlsx``), or a
    plain name matching two files, is an error. Tables mapped to ``[]`` were
    reported here and must not also be reported as missing.
    """
    by_table: dict[str, list[_Source]] = {}
    used: set[int] = set()

    def ambiguous(table: str, found: list[_Source]) -> None:
        issues.add(
            ERROR,
            table,
            None,
            None,
            len(found),
            f"{len(found)} files could hold {table}: {', '.join(s.shown for s in found)}",
            "keep one file per table, or name the one to use under files: in the mapping",
            tuple(s.shown for s in found),
        )
        used.update(id(s) for s in found)  # reported here, not also "ignored"

    for table in TABLE_ORDER:
        named = cmap.file_names(table)
        chosen: list[_Source] = []
        clash = False
        for entry in named:
            if is_pattern(entry):
                found = [
                    s
                    for s in sources
                    if fnmatch.fnmatchcase(normalise_name(s.label), entry) or fnmatch.fnmatchcase(_key(s.label), entry)
                ]
            else:
                exact = [s for s in sources if normalise_name(s.label) == entry]
                found = exact or [s for s in sources if _key(s.label) == _key(entry)]
            if (len(found) > 1 and not is_pattern(entry)) or _same_stem(found):
                ambiguous(table, _same_stem(found) or found)
                clash = True
            chosen += [s for s in found if s not in chosen]
        by_name = [s for s in sources if _key(s.label) == table or _is_part_of(_key(s.label), table)]
        if clash:
            by_table[table] = []
            continue
        if not chosen and named and table in cmap.explicit_files:
            required = TABLES[table].required and len(by_name) != 1
            issues.add(
                ERROR if required else WARNING,
                table,
                display,
                None,
                len(named),
                f"the mapping names {', '.join(named)} for {table}, but there is no such file"
                + (f"; {by_name[0].label} is used instead" if len(by_name) == 1 else ""),
                "correct the files: entry of the mapping, or add the file",
                tuple(named),
            )
            if required:
                by_table[table] = []
                continue
        if not chosen:
            if _same_stem(by_name):
                ambiguous(table, _same_stem(by_name))
                by_table[table] = []
                continue
            chosen = by_name
        if chosen:
            by_table[table] = chosen
            used.update(id(s) for s in chosen)
    for table, s in _by_columns([s for s in sources if id(s) not in used], cmap, by_table):
        by_table[table] = [s]
        used.add(id(s))
        issues.add(
            WARNING,
            table,
            s.label if s.raw is None else f"{display} [{s.label}]",
            None,
            1,
            f"read as the {table} table from its columns (its name is no table's)",
            f"check that it is the {table} table; name it after its table (or under files: in the mapping) to say so",
        )
    for s in sources:
        if id(s) not in used:
            issues.add(
                WARNING,
                None,
                s.label if s.raw is None else f"{display} [{s.label}]",
                None,
                1,
                "not a table of the data contract; ignored",
                f"name it after its table ({', '.join(TABLE_ORDER)}) or map it under files: in the mapping, if it is one",
            )
    return by_table


def _by_columns(
    unnamed: list[_Source], cmap: ColumnMapping, found: dict[str, list[_Source]]
) -> list[tuple[str, _Source]]:
    """Files named like no table, recognised by their header instead.

    A file is the table, among those not found by name, whose required columns
    its header holds (through the mapping) and that matches the most of its
    columns (an accounts export also holds ``partner_id``, all the partners
    table requires), when it is the only such file: an export saved as
    ``export (3).csv`` still reads, while two candidates for one table, or a
    tie, stay ignored, as before.
    """
    missing = [t for t in TABLE_ORDER if t not in found]
    fits: dict[str, list[_Source]] = {}
    for s in unnamed:
        headers = s.raw.headers if isinstance(s.raw, RawFile) else peek_headers(s.path) if s.raw is None else None
        if not headers:
            continue
        resolved = {t: cmap.resolve(t, headers) for t in missing}
        score = {t: len(r) for t, r in resolved.items() if set(TABLES[t].required_columns) <= set(r)}
        best = sorted(score, key=score.get, reverse=True)
        if best and (len(best) == 1 or score[best[0]] > score[best[1]]):
            fits.setdefault(best[0], []).append(s)
    return [(t, files[0]) for t, files in fits.items() if len(files) == 1]


def _folder_sources(folder: Path) -> list[_Source]:
    skip = set(MAPPING_FILE_NAMES)
    files = [
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")) and p.name.lower() not in skip
    ]
    return [_Source(p.name, p) for p in sorted(files, key=lambda p: (p.name.casefold(), p.name))]


def _unpacked_sources(
    archive: Path, unpack_into: Path, limits: ArchiveLimits, issues: _Issues
) -> tuple[list[_Source], Path | None]:
    """The files of a zip archive, unpacked into ``unpack_into``, and the folder of
    its ``mapping.yaml`` if it holds one; a refused archive is an error."""
    try:
        members = archives.unpack(archive, unpack_into / f"{len(list(unpack_into.iterdir())):03d}", limits)
    except ArchiveProblem as problem:
        issues.add(ERROR, None, archive.name, None, 1, f"cannot read the archive: {problem.message}", problem.action)
        return [], None
    if not members:
        issues.add(
            ERROR, None, archive.name, None, 1, "the archive holds no files", "send the archive with the exports in it"
        )
        return [], None
    skip = set(MAPPING_FILE_NAMES)
    mapping_at = [p.parent for _, p in members if p.name.lower() in skip]
    sources = [
        _Source(p.name, p, archive=archive.name)
        for _, p in sorted(members, key=lambda m: (m[1].name.casefold(), m[0]))
        if p.name.lower() not in skip and not p.name.startswith("~$")
    ]
    return sources, (mapping_at[0] if len(mapping_at) == 1 else None)


def _unopenable(folder: Path, issues: _Issues) -> None:
    """Entries named like a table that are no file to read (a link to nothing, a
    folder, a pipe) are errors: skipping them would pass for a table not sent.
    They are never opened (reading a pipe would wait for ever)."""
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        if p.name.startswith((".", "~$")) or p.is_file():
            continue
        table = next((t for t in TABLES if _key(p.name) == t), None)
        if table is None or (p.is_dir() and _key(p.name) == normalise_name(p.name)):
            continue  # a plain sub-folder ("activities/") is not a file named like a table
        if p.is_symlink() and not p.exists():
            why = "it is a link to a file that does not exist"
        elif p.is_dir():
            why = "it is a folder, not a file"
        else:
            why = "it is not a regular file (a pipe or a device)"
        issues.add(
            ERROR, table, p.name, None, 1, f"cannot read {p.name}: {why}", f"replace {p.name} with the exported file"
        )


# --------------------------------------------------------------------------- one table


def _suggest(column: str, headers: list[str]) -> str:
    close = difflib.get_close_matches(column, [normalise_name(h) for h in headers], n=1, cutoff=0.5)
    if not close:
        return ""
    header = next(h for h in headers if normalise_name(h) == close[0])
    return f'; perhaps "{header}"'


def _mapped_frame(
    table: Table, raw: RawFile, cmap: ColumnMapping, issues: _Issues, stats: dict
) -> tuple[pd.DataFrame, np.ndarray, dict] | None:
    """Filter and map one file: contract columns as read (text, or parquet's types)."""
    frame, keep = raw.frame, np.ones(len(raw.frame), dtype=bool)
    headers = raw.headers
    by_norm = {normalise_name(h): h for h in reversed(headers) if h in frame}
    for column, accepted in cmap.filters.get(table.name, ()):
        if column in by_norm:
            values = parsing.to_text(frame[by_norm[column]]).fillna("").str.strip().str.casefold()
            passed = values.isin(accepted).to_numpy(bool)
            dropped = int((keep & ~passed).sum())
            if dropped:
                issues.add(
                    WARNING,
                    table.name,
                    raw.name,
                    None,
                    dropped,
                    f"{dropped} row(s) left out by the mapping's filter on {by_norm[column]} "
                    f"(kept: {', '.join(sorted(repr(a) for a in accepted))})",
                    "nothing to do if intended; otherwise change filters: in the mapping",
                )
            keep &= passed
    stats["rows_filtered"] += int((~keep).sum())
    colmap = cmap.resolve(table.name, headers)
    missing = [c for c in table.required_columns if c not in colmap]
    if missing:
        for column in missing:
            issues.add(
                ERROR,
                table.name,
                raw.name,
                column,
                1,
                f"required column {column} not found{_suggest(column, headers)}. Columns found: "
                + ", ".join(f'"{h}"' for h in headers[:30])
                + (", ..." if len(headers) > 30 else ""),
                f"rename the column to {column}, or map it in mapping.yaml "
                f"({table.name}: {{Your column: {column}}}) or with a preset (--mapping salesforce)",
            )
        return None
    fallbacks = cmap.fallbacks(table.name, headers)
    sub = frame.loc[
        keep, list(dict.fromkeys([*colmap.values(), *(h for hs in fallbacks.values() for h in hs)]))
    ].reset_index(drop=True)
    out = pd.DataFrame({target: sub[header] for target, header in colmap.items()})
    for target, others in fallbacks.items():
        # coalesce: a blank cell is filled from the next source that has one
        merged = parsing.to_text(out[target])
        for header in others:
            merged = merged.fillna(parsing.to_text(sub[header]))
        out[target] = merged
        colmap[target] = ", else ".join([colmap[target], *others])
    for target, translation in cmap.translations(table.name).items():
        if target in out:
            text = parsing.to_text(out[target])
            norm = text.str.casefold().str.replace(r"\s+", " ", regex=True)
            listed = norm.isin(list(translation)).fillna(False).to_numpy(bool)
            out[target] = text.mask(listed, norm.map(translation)).astype(parsing.TEXT_DTYPE)
    return out, raw.rows[keep], colmap


def _extra_kind(values: pd.Series, european: bool) -> str:
    """How a kept client column reads: numbers when every filled cell is one, else text."""
    _, bad = parsing.parse_numbers(values, european=european)
    return TEXT if bad.any() else NUMBER


def _parse_column(kind: str, values: pd.Series, european: bool, dayfirst: bool) -> tuple[pd.Series, pd.Series]:
    if kind == DATE:
        return parsing.parse_dates(values, dayfirst=dayfirst)
    if kind == NUMBER:
        return parsing.parse_numbers(values, european=european)
    if kind == INTEGER:
        return parsing.parse_integers(values, european=european)
    if kind == BOOL:
        return parsing.parse_bools(values)
    return parsing.parse_text(values)


_KIND_WORD = {DATE: "a date", NUMBER: "a number", INTEGER: "a whole number", BOOL: "yes/no"}
_KIND_HOW = {
    DATE: "write dates as YYYY-MM-DD (dates such as 9999-12-31 meaning 'never' should be left blank)",
    NUMBER: "write plain numbers such as 1234.50 (no text or units)",
    INTEGER: "write whole numbers such as 250",
    BOOL: "write true/false (or yes/no, 1/0)",
}


def _type_table(
    table: Table, frame: pd.DataFrame, prov: _Provenance, european_file: bool, issues: _Issues
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Parse every column to its contract type; report values that cannot be read.

    Returns the typed frame and, per column, the mask of cells that held a
    value that could not be read (they are missing in the typed frame).
    """
    kinds = {c.name: c.kind for c in table.columns} | AUX_COLUMNS.get(table.name, {})
    date_cols = [c for c in frame.columns if kinds.get(c) == DATE]
    d_first, m_first, ambiguous = (0, 0, 0)
    for c in date_cols:
        d, m, a = parsing.date_order_evidence(frame[c])
        d_first, m_first, ambiguous = d_first + d, m_first + m, ambiguous + a
    dayfirst = d_first > m_first or (d_first == m_first and european_file)
    if ambiguous and not d_first and not m_first:
        issues.add(
            WARNING,
            table.name,
            prov.names[0] if len(prov.names) == 1 else None,
            None,
            ambiguous,
            f"{ambiguous} date(s) such as 03/04/2025 could be day/month or month/day; read as "
            + (
                "day/month (the file is semicolon-separated, as European exports are)" if dayfirst else "month/day (US)"
            ),
            "write dates as YYYY-MM-DD to be sure",
        )
    typed, bad_masks = {}, {}
    for c in frame.columns:
        kind = kinds.get(c) or _extra_kind(frame[c], european_file)
        european = european_file
        if kind in (NUMBER, INTEGER):
            us, eu, amb = parsing.number_style_evidence(frame[c])
            european = eu > us or (eu == us and european_file)
            if amb and not us and not eu and kind == NUMBER:  # whole numbers have no third decimal
                issues.add(
                    WARNING,
                    table.name,
                    prov.names[0] if len(prov.names) == 1 else None,
                    c,
                    amb,
                    f"{amb} number(s) such as 1,234 or 1.234 could read two ways; read with "
                    + (
                        "a decimal comma (1.234 = 1234)"
                        if european
                        else "a decimal point (1,234 = 1234; 1.234 = 1.234)"
                    ),
                    "write numbers without thousands separators, with a decimal point",
                )
        values, bad = _parse_column(kind, frame[c], european, dayfirst)
        typed[c] = values
        bad = bad.to_numpy(bool)
        if bad.any():
            bad_masks[c] = bad
            required = c in table.required_columns
            issues.add_rows(
                ERROR if required else WARNING,
                table.name,
                c,
                bad,
                prov,
                f"{{n}} value(s) that cannot be read as {_KIND_WORD.get(kind, kind)} ({{where}})"
                + ("" if required else "; treated as blank"),
                _KIND_HOW.get(kind, "correct the values"),
                values=frame[c],
            )
    return pd.DataFrame(typed, index=frame.index), bad_masks


#: A cell that is a report's summary label, whole: "Total", "Grand Totals (1,204 records)", "Subtotal:".
_SUMMARY_LABEL = re.compile(
    r"^\s*(grand\s+totals?|sub-?\s?totals?|totals?|sum|count|average|avg)\s*(:.*|\(.*\))?\s*$", re.IGNORECASE
)
#: Text of a report's footer notes (Salesforce, HubSpot, spreadsheet exports).
_FOOTER_TEXT = re.compile(
    r"confidential information|do not distribute|generated by|copyright|\(c\)|©|all rights reserved|"
    r"salesforce\.com|powered by|report generated|filtered by|^\s*filters?\s*:",
    re.IGNORECASE,
)


#: A search that finds every cell either pattern above could match (and more): run
#: over whole columns by RE2, it leaves the few rows worth the exact test. A label's
#: first word opens the cell (after blanks), so it follows no letter or digit.
_MAYBE_SUMMARY = (
    r"(?:^|[^a-z0-9])(?:grand|sub|total|sum|count|average|avg)|confidential information|do not distribute|"
    r"generated by|copyright|\(c\)|©|all rights reserved|salesforce\.com|powered by|report generated|filter"
)


def _summary_rows(table: Table, frame: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Rows that are a report's totals or footer, not data, and the text that shows it.

    A summary row has a whole cell reading like a total ("Total", "Grand
    Totals (12 records)") in its key column, or in any column while its key is
    blank; a footer row has a single filled cell, holding a footer note
    ("Confidential Information - Do Not Distribute", "Copyright (c) …").
    Only rows whose key is blank or reads like a total or a note are looked at further,
    so a million clean rows cost one pass over their key.
    """
    n = len(frame)
    junk, shown_text = np.zeros(n, bool), pd.Series([""] * n, dtype=object)
    text_cols = [c for c in frame.columns if frame[c].dtype == object or isinstance(frame[c].dtype, pd.StringDtype)]
    if not n or not text_cols:
        return junk, shown_text
    key = table.key if table.key in text_cols else None
    if key is not None:
        # One RE2 pass over the key (pyarrow): a million clean ids cost a fraction of a second.
        keys = pc.utf8_trim_whitespace(pa.array(frame[key].astype("string"), type=pa.large_string()))
        key_label = pc.fill_null(pc.match_substring_regex(keys, _SUMMARY_LABEL.pattern, ignore_case=True), False)
        key_label = key_label.to_numpy(zero_copy_only=False)
        suspect = pc.fill_null(pc.match_substring_regex(keys, _FOOTER_TEXT.pattern, ignore_case=True), False)
        blank = pc.fill_null(pc.equal(keys, ""), True)
        candidates = np.flatnonzero(
            key_label | suspect.to_numpy(zero_copy_only=False) | blank.to_numpy(zero_copy_only=False)
        )
    else:
        key_label, candidates = np.zeros(n, bool), np.arange(n)
    if not len(candidates):
        return junk, shown_text
    # A row none of whose cells mentions a total or a note is data: one RE2 pass per column.
    maybe = key_label[candidates].copy()
    for c in text_cols:
        cells = pa.array(frame[c].iloc[candidates].astype("string"), type=pa.large_string())
        found_any = pc.fill_null(pc.match_substring_regex(cells, _MAYBE_SUMMARY, ignore_case=True), False)
        maybe |= found_any.to_numpy(zero_copy_only=False)
    candidates = candidates[maybe]
    if not len(candidates):
        return junk, shown_text
    sub = frame.iloc[candidates]
    text = sub[text_cols].astype("string").fillna("").apply(lambda col: col.str.strip())
    filled = ((text != "").sum(axis=1) + sub.drop(columns=text_cols).notna().sum(axis=1)).to_numpy()
    labels = np.column_stack([text[c].str.fullmatch(_SUMMARY_LABEL).fillna(False).to_numpy(bool) for c in text_cols])
    notes = np.column_stack([text[c].str.contains(_FOOTER_TEXT).fillna(False).to_numpy(bool) for c in text_cols])
    found = key_label[candidates] | labels.any(axis=1) | ((filled == 1) & notes.any(axis=1))
    junk[candidates[found]] = True
    shown_text.iloc[candidates[found]] = [
        next((v for v in row if v), "") for row in text[found].itertuples(index=False)
    ]
    return junk, shown_text


def _derive_defaults(
    table: Table,
    frame: pd.DataFrame,
    prov: _Provenance,
    issues: _Issues,
    as_of: pd.Timestamp | None,
    bad: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The documented defaults and derivations of ``contract.py`` (and ``is_active``).

    ``bad`` (unreadable cells per column) keeps unreadable amounts, already
    reported as errors, from being counted as blank ones.
    """
    name = table.name
    if name == "opportunities":
        if "amount" in frame:
            blank = frame["amount"].isna().to_numpy(bool) & ~bad.get("amount", np.zeros(len(frame), dtype=bool))
            if blank.any():
                issues.add_rows(
                    WARNING,
                    name,
                    "amount",
                    blank,
                    prov,
                    "{n} opportunities with a blank amount ({where}), counted as 0",
                    "fill in the amounts if they are known",
                )
                frame["amount"] = frame["amount"].mask(pd.Series(blank, index=frame.index), 0.0)
        frame = _derive_closed_won(frame)
        frame = _normalise_channel(frame, prov, issues)
    if name == "reps":
        if "role" not in frame:
            frame["role"] = pd.Series(DEFAULT_ROLE, index=frame.index, dtype=parsing.TEXT_DTYPE)
        else:
            blank = frame["role"].isna().to_numpy(bool)
            if blank.any():
                issues.add_rows(
                    WARNING,
                    name,
                    "role",
                    blank,
                    prov,
                    "{n} rep(s) with a blank role ({where}), taken as AE",
                    "fill in the roles (AE, AM, SDR, ...) if some reps are not account executives",
                )
                frame["role"] = frame["role"].fillna(DEFAULT_ROLE)
        if "is_active" in frame:
            inactive = frame["is_active"].eq(False).fillna(False).to_numpy(bool)
            if "end_date" not in frame:
                frame["end_date"] = pd.Series(pd.NaT, index=frame.index, dtype=parsing.DATE_DTYPE)
            fill = inactive & frame["end_date"].isna().to_numpy(bool)
            if fill.any():
                when = as_of if as_of is not None else pd.Timestamp(dt.date.today())
                issues.add_rows(
                    WARNING,
                    name,
                    "end_date",
                    fill,
                    prov,
                    "{n} rep(s) marked inactive with no end_date ({where}); end_date set to "
                    f"{when.date().isoformat()}, so they count as departed",
                    "give their real end dates: attainment needs them",
                )
                frame["end_date"] = frame["end_date"].mask(pd.Series(fill, index=frame.index), when)
            frame = frame.drop(columns="is_active")
    return frame


def _derive_closed_won(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill ``is_closed``/``is_won`` from ``stage`` where absent or blank.

    Closed when the stage says closed, won or lost; won when it says won and
    not lost ("Closed Won", "Won"; not "Closed Lost", "Not Won").
    """
    if "stage" not in frame:
        return frame
    stage = frame["stage"].str.casefold()
    closed = stage.str.contains(r"closed|won|lost", regex=True).astype("boolean")
    won = (stage.str.contains("won", regex=False) & ~stage.str.contains(r"lost|not won|unwon", regex=True)).astype(
        "boolean"
    )
    frame["is_closed"] = frame["is_closed"].fillna(closed) if "is_closed" in frame else closed
    frame["is_won"] = frame["is_won"].fillna(won) if "is_won" in frame else won
    # A won deal is closed, whatever its stage says.
    frame["is_closed"] = frame["is_closed"].mask(frame["is_won"].fillna(False) & frame["is_closed"].isna(), True)
    return frame


def _normalise_channel(frame: pd.DataFrame, prov: _Provenance, issues: _Issues) -> pd.DataFrame:
    """``channel`` as ``direct``/``partner`` (default direct); other words kept, warned."""
    if "channel" not in frame:
        frame["channel"] = pd.Series(DIRECT, index=frame.index, dtype=parsing.TEXT_DTYPE)
        return frame
    raw = frame["channel"].str.strip().str.casefold()
    blank = raw.isna().to_numpy(bool)
    if blank.any():
        issues.add_rows(
            WARNING,
            "opportunities",
            "channel",
            blank,
            prov,
            "{n} opportunities with a blank channel ({where}), taken as direct",
            "fill in the channel where a partner was involved",
        )
    partner = raw.str.contains(_PARTNER_WORDS, regex=True).fillna(False)
    direct = raw.str.contains(_DIRECT_WORDS, regex=True).fillna(False) & ~partner
    channel = raw.mask(partner, PARTNER).mask(direct, DIRECT).fillna(DIRECT).astype(parsing.TEXT_DTYPE)
    other = ~channel.isin([DIRECT, PARTNER]).to_numpy(bool)
    if other.any():
        issues.add_rows(
            WARNING,
            "opportunities",
            "channel",
            other,
            prov,
            "{n} channel value(s) are neither direct nor partner ({where}); kept as written",
            "map them to direct or partner (e.g. in the source file) for the channel analysis",
            values=frame["channel"],
        )
    frame["channel"] = channel
    return frame


def _aside_mask(table: Table, frame: pd.DataFrame, bad: dict[str, np.ndarray]) -> np.ndarray:
    """Rows of an optional table whose required key or date is blank (not unreadable)."""
    aside = np.zeros(len(frame), dtype=bool)
    if table.required:
        return aside
    for c in table.required_columns:
        if c != "amount" and c in frame:
            aside |= frame[c].isna().to_numpy(bool) & ~bad.get(c, np.zeros(len(frame), dtype=bool))
    return aside


def _set_aside(
    table: Table, frame: pd.DataFrame, prov: _Provenance, aside: np.ndarray, issues: _Issues
) -> tuple[pd.DataFrame, _Provenance, pd.DataFrame | None]:
    """Remove the ``aside`` rows, report them per column, return them with file and row."""
    if not aside.any():
        return frame, prov, None
    counted = np.zeros(len(frame), dtype=bool)
    for c in table.required_columns:
        if c == "amount" or c not in frame:
            continue
        blank = aside & frame[c].isna().to_numpy(bool) & ~counted
        if blank.any():
            issues.add_rows(
                WARNING,
                table.name,
                c,
                blank,
                prov,
                f"{{n}} row(s) with a blank {c}, set aside ({{where}})",
                f"fill in {c} if these rows matter; they are listed in the data-quality section",
            )
            counted |= blank
    removed = frame.loc[aside, [c for c in frame.columns if c in table.column_names]].reset_index(drop=True)
    removed.insert(0, "row", prov.rows[aside])
    removed.insert(
        0, "file", pd.Series(np.asarray(prov.names, dtype=object)[prov.codes[aside]], dtype=parsing.TEXT_DTYPE)
    )
    keep = ~aside
    return frame.loc[keep].reset_index(drop=True), prov.take(keep), removed


def _warn_blanks(
    table: Table,
    frame: pd.DataFrame,
    prov: _Provenance,
    bad: dict[str, np.ndarray],
    issues: _Issues,
    before: pd.DataFrame,
) -> None:
    """One warning per column with blank optional values (required ones are handled elsewhere).

    ``before`` is the frame's missing-value mask as sent, before defaults.
    """
    for c in frame.columns:
        if (table.name, c) in BLANK_MEANS or c in ("amount", "channel", "role") or c == table.key:
            continue
        if not table.required and c in table.required_columns:
            continue
        if c not in before:  # derived or defaulted, not sent
            continue
        blank = before[c].to_numpy(bool) & ~bad.get(c, np.zeros(len(before), dtype=bool))
        if c in ("is_closed", "is_won"):
            blank = blank & frame[c].isna().to_numpy(bool)  # only the blanks the stage could not fill
        if blank.any():
            issues.add_rows(
                WARNING,
                table.name,
                c,
                blank,
                prov,
                f"{{n}} blank {c} value(s) ({{where}})",
                f"fill in {c} where it is known",
            )


def _across_files(
    table: Table, column: str, values: pd.Series, mask: np.ndarray, prov: _Provenance, issues: _Issues
) -> np.ndarray:
    """Report keys repeated in two files of a split table (one error naming both files).

    Returns the rows of ``mask`` whose key repeats within its own file only,
    which the caller reports as plain duplicates.
    """
    if len(prov.names) < 2 or not mask.any():
        return mask
    dup = pd.DataFrame({"key": values[mask].to_numpy(object), "code": prov.codes[mask]})
    spread = dup.groupby("key", sort=False)["code"].transform("nunique").to_numpy() > 1
    if not spread.any():
        return mask
    pairs = (
        dup[spread]
        .drop_duplicates()
        .groupby("key", sort=False)["code"]
        .agg(lambda codes: tuple(sorted(codes)))
        .reset_index()
        .assign(key_text=lambda d: d["key"].map(_show))
        .sort_values(["code", "key_text"])
    )
    for codes, keys in pairs.groupby("code", sort=True)["key_text"]:
        files = [prov.names[c] for c in codes]
        issues.add(
            ERROR,
            table.name,
            " + ".join(files),
            column,
            len(keys),
            f"{len(keys)} {column} value(s) appear in both {' and '.join(files)} "
            f"({', '.join(keys.iloc[:5])}{', ...' if len(keys) > 5 else ''})",
            f"a split table holds each {_ENTITY[table.name]} once: remove the repeated rows from one file, "
            "or drop a file that is an older copy of the other",
        )
    within = mask.copy()
    within[np.flatnonzero(mask)[spread]] = False
    return within


def _report_schema(table: Table, frame: pd.DataFrame, prov: _Provenance, issues: _Issues) -> None:
    entity = _ENTITY[table.name]
    for column, kind, mask in schema_failures(table.name, frame):
        values = frame.get(column, None)
        if kind == UNIQUE:
            mask = _across_files(table, column, values, mask, prov, issues)
            issues.add_rows(
                ERROR,
                table.name,
                column,
                mask,
                prov,
                f"{{n}} rows share their {column} with another row: duplicate keys ({{where}})",
                f"make {column} unique: one row per {entity} (remove or merge the repeated rows)",
                values=values,
            )
        elif kind == NOT_NULL:
            issues.add_rows(
                ERROR,
                table.name,
                column,
                mask,
                prov,
                f"{{n}} {entity} row(s) with a blank {column} ({{where}})",
                f"give every {entity} its {column}, or remove the rows",
            )
        elif kind == ABSURD:
            issues.add_rows(
                ERROR,
                table.name,
                column,
                mask,
                prov,
                f"{{n}} value(s) of {MAX_NUMBER:,.0f} or more, which no {column} can be ({{where}})",
                f"correct the values of {column} (an export that wrote a formula or an error code in a number cell?)",
                values=None if values is None else values.map(lambda v: f"{v:.3g}"),
            )
        elif kind == NONNEG:
            issues.add_rows(
                ERROR,
                table.name,
                column,
                mask,
                prov,
                "{n} negative value(s) ({where})",
                f"{column} must be zero or more: correct the values (credits and refunds do not belong here)",
                values=values,
            )
        else:
            issues.add(
                ERROR,
                table.name,
                None,
                column,
                1,
                f"{column} has the wrong type after reading ({kind})",
                "report this to the kit's maintainers with the file",
            )


def _build_table(
    table: Table,
    raws: list[RawFile],
    cmap: ColumnMapping,
    issues: _Issues,
    as_of: pd.Timestamp | None,
    file_log: dict[str, dict],
):
    stats = {"rows_read": 0, "rows_filtered": 0, "rows_blank": 0}
    parts, provs, names = [], [], []
    for raw in raws:
        stats["rows_read"] += len(raw.frame)
        for message, action in raw.notes:
            issues.add(WARNING, table.name, raw.name, None, 1, message, action)
        mapped = _mapped_frame(table, raw, cmap, issues, stats)
        if mapped is None:
            file_log[raw.name]["status"] = "unusable"
            continue
        frame, rows, colmap = mapped
        file_log[raw.name]["columns"] = dict(colmap)
        parts.append(frame)
        provs.append(rows)
        names.append(raw.name)
    if not parts:
        return None
    if len(parts) > 1:
        # Files may disagree on a column's type (parquet next to CSV): stack as text.
        parts = [p.apply(lambda c: c if isinstance(c.dtype, pd.StringDtype) else parsing.to_text(c)) for p in parts]
    known = table.column_names + list(AUX_COLUMNS.get(table.name, {})) + cmap.extras(table.name)
    columns = [c for c in known if any(c in p for p in parts)]
    raw_frame = (
        pd.concat([p.reindex(columns=columns) for p in parts], ignore_index=True)
        if len(parts) > 1
        else parts[0][columns]
    )
    prov = _Provenance(names, np.repeat(np.arange(len(parts)), [len(p) for p in parts]), np.concatenate(provs))
    junk, shown_text = _summary_rows(table, raw_frame)
    if junk.any():
        # Report exports end in totals and notes: never accounts (a "Total" line would be the richest one).
        issues.add_rows(
            WARNING,
            table.name,
            None,
            junk,
            prov,
            "{n} summary or footer line(s) set aside, not read as data ({where})",
            "nothing to do when they are the report's totals or notes; otherwise rename the rows",
            values=shown_text,
        )
        stats["rows_summary"] = int(junk.sum())
        raw_frame = raw_frame.loc[~junk].reset_index(drop=True)
        prov = prov.take(~junk)
    european = all(r.european for r in raws)
    typed, bad = _type_table(table, raw_frame, prov, european, issues)
    # Rows with nothing in any contract column (",,,," lines, formatted but
    # empty spreadsheet rows) are not data.
    empty = typed[[c for c in typed.columns if c in table.column_names]].isna().all(axis=1).to_numpy(bool)
    for m in bad.values():
        empty = empty & ~m
    if empty.any():
        stats["rows_blank"] = int(empty.sum())
        typed = typed.loc[~empty].reset_index(drop=True)
        prov = prov.take(~empty)
        bad = {c: m[~empty] for c, m in bad.items()}
    aside = _aside_mask(table, typed, bad)
    typed, prov, removed = _set_aside(table, typed, prov, aside, issues)
    if table.name == "reps" and all(owners.keyed_by_name(file_log[n]["columns"]) for n in names):
        typed, shared = owners.disambiguate_reps(typed)
        if shared.any():
            issues.add_rows(
                WARNING,
                table.name,
                "rep_id",
                shared,
                prov,
                "{n} reps share their name with another ({where}); each is kept, the later ones as "
                '"name (2)", and owners of that name go to the first',
                "tell the people apart in the reps file and in the exports (e.g. add a middle initial)",
                values=typed["rep_name"] if "rep_name" in typed else typed["rep_id"],
                distinct=True,
            )
    bad = {c: m[~aside] for c, m in bad.items()}
    sent = typed.isna()  # blanks as sent, before defaults fill them
    typed = _derive_defaults(table, typed, prov, issues, as_of, bad)
    _warn_blanks(table, typed, prov, bad, issues, sent)
    typed = typed[[c for c in table.column_names + cmap.extras(table.name) if c in typed]]
    _report_schema(table, typed, prov, issues)
    stats["rows_set_aside"] = int(aside.sum())
    stats["rows_kept"] = len(typed)
    stats["columns_absent"] = [c for c in table.column_names if c not in raw_frame.columns]
    stats["source"] = " + ".join(names)
    return typed, prov, removed, stats


#: Tables built side by side (their typing and checks are mostly pyarrow and
#: numpy, outside Python's lock: a large company's activities and accounts
#: together take about the time of the activities alone).
BUILD_THREADS = 2


def _build_tables(
    raws_by_table: dict[str, list[RawFile]], cmap: ColumnMapping, as_of: pd.Timestamp | None
) -> dict[str, tuple[Any, _Issues, dict[str, dict]]]:
    """:func:`_build_table` of each table, in threads: table -> (what it
    returns, the issues it found, what it noted on each of its files). Each
    table keeps its issues and notes apart, so that the caller adds them in
    the order of the tables, as if they had been built one after the other."""

    def build(table: str) -> tuple[Any, _Issues, dict[str, dict]]:
        own_issues, own_log = _Issues(), defaultdict(dict)
        built = _build_table(TABLES[table], raws_by_table[table], cmap, own_issues, as_of, own_log)
        return built, own_issues, dict(own_log)

    # the largest first, so that the longest build starts at once
    todo = sorted(raws_by_table, key=lambda t: -sum(len(r.frame) for r in raws_by_table[t]))
    with ThreadPoolExecutor(max_workers=BUILD_THREADS, thread_name_prefix="intake") as pool:
        futures = {table: pool.submit(build, table) for table in todo}
        return {table: future.result() for table, future in futures.items()}


# --------------------------------------------------------------------------- the company


def _selector(cmap: ColumnMapping, tables: list[str]):
    """Which headers of a file to read: those any of its ``tables`` will use."""
    return lambda headers: sorted({h for t in tables for h in cmap.needed(t, headers)})


def _read_sources(
    path: Path, mapping: str | Path | None, issues: _Issues, unpack_into: Path, limits: ArchiveLimits
) -> tuple[ColumnMapping, list[_Source], str]:
    """The mapping and the candidate files (or sheets) of a folder, a zip archive
    (unpacked into ``unpack_into``) or a workbook. A folder's archives add their files."""
    if path.is_dir():
        _unopenable(path, issues)
        sources = []
        mapping_in_archive = None
        for s in _folder_sources(path):
            if not archives.is_archive(s.path):
                sources.append(s)
                continue
            unpacked, found = _unpacked_sources(s.path, unpack_into, limits, issues)
            sources += unpacked
            mapping_in_archive = mapping_in_archive or found
        has_own = any((path / name).is_file() for name in MAPPING_FILE_NAMES)
        cmap = load_mapping(mapping, path if has_own or mapping_in_archive is None else mapping_in_archive)
        return cmap, sources, path.name
    if archives.is_archive(path):
        sources, mapping_at = _unpacked_sources(path, unpack_into, limits, issues)
        return load_mapping(mapping, mapping_at), sources, path.name
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        raise InputError(
            f"data: {path.name} is neither a folder, a .zip archive nor a workbook (.xlsx, .xls, .xlsb, .ods); "
            "give the folder that holds the tables."
        )
    cmap = load_mapping(mapping, None)
    try:
        sheets = list(workbook_sheets(path))
    except ReadProblem as problem:
        issues.add(ERROR, None, path.name, None, 1, problem.message, problem.action)
        return cmap, [], path.name
    return cmap, [_Source(name, path, raw) for name, raw in sheets], path.name


def load_company(
    data: str | Path,
    mapping: str | Path | None = None,
    as_of: str | dt.date | None = None,
    archive_limits: ArchiveLimits | None = None,
) -> Intake:
    """Read, map, type and check one company's data (SPEC §2).

    Parameters
    ----------
    data
        A folder holding one file per table (``accounts.csv``, ``reps.xlsx``,
        ``opportunities.parquet``, ...; a table may be split over several
        files, and zip archives in it add their files), a ``.zip`` archive of
        such files, or one workbook with one sheet per table.
    mapping
        ``None`` (use the folder's ``mapping.yaml`` if any), a preset name
        (``"salesforce"``) or a YAML mapping file; see
        :mod:`diligence.intake.mapping`.
    as_of
        ISO date; dates after it are reported. ``None`` skips that check.
    archive_limits
        How large a zip archive may be (:class:`~diligence.intake.archives.ArchiveLimits`);
        its files are unpacked into a temp folder removed before this returns.

    Returns
    -------
    Intake
        The contract tables and every problem found. Problems in the data
        never raise: call :meth:`Intake.raise_for_errors` to stop on errors.

    Raises
    ------
    InputError
        When reading is impossible because of the arguments: ``data`` does
        not exist or is not a folder/workbook, an unknown preset, a mapping
        file that cannot be read or names unknown tables/columns, a bad
        ``as_of``.
    """
    path = Path(data)
    if not path.exists():
        raise InputError(f"data: {path} does not exist.")
    as_of_ts = pd.Timestamp(parse_date(as_of, "as_of")) if as_of not in (None, "") else None
    with tempfile.TemporaryDirectory(prefix=f"dk-{os.getpid()}-zip-") as unpacked:
        return _load(path, mapping, as_of_ts, archive_limits or ArchiveLimits.from_params(), Path(unpacked))


def _load(
    path: Path, mapping: str | Path | None, as_of_ts: pd.Timestamp | None, limits: ArchiveLimits, unpack_into: Path
) -> Intake:
    issues = _Issues()
    cmap, sources, display = _read_sources(path, mapping, issues, unpack_into, limits)
    workbook_failed = not path.is_dir() and not sources
    by_table = _match_sources(sources, cmap, issues, display)

    file_log: dict[str, dict] = {}
    for s in sources:
        label = s.label if s.raw is None else f"{display} [{s.label}]"
        file_log[label] = {
            "file": label,
            "table": None,
            "status": "ignored",
            "columns": {},
            "rows_read": 0,
            "rows_kept": 0,
            "rows_set_aside": 0,
        }
    cache: dict[Path, RawFile | ReadProblem] = {}
    tables_of: dict[Path, list[str]] = {}
    for table, chosen in by_table.items():
        for s in chosen:
            tables_of.setdefault(s.path, []).append(table)
    raws_by_table: dict[str, list[RawFile]] = {}
    unreadable: set[str] = set()
    entry_of: dict[str, dict] = {}  # RawFile.name -> its file_log entry
    for table, chosen in by_table.items():
        for s in chosen:
            label = s.label if s.raw is None else f"{display} [{s.label}]"
            raw = s.raw
            if raw is None:
                if s.path not in cache:
                    try:
                        cache[s.path] = read_file(
                            s.path, (table,) + cmap.file_names(table), _selector(cmap, tables_of[s.path])
                        )
                    except ReadProblem as problem:
                        cache[s.path] = problem
                raw = cache[s.path]
            entry = file_log[label]
            entry["table"] = table if entry["table"] in (None, table) else f"{entry['table']}, {table}"
            if isinstance(raw, ReadProblem):
                entry["status"] = "unreadable"
                issues.add(ERROR, table, label, None, 1, f"cannot read the file: {raw.message}", raw.action)
                unreadable.add(table)
                continue
            entry.update(status="read", rows_read=len(raw.frame))
            entry_of[raw.name] = entry
            raws_by_table.setdefault(table, []).append(raw)

    if workbook_failed:
        file_log[display] = {
            "file": display,
            "table": None,
            "status": "unreadable",
            "columns": {},
            "rows_read": 0,
            "rows_kept": 0,
            "rows_set_aside": 0,
        }
    result = Intake(files=[file_log[k] for k in sorted(file_log, key=lambda k: (k.casefold(), k))])
    provenance: dict[str, _Provenance] = {}
    built_tables = _build_tables(raws_by_table, cmap, as_of_ts)
    for table in TABLE_ORDER:
        spec = TABLES[table]
        if table not in raws_by_table:
            if spec.required and table not in unreadable and not workbook_failed and table not in by_table:
                found = ", ".join(s.label for s in sources) or "none"
                issues.add(
                    ERROR,
                    table,
                    None,
                    None,
                    1,
                    f"required table {table} not found (files found: {found})",
                    f"add {table}.csv (or .xlsx / .parquet), or name its file under files: in the mapping"
                    + (
                        " (the salesforce preset reads Account.csv and User.csv)"
                        if table in ("accounts", "reps")
                        else ""
                    ),
                )
            continue
        built, own_issues, own_log = built_tables[table]
        # what the table's build found and noted, in the order of the tables as if built one by one
        issues.items.extend(own_issues.items)
        for name, noted in own_log.items():
            entry_of[name].update(noted)
        if built is None:
            continue
        frame, prov, removed, stats = built
        if len(frame) == 0 and (spec.required or stats["rows_read"] == 0):
            issues.add(
                ERROR if spec.required else WARNING,
                table,
                stats["source"],
                None,
                0,
                f"{table} has no rows" + ("" if spec.required else ": treated as not provided"),
                f"send the {table} table with its rows"
                + ("" if spec.required else " (until then, what needs it is marked not assessed)"),
            )
            if not spec.required:
                continue  # a header with no rows says nothing: as if absent (not assessed), never "0% worked"
        result.tables[table] = frame
        result.sources[table] = stats.pop("source")
        result.counts[table] = {"source": result.sources[table], **stats}
        provenance[table] = prov
        for code, name in enumerate(prov.names):
            entry_of[name]["rows_kept"] += int((prov.codes == code).sum())
        if removed is not None:
            result.set_aside[table] = removed
            for name, n in removed["file"].value_counts().items():
                entry_of[name]["rows_set_aside"] += int(n)

    checks_found = []
    if any(owners.keyed_by_name(f["columns"]) for f in result.files if f["table"] == "reps"):
        result.tables, checks_found = owners.resolve_owner_names(result.tables)
    checks_found += checks.unknown_references(result.tables) + checks.dates_out_of_order(result.tables)
    if as_of_ts is not None:
        checks_found += checks.dates_after(result.tables, as_of_ts)
    for found in checks_found:
        issues.add_rows(
            WARNING,
            found.table,
            found.column,
            found.mask,
            provenance[found.table],
            found.message,
            found.action,
            values=result.tables[found.table][found.column],
            distinct=found.distinct,
        )
    result.issues = sort_issues(issues.items)
    return result
