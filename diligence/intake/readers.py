"""Reading the client's files as they are: CSV, Excel and parquet, as text.

Every reader returns a :class:`RawFile`: the client's own column names, the
values as text (parquet keeps its own types), and the row number of each row
as the client sees it in the file, so that problems can point at them. Types
are applied later (``parsing``), once the columns are known.

CSV: UTF-8 (with or without byte-order mark), else Windows-1252, else Latin-1;
comma, semicolon or tab, sniffed from the header line; read by pyarrow (fast,
multi-threaded), falling back to pandas' parser for ragged rows.
Excel: openpyxl in read-only mode; cells keep their sheet row numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from diligence.intake.mapping import normalise_name
from diligence.intake.parsing import TEXT_DTYPE, cell_text

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
DATA_SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES
_SNIFF_BYTES = 1 << 16


class ReadProblem(Exception):
    """A file that cannot be read at all; ``action`` says what to do."""

    def __init__(self, message: str, action: str) -> None:
        super().__init__(message)
        self.message, self.action = message, action


@dataclass(eq=False)
class RawFile:
    """One table's worth of client data, before mapping and typing.

    ``frame`` has the client's (de-duplicated) headers, or those of them
    that were selected; ``headers`` all of them; ``rows`` the row number of
    each frame row in the file (CSV/Excel: the header is row 1);
    ``european`` is true for semicolon-separated text, the hint used for
    values such as ``1,234`` or ``03/04/2025`` that read two ways.
    """

    name: str
    frame: pd.DataFrame
    rows: np.ndarray
    european: bool = False
    headers: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (warning, what to do) about the file itself

    def __post_init__(self) -> None:
        if not self.headers:
            self.headers = list(self.frame.columns)


#: Given a file's headers, the ones to read.
Selector = Callable[[list[str]], list[str]]


def header_notes(headers: list[object]) -> list[tuple[str, str]]:
    """Warnings about a header row: names that repeat (only the first such
    column can be mapped by name) and columns without a name (never read)."""
    names = ["" if h is None else str(h).strip() for h in headers]
    notes = []
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        if name:
            positions.setdefault(name.casefold(), []).append(i)
    for where in positions.values():
        if len(where) > 1:
            shown = names[where[0] - 1]
            notes.append(
                (
                    f'the header "{shown}" appears {len(where)} times (columns {", ".join(map(str, where))}): '
                    "the first is the one read",
                    "give each column its own name in the export",
                )
            )
    blank = [i for i, name in enumerate(names, start=1) if not name]
    if blank:
        notes.append(
            (
                f"{len(blank)} column(s) without a header (column {', '.join(map(str, blank[:10]))}): not read",
                "name the columns in the header row if they hold data the kit should use",
            )
        )
    return notes


def _unique_headers(headers: list[object]) -> list[str]:
    """Blank headers become ``Unnamed: i``; repeats get ``.1``, ``.2`` as pandas does."""
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        name = "" if h is None else str(h).strip()
        name = name or f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


# --------------------------------------------------------------------------- CSV


def _encoding(head: bytes) -> str:
    """The first of utf-8-sig, cp1252, latin-1 that decodes the file's head."""
    for enc in ("utf-8-sig", "cp1252"):
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
            return enc
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _delimiter(first_line: str) -> str:
    """The most frequent of comma, semicolon, tab outside quotes in the header line."""
    outside = first_line.split('"')[::2]
    counts = {d: sum(part.count(d) for part in outside) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _check_text(path: Path, head: bytes) -> None:
    if not head.lstrip(codecs.BOM_UTF8).strip():
        raise ReadProblem("the file is empty (no header row)", "export the table again with its header row")
    if head.startswith(b"PK\x03\x04"):
        raise ReadProblem(
            "the file is an Excel workbook or zip archive, not CSV text",
            f"rename it to {path.stem}.xlsx if it is a workbook, or save it as CSV",
        )
    if b"\x00" in head:
        raise ReadProblem(
            "the file holds binary data, not CSV text (UTF-16 or a corrupt export?)",
            "save it again as CSV in UTF-8",
        )


def _arrow_csv(path: Path, encoding: str, delimiter: str, n_columns: int, keep: list[int]) -> pd.DataFrame:
    """All rows (the header row first) of the columns at positions ``keep``, as text."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"f{i}" for i in range(n_columns)]
    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(column_names=names, encoding="utf8" if encoding == "utf-8-sig" else encoding),
        parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types={names[i]: pa.string() for i in keep},
            include_columns=[names[i] for i in keep],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas(types_mapper={pa.string(): TEXT_DTYPE, pa.large_string(): TEXT_DTYPE}.get)


def _pandas_csv(path: Path, encoding: str, delimiter: str, n_columns: int, keep: list[int]) -> pd.DataFrame:
    """The slower parser, for files pyarrow refuses: pads short rows, names the bad line."""
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            engine="c",
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ReadProblem(
            f"the file cannot be parsed as CSV ({str(exc).strip()})",
            "check quoting and the number of fields on the row named, or save it again as CSV",
        ) from None
    if frame.shape[1] > n_columns:
        raise ReadProblem(
            f"some rows have more fields than the header's {n_columns}",
            "check the delimiter and quoting, or give every column a header",
        )
    return frame.iloc[:, keep].astype(TEXT_DTYPE).fillna("")


def read_csv(path: Path, select: Selector | None = None) -> RawFile:
    """Read a CSV file as text; raise :class:`ReadProblem` if it cannot be read.

    ``select`` picks, from the file's headers, the columns worth keeping
    (CRM exports carry dozens the kit never uses); all are kept without it.
    """
    import pyarrow as pa

    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    _check_text(path, head)
    encoding = _encoding(head)
    text_head = head.decode(encoding, errors="replace").lstrip("\ufeff")
    delimiter = _delimiter(text_head.splitlines()[0] if text_head else "")
    header = next(csv.reader(io.StringIO(text_head), delimiter=delimiter), [])
    headers = _unique_headers(header)
    wanted = set(select(headers)) if select is not None else set(headers)
    # At least one column, to count the rows (pyarrow reads all when given none).
    keep = [i for i, h in enumerate(headers) if h in wanted] or [0]
    frame = None
    for enc in dict.fromkeys((encoding, "cp1252", "latin-1")):
        try:
            frame = _arrow_csv(path, enc, delimiter, len(headers), keep)
            encoding = enc
            break
        except UnicodeDecodeError:
            continue
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) or "decode" in str(exc).lower():
                continue
            break  # ragged rows: let pandas pad them or name the line
    if frame is None:
        frame = _pandas_csv(path, encoding, delimiter, len(headers), keep)
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = [headers[i] for i in keep]
    notes = header_notes(header)
    nul = [c for c in body.columns if body[c].str.contains("\x00", regex=False).any()]
    if nul:  # a NUL past the sniffed head: never part of an id or a name
        n = int(sum(body[c].str.contains("\x00", regex=False).sum() for c in nul))
        body[nul] = body[nul].apply(lambda col: col.str.replace("\x00", "", regex=False))
        notes.append((f"{n} value(s) held NUL bytes, removed (columns {', '.join(nul)})", "export the file again"))
    utf8_in_head = re.search(rb"[\xc2-\xf4][\x80-\xbf]+", head) is not None
    if encoding != "utf-8-sig" and (_encoding(head) == "utf-8-sig" or utf8_in_head):
        notes.append(
            (
                f"the file starts as UTF-8 but later lines are not: it was read as {encoding}, so accented "
                "names of the UTF-8 lines may read wrong",
                "save the whole file as UTF-8",
            )
        )
    rows = np.arange(2, len(body) + 2, dtype=np.int64)  # header is row 1
    cut = _cut_off(path, delimiter, len(headers))
    if cut and len(body):
        notes.append(
            (
                f"the file ends in the middle of a line (row {rows[-1]} has {cut} of {len(headers)} columns): "
                "it looks cut off; the missing values of that row read as blank",
                "export the file again, whole",
            )
        )
    return RawFile(path.name, body, rows, european=delimiter == ";", headers=headers, notes=notes)


def _cut_off(path: Path, delimiter: str, n_columns: int) -> int | None:
    """The number of fields of the file's last line when the file ends without a
    line break inside a short last line (a truncated export), else None."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_536))
        tail = fh.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return None
    last = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    fields = len(next(csv.reader([last], delimiter=delimiter), []))
    return fields if fields < n_columns else None


# --------------------------------------------------------------------------- Excel


def _sheet_frame(ws, name: str) -> RawFile:
    """A worksheet as text, header = its first non-empty row."""
    rows_iter = ws.iter_rows(values_only=True)
    first = 1  # openpyxl yields every row from the first, empty ones included
    header, body, numbers = None, [], []
    for offset, values in enumerate(rows_iter):
        if not any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
            continue
        if header is None:
            header = list(values)
            continue
        body.append(values)
        numbers.append(first + offset)
    if header is None:
        raise ReadProblem("the sheet is empty (no header row)", "put the column names in the first row")
    while header and (header[-1] is None or str(header[-1]).strip() == ""):
        header.pop()
    width = len(header)
    frame = pd.DataFrame(
        [list(r[:width]) + [None] * (width - len(r)) for r in body], columns=range(width), dtype=object
    )
    frame = frame.apply(lambda col: col.map(cell_text, na_action="ignore").astype(TEXT_DTYPE)).fillna("")
    frame.columns = _unique_headers([cell_text(h) if h is not None else None for h in header])
    if len(frame) == 0:
        frame = pd.DataFrame({c: pd.Series([], dtype=TEXT_DTYPE) for c in frame.columns})
    return RawFile(name, frame, np.asarray(numbers, dtype=np.int64), notes=header_notes(header))


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ReadProblem(
            f"the workbook cannot be opened ({type(exc).__name__}: {exc})",
            "open it in Excel and save it again as .xlsx, or export the table as CSV",
        ) from None
    except Exception as exc:  # openpyxl raises many kinds on corrupt content
        raise ReadProblem(
            f"the workbook cannot be opened ({type(exc).__name__})",
            "open it in Excel and save it again as .xlsx, or export the table as CSV",
        ) from None


def workbook_sheets(path: Path) -> Iterator[tuple[str, RawFile | ReadProblem]]:
    """Each sheet of a workbook as ``(sheet name, RawFile or ReadProblem)``.

    Raises :class:`ReadProblem` when the workbook itself cannot be opened.
    """
    wb = _open_workbook(path)
    try:
        for ws in wb.worksheets:
            try:
                yield ws.title, _sheet_frame(ws, f"{path.name} [{ws.title}]")
            except ReadProblem as problem:
                yield ws.title, problem
            except Exception as exc:  # a corrupt sheet inside a readable workbook
                yield (
                    ws.title,
                    ReadProblem(
                        f"the sheet cannot be read ({type(exc).__name__})", "save the workbook again from Excel"
                    ),
                )
    finally:
        wb.close()


def read_excel(path: Path, prefer: tuple[str, ...] = ()) -> RawFile:
    """One table from a workbook file: the sheet named in ``prefer`` (normalised
    names); else, of the sheets that hold a table, the one with the most cells
    (a cover or notes sheet before the data is passed over, and said). Problems
    name the sheet whenever the workbook has more than one."""
    sheets = list(workbook_sheets(path))
    if not sheets:
        raise ReadProblem("the workbook has no sheets", "save the table in the workbook's first sheet")
    many = len(sheets) > 1
    chosen = next((s for s in sheets if normalise_name(s[0]) in prefer), None)
    if chosen is None and many:
        tables = [s for s in sheets if isinstance(s[1], RawFile) and len(s[1].frame)]
        if not tables:
            said = "; ".join(
                f"[{name}] {raw.message if isinstance(raw, ReadProblem) else 'has no rows'}" for name, raw in sheets
            )
            raise ReadProblem(
                f"no sheet of the workbook holds a table ({said})",
                "put the table's column names in the first row of a sheet, its rows below",
            )
        chosen = max(tables, key=lambda s: s[1].frame.size)  # the first of the largest
        if chosen is not sheets[0]:
            passed = ", ".join(f"[{name}]" for name, _ in sheets[: sheets.index(chosen)])
            chosen[1].notes.append(
                (
                    f"read sheet [{chosen[0]}], the one holding the most data; {passed} before it passed over",
                    "name the sheet after its table (e.g. accounts) to choose it yourself",
                )
            )
    name, raw = chosen or sheets[0]
    if isinstance(raw, ReadProblem):
        if many:
            raise ReadProblem(f"sheet [{name}]: {raw.message}", raw.action)
        raise raw
    raw.name = raw.name if many else path.name
    return raw


# --------------------------------------------------------------------------- parquet


def read_parquet(path: Path, select: Selector | None = None) -> RawFile:
    """A parquet file with its own types; rows are numbered from 1."""
    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        columns = None
        if select is not None and len(set(names)) == len(names):
            wanted = set(select(_unique_headers(list(names))))
            columns = [n for n in names if n in wanted]
        frame = pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... on a bad file
        raise ReadProblem(
            f"the parquet file cannot be read ({type(exc).__name__}: {exc})",
            "write the table to parquet again, or send CSV",
        ) from None
    frame = frame.reset_index(drop=True)
    frame.columns = _unique_headers(list(frame.columns))
    return RawFile(path.name, frame, np.arange(1, len(frame) + 1, dtype=np.int64), headers=_unique_headers(list(names)))


def read_file(path: Path, prefer_sheets: tuple[str, ...] = (), select: Selector | None = None) -> RawFile:
    """Read one data file by its suffix; raise :class:`ReadProblem` on failure.

    ``prefer_sheets``: normalised sheet names to pick in a workbook;
    ``select``: which headers to read (CSV and parquet; all when ``None``).
    """
    suffix = path.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            return read_csv(path, select)
        if suffix in EXCEL_SUFFIXES:
            return read_excel(path, prefer_sheets)
        if suffix in PARQUET_SUFFIXES:
            return read_parquet(path, select)
    except OSError as exc:
        raise ReadProblem(
            f"the file cannot be opened ({exc.strerror or exc})", "check the file's permissions"
        ) from None
    if suffix == ".xls":
        raise ReadProblem("old-style .xls workbooks are not read", "open it in Excel and save it as .xlsx")
    raise ReadProblem(
        f"{suffix or 'files without a suffix'} is not a data format the kit reads", "send CSV, .xlsx or parquet"
    )
