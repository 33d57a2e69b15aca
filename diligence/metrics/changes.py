"""What changed since an earlier run of the same company: metrics, flags, owners, reps.

Every function compares two runs' results or tables and nothing else: the
earlier run's ``findings.json`` metrics and flags, its validated tables and its
rebalanced plan (the scenario step's "Accounts that move") against this run's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from diligence import registry
from diligence.contract import (  # noqa: F401 - the directions, read here by the comparison's callers
    BETTER,
    CHANGED,
    NOT_COMPARED,
    SAME,
    WORSE,
    direction,
    metric_number,
)
from diligence.metrics.coverage import active_rep_ids, column_or_blank, quota_carrying_mask
from diligence.metrics.pipeline import outcomes_known, won_mask

#: How an account's owner changed between the two runs.
NEW_ACCOUNT, OWNER_CHANGED, REMOVED = "new account", "owner changed", "no longer in the CRM"
#: Reason of a change the assignment history does not explain.
NOT_RECORDED = "not recorded"
#: What became of one move of the earlier run's plan.
MADE, ELSEWHERE, NOT_MADE, GONE = "made", "moved elsewhere", "not made", "account gone"
JOINED, LEFT = "joined", "left"
YEAR_DAYS = 365


def unbounded(metrics: Mapping[str, Any], flags: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The metrics of one run that are blank because they are past any bound.

    A metric is ``null`` both when its data do not allow it and when it is
    unbounded (SPEC §4: a max/min ratio whose min is 0). The flag that judges it
    tells the two apart: blank while that flag is triggered means past every
    threshold, i.e. ``+inf`` for a flag raised above its threshold and ``-inf``
    for one raised below it. Returns metric → ``±inf`` for those metrics only.
    """
    out = {}
    for flag in flags:
        spec = registry.BY_ID.get(flag.get("id"))
        if spec is None or flag.get("status") != "triggered" or spec.test == registry.OUTSIDE:
            continue
        if spec.metric in metrics and metric_number(metrics[spec.metric]) is None:
            out[spec.metric] = np.inf if spec.test == registry.ABOVE else -np.inf
    return out


def metric_changes(
    previous: Mapping[str, Any],
    current: Mapping[str, Any],
    band: Sequence[float] = (3.0, 5.0),
    unbounded_metrics: tuple[Mapping[str, float], Mapping[str, float]] = ({}, {}),
) -> pd.DataFrame:
    """Every metric of either run with its previous value, current value, change and direction.

    Columns: ``metric``, ``previous``, ``current``, ``change`` (current − previous,
    blank unless both are numbers), ``direction`` (:func:`direction`; ``band`` is the
    W5 band of this run). ``unbounded_metrics`` gives, for the earlier run and this
    one, the blank metrics that are past any bound (:func:`unbounded`): they compare
    as ``±inf`` (a ratio that became unbounded moved the wrong way) but stay blank in
    the table. Rows in this run's order of metrics, then metrics only the earlier run had.
    """
    names = list(current) + [m for m in previous if m not in current]
    rows = []
    before_inf, now_inf = unbounded_metrics
    for name in names:
        p, c = before_inf.get(name, previous.get(name)), now_inf.get(name, current.get(name))
        pn, cn = metric_number(p), metric_number(c)
        rows.append(
            {
                "metric": name,
                "previous": pn,
                "current": cn,
                "change": None if pn is None or cn is None else cn - pn,
                "direction": direction(name, p, c, band),
            }
        )
    frame = pd.DataFrame(rows, columns=["metric", "previous", "current", "change", "direction"])
    return frame.astype({"previous": "float64", "current": "float64", "change": "float64"})


def flag_changes(previous: Mapping[str, str], current: Mapping[str, str]) -> pd.DataFrame:
    """Each flag's status in both runs and what that means.

    ``previous`` and ``current`` map flag id → status (``triggered``, ``clear``,
    ``not_assessed``; absent = not evaluated). Columns: ``id``, ``previous``,
    ``current``, ``change``: ``newly raised`` (triggered now, not before),
    ``newly cleared`` (triggered before, clear now), ``still raised``,
    ``still clear``, or ``not comparable`` (either side not assessed or absent).
    Rows in this run's order, then ids only the earlier run had.
    """
    ids = list(current) + [i for i in previous if i not in current]
    rows = []
    for fid in ids:
        p, c = previous.get(fid), current.get(fid)
        if c == "triggered" and p != "triggered":
            change = "newly raised"
        elif p == "triggered" and c == "clear":
            change = "newly cleared"
        elif p == c == "triggered":
            change = "still raised"
        elif p == c == "clear":
            change = "still clear"
        else:
            change = "not comparable"
        rows.append({"id": fid, "previous": p, "current": c, "change": change})
    return pd.DataFrame(rows, columns=["id", "previous", "current", "change"], dtype=object)


