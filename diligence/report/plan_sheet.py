"""The workbook's capacity plan that recalculates: inputs in cells, the plan in formulas.

The same model as :mod:`diligence.scenarios.capacity_plan`, written as Excel
formulas over input cells, so that an operating partner can change a segment's
ramp, the attrition, a segment's need or quota and see the hires, the
productive capacity, the cost and the value range follow (in Excel or
LibreOffice). As in the kit, the plan is measured against the baseline (today's
team, attrition not replaced), each segment's capacity counting up to its need.
The kit's own figures for the same inputs are the values other sheets show;
the tests recalculate this sheet headless and compare.

Formulas are built from cell references only: no client text ever enters a
formula (segment names are written as text cells, and referenced by address).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from diligence.report.excel import NAVY, put

SHEET_TITLE = "Capacity plan (live)"
INPUT_FILL = PatternFill("solid", fgColor="DDEBF7")  # input cells: light blue, as financial models mark them
INPUT_FONT = Font(color="1F3B5C", bold=True)
_HEAD = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor=NAVY)
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="center")
MONEY = '"$"#,##0'
PCT = "0.0%"
NUM1 = "0.0"

#: Economics rows of the sheet, named as :func:`~diligence.scenarios.capacity_plan.economics` names them.
ECONOMICS_ITEMS = (
    "Hires in the plan",
    "Expected leavers over the plan",
    "Net hires (hires − expected leavers)",
    "Headcount at the plan's end",
    "Headcount at the plan's end, baseline",
    "Cost of hires over the plan",
    "Bookings capacity added over the plan",
    "Bookings capacity over the baseline once ramped, a year",
    "Bookings, the year before the as-of date",
    "Revenue uplift from better territory design, a year",
    "Net of hires over the plan (added bookings − cost)",
)


def _input(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None) -> None:
    cell = put(ws, row, col, value, number_format=fmt)
    cell.fill, cell.font = INPUT_FILL, INPUT_FONT


def _formula(ws: Worksheet, row: int, col: int, formula: str, fmt: str | None = None, bold: bool = False) -> str:
    cell = ws.cell(row=row, column=col, value=formula)
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = _BOLD
    return cell.coordinate


def _header(ws: Worksheet, row: int, names: list[str]) -> None:
    for j, name in enumerate(names, start=1):
        cell = put(ws, row, j, name, font=_HEAD)
        cell.fill, cell.alignment = _HEAD_FILL, _WRAP
    ws.row_dimensions[row].height = 30


def write_plan_sheet(
    ws: Worksheet,
    need: pd.DataFrame,
    inputs: pd.DataFrame,
    settings: Mapping[str, Any],
    bookings_last_year: float | None,
) -> dict[str, Any]:
    """Write the live capacity plan on ``ws``.

    ``need`` is :func:`~diligence.scenarios.capacity_plan.headcount_need`
    (its ``ramp_months`` become each segment's ramp cell),
    ``inputs`` :func:`~diligence.scenarios.capacity_plan.plan_inputs` (their
    values and bases become the input cells), ``settings`` the scenario
    settings (plan length, cost-to-quota ratio, uplift range, and whether a
    cost per rep was given). Returns the addresses of what the tests read:
    ``inputs`` (setting → cell), ``plan`` (one dict per (quarter, segment) row
    with its cells), ``economics`` (item → (low cell, high cell)),
    ``segments`` (segment → row) and ``ramp`` (segment → its ramp cell).
    """
    values = inputs.set_index("setting")
    n_q = int(settings["plan_quarters"])
    uplift_low, uplift_high = settings["revenue_uplift_range"]
    put(
        ws,
        1,
        1,
        SHEET_TITLE.replace(" (live)", ": a model that recalculates"),
        font=Font(bold=True, size=14, color=NAVY),
    )
    put(ws, 2, 1, "Blue cells are inputs: change one and the hires, capacity, cost and value below follow.")

    # --- inputs -------------------------------------------------------------
    _header(ws, 4, ["Input", "Value", "Basis", "Note"])
    cells: dict[str, str] = {}
    r = 5
    put(ws, r, 1, "Ramp to full productivity (months)")
    put(ws, r, 2, str(values.loc["ramp_months", "figure"]) if "figure" in values.columns else "")
    put(ws, r, 3, str(values.loc["ramp_months", "basis"]))
    put(ws, r, 4, "by segment: the blue Ramp cells of the segments below. " + str(values.loc["ramp_months", "note"]))
    r += 1
    for setting, label, fmt in (
        ("annual_attrition", "Annual attrition", PCT),
        ("productivity", "Productivity of a ramped rep (share of quota)", PCT),
    ):
        put(ws, r, 1, label)
        _input(ws, r, 2, float(values.loc[setting, "value"]), fmt)
        put(ws, r, 3, str(values.loc[setting, "basis"]))
        put(ws, r, 4, str(values.loc[setting, "note"]))
        cells[setting] = f"$B${r}"
        r += 1
    for setting, label, value, fmt, basis in (
        ("cost_to_quota_ratio", "Fully loaded cost of a rep / its quota", settings["cost_to_quota_ratio"], PCT, "set"),
        ("uplift_low", "Revenue uplift from better design, low", uplift_low, PCT, "assumed"),
        ("uplift_high", "Revenue uplift from better design, high", uplift_high, PCT, "assumed"),
        (
            "bookings_last_year",
            "Bookings, the year before the as-of date",
            bookings_last_year or 0.0,
            MONEY,
            "observed",
        ),
    ):
        put(ws, r, 1, label)
        _input(ws, r, 2, float(value), fmt)
        put(ws, r, 3, basis)
        cells[setting] = f"$B${r}"
        r += 1
    put(ws, r, 1, "Share of reps leaving each quarter")
    cells["leave"] = "$B$" + str(r)
    _formula(ws, r, 2, f"=1-(1-{cells['annual_attrition']})^(1/4)", PCT)
    put(ws, r, 3, "derived")
    r += 2

    # --- segments, with their ramp and the productivity of a hire by quarters since hire --------
    ramp_col = 7  # G: the segment's ramp (months), an input
    first_ramp_col = 9  # I onwards: productivity of a hire d quarters after it joined
    _header(
        ws,
        r,
        [
            "Segment",
            "Reps needed",
            "Reps in seat",
            "Quota per ramped rep",
            "Cost per rep",
            "Hires in plan",
            "Ramp (months)",
            "Capacity over the baseline once ramped, a year",
        ]
        + [f"Productivity, quarter {d + 1} after hire" for d in range(n_q)],
    )
    r += 1
    seg_rows: dict[str, int] = {}
    cost_given = settings.get("fully_loaded_cost_per_rep") is not None
    first_seg = r
    ramp_values = (
        need["ramp_months"].to_numpy(float)
        if "ramp_months" in need.columns
        else [float(values.loc["ramp_months", "value"])] * len(need)
    )
    for (_, row), ramp in zip(need.reset_index(drop=True).iterrows(), ramp_values):
        put(ws, r, 1, row["segment"])
        _input(ws, r, 2, int(row["capacity_need"]))
        _input(ws, r, 3, float(row["headcount"]))
        _input(ws, r, 4, float(row["quota_per_ramped_rep"]), MONEY)
        if cost_given:
            _input(ws, r, 5, float(row["cost_per_rep"]), MONEY)
        else:
            _formula(ws, r, 5, f"=D{r}*{cells['cost_to_quota_ratio']}", MONEY)
        _input(ws, r, ramp_col, float(ramp), NUM1)
        R = f"$G${r}"
        for d in range(n_q):
            months = [3 * d + 0.5, 3 * d + 1.5, 3 * d + 2.5]
            parts = "+".join(f"MIN(1,{m}/{R})" for m in months)
            _formula(ws, r, first_ramp_col + d, f"=IF({R}<=0,1,({parts})/3)", PCT)
        seg_rows[str(row["segment"])] = r
        r += 1
    last_seg = r - 1
    r += 1

    def ramp_cell(seg_row: int, d: int) -> str:
        return f"${get_column_letter(first_ramp_col + d)}${seg_row}"

    # --- the plan, quarter by quarter, beside the baseline ------------------------------------
    columns = [
        "Quarter",
        "Segment",
        "Target headcount",
        "Opening headcount",
        "Expected leavers",
        "Hires",
        "Closing headcount",
        "Productive FTE",
        "Bookings capacity",
        "Hires cost to date",
        "Baseline headcount (no hires)",
        "Selling FTE (within the need)",
        "Baseline selling FTE",
        "Bookings added over the baseline",
    ]
    _header(ws, r, columns)
    r += 1
    plan_rows: list[dict[str, Any]] = []
    row_of: dict[tuple[int, str], int] = {}
    first_plan = r
    first_last_quarter = r
    for q in range(1, n_q + 1):
        if q == n_q:
            first_last_quarter = r
        for seg, s in seg_rows.items():
            row_of[(q, seg)] = r
            put(ws, r, 1, f"Q+{q}")
            ws.cell(row=r, column=2, value=f"=A{s}")
            _formula(ws, r, 3, f"=B{s}", "0")
            opening = f"=C{s}" if q == 1 else f"=G{row_of[(q - 1, seg)]}"
            _formula(ws, r, 4, opening, NUM1)
            _formula(ws, r, 5, f"=D{r}*{cells['leave']}", "0.00")
            _formula(ws, r, 6, f"=MAX(0,ROUNDUP(C{r}-(D{r}-E{r})-1E-9,0))", "0")
            _formula(ws, r, 7, f"=D{r}-E{r}+F{r}", NUM1)
            unramped = "+".join(f"F{row_of[(k, seg)]}*(1-{ramp_cell(s, q - k)})" for k in range(1, q + 1))
            _formula(ws, r, 8, f"=G{r}-({unramped})", NUM1)
            _formula(ws, r, 9, f"=H{r}*D{s}/4", MONEY)
            hired = "+".join(f"F{row_of[(k, seg)]}" for k in range(1, q + 1))
            _formula(ws, r, 10, f"=({hired})*E{s}/4", MONEY)
            _formula(ws, r, 11, f"=C{s}*(1-{cells['leave']})^{q}", NUM1)
            _formula(ws, r, 12, f"=MIN(H{r},B{s})", NUM1)
            _formula(ws, r, 13, f"=MIN(K{r},B{s})", NUM1)
            _formula(ws, r, 14, f"=(L{r}-M{r})*D{s}/4", MONEY)
            plan_rows.append({"quarter": q, "segment": seg, "hires": f"F{r}", "productive_fte": f"H{r}", "row": r})
            r += 1
    last_plan = r - 1
    for seg, s in seg_rows.items():
        _formula(ws, s, 6, f"=SUMIF($B${first_plan}:$B${last_plan},A{s},$F${first_plan}:$F${last_plan})", "0")
        end = row_of[(n_q, seg)]
        _formula(ws, s, 8, f"=(MIN(G{end},B{s})-MIN(K{end},B{s}))*D{s}", MONEY)
    r += 1

    # --- economics ---------------------------------------------------------------
    _header(ws, r, ["What the plan costs and returns, against the baseline", "Low", "High"])
    r += 1
    rate = f"MIN({cells['productivity']},1)"
    hires = f"SUM(F{first_plan}:F{last_plan})"
    leavers = f"SUM(E{first_plan}:E{last_plan})"
    cost = f"SUM(J{first_plan}:J{last_plan})"
    added = f"SUM(N{first_plan}:N{last_plan})"
    run_rate = f"SUM(H{first_seg}:H{last_seg})"
    headcount_end = f"SUM(G{first_last_quarter}:G{last_plan})"
    baseline_end = f"SUM(K{first_last_quarter}:K{last_plan})"
    bookings = cells["bookings_last_year"]
    formulas = {
        "Hires in the plan": (f"={hires}", f"={hires}", "0"),
        "Expected leavers over the plan": (f"={leavers}", f"={leavers}", NUM1),
        "Net hires (hires − expected leavers)": (f"={hires}-{leavers}", f"={hires}-{leavers}", NUM1),
        "Headcount at the plan's end": (f"={headcount_end}", f"={headcount_end}", NUM1),
        "Headcount at the plan's end, baseline": (f"={baseline_end}", f"={baseline_end}", NUM1),
        "Cost of hires over the plan": (f"={cost}", f"={cost}", MONEY),
        "Bookings capacity added over the plan": (f"={added}*{rate}", f"={added}", MONEY),
        "Bookings capacity over the baseline once ramped, a year": (f"={run_rate}*{rate}", f"={run_rate}", MONEY),
        "Bookings, the year before the as-of date": (f"={bookings}", f"={bookings}", MONEY),
        "Revenue uplift from better territory design, a year": (
            f"={bookings}*{cells['uplift_low']}",
            f"={bookings}*{cells['uplift_high']}",
            MONEY,
        ),
        "Net of hires over the plan (added bookings − cost)": (f"={added}*{rate}-{cost}", f"={added}-{cost}", MONEY),
    }
    economics: dict[str, tuple[str, str]] = {}
    for item in ECONOMICS_ITEMS:
        low, high, fmt = formulas[item]
        put(ws, r, 1, item)
        economics[item] = (_formula(ws, r, 2, low, fmt, bold=True), _formula(ws, r, 3, high, fmt, bold=True))
        r += 1
    for j, width in enumerate((46, 16, 14, 22, 16, 14, 16, 18, 18, 20, 18, 18, 18, 20), start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "A4"
    ramp_cells = {seg: f"$G${row}" for seg, row in seg_rows.items()}
    return {"inputs": cells, "plan": plan_rows, "economics": economics, "segments": seg_rows, "ramp": ramp_cells}
