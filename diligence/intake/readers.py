"""Reading the client's files as they are: CSV, Excel and parquet, as text.

Every reader returns a :class:`RawFile`: the client's own column names, the
values as text (parquet keeps its own types), and the row number of each row
as the client sees it in the file, so that problems can point at them. Types
are applied later (``parsing``), once the columns are known.

CSV: UTF-8 (with or without byte-order mark), else Windows-1252, else Latin-1;
comma, semicolon or tab, sniffed from the header line; read by pyarrow (fast,
multi-threaded), falling back to pandas' parser for ragged rows.
Spreadsheets (.xlsx, .xlsm, .xlsb, .xls, .ods): calamine, a Rust reader (cached
values, no formulas evaluated); cells keep their sheet row numbers.
Both find the header under a report's title block (:func:`header_row`).
"""

from __future__ import annotations

import codecs
import csv
import mmap
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from diligence.intake.mapping import normalise_name
from diligence.intake.parsing import TEXT_DTYPE, cell_text

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
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


#: How many non-blank rows at the top of a file are searched for the header.
_HEAD_ROWS = 30
_LETTER = re.compile(r"[^\W\d_]")


def _filled(values: list) -> list:
    return [v for v in values if v is not None and (not isinstance(v, str) or v.strip())]


def header_row(rows: list[list]) -> int:
    """Index of the header among the first non-blank rows of a file or sheet.

    CRM *report* exports put a title block above the table (the report's name,
    "Generated on ...", the filters applied: a cell or two per row). The header
    is the first row whose cells are all labels (text with a letter), at least
    two, at least 60 % as many as the widest of these rows, and at least twice
    as many as any row above it; a table of one column, or a file whose first
    row already fits, keeps its first row.
    """
    counts = [len(_filled(r)) for r in rows]
    widest = max(counts, default=0)
    if widest < 2 or counts[0] >= 0.6 * widest:
        return 0
    for i, (values, n) in enumerate(zip(rows, counts)):
        if n >= 2 and n >= 0.6 * widest and all(_is_label(v) for v in _filled(values)):
            return i if max(counts[:i]) <= n / 2 else 0
    return 0


def _is_label(value: object) -> bool:
    """A cell that can name a column: text with a letter in it (not 2000, not 30/09/2026)."""
    return isinstance(value, str) and _LETTER.search(value) is not None


def _title_note(first: list, header_at: int) -> tuple[str, str]:
    """The warning that says a title block was skipped, quoting its first line."""
    title = " ".join(str(v).strip() for v in _filled(first))
    title = title if len(title) <= 60 else title[:57] + "..."
    return (
        f'the rows above row {header_at} ("{title}" ...) read as a report\'s title block and were skipped; '
        f"the header is row {header_at}",
        "check that the header is that row; export the table without the title rows to silence this",
    )


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


def _holds_nul(path: Path) -> bool:
    """Whether any byte of the file is NUL (one scan in C; the encodings read
    here write a NUL character as that byte and no other character with it)."""
    with open(path, "rb") as fh:
        if not fh.seek(0, 2):
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return view.find(b"\x00") >= 0


def _csv_header_line(text_head: str) -> tuple[int, str]:
    """The header of a CSV file: how many lines come before it, and its text.

    Each of the first lines is split on its own most frequent delimiter, so a
    title block ("Accounts report", "Generated: 30/09/2026") is told from the
    header by :func:`header_row`.
    """
    lines = text_head.splitlines()[: _HEAD_ROWS * 2]
    at = [i for i, line in enumerate(lines) if line.strip()][:_HEAD_ROWS]
    if not at:
        return 0, ""
    cells = [next(csv.reader([lines[i]], delimiter=_delimiter(lines[i])), []) for i in at]
    line = at[header_row(cells)]
    return line, lines[line]


@dataclass(frozen=True)
class _CsvHead:
    head: bytes  # the file's first bytes
    encoding: str
    text: str  # ``head`` decoded, without a byte-order mark
    skip: int  # lines above the header (a report's title block)
    delimiter: str
    header: list[str]  # the header's cells, as written


