"""Market coverage: who owns each account, who works it, and where nobody does.

Definitions follow SPEC §3. ``T`` is the as-of date; windows are half-open on
the left, so "the 90 days before T" is ``(T - 90 days, T]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from diligence.metrics.memo import once_per_tables

REP_ASSIGNED = "rep_assigned"
PARTNER_ONLY = "partner_only"
ORPHANED = "orphaned"  # unassigned: owner filled but departed or unknown
UNOWNED = "unowned"  # unassigned: no owner, no partner
ASSIGNMENT_CLASSES = (REP_ASSIGNED, PARTNER_ONLY, ORPHANED, UNOWNED)
CLASS_LABELS = {
    REP_ASSIGNED: "Rep-assigned",
    PARTNER_ONLY: "Partner only",
    ORPHANED: "Owner departed or unknown",
    UNOWNED: "No owner",
}


def active_rep_mask(reps: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Boolean mask of active reps at ``as_of``.

    A rep is active when ``hire_date`` is blank or on/before T, and
    ``end_date`` is blank or after T. Absent date columns count as blank.
    """
    as_of = pd.Timestamp(as_of)
    hired = reps["hire_date"].isna() | (reps["hire_date"] <= as_of) if "hire_date" in reps else True
    staying = reps["end_date"].isna() | (reps["end_date"] > as_of) if "end_date" in reps else True
    mask = pd.Series(True, index=reps.index) & hired & staying
    return mask.astype(bool)


def active_rep_ids(reps: pd.DataFrame, as_of: pd.Timestamp) -> pd.Index:
    """The ``rep_id`` of every active rep at ``as_of`` (see :func:`active_rep_mask`)."""
    return pd.Index(reps.loc[active_rep_mask(reps, as_of), "rep_id"].dropna().unique())


