"""Market coverage: who owns each account, who works it, and where nobody does.

Definitions follow SPEC §3. ``T`` is the as-of date; windows are half-open on
the left, so "the 90 days before T" is ``(T - 90 days, T]``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

REP_ASSIGNED = "rep_assigned"
PARTNER_ONLY = "partner_only"
ORPHANED = "orphaned"  # unassigned: owner filled but departed or unknown
UNOWNED = "unowned"  # unassigned: no owner, no partner
ASSIGNMENT_CLASSES = (REP_ASSIGNED, PARTNER_ONLY, ORPHANED, UNOWNED)


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
    owner = accounts["owner_rep_id"] if "owner_rep_id" in accounts else pd.Series([pd.NA] * n, index=accounts.index, dtype="string")
    partner = accounts["partner_id"] if "partner_id" in accounts else pd.Series([pd.NA] * n, index=accounts.index, dtype="string")
    active = owner.isin(active_rep_ids(reps, as_of)).to_numpy(bool)
    has_partner = partner.notna().to_numpy(bool)
    has_owner = owner.notna().to_numpy(bool)
    cls = np.select(
        [active, has_partner, has_owner],
        [REP_ASSIGNED, PARTNER_ONLY, ORPHANED],
        default=UNOWNED,
    )
    return pd.Series(cls, index=accounts.index, name="assignment", dtype="string")


POTENTIAL_BASES = ("potential", "annual_revenue (proxy)", "account count (proxy)")


def potential_basis(accounts: pd.DataFrame) -> str:
    """Which measure stands for an account's potential, as named in the report.

    - ``"potential"``: the ``potential`` column exists and holds any value;
    - ``"annual_revenue (proxy)"``: otherwise, ``annual_revenue`` exists and
      holds any value (a bigger company usually buys more);
    - ``"account count (proxy)"``: otherwise; every account weighs 1, so
      potential-weighted metrics degrade to account counts.
    """
    for column, basis in zip(("potential", "annual_revenue"), POTENTIAL_BASES):
        if column in accounts and accounts[column].notna().any():
            return basis
    return POTENTIAL_BASES[2]


def account_potential(accounts: pd.DataFrame) -> pd.Series:
    """Potential of each account (float, indexed like ``accounts``).

    Uses the column named by :func:`potential_basis`, blanks counted as 0: a
    blank potential in a column that is otherwise filled is an account nobody
    valued, not an average one. Without either column every account weighs
    1.0. Always name the basis next to any potential-weighted number.
    """
    basis = potential_basis(accounts)
    if basis == POTENTIAL_BASES[2]:
        values = np.ones(len(accounts), dtype=float)
    else:
        column = "potential" if basis == POTENTIAL_BASES[0] else "annual_revenue"
        values = pd.to_numeric(accounts[column], errors="coerce").astype(float).fillna(0.0).to_numpy()
    return pd.Series(values, index=accounts.index, name="potential", dtype=float)
