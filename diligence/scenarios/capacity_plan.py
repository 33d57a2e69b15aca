"""The capacity plan: headcount needed per segment, hiring by quarter with ramp
and attrition, and what the plan costs and returns.

Definitions:

- **Need** per segment is SPEC §3's capacity need, ``ceil(accounts /
  accounts_per_rep)``, and headcount its active quota-carrying reps
  (:func:`diligence.metrics.capacity.capacity_table`); **hires now** = need −
  headcount when positive.
- **Inputs** (:func:`plan_inputs`): ramp and attrition are *set* when the
  scenario settings give them, else *observed* in the company's history where
  enough reps are behind the figure (realised attrition over a mean headcount
  of at least 5; the median implied ramp of at least 3 recent hires, see
  :mod:`diligence.metrics.productivity`), else *assumed*
  (:data:`~diligence.params.ASSUMED_INPUTS`). The productivity of a ramped rep
  is the median attainment of the reps who carried a quota all year
  (observed), or full quota (assumed) without them.
- **Attrition** ``a`` a year is spread evenly: each quarter loses
  ``1 − (1 − a)^¼`` of its opening headcount (expected, fractional).
  Each quarter hires what brings expected headcount back up to the need,
  rounded up (a segment above its need hires nobody until attrition takes it
  below).
- **Ramp**: a hire reaches full productivity linearly over ``ramp_months``,
  measured at the middle of each month; hires join at the start of their
  quarter. Productive FTE = headcount − the unramped share of hires still
  ramping (hires' own attrition is ignored: a slight overstatement).
- **Economics**, stated as ranges: a ramped rep carries the segment's
  ``quota_per_ramped_rep`` (default: median quota of its active quota-carrying
  reps) and costs ``fully_loaded_cost_per_rep`` (default
  ``cost_to_quota_ratio`` × that quota). Added bookings range from today's
  median attainment of eligible reps to full quota. Better territory design is
  worth ``revenue_uplift_range`` (2–7% in the background documents) of the
  bookings of the year before T.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diligence.contract import typed
from diligence.metrics import balance, capacity, productivity
from diligence.metrics.coverage import active_quota_reps, as_of_date, column_or_blank
from diligence.params import ASSUMED_INPUTS
from diligence.text import fmt_months, fmt_pct

PLANNED_PREFIX = "PLANNED"
#: Where each assumed input comes from, as the report's inputs table and methodology appendix say it.
ASSUMED_SOURCES: dict[str, str] = {
    "annual_attrition": (
        "the kit's planning default (diligence.params.ASSUMED_INPUTS), not a figure measured at this company "
        "nor a published benchmark; set scenarios.annual_attrition to replace it"
    ),
    "ramp_months": (
        "the kit's planning default (diligence.params.ASSUMED_INPUTS), one ramp for every segment, not a figure "
        "measured at this company nor a published benchmark; set scenarios.ramp_months to replace it"
    ),
    "productivity": "the kit's default: a ramped rep sells its full quota",
}
OBSERVED, ASSUMED, SET = "observed", "assumed", "set"
#: Reps needed behind an observed input before it replaces the assumption.
MIN_OBSERVED_REPS = {"annual_attrition": 5, "ramp_months": 3, "productivity": 3}
MAX_ATTRITION = 0.95


def plan_inputs(tables: dict, params: dict, settings: dict) -> pd.DataFrame:
    """The capacity plan's inputs, each with where it comes from (module notes).

    Rows (``input, setting, value, basis, reps, note, figure``: the value as read): annual attrition,
    ramp months and the productivity of a ramped rep (attainment); ``basis``
    is ``observed``, ``assumed`` or ``set`` and ``reps`` the reps behind an
    observed figure.
    """
    m = productivity.metrics(tables, params)
    attrition = productivity.realised_attrition(tables, params)
    mean_headcount = (
        (attrition["headcount_start"] + attrition["headcount_end"]) / 2 if attrition["rate"] is not None else 0
    )
    rows = []

    def choose(name: str, label: str, observed: float | None, reps: float, how: str, fmt: str) -> None:
        if settings.get(name) is not None:
            rows.append((label, name, float(settings[name]), SET, None, "given in the scenario settings"))
        elif observed is not None and reps >= MIN_OBSERVED_REPS[name]:
            rows.append((label, name, float(observed), OBSERVED, reps, how))
        else:
            why = (
                f"too few reps behind the observed {fmt.format(observed)} ({reps:g})"
                if observed is not None
                else "the data do not show it"
            )
            rows.append((label, name, ASSUMED_INPUTS[name], ASSUMED, None, f"{ASSUMED_SOURCES[name]}; {why}"))

    choose(
        "annual_attrition",
        "Annual attrition",
        attrition["rate"],
        mean_headcount,
        "reps who left in the last 365 days / mean quota-carrying headcount",
        "{:.0%}",
    )
    choose(
        "ramp_months",
        "Ramp to full productivity (months)",
        m["ramp_months_observed"],
        m["ramp_months_observed_reps"],
        "median ramp implied by the bookings of reps hired 6 to 24 months ago",
        "{:.1f}",
    )
    value, basis, n = ramped_productivity(balance.attainment(tables, params))
    note = (
        "median attainment of the reps who carried a quota all year"
        if basis == OBSERVED
        else ASSUMED_SOURCES["productivity"] + "; fewer than 3 reps carried a quota all year"
    )
    rows.append(("Productivity of a ramped rep (share of quota)", "productivity", value, basis, n, note))
    out = pd.DataFrame(rows, columns=["input", "setting", "value", "basis", "reps", "note"])
    out["reps"] = out["reps"].astype(float)
    out["figure"] = [fmt_months(v) if k == "ramp_months" else fmt_pct(v) for k, v in zip(out["setting"], out["value"])]
    return out.astype({"input": "string", "setting": "string", "basis": "string", "note": "string", "figure": "string"})


def ramped_productivity(att: pd.DataFrame) -> tuple[float, str, int | None]:
    """What a ramped rep sells, as a share of quota: (value, basis, reps behind it).

    ``att`` is :func:`~diligence.metrics.balance.attainment`. The median
    attainment of its eligible reps when at least
    ``MIN_OBSERVED_REPS["productivity"]`` of them have one (observed), else
    full quota (assumed).
    """
    eligible = att.loc[att["eligible"].astype(bool), "attainment"].dropna()
    if len(eligible) >= MIN_OBSERVED_REPS["productivity"]:
        return float(eligible.median()), OBSERVED, int(len(eligible))
    return 1.0, ASSUMED, None


def with_inputs(tables: dict, params: dict, settings: dict) -> dict:
    """``settings`` with ramp and attrition filled in from :func:`plan_inputs` where not set."""
    if all(settings.get(k) is not None for k in ASSUMED_INPUTS):
        return settings
    inputs = plan_inputs(tables, params, settings).set_index("setting")["value"]
    filled = {k: float(inputs[k]) if settings.get(k) is None else settings[k] for k in ASSUMED_INPUTS}
    # a company that lost more reps than it had on average cannot lose more than (almost) all of them
    filled["annual_attrition"] = min(filled["annual_attrition"], MAX_ATTRITION)
    return {**settings, **filled}


def _key(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.casefold()


def _per_segment(value, segments: pd.Series, fallback: pd.Series) -> pd.Series:
    """A setting that is a number, a mapping segment -> number, or None, per segment."""
    if value is None:
        return fallback
    if isinstance(value, dict):
        given = {str(k).strip().casefold(): float(v) for k, v in value.items()}
        return _key(segments).map(given).astype(float).fillna(fallback)
    return pd.Series(float(value), index=segments.index)


def headcount_need(tables: dict, params: dict, settings: dict) -> pd.DataFrame:
    """Headcount needed per segment to cover the market at the ``accounts_per_rep`` norms.

    Columns: ``segment, accounts, accounts_per_rep, capacity_need, headcount,
    hires_now`` (need − headcount, at least 0; a named plan's
    ``hires_by_segment`` when the settings carry one), ``quota_per_ramped_rep,
    cost_per_rep``. Sorted by segment; empty when capacity cannot be assessed.
    """
    columns = [
        "segment",
        "accounts",
        "accounts_per_rep",
        "capacity_need",
        "headcount",
        "hires_now",
        "quota_per_ramped_rep",
        "cost_per_rep",
    ]
    if not capacity.capacity_assessable(tables):
        return pd.DataFrame(columns=columns)
    table = capacity.capacity_table(tables, params)
    reps = active_quota_reps(tables["reps"], as_of_date(params))
    median_quota = reps.assign(key=_key(reps["segment"])).groupby("key")["quota"].median()
    overall = float(reps["quota"].median()) if len(reps) else np.nan
    fallback = _key(table["segment"]).map(median_quota).astype(float).fillna(overall)
    quota = _per_segment(settings["quota_per_ramped_rep"], table["segment"], fallback)
    cost = _per_segment(
        settings["fully_loaded_cost_per_rep"], table["segment"], quota * settings["cost_to_quota_ratio"]
    )
    hires = table["shortfall"].clip(lower=0).astype(int)
    if settings.get("hires_by_segment") is not None:  # a named plan's own hires
        given = {str(k).strip().casefold(): int(v) for k, v in settings["hires_by_segment"].items()}
        hires = _key(table["segment"]).map(given).fillna(0).astype(int)
    return table.assign(
        hires_now=hires.to_numpy(int),
        quota_per_ramped_rep=quota.to_numpy(float),
        cost_per_rep=cost.to_numpy(float),
    )[columns]


def ramp_fraction(months_since_hire: np.ndarray, ramp_months: float) -> np.ndarray:
    """Productivity of a hire ``months_since_hire`` months in: linear to 1 over ``ramp_months``."""
    if ramp_months <= 0:
        return np.ones_like(np.asarray(months_since_hire, float))
    return np.clip(np.asarray(months_since_hire, float) / ramp_months, 0.0, 1.0)


def _quarter_productivity(quarters_since_hire: int, ramp_months: float) -> float:
    """Average productivity over a quarter of a hire made ``quarters_since_hire`` quarters before it."""
    months = 3 * quarters_since_hire + np.array([0.5, 1.5, 2.5])
    return float(ramp_fraction(months, ramp_months).mean())


def hiring_plan(tables: dict, params: dict, settings: dict, need: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hiring by quarter and segment, with attrition and ramp (module docstring).

    Columns: ``quarter`` (1 = the quarter after T), ``quarter_label`` (``Q+1``
    ...), ``segment, target_headcount, opening_headcount, expected_leavers,
    hires, closing_headcount, productive_fte, bookings_capacity`` (productive
    FTE × quota per ramped rep / 4) and ``hires_cost`` (the plan's hires to
    date × cost per rep / 4). Sorted by
    quarter then segment. ``need`` is :func:`headcount_need` of the same
    settings when already at hand.
    """
    settings = with_inputs(tables, params, settings)
    need = headcount_need(tables, params, settings) if need is None else need
    columns = [
        "quarter",
        "quarter_label",
        "segment",
        "target_headcount",
        "opening_headcount",
        "expected_leavers",
        "hires",
        "closing_headcount",
        "productive_fte",
        "bookings_capacity",
        "hires_cost",
    ]
    if need.empty:
        return pd.DataFrame(columns=columns)
    n_q = int(settings["plan_quarters"])
    leave = 1 - (1 - float(settings["annual_attrition"])) ** 0.25
    # the need; for a named plan with its own hires, today's headcount plus those hires
    target = (
        need["capacity_need"].to_numpy(float)
        if settings.get("hires_by_segment") is None
        else (need["headcount"] + need["hires_now"]).to_numpy(float)
    )
    headcount = need["headcount"].to_numpy(float)
    hires = np.zeros((n_q, len(need)))
    rows = []
    # a loop over quarters (a handful), each step vectorised over segments
    for q in range(n_q):
        leavers = headcount * leave
        hires[q] = np.ceil(np.maximum(target - (headcount - leavers), 0) - 1e-9)
        closing = headcount - leavers + hires[q]
        unramped = sum(hires[k] * (1 - _quarter_productivity(q - k, settings["ramp_months"])) for k in range(q + 1))
        productive = closing - unramped
        rows.append(
            pd.DataFrame(
                {
                    "quarter": q + 1,
                    "quarter_label": f"Q+{q + 1}",
                    "segment": need["segment"].to_numpy(),
                    "target_headcount": target,
                    "opening_headcount": headcount,
                    "expected_leavers": leavers,
                    "hires": hires[q].astype(int),
                    "closing_headcount": closing,
                    "productive_fte": productive,
                    "bookings_capacity": productive * need["quota_per_ramped_rep"].to_numpy(float) / 4,
                    "hires_cost": hires[: q + 1].sum(axis=0) * need["cost_per_rep"].to_numpy(float) / 4,
                }
            )
        )
        headcount = closing
    out = pd.concat(rows, ignore_index=True)
    out["segment"] = out["segment"].astype("string")
    out["quarter_label"] = out["quarter_label"].astype("string")
    return out[columns]


