"""Run parameters (SPEC §6): names, defaults and validation, done once at the edge.

Every parameter has a default. Overrides come from ``--params FILE.yaml``, the
portfolio file, or a notebook's ``parameters`` cell, and use the same names.
An unknown name is an error, so a typo never passes silently.

The validated set is one typed object, :class:`Params`. The run writes it to
``work/params.json``; every step notebook reads it back from there
(:func:`diligence.execution.notebook.open_run`), so a parameter reaches every
notebook by being a field here, and nowhere else. Flag thresholds default to
the flag registry's (:mod:`diligence.registry`); scenario settings
(:data:`SCENARIO_DEFAULTS`) travel inside it as ``scenarios``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diligence.errors import InputError
from diligence.registry import FLAG_IDS, default_thresholds, threshold_ok
from diligence.yamlfile import read_yaml

FLAG_THRESHOLDS: dict[str, Any] = default_thresholds()

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
    # Which potential weighs the accounts: "column" (the client's), "model" (learnt from the
    # company's wins, used only when it validates) or "proxy" (annual revenue); None: the
    # column when present, else the model when it validates, else the proxy.
    "potential_source": None,
    # When the model validates (holdout AUC, wins to learn from) and what else it learns from.
    "potential_model": {"min_auc": 0.60, "min_train_wins": 50, "features": []},
    # How large a zip archive of the company's data may be: unpacked size in MiB, unpacked /
    # packed size of one member (a zip bomb is far past CRM exports' ten to one), entries.
    "archive_limits": {"max_mb": 8192, "max_ratio": 100, "max_members": 10_000},
    # Assumptions of the scenario step (rebalancing tolerance, ramp, attrition, ...):
    # a mapping over SCENARIO_DEFAULTS, validated by resolve_settings.
    "scenarios": {},
}

_MERGED = ("thresholds", "accounts_per_rep", "scenarios")  # mappings merged key by key into the defaults
_LIST_OF_STR = ("comparable_by", "white_space_dimensions", "enterprise_segments", "junior_levels")
_POSITIVE_INT = ("active_window_days", "white_space_min_accounts")


#: The dates the kit reasons about (pandas' nanosecond timestamps end in 2262).
DATE_RANGE = (dt.date(1900, 1, 1), dt.date(2200, 12, 31))


def parse_date(value: Any, what: str = "as_of") -> str:
    """Return ``value`` as an ISO ``YYYY-MM-DD`` string, or raise InputError
    (also for a date outside :data:`DATE_RANGE`)."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise InputError(f"{what}: {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-06-30.") from None
    if not DATE_RANGE[0] <= day <= DATE_RANGE[1]:
        raise InputError(
            f"{what}: {day.isoformat()} is outside the dates the kit reads "
            f"({DATE_RANGE[0].isoformat()} to {DATE_RANGE[1].isoformat()})."
        )
    return day.isoformat()


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
        date string and ``scenarios`` resolved over :data:`SCENARIO_DEFAULTS`
        (:class:`Params` holds the same, typed).

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
            params[name].update({str(k): v for k, v in value.items()})
            continue
        if name in ("potential_model", "archive_limits"):
            if not isinstance(value, Mapping):
                raise InputError(f"{source}: {name} must be a mapping, got {value!r}.")
            reject_unknown(value, DEFAULTS[name], f"{source}: {name}: unknown name(s)")
            params[name].update({str(k): v for k, v in value.items()})
            continue
        if name in ("thresholds", "accounts_per_rep"):
            if not isinstance(value, Mapping):
                raise InputError(f"{source}: {name} must be a mapping, got {value!r}.")
            if name == "thresholds":
                bad = sorted(set(map(str, value)) - set(FLAG_IDS))
                if bad:
                    raise InputError(
                        f"{source}: thresholds names unknown flag id(s) {', '.join(bad)}; "
                        f"flag ids are {', '.join(FLAG_IDS)}."
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
        if not threshold_ok(fid, t):
            shape = "a band [low, high] with low ≤ high" if isinstance(FLAG_THRESHOLDS[fid], list) else "a number"
            raise InputError(f"{source}: threshold {fid} must be {shape}, got {t!r}.")
        if isinstance(t, tuple):
            params["thresholds"][fid] = list(t)
    _check_potential(params, source)
    for key, value in params["archive_limits"].items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
            raise InputError(f"{source}: archive_limits.{key} must be a positive number, got {value!r}.")
    try:
        params["scenarios"] = resolve_settings(params["scenarios"])
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    return params


POTENTIAL_SOURCES = ("column", "model", "proxy")


def _check_potential(params: dict[str, Any], source: str) -> None:
    """Validate ``potential_source`` and ``potential_model`` in place."""
    choice = params["potential_source"]
    if choice is not None and choice not in POTENTIAL_SOURCES:
        raise InputError(
            f"{source}: potential_source must be one of {', '.join(POTENTIAL_SOURCES)} (or left out), got {choice!r}."
        )
    model = params["potential_model"]
    auc = model["min_auc"]
    if isinstance(auc, bool) or not isinstance(auc, (int, float)) or not 0.5 <= auc <= 1:
        raise InputError(f"{source}: potential_model.min_auc must be a number from 0.5 to 1, got {auc!r}.")
    wins = model["min_train_wins"]
    if isinstance(wins, bool) or not isinstance(wins, int) or wins <= 0:
        raise InputError(f"{source}: potential_model.min_train_wins must be a positive whole number, got {wins!r}.")
    features = [model["features"]] if isinstance(model["features"], str) else model["features"]
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise InputError(f"{source}: potential_model.features must be a list of account columns, got {features!r}.")
    model["features"] = features


@dataclass(frozen=True, eq=False)
class Params(Mapping[str, Any]):
    """The validated run parameters (SPEC §6), one typed object.

    Built only by :meth:`resolve` (or :meth:`load`, which validates again), so
    holding a ``Params`` means holding a complete, checked set. It reads like
    the mapping of SPEC names it came from (``params["thresholds"]``,
    ``params.get("active_window_days")``), which is how the metric functions
    take it, and :meth:`as_dict` gives the JSON form that ``work/params.json``,
    the portfolio fingerprints and the notebooks exchange.
    """

    as_of: str
    active_window_days: int
    comparable_by: list[str]
    white_space_dimensions: list[str]
    white_space_min_accounts: int
    accounts_per_rep: dict[str, float]
    enterprise_segments: list[str]
    junior_levels: list[str]
    rules_of_engagement_documented: bool
    thresholds: dict[str, Any]
    potential_source: str | None
    potential_model: dict[str, Any]
    archive_limits: dict[str, Any]
    scenarios: dict[str, Any]

    @classmethod
    def resolve(cls, overrides: Mapping[str, Any] | None = None, *, source: str = "parameters") -> Params:
        """The defaults with ``overrides`` applied and validated (:func:`resolve_params`)."""
        return cls(**resolve_params(overrides, source=source))

    @classmethod
    def load(cls, path: str | Path) -> Params:
        """Read a ``params.json`` written by :meth:`save`, validating it again."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read the run's parameters ({exc}).") from None
        return cls.resolve(data, source=str(path.name))

    def save(self, path: str | Path) -> None:
        """Write the parameters as stable JSON (the run's ``work/params.json``)."""
        Path(path).write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def replace(self, overrides: Mapping[str, Any] | None = None, *, source: str = "parameters") -> Params:
        """These parameters with ``overrides`` applied on top, validated again
        (``thresholds``, ``accounts_per_rep`` and ``scenarios`` merge key by key)."""
        overrides = dict(overrides or {})
        reject_unknown(overrides, DEFAULTS, f"{source}: unknown parameter(s)")
        merged = self.as_dict()
        for name, value in overrides.items():
            if value is None:
                continue
            if name in _MERGED and isinstance(value, Mapping):
                merged[name] = {**merged[name], **value}
            else:
                merged[name] = value
        return Params.resolve(merged, source=source)

    def as_dict(self) -> dict[str, Any]:
        """A deep copy as a plain dict of SPEC names, JSON-ready."""
        return copy.deepcopy({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    def __getitem__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(DEFAULTS)

    def __len__(self) -> int:
        return len(DEFAULTS)


def load_params_file(path: str | Path) -> dict[str, Any]:
    """Read a ``--params`` YAML file (a flat mapping) without validating names."""
    path = Path(path)
    data = read_yaml(path, "--params")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"--params: {path} must hold a mapping of parameter names to values.")
    return data


#: Scenario settings and their defaults.
SCENARIO_DEFAULTS: dict[str, Any] = {
    "balance_tolerance": 0.10,  # every book within ±10% of its comparable group's mean potential
    # None: observed in the company's history where it allows (the capacity plan says which), else
    # ASSUMED_INPUTS; a number given here is used as set
    # months for a new hire to reach full productivity (linear ramp): a number for every segment, or a
    # mapping segment -> months ({Enterprise: 9, SMB: 4, other: 6}; names matched as the norms are)
    "ramp_months": None,
    "annual_attrition": None,  # expected share of quota-carrying reps leaving per year
    "plan_quarters": 4,  # length of the hiring plan
    "locked_accounts": [],  # account_ids the rebalancer must not move
    "region_affinity": False,  # new owners only from the account's region
    "reassign_junior_enterprise": False,  # also move enterprise accounts junior reps hold today
    # Time budget of each MILP solve, in seconds. The MILP starts from the heuristic's plan, so a
    # solve the budget stops keeps an answer at least as good and says so with the gap it reached.
    # The demo company's solves end on their own well within it (a solve that ends by itself gives
    # the same plan on any machine; one stopped by the clock depends on how busy the machine is).
    "milp_time_limit_s": 30.0,
    "milp_max_accounts": 4000,  # above this many movable accounts the heuristic is used alone
    "fully_loaded_cost_per_rep": None,  # None: cost_to_quota_ratio x quota per ramped rep
    "cost_to_quota_ratio": 0.35,  # fully loaded cost of a rep as a share of its quota, when no cost is given
    "quota_per_ramped_rep": None,  # None: median quota of the segment's active quota-carrying reps
    "revenue_uplift_range": [0.02, 0.07],  # revenue gain from better territory design (background documents)
    # What a move costs beyond 1, per disruption class of the account (diligence.scenarios.disruption):
    # an open opportunity, a customer (a win in the last 365 days), an activity by its owner in the window.
    "disruption_weights": {"open_opportunity": 2.0, "customer": 3.0, "owner_activity": 1.0},
    "protect": [],  # disruption classes whose accounts may not move at all, e.g. [customer]
    # The trade-off curve: the rebalancer at each balance tolerance.
    "curve_tolerances": [0.05, 0.10, 0.15, 0.20, 0.25],
    # Branch-and-bound nodes the MILP may spend proving each curve point (a count, not a clock, so the
    # curve is the same on any machine); 0: the heuristic alone, no proof.
    "curve_milp_node_limit": 200,
    # Named plans evaluated side by side: [{name, balance_tolerance, hires_by_segment, attrition,
    # ramp_months, protect, ...}]; None: the three standard plans (diligence.scenarios.plans).
    "plans": None,
    # What the books are balanced on: potential, workload (activities in the window) or a composite
    # of potential, workload and last year's bookings, each scaled to a mean of 1, with these weights.
    "balance_on": "potential",
    "balance_weights": {"potential": 1.0, "workload": 1.0, "bookings": 1.0},
    # Sensitivity of the value: each assumption moved by these amounts, one at a time.
    "sensitivity": {"ramp_months": 2.0, "annual_attrition": 0.10, "quota_per_ramped_rep": 0.20},
}

#: Months a new hire takes to reach full productivity, by segment, when neither the settings nor the
#: data give it: enterprise ramps longer than mid-market, mid-market longer than SMB; ``other`` is the
#: general default for a segment it does not name. Where each figure comes from:
#: :data:`diligence.scenarios.capacity_plan.ASSUMED_SOURCES`.
ASSUMED_RAMP_MONTHS: dict[str, float] = {"Enterprise": 9.0, "Mid-Market": 6.0, "SMB": 4.0, "other": 6.0}
#: The capacity plan's inputs when neither the settings nor the data give them (ramp: by segment).
ASSUMED_INPUTS: dict[str, Any] = {"ramp_months": ASSUMED_RAMP_MONTHS, "annual_attrition": 0.25}

#: Where each default of the capacity plan comes from, as the report's inputs table and methodology
#: appendix say it: the publisher, the publication and the figure it gives. Figures reported at second
#: hand say through whom; where nothing published was found, the text says so.
ASSUMED_SOURCES: dict[str, str] = {
    "annual_attrition": (
        "the kit's planning default of 25% a year, in the range that published sales-force figures give: "
        "attrition averaging 25.8% a year in CSO Insights' survey of sales leaders (as reported by TechCXO, "
        "“The High Cost of Sales Attrition”); an average sales-team attrition of 20% from the Sales Management "
        "Association (as listed by KPI Depot, “Sales Team Attrition Rate”); sales turnover reported as high as "
        "35% a year against 13% for all professions (Map My Customers, “Average Sales Turnover Rates”, 2021). "
        "Set scenarios.annual_attrition to replace it"
    ),
    "ramp_months": (
        "the kit's planning default by segment (Enterprise 9, Mid-Market 6, SMB 4 months; 6 for any other "
        "segment). The Bridge Group's SaaS AE Metrics & Compensation report (2024) puts the median AE ramp, all "
        "segments together, at 5.0 months (as reported by PulseRevOps, “How long should AE ramp realistically "
        "take in mid-market SaaS?”), which says SMB velocity teams ramp in 3–4 months and strategic enterprise "
        "ones in 12–18; PulseRevOps, “AE Ramp Model for SMB SaaS in 2027”, gives SMB 3–4 months, mid-market 6–7 "
        "and enterprise 9, and reports the Bridge Group's 2024 average as 5.7 months. No primary benchmark by "
        "segment was found: the split follows these secondary figures, the general default rounds the all-segment "
        "ones up. Set scenarios.ramp_months (a number, or months by segment) to replace it"
    ),
    "productivity": "the kit's default: a ramped rep sells its full quota",
    "accounts_per_rep": (
        "the specification's default norms (SPEC §6), not measured at this company. Published guidance gives "
        "ranges, not norms: Winning By Design, “Calculating Your Target Account List”, gives 20–50 accounts per "
        "rep for field sales ($50K–$500K ACV), 6–20 for large named accounts and 2–6 for global ones, the range "
        "the Enterprise norm of 25 sits in; the Alexander Group, “Are Your Sales People Focused on the Right "
        "Number of Accounts?”, spans one account (a global account manager) to several hundred (a territory or "
        "inside rep) without a figure. No published figure was found for the Mid-Market (100), SMB (400) and "
        "other (150) norms: they are the kit's planning defaults. Set accounts_per_rep to replace them"
    ),
}

_FRACTIONS = ("balance_tolerance", "annual_attrition", "cost_to_quota_ratio")
_POSITIVE = ("milp_time_limit_s", "milp_max_accounts", "plan_quarters")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def resolve_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:data:`SCENARIO_DEFAULTS` with ``overrides`` applied, validated.

    ``fully_loaded_cost_per_rep`` and ``quota_per_ramped_rep`` are a number
    or a mapping segment -> number (or None for the documented default).
    Raises :class:`~diligence.errors.InputError` for an unknown name or a
    value of the wrong type, as SPEC §6 does for run parameters.
    """
    overrides = dict(overrides or {})
    reject_unknown(overrides, SCENARIO_DEFAULTS, "scenario settings: unknown name(s)")
    out = copy.deepcopy(SCENARIO_DEFAULTS)
    for name in ("disruption_weights", "sensitivity", "balance_weights"):  # merged key by key into their defaults
        if isinstance(overrides.get(name), Mapping):
            overrides[name] = {**SCENARIO_DEFAULTS[name], **overrides[name]}
    out.update({k: v for k, v in overrides.items() if v is not None or SCENARIO_DEFAULTS[k] is None})
    for name in _FRACTIONS:
        if out[name] is None and name in ASSUMED_INPUTS:
            continue
        if not _number(out[name]) or not 0 <= out[name] < 1:
            raise InputError(f"scenario settings: {name} must be a fraction in [0, 1), got {out[name]!r}.")
    for name in _POSITIVE:
        if not _number(out[name]) or out[name] <= 0:
            raise InputError(f"scenario settings: {name} must be a positive number, got {out[name]!r}.")
    out["ramp_months"] = _ramp_months(out["ramp_months"])
    if isinstance(out["locked_accounts"], str):
        out["locked_accounts"] = [out["locked_accounts"]]
    if not isinstance(out["locked_accounts"], list) or not all(isinstance(a, str) for a in out["locked_accounts"]):
        raise InputError("scenario settings: locked_accounts must be a list of account ids.")
    for name in ("region_affinity", "reassign_junior_enterprise"):
        if not isinstance(out[name], bool):
            raise InputError(f"scenario settings: {name} must be true or false.")
    low_high = out["revenue_uplift_range"]
    if not (
        isinstance(low_high, (list, tuple))
        and len(low_high) == 2
        and all(_number(x) for x in low_high)
        and 0 <= low_high[0] <= low_high[1]
    ):
        raise InputError("scenario settings: revenue_uplift_range must be [low, high] with 0 ≤ low ≤ high.")
    out["revenue_uplift_range"] = [float(x) for x in low_high]
    for name in ("fully_loaded_cost_per_rep", "quota_per_ramped_rep"):
        value = out[name]
        ok = (
            value is None
            or (_number(value) and value >= 0)
            or (isinstance(value, Mapping) and all(_number(v) and v >= 0 for v in value.values()))
        )
        if not ok:
            raise InputError(f"scenario settings: {name} must be a number, a mapping segment -> number, or null.")
    _check_disruption(out)
    _check_curve(out)
    out["sensitivity"] = _merged_numbers(out, "sensitivity")
    out["balance_weights"] = _merged_numbers(out, "balance_weights")
    if out["balance_on"] not in ("potential", "workload", "composite"):
        raise InputError(
            f"scenario settings: balance_on must be potential, workload or composite, got {out['balance_on']!r}."
        )
    if out["plans"] is not None:
        out["plans"] = [_check_plan(plan, i) for i, plan in enumerate(_list(out["plans"], "plans"))]
    out["plan_quarters"] = int(out["plan_quarters"])
    out["milp_max_accounts"] = int(out["milp_max_accounts"])
    return out


#: Disruption classes (diligence.scenarios.disruption.CLASSES), named here so that settings validate
#: without importing the scenario engine.
DISRUPTION_CLASSES: tuple[str, ...] = ("open_opportunity", "customer", "owner_activity")
#: What a named plan may set: its name, hires per segment, and these scenario settings
#: (``attrition`` is the plan's ``annual_attrition``).
PLAN_KEYS: tuple[str, ...] = (
    "name",
    "balance_tolerance",
    "hires_by_segment",
    "attrition",
    "ramp_months",
    "protect",
    "locked_accounts",
    "disruption_weights",
    "region_affinity",
    "reassign_junior_enterprise",
    "balance_on",
    "balance_weights",
    "quota_per_ramped_rep",
    "fully_loaded_cost_per_rep",
    "revenue_uplift_range",
)


def _ramp_months(value: Any) -> float | dict[str, float] | None:
    """``ramp_months`` validated: None (observed, else the assumed ramp by segment), a number of
    months ≥ 0 for every segment, or a mapping segment -> months ≥ 0 (``other``: the segments it
    does not name; a segment neither names keeps the assumed ramp of its segment)."""
    if value is None:
        return None
    if _number(value) and value >= 0:
        return float(value)
    if isinstance(value, Mapping) and value:
        bad = {k: v for k, v in value.items() if not (_number(v) and v >= 0) or not str(k).strip()}
        if not bad:
            return {str(k).strip(): float(v) for k, v in value.items()}
        raise InputError(
            "scenario settings: ramp_months must give each segment a number of months ≥ 0; "
            f"got {', '.join(f'{k}: {v!r}' for k, v in bad.items())}."
        )
    raise InputError(
        "scenario settings: ramp_months must be a number of months ≥ 0 (every segment) or a mapping "
        f"segment -> months (e.g. {{Enterprise: 9, Mid-Market: 6, SMB: 4, other: 6}}), got {value!r}."
    )


def _list(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise InputError(f"scenario settings: {name} must be a list, got {value!r}.")
    return value


def _merged_numbers(out: dict[str, Any], name: str) -> dict[str, float]:
    value = out[name]
    if not isinstance(value, Mapping):
        raise InputError(f"scenario settings: {name} must be a mapping, got {value!r}.")
    reject_unknown(value, SCENARIO_DEFAULTS[name], f"scenario settings: {name}: unknown name(s)")
    for key, x in value.items():
        if not _number(x) or x < 0:
            raise InputError(f"scenario settings: {name}.{key} must be a number ≥ 0, got {x!r}.")
    return {str(k): float(v) for k, v in value.items()}


def _check_disruption(out: dict[str, Any]) -> None:
    """Validate ``disruption_weights`` (a number ≥ 0 per class) and ``protect`` (class names), in place."""
    out["disruption_weights"] = _merged_numbers(out, "disruption_weights")
    protect = [out["protect"]] if isinstance(out["protect"], str) else out["protect"]
    protect = _list(protect, "protect")
    bad = [p for p in protect if p not in DISRUPTION_CLASSES]
    if bad:
        raise InputError(
            f"scenario settings: protect names unknown class(es) {', '.join(map(str, bad))}; "
            f"classes are {', '.join(DISRUPTION_CLASSES)}."
        )
    out["protect"] = list(protect)


def _check_curve(out: dict[str, Any]) -> None:
    """Validate the trade-off curve's settings, in place (tolerances sorted, unique)."""
    tolerances = _list(out["curve_tolerances"], "curve_tolerances")
    if not tolerances or not all(_number(t) and 0 <= t < 1 for t in tolerances):
        raise InputError("scenario settings: curve_tolerances must be fractions in [0, 1), at least one.")
    out["curve_tolerances"] = sorted({float(t) for t in tolerances})
    nodes = out["curve_milp_node_limit"]
    if not _number(nodes) or nodes < 0 or int(nodes) != nodes:
        raise InputError(f"scenario settings: curve_milp_node_limit must be a whole number ≥ 0, got {nodes!r}.")
    out["curve_milp_node_limit"] = int(nodes)


def _check_plan(plan: Any, i: int) -> dict[str, Any]:
    """One named plan, validated: its name, ``hires_by_segment`` (a mapping
    segment -> whole number ≥ 0, or None for the hires the norms call for) and
    the scenario settings it overrides (each validated as the settings are)."""
    if not isinstance(plan, Mapping):
        raise InputError(f"scenario settings: plans[{i}] must be a mapping, got {plan!r}.")
    reject_unknown(plan, dict.fromkeys(PLAN_KEYS), f"scenario settings: plans[{i}]: unknown name(s)")
    name = plan.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"scenario settings: plans[{i}] needs a name.")
    hires = plan.get("hires_by_segment")
    if hires is not None and not (
        isinstance(hires, Mapping) and all(_number(v) and v >= 0 and int(v) == v for v in hires.values())
    ):
        raise InputError(
            f"scenario settings: plans[{i}] ({name}): hires_by_segment must map segments to whole numbers ≥ 0."
        )
    overrides = {("annual_attrition" if k == "attrition" else k): v for k, v in plan.items()}
    overrides.pop("name")
    overrides.pop("hires_by_segment", None)
    try:
        checked = resolve_settings(overrides)
    except InputError as exc:
        raise InputError(f"plans[{i}] ({name}): {exc}") from None
    return {
        "name": name.strip(),
        "hires_by_segment": None if hires is None else {str(k): int(v) for k, v in hires.items()},
        **{
            k: checked["annual_attrition" if k == "attrition" else k]
            for k in plan
            if k not in ("name", "hires_by_segment")
        },
    }