def _csv_head(path: Path) -> _CsvHead:
    """What a CSV file's first bytes say: encoding, title block, delimiter and header.
    Raises :class:`ReadProblem` for a file that is no CSV text."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    _check_text(path, head)
    encoding = _encoding(head)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    skip, line = _csv_header_line(text)
    delimiter = _delimiter(line)
    return _CsvHead(head, encoding, text, skip, delimiter, next(csv.reader([line], delimiter=delimiter), []))


def peek_headers(path: Path) -> list[str] | None:
    """The header of a CSV or parquet file, read cheaply (None: another kind, or unreadable)."""
    try:
        suffix = path.suffix.lower()
        if suffix in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            return _unique_headers(list(pq.read_schema(path).names))
        if suffix not in CSV_SUFFIXES:
            return None
        return _unique_headers(_csv_head(path).header)
    except (OSError, ReadProblem, ValueError):
        return None
    except Exception:  # a parquet file pyarrow cannot read: reported when it is read, if ever
        return None


def _arrow_csv(
    path: Path, encoding: str, delimiter: str, n_columns: int, keep: list[int], skip: int = 0
) -> pd.DataFrame:
    """All rows (the header row first) of the columns at positions ``keep``, as text;
    the ``skip`` lines above the header are not read."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"f{i}" for i in range(n_columns)]
    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(
            column_names=names, encoding="utf8" if encoding == "utf-8-sig" else encoding, skip_rows=skip
        ),
        parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types={names[i]: pa.string() for i in keep},
            include_columns=[names[i] for i in keep],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas(types_mapper={pa.string(): TEXT_DTYPE, pa.large_string(): TEXT_DTYPE}.get)


def _pandas_csv(
    path: Path, encoding: str, delimiter: str, n_columns: int, keep: list[int], skip: int = 0
) -> pd.DataFrame:
    """The slower parser, for files pyarrow refuses: pads short rows, names the bad line."""
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            header=None,
            skiprows=skip,
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

    sniffed = _csv_head(path)
    encoding, skip, delimiter = sniffed.encoding, sniffed.skip, sniffed.delimiter
    headers = _unique_headers(sniffed.header)
    wanted = set(select(headers)) if select is not None else set(headers)
    # At least one column, to count the rows (pyarrow reads all when given none).
    keep = [i for i, h in enumerate(headers) if h in wanted] or [0]
    frame = None
    for enc in dict.fromkeys((encoding, "cp1252", "latin-1")):
        try:
            frame = _arrow_csv(path, enc, delimiter, len(headers), keep, skip)
            encoding = enc
            break
        except UnicodeDecodeError:
            continue
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) or "decode" in str(exc).lower():
                continue
            break  # ragged rows: let pandas pad them or name the line
    if frame is None:
        frame = _pandas_csv(path, encoding, delimiter, len(headers), keep, skip)
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = [headers[i] for i in keep]
    notes = header_notes(sniffed.header)
    if skip:
        first = next(line for line in sniffed.text.splitlines() if line.strip())
        notes.append(_title_note(next(csv.reader([first], delimiter=_delimiter(first)), []), skip + 1))
    # searching every value is seconds on a large export: only a file holding a NUL byte can hold one
    nul = [c for c in body.columns if body[c].str.contains("\x00", regex=False).any()] if _holds_nul(path) else []
    if nul:  # a NUL past the sniffed head: never part of an id or a name
        n = int(sum(body[c].str.contains("\x00", regex=False).sum() for c in nul))
        body[nul] = body[nul].apply(lambda col: col.str.replace("\x00", "", regex=False))
        notes.append((f"{n} value(s) held NUL bytes, removed (columns {', '.join(nul)})", "export the file again"))
    utf8_in_head = re.search(rb"[\xc2-\xf4][\x80-\xbf]+", sniffed.head) is not None
    if encoding != "utf-8-sig" and (_encoding(sniffed.head) == "utf-8-sig" or utf8_in_head):
        notes.append(
            (
                f"the file starts as UTF-8 but later lines are not: it was read as {encoding}, so accented "
                "names of the UTF-8 lines may read wrong",
                "save the whole file as UTF-8",
            )
        )
    rows = np.arange(skip + 2, len(body) + skip + 2, dtype=np.int64)  # the header is row skip + 1
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


