"""The capacity plan: headcount needed per segment, hiring by quarter with ramp
and attrition, and what the plan costs and returns against a common baseline.

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
  (:data:`~diligence.params.ASSUMED_INPUTS`, sources in
  :data:`~diligence.params.ASSUMED_SOURCES`). The productivity of a ramped rep
  is the median attainment of the reps who carried a quota all year
  (observed), or full quota (assumed) without them.
- **Ramp by segment** (:func:`ramp_by_segment`): ``ramp_months`` is one number
  for every segment, or months by segment. The assumed ramp differs by segment
  (:data:`~diligence.params.ASSUMED_RAMP_MONTHS`: enterprise longest, SMB
  shortest, ``other`` for a segment it does not name); an observed ramp is
  company-wide (the history has too few hires to split it) and replaces it for
  every segment. Segment names match as the ``accounts_per_rep`` norms do, case
  and spacing aside, with the usual spellings of a tier taken as one
  (``Mid-Market``, ``Mid market``, ``MM``; ``SMB``, ``Small business``).
- **Attrition** ``a`` a year is spread evenly: each quarter loses
  ``1 − (1 − a)^¼`` of its opening headcount (expected, fractional).
  Each quarter hires what brings expected headcount back up to the target
  (the need; for a named plan with its own hires, today's headcount plus
  those hires), rounded up (a segment above its target hires nobody until
  attrition takes it below).
- **Ramp**: a hire reaches full productivity linearly over its segment's
  ``ramp_months``, measured at the middle of each month; hires join at the
  start of their quarter. Productive FTE = headcount − the unramped share of
  hires still ramping (hires' own attrition is ignored: a slight overstatement).
- **The baseline** every plan is measured against is today's team with
  attrition not replaced: no hires, each segment's headcount thinned by the
  same expected attrition (``baseline_headcount``). It is what happens when
  nobody acts, and it is the same for every plan, so plans compare: a plan's
  value and cost are what it adds to that baseline. (Today's team kept as it
  is would not do: attrition happens whatever the plan, and backfilling it
  would then show as adding nothing but cost.)
- **Capacity that sells** (:func:`selling_fte`): a segment's productive FTE
  counts only up to its need. Reps beyond what the segment's accounts call
  for have no accounts to work and sell nothing more, so a hire into a
  segment above its need (a backfill that keeps it above, say) adds cost and
  no bookings.
- **Economics**, stated as ranges: a ramped rep carries the segment's
  ``quota_per_ramped_rep`` (default: median quota of its active quota-carrying
  reps) and costs ``fully_loaded_cost_per_rep`` (default
  ``cost_to_quota_ratio`` × that quota). Bookings added = (selling FTE of the
  plan − selling FTE of the baseline) × quota, quarter by quarter; they range
  from today's median attainment of eligible reps to full quota. The cost is
  each hire's fully loaded cost from its start (the baseline hires nobody and
  costs nothing). Better territory design is worth ``revenue_uplift_range``
  (2–7% in the background documents) of the bookings of the year before T.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diligence.contract import typed
from diligence.metrics import balance, capacity, productivity
from diligence.metrics.coverage import active_quota_reps, as_of_date, column_or_blank
from diligence.params import ASSUMED_INPUTS, ASSUMED_RAMP_MONTHS, ASSUMED_SOURCES
from diligence.text import fmt_months, fmt_pct

PLANNED_PREFIX = "PLANNED"
OBSERVED, ASSUMED, SET = "observed", "assumed", "set"
#: Reps needed behind an observed input before it replaces the assumption.
MIN_OBSERVED_REPS = {"annual_attrition": 5, "ramp_months": 3, "productivity": 3}
MAX_ATTRITION = 0.95


def plan_inputs(tables: dict, params: dict, settings: dict) -> pd.DataFrame:
    """The capacity plan's inputs, each with where it comes from (module notes).

    Rows (``input, setting, value, basis, reps, note, figure``: the value as read): annual attrition,
    ramp months and the productivity of a ramped rep (attainment); ``basis``
    is ``observed``, ``assumed`` or ``set`` and ``reps`` the reps behind an
    observed figure. A ramp given by segment (the assumed one, or a mapping
    set in the settings) has no single ``value`` (NaN): its ``figure`` lists
    the months by segment.
    """
    m = productivity.metrics(tables, params)
    attrition = productivity.realised_attrition(tables, params)
    mean_headcount = (
        (attrition["headcount_start"] + attrition["headcount_end"]) / 2 if attrition["rate"] is not None else 0
    )
    rows = []

    def choose(name: str, label: str, observed: float | None, reps: float, how: str, fmt: str) -> None:
        if settings.get(name) is not None:
            rows.append((label, name, _scalar(settings[name]), SET, None, "given in the scenario settings"))
        elif observed is not None and reps >= MIN_OBSERVED_REPS[name]:
            rows.append((label, name, float(observed), OBSERVED, reps, how))
        else:
            why = (
                f"too few reps behind the observed {fmt.format(observed)} ({reps:g})"
                if observed is not None
                else "the data do not show it"
            )
            rows.append((label, name, _scalar(ASSUMED_INPUTS[name]), ASSUMED, None, f"{ASSUMED_SOURCES[name]}; {why}"))

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
        "median ramp implied by the bookings of reps hired 6 to 24 months ago; company-wide, it replaces the "
        "assumed ramp of every segment",
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
    out["value"] = out["value"].astype(float)
    ramp = ramp_setting(settings, out)
    out["figure"] = [
        ramp_text(ramp) if k == "ramp_months" else fmt_pct(v) for k, v in zip(out["setting"], out["value"])
    ]
    return out.astype({"input": "string", "setting": "string", "basis": "string", "note": "string", "figure": "string"})


def _scalar(value) -> float:
    """A setting's single value: the number, or NaN for a mapping by segment."""
    return float("nan") if isinstance(value, dict) else float(value)


