"""Turning client text into the contract's types: text, dates, numbers, booleans.

Every parser takes a column as it came from the file (normally text, see
:func:`to_text`) and returns ``(values, bad)``: the typed values, and a boolean
mask of cells that held something but could not be read. Blank cells are
missing values and never "bad"; what a bad cell means (error or warning) is
decided by the caller, which knows whether the column is required.

The parsers work on the column's distinct values (``pandas.factorize``) and
use vectorized regular expressions on them, so a five-million-row column with
a few thousand distinct dates costs little more than the factorization.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

TEXT_DTYPE = pd.StringDtype()  # "string": pd.NA for missing, as contract.py documents
DATE_DTYPE = "datetime64[ns]"

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0", "x", "checked"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0", "unchecked"})

# Excel serial day numbers of 1927-05-18 .. 2173-10-13: wide enough for CRM
# dates, narrow enough not to read a five-digit id or amount as a date.
_SERIAL_MIN, _SERIAL_MAX = 10_000, 100_000
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
# Dates pandas can hold at nanosecond resolution; "9999-12-31"-style "never"
# dates fall outside and are reported rather than wrapped around.
_DATE_MIN, _DATE_MAX = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")


# --------------------------------------------------------------------------- text


def to_text(values: pd.Series) -> pd.Series:
    """Return ``values`` as stripped pandas ``string`` with blanks missing.

    Numbers that are whole (an id ``12`` that Excel or parquet stored as
    ``12.0``) lose their ``.0``; booleans become ``true``/``false``; dates
    become ISO text. Already-text columns are only stripped.
    """
    s = values
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
        if s.dtype == object:
            s = s.map(cell_text, na_action="ignore")
        s = s.astype(TEXT_DTYPE).str.strip()
    elif pd.api.types.is_bool_dtype(s.dtype):
        s = s.map({True: "true", False: "false"}).astype(TEXT_DTYPE)
    elif pd.api.types.is_integer_dtype(s.dtype):
        s = s.astype("Int64").astype(TEXT_DTYPE)
    elif pd.api.types.is_float_dtype(s.dtype):
        f = s.astype("float64")
        whole = np.isfinite(f) & (f == np.round(f)) & (f.abs() < 2**53)
        as_int = f.where(whole).astype("Int64").astype(TEXT_DTYPE)
        s = as_int.where(whole, f.astype(TEXT_DTYPE)).mask(f.isna())
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        s = s.dt.strftime("%Y-%m-%dT%H:%M:%S").str.removesuffix("T00:00:00").astype(TEXT_DTYPE)
    else:
        s = s.astype(TEXT_DTYPE).str.strip()
    return s.mask(s == "").astype(TEXT_DTYPE)


def cell_text(value: object) -> str:
    """Text of one spreadsheet cell as the client would read it (Excel reader only)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def parse_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text columns: stripped, blank -> missing; nothing is ever bad."""
    s = to_text(values)
    return s, pd.Series(False, index=s.index)


# --------------------------------------------------------------------------- helpers


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes and stripped distinct texts of a column; code -1 for a blank cell.

    Only the distinct values are stripped, which keeps long columns cheap.
    """
    if not isinstance(values.dtype, pd.StringDtype):
        values = to_text(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    u = pd.Series(np.asarray(uniques, dtype=object), dtype=TEXT_DTYPE).str.strip()
    blank = np.append((u == "").to_numpy(bool), True)  # the extra slot is code -1
    codes = np.where(blank[codes], -1, codes)
    return codes, u


def _on_distinct(
    values: pd.Series, parse: Callable[[pd.Series], np.ndarray], missing: object
) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``parse`` to the distinct non-blank values and spread the result.

    Returns ``(parsed, has_value)`` as numpy arrays aligned with ``values``.
    """
    codes, u = _distinct(values)
    parsed_u = parse(u)
    parsed_u = np.append(parsed_u, np.array([missing], dtype=parsed_u.dtype))
    return parsed_u[codes], codes >= 0


def distinct_texts(values: pd.Series) -> pd.Series:
    """The distinct non-blank values of a column, stripped, as text."""
    _codes, u = _distinct(values)
    return u[u != ""].drop_duplicates().reset_index(drop=True)


# --------------------------------------------------------------------------- dates

_ISO = r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:$|[T ])"
_DMY_OR_MDY = r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?:$|[T ,])"
_COMPACT = r"^(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})$"
_SERIAL = r"^\d{5}(?:\.\d+)?$"
_NAMED_MONTH = r"[A-Za-z]{3,}"


def date_order_evidence(values: pd.Series) -> tuple[int, int, int]:
    """Count distinct ``a/b/yyyy`` dates that prove day-first, month-first, or neither.

    Returns ``(dayfirst, monthfirst, ambiguous)``: ``31/12/2025`` proves
    day-first, ``12/31/2025`` month-first, ``03/04/2025`` proves nothing.
    Dotted dates (``31.12.2025``) are always day-first and not counted.
    """
    u = distinct_texts(values)
    parts = u.str.extract(_DMY_OR_MDY).dropna(subset=["a"])
    parts = parts[parts["sep"] != "."]
    a, b = parts["a"].astype(int), parts["b"].astype(int)
    return (
        int(((a > 12) & (b <= 12)).sum()),
        int(((b > 12) & (a <= 12)).sum()),
        int(((a <= 12) & (b <= 12) & (a != b)).sum()),
    )


def _ymd(y: pd.Series, m: pd.Series, d: pd.Series) -> np.ndarray:
    """Calendar dates from year/month/day text parts; NaT where impossible."""
    frame = pd.DataFrame({"year": pd.to_numeric(y), "month": pd.to_numeric(m), "day": pd.to_numeric(d)})
    ok = frame.notna().all(axis=1)
    out = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[ns]")
    if ok.any():
        f = frame[ok].astype("int64")
        inside = f["year"].between(_DATE_MIN.year, _DATE_MAX.year)
        parsed = pd.to_datetime(f[inside], errors="coerce")
        out[np.flatnonzero(ok.to_numpy())[inside.to_numpy()]] = parsed.to_numpy("datetime64[ns]")
    return out


def _parse_dates_distinct(u: pd.Series, dayfirst: bool) -> np.ndarray:
    out = np.full(len(u), np.datetime64("NaT"), dtype="datetime64[ns]")
    todo = np.ones(len(u), dtype=bool)

    iso = u.str.extract(_ISO)
    hit = iso["y"].notna().to_numpy()
    out[hit] = _ymd(iso["y"][hit], iso["m"][hit], iso["d"][hit])
    todo &= ~hit

    slash = u.str.extract(_DMY_OR_MDY)
    hit = slash["a"].notna().to_numpy() & todo
    if hit.any():
        p = slash[hit]
        year = p["y"].astype(int)
        year = year.where(p["y"].str.len() == 4, 2000 + year)  # two-digit years: 20yy
        first_is_day = (p["sep"] == ".") | dayfirst
        day = p["a"].where(first_is_day, p["b"])
        month = p["b"].where(first_is_day, p["a"])
        out[hit] = _ymd(year, month, day)
        todo &= ~hit

    compact = u.str.extract(_COMPACT)
    hit = compact["y"].notna().to_numpy() & todo
    out[hit] = _ymd(compact["y"][hit], compact["m"][hit], compact["d"][hit])
    todo &= ~hit

    hit = u.str.fullmatch(_SERIAL).fillna(False).to_numpy(bool) & todo
    if hit.any():
        serial = pd.to_numeric(u[hit]).to_numpy()
        inside = (serial >= _SERIAL_MIN) & (serial < _SERIAL_MAX)
        days = _EXCEL_EPOCH + np.floor(np.where(inside, serial, 0)).astype("timedelta64[D]")
        out[hit] = np.where(inside, days.astype("datetime64[ns]"), np.datetime64("NaT"))
        todo &= ~hit

    # "Jan 22, 2024", "22-Jan-2024": only text that names a month and holds a
    # day and a four-digit year, so dateutil never fills a part from today.
    named = (
        u.str.contains(_NAMED_MONTH).fillna(False)
        & u.str.contains(r"\b\d{4}\b").fillna(False)
        & u.str.contains(r"(?:^|\D)\d{1,2}(?:\D|$)").fillna(False)
    ).to_numpy(bool) & todo
    if named.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(u[named], format="mixed", dayfirst=dayfirst, errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        parsed = parsed.where(parsed.between(_DATE_MIN, _DATE_MAX)).dt.normalize()
        out[named] = parsed.to_numpy("datetime64[ns]")
    return out


def parse_dates(values: pd.Series, dayfirst: bool = False) -> tuple[pd.Series, pd.Series]:
    """Read a date column as naive ``datetime64[ns]`` at midnight.

    Accepted: ISO dates and timestamps (``2024-01-22``,
    ``2024-01-22T16:14:25.000+0000`` counts as 2024-01-22: the date as
    written, whatever the zone), ``1/22/2024`` and ``01/22/2024 4:14 PM``
    (or day-first when ``dayfirst``; dotted ``31.12.2025`` is always
    day-first), ``20240122``, Excel serial day numbers, spreadsheet date
    cells, and month names with a day and a four-digit year. Dates outside
    1678-2261 (such as a ``9999-12-31`` "never") are bad, not wrapped.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        s = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        s = s.where(s.between(_DATE_MIN, _DATE_MAX)).dt.normalize().astype(DATE_DTYPE)
        return s, values.notna() & s.isna()
    parsed, has_value = _on_distinct(values, lambda u: _parse_dates_distinct(u, dayfirst), np.datetime64("NaT"))
    s = pd.Series(parsed, index=values.index, dtype=DATE_DTYPE)
    return s, pd.Series(has_value & np.isnat(parsed), index=values.index)


# --------------------------------------------------------------------------- numbers

_CURRENCY = r"^[A-Z]{3}(?=[\d\s(+\-.,])|(?<=[\d\s)])[A-Z]{3}$|[$€£¥₹¤]|\s|\u00a0|\u202f|'"
_PLAIN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_US_GROUPED = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"
_EU_GROUPED = r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?$"
_EU_DECIMAL = r"^[+-]?\d+,\d+$"
_AMBIGUOUS = r"^[+-]?\d{1,3}[.,]\d{3}$"  # 1,234 or 1.234: a thousands group or three decimals
# A currency sign or code: an amount, which has no third decimal, so €1.000 is a thousand.
_MONEY = r"[$€£¥₹¤]|^[A-Z]{3}(?=[\d\s(+\-.,])|(?<=[\d\s)])[A-Z]{3}$"


def _clean_number_text(u: pd.Series) -> pd.Series:
    """Drop currency signs/codes, spaces and apostrophes; ``(12)`` -> ``-12``; ``12-`` -> ``-12``."""
    c = u.str.replace(_CURRENCY, "", regex=True)
    c = c.str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    return c.str.replace(r"^([^-].*)-$", r"-\1", regex=True)


def _number_styles(c: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks over cleaned distinct values: US-only, European-only, ambiguous."""
    fm = lambda pattern: c.str.fullmatch(pattern).fillna(False).to_numpy(bool)  # noqa: E731
    ambiguous = fm(_AMBIGUOUS)
    us = (fm(_US_GROUPED) | (fm(_PLAIN) & c.str.contains(".", regex=False).fillna(False).to_numpy(bool))) & ~ambiguous
    eu = (fm(_EU_GROUPED) | fm(_EU_DECIMAL)) & ~ambiguous
    return us, eu, ambiguous


def number_style_evidence(values: pd.Series) -> tuple[int, int, int]:
    """Count distinct values proving US style (``1,234.50``), European style
    (``1.234,50``), or neither (``1,234``). Returns ``(us, european, ambiguous)``."""
    if not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
        return 0, 0, 0
    u = distinct_texts(values)
    if not u.str.contains(r"[^\d.+\-eE]|\..*\.", regex=True).any():
        # digits and at most one point (the usual case): no European evidence possible
        amb = u.str.fullmatch(_AMBIGUOUS).to_numpy(bool)
        us = u.str.contains(".", regex=False).to_numpy(bool) & ~amb
        return int(us.sum()), 0, int(amb.sum())
    us, eu, amb = _number_styles(_clean_number_text(u))
    amb &= ~u.str.contains(_MONEY, regex=True).fillna(False).to_numpy(bool)  # read as a thousands group
    return int(us.sum()), int(eu.sum()), int(amb.sum())


def _floats(text: pd.Series) -> np.ndarray:
    """Plain number texts (or NA) as float64; a digit string beyond the float range
    reads as infinite (then reported unreadable), never as an overflow."""
    try:
        return pd.to_numeric(text, errors="coerce").to_numpy("float64", na_value=np.nan)
    except OverflowError:  # pandas keeps a 400-digit integer as a Python int
        return np.array([np.nan if pd.isna(x) else float(x) for x in text], dtype="float64")


def _parse_numbers_distinct(u: pd.Series, european: bool, whole: bool = False) -> np.ndarray:
    plain = u.str.fullmatch(_PLAIN).fillna(False)
    if plain.all() and not (whole and u.str.fullmatch(_AMBIGUOUS).any()):
        return _floats(u)  # the usual case: no separators or symbols to untangle
    c = _clean_number_text(u)
    _us, eu, amb = _number_styles(c)
    grouped = amb & (whole | u.str.contains(_MONEY, regex=True).fillna(False).to_numpy(bool))
    as_eu = (eu | (amb & european)) & ~grouped
    as_us = ~as_eu & ~grouped
    text = c.where(~pd.Series(as_us, index=c.index), c.str.replace(",", "", regex=False))
    text = text.where(
        ~pd.Series(as_eu, index=c.index), c.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    text = text.where(~pd.Series(grouped, index=c.index), c.str.replace(r"[.,]", "", regex=True))
    plain = text.str.fullmatch(_PLAIN).fillna(False)
    return _floats(text.where(plain))


def parse_numbers(values: pd.Series, european: bool = False, *, whole: bool = False) -> tuple[pd.Series, pd.Series]:
    """Read a number column as ``float64``.

    Accepted: ``1234.5``, ``1,234.50``, ``$1,234``, ``USD 1,234``, ``(1,234)``
    (negative), ``1e6``, spreadsheet numbers, and European ``1.234,50`` /
    ``1 234,50 €``. A value that only one convention can read is read that
    way. ``1,234`` and ``1.234`` (either a thousands group or three decimals)
    are a thousands group when they carry a currency sign or code (``€1.000``:
    amounts have no third decimal) or when the column holds whole numbers
    (``whole``); otherwise they follow ``european``, which the caller sets from
    the column's other values or the file's delimiter.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("Int64")
    if pd.api.types.is_numeric_dtype(values.dtype):
        s = values.astype("float64")
        bad = values.notna() & ~np.isfinite(s.fillna(0))
        return s.where(~bad), bad
    parsed, has_value = _on_distinct(values, lambda u: _parse_numbers_distinct(u, european, whole), np.nan)
    bad = has_value & (np.isnan(parsed) | np.isinf(parsed))
    s = pd.Series(np.where(bad, np.nan, parsed), index=values.index, dtype="float64")
    return s, pd.Series(bad, index=values.index)


def parse_integers(values: pd.Series, european: bool = False) -> tuple[pd.Series, pd.Series]:
    """Read a whole-number column as nullable ``Int64``; fractions such as 12.5 are
    bad, and ``1.234`` is a thousands group whatever the convention."""
    s, bad = parse_numbers(values, european, whole=True)
    whole = s.isna() | ((s == np.round(s)) & (s.abs() < 2**53))
    bad = bad | ~whole
    return s.where(whole).astype("Int64"), bad


# --------------------------------------------------------------------------- booleans


def parse_bools(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read a yes/no column as nullable ``boolean``.

    true/false, TRUE/FALSE, yes/no, y/n, t/f, 1/0 (any case), spreadsheet
    booleans, and the checkbox words of some exports (checked/unchecked, x).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        s = values.astype("boolean")
        return s, pd.Series(False, index=values.index)
    lookup = lambda u: (  # noqa: E731
        u.str.casefold()
        .map(lambda w: True if w in TRUE_WORDS else (False if w in FALSE_WORDS else None))
        .to_numpy(object)
    )
    parsed, has_value = _on_distinct(values, lookup, None)
    s = pd.Series(parsed, index=values.index, dtype="boolean")
    return s, pd.Series(has_value & s.isna().to_numpy(), index=values.index)
