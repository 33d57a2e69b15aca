"""Is the coverage model governed? Rebalancing, attrition-driven changes, and how
reps see their own territory.

Definitions follow SPEC §3. ``T`` is the as-of date. Owner changes dated after T
are ignored throughout: the diagnosis describes the history as known at T.
Text categories (``change_type``, segments, regions) compare trimmed and
case-insensitively.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from diligence.metrics.coverage import active_rep_ids
from diligence.metrics.memo import once_per_tables

DAYS_PER_MONTH = 30.44
#: ``change_type`` values (trimmed, lower-cased) that mark a rebalance event.
REBALANCE_TYPES = frozenset({"rebalance"})
#: ``change_type`` values that mark a change forced by a rep leaving.
ATTRITION_TYPES = frozenset({"attrition", "departure"})
#: Without ``change_type``, a month is a rebalance when at least this share of
#: accounts changed owner in it (SPEC §3).
INFERRED_MONTH_SHARE = 0.05
#: Survey account counts more than this share away from the book mismatch.
SURVEY_COUNT_TOLERANCE = 0.25

TYPED = "typed: change_type = rebalance"
INFERRED = "inferred: calendar months in which at least 5% of accounts changed owner"


def _norm(text: pd.Series) -> pd.Series:
    """Trimmed, lower-cased text; blanks become missing."""
    out = text.astype("string").str.strip().str.lower()
    return out.mask(out == "")


def _history(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame | None:
    """``assignment_history`` rows dated on or before T (``None`` without the table)."""
    hist = tables.get("assignment_history")
    if hist is None:
        return None
    as_of = pd.Timestamp(params["as_of"])
    return hist.loc[hist["effective_date"].notna() & (hist["effective_date"] <= as_of)]


def _is_typed(hist: pd.DataFrame) -> bool:
    # A change_type column with no value at all carries no typing: infer instead.
    return "change_type" in hist and bool(hist["change_type"].notna().any())


def rebalance_basis(tables: dict[str, pd.DataFrame]) -> str | None:
    """How rebalance events are identified for this company.

    Returns :data:`TYPED` when ``assignment_history`` has a ``change_type``
    column holding any value, :data:`INFERRED` when it has none (SPEC §3), and
    ``None`` without ``assignment_history``.
    """
    hist = tables.get("assignment_history")
    if hist is None:
        return None
    return TYPED if _is_typed(hist) else INFERRED


def owner_changes_by_month(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    """Owner changes per calendar month, on or before T.

    Columns: ``month`` (``YYYY-MM``), ``changes`` (rows of
    ``assignment_history``), ``accounts_changed`` (distinct accounts),
    ``share_of_accounts`` (accounts changed / rows of ``accounts``),
    ``last_change_date`` and ``rebalance_event`` (the month holds a rebalance
    event under :func:`rebalance_basis`). Sorted by month; empty without
    ``assignment_history``.
    """
    columns = ["month", "changes", "accounts_changed", "share_of_accounts", "last_change_date", "rebalance_event"]
    hist = _history(tables, params)
    if hist is None or hist.empty:
        return pd.DataFrame(columns=columns)
    total = len(tables["accounts"])
    months = hist.assign(month=hist["effective_date"].dt.strftime("%Y-%m"))
    out = months.groupby("month").agg(
        changes=("account_id", "size"),
        accounts_changed=("account_id", "nunique"),
        last_change_date=("effective_date", "max"),
    )
    out["share_of_accounts"] = out["accounts_changed"] / total if total else float("nan")
    event_months = rebalance_events(tables, params)["month"]
    out["rebalance_event"] = out.index.isin(event_months)
    return out.reset_index().astype({"changes": "int64", "accounts_changed": "int64"})[columns]


def rebalance_events(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    """Rebalance events (SPEC §3) on or before T, one row per event.

    - Typed history (see :func:`rebalance_basis`): each date holding a change
      whose ``change_type`` is ``rebalance`` (trimmed, any case) is one event.
    - Untyped history: each calendar month in which the distinct accounts that
      changed owner are at least 5% of ``accounts`` rows is one event, dated on
      that month's last change.

    Returns
    -------
    DataFrame
        ``event_date``, ``month`` (``YYYY-MM``), ``changes`` (history rows
        counted in the event), ``accounts_changed`` and ``share_of_accounts``
        (of all accounts). Sorted by date; empty when there is none or no
        ``assignment_history``.
    """
    columns = ["event_date", "month", "changes", "accounts_changed", "share_of_accounts"]
    hist = _history(tables, params)
    if hist is None or hist.empty:
        return pd.DataFrame(columns=columns)
    total = len(tables["accounts"])
    if _is_typed(hist):
        rebal = hist.loc[_norm(hist["change_type"]).isin(REBALANCE_TYPES).fillna(False).astype(bool)]
        events = rebal.groupby("effective_date").agg(
            changes=("account_id", "size"), accounts_changed=("account_id", "nunique")
        )
        events = events.rename_axis("event_date").reset_index()
    else:
        months = hist.assign(month=hist["effective_date"].dt.to_period("M"))
        by_month = months.groupby("month").agg(
            event_date=("effective_date", "max"),
            changes=("account_id", "size"),
            accounts_changed=("account_id", "nunique"),
        )
        # Integer test of accounts_changed >= 5% of total, exact at the boundary.
        events = by_month.loc[(by_month["accounts_changed"] * 20 >= total) & (total > 0)]
        events = events.reset_index(drop=True)
    events = events.assign(
        month=events["event_date"].dt.strftime("%Y-%m"),
        share_of_accounts=events["accounts_changed"] / total if total else float("nan"),
    )
    events = events.sort_values("event_date").reset_index(drop=True)
    return events.astype({"changes": "int64", "accounts_changed": "int64"})[columns]


def months_since_rebalance(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> float | None:
    """(T - last rebalance event on or before T) in days / 30.44 (SPEC §4);
    ``None`` when there is no event or no ``assignment_history``."""
    return _months_since(rebalance_events(tables, params), pd.Timestamp(params["as_of"]))


def _months_since(events: pd.DataFrame, as_of: pd.Timestamp) -> float | None:
    if events.empty:
        return None
    return float((as_of - events["event_date"].max()).days / DAYS_PER_MONTH)


def owner_changes_by_type(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    """Owner changes on or before T by ``change_type``.

    Columns: ``change_type`` (trimmed and lower-cased; ``(blank)`` for a blank
    cell, ``(not provided)`` for every row when the column is absent),
    ``changes``, ``share`` (of all changes), ``attrition_driven`` (the type
    is one of :data:`ATTRITION_TYPES`). Sorted by count (most first), then type.
    """
    columns = ["change_type", "changes", "share", "attrition_driven"]
    hist = _history(tables, params)
    if hist is None or hist.empty:
        return pd.DataFrame(columns=columns)
    if "change_type" in hist:
        types = _norm(hist["change_type"]).fillna("(blank)")
    else:
        types = pd.Series("(not provided)", index=hist.index, dtype="string")
    out = types.value_counts().rename_axis("change_type").rename("changes").reset_index()
    out = out.assign(share=out["changes"] / len(hist), attrition_driven=out["change_type"].isin(ATTRITION_TYPES))
    out = out.sort_values(["changes", "change_type"], ascending=[False, True]).reset_index(drop=True)
    return out.astype({"changes": "int64"})[columns]


def attrition_driven_changes_pct(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> float | None:
    """Share of owner changes (history rows on or before T) whose
    ``change_type`` is attrition or departure, any case (SPEC §4).

    Blank types count in the denominator. ``None`` without
    ``assignment_history``, without a ``change_type`` column (or one with no
    value at all), or without any change.
    """
    hist = _history(tables, params)
    if hist is None or hist.empty or not _is_typed(hist):
        return None
    return float(_norm(hist["change_type"]).isin(ATTRITION_TYPES).fillna(False).astype(bool).mean())


def _book_modes(accounts: pd.DataFrame, owners: pd.Index, column: str) -> pd.DataFrame:
    """Most common value(s) of ``column`` in each owner's book (ties all kept).

    Returns one row per (``rep_id``, ``value``) that is a mode; ``value`` is
    normalised (trimmed, lower-cased), ``label`` one spelling of it as found in
    the CRM; blank values are not counted.
    """
    book = accounts.loc[accounts["owner_rep_id"].isin(owners), ["owner_rep_id", column]]
    book = book.assign(value=_norm(book[column])).dropna(subset=["value"])
    counts = book.groupby(["owner_rep_id", "value"]).agg(n=("value", "size"), label=(column, "min")).reset_index()
    top = counts.groupby("owner_rep_id")["n"].transform("max")
    modes = counts.loc[counts["n"] == top, ["owner_rep_id", "value", "label"]]
    return modes.rename(columns={"owner_rep_id": "rep_id"})


def _compare_dimension(survey: pd.DataFrame, accounts: pd.DataFrame, described: str, column: str) -> pd.DataFrame:
    """Described vs book value for one text dimension, per surveyed rep.

    Returns ``book`` (the mode(s) as spelt in the CRM, joined with ``" / "``) and ``mismatch`` (nullable bool: ``NA`` when the
    answer is blank, the column is absent or the book has no value).
    """
    out = pd.DataFrame(index=survey.index)
    if described not in survey or column not in accounts:
        out["book"] = pd.Series(pd.NA, index=survey.index, dtype="string")
        out["mismatch"] = pd.Series(pd.NA, index=survey.index, dtype="boolean")
        return out
    modes = _book_modes(accounts, pd.Index(survey["rep_id"].dropna().unique()), column).sort_values(["rep_id", "value"])
    book = modes.assign(label=modes["label"].str.strip()).groupby("rep_id")["label"].agg(" / ".join)
    answer = _norm(survey[described])
    matched = pd.MultiIndex.from_arrays([survey["rep_id"], answer]).isin(
        pd.MultiIndex.from_frame(modes[["rep_id", "value"]])
    )
    has_book = survey["rep_id"].isin(book.index)
    mismatch = pd.Series(~matched, index=survey.index, dtype="boolean").where(answer.notna() & has_book)
    out["book"] = survey["rep_id"].map(book).astype("string")
    out["mismatch"] = mismatch.astype("boolean")
    return out


@once_per_tables()
def survey_comparison(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame | None:
    """Each surveyed active rep's answers against its book (SPEC §3).

    A rep's book is the accounts whose ``owner_rep_id`` is the rep.

    - Segment and region: mismatch when the answer differs (trimmed, any
      case) from the most common value in the book; when several values tie
      for most common, any of them matches. A blank answer, or a book with no
      value, is not compared.
    - Account count: mismatch when ``|described - actual| > 0.25 x actual``
      (so an empty book with a described count above 0 mismatches, and exactly
      25% away does not). A blank answer is not compared.

    Returns
    -------
    DataFrame or None
        One row per surveyed active rep, sorted by ``rep_id``: ``rep_id``,
        ``rep_name``, described and book values with a nullable-bool mismatch
        column per dimension, ``dimensions_compared``, ``mismatch`` (any
        dimension) and ``mismatched_dimensions`` (text). ``None`` without
        ``rep_survey`` or without ``accounts.owner_rep_id``.
    """
    survey = tables.get("rep_survey")
    if survey is None or "owner_rep_id" not in tables["accounts"]:
        return None  # without owners there are no books to compare with
    reps, accounts = tables["reps"], tables["accounts"]
    as_of = pd.Timestamp(params["as_of"])
    survey = survey.loc[survey["rep_id"].isin(active_rep_ids(reps, as_of))].drop_duplicates("rep_id")
    survey = survey.sort_values("rep_id").reset_index(drop=True)
    out = pd.DataFrame({"rep_id": survey["rep_id"]})
    out["rep_name"] = survey["rep_id"].map(reps.drop_duplicates("rep_id").set_index("rep_id")["rep_name"])
    for dim, described in (("segment", "described_segment"), ("region", "described_region")):
        cmp = _compare_dimension(survey, accounts, described, dim)
        out[described] = (
            survey[described] if described in survey else pd.Series(pd.NA, index=survey.index, dtype="string")
        )
        out[f"book_{dim}"] = cmp["book"]
        out[f"{dim}_mismatch"] = cmp["mismatch"]
    actual = survey["rep_id"].map(accounts["owner_rep_id"].value_counts()).fillna(0).astype("int64")
    described = (
        survey["described_account_count"].astype("Int64")
        if "described_account_count" in survey
        else pd.Series(pd.NA, index=survey.index, dtype="Int64")
    )
    out["described_account_count"] = described
    out["book_account_count"] = actual
    # Integer test of |d - a| > 0.25 a, exact at the boundary.
    out["account_count_mismatch"] = ((described - actual).abs() * 4 > actual).astype("boolean")
    flags = out[["segment_mismatch", "region_mismatch", "account_count_mismatch"]]
    out["dimensions_compared"] = flags.notna().sum(axis=1).astype("int64")
    out["mismatch"] = flags.fillna(False).any(axis=1).astype(bool)
    names = [
        flags[col].fillna(False).astype(bool).map({True: f"{name}, ", False: ""})
        for col, name in zip(flags.columns, ("segment", "region", "account count"))
    ]
    out["mismatched_dimensions"] = (names[0] + names[1] + names[2]).str.removesuffix(", ").astype("string")
    return out


def survey_mismatches(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    """Evidence for RF4: :func:`survey_comparison`, mismatched reps first, then
    by ``rep_id``; empty without ``rep_survey``."""
    cmp = survey_comparison(tables, params)
    if cmp is None:
        return pd.DataFrame()
    return cmp.sort_values(["mismatch", "rep_id"], ascending=[False, True]).reset_index(drop=True)


def survey_mismatch_pct(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> float | None:
    """Mismatched / surveyed active reps (SPEC §4), see :func:`survey_comparison`.

    Reps whose every answer is blank (nothing to compare) are left out of the
    denominator. ``None`` without ``rep_survey``, without
    ``accounts.owner_rep_id`` or without any rep compared.
    """
    return _mismatch_share(survey_comparison(tables, params))


def _mismatch_share(cmp: pd.DataFrame | None) -> float | None:
    if cmp is None:
        return None
    compared = cmp.loc[cmp["dimensions_compared"] > 0]
    return float(compared["mismatch"].mean()) if len(compared) else None


def metrics(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> dict[str, float | int | None]:
    """SPEC §4 governance metrics plus extras.

    Returns ``months_since_rebalance``, ``attrition_driven_changes_pct``,
    ``survey_mismatch_pct``, and the extras ``rebalance_events_12m`` (events
    in the 365 days before T), ``owner_changes_12m`` (history rows in that
    window) and ``surveyed_reps_compared``. ``None`` where the data does not
    allow a value.
    """
    as_of = pd.Timestamp(params["as_of"])
    year_ago = as_of - pd.Timedelta(days=365)
    hist = _history(tables, params)
    events = rebalance_events(tables, params)
    cmp = survey_comparison(tables, params)
    return {
        "months_since_rebalance": _months_since(events, as_of),
        "attrition_driven_changes_pct": attrition_driven_changes_pct(tables, params),
        "survey_mismatch_pct": _mismatch_share(cmp),
        "rebalance_events_12m": None if hist is None else int((events["event_date"] > year_ago).sum()),
        "owner_changes_12m": None if hist is None else int((hist["effective_date"] > year_ago).sum()),
        "surveyed_reps_compared": None if cmp is None else int((cmp["dimensions_compared"] > 0).sum()),
    }
