"""Run parameters (SPEC §6): names, defaults and validation, done once at the edge.

Every parameter has a default. Overrides come from ``--params FILE.yaml``, the
portfolio file, or a notebook's ``parameters`` cell, and use the same names.
An unknown name is an error, so a typo never passes silently.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from diligence.errors import InputError

FLAG_THRESHOLDS: dict[str, Any] = {
    "RF1": 0.20,  # unassigned_pct above
    "RF2": 2.0,  # max / min attainment above, in some comparable group
    "RF3": 12,  # months without a rebalance event
    "RF4": 0.10,  # survey_mismatch_pct above
    "RF5": 0,  # channel_conflict_accounts above (without documented rules)
    "RF6": 0.25,  # headcount_shortfall_pct above
    "W1": 0.30,  # assigned_not_worked_pct above
    "W2": 0.40,  # attainment_cv_max above
    "W3": 3.0,  # potential_max_min_ratio above
    "W4": 0,  # white_space_cells above
    "W5": [3.0, 5.0],  # pipeline_coverage_median outside this band
    "W6": 0.10,  # junior_on_enterprise_pct above
    "W7": 0,  # multi_rep_accounts above
    "W8": 0,  # cross_crm_conflicting_owners above
}

DEFAULTS: dict[str, Any] = {
    "as_of": None,  # resolved to today's date when not given
    "active_window_days": 90,
    "comparable_by": ["segment", "role"],
    "white_space_dimensions": ["segment", "region"],
    "white_space_min_accounts": 5,
    "accounts_per_rep": {"Enterprise": 25, "Mid-Market": 100, "SMB": 400, "other": 150},
    "enterprise_segments": ["Enterprise"],
    "junior_levels": ["junior"],
    "rules_of_engagement_documented": False,
    "thresholds": FLAG_THRESHOLDS,
    # Assumptions of the scenario step (rebalancing tolerance, ramp, attrition, ...):
    # a mapping validated by diligence.scenarios.resolve_settings.
    "scenarios": {},
}

_LIST_OF_STR = ("comparable_by", "white_space_dimensions", "enterprise_segments", "junior_levels")
_POSITIVE_INT = ("active_window_days", "white_space_min_accounts")


def parse_date(value: Any, what: str = "as_of") -> str:
    """Return ``value`` as an ISO ``YYYY-MM-DD`` string, or raise InputError."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise InputError(
            f"{what}: {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-06-30."
        ) from None


def reject_unknown(names: Mapping[str, Any], known: Mapping[str, Any], what: str) -> None:
    """Raise InputError listing the ``names`` not in ``known`` (and the known
    ones), so that a typo never passes silently."""
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise InputError(f"{what} {', '.join(unknown)}. Known: {', '.join(known)}.")


def resolve_params(overrides: Mapping[str, Any] | None = None, *, source: str = "parameters") -> dict[str, Any]:
    """Merge ``overrides`` into the defaults and validate every value.

    Parameters
    ----------
    overrides
        A flat mapping of parameter names to values. ``thresholds`` and
        ``accounts_per_rep`` are merged key by key into their defaults.
    source
        Where the overrides came from, named in error messages.

    Returns
    -------
    dict
        A complete, JSON-serialisable parameter set with ``as_of`` as an ISO
        date string.

    Raises
    ------
    InputError
        For an unknown name, an unknown flag id in ``thresholds`` or a value
        of the wrong type.
    """
    overrides = dict(overrides or {})
    reject_unknown(overrides, DEFAULTS, f"{source}: unknown parameter(s)")
    params = copy.deepcopy(DEFAULTS)
    for name, value in overrides.items():
        if value is None and name != "as_of":
            continue
        if name == "scenarios":
            if not isinstance(value, Mapping):
                raise InputError(f"{source}: scenarios must be a mapping of scenario settings, got {value!r}.")
            params[name] = {str(k): v for k, v in value.items()}
            continue
        if name in ("thresholds", "accounts_per_rep"):
            if not isinstance(value, Mapping):
                raise InputError(f"{source}: {name} must be a mapping, got {value!r}.")
            if name == "thresholds":
                bad = sorted(set(map(str, value)) - set(FLAG_THRESHOLDS))
                if bad:
                    raise InputError(
                        f"{source}: thresholds names unknown flag id(s) {', '.join(bad)}; "
                        f"flag ids are {', '.join(FLAG_THRESHOLDS)}."
                    )
            params[name].update({str(k): v for k, v in value.items()})
        else:
            params[name] = value
    params["as_of"] = parse_date(params["as_of"] or dt.date.today(), f"{source}: as_of")
    for name in _LIST_OF_STR:
        value = params[name]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{source}: {name} must be a list of names, got {params[name]!r}.")
        params[name] = value
    for name in _POSITIVE_INT:
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{source}: {name} must be a positive whole number, got {value!r}.")
    if not isinstance(params["rules_of_engagement_documented"], bool):
        raise InputError(
            f"{source}: rules_of_engagement_documented must be true or false, "
            f"got {params['rules_of_engagement_documented']!r}."
        )
    for seg, n in params["accounts_per_rep"].items():
        if isinstance(n, bool) or not isinstance(n, (int, float)) or n <= 0:
            raise InputError(f"{source}: accounts_per_rep.{seg} must be a positive number, got {n!r}.")
    for fid, t in params["thresholds"].items():
        ok = (
            isinstance(t, list) and len(t) == 2 and all(isinstance(x, (int, float)) for x in t)
            if fid == "W5"
            else isinstance(t, (int, float)) and not isinstance(t, bool)
        )
        if not ok:
            raise InputError(f"{source}: threshold {fid} has the wrong type: {t!r}.")
    return params


def load_params_file(path: str | Path) -> dict[str, Any]:
    """Read a ``--params`` YAML file (a flat mapping) without validating names."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"--params: file {path} does not exist.") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"--params: {path} is not valid YAML ({exc}).") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"--params: {path} must hold a mapping of parameter names to values.")
    return data