def ramp_setting(settings: dict, inputs: pd.DataFrame) -> float | dict[str, float]:
    """The ramp the plan uses, from :func:`plan_inputs`' ``inputs``: the
    settings' own (a number or months by segment), the observed company-wide
    figure, or :data:`~diligence.params.ASSUMED_RAMP_MONTHS`."""
    if settings.get("ramp_months") is not None:
        return settings["ramp_months"]
    row = inputs.set_index("setting").loc["ramp_months"]
    return float(row["value"]) if row["basis"] == OBSERVED else dict(ASSUMED_RAMP_MONTHS)


def ramp_text(ramp: float | dict[str, float]) -> str:
    """A ramp as the report states it: ``6.0 months``, or ``Enterprise 9.0 months, SMB 4.0, other 6.0``."""
    if not isinstance(ramp, dict):
        return fmt_months(float(ramp))
    parts = [f"{k} {float(v):,.1f}" for k, v in ramp.items()]
    return (parts[0] + " months, " + ", ".join(parts[1:])) if len(parts) > 1 else parts[0] + " months"


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


def with_inputs(tables: dict, params: dict, settings: dict, inputs: pd.DataFrame | None = None) -> dict:
    """``settings`` with ramp and attrition filled in from :func:`plan_inputs` where not set
    (the ramp: the observed company-wide figure, else the assumed ramp by segment).
    ``inputs``: :func:`plan_inputs` of the same arguments, when the caller has them."""
    if all(settings.get(k) is not None for k in ASSUMED_INPUTS):
        return settings
    inputs = plan_inputs(tables, params, settings) if inputs is None else inputs
    attrition = settings.get("annual_attrition")
    if attrition is None:
        attrition = float(inputs.set_index("setting").loc["annual_attrition", "value"])
    # a company that lost more reps than it had on average cannot lose more than (almost) all of them
    return {
        **settings,
        "annual_attrition": min(float(attrition), MAX_ATTRITION),
        "ramp_months": ramp_setting(settings, inputs),
    }


#: Spellings of a segment taken as one (after case, spaces and punctuation are dropped).
SEGMENT_ALIASES: dict[str, str] = {
    "midmarket": "midmarket",
    "midmkt": "midmarket",
    "mm": "midmarket",
    "mid": "midmarket",
    "midsize": "midmarket",
    "midsized": "midmarket",
    "enterprise": "enterprise",
    "ent": "enterprise",
    "smb": "smb",
    "smallbusiness": "smb",
    "smallandmediumbusiness": "smb",
    "smallmediumbusiness": "smb",
    "sme": "smb",
    "small": "smb",
}