def hiring_by_quarter(plan: pd.DataFrame) -> pd.DataFrame:
    """:func:`hiring_plan` summed over segments: one row per quarter."""
    sums = [
        "opening_headcount",
        "expected_leavers",
        "hires",
        "closing_headcount",
        "productive_fte",
        "bookings_capacity",
        "hires_cost",
    ]
    return plan.groupby(["quarter", "quarter_label"], sort=True)[sums].sum().reset_index()


def planned_hires(tables: dict, params: dict, settings: dict) -> pd.DataFrame:
    """The hires now (:func:`headcount_need`) as rows of ``reps``, to add for the
    rebalanced-plus-hires scenario.

    Each is active from T (``hire_date`` = T, so it counts as headcount and
    may own accounts), quota-carrying at the segment's quota per ramped rep,
    in the segment's most common quota-carrying role (``AE`` without one),
    at a level outside ``junior_levels`` (``mid``, else ``senior``), with no
    region. Ids are ``PLANNED-<segment>-<n>``.
    """
    need = headcount_need(tables, params, settings)
    need = need.loc[need["hires_now"] > 0]
    reps = tables["reps"]
    columns = list(reps.columns)
    if need.empty:
        return reps.iloc[:0]
    quota_reps = active_quota_reps(reps, as_of_date(params))
    role = (
        quota_reps.assign(key=_key(quota_reps["segment"]), role=column_or_blank(quota_reps, "role"))
        .groupby("key")["role"]
        .agg(lambda s: s.value_counts().sort_index().idxmax() if s.notna().any() else "AE")
    )
    juniors = {s.strip().casefold() for s in params["junior_levels"]}
    level = "mid" if "mid" not in juniors else "senior"
    seg = need["segment"].repeat(need["hires_now"]).reset_index(drop=True)
    n = seg.groupby(seg).cumcount() + 1
    slug = seg.str.upper().str.replace(r"[^A-Z0-9]+", "-", regex=True).str.strip("-")
    as_of = as_of_date(params)
    rows = pd.DataFrame(
        {
            "rep_id": PLANNED_PREFIX + "-" + slug + "-" + n.astype(str).str.zfill(2),
            "rep_name": "Planned hire " + n.astype(str) + " (" + seg + ")",
            "role": pd.array([role.get(k, "AE") for k in _key(seg)], dtype="string"),  # a few hires; no reps, no dtype
            "level": level,
            "segment": seg,
            "hire_date": as_of,
            "quota": need["quota_per_ramped_rep"].repeat(need["hires_now"]).to_numpy(float),
        }
    )
    rows = rows[[c for c in rows.columns if c in columns]]
    return typed("reps", rows.reindex(columns=columns))


