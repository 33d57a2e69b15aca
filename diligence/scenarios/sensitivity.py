"""Sensitivity of the plan's economics to its assumptions.

Every figure of :func:`~diligence.scenarios.capacity_plan.economics`, and the
**value of the plan** (bookings capacity the hires add over the plan, plus the
revenue uplift from better territory design, less the cost of the hires), is
computed as a point at the **base** assumptions, then with each assumption
(a *driver*) moved to either end of its range, one at a time:

- ``ramp_months``: every segment's ramp moved by ± ``sensitivity.ramp_months``
  (2) months, at least 0 (the driver's levels are the shift: −2, 0, +2);
- ``annual_attrition``: the plan's attrition ± ``sensitivity.annual_attrition``
  (10 points), within [0, 95 %];
- ``quota_per_ramped_rep``: each segment's quota per ramped rep ×
  (1 ± ``sensitivity.quota_per_ramped_rep``) (± 20 %), the cost per rep held
  at its base;
- ``revenue_uplift``: the ends of ``revenue_uplift_range`` (2–7 %), base at
  its midpoint;
- ``productivity``: what a ramped rep sells, from today's median attainment
  (capped at full quota; the base) to full quota.

A driver's **swing** on a figure is |figure at its high end − at its low
end|. A figure's **low** (**high**) is the figure with every driver at the end
that lowers (raises) it, together; its **drivers** are the three with the
largest swing. The tornado chart is the value of the plan's swings.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from diligence.metrics import balance
from diligence.scenarios import capacity_plan as cp

VALUE = "Value of the plan (bookings added + design uplift − cost of hires)"
UPLIFT = "Revenue uplift from better territory design, a year"
ADDED = "Bookings capacity added over the plan"
COST = "Cost of hires over the plan"
DRIVERS: tuple[str, ...] = ("ramp_months", "annual_attrition", "quota_per_ramped_rep", "revenue_uplift", "productivity")
DRIVER_LABELS: dict[str, str] = {
    "ramp_months": "Ramp (months)",
    "annual_attrition": "Annual attrition",
    "quota_per_ramped_rep": "Quota per ramped rep",
    "revenue_uplift": "Design uplift",
    "productivity": "Productivity of a ramped rep",
}


def driver_levels(
    tables: dict, params: dict, settings: dict, attainment: pd.DataFrame | None = None
) -> dict[str, tuple[float, float, float]]:
    """(low, base, high) of each driver (module notes). ``ramp_months`` is a
    shift in months of every segment's ramp, ``quota_per_ramped_rep`` a factor
    on each segment's quota; the others are the values used.
    ``attainment`` is :func:`~diligence.metrics.balance.attainment` when at hand."""
    s = cp.with_inputs(tables, params, settings)
    spread = settings["sensitivity"]
    attrition = float(s["annual_attrition"])
    low_up, high_up = (float(x) for x in s["revenue_uplift_range"])
    att = balance.attainment(tables, params) if attainment is None else attainment
    value, _basis, _n = cp.ramped_productivity(att)
    rate = min(float(value), 1.0)
    q = float(spread["quota_per_ramped_rep"])
    return {
        "ramp_months": (-float(spread["ramp_months"]), 0.0, float(spread["ramp_months"])),
        "annual_attrition": (
            max(attrition - spread["annual_attrition"], 0.0),
            attrition,
            min(attrition + spread["annual_attrition"], cp.MAX_ATTRITION),
        ),
        "quota_per_ramped_rep": (max(1.0 - q, 0.0), 1.0, 1.0 + q),
        "revenue_uplift": (low_up, (low_up + high_up) / 2, high_up),
        "productivity": (rate, rate, 1.0),
    }


def _figures(
    tables: dict, params: dict, settings: dict, need: pd.DataFrame, att: pd.DataFrame, levels: dict[str, float]
) -> dict:
    """Every economics figure and the value of the plan at one set of driver
    values (``need`` and ``att``: the base headcount need and attainment)."""
    s = {
        **settings,
        "ramp_months": cp.shift_ramp(settings["ramp_months"], levels["ramp_months"]),
        "annual_attrition": levels["annual_attrition"],
        "revenue_uplift_range": [levels["revenue_uplift"]] * 2,
    }
    # quota moves, the cost per rep stays at its base
    need = need.assign(quota_per_ramped_rep=need["quota_per_ramped_rep"] * levels["quota_per_ramped_rep"])
    rate = levels["productivity"]
    plan = cp.hiring_plan(tables, params, s, need)
    econ = cp.economics(tables, params, s, plan, productivity=(rate, rate), need=need, attainment=att)
    out = {str(k): (None if pd.isna(v) else float(v)) for k, v in zip(econ["item"], econ["low"])}
    parts = [out.get(ADDED), out.get(COST)]
    out[VALUE] = None if any(p is None for p in parts) else parts[0] - parts[1] + (out.get(UPLIFT) or 0.0)
    return out


def sensitivity(tables: dict, params: dict, settings: dict, items: list[str] | None = None) -> dict[str, Any]:
    """Low / base / high of each economics figure and the value of the plan,
    with their drivers (module notes).

    ``items`` limits the figures given a joint low and high (all when None;
    the named plans need only :data:`VALUE`).

    Returns ``{"ranges": frame item, low, base, high, drivers (the three
    largest swings, named), "tornado": frame driver, label, low_setting,
    base_setting, high_setting, value_at_low, value_at_high, low_text,
    high_text (the settings in words), swing (the value of the plan; largest
    swing first), "levels": driver_levels, "base_value": the value of the plan
    at the base}``.
    """
    s = cp.with_inputs(tables, params, settings)
    need = cp.headcount_need(tables, params, s)
    att = balance.attainment(tables, params)
    levels = driver_levels(tables, params, settings, att)
    base_levels = {d: lv[1] for d, lv in levels.items()}

    seen: dict[tuple, dict] = {}

    def figures(lv: dict[str, float]) -> dict:
        # the figures' joint ends often share their driver values: each set is worked out once
        key = tuple(lv[d] for d in DRIVERS)
        if key not in seen:
            seen[key] = _figures(tables, params, s, need, att, lv)
        return seen[key]

    base = figures(base_levels)
    ends: dict[str, tuple[dict, dict]] = {}
    for d in DRIVERS:
        lo_hi = []
        for end in (0, 2):
            if levels[d][end] == levels[d][1]:
                lo_hi.append(base)
            else:
                lo_hi.append(figures({**base_levels, d: levels[d][end]}))
        ends[d] = (lo_hi[0], lo_hi[1])
    rows = []
    for item in items if items is not None else list(base):
        b = base.get(item)
        if b is None:
            rows.append((item, None, None, None, ""))
            continue
        swings = {d: abs((ends[d][1].get(item) or 0.0) - (ends[d][0].get(item) or 0.0)) for d in DRIVERS}
        worst = {
            d: levels[d][0 if (ends[d][0].get(item) or 0.0) <= (ends[d][1].get(item) or 0.0) else 2] for d in DRIVERS
        }
        best = {d: levels[d][2 if worst[d] == levels[d][0] else 0] for d in DRIVERS}
        moving = [d for d in DRIVERS if swings[d] > 1e-9 * max(1.0, abs(b))]
        low = figures(worst)[item] if moving else b
        high = figures(best)[item] if moving else b
        top = sorted(moving, key=lambda d: (-swings[d], DRIVERS.index(d)))[:3]
        rows.append((item, low, b, high, ", ".join(DRIVER_LABELS[d] for d in top)))
    ranges = pd.DataFrame(rows, columns=["item", "low", "base", "high", "drivers"])
    ranges = ranges.astype({"item": "string", "drivers": "string", "low": float, "base": float, "high": float})
    tornado = pd.DataFrame(
        [
            {
                "driver": d,
                "label": DRIVER_LABELS[d],
                "low_setting": levels[d][0],
                "base_setting": levels[d][1],
                "high_setting": levels[d][2],
                "value_at_low": ends[d][0].get(VALUE),
                "value_at_high": ends[d][1].get(VALUE),
            }
            for d in DRIVERS
        ]
    )
    tornado["low_text"] = [setting_text(d, levels[d][0]) for d in tornado["driver"]]
    tornado["high_text"] = [setting_text(d, levels[d][2]) for d in tornado["driver"]]
    tornado["swing"] = (tornado["value_at_high"].astype(float) - tornado["value_at_low"].astype(float)).abs()
    tornado = tornado.sort_values(["swing", "driver"], ascending=[False, True], kind="stable").reset_index(drop=True)
    tornado = tornado.astype({"driver": "string", "label": "string", "low_text": "string", "high_text": "string"})
    return {"ranges": ranges, "tornado": tornado, "levels": levels, "base_value": base.get(VALUE)}


def setting_text(driver: str, value: float) -> str:
    """A driver's value as the tornado labels it (``2 months shorter``, ``25%``, ``×1.2``)."""
    if driver == "ramp_months":
        return "ramp as assumed" if value == 0 else f"{abs(value):g} months {'longer' if value > 0 else 'shorter'}"
    if driver == "quota_per_ramped_rep":
        return f"×{value:.2g}"
    return f"{value:.0%}" if driver != "revenue_uplift" else f"{value * 100:.1f}%".replace(".0%", "%")


def value_sentence(result: dict[str, Any]) -> str:
    """One sentence on the value of the plan: its range and the assumptions that move it most."""
    ranges = result["ranges"].set_index("item")
    if VALUE not in ranges.index or pd.isna(ranges.loc[VALUE, "base"]):
        return ""
    from diligence.text import fmt_money

    row = ranges.loc[VALUE]
    top = result["tornado"].loc[result["tornado"]["swing"] > 0]
    lead = top.iloc[0] if len(top) else None
    out = (
        f"The plan is worth {fmt_money(row['base'])} at the base assumptions, between {fmt_money(row['low'])} "
        f"and {fmt_money(row['high'])} with every assumption at its worst or best end"
    )
    if lead is not None:
        out += (
            f"; {str(lead['label']).lower()} moves it most ({fmt_money(lead['swing'])} between "
            f"{setting_text(str(lead['driver']), lead['low_setting'])} and "
            f"{setting_text(str(lead['driver']), lead['high_setting'])})"
        )
    return out + "."


__all__ = ["DRIVERS", "DRIVER_LABELS", "VALUE", "driver_levels", "sensitivity", "setting_text", "value_sentence"]