def _key(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.casefold()


def segment_key(values: pd.Series) -> pd.Series:
    """Segment names as settings by segment match them: :func:`_key` (case and
    outer spaces aside), then spaces and punctuation dropped and the usual
    spellings of a tier taken as one (:data:`SEGMENT_ALIASES`)."""
    compact = _key(values).str.replace(r"[\W_]+", "", regex=True)
    return compact.map(lambda k: SEGMENT_ALIASES.get(k, k) if isinstance(k, str) else k).astype("string")


def _mapping_keys(mapping: dict) -> dict[str, float]:
    keys = pd.Series([str(k) for k in mapping], dtype="string")
    return dict(zip(segment_key(keys).tolist(), (float(v) for v in mapping.values())))


def _per_segment(value, segments: pd.Series, fallback: pd.Series) -> pd.Series:
    """A setting that is a number, a mapping segment -> number, or None, per segment
    (a mapping's names matched by :func:`segment_key`; unnamed segments take ``fallback``)."""
    if value is None:
        return fallback
    if isinstance(value, dict):
        return segment_key(segments).map(_mapping_keys(value)).astype(float).fillna(fallback)
    return pd.Series(float(value), index=segments.index)


def ramp_by_segment(ramp: float | dict[str, float] | None, segments: pd.Series) -> pd.Series:
    """Months to full productivity for each of ``segments`` (module notes).

    ``ramp`` is a number (every segment), a mapping segment -> months (a
    segment it does not name takes its ``other`` entry, else the assumed ramp
    of its segment) or None (the assumed ramp:
    :data:`~diligence.params.ASSUMED_RAMP_MONTHS`, whose ``other`` serves the
    segments it does not name)."""
    assumed = {k: v for k, v in ASSUMED_RAMP_MONTHS.items() if k != "other"}
    default = segment_key(segments).map(_mapping_keys(assumed)).astype(float).fillna(ASSUMED_RAMP_MONTHS["other"])
    if ramp is None:
        return default
    if isinstance(ramp, dict):
        given = _mapping_keys(ramp)
        other = given.pop("other", None)
        fallback = default if other is None else pd.Series(other, index=segments.index, dtype=float)
        return segment_key(segments).map(given).astype(float).fillna(fallback)
    return pd.Series(float(ramp), index=segments.index, dtype=float)


def shift_ramp(ramp: float | dict[str, float] | None, months: float) -> float | dict[str, float]:
    """``ramp`` with every segment's months moved by ``months`` (at least 0): the
    sensitivity's ramp ± 2 months, whether the ramp is one number or by segment."""
    if ramp is None:
        ramp = dict(ASSUMED_RAMP_MONTHS)
    if isinstance(ramp, dict):
        out = {k: max(float(v) + months, 0.0) for k, v in ramp.items()}
        if not any(segment_key(pd.Series([k], dtype="string")).iloc[0] == "other" for k in ramp):
            # segments the mapping does not name keep their assumed ramp: move those too
            named = set(_mapping_keys(ramp))
            for k, v in ASSUMED_RAMP_MONTHS.items():
                if k != "other" and _mapping_keys({k: v}).keys().isdisjoint(named):
                    out[k] = max(float(v) + months, 0.0)
            out["other"] = max(ASSUMED_RAMP_MONTHS["other"] + months, 0.0)
        return out
    return max(float(ramp) + months, 0.0)


def headcount_need(tables: dict, params: dict, settings: dict) -> pd.DataFrame:
    """Headcount needed per segment to cover the market at the ``accounts_per_rep`` norms.

    Columns: ``segment, accounts, accounts_per_rep, capacity_need, headcount,
    hires_now`` (need − headcount, at least 0; a named plan's
    ``hires_by_segment`` when the settings carry one), ``quota_per_ramped_rep,
    cost_per_rep, ramp_months`` (:func:`ramp_by_segment` of the settings).
    Sorted by segment; empty when capacity cannot be assessed.
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
        "ramp_months",
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
        given = _mapping_keys(settings["hires_by_segment"])
        hires = segment_key(table["segment"]).map(given).fillna(0).astype(int)
    return table.assign(
        hires_now=hires.to_numpy(int),
        quota_per_ramped_rep=quota.to_numpy(float),
        cost_per_rep=cost.to_numpy(float),
        ramp_months=ramp_by_segment(settings.get("ramp_months"), table["segment"]).to_numpy(float),
    )[columns]


def ramp_fraction(months_since_hire: np.ndarray, ramp_months: float | np.ndarray) -> np.ndarray:
    """Productivity of a hire ``months_since_hire`` months in: linear to 1 over
    ``ramp_months`` (1 from the start when it is 0); arrays broadcast."""
    months = np.asarray(months_since_hire, float)
    ramp = np.asarray(ramp_months, float)
    return np.where(ramp <= 0, 1.0, np.clip(months / np.where(ramp <= 0, 1.0, ramp), 0.0, 1.0))


def _quarter_productivity(quarters_since_hire: int, ramp_months: float | np.ndarray) -> np.ndarray:
    """Average productivity over a quarter of a hire made ``quarters_since_hire``
    quarters before it, for each ramp of ``ramp_months`` (one per segment)."""
    months = 3 * quarters_since_hire + np.array([0.5, 1.5, 2.5])
    ramp = np.atleast_1d(np.asarray(ramp_months, float))
    return ramp_fraction(months[None, :], ramp[:, None]).mean(axis=1)


def selling_fte(fte: np.ndarray, need: np.ndarray) -> np.ndarray:
    """The FTE that sell: productive FTE up to the segment's capacity need
    (reps beyond what the accounts call for have no accounts to work)."""
    return np.minimum(np.asarray(fte, float), np.asarray(need, float))


#: The figures of :func:`hiring_plan`, in its column order after quarter and
#: segment, as the tables narrow enough to read and print that they split into
#: (:func:`diligence.report.display.table_parts`, led by quarter and segment).
HIRING_PARTS: dict[str, tuple[str, ...]] = {
    "Hiring plan by quarter": (
        "target_headcount",
        "opening_headcount",
        "expected_leavers",
        "hires",
        "closing_headcount",
        "productive_fte",
        "bookings_capacity",
        "hires_cost",
    ),
    "Hiring plan against the baseline": (
        "capacity_need",
        "baseline_headcount",
        "selling_fte",
        "baseline_selling_fte",
        "added_bookings",
    ),
}


def hiring_plan(tables: dict, params: dict, settings: dict, need: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hiring by quarter and segment, with attrition and ramp, beside the baseline (module docstring).

    Columns: ``quarter`` (1 = the quarter after T), ``quarter_label`` (``Q+1``
    ...), ``segment, target_headcount, opening_headcount, expected_leavers,
    hires, closing_headcount, productive_fte, bookings_capacity`` (productive
    FTE × quota per ramped rep / 4), ``hires_cost`` (the plan's hires to
    date × cost per rep / 4), ``capacity_need``, ``baseline_headcount``
    (today's headcount thinned by attrition, no hires: the baseline),
    ``selling_fte`` and ``baseline_selling_fte`` (:func:`selling_fte` of the
    plan and of the baseline) and ``added_bookings`` (their difference ×
    quota per ramped rep / 4: the bookings capacity the plan adds to the
    baseline that quarter). Sorted by quarter then segment. ``need`` is
    :func:`headcount_need` of the same settings when already at hand.
    """
    settings = with_inputs(tables, params, settings)
    need = headcount_need(tables, params, settings) if need is None else need
    columns = ["quarter", "quarter_label", "segment", *(c for part in HIRING_PARTS.values() for c in part)]
    if need.empty:
        return pd.DataFrame(columns=columns)
    n_q = int(settings["plan_quarters"])
    keep = (1 - float(settings["annual_attrition"])) ** 0.25
    leave = 1 - keep
    ramp = ramp_by_segment(settings["ramp_months"], need["segment"]).to_numpy(float)
    # the need; for a named plan with its own hires, today's headcount plus those hires
    target = (
        need["capacity_need"].to_numpy(float)
        if settings.get("hires_by_segment") is None
        else (need["headcount"] + need["hires_now"]).to_numpy(float)
    )
    needed = need["capacity_need"].to_numpy(float)
    quota = need["quota_per_ramped_rep"].to_numpy(float)
    headcount = need["headcount"].to_numpy(float)
    hires = np.zeros((n_q, len(need)))
    rows = []
    # a loop over quarters (a handful), each step vectorised over segments
    for q in range(n_q):
        leavers = headcount * leave
        hires[q] = np.ceil(np.maximum(target - (headcount - leavers), 0) - 1e-9)
        closing = headcount - leavers + hires[q]
        unramped = sum(hires[k] * (1 - _quarter_productivity(q - k, ramp)) for k in range(q + 1))
        productive = closing - unramped
        baseline = need["headcount"].to_numpy(float) * keep ** (q + 1)
        selling, baseline_selling = selling_fte(productive, needed), selling_fte(baseline, needed)
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
                    "bookings_capacity": productive * quota / 4,
                    "hires_cost": hires[: q + 1].sum(axis=0) * need["cost_per_rep"].to_numpy(float) / 4,
                    "capacity_need": needed,
                    "baseline_headcount": baseline,
                    "selling_fte": selling,
                    "baseline_selling_fte": baseline_selling,
                    "added_bookings": (selling - baseline_selling) * quota / 4,
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
        "baseline_headcount",
        "added_bookings",
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


#: Economics rows that are head counts, not amounts.
COUNT_ITEMS: tuple[str, ...] = (
    "Hires in the plan",
    "Expected leavers over the plan",
    "Net hires (hires − expected leavers)",
    "Headcount at the plan's end",
    "Headcount at the plan's end, baseline",
)
RUN_RATE = "Bookings capacity over the baseline once ramped, a year"


def economics(
    tables: dict,
    params: dict,
    settings: dict,
    plan: pd.DataFrame | None = None,
    productivity: tuple[float, float] | None = None,
    need: pd.DataFrame | None = None,
    attainment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What the plan costs and returns over its quarters, against the baseline, as ranges.

    Rows (``item, low, high, basis``): hires in the plan, expected leavers,
    net hires (hires − expected leavers) and headcount at the plan's end, the
    plan's and the baseline's (today's team, attrition not replaced: module
    notes); the cost of the hires over the plan; the bookings capacity the
    plan adds to the baseline over the plan (:func:`hiring_plan`'s
    ``added_bookings``: selling FTE, capped at each segment's need, above the
    baseline's; low: today's median attainment of eligible reps × quota,
    high: full quota, ramp included); the same at run rate once ramped (the
    plan's closing headcount above the baseline's at its end, both capped at
    the need, × quota, a year); bookings of the year before T; the revenue
    uplift from better territory design (``revenue_uplift_range`` × those
    bookings); and the net of hires (added bookings − cost). Amounts in the
    data's currency. ``productivity`` replaces the (low, high) productivity
    of a ramped rep, as shares of quota (the sensitivity analysis moves it);
    ``need`` (:func:`headcount_need` of the same settings) and ``attainment``
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
    leavers = float(plan["expected_leavers"].sum()) if len(plan) else 0.0
    cost = float(plan["hires_cost"].sum()) if len(plan) else 0.0
    added = float(np.sort(plan["added_bookings"].to_numpy(float)).sum()) if len(plan) else 0.0
    end = plan.loc[plan["quarter"] == plan["quarter"].max()] if len(plan) else plan
    headcount_end = float(end["closing_headcount"].sum()) if len(plan) else 0.0
    baseline_end = float(end["baseline_headcount"].sum()) if len(plan) else 0.0
    run_rate = (
        float(
            (
                (
                    selling_fte(end["closing_headcount"], end["capacity_need"])
                    - selling_fte(end["baseline_headcount"], end["capacity_need"])
                )
                * end["segment"].map(dict(zip(need["segment"], need["quota_per_ramped_rep"]))).astype(float)
            ).sum()
        )
        if len(plan)
        else 0.0
    )
    att_note = (
        f"today's median attainment {productivity_value:.0%} of quota"
        if productivity_basis == OBSERVED
        else "too few reps with a measured attainment: full quota"
    )
    ramp = settings["ramp_months"]
    rows = [
        (
            "Hires in the plan",
            hires_total,
            hires_total,
            "hires now, plus backfill of expected attrition ("
            f"{settings['annual_attrition']:.0%} a year) up to the plan's target headcount",
        ),
        ("Expected leavers over the plan", leavers, leavers, "the same in the baseline"),
        ("Net hires (hires − expected leavers)", hires_total - leavers, hires_total - leavers, ""),
        ("Headcount at the plan's end", headcount_end, headcount_end, "quota-carrying reps, expected"),
        (
            "Headcount at the plan's end, baseline",
            baseline_end,
            baseline_end,
            "today's team, attrition not replaced: what every plan is measured against",
        ),
        ("Cost of hires over the plan", cost, cost, "fully loaded cost per rep, from each hire's start"),
        (
            "Bookings capacity added over the plan",
            added * low_rate,
            added * high_rate,
            f"over the baseline, capacity beyond each segment's need not counted; ramp {ramp_text(ramp)}; "
            f"low at {att_note}, high at full quota",
        ),
        (
            RUN_RATE,
            run_rate * low_rate,
            run_rate * high_rate,
            "headcount at the plan's end above the baseline's, within the need, × quota per ramped rep",
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
    "COUNT_ITEMS",
    "SEGMENT_ALIASES",
    "economics",
    "headcount_need",
    "hiring_by_quarter",
    "hiring_plan",
    "plan_inputs",
    "plan_summary",
    "planned_hires",
    "ramp_by_segment",
    "ramp_fraction",
    "ramp_setting",
    "ramp_text",
    "segment_key",
    "selling_fte",
    "shift_ramp",
    "with_hires",
    "with_inputs",
]