def orphaned_mask(accounts: pd.DataFrame, reps: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """True for each orphaned account: ``owner_rep_id`` filled but naming a
    departed or unknown rep (SPEC §3). Counted whatever the ``partner_id``."""
    if "owner_rep_id" not in accounts:
        return pd.Series(False, index=accounts.index)
    owner = accounts["owner_rep_id"]
    return (owner.notna() & ~owner.isin(active_rep_ids(reps, as_of))).astype(bool)


def classify_accounts(accounts: pd.DataFrame, reps: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Assignment class of each account, indexed like ``accounts``.

    - ``rep_assigned``: ``owner_rep_id`` names an active rep;
    - ``partner_only``: not rep-assigned, ``partner_id`` filled;
    - ``orphaned``: neither of those, ``owner_rep_id`` filled (a departed or
      unknown rep);
    - ``unowned``: neither of those, no owner at all.

    Unassigned (SPEC §3: neither rep-assigned nor partner-only) = ``orphaned``
    + ``unowned``. An account whose departed owner left it with a designated
    partner is partner-only here, yet still counted by :func:`orphaned_mask`.
    """
    n = len(accounts)
    owner = (
        accounts["owner_rep_id"]
        if "owner_rep_id" in accounts
        else pd.Series([pd.NA] * n, index=accounts.index, dtype="string")
    )
    partner = (
        accounts["partner_id"]
        if "partner_id" in accounts
        else pd.Series([pd.NA] * n, index=accounts.index, dtype="string")
    )
    active = owner.isin(active_rep_ids(reps, as_of)).to_numpy(bool)
    has_partner = partner.notna().to_numpy(bool)
    has_owner = owner.notna().to_numpy(bool)
    cls = np.select(
        [active, has_partner, has_owner],
        [REP_ASSIGNED, PARTNER_ONLY, ORPHANED],
        default=UNOWNED,
    )
    return pd.Series(cls, index=accounts.index, name="assignment", dtype="string")


#: The column the kit writes the modelled potential into when a run uses it
#: (:mod:`diligence.metrics.potential_model`), beside the client's own.
MODELLED_POTENTIAL = "modelled_potential"
#: Each basis: (its name in the report, its code in findings.json, the column it reads).
_BASES = (
    ("modelled potential", "model", MODELLED_POTENTIAL),
    ("potential", "column", "potential"),
    ("annual_revenue (proxy)", "proxy:annual_revenue", "annual_revenue"),
    ("account count (proxy)", None, None),
)
POTENTIAL_BASES = tuple(name for name, _, _ in _BASES)


def _basis(accounts: pd.DataFrame) -> tuple[str, str | None, str | None]:
    for entry in _BASES:
        column = entry[2]
        if column is None or (column in accounts and accounts[column].notna().any()):
            return entry
    return _BASES[-1]


def potential_basis(accounts: pd.DataFrame) -> str:
    """Which measure stands for an account's potential, as named in the report.

    - ``"modelled potential"``: the run chose the model (it validated on the
      company's own history) and wrote it as :data:`MODELLED_POTENTIAL`;
    - ``"potential"``: otherwise, the client's ``potential`` column exists and
      holds any value;
    - ``"annual_revenue (proxy)"``: otherwise, ``annual_revenue`` exists and
      holds any value (a bigger company usually buys more);
    - ``"account count (proxy)"``: otherwise; every account weighs 1, so
      potential-weighted metrics degrade to account counts.
    """
    return _basis(accounts)[0]


def potential_basis_code(accounts: pd.DataFrame) -> str | None:
    """The basis as findings.json names it (SPEC §7 ``potential_basis``):
    ``"model"``, ``"column"`` for the client's ``potential``,
    ``"proxy:annual_revenue"``, or None when no measure exists and every
    account weighs 1."""
    return _basis(accounts)[1]


def account_potential(accounts: pd.DataFrame) -> pd.Series:
    """Potential of each account (float, indexed like ``accounts``).

    Uses the column named by :func:`potential_basis`, blanks counted as 0: a
    blank potential in a column that is otherwise filled is an account nobody
    valued, not an average one. Without any such column every account weighs
    1.0. Always name the basis next to any potential-weighted number.
    """
    column = _basis(accounts)[2]
    if column is None:
        values = np.ones(len(accounts), dtype=float)
    else:
        values = pd.to_numeric(accounts[column], errors="coerce").astype(float).fillna(0.0).to_numpy()
    return pd.Series(values, index=accounts.index, name="potential", dtype=float)


# --- Shared building blocks (also used by balance, pipeline and capacity) ---

BLANK = "(blank)"


def as_of_date(params: dict) -> pd.Timestamp:
    """The as-of date ``T`` of a run, from ``params["as_of"]`` (ISO string)."""
    return pd.Timestamp(params["as_of"]).normalize()


def within_days_before(dates: pd.Series, as_of: pd.Timestamp, days: int) -> pd.Series:
    """True where ``dates`` falls in the ``days`` days before T: ``(T - days, T]``.

    Blank dates are never inside a window.
    """
    as_of = pd.Timestamp(as_of)
    inside = (dates > as_of - pd.Timedelta(days=days)) & (dates <= as_of)
    return inside.fillna(False).astype(bool)


def within_days_after(dates: pd.Series, as_of: pd.Timestamp, days: int) -> pd.Series:
    """True where ``dates`` falls in the ``days`` days after T: ``(T, T + days]``."""
    as_of = pd.Timestamp(as_of)
    inside = (dates > as_of) & (dates <= as_of + pd.Timedelta(days=days))
    return inside.fillna(False).astype(bool)


def is_true(values: pd.Series) -> pd.Series:
    """Nullable booleans as plain ``bool``: blank counts as False."""
    return values.astype("boolean").fillna(False).astype(bool)


def quota_carrying_mask(reps: pd.DataFrame) -> pd.Series:
    """True for quota-carrying reps: ``quota`` > 0 (SPEC §2: blank or 0 = not).

    Without a ``quota`` column nobody is quota-carrying.
    """
    if "quota" not in reps:
        return pd.Series(False, index=reps.index)
    return (reps["quota"] > 0).fillna(False).astype(bool)


def active_quota_reps(reps: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Active, quota-carrying reps at T, sorted by ``rep_id``, index reset.

    These are the reps whose books form comparable territories, whose
    pipeline coverage is measured and who count as selling headcount.
    """
    keep = active_rep_mask(reps, as_of) & quota_carrying_mask(reps)
    return reps.loc[keep].sort_values("rep_id", kind="stable").reset_index(drop=True)


def column_or_blank(frame: pd.DataFrame, name: str, dtype: str = "string") -> pd.Series:
    """``frame[name]``, or an all-blank column of ``dtype`` when the client did not send it."""
    if name in frame:
        return frame[name]
    return pd.Series(pd.array([pd.NA] * len(frame), dtype=dtype), index=frame.index, name=name)


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` looked up by ``keys`` (missing keys blank), indexed like ``keys``.

    ``values`` must have a unique index. ``Series.map`` cannot be used for
    dates: in pandas 3.1 it fails when either side is empty.
    """
    taken = values.array.take(positions_in(keys, values.index), allow_fill=True)
    return pd.Series(taken, index=keys.index, name=values.name)


def positions_in(keys: pd.Series | pd.Index, index: pd.Index) -> np.ndarray:
    """``index.get_indexer(keys)``: the position of each key in ``index``
    (unique), −1 where absent; through pyarrow when both are text (pandas
    hashes pyarrow strings as Python objects, several times slower on the
    millions of activities a large company logs)."""
    if isinstance(keys.dtype, pd.StringDtype) and isinstance(index.dtype, pd.StringDtype):
        found = pc.index_in(pa.array(keys.array), value_set=pa.array(index.array))
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    return index.get_indexer(keys)


def member_of(values: pd.Series, reference: pd.Series | pd.Index) -> np.ndarray:
    """``values.isin(reference)`` as a numpy mask, through pyarrow for text
    (pandas' own is several times slower on millions of pyarrow strings)."""
    if isinstance(values.dtype, pd.StringDtype):
        ref = pd.Series(reference).astype(values.dtype).dropna().drop_duplicates()
        found = pc.is_in(pa.array(values.array), value_set=pa.array(ref.array))
        return found.to_numpy(zero_copy_only=False).astype(bool)
    return values.isin(pd.Series(reference).dropna()).to_numpy(bool)


def lookup_in(keys: pd.Series, frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    """``frame[column]`` looked up by ``keys`` in ``frame[key]`` (unique), indexed like ``keys``.

    Only the rows of ``frame`` that ``keys`` name are indexed: looking up a few
    thousand deals' accounts among a million costs the few thousand.
    """
    rows = frame.loc[member_of(frame[key], keys), [key, column]]
    return lookup(keys, rows.set_index(key)[column])


def account_segment(rows: pd.DataFrame, accounts: pd.DataFrame) -> pd.Series:
    """The segment of the account each row (an opportunity, an activity) names,
    labelled with :data:`BLANK` where unknown; indexed like ``rows``."""
    if "segment" not in accounts:
        return label_blanks(column_or_blank(rows, "segment"))
    return label_blanks(lookup_in(rows["account_id"], accounts, "account_id", "segment"))


def sorted_by_value(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` ordered by ``column`` (stable).

    Summing floats in a fixed order makes group sums independent of the input's
    row order, so that shuffled exports give bit-identical metrics.
    """
    order = np.argsort(frame[column].to_numpy(dtype=float, na_value=np.nan), kind="stable")
    return frame.iloc[order]


def order_free_sum(values: pd.Series | np.ndarray) -> float:
    """Sum of ``values`` (blanks ignored) independent of their order."""
    arr = np.asarray(values, dtype=float)
    return float(np.sort(arr[~np.isnan(arr)]).sum())


def share(part: float | int, whole: float | int) -> float | None:
    """``part / whole`` as a plain float, None when ``whole`` is 0."""
    return float(part) / float(whole) if whole else None


def label_blanks(values: pd.Series) -> pd.Series:
    """Group keys for display: text, blanks shown as ``(blank)``."""
    return values.astype("string").fillna(BLANK)


def last_activity_dates(accounts: pd.DataFrame, activities: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.Series:
    """Date of each account's latest activity on or before T (NaT when none).

    Activities dated after T are later than the snapshot and are ignored (intake
    reports them as a data-quality warning). Indexed like ``accounts``.
    """
    if activities is None:
        return pd.Series(pd.NaT, index=accounts.index, dtype="datetime64[ns]", name="last_activity_date")
    last = _latest_activity({"activities": activities}, {"as_of": pd.Timestamp(as_of)})
    return lookup(accounts["account_id"], last).astype("datetime64[ns]").rename("last_activity_date")


@once_per_tables(("activities",), ("as_of",))
def _latest_activity(tables: dict, params: dict) -> pd.Series:
    """Latest activity date on or before T per ``account_id`` of the activities;
    built once per activities table: the scenario step measures several plans
    whose accounts change owner, never their activities."""
    activities = tables["activities"]
    dates = activities["activity_date"]
    dated = (dates <= params["as_of"]).fillna(False).to_numpy(bool)
    # group the two needed columns only: copying 5M rows of text would dominate
    return dates[dated].groupby(activities["account_id"][dated], sort=False).max()


def worked_from_last_activity(last_activity: pd.Series, as_of: pd.Timestamp, window_days: int) -> pd.Series:
    """Worked (SPEC §3) from :func:`last_activity_dates`: an account has an
    activity in ``(T - window_days, T]`` exactly when its latest activity on
    or before T is after ``T - window_days``."""
    return within_days_before(last_activity, as_of, window_days).rename("worked")


def worked_mask(
    accounts: pd.DataFrame, activities: pd.DataFrame | None, as_of: pd.Timestamp, window_days: int
) -> pd.Series | None:
    """True for each worked account (SPEC §3): at least one activity on it,
    by any rep, in ``(T - window_days, T]``. None without an activities table."""
    if activities is None:
        return None
    return worked_from_last_activity(last_activity_dates(accounts, activities, as_of), as_of, window_days)


def assignment_assessable(accounts: pd.DataFrame) -> bool:
    """Whether assignment metrics can be measured: the ``owner_rep_id`` column
    was sent. Without it every account would look unassigned, which says
    nothing about the company, so those metrics are ``None``."""
    return "owner_rep_id" in accounts


# --- Account level ---


@once_per_tables(("accounts", "reps", "activities"), ("as_of", "active_window_days"))
def _coverage_frame(tables: dict, params: dict) -> pd.DataFrame:
    """Per-account facts, indexed like ``tables["accounts"]`` (unsorted); built
    once for the same tables and parameters (:func:`~diligence.metrics.memo.once_per_tables`)."""
    accounts, reps = tables["accounts"], tables["reps"]
    as_of = as_of_date(params)
    activities = tables.get("activities")
    last = last_activity_dates(accounts, activities, as_of)
    worked = None if activities is None else worked_from_last_activity(last, as_of, params["active_window_days"])
    return pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "account_name": accounts["account_name"],
            "segment": column_or_blank(accounts, "segment"),
            "region": column_or_blank(accounts, "region"),
            "owner_rep_id": column_or_blank(accounts, "owner_rep_id"),
            "partner_id": column_or_blank(accounts, "partner_id"),
            "assignment": classify_accounts(accounts, reps, as_of),
            "orphaned": orphaned_mask(accounts, reps, as_of),
            "worked": worked.astype("boolean")
            if worked is not None
            else pd.array([pd.NA] * len(accounts), dtype="boolean"),
            "last_activity_date": last,
            "potential": account_potential(accounts),
        },
        index=accounts.index,
    )


def account_coverage(tables: dict, params: dict) -> pd.DataFrame:
    """One row per account: who covers it and whether anyone works it.

    Columns: ``account_id, account_name, segment, region, owner_rep_id,
    partner_id, assignment`` (``rep_assigned`` / ``partner_only`` /
    ``orphaned`` / ``unowned``, see :func:`classify_accounts`), ``orphaned``
    (owner filled but departed or unknown), ``worked`` (an activity in the
    ``active_window_days`` before T; blank without an activities table),
    ``last_activity_date`` (on or before T) and ``potential`` (see
    :func:`account_potential`). Sorted by ``account_id``.
    """
    frame = _coverage_frame(tables, params)
    return frame.sort_values("account_id", kind="stable").reset_index(drop=True)


def metrics(tables: dict, params: dict) -> dict[str, float | int | None]:
    """Coverage metrics of SPEC §4.

    ``accounts_total, rep_assigned_pct, partner_only_pct, unassigned_pct,
    orphaned_accounts, unassigned_potential_pct, contacted_90d_pct,
    assigned_not_worked_pct, white_space_cells, white_space_potential_pct``,
    plus the class counts (``accounts_rep_assigned``, ``accounts_partner_only``,
    ``accounts_unassigned``, ``accounts_worked``) and ``orphaned_potential_pct``.

    Assignment-based metrics are None when accounts have no ``owner_rep_id``
    column; activity-based ones when there is no activities table;
    potential shares when total potential is 0; white-space ones when none of
    the ``white_space_dimensions`` is a column of accounts. ``contacted_90d_pct``
    uses the ``active_window_days`` window (90 by default).
    """
    frame = _coverage_frame(tables, params)
    total = len(frame)
    assessable = assignment_assessable(tables["accounts"])
    cls = frame["assignment"].to_numpy(dtype=object)
    rep_assigned = cls == REP_ASSIGNED
    partner_only = cls == PARTNER_ONLY
    unassigned = ~(rep_assigned | partner_only)
    potential = frame["potential"].to_numpy(dtype=float)
    total_potential = order_free_sum(potential)
    has_activities = "activities" in tables
    worked = frame["worked"].to_numpy(dtype=bool, na_value=False)

    out: dict[str, float | int | None] = {"accounts_total": int(total)}
    if assessable:
        out.update(
            rep_assigned_pct=share(rep_assigned.sum(), total),
            partner_only_pct=share(partner_only.sum(), total),
            unassigned_pct=share(unassigned.sum(), total),
            orphaned_accounts=int(frame["orphaned"].sum()),
            unassigned_potential_pct=share(order_free_sum(potential[unassigned]), total_potential),
            orphaned_potential_pct=share(order_free_sum(potential[frame["orphaned"].to_numpy(bool)]), total_potential),
            accounts_rep_assigned=int(rep_assigned.sum()),
            accounts_partner_only=int(partner_only.sum()),
            accounts_unassigned=int(unassigned.sum()),
        )
    else:
        out.update(
            dict.fromkeys(
                (
                    "rep_assigned_pct",
                    "partner_only_pct",
                    "unassigned_pct",
                    "orphaned_accounts",
                    "unassigned_potential_pct",
                    "orphaned_potential_pct",
                    "accounts_rep_assigned",
                    "accounts_partner_only",
                    "accounts_unassigned",
                )
            )
        )
    out["contacted_90d_pct"] = share(worked.sum(), total) if has_activities else None
    out["accounts_worked"] = int(worked.sum()) if has_activities else None
    out["assigned_not_worked_pct"] = (
        share((rep_assigned & ~worked).sum(), rep_assigned.sum()) if has_activities and assessable else None
    )
    if not assessable or not white_space_dimensions(tables["accounts"], params):
        out["white_space_cells"] = None
        out["white_space_potential_pct"] = None
    else:
        cells = _white_space_grid(tables["accounts"], frame, tables, params)
        ws = cells["white_space"].to_numpy(bool)
        out["white_space_cells"] = int(ws.sum())
        out["white_space_potential_pct"] = share(
            order_free_sum(cells["potential"].to_numpy(float)[ws]), total_potential
        )
    return out


_CLASS_COLUMNS = {REP_ASSIGNED: "rep_assigned", PARTNER_ONLY: "partner_only", ORPHANED: "orphaned", UNOWNED: "unowned"}


def coverage_by(tables: dict, params: dict, by: list[str] | str = ("segment",)) -> pd.DataFrame:
    """Coverage per group of accounts (e.g. per segment, or segment × region).

    Columns: the ``by`` keys (blank values shown as ``(blank)``; keys that are
    not columns of accounts are ignored, and with none left there is one row
    for all accounts), ``accounts``, the class counts ``rep_assigned,
    partner_only, orphaned, unowned``, ``unassigned`` (orphaned + unowned), the
    shares ``rep_assigned_pct, partner_only_pct, unassigned_pct``,
    ``potential``, ``unassigned_potential``, ``unassigned_potential_pct``,
    ``worked`` and ``contacted_pct`` (blank without activities). Sorted by the
    keys.
    """
    accounts = tables["accounts"]
    keys = [b for b in ([by] if isinstance(by, str) else list(by)) if b in accounts]
    frame = _coverage_frame(tables, params)
    cls = frame["assignment"]
    data = pd.DataFrame(
        {
            **{k: label_blanks(accounts[k]) for k in keys},
            **{col: (cls == c).to_numpy(bool).astype(int) for c, col in _CLASS_COLUMNS.items()},
            "potential": frame["potential"],
            "worked": frame["worked"].astype("Int64"),
        },
        index=frame.index,
    )
    data["unassigned_potential"] = data["potential"].where(data["orphaned"].add(data["unowned"]).astype(bool), 0.0)
    data = sorted_by_value(data, "potential")
    sums = ["rep_assigned", "partner_only", "orphaned", "unowned", "potential", "unassigned_potential"]
    if keys:
        grouped = data.groupby(keys, sort=True)
        out = grouped[sums].sum()
        out.insert(0, "accounts", grouped.size())
        out["worked"] = grouped["worked"].sum(min_count=1) if "activities" in tables else pd.NA
        out = out.reset_index()
    else:
        out = data[sums].sum().to_frame().T.astype(dict.fromkeys(_CLASS_COLUMNS.values(), int))
        out.insert(0, "accounts", len(data))
        out["worked"] = data["worked"].sum() if "activities" in tables else pd.NA
    out["unassigned"] = out["orphaned"] + out["unowned"]
    n = out["accounts"].astype(float)
    out["rep_assigned_pct"] = out["rep_assigned"] / n
    out["partner_only_pct"] = out["partner_only"] / n
    out["unassigned_pct"] = out["unassigned"] / n
    out["unassigned_potential_pct"] = (
        out["unassigned_potential"] / out["potential"].where(out["potential"] > 0)
    ).astype(float)
    out["worked"] = out["worked"].astype("Int64")
    out["contacted_pct"] = (out["worked"].astype("Float64") / n).astype("Float64")
    order = keys + [
        "accounts",
        "rep_assigned",
        "partner_only",
        "orphaned",
        "unowned",
        "unassigned",
        "rep_assigned_pct",
        "partner_only_pct",
        "unassigned_pct",
        "potential",
        "unassigned_potential",
        "unassigned_potential_pct",
        "worked",
        "contacted_pct",
    ]
    return out[order].reset_index(drop=True)


def white_space_dimensions(accounts: pd.DataFrame, params: dict) -> list[str]:
    """The ``white_space_dimensions`` that are columns of accounts, in order."""
    return [d for d in params["white_space_dimensions"] if d in accounts]


def white_space(tables: dict, params: dict) -> pd.DataFrame:
    """The white-space grid (SPEC §3): one row per occupied cell.

    Cells are combinations of the ``white_space_dimensions`` present in
    accounts; accounts blank in any of them belong to no cell. A cell is
    white space when it holds at least ``white_space_min_accounts`` accounts
    and none of them is rep-assigned or partner-only: a part of the market the
    company has no coverage model for at all.

    Columns: the dimensions, ``accounts``, ``rep_assigned``, ``partner_only``,
    ``covered`` (the two together), ``potential``, ``white_space`` (bool).
    Sorted by the dimensions; empty (with those columns) when no dimension is
    present.
    """
    return _white_space_grid(tables["accounts"], None, tables, params)


def _white_space_grid(accounts: pd.DataFrame, frame: pd.DataFrame | None, tables: dict, params: dict) -> pd.DataFrame:
    """:func:`white_space`, reusing a computed coverage frame when given."""
    dims = white_space_dimensions(accounts, params)
    columns = dims + ["accounts", "rep_assigned", "partner_only", "covered", "potential", "white_space"]
    if not dims:
        return pd.DataFrame(columns=columns)
    if frame is None:
        frame = _coverage_frame(tables, params)
    data = pd.DataFrame(
        {
            **{d: accounts[d] for d in dims},
            "rep_assigned": (frame["assignment"] == REP_ASSIGNED).to_numpy(bool).astype(int),
            "partner_only": (frame["assignment"] == PARTNER_ONLY).to_numpy(bool).astype(int),
            "potential": frame["potential"],
        },
        index=frame.index,
    ).dropna(subset=dims)
    data = sorted_by_value(data, "potential")
    grouped = data.groupby(dims, sort=True)
    out = grouped[["rep_assigned", "partner_only", "potential"]].sum()
    out.insert(0, "accounts", grouped.size())
    out = out.reset_index()
    out["covered"] = out["rep_assigned"] + out["partner_only"]
    out["white_space"] = (out["accounts"] >= params["white_space_min_accounts"]) & (out["covered"] == 0)
    return out[columns].reset_index(drop=True)


def _owner_facts(owner_ids: pd.Series, reps: pd.DataFrame) -> pd.DataFrame:
    """Name, hire and end date of each owner id (blank for unknown ids)."""
    by_id = reps.drop_duplicates("rep_id").set_index("rep_id")
    return pd.DataFrame(
        {
            "owner_name": lookup(owner_ids, by_id["rep_name"]).astype("string"),
            "owner_hire_date": lookup(owner_ids, column_or_blank(by_id, "hire_date", "datetime64[ns]")).astype(
                "datetime64[ns]"
            ),
            "owner_end_date": lookup(owner_ids, column_or_blank(by_id, "end_date", "datetime64[ns]")).astype(
                "datetime64[ns]"
            ),
            "owner_known": owner_ids.isin(by_id.index).to_numpy(bool),
        },
        index=owner_ids.index,
    )


def _fmt(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d").astype("string")


def _rank(frame: pd.DataFrame, n: int | None) -> pd.DataFrame:
    """Highest potential first, ties by account_id; the first ``n`` rows."""
    ranked = frame.sort_values(["potential", "account_id"], ascending=[False, True], kind="stable")
    return (ranked if n is None else ranked.head(n)).reset_index(drop=True)


def top_unassigned(tables: dict, params: dict, n: int = 25) -> pd.DataFrame:
    """The ``n`` unassigned accounts with the highest potential, and why.

    Unassigned = neither rep-assigned nor partner-only (SPEC §3). ``reason``
    says ``no owner`` (owner blank), ``owner <name> left <date>`` (orphaned
    by a departed rep), ``owner <name> starts <date>`` (hire date after T) or
    ``owner <id> not in reps`` (an unknown id). Columns: ``account_id,
    account_name, segment, region, potential, owner_rep_id, owner_name,
    reason, last_activity_date``.
    """
    frame = _coverage_frame(tables, params)
    top = _rank(frame.loc[frame["assignment"].isin([ORPHANED, UNOWNED]).to_numpy(bool)], n)
    facts = _owner_facts(top["owner_rep_id"], tables["reps"])
    as_of = as_of_date(params)
    name = facts["owner_name"].fillna(top["owner_rep_id"])
    reason = np.select(
        [
            top["owner_rep_id"].isna().to_numpy(bool),
            ~facts["owner_known"].to_numpy(bool),
            (facts["owner_end_date"] <= as_of).to_numpy(bool),
            (facts["owner_hire_date"] > as_of).to_numpy(bool),
        ],
        [
            np.full(len(top), "no owner", dtype=object),
            ("owner " + top["owner_rep_id"] + " not in reps").to_numpy(dtype=object),
            ("owner " + name + " left " + _fmt(facts["owner_end_date"])).to_numpy(dtype=object),
            ("owner " + name + " starts " + _fmt(facts["owner_hire_date"])).to_numpy(dtype=object),
        ],
        default="owner not active",
    )
    top = top.assign(owner_name=facts["owner_name"], reason=pd.array(reason, dtype="string"))
    return top[
        [
            "account_id",
            "account_name",
            "segment",
            "region",
            "potential",
            "owner_rep_id",
            "owner_name",
            "reason",
            "last_activity_date",
        ]
    ]


def assigned_not_worked(tables: dict, params: dict, n: int | None = 25) -> pd.DataFrame:
    """The ``n`` highest-potential rep-assigned accounts that are not worked.

    Not worked = no activity in the ``active_window_days`` before T (SPEC §3).
    Columns: ``account_id, account_name, segment, region, potential,
    owner_rep_id, owner_name, last_activity_date, days_since_activity`` (blank
    when never). Empty without an activities table (not assessable).
    """
    columns = [
        "account_id",
        "account_name",
        "segment",
        "region",
        "potential",
        "owner_rep_id",
        "owner_name",
        "last_activity_date",
        "days_since_activity",
    ]
    frame = _coverage_frame(tables, params)
    if "activities" not in tables:
        return frame.iloc[:0].assign(
            owner_name=pd.Series(dtype="string"), days_since_activity=pd.Series(dtype="Int64")
        )[columns]
    keep = (frame["assignment"] == REP_ASSIGNED).to_numpy(bool) & ~frame["worked"].to_numpy(bool, na_value=False)
    top = _rank(frame.loc[keep], n)
    facts = _owner_facts(top["owner_rep_id"], tables["reps"])
    days = (as_of_date(params) - top["last_activity_date"]).dt.days.astype("Int64")
    return top.assign(owner_name=facts["owner_name"], days_since_activity=days)[columns]


def strong_but_idle(tables: dict, params: dict, n: int | None = 25, top_share: float = 0.2) -> pd.DataFrame:
    """The strongest accounts nobody works: the top ``top_share`` of accounts by
    potential (rank, ties by id) with no activity in the window, whoever owns
    them, highest potential first (the ``n`` first; all with None).

    Columns: ``account_id, account_name, segment, region, potential,
    assignment, owner_rep_id, owner_name, last_activity_date, reason``
    (``assigned, not worked``, ``partner only, not worked`` or ``no active
    owner``). Empty without an activities table (not assessable).
    """
    columns = [
        "account_id", "account_name", "segment", "region", "potential", "assignment",
        "owner_rep_id", "owner_name", "last_activity_date", "reason",
    ]  # fmt: skip
    frame = _coverage_frame(tables, params)
    if "activities" not in tables or frame.empty:
        return frame.iloc[:0].assign(owner_name=pd.Series(dtype="string"), reason=pd.Series(dtype="string"))[columns]
    ranked = _rank(frame, None)
    strong = ranked.iloc[: int(np.ceil(top_share * len(ranked)))]
    idle = strong.loc[~strong["worked"].to_numpy(bool, na_value=False)]
    idle = (idle.iloc[:n] if n is not None else idle).reset_index(drop=True)
    facts = _owner_facts(idle["owner_rep_id"], tables["reps"])
    reason = np.select(
        [(idle["assignment"] == REP_ASSIGNED).to_numpy(bool), (idle["assignment"] == PARTNER_ONLY).to_numpy(bool)],
        ["assigned, not worked", "partner only, not worked"],
        default="no active owner",
    )
    return idle.assign(owner_name=facts["owner_name"], reason=pd.array(reason, dtype="string"))[columns]


def strong_but_idle_share(tables: dict, params: dict, top_share: float = 0.2) -> dict[str, float | int | None]:
    """How many of :func:`strong_but_idle`'s accounts there are (``accounts``) and
    the share of all potential they hold (``potential_share``; None without
    activities or without potential)."""
    idle = strong_but_idle(tables, params, n=None, top_share=top_share)
    if "activities" not in tables:
        return {"accounts": None, "potential_share": None}
    total = float(account_potential(tables["accounts"]).sum())
    return {"accounts": len(idle), "potential_share": float(idle["potential"].sum()) / total if total > 0 else None}


def orphaned_books(tables: dict, params: dict) -> pd.DataFrame:
    """Books left behind: per departed or unknown owner, the orphaned accounts.

    Orphaned = ``owner_rep_id`` filled but naming a departed or unknown rep
    (SPEC §3). Columns: ``owner_rep_id, rep_name, status`` (``departed``,
    ``not yet started``, ``unknown``), ``hire_date, end_date, accounts,
    potential, with_partner`` (accounts designated to a partner, hence
    partner-only), ``worked`` (still worked by someone; blank without
    activities). Highest potential first, ties by owner id.
    """
    frame = _coverage_frame(tables, params)
    data = frame.loc[frame["orphaned"].to_numpy(bool), ["owner_rep_id", "partner_id", "potential", "worked"]]
    data = sorted_by_value(
        data.assign(
            with_partner=data["partner_id"].notna().astype(int),
            worked=data["worked"].astype("Int64"),
        ),
        "potential",
    )
    grouped = data.groupby("owner_rep_id", sort=True)
    out = pd.DataFrame(
        {
            "accounts": grouped.size(),
            "potential": grouped["potential"].sum(),
            "with_partner": grouped["with_partner"].sum(),
            "worked": grouped["worked"].sum(min_count=1) if "activities" in tables else pd.NA,
        }
    )
    out.index.name = "owner_rep_id"
    out = out.reset_index()
    out["owner_rep_id"] = out["owner_rep_id"].astype("string")
    out["worked"] = out["worked"].astype("Int64")
    facts = _owner_facts(out["owner_rep_id"], tables["reps"])
    as_of = as_of_date(params)
    status = np.select(
        [~facts["owner_known"].to_numpy(bool), (facts["owner_end_date"] <= as_of).to_numpy(bool)],
        ["unknown", "departed"],
        default="not yet started",
    )
    out = out.assign(
        rep_name=facts["owner_name"],
        status=pd.array(status, dtype="string"),
        hire_date=facts["owner_hire_date"],
        end_date=facts["owner_end_date"],
    ).sort_values(["potential", "owner_rep_id"], ascending=[False, True], kind="stable")
    return out[
        [
            "owner_rep_id",
            "rep_name",
            "status",
            "hire_date",
            "end_date",
            "accounts",
            "potential",
            "with_partner",
            "worked",
        ]
    ].reset_index(drop=True)


def assignment_mix(tables: dict, params: dict, by: str = "segment") -> pd.DataFrame:
    """:func:`coverage_by` in long form for charts: one row per (``by`` value,
    assignment class) with ``accounts`` and ``potential`` columns.

    The classes are ``rep_assigned``, ``partner_only``, ``orphaned`` and
    ``unowned`` (the last two make up "unassigned"); ``class`` holds the
    reader's label of each.
    """
    frame = account_coverage(tables, params)
    key = frame[by].fillna("(blank)") if by in frame else pd.Series("(all)", index=frame.index)
    return (
        frame.assign(**{by: key})
        .groupby([by, "assignment"], observed=True, sort=True)
        .agg(accounts=("account_id", "size"), potential=("potential", "sum"))
        .reset_index()
        .assign(**{"class": lambda f: f["assignment"].map(CLASS_LABELS)})
    )


def white_space_cells(tables: dict, params: dict) -> pd.DataFrame:
    """Only the white-space cells of :func:`white_space`, highest potential first."""
    grid = white_space(tables, params)
    cells = grid[grid["white_space"].astype(bool)]
    return cells.sort_values("potential", ascending=False, kind="stable").reset_index(drop=True)
