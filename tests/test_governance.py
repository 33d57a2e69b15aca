"""Rebalance events, attrition-driven changes and survey mismatches (SPEC §3-4)."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.metrics import governance

T = "2025-06-30"
PARAMS = {"as_of": T}


def _accounts(
    n: int, owners: list | None = None, segments: list | None = None, regions: list | None = None
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"account_id": [f"a{i:03d}" for i in range(n)], "account_name": [f"Acc {i}" for i in range(n)]}
    )
    if owners is not None:
        frame["owner_rep_id"] = owners
    if segments is not None:
        frame["segment"] = segments
    if regions is not None:
        frame["region"] = regions
    return frame.astype("string")


def _reps(ids=("r1", "r2", "r3"), ended=()) -> pd.DataFrame:
    reps = pd.DataFrame({"rep_id": list(ids), "rep_name": [i.upper() for i in ids]}, dtype="string")
    reps["end_date"] = pd.to_datetime(["2020-01-01" if i in ended else None for i in ids])
    return reps


def _history(rows: list[tuple], typed: bool = False) -> pd.DataFrame:
    cols = ["account_id", "rep_id", "effective_date"] + (["change_type"] if typed else [])
    frame = pd.DataFrame(rows, columns=cols)
    frame = frame.astype({c: "string" for c in cols if c != "effective_date"})
    frame["effective_date"] = pd.to_datetime(frame["effective_date"])
    return frame


# --- rebalance events -------------------------------------------------------


def test_untyped_history_infers_months_at_the_five_percent_boundary():
    accounts = _accounts(100)
    rows = [(f"a{i:03d}", "r1", f"2025-01-{i + 1:02d}") for i in range(5)]  # 5 of 100 accounts: an event
    rows += [(f"a{i:03d}", "r2", f"2025-03-{i + 1:02d}") for i in range(4)]  # 4 accounts in 6 changes: not
    rows += [("a000", "r1", "2025-03-20"), ("a000", "r2", "2025-03-21")]
    rows += [(f"a{i:03d}", "r3", f"2025-05-{i + 1:02d}") for i in range(10, 15)]  # 5 accounts again
    rows += [("a010", "r1", "2025-05-28")]  # same account again: event dated on the month's last change
    tables = {"accounts": accounts, "reps": _reps(), "assignment_history": _history(rows)}
    assert governance.rebalance_basis(tables) == governance.INFERRED
    events = governance.rebalance_events(tables, PARAMS)
    assert events["event_date"].tolist() == [pd.Timestamp("2025-01-05"), pd.Timestamp("2025-05-28")]
    assert events["accounts_changed"].tolist() == [5, 5]
    assert events["changes"].tolist() == [5, 6]
    assert events["share_of_accounts"].tolist() == [0.05, 0.05]
    m = governance.metrics(tables, PARAMS)
    assert m["months_since_rebalance"] == pytest.approx(33 / 30.44)
    assert m["rebalance_events_12m"] == 2
    assert m["attrition_driven_changes_pct"] is None
    by_month = governance.owner_changes_by_month(tables, PARAMS)
    assert by_month["rebalance_event"].tolist() == [True, False, True]


def test_untyped_month_below_five_percent_is_no_event():
    accounts = _accounts(101)  # 5 / 101 < 5%
    rows = [(f"a{i:03d}", "r1", "2025-01-10") for i in range(5)]
    tables = {"accounts": accounts, "reps": _reps(), "assignment_history": _history(rows)}
    assert governance.rebalance_events(tables, PARAMS).empty
    assert governance.metrics(tables, PARAMS)["months_since_rebalance"] is None
    by_month = governance.owner_changes_by_month(tables, PARAMS)
    assert by_month[["month", "accounts_changed", "rebalance_event"]].values.tolist() == [["2025-01", 5, False]]


def test_typed_rebalance_is_case_insensitive_and_ignores_later_dates():
    rows = [
        ("a000", "r1", "2024-01-15", " Rebalance "),
        ("a001", "r1", "2024-09-30", "REBALANCE"),
        ("a002", "r2", "2025-05-01", "attrition"),
        ("a003", "r2", "2025-08-01", "rebalance"),  # after T
    ]
    tables = {"accounts": _accounts(10), "reps": _reps(), "assignment_history": _history(rows, typed=True)}
    assert governance.rebalance_basis(tables) == governance.TYPED
    events = governance.rebalance_events(tables, PARAMS)
    assert events["event_date"].tolist() == [pd.Timestamp("2024-01-15"), pd.Timestamp("2024-09-30")]
    m = governance.metrics(tables, PARAMS)
    assert m["months_since_rebalance"] == pytest.approx(273 / 30.44)
    assert m["rebalance_events_12m"] == 1
    assert m["owner_changes_12m"] == 2


def test_typed_history_without_rebalance_has_no_event():
    rows = [("a000", "r1", "2025-01-15", "attrition"), ("a001", "r1", "2025-01-16", "other")]
    tables = {"accounts": _accounts(2), "reps": _reps(), "assignment_history": _history(rows, typed=True)}
    # Every account changed owner in January, but typed history is not inferred.
    assert governance.rebalance_events(tables, PARAMS).empty
    assert governance.metrics(tables, PARAMS)["months_since_rebalance"] is None


def test_blank_change_type_column_falls_back_to_inference():
    rows = [("a000", "r1", "2025-01-15", None), ("a001", "r1", "2025-01-16", None)]
    tables = {"accounts": _accounts(2), "reps": _reps(), "assignment_history": _history(rows, typed=True)}
    assert governance.rebalance_basis(tables) == governance.INFERRED
    assert len(governance.rebalance_events(tables, PARAMS)) == 1
    assert governance.metrics(tables, PARAMS)["attrition_driven_changes_pct"] is None


def test_attrition_share_counts_departures_and_blank_types_in_the_denominator():
    rows = [
        ("a000", "r1", "2025-01-01", "Attrition"),
        ("a001", "r1", "2025-01-02", "departure"),
        ("a002", "r1", "2025-01-03", "rebalance"),
        ("a003", "r1", "2025-01-04", None),
        ("a004", "r1", "2025-01-05", "new_account"),
        ("a005", "r1", "2025-09-01", "attrition"),  # after T: ignored
    ]
    tables = {"accounts": _accounts(6), "reps": _reps(), "assignment_history": _history(rows, typed=True)}
    assert governance.metrics(tables, PARAMS)["attrition_driven_changes_pct"] == pytest.approx(2 / 5)
    by_type = governance.owner_changes_by_type(tables, PARAMS)
    assert by_type["changes"].sum() == 5
    assert set(by_type.loc[by_type["attrition_driven"], "change_type"]) == {"attrition", "departure"}
    assert "(blank)" in set(by_type["change_type"])


def test_no_history_table_gives_none():
    tables = {"accounts": _accounts(3), "reps": _reps()}
    m = governance.metrics(tables, PARAMS)
    assert m["months_since_rebalance"] is None
    assert m["attrition_driven_changes_pct"] is None
    assert m["rebalance_events_12m"] is None
    assert governance.rebalance_basis(tables) is None
    assert governance.rebalance_events(tables, PARAMS).empty


# --- survey -------------------------------------------------------------------


def _survey(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["rep_id", "described_segment", "described_region", "described_account_count"])
    frame = frame.astype({"rep_id": "string", "described_segment": "string", "described_region": "string"})
    frame["described_account_count"] = frame["described_account_count"].astype("Int64")
    return frame


def test_case_only_difference_is_not_a_mismatch():
    accounts = _accounts(4, owners=["r1"] * 4, segments=["Enterprise"] * 4, regions=["EMEA"] * 4)
    tables = {"accounts": accounts, "reps": _reps(), "rep_survey": _survey([("r1", " enterprise", "emea", 4)])}
    assert governance.metrics(tables, PARAMS)["survey_mismatch_pct"] == 0.0
    detail = governance.survey_mismatches(tables, PARAMS)
    assert detail.loc[0, "book_segment"] == "Enterprise"
    assert not detail.loc[0, "mismatch"]


def test_segment_and_region_mismatch_against_the_book_mode():
    accounts = _accounts(
        6,
        owners=["r1"] * 3 + ["r2"] * 3,
        segments=["SMB", "SMB", "Enterprise", "SMB", "Enterprise", None],  # r2 ties SMB / Enterprise
        regions=["EMEA"] * 3 + ["NA"] * 3,
    )
    survey = _survey([("r1", "Enterprise", None, None), ("r2", "enterprise", "EMEA", None)])
    tables = {"accounts": accounts, "reps": _reps(), "rep_survey": survey}
    detail = governance.survey_comparison(tables, PARAMS).set_index("rep_id")
    assert bool(detail.loc["r1", "segment_mismatch"]) is True
    assert pd.isna(detail.loc["r1", "region_mismatch"])  # blank answer: not compared
    assert bool(detail.loc["r2", "segment_mismatch"]) is False  # a tied mode matches
    assert detail.loc["r2", "book_segment"] == "Enterprise / SMB"
    assert bool(detail.loc["r2", "region_mismatch"]) is True
    assert detail.loc["r2", "mismatched_dimensions"] == "region"
    assert governance.metrics(tables, PARAMS)["survey_mismatch_pct"] == 1.0


@pytest.mark.parametrize(
    ("actual", "described", "mismatch"),
    [(8, 10, False), (8, 6, False), (8, 11, True), (8, 5, True), (0, 0, False), (0, 1, True), (4, 5, False)],
)
def test_account_count_boundary_is_25_percent_of_the_book(actual, described, mismatch):
    accounts = _accounts(max(actual, 1) + 1, owners=["r1"] * actual + ["r2"] * (max(actual, 1) + 1 - actual))
    tables = {"accounts": accounts, "reps": _reps(), "rep_survey": _survey([("r1", None, None, described)])}
    detail = governance.survey_comparison(tables, PARAMS)
    assert detail.loc[0, "book_account_count"] == actual
    assert bool(detail.loc[0, "account_count_mismatch"]) is mismatch
    assert governance.metrics(tables, PARAMS)["survey_mismatch_pct"] == (1.0 if mismatch else 0.0)


def test_only_active_surveyed_reps_with_an_answer_count():
    accounts = _accounts(4, owners=["r1", "r1", "r2", "r3"], segments=["SMB"] * 4)
    survey = _survey(
        [
            ("r1", "SMB", None, 2),  # match
            ("r2", "Enterprise", None, None),  # mismatch
            ("r3", "Enterprise", None, None),  # departed: not counted
            ("r9", None, None, None),  # unknown rep: not counted
        ]
    )
    tables = {"accounts": accounts, "reps": _reps(ended=("r3",)), "rep_survey": survey}
    m = governance.metrics(tables, PARAMS)
    assert m["survey_mismatch_pct"] == 0.5
    assert m["surveyed_reps_compared"] == 2
    detail = governance.survey_mismatches(tables, PARAMS)
    assert detail["rep_id"].tolist() == ["r2", "r1"]  # mismatches first


def test_blank_answers_leave_the_rep_out():
    accounts = _accounts(2, owners=["r1", "r2"], segments=["SMB", "SMB"])
    survey = _survey([("r1", None, None, None), ("r2", "smb", None, None)])
    tables = {"accounts": accounts, "reps": _reps(), "rep_survey": survey}
    assert governance.metrics(tables, PARAMS)["survey_mismatch_pct"] == 0.0
    survey = _survey([("r1", None, None, None)])
    tables["rep_survey"] = survey
    assert governance.metrics(tables, PARAMS)["survey_mismatch_pct"] is None


def test_no_survey_table_is_none():
    tables = {"accounts": _accounts(2, owners=["r1", "r2"]), "reps": _reps()}
    assert governance.metrics(tables, PARAMS)["survey_mismatch_pct"] is None
    assert governance.survey_mismatches(tables, PARAMS).empty


def test_survey_without_account_owners_is_none():
    accounts = _accounts(2, segments=["SMB", "SMB"])
    tables = {"accounts": accounts, "reps": _reps(), "rep_survey": _survey([("r1", "SMB", None, 3)])}
    m = governance.metrics(tables, PARAMS)
    assert m["survey_mismatch_pct"] is None and m["surveyed_reps_compared"] is None
