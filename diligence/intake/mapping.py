"""Column mappings: the client's names -> the contract's (SPEC §2).

A mapping is YAML, per table ``Client column: contract_column`` or
``Client column: [contract_a, contract_b]`` (one client column feeds two),
``Client column: null`` (never use this column), plus optional top-level
keys::

    preset: salesforce                 # start from a shipped preset, override below
    files:                             # which file (or sheet) holds a table
      opportunities: sales_pipeline.csv
      activities: [Task, Event]        # several files are stacked
      accounts: "*all-companies*"      # a pattern (* ? [..]) for dated export names
    filters:                           # keep only rows whose column holds one of these
      assignment_history: {Field: [Owner, ownerAssignment]}
    keep:                              # client columns kept beside the contract's
      accounts: [Tier, Vertical]       # (as ``tier``, ``vertical``: numbers or text)
    values:                            # how a contract column reads the client's codes
      opportunities:
        is_won: {Won: true, Lost: false, "1": true, "2": false}
    coalesce:                          # columns filled cell by cell from all their sources
      opportunities: [close_date]      # (Actual Close Date, else Est. Close Date)

Names are matched case-insensitively after trimming (a byte-order mark or
quotes around a header are ignored). A file's column whose name *is* a
contract column (``Account_ID``, ``account id``) matches it without a mapping.
When several client columns map to one contract column, the first of them
present in the file is used (mapping order), so a preset can list every
label an export may use without mixing two sources cell by cell; the
contract columns listed under ``coalesce`` are the exception: a blank cell of
the first source present is filled from the next ones, in mapping order.

A ``files`` entry holding ``*``, ``?`` or ``[`` is a pattern matched against
the normalised file (or sheet) name, with or without its suffix; like a plain
name, a pattern that matches two files is an error (say which one to use).
``values`` translate, per contract column, the client's cell values (compared
case-insensitively after trimming) before they are read: a value not listed is
read as written, one mapped to ``null`` is blank. Translation comes after
``coalesce``.

Presets are YAML files of this same form in ``diligence/intake/presets/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path

from diligence.contract import TABLES
from diligence.errors import InputError
from diligence.yamlfile import read_yaml

PRESET_DIR = Path(__file__).parent / "presets"
MAPPING_FILE_NAMES = ("mapping.yaml", "mapping.yml")

#: Columns intake reads to derive contract columns, then drops.
#: ``reps.is_active``: an inactive user with no end date counts as departed.
AUX_COLUMNS: dict[str, dict[str, str]] = {"reps": {"is_active": "bool"}}

_RESERVED = ("preset", "files", "filters", "keep", "values", "coalesce")
_PATTERN = re.compile(r"[*?\[]")


def normalise_name(name: object) -> str:
    """Case-folded, trimmed name with BOM, surrounding quotes and repeated spaces removed."""
    text = str(name).replace("\ufeff", "").strip().strip("\"'").strip()
    return re.sub(r"\s+", " ", text).casefold()


def is_pattern(name: str) -> bool:
    """A ``files`` entry that is a pattern (``*all-companies*``), not a name."""
    return bool(_PATTERN.search(name))


def _contract_key(name: object) -> str:
    """How a header is compared with contract names: ``Account ID`` ~ ``account_id``."""
    return re.sub(r"[\s\-]+", "_", normalise_name(name))


@dataclass(frozen=True)
class ColumnMapping:
    """The resolved mapping for every table.

    ``columns[table]`` is an ordered tuple of ``(normalised client name,
    targets)``; ``files[table]`` the normalised file names or stems that hold
    the table; ``filters[table]`` pairs of ``(normalised client column,
    accepted normalised values)``; ``explicit_files`` the tables whose files
    were named by the user (not a preset), so a missing one is reported;
    ``values[table][column]`` maps normalised client values to the text read
    (``None``: blank); ``coalesce[table]`` the contract columns filled cell by
    cell from all their sources.
    """

    columns: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    filters: dict[str, tuple[tuple[str, frozenset[str]], ...]] = field(default_factory=dict)
    explicit_files: frozenset[str] = frozenset()
    origin: str = "none"
    keep: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, str | None]]] = field(default_factory=dict)
    coalesce: dict[str, frozenset[str]] = field(default_factory=dict)

    def extras(self, table: str) -> list[str]:
        """The names of the client columns kept beside ``table``'s contract columns."""
        return [name for _, name in self.keep.get(table, ())]

    def resolve(self, table: str, headers: Iterable[str]) -> dict[str, str]:
        """Map contract (and auxiliary) columns to the header that feeds each.

        Parameters
        ----------
        table
            Contract table name.
        headers
            The file's column names, as written.

        Returns
        -------
        dict
            ``{contract_column: header}`` in contract order; the mapping is
            tried first (in its order), then headers named like a contract
            column. Headers mapped to ``null`` are never used.
        """
        by_norm: dict[str, str] = {}
        for h in headers:
            by_norm.setdefault(normalise_name(h), h)
        chosen: dict[str, str] = {}
        blocked = set()
        for client, targets in self.columns.get(table, ()):
            if client not in by_norm:
                continue
            if not targets:
                blocked.add(client)
            for t in targets:
                chosen.setdefault(t, by_norm[client])
        wanted = TABLES[table].column_names + list(AUX_COLUMNS.get(table, {}))
        by_contract: dict[str, str] = {}
        for norm, header in by_norm.items():
            if norm not in blocked:
                by_contract.setdefault(_contract_key(header), header)
        for col in wanted:
            if col not in chosen and col in by_contract:
                chosen[col] = by_contract[col]
        for client, name in self.keep.get(table, ()):
            if client in by_norm and name not in chosen:
                chosen[name] = by_norm[client]
                wanted.append(name)
        return {c: chosen[c] for c in wanted if c in chosen}

    def fallbacks(self, table: str, headers: Iterable[str]) -> dict[str, list[str]]:
        """For ``table``'s ``coalesce`` columns, the headers after the one
        :meth:`resolve` chose, in mapping order: where its cell is blank, the
        first of them that is filled is used."""
        wanted = self.coalesce.get(table, frozenset())
        if not wanted:
            return {}
        headers = list(headers)
        chosen = self.resolve(table, headers)
        by_norm: dict[str, str] = {}
        for h in headers:
            by_norm.setdefault(normalise_name(h), h)
        out: dict[str, list[str]] = {}
        for client, targets in self.columns.get(table, ()):
            for t in targets:
                header = by_norm.get(client)
                if (
                    t in wanted
                    and t in chosen
                    and header is not None
                    and header != chosen[t]
                    and header not in out.setdefault(t, [])
                ):
                    out[t].append(header)
        return {t: hs for t, hs in out.items() if hs}

    def translations(self, table: str) -> dict[str, dict[str, str | None]]:
        """``table``'s ``values``: per contract column, normalised client value -> text read."""
        return self.values.get(table, {})

    def needed(self, table: str, headers: Iterable[str]) -> list[str]:
        """The headers a file must keep for ``table``: mapped, fallback and filter columns."""
        headers = list(headers)
        filters = {column for column, _ in self.filters.get(table, ())}
        fallbacks = [h for hs in self.fallbacks(table, headers).values() for h in hs]
        return (
            list(self.resolve(table, headers).values())
            + fallbacks
            + [h for h in headers if normalise_name(h) in filters]
        )

    def file_names(self, table: str) -> tuple[str, ...]:
        return self.files.get(table, ())


