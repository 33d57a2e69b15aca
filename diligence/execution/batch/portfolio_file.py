"""The portfolio file of ``diligence batch`` (SPEC §7): read, validate, resolve.

A portfolio file is YAML::

    defaults:                  # optional, for every company
      as_of: 2026-06-30
      params: {active_window_days: 90}
      mapping: salesforce
    companies:
      - name: Alpha Software
        data: alpha/           # folder or workbook, relative to this file
        as_of: 2026-06-30      # optional
        mapping: salesforce    # optional: preset name or file
        params: {rules_of_engagement_documented: true}   # optional

Everything about the file itself is checked here, once, before any company runs:
a problem is an :class:`~diligence.errors.InputError` (exit 2) that names the
company and the key. Whether a company's *data* can be read is not checked here:
bad data fails that company alone, while the others run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diligence.errors import InputError
from diligence.params import parse_date, resolve_params
from diligence.report.safe import slugify
from diligence.yamlfile import read_yaml

TOP_KEYS = ("defaults", "companies")
DEFAULT_KEYS = ("as_of", "params", "mapping")
COMPANY_KEYS = ("name", "data", "as_of", "mapping", "params")
#: Parameters merged key by key (a company overrides one threshold, not all of them).
_NESTED_PARAMS = ("thresholds", "accounts_per_rep")


@dataclass(frozen=True)
class CompanySpec:
    """One company of a portfolio, every path absolute and every parameter resolved.

    Attributes
    ----------
    name
        The company's name, as the report shows it.
    slug
        Its folder name in the batch's output folder (:func:`~diligence.report.safe.slugify`).
    data
        Absolute path of its data folder or workbook (not checked to exist).
    as_of
        The as-of date, ISO ``YYYY-MM-DD``.
    params
        The complete SPEC §6 parameter set (:func:`~diligence.params.resolve_params`).
    mapping
        A preset name, an absolute path to a mapping file, or None.
    """

    name: str
    slug: str
    data: str
    as_of: str
    params: dict[str, Any] = field(hash=False)
    mapping: str | None = None


@dataclass(frozen=True)
class Portfolio:
    """A validated portfolio file: its path and its companies, in file order."""

    path: Path
    companies: tuple[CompanySpec, ...]


def _where(index: int, entry: Mapping[str, Any] | None = None) -> str:
    name = entry.get("name") if isinstance(entry, Mapping) else None
    return f"companies[{index}] ({name!s})" if _text(name) else f"companies[{index}]"


def _text(value: Any) -> str:
    """A scalar YAML value as stripped text ('' for None, containers and booleans)."""
    if value is None or isinstance(value, (bool, list, dict)):
        return ""
    return str(value).strip()


def _unknown_keys(entry: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> list[str]:
    unknown = sorted(map(str, set(entry) - set(allowed)))
    if not unknown:
        return []
    return [f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}."]


def _merge_params(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``; thresholds and accounts_per_rep merged key by key."""
    merged = {**base, **over}
    for name in _NESTED_PARAMS:
        if isinstance(base.get(name), Mapping) and isinstance(over.get(name), Mapping):
            merged[name] = {**base[name], **over[name]}
    return merged


def _mapping(value: Any, root: Path, where: str, problems: list[str]) -> str | None:
    """A preset name as it is, a mapping file as an absolute path relative to ``root``.

    Same rule as the intake's: a ``.yaml``/``.yml`` suffix, a path separator or an
    existing file means a file; anything else names a preset.
    """
    if value is None:
        return None
    text = _text(value)
    if not text:
        problems.append(f"{where}: mapping must be a preset name or a file path, got {value!r}.")
        return None
    path = Path(text).expanduser()
    if path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1 or (root / path).is_file():
        return str((root / path).resolve())
    return text


