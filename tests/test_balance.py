"""Balance definitions (SPEC §3): comparable groups, attainment, book potential."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.metrics import balance
from diligence.params import resolve_params
from tests.helpers import T, days, frame


def won(owners: list[str], amounts: list[float], close: list[str] | None = None) -> pd.DataFrame:
    n = len(owners)
    return frame(
        "opportunities",
        opportunity_id=[f"o{i}" for i in range(n)],
        account_id=["a1"] * n,
        owner_rep_id=owners,
        amount=amounts,
        created_date=["2025-01-01"] * n,
        close_date=close or [days(-10)] * n,
        is_closed=[True] * n,
        is_won=[True] * n,
    )


def make_reps(**overrides) -> pd.DataFrame:
    base = dict(
        rep_id=["s1", "s2", "s3", "e1", "m1", "gone", "free"],
        rep_name=["S1", "S2", "S3", "E1", "M1", "Gone", "Free"],
        segment=["SMB", "SMB", "SMB", "Ent", "Mid", "SMB", "SMB"],
        role=["AE"] * 7,
        hire_date=["2020-01-01", "2020-01-01", days(-240), "2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01"],
        end_date=[None, None, None, None, None, days(-1), None],
        quota=[100.0, 200.0, 100.0, 500.0, 300.0, 100.0, None],
    )
    base.update(overrides)
    return frame("reps", **base)


def accounts(owners: list[str], potential: list[float] | None = None) -> pd.DataFrame:
    n = len(owners)
    cols = dict(account_id=[f"a{i}" for i in range(n)], account_name=[f"A{i}" for i in range(n)], owner_rep_id=owners)
    if potential is not None:
        cols["potential"] = potential
    return frame("accounts", **cols)


def test_attainment_eligibility_and_groups(params):
    # s3 hired eight months ago: not eligible; gone (departed) and free (no quota) are not in the population
    tables = {
        "reps": make_reps(),
        "accounts": accounts(["s1"]),
        "opportunities": won(["s1", "s2", "s3", "e1", "gone"], [50.0, 200.0, 900.0, 100.0, 100.0]),
    }
    att = balance.attainment(tables, params).set_index("rep_id")
    assert att.index.tolist() == ["e1", "m1", "s1", "s2", "s3"]
    assert att.loc["s1", "attainment"] == 0.5 and att.loc["s2", "attainment"] == 1.0
    assert not att.loc["s3", "eligible"] and att.loc["s1", "eligible"]
    assert att.loc["s1", "group"] == "SMB / AE" and att.loc["s1", "group_reps"] == 3
    assert pd.isna(att.loc["e1", "group"])  # a segment with one rep is no group
    groups = balance.comparable_groups(tables, params)
    assert groups["group"].tolist() == ["SMB / AE"]
    assert groups.loc[0, "reps"] == 3 and groups.loc[0, "attainment_reps"] == 2
    m = balance.metrics(tables, params)
    assert m["attainment_max_min_ratio"] == 2.0  # s3's 9.0 does not count
    assert m["attainment_cv_max"] == pytest.approx(0.25 / 0.75)  # population std of (0.5, 1.0)
    assert m["attainment_zero_min_groups"] == 0
    assert m["comparable_groups"] == 1


def test_hired_exactly_365_days_before_is_eligible(params):
    reps = make_reps(hire_date=[days(-365), days(-364)] + ["2020-01-01"] * 5)
    att = balance.attainment({"reps": reps, "accounts": accounts(["s1"])}, params).set_index("rep_id")
    assert att.loc["s1", "eligible"] and not att.loc["s2", "eligible"]


def test_bookings_window_edges(params):
    opps = won(["s1", "s1", "s1"], [1.0, 10.0, 100.0], close=[T, days(-365), days(1)])
    att = balance.attainment({"reps": make_reps(), "accounts": accounts(["s1"]), "opportunities": opps}, params)
    assert att.set_index("rep_id").loc["s1", "bookings"] == 1.0  # T counts; T-365 and after T do not


def test_lost_and_open_opportunities_are_not_bookings(params):
    opps = won(["s1", "s1"], [10.0, 20.0])
    opps["is_won"] = pd.array([False, False], dtype="boolean")
    opps["is_closed"] = pd.array([True, False], dtype="boolean")
    att = balance.attainment({"reps": make_reps(), "accounts": accounts(["s1"]), "opportunities": opps}, params)
    assert att.set_index("rep_id").loc["s1", "bookings"] == 0.0


def test_zero_min_attainment(params):
    tables = {"reps": make_reps(), "accounts": accounts(["s1"]), "opportunities": won(["s2"], [200.0])}
    m = balance.metrics(tables, params)
    assert m["attainment_max_min_ratio"] is None
    assert m["attainment_zero_min_groups"] == 1
    groups = balance.comparable_groups(tables, params)
    assert groups.loc[0, "attainment_zero_min"] and pd.isna(groups.loc[0, "attainment_ratio"])


def test_all_zero_group_is_not_disparity(params):
    tables = {"reps": make_reps(), "accounts": accounts(["s1"]), "opportunities": won(["e1"], [1.0])}
    m = balance.metrics(tables, params)
    assert m["attainment_zero_min_groups"] == 0
    assert m["attainment_max_min_ratio"] is None  # no group with a defined ratio
    assert m["attainment_cv_max"] is None  # group mean 0: skipped


def test_worst_group_is_highest_ratio(params):
    reps = make_reps(segment=["SMB", "SMB", "Ent", "Ent", "Mid", "SMB", "SMB"], hire_date=["2020-01-01"] * 7)
    opps = won(["s1", "s2", "s3", "e1"], [100.0, 300.0, 100.0, 500.0])
    m = balance.metrics({"reps": reps, "accounts": accounts(["s1"]), "opportunities": opps}, params)
    # SMB: 1.0 vs 1.5 -> 1.5; Ent: s3 1.0 vs e1 1.0 -> 1.0
    assert m["attainment_max_min_ratio"] == 1.5
    assert m["comparable_groups"] == 2


def test_comparable_by_absent_column_is_ignored():
    params = resolve_params({"as_of": T, "comparable_by": ["segment", "role", "region"]})
    tables = {"reps": make_reps(), "accounts": accounts(["s1"]), "opportunities": won(["s1", "s2"], [50.0, 200.0])}
    assert balance.metrics(tables, params)["attainment_max_min_ratio"] == 2.0
    everyone = resolve_params({"as_of": T, "comparable_by": ["region"]})  # none present: one group
    groups = balance.comparable_groups(tables, everyone)
    assert groups["group"].tolist() == ["all"] and groups.loc[0, "reps"] == 5


def test_rep_blank_in_a_dimension_has_no_group(params):
    reps = make_reps(role=["AE", None, "AE", "AE", "AE", "AE", "AE"])
    att = balance.attainment({"reps": reps, "accounts": accounts(["s1"])}, params).set_index("rep_id")
    assert pd.isna(att.loc["s2", "group"]) and att.loc["s1", "group"] == "SMB / AE"


def test_book_potential_ratio_and_zero_books(params):
    reps = make_reps()
    tables = {"reps": reps, "accounts": accounts(["s1", "s1", "s2", "e1", "zz"], [10.0, 20.0, 5.0, 99.0, 1.0])}
    books = balance.book_potential(tables, params).set_index("rep_id")
    assert books.loc["s1", "accounts"] == 2 and books.loc["s1", "potential"] == 30.0
    assert books.loc["s3", "potential"] == 0.0
    m = balance.metrics(tables, params)
    assert m["potential_max_min_ratio"] is None  # s3's book is empty: min 0
    assert m["potential_zero_books"] == 1 and m["potential_zero_min_groups"] == 1
    tables["accounts"] = accounts(["s1", "s1", "s2", "s3"], [10.0, 20.0, 5.0, 10.0])
    m = balance.metrics(tables, params)
    assert m["potential_max_min_ratio"] == 6.0 and m["potential_zero_books"] == 0


def test_potential_proxy_counts_accounts(params):
    tables = {"reps": make_reps(), "accounts": accounts(["s1", "s1", "s1", "s2", "s3"])}
    assert balance.metrics(tables, params)["potential_max_min_ratio"] == 3.0


def test_missing_opportunities_gives_none(params):
    m = balance.metrics({"reps": make_reps(), "accounts": accounts(["s1", "s2", "s3"])}, params)
    assert m["attainment_max_min_ratio"] is None and m["attainment_cv_max"] is None
    assert m["attainment_zero_min_groups"] is None
    assert m["potential_max_min_ratio"] == 1.0
    assert m["heavy_pipeline_win_rate_ratio"] is None


def test_pipeline_load_vs_win_rate(params):
    reps = make_reps(hire_date=["2020-01-01"] * 7)
    n = 9
    opps = frame(
        "opportunities",
        opportunity_id=[f"o{i}" for i in range(n)],
        account_id=["a1"] * n,
        owner_rep_id=["s1", "s1", "s1", "s2", "s2", "s3", "e1", "m1", "m1"],
        amount=[1000.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        created_date=["2025-01-01"] * n,
        close_date=[days(30), days(-5), days(-5), days(-5), days(-5), days(-5), days(-5), days(-5), days(-5)],
        is_closed=[False] + [True] * 8,
        is_won=[False, False, False, True, True, True, True, True, False],
    )
    tables = {"reps": reps, "accounts": accounts(["s1"]), "opportunities": opps}
    load = balance.pipeline_load(tables, params).set_index("rep_id")
    assert load["heavy"].sum() == 2  # ceil(5 / 4)
    assert load.loc["s1", "heavy"] and load.loc["s1", "pipeline_to_quota"] == 10.0
    # s1 carries the only open pipeline; the tie at 0 is broken by rep_id
    assert load.loc["e1", "heavy"]
    cohorts = balance.pipeline_load_vs_win_rate(tables, params).set_index("cohort")
    assert cohorts.loc["heavy", "closed"] == 3 and cohorts.loc["heavy", "won"] == 1
    assert cohorts.loc["rest", "closed"] == 5 and cohorts.loc["rest", "won"] == 4
    assert cohorts.loc["heavy", "win_rate_index"] == pytest.approx((1 / 3) / (5 / 8))
    assert balance.metrics(tables, params)["heavy_pipeline_win_rate_ratio"] == pytest.approx((1 / 3) / (4 / 5))


def test_pipeline_load_needs_four_reps(params):
    reps = make_reps(quota=[100.0, 100.0, None, None, None, None, None])
    tables = {"reps": reps, "accounts": accounts(["s1"]), "opportunities": won(["s1"], [1.0])}
    assert balance.pipeline_load_vs_win_rate(tables, params).empty


def test_reps_without_quota_column(params):
    tables = {
        "reps": make_reps().drop(columns="quota"),
        "accounts": accounts(["s1"]),
        "opportunities": won(["s1"], [1.0]),
    }
    m = balance.metrics(tables, params)
    assert m["comparable_groups"] == 0
    assert m["attainment_max_min_ratio"] is None and m["potential_max_min_ratio"] is None
    assert balance.attainment(tables, params).empty
