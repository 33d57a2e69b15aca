"""Owners given by name: reps keyed by their name, owner columns resolved to them.

HubSpot's exports and Dynamics 365's "Export to Excel" name an owner ("Jane
Doe") rather than give a user id, so their presets key ``reps`` by name
(the same header feeds ``rep_id`` and ``rep_name``). Names are not ids: the
users export may write "Jane  Doe" where a deal says "jane doe", and two
people may share a name. These functions make the name a usable key:

- :func:`keyed_by_name` tells, from a file's column map, whether its reps are
  keyed by name;
- :func:`disambiguate_reps` keeps every person of a users export (headcount
  stays right) by suffixing a repeated name's id ("Jane Doe (2)");
- :func:`resolve_owner_names` rewrites each owner column to the rep id its
  name matches (case and spacing ignored) and reports the names that match
  more than one rep. A name matching no rep is left as written, for the
  unknown-reference check to report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diligence.intake.checks import REFERENCES, RowCheck


def keyed_by_name(columns: dict[str, str]) -> bool:
    """Whether a reps file's column map (contract column -> client header) keys reps by name."""
    header = columns.get("rep_id")
    return header is not None and header == columns.get("rep_name")


def name_key(names: pd.Series) -> pd.Series:
    """How two names are compared: trimmed, inner spaces collapsed, case folded."""
    return names.str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def disambiguate_reps(reps: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Give reps who share a name distinct ids, keeping the first one's as written.

    Parameters
    ----------
    reps
        The reps table keyed by name (``rep_id`` holds the name).

    Returns
    -------
    (reps, shared)
        ``reps`` with the second and later holders of a name (compared by
        :func:`name_key`) renamed ``"<name> (2)"``, ``"(3)"``, ...; and the
        mask of every rep whose name another rep also holds.
    """
    key = name_key(reps["rep_id"])
    shared = (key.notna() & key.duplicated(keep=False)).to_numpy(bool)
    if not shared.any():
        return reps, shared
    rank = key.groupby(key, dropna=True).cumcount() + 1
    later = (rank > 1).to_numpy(bool) & shared
    out = reps.copy()
    suffix = " (" + rank.astype("string") + ")"
    out["rep_id"] = out["rep_id"].mask(pd.Series(later, index=out.index), out["rep_id"] + suffix)
    return out, shared


def resolve_owner_names(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[RowCheck]]:
    """Point every column that names a rep at the rep whose name it matches.

    Each column of :data:`~diligence.intake.checks.REFERENCES` that refers to
    ``reps.rep_id`` is compared by :func:`name_key` with the reps' names: a
    match replaces the value with that rep's id, as written in ``reps``. A
    name two or more reps hold goes to the first of them and is reported (the
    rows cannot be told apart). Values matching no rep stay as they are.

    Returns the tables (only the changed ones copied) and one check per
    column holding ambiguous names.
    """
    reps = tables.get("reps")
    if reps is None or "rep_id" not in reps:
        return tables, []
    names = reps["rep_name"].fillna(reps["rep_id"]) if "rep_name" in reps else reps["rep_id"]
    key = name_key(names)
    canonical = pd.Series(reps["rep_id"].to_numpy(), index=key.to_numpy()).loc[lambda s: ~s.index.duplicated()]
    holders = key.value_counts()
    ambiguous_keys = holders.index[holders > 1]
    out = dict(tables)
    found = []
    for table, column, target, ref_key, what in REFERENCES:
        if target != "reps" or ref_key != "rep_id" or table not in tables or column not in tables[table]:
            continue
        values = tables[table][column]
        wanted = name_key(values)
        matched = wanted.map(canonical)
        resolved = matched.fillna(values).astype(values.dtype)
        if not resolved.equals(values):
            frame = out[table].copy()
            frame[column] = resolved
            out[table] = frame
        twice = wanted.isin(ambiguous_keys).fillna(False).to_numpy(bool)
        if twice.any():
            found.append(
                RowCheck(
                    table,
                    column,
                    twice,
                    f"{{n}} {column} value(s) name a {what} whose name more than one rep holds ({{where}}); "
                    "attributed to the first of them",
                    "tell the people apart in the reps file and in the exports (e.g. add a middle initial)",
                    distinct=True,
                )
            )
    return out, found
