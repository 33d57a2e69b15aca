"""Property tests for channels, governance, merger and flags.

Fractions stay within [0, 1]; shuffling the rows of every input table changes
no metric, flag or evidence table; the fast counting methods agree with brute
force on small random data.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diligence.metrics import channels, flags, governance, merger
from diligence.params import resolve_params

AS_OF = pd.Timestamp("2025-06-30")
PARAMS = resolve_params({"as_of": "2025-06-30"})
REPS = [f"r{i}" for i in range(5)]
NAMES = ["Acme Inc", "ACME", "acme, llc", "Globex", "Globex Corp", "Initech", "Umbrella", "Umbrela"]
DOMAINS = [None, "acme.com", "www.acme.com", "globex.com", "initech.io"]
TYPES = [None, "rebalance", "Attrition", "departure", "other"]

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _day(offset: int) -> pd.Timestamp:
    return AS_OF + pd.Timedelta(days=offset)


@st.composite
def companies(draw) -> dict:
    n_acc = draw(st.integers(1, 12))
    acc_ids = [f"a{i:02d}" for i in range(n_acc)]
    maybe_rep = st.one_of(st.none(), st.sampled_from(REPS + ["gone"]))
    accounts = pd.DataFrame(
        {
            "account_id": acc_ids,
            "account_name": draw(st.lists(st.sampled_from(NAMES), min_size=n_acc, max_size=n_acc)),
            "owner_rep_id": draw(st.lists(maybe_rep, min_size=n_acc, max_size=n_acc)),
            "segment": draw(
                st.lists(st.sampled_from([None, "SMB", "smb", "Enterprise"]), min_size=n_acc, max_size=n_acc)
            ),
            "region": draw(st.lists(st.sampled_from([None, "EU", "US"]), min_size=n_acc, max_size=n_acc)),
            "domain": draw(st.lists(st.sampled_from(DOMAINS), min_size=n_acc, max_size=n_acc)),
            "source_company": draw(
                st.lists(st.sampled_from([None, "Alpha", "Beta", "beta "]), min_size=n_acc, max_size=n_acc)
            ),
        },
        dtype="string",
    )
    reps = pd.DataFrame({"rep_id": REPS, "rep_name": [r.upper() for r in REPS]}, dtype="string")
    reps["end_date"] = pd.to_datetime([None, None, None, "2025-01-01", None])

    n_opp = draw(st.integers(0, 20))
    created = draw(st.lists(st.integers(-800, 10), min_size=n_opp, max_size=n_opp))
    length = draw(st.lists(st.integers(-5, 300), min_size=n_opp, max_size=n_opp))
    opps = pd.DataFrame(
        {
            "opportunity_id": [f"o{i:02d}" for i in range(n_opp)],
            "account_id": draw(st.lists(st.sampled_from(acc_ids), min_size=n_opp, max_size=n_opp)),
            "owner_rep_id": draw(st.lists(st.one_of(st.none(), st.sampled_from(REPS)), min_size=n_opp, max_size=n_opp)),
            "channel": draw(st.lists(st.sampled_from(["direct", "partner"]), min_size=n_opp, max_size=n_opp)),
            "partner_id": draw(st.lists(st.sampled_from([None, "p1"]), min_size=n_opp, max_size=n_opp)),
        },
        dtype="string",
    )
    opps["amount"] = 1.0
    opps["created_date"] = pd.to_datetime([_day(c) for c in created])
    close = [None if draw(st.booleans()) and draw(st.booleans()) else _day(c + d) for c, d in zip(created, length)]
    opps["close_date"] = pd.to_datetime(close)
    opps["is_closed"] = pd.array(
        draw(st.lists(st.sampled_from([True, False, None]), min_size=n_opp, max_size=n_opp)), dtype="boolean"
    )

    n_hist = draw(st.integers(0, 15))
    hist = pd.DataFrame(
        {
            "account_id": draw(st.lists(st.sampled_from(acc_ids), min_size=n_hist, max_size=n_hist)),
            "rep_id": draw(st.lists(st.sampled_from(REPS), min_size=n_hist, max_size=n_hist)),
            "change_type": draw(st.lists(st.sampled_from(TYPES), min_size=n_hist, max_size=n_hist)),
        },
        dtype="string",
    )
    hist["effective_date"] = pd.to_datetime(
        [_day(d) for d in draw(st.lists(st.integers(-900, 30), min_size=n_hist, max_size=n_hist))]
    )
    if draw(st.booleans()):
        hist = hist.drop(columns="change_type")

    surveyed = draw(st.lists(st.sampled_from(REPS), unique=True, max_size=5))
    k = len(surveyed)
    survey = pd.DataFrame(
        {
            "rep_id": surveyed,
            "described_segment": draw(st.lists(st.sampled_from([None, "SMB", "ENTERPRISE "]), min_size=k, max_size=k)),
            "described_region": draw(st.lists(st.sampled_from([None, "eu", "US"]), min_size=k, max_size=k)),
        },
        dtype="string",
    )
    survey["described_account_count"] = pd.array(
        draw(st.lists(st.one_of(st.none(), st.integers(0, 8)), min_size=k, max_size=k)), dtype="Int64"
    )
    return {"accounts": accounts, "reps": reps, "opportunities": opps, "assignment_history": hist, "rep_survey": survey}


def _metrics(tables: dict) -> dict:
    out: dict = {}
    for module in (channels, governance, merger):
        out.update(module.metrics(tables, PARAMS))
    return out


def _shuffled(tables: dict, seed: int) -> dict:
    return {name: frame.sample(frac=1.0, random_state=seed) for name, frame in tables.items()}


@SETTINGS
@given(companies())
def test_fractions_are_within_zero_and_one(tables):
    m = _metrics(tables)
    for name in ("attrition_driven_changes_pct", "survey_mismatch_pct"):
        assert m[name] is None or 0.0 <= m[name] <= 1.0, (name, m[name])
    for name in (
        "channel_conflict_accounts",
        "multi_rep_accounts",
        "cross_crm_duplicates",
        "cross_crm_conflicting_owners",
    ):
        assert m[name] is None or m[name] >= 0
    if m["cross_crm_duplicates"] is not None:
        assert m["cross_crm_conflicting_owners"] <= m["cross_crm_duplicates"]
    assert m["months_since_rebalance"] is None or m["months_since_rebalance"] >= 0
    for value in m.values():
        assert value is None or type(value) in (int, float)


@SETTINGS
@given(companies(), st.integers(0, 2**31 - 1))
def test_shuffling_rows_changes_nothing(tables, seed):
    shuffled = _shuffled(tables, seed)
    assert _metrics(shuffled) == _metrics(tables)
    m = _metrics(tables)
    assert flags.evaluate(m, PARAMS, shuffled) == flags.evaluate(m, PARAMS, tables)
    for fn in (
        channels.conflict_accounts,
        channels.multi_rep_accounts_table,
        governance.survey_mismatches,
        governance.rebalance_events,
        governance.owner_changes_by_type,
        governance.owner_changes_by_month,
        merger.duplicate_pairs,
        merger.fuzzy_candidates,
    ):
        pd.testing.assert_frame_equal(
            fn(shuffled, PARAMS).reset_index(drop=True), fn(tables, PARAMS).reset_index(drop=True)
        )


def _brute_overlaps(intervals: pd.DataFrame, party: str) -> set:
    found = set()
    for (_, a), (_, b) in itertools.combinations(intervals.iterrows(), 2):
        if (
            a["account_id"] == b["account_id"]
            and pd.notna(a[party])
            and pd.notna(b[party])
            and a[party] != b[party]
            and max(a["start"], b["start"]) <= min(a["end"], b["end"])
        ):
            found.add(a["account_id"])
    return found


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abc"), st.sampled_from(["x", "y", "z", None]), st.integers(0, 40), st.integers(0, 10)
        ),
        max_size=25,
    )
)
def test_overlap_sweep_matches_brute_force(rows):
    frame = pd.DataFrame(rows, columns=["account_id", "party", "s", "n"])
    intervals = pd.DataFrame(
        {
            "account_id": frame["account_id"].astype("string"),
            "party": frame["party"].astype("string"),
            "start": pd.to_datetime("2025-01-01") + pd.to_timedelta(frame["s"], unit="D"),
            "end": pd.to_datetime("2025-01-01") + pd.to_timedelta(frame["s"] + frame["n"], unit="D"),
        }
    )
    assert set(channels.overlapping_accounts(intervals, "party")) == _brute_overlaps(intervals, "party")


@SETTINGS
@given(companies())
def test_duplicate_counts_match_brute_force(tables):
    m = merger.metrics(tables, PARAMS)
    keys = merger.match_keys(tables, PARAMS)
    if keys is None:
        assert m["cross_crm_duplicates"] is None
        return
    rows = keys.to_dict("records")
    dup = conflicting = 0
    for a, b in itertools.combinations(rows, 2):
        if a["source"] == b["source"]:
            continue
        if any(pd.notna(a[k]) and pd.notna(b[k]) and a[k] == b[k] for k in ("domain_key", "name_key")):
            dup += 1
            conflicting += bool(pd.notna(a["owner"]) and pd.notna(b["owner"]) and a["owner"] != b["owner"])
    assert (m["cross_crm_duplicates"], m["cross_crm_conflicting_owners"]) == (dup, conflicting)
    assert len(merger.duplicate_pairs(tables, PARAMS)) == min(dup, 1000)


def test_random_company_smoke():
    # A fixed larger draw, so a crash on a bigger frame shows up without hypothesis.
    rng = np.random.default_rng(3)
    n = 300
    accounts = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(n)],
            "account_name": rng.choice(NAMES, n),
            "owner_rep_id": rng.choice(REPS, n),
            "source_company": rng.choice(["Alpha", "Beta"], n),
            "domain": rng.choice(["acme.com", "globex.com", "x.io"], n),
        },
        dtype="string",
    )
    reps = pd.DataFrame({"rep_id": REPS, "rep_name": REPS}, dtype="string")
    m = merger.metrics({"accounts": accounts, "reps": reps}, PARAMS)
    assert 0 < m["cross_crm_conflicting_owners"] < m["cross_crm_duplicates"]