def _params_of(entry: Mapping[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    value = entry.get("params")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where}: params must be a mapping of parameter names to values, got {value!r}.")
        return {}
    return {str(k): v for k, v in value.items()}


def _date_or_note(value: Any, what: str, problems: list[str]) -> str | None:
    """``value`` as an ISO date, None when absent; a bad date is noted in ``problems``."""
    if value is None:
        return None
    try:
        return parse_date(value, what)
    except InputError as exc:
        problems.append(str(exc))
        return None


def read_portfolio_yaml(path: str | Path) -> dict[str, Any]:
    """Read the portfolio file as a mapping, or raise InputError saying why not."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"portfolio: file {path} does not exist.")
    if not path.is_file():
        raise InputError(f"portfolio: {path} is not a file; give the portfolio YAML file.")
    data = read_yaml(path, "portfolio")
    if not isinstance(data, Mapping):
        raise InputError(
            f"portfolio: {path} must be a mapping with a 'companies' list (and optional 'defaults'); see SPEC §7."
        )
    return dict(data)


def load_portfolio(path: str | Path, *, today: dt.date | None = None) -> Portfolio:
    """Read and validate a portfolio file (SPEC §7).

    Parameters
    ----------
    path
        The portfolio YAML file. Data and mapping paths in it are relative to
        its folder.
    today
        The as-of date of companies that give none (default: today's date),
        fixed once so that every such company of the batch shares it.

    Returns
    -------
    Portfolio
        The companies in file order. A company's value beats the default:
        ``as_of`` (its own, else its ``params.as_of``, else the defaults'),
        ``mapping``, and ``params`` merged name by name (``thresholds`` and
        ``accounts_per_rep`` key by key).

    Raises
    ------
    InputError
        Listing every problem found: a missing or unreadable file, not YAML, no
        companies, a company without ``name`` or ``data``, duplicate names or
        slugs, unknown keys, a bad ``as_of``, unknown or ill-typed parameters.
    """
    path = Path(path)
    doc = read_portfolio_yaml(path)
    root = path.resolve().parent
    problems: list[str] = _unknown_keys(doc, TOP_KEYS, "portfolio")

    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        problems.append(f"defaults must be a mapping (as_of, params, mapping), got {defaults!r}.")
        defaults = {}
    problems += _unknown_keys(defaults, DEFAULT_KEYS, "defaults")
    default_params = _params_of(defaults, "defaults", problems)
    default_as_of = _date_or_note(defaults.get("as_of"), "defaults: as_of", problems)
    default_mapping = _mapping(defaults.get("mapping"), root, "defaults", problems)

    companies = doc.get("companies")
    if not isinstance(companies, list) or not companies:
        problems.append("companies: list at least one company (each with a name and data).")
        companies = []

    specs: list[CompanySpec] = []
    seen_names: dict[str, int] = {}
    seen_slugs: dict[str, int] = {}
    for i, entry in enumerate(companies):
        where = _where(i, entry)
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: each company must be a mapping with name and data, got {entry!r}.")
            continue
        n_before = len(problems)
        problems += _unknown_keys(entry, COMPANY_KEYS, where)
        name, data = _text(entry.get("name")), _text(entry.get("data"))
        if not name:
            problems.append(f"{where}: name is missing; give the company's name.")
        if not data:
            problems.append(f"{where}: data is missing; give the company's data folder or workbook.")
        if name:
            slug = slugify(name)
            if name.casefold() in seen_names:
                problems.append(
                    f"{where}: duplicate company name {name!r} (also companies[{seen_names[name.casefold()]}])."
                )
            elif slug in seen_slugs:
                problems.append(
                    f"{where}: {name!r} gives the same folder name {slug!r} as companies[{seen_slugs[slug]}]; "
                    f"rename one of them."
                )
            seen_names.setdefault(name.casefold(), i)
            seen_slugs.setdefault(slug, i)
        own = _params_of(entry, where, problems)
        merged = _merge_params(default_params, own)
        as_of = _date_or_note(entry.get("as_of"), f"{where}: as_of", problems) or (
            _date_or_note(own.get("as_of"), f"{where}: params.as_of", problems)
            or default_as_of
            or _date_or_note(default_params.get("as_of"), "defaults: params.as_of", problems)
            or (today or dt.date.today()).isoformat()
        )
        merged["as_of"] = as_of
        try:
            resolved = resolve_params(merged, source=f"{where}: params")
        except InputError as exc:
            problems.append(str(exc))
            resolved = {}
        mapping = _mapping(entry.get("mapping"), root, where, problems) if "mapping" in entry else default_mapping
        if len(problems) == n_before:
            specs.append(
                CompanySpec(
                    name=name,
                    slug=slugify(name),
                    data=str((root / Path(data).expanduser()).resolve()),
                    as_of=as_of,
                    params=resolved,
                    mapping=mapping,
                )
            )
    problems = list(dict.fromkeys(problems))  # a bad default is reported once, not per company
    if problems:
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems, first: {problems[0]}"
        raise InputError(f"portfolio {path}: {head}", problems=problems if len(problems) > 1 else [])
    return Portfolio(path=path.resolve(), companies=tuple(specs))