def _norm(text: pd.Series) -> pd.Series:
    out = text.astype("string").str.strip().str.lower().str.replace("_", " ", regex=False)
    return out.mask(out == "")


def owner_changes(
    previous_accounts: pd.DataFrame,
    accounts: pd.DataFrame,
    history: pd.DataFrame | None,
    since: pd.Timestamp,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Accounts whose owner changed between the earlier run (as of ``since``) and this one.

    An account counts when it is new (in ``accounts`` only), gone (in
    ``previous_accounts`` only) or its ``owner_rep_id`` differs (a blank owner is an
    owner of its own: given an owner, or left without one). Its ``reason`` is the
    ``change_type`` of its last ``history`` row dated in ``(since, as_of]``
    (lower-cased, ``_`` read as a space: ``rebalance``, ``attrition``, ``new account``,
    ``other`` or the client's word), ``new account`` for a new account without one,
    else :data:`NOT_RECORDED`.

    Columns: ``account_id``, ``account_name``, ``previous_owner``, ``current_owner``,
    ``change`` (:data:`NEW_ACCOUNT`, :data:`OWNER_CHANGED`, :data:`REMOVED`),
    ``reason``. Sorted by account_id.
    """
    cols = ["account_id", "account_name", "previous_owner", "current_owner", "change", "reason"]
    before = pd.DataFrame(
        {
            "account_id": previous_accounts["account_id"].astype("string"),
            "previous_owner": column_or_blank(previous_accounts, "owner_rep_id").astype("string"),
            "previous_name": previous_accounts["account_name"].astype("string"),
        }
    )
    now = pd.DataFrame(
        {
            "account_id": accounts["account_id"].astype("string"),
            "current_owner": column_or_blank(accounts, "owner_rep_id").astype("string"),
            "account_name": accounts["account_name"].astype("string"),
        }
    )
    both = before.merge(now, on="account_id", how="outer", indicator=True)
    same = both["previous_owner"].fillna("\0") == both["current_owner"].fillna("\0")
    both = both.loc[(both["_merge"] != "both") | ~same].copy()
    both["account_name"] = both["account_name"].fillna(both["previous_name"])
    both["change"] = np.select(
        [both["_merge"] == "right_only", both["_merge"] == "left_only"], [NEW_ACCOUNT, REMOVED], OWNER_CHANGED
    )
    reason = pd.Series(pd.NA, index=both["account_id"].to_numpy(), dtype="string")
    if history is not None and len(history) and "change_type" in history:
        window = history["effective_date"].notna() & (history["effective_date"] > since)
        window &= history["effective_date"] <= as_of
        h = pd.DataFrame(
            {
                "account_id": history["account_id"].astype("string"),
                "date": history["effective_date"],
                "order": np.arange(len(history)),
                "reason": _norm(history["change_type"]),
            }
        ).loc[window.to_numpy()]
        last = h.sort_values(["account_id", "date", "order"]).drop_duplicates("account_id", keep="last")
        reason = last.set_index("account_id")["reason"].reindex(both["account_id"].to_numpy())
    reason = pd.Series(reason.to_numpy(), index=both.index, dtype="string")
    reason = reason.fillna(
        pd.Series(np.where(both["change"] == NEW_ACCOUNT, NEW_ACCOUNT, NOT_RECORDED), index=both.index)
    )
    both["reason"] = reason.astype("string")
    out = both.sort_values("account_id", kind="stable").reset_index(drop=True)[cols]
    return out.astype({"change": "string"})


def owner_changes_by_reason(changes: pd.DataFrame) -> pd.DataFrame:
    """Counts of :func:`owner_changes` by ``change`` and ``reason``, most first
    (ties by change, then reason). Columns: ``change``, ``reason``, ``accounts``."""
    cols = ["change", "reason", "accounts"]
    if changes.empty:
        return pd.DataFrame(columns=cols).astype({"accounts": "int64"})
    out = changes.groupby(["change", "reason"]).size().rename("accounts").reset_index()
    out = out.sort_values(["accounts", "change", "reason"], ascending=[False, True, True], kind="stable")
    return out.reset_index(drop=True).astype({"accounts": "int64"})[cols]


def plan_progress(plan_moves: pd.DataFrame, previous_accounts: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """What became of each move of the earlier run's rebalanced plan.

    ``plan_moves`` has ``account_id`` and ``to_rep_id`` (the plan's new owner).
    ``status``: :data:`MADE` (the account's owner now is the planned one),
    :data:`NOT_MADE` (still its owner of the earlier run), :data:`ELSEWHERE` (another
    owner, or none) or :data:`GONE` (no longer in the accounts). Columns:
    ``account_id``, ``account_name``, ``previous_owner``, ``planned_owner``,
    ``current_owner``, ``status``; sorted by account_id.
    """
    cols = ["account_id", "account_name", "previous_owner", "planned_owner", "current_owner", "status"]
    plan = pd.DataFrame(
        {
            "account_id": plan_moves["account_id"].astype("string"),
            "planned_owner": plan_moves["to_rep_id"].astype("string"),
        }
    )
    before = previous_accounts.set_index(previous_accounts["account_id"].astype("string"))
    now = accounts.set_index(accounts["account_id"].astype("string"))
    ids = plan["account_id"]
    previous_owner = column_or_blank(before, "owner_rep_id").astype("string").reindex(ids)
    current_owner = column_or_blank(now, "owner_rep_id").astype("string").reindex(ids)
    present = ids.isin(now.index).to_numpy()
    names = (
        now["account_name"].astype("string").reindex(ids).fillna(before["account_name"].astype("string").reindex(ids))
    )
    cur = current_owner.to_numpy(dtype=object, na_value=None)
    prev = previous_owner.to_numpy(dtype=object, na_value=None)
    planned = plan["planned_owner"].to_numpy(dtype=object, na_value=None)
    status = np.select([~present, cur == planned, cur == prev], [GONE, MADE, NOT_MADE], ELSEWHERE)
    out = pd.DataFrame(
        {
            "account_id": ids.to_numpy(),
            "account_name": names.to_numpy(),
            "previous_owner": prev,
            "planned_owner": planned,
            "current_owner": cur,
            "status": status,
        }
    )
    out = out.astype(dict.fromkeys(cols, "string"))
    return out.sort_values("account_id", kind="stable").reset_index(drop=True)[cols]


def plan_summary(progress: pd.DataFrame) -> dict[str, float | int | None]:
    """Counts of :func:`plan_progress`: ``planned_moves``, ``moves_made``,
    ``moves_elsewhere``, ``moves_not_made``, ``moves_account_gone`` and
    ``plan_carried_out_pct`` (made / planned; None when the plan moved nothing)."""
    counts = progress["status"].value_counts()
    n = len(progress)
    return {
        "planned_moves": n,
        "moves_made": int(counts.get(MADE, 0)),
        "moves_elsewhere": int(counts.get(ELSEWHERE, 0)),
        "moves_not_made": int(counts.get(NOT_MADE, 0)),
        "moves_account_gone": int(counts.get(GONE, 0)),
        "plan_carried_out_pct": int(counts.get(MADE, 0)) / n if n else None,
    }


def rep_changes(
    previous_reps: pd.DataFrame, reps: pd.DataFrame, since: pd.Timestamp, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Reps who joined or left between the two runs.

    Joined: active at ``as_of`` in this run's ``reps`` and not active at ``since`` in
    the earlier run's. Left: active at ``since`` in the earlier run's ``reps`` and not
    active at ``as_of`` in this run's (absent from it included). Columns:
    ``rep_id``, ``rep_name``, ``change`` (:data:`JOINED` or :data:`LEFT`), ``role``,
    ``segment``, ``hire_date``, ``end_date``, ``quota`` (this run's row where there is
    one); sorted by change, then rep_id.
    """
    cols = ["rep_id", "rep_name", "change", "role", "segment", "hire_date", "end_date", "quota"]
    was = pd.Index(active_rep_ids(previous_reps, since).astype("string"))
    now = pd.Index(active_rep_ids(reps, as_of).astype("string"))
    joined, left = now.difference(was), was.difference(now)
    rows = pd.concat([reps.assign(_src=0), previous_reps.assign(_src=1)], ignore_index=True)
    rows["rep_id"] = rows["rep_id"].astype("string")
    rows = rows.sort_values(["rep_id", "_src"], kind="stable").drop_duplicates("rep_id")
    picked = rows.loc[rows["rep_id"].isin(joined.union(left))].copy()
    picked["change"] = np.where(picked["rep_id"].isin(joined), JOINED, LEFT)
    out = pd.DataFrame({c: column_or_blank(picked, c) for c in ("rep_id", "rep_name", "change", "role", "segment")})
    out["hire_date"] = column_or_blank(picked, "hire_date", "datetime64[ns]")
    out["end_date"] = column_or_blank(picked, "end_date", "datetime64[ns]")
    out["quota"] = column_or_blank(picked, "quota", "Float64").astype("float64")
    out = out.astype(dict.fromkeys(("rep_id", "rep_name", "change", "role", "segment"), "string"))
    return out.sort_values(["change", "rep_id"], kind="stable").reset_index(drop=True)[cols]


def new_hire_attainment(tables: Mapping[str, pd.DataFrame], since: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """Attainment so far of the quota-carrying reps hired since the earlier run.

    A rep counts when ``hire_date`` falls in ``(since, as_of]`` and quota > 0. Its
    ``bookings`` are its won opportunities closed in ``[hire_date, as_of]``; its
    ``quota_to_date`` is quota × (days from hire to as_of, both counted) / 365, and
    ``attainment_to_date`` = bookings / quota_to_date (blank without usable
    opportunities). Columns: ``rep_id``, ``rep_name``, ``segment``, ``hire_date``,
    ``quota``, ``bookings``, ``quota_to_date``, ``attainment_to_date``; sorted by
    hire_date, then rep_id.
    """
    cols = ["rep_id", "rep_name", "segment", "hire_date", "quota", "bookings", "quota_to_date", "attainment_to_date"]
    reps = tables["reps"]
    hire = column_or_blank(reps, "hire_date", "datetime64[ns]")
    hired = (hire > since) & (hire <= as_of) & quota_carrying_mask(reps)
    r = reps.loc[hired.fillna(False).astype(bool)]
    out = pd.DataFrame(
        {
            "rep_id": r["rep_id"].astype("string"),
            "rep_name": r["rep_name"].astype("string"),
            "segment": column_or_blank(r, "segment").astype("string"),
            "hire_date": r["hire_date"],
            "quota": r["quota"].astype("float64"),
        }
    )
    opps = tables.get("opportunities")
    if outcomes_known(opps) and "owner_rep_id" in opps and len(out):
        won = opps.loc[won_mask(opps) & opps["close_date"].notna() & (opps["close_date"] <= as_of)]
        pairs = pd.DataFrame(
            {
                "rep_id": won["owner_rep_id"].astype("string"),
                "close": won["close_date"],
                "amount": won["amount"].fillna(0.0).astype(float),
            }
        ).merge(out[["rep_id", "hire_date"]], on="rep_id")
        pairs = pairs.loc[pairs["close"] >= pairs["hire_date"]]
        booked = pairs.sort_values(["rep_id", "amount"]).groupby("rep_id")["amount"].sum()
        out["bookings"] = out["rep_id"].map(booked).astype("float64").fillna(0.0)
    else:
        out["bookings"] = np.nan
    days = (as_of - out["hire_date"]).dt.days + 1
    out["quota_to_date"] = out["quota"] * days.astype("float64") / YEAR_DAYS
    out["attainment_to_date"] = out["bookings"] / out["quota_to_date"]
    return out.sort_values(["hire_date", "rep_id"], kind="stable").reset_index(drop=True)[cols]


#: Parameters that drive no metric: the date itself, and how large a zip of the data may be.
_NOT_COMPARED = ("as_of", "archive_limits")


def like_for_like(
    previous: Mapping[str, Any],
    current: Mapping[str, Any],
    previous_params: Mapping[str, Any] | None,
    params: Mapping[str, Any],
) -> list[str]:
    """What is not like for like between the two runs, as plain sentences.

    ``previous`` and ``current`` are the two findings documents; the parameters
    compared are every one but ``as_of`` and ``archive_limits`` (the earlier run's are unknown when
    ``previous_params`` is None). Mappings compare which client column fed each
    contract column, table by table (from ``data_quality.files``).
    """
    notes = []
    pv, cv = previous.get("schema_version"), current.get("schema_version")
    if pv != cv:
        notes.append(
            f"The earlier run wrote findings of schema version {pv} and this one {cv}: metrics added since "
            "have no earlier value."
        )
    if previous_params is None:
        notes.append("The earlier run's parameters are not in its folder: they may differ from this run's.")
    else:
        differ = sorted(
            k
            for k in set(previous_params) | set(params)
            if k not in _NOT_COMPARED and previous_params.get(k) != params.get(k)
        )
        if differ:
            notes.append(
                f"Parameters differ from the earlier run ({', '.join(differ)}): the metrics and flags they "
                "drive are not like for like."
            )
    before, now = _columns_by_table(previous), _columns_by_table(current)
    tables = sorted(t for t in set(before) & set(now) if before[t] != now[t])
    if tables:
        notes.append(
            f"The client's columns were mapped differently for {', '.join(tables)}: "
            "figures from those tables may not be like for like."
        )
    return notes


def _columns_by_table(findings: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Table → {client column: contract column} over the files a run read."""
    out: dict[str, dict[str, str]] = {}
    for f in (findings.get("data_quality") or {}).get("files") or []:
        if isinstance(f, Mapping) and f.get("status") == "read" and f.get("table"):
            out.setdefault(str(f["table"]), {}).update({str(k): str(v) for k, v in (f.get("columns") or {}).items()})
    return out