def preset_names() -> list[str]:
    """Names of the presets shipped with the kit."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _parse(data: object, source: str) -> ColumnMapping:
    """Validate the YAML content of a mapping and build a :class:`ColumnMapping`."""
    if data is None:
        data = {}
    if not isinstance(data, MappingABC):
        raise InputError(f"mapping {source}: expected table names with column mappings, got {type(data).__name__}.")
    unknown = sorted(str(k) for k in data if str(k) not in TABLES and str(k) not in _RESERVED)
    if unknown:
        raise InputError(
            f"mapping {source}: unknown table(s) {', '.join(unknown)}. "
            f"Tables are {', '.join(TABLES)}; other keys allowed: {', '.join(_RESERVED)}."
        )
    columns: dict[str, tuple] = {}
    for table in TABLES:
        entries = data.get(table) or {}
        if not isinstance(entries, MappingABC):
            raise InputError(f"mapping {source}: {table} must map client column names to contract columns.")
        allowed = TABLES[table].column_names + list(AUX_COLUMNS.get(table, {}))
        pairs = []
        for client, target in entries.items():
            targets = tuple(str(t) for t in _as_list(target) if t is not None)
            bad = [t for t in targets if t not in allowed]
            if bad:
                raise InputError(
                    f"mapping {source}: {table}: {client!s} maps to {', '.join(bad)}, "
                    f"which is not a column of {table}. Columns: {', '.join(allowed)}."
                )
            pairs.append((normalise_name(client), targets))
        if pairs:
            columns[table] = tuple(pairs)
    files = {}
    for table, names in (data.get("files") or {}).items():
        if str(table) not in TABLES:
            raise InputError(f"mapping {source}: files: unknown table {table}; tables are {', '.join(TABLES)}.")
        files[str(table)] = tuple(normalise_name(n) for n in _as_list(names) if n is not None)
    filters = {}
    for table, rules in (data.get("filters") or {}).items():
        if str(table) not in TABLES or not isinstance(rules, MappingABC):
            raise InputError(
                f"mapping {source}: filters: expected {{table: {{column: [values]}}}}, got {table}: {rules!r}."
            )
        filters[str(table)] = tuple(
            (
                normalise_name(col),
                frozenset("" if v is None else normalise_name(_yaml_scalar(v)) for v in _as_list(vals)),
            )
            for col, vals in rules.items()
        )
    keep = {}
    for table, names in (data.get("keep") or {}).items():
        if str(table) not in TABLES:
            raise InputError(f"mapping {source}: keep: unknown table {table}; tables are {', '.join(TABLES)}.")
        pairs = []
        for client in _as_list(names):
            name = _contract_key(client)
            if not name or name in TABLES[str(table)].column_names or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                raise InputError(
                    f"mapping {source}: keep: {table}: {client!s} cannot be kept as {name!r}: name a client column "
                    "whose name is not a contract column (map contract columns under the table instead)."
                )
            pairs.append((normalise_name(client), name))
        keep[str(table)] = tuple(pairs)
    values: dict[str, dict[str, dict[str, str | None]]] = {}
    for table, rules in (data.get("values") or {}).items():
        allowed = (
            TABLES[str(table)].column_names + list(AUX_COLUMNS.get(str(table), {})) if str(table) in TABLES else []
        )
        if not allowed or not isinstance(rules, MappingABC):
            raise InputError(
                f"mapping {source}: values: expected {{table: {{column: {{client value: value}}}}}}, "
                f"got {table}: {rules!r}."
            )
        for column, pairs in rules.items():
            if str(column) not in allowed or not isinstance(pairs, MappingABC):
                raise InputError(
                    f"mapping {source}: values: {table}: {column!s} must be a column of {table} "
                    f"({', '.join(allowed)}) mapped to {{client value: value}}."
                )
            values.setdefault(str(table), {})[str(column)] = {
                normalise_name(_yaml_scalar(k)): None if v is None else _yaml_scalar(v) for k, v in pairs.items()
            }
    coalesce = {}
    for table, names in (data.get("coalesce") or {}).items():
        allowed = TABLES[str(table)].column_names if str(table) in TABLES else []
        bad = [str(n) for n in _as_list(names) if str(n) not in allowed]
        if not allowed or bad:
            raise InputError(
                f"mapping {source}: coalesce: expected {{table: [contract columns]}}, got {table}: {names!r}."
            )
        coalesce[str(table)] = frozenset(str(n) for n in _as_list(names))
    return ColumnMapping(columns, files, filters, frozenset(files), source, keep, values, coalesce)


def _yaml_scalar(value: object) -> str:
    """YAML turns ``true``/``1`` into bool/int: give them back as the text a file holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_yaml(path: Path, source: str) -> object:
    return read_yaml(path, f"mapping {source}", encoding="utf-8-sig")