def _open_workbook(path: Path):
    """A calamine workbook (xlsx, xlsm, xlsb, xls, ods); :class:`ReadProblem` when it cannot be opened."""
    import python_calamine as calamine

    resave = "open it in Excel and save it again as .xlsx, or export the table as CSV"
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise ReadProblem("the workbook is protected by a password", f"remove the password, or {resave}") from None
    except OSError as exc:
        raise ReadProblem(f"the workbook cannot be opened ({exc.strerror or exc})", resave) from None
    except Exception as exc:  # CalamineError, ZipError, XmlError ... on corrupt content
        raise ReadProblem(f"the workbook cannot be opened ({type(exc).__name__}: {exc})", resave) from None
    except BaseException as exc:  # a panic in the Rust reader surfaces as a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ReadProblem(f"the workbook cannot be opened ({type(exc).__name__})", resave) from None


def _sheet_frame(rows: list[list], name: str) -> RawFile:
    """A worksheet's cells (rows from the sheet's first, calamine's values) as text.

    The header is the row :func:`header_row` finds (a report's title block
    above it is skipped, and said); blank rows below it are dropped and every
    row keeps its sheet row number.
    """
    filled = [
        i for i, values in enumerate(rows) if any(not isinstance(v, str) or v.strip() for v in values if v is not None)
    ]
    if not filled:
        raise ReadProblem("the sheet is empty (no header row)", "put the column names in the first row")
    at = header_row([rows[i] for i in filled[:_HEAD_ROWS]])
    head_index = filled[at]
    header = list(rows[head_index])
    while header and (header[-1] is None or str(header[-1]).strip() == ""):
        header.pop()
    width = len(header)
    body_index = [i for i in filled if i > head_index]
    body = [rows[i] for i in body_index]
    frame = pd.DataFrame(
        [list(r[:width]) + [""] * (width - len(r)) for r in body] if body else None,
        columns=range(width),
        dtype=object,
    )
    frame = frame.apply(_cells_as_text) if len(frame) else frame
    frame.columns = _unique_headers([cell_text(h) if h is not None and h != "" else None for h in header])
    if len(frame) == 0:
        frame = pd.DataFrame({c: pd.Series([], dtype=TEXT_DTYPE) for c in frame.columns})
    notes = header_notes(header)
    if at:
        notes.append(_title_note(rows[filled[0]], head_index + 1))
    return RawFile(name, frame, np.asarray(body_index, dtype=np.int64) + 1, notes=notes)


def _cells_as_text(col: pd.Series) -> pd.Series:
    """One column of spreadsheet cells as the client reads them (see ``cell_text``).

    A column of text alone (most of them) is taken as it is; the others are
    converted per distinct value, which keeps a 300k-row sheet cheap.
    """
    values = col.to_numpy(object)
    kinds = pd.unique(np.fromiter((type(v) for v in values), dtype=object, count=len(values)))
    if len(kinds) == 1 and kinds[0] is str:
        return pd.Series(values, index=col.index, dtype=TEXT_DTYPE)
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    texts = np.array([cell_text(u) for u in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], index=col.index, dtype=TEXT_DTYPE)


def workbook_sheets(path: Path) -> Iterator[tuple[str, RawFile | ReadProblem]]:
    """Each worksheet of a workbook as ``(sheet name, RawFile or ReadProblem)``.

    Raises :class:`ReadProblem` when the workbook itself cannot be opened.
    """
    wb = _open_workbook(path)
    try:
        names = [m.name for m in wb.sheets_metadata if str(m.typ).endswith("WorkSheet")] or wb.sheet_names
        for sheet_name in names:
            try:
                rows = wb.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
                yield sheet_name, _sheet_frame(rows, f"{path.name} [{sheet_name}]")
            except ReadProblem as problem:
                yield sheet_name, problem
            except Exception as exc:  # a corrupt sheet inside a readable workbook
                yield (
                    sheet_name,
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
    raise ReadProblem(
        f"{suffix or 'files without a suffix'} is not a data format the kit reads",
        "send CSV, a workbook (.xlsx, .xls, .xlsb, .ods) or parquet",
    )