def with_hires(tables: dict, hires: pd.DataFrame) -> dict:
    """A copy of ``tables`` whose reps include ``hires``."""
    out = dict(tables)
    out["reps"] = pd.concat([tables["reps"], hires], ignore_index=True)
    return out


def economics(
    tables: dict,
    params: dict,
    settings: dict,
    plan: pd.DataFrame | None = None,
    productivity: tuple[float, float] | None = None,
    need: pd.DataFrame | None = None,
    attainment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What the plan costs and returns in its first year, as ranges.

    Rows (``item, low, high, basis``): hires in the plan; their cost over the
    plan; bookings capacity they add (low: today's median attainment of
    eligible reps × quota, high: full quota, ramp included); the same at run
    rate once ramped; bookings of the year before T; the revenue uplift from
    better territory design (``revenue_uplift_range`` × those bookings); and
    the net of hires (added bookings − cost). Amounts in the data's currency.
    ``productivity`` replaces the (low, high) productivity of a ramped rep, as
    shares of quota (the sensitivity analysis moves it); ``need``
    (:func:`headcount_need` of the same settings) and ``attainment``
    (:func:`~diligence.metrics.balance.attainment`) are taken as given when at hand.
    """
    settings = with_inputs(tables, params, settings)
    need = headcount_need(tables, params, settings) if need is None else need
    plan = hiring_plan(tables, params, settings, need) if plan is None else plan
    att = balance.attainment(tables, params) if attainment is None else attainment
    productivity_value, productivity_basis, _ = ramped_productivity(att)
    low_rate = min(productivity_value, 1.0)
    high_rate = 1.0
    if productivity is not None:
        low_rate, high_rate = (float(x) for x in productivity)
    bookings = float(np.sort(att["bookings"].dropna().to_numpy(float)).sum()) if att["bookings"].notna().any() else None
    low_up, high_up = settings["revenue_uplift_range"]
    hires_total = int(plan["hires"].sum()) if len(plan) else 0
    cost = float(plan["hires_cost"].sum()) if len(plan) else 0.0
    # bookings of the hires alone: their ramp-weighted FTE per quarter
    added = 0.0
    run_rate = 0.0
    if len(plan):
        n_q = int(plan["quarter"].max())
        for q in range(1, n_q + 1):  # a handful of quarters
            ramped = sum(
                plan.loc[plan["quarter"] == k, "hires"].to_numpy(float)
                * _quarter_productivity(q - k, settings["ramp_months"])
                for k in range(1, q + 1)
            )
            added += float((ramped * need["quota_per_ramped_rep"].to_numpy(float) / 4).sum())
        run_rate = float(
            (
                plan.groupby("segment", sort=True)["hires"].sum().reindex(need["segment"]).fillna(0).to_numpy(float)
                * need["quota_per_ramped_rep"].to_numpy(float)
            ).sum()
        )
    att_note = (
        f"today's median attainment {productivity_value:.0%} of quota"
        if productivity_basis == OBSERVED
        else "too few reps with a measured attainment: full quota"
    )
    rows = [
        (
            "Hires in the plan",
            hires_total,
            hires_total,
            f"need − headcount now, plus backfill of {settings['annual_attrition']:.0%} yearly attrition",
        ),
        ("Cost of hires over the plan", cost, cost, "fully loaded cost per rep, from each hire's start"),
        (
            "Bookings capacity added over the plan",
            added * low_rate,
            added * high_rate,
            f"ramp over {settings['ramp_months']:g} months; low at {att_note}, high at full quota",
        ),
        (
            "Bookings capacity of the hires once ramped, a year",
            run_rate * low_rate,
            run_rate * high_rate,
            "hires × quota per ramped rep",
        ),
        ("Bookings, the year before the as-of date", bookings, bookings, "won opportunities of quota-carrying reps"),
        (
            "Revenue uplift from better territory design, a year",
            bookings * low_up if bookings is not None else None,
            bookings * high_up if bookings is not None else None,
            f"{low_up:.0%}–{high_up:.0%} of bookings (background documents)",
        ),
        (
            "Net of hires over the plan (added bookings − cost)",
            added * low_rate - cost,
            added * high_rate - cost,
            "before the territory-design uplift",
        ),
    ]
    out = pd.DataFrame(rows, columns=["item", "low", "high", "basis"])
    out["item"] = out["item"].astype("string")
    out["basis"] = out["basis"].astype("string")
    return out.astype({"low": float, "high": float})


def plan_summary(need: pd.DataFrame, plan: pd.DataFrame) -> dict:
    """Headline figures of the capacity plan, named as the scenario step records them."""
    return {
        "scenario_capacity_need": int(need["capacity_need"].sum()) if len(need) else None,
        "scenario_hires_now": int(need["hires_now"].sum()) if len(need) else None,
        "scenario_hires_in_plan": int(plan["hires"].sum()) if len(plan) else None,
    }


__all__ = [
    "economics",
    "headcount_need",
    "hiring_by_quarter",
    "hiring_plan",
    "plan_inputs",
    "plan_summary",
    "planned_hires",
    "ramp_fraction",
    "with_hires",
    "with_inputs",
]