def _merge(base: ColumnMapping, over: ColumnMapping) -> ColumnMapping:
    """``over`` on top of ``base``: its column entries first; its files, filters,
    keep and coalesce replace per table, its values per column."""
    columns = {t: over.columns.get(t, ()) + base.columns.get(t, ()) for t in set(base.columns) | set(over.columns)}
    return ColumnMapping(
        columns,
        {**base.files, **over.files},
        {**base.filters, **over.filters},
        over.explicit_files,
        f"{over.origin} (on {base.origin})",
        {**base.keep, **over.keep},
        {t: {**base.values.get(t, {}), **over.values.get(t, {})} for t in set(base.values) | set(over.values)},
        {**base.coalesce, **over.coalesce},
    )


def load_preset(name: str) -> ColumnMapping:
    """The shipped preset ``name``; raise InputError listing presets if unknown."""
    path = PRESET_DIR / f"{name.strip().lower()}.yaml"
    if not path.is_file():
        raise InputError(
            f"mapping: unknown preset {name!r}. Presets: {', '.join(preset_names())}; or give a YAML file."
        )
    mapping = _parse(_read_yaml(path, f"preset {name}"), f"preset {name}")
    return ColumnMapping(
        mapping.columns,
        mapping.files,
        mapping.filters,
        frozenset(),
        f"preset {path.stem}",
        mapping.keep,
        mapping.values,
        mapping.coalesce,
    )


def load_mapping(spec: str | Path | None, folder: Path | None = None) -> ColumnMapping:
    """Resolve the ``mapping`` argument of :func:`~diligence.intake.load_company`.

    Parameters
    ----------
    spec
        ``None`` (use ``mapping.yaml`` in ``folder`` if there is one), a
        preset name, or a path to a YAML mapping file.
    folder
        The data folder, when the data is a folder.

    Raises
    ------
    InputError
        For an unknown preset, a file that cannot be read, or a mapping that
        names unknown tables or columns.
    """
    if spec is None:
        for name in MAPPING_FILE_NAMES:
            if folder is not None and (folder / name).is_file():
                return load_mapping(folder / name)
        return ColumnMapping()
    path = Path(spec)
    looks_like_file = path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1 or path.is_file()
    if not looks_like_file:
        return load_preset(str(spec))
    data = _read_yaml(path, path.name)
    mapping = _parse(data, path.name)
    base = data.get("preset") if isinstance(data, MappingABC) else None
    return _merge(load_preset(str(base)), mapping) if base else mapping
