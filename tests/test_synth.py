"""The synthetic company: shape, types, determinism, and the problems it plants.

Each flag condition is recomputed here from SPEC §3 with plain pandas, not with
the kit's metric modules, so that the generator is checked independently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from diligence.contract import BOOL, DATE, INTEGER, NUMBER, TABLE_ORDER, TABLES
from diligence.metrics.coverage import active_rep_ids, classify_accounts
from diligence.synth import DEMO_AS_OF, PLANTED, make_company, write_company

T = pd.Timestamp(DEMO_AS_OF)
DAY = pd.Timedelta(days=1)
APR = {"Enterprise": 25, "Mid-Market": 100, "SMB": 400}


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    return make_company()


@pytest.fixture(scope="module")
def healthy() -> dict[str, pd.DataFrame]:
    return make_company(profile="healthy")


# --- SPEC §3 conditions, recomputed --------------------------------------------------


def quota_reps(t: dict) -> pd.DataFrame:
    """Active quota-carrying reps in comparable groups (segment, role) of 2+."""
    reps = t["reps"]
    q = reps[reps["rep_id"].isin(active_rep_ids(reps, T)) & (reps["quota"] > 0)]
    return q[q.groupby(["segment", "role"])["rep_id"].transform("size") >= 2]


def attainment(t: dict) -> pd.DataFrame:
    q = quota_reps(t)
    q = q[q["hire_date"] <= T - 365 * DAY]
    o = t["opportunities"]
    won = o[o["is_won"].fillna(False) & (o["close_date"] > T - 365 * DAY) & (o["close_date"] <= T)]
    bookings = won.groupby("owner_rep_id")["amount"].sum()
    att = q["rep_id"].map(bookings).fillna(0) / q["quota"]
    out = q.assign(att=att.to_numpy())
    return out[out.groupby(["segment", "role"])["rep_id"].transform("size") >= 2]


def attainment_ratio(t: dict) -> float:
    g = attainment(t).groupby(["segment", "role"])["att"]
    return float((g.max() / g.min()).max())


def attainment_cv(t: dict) -> float:
    g = attainment(t).groupby(["segment", "role"])["att"]
    return float((g.std(ddof=0) / g.mean()).max())


def potential_ratio(t: dict) -> float:
    q = quota_reps(t)
    book = t["accounts"].groupby("owner_rep_id")["potential"].sum()
    g = q.assign(pot=q["rep_id"].map(book).fillna(0).to_numpy()).groupby(["segment", "role"])["pot"]
    return float((g.max() / g.min()).max())


def unassigned_pct(t: dict) -> float:
    cls = classify_accounts(t["accounts"], t["reps"], T)
    return float((~cls.isin(["rep_assigned", "partner_only"])).mean())


def white_space_cells(t: dict) -> int:
    a = t["accounts"].assign(cls=classify_accounts(t["accounts"], t["reps"], T))
    covered = a["cls"].isin(["rep_assigned", "partner_only"])
    cells = a.assign(covered=covered).groupby(["segment", "region"])["covered"].agg(["size", "sum"])
    return int(((cells["size"] >= 5) & (cells["sum"] == 0)).sum())


def months_since_rebalance(t: dict) -> float:
    h = t["assignment_history"]
    last = h.loc[h["change_type"] == "rebalance", "effective_date"].max()
    return (T - last).days / 30.44


def survey_mismatch_pct(t: dict) -> float:
    reps, a, s = t["reps"], t["accounts"], t["rep_survey"]
    s = s[s["rep_id"].isin(active_rep_ids(reps, T))]
    book = a.groupby("owner_rep_id")
    seg = book["segment"].agg(lambda x: x.value_counts().idxmax())
    reg = book["region"].agg(lambda x: x.value_counts().idxmax())
    n = book.size()
    bad = (
        (s["described_segment"].str.lower() != s["rep_id"].map(seg).str.lower())
        | (s["described_region"].str.lower() != s["rep_id"].map(reg).str.lower())
        | ((s["described_account_count"] - s["rep_id"].map(n)).abs() > 0.25 * s["rep_id"].map(n))
    )
    return float(bad.mean())


def lifetimes(t: dict) -> pd.DataFrame:
    """Opportunities with their lifetime clipped to the 365 days before T."""
    o = t["opportunities"]
    end = o["close_date"].where(o["is_closed"].fillna(False), T)
    start = o["created_date"].clip(lower=T - 365 * DAY)
    end = end.clip(upper=T)
    return o.assign(start=start, end=end)[end > T - 365 * DAY]


def overlapping_accounts(left: pd.DataFrame, right: pd.DataFrame, different_owner: bool = False) -> set:
    pairs = left.merge(right, on="account_id")
    ok = (pairs["start_x"] <= pairs["end_y"]) & (pairs["start_y"] <= pairs["end_x"])
    if different_owner:
        ok &= pairs["owner_rep_id_x"] != pairs["owner_rep_id_y"]
    return set(pairs.loc[ok, "account_id"])


def channel_conflicts(t: dict) -> int:
    o = lifetimes(t)
    return len(overlapping_accounts(o[o["channel"] == "direct"], o[o["channel"] == "partner"]))


def multi_rep(t: dict) -> int:
    o = lifetimes(t)
    d = o[o["channel"] == "direct"]
    return len(overlapping_accounts(d, d, different_owner=True))


def assigned_not_worked_pct(t: dict) -> float:
    a = t["accounts"]
    assigned = a[a["owner_rep_id"].isin(active_rep_ids(t["reps"], T))]
    act = t["activities"]
    recent = act.loc[act["activity_date"] > T - 90 * DAY, "account_id"]
    return float((~assigned["account_id"].isin(recent)).mean())


def junior_on_enterprise_pct(t: dict) -> float:
    a, reps = t["accounts"], t["reps"]
    juniors = reps.loc[(reps["level"] == "junior") & reps["rep_id"].isin(active_rep_ids(reps, T)), "rep_id"]
    ent = a[a["segment"] == "Enterprise"]
    return float(ent["owner_rep_id"].isin(juniors).mean())


def headcount_shortfall(t: dict) -> float:
    need = np.ceil(t["accounts"]["segment"].value_counts() / pd.Series(APR))
    heads = quota_reps_all(t)["segment"].value_counts().reindex(need.index, fill_value=0)
    return float(((need - heads) / need).clip(lower=0).max())


def quota_reps_all(t: dict) -> pd.DataFrame:
    reps = t["reps"]
    return reps[reps["rep_id"].isin(active_rep_ids(reps, T)) & (reps["quota"] > 0)]


def _norm_name(s: pd.Series) -> pd.Series:
    return (
        s.str.lower()
        .str.replace(r"[^\w\s]", "", regex=True)
        .str.replace(r"\s+(inc|llc|ltd|corp|gmbh)$", "", regex=True)
        .str.strip()
    )


def duplicate_pairs(t: dict) -> pd.DataFrame:
    a = t["accounts"].assign(name_key=lambda f: _norm_name(f["account_name"]), dom=lambda f: f["domain"].str.lower())
    pairs = pd.concat(
        [a.dropna(subset=[key]).merge(a.dropna(subset=[key]), on=key) for key in ("dom", "name_key")],
        ignore_index=True,
    )
    pairs = pairs[pairs["source_company_x"] < pairs["source_company_y"]]
    return pairs.drop_duplicates(["account_id_x", "account_id_y"])


def conflicting_owner_pairs(t: dict) -> int:
    p = duplicate_pairs(t)
    active = active_rep_ids(t["reps"], T)
    both = p["owner_rep_id_x"].isin(active) & p["owner_rep_id_y"].isin(active)
    return int((both & (p["owner_rep_id_x"] != p["owner_rep_id_y"])).sum())


def pipeline_coverage_median(t: dict) -> float:
    q = quota_reps_all(t)
    o = t["opportunities"]
    open_ = o[~o["is_closed"].fillna(False) & (o["close_date"] > T) & (o["close_date"] <= T + 90 * DAY)]
    pipe = q["rep_id"].map(open_.groupby("owner_rep_id")["amount"].sum()).fillna(0)
    return float((pipe / (q["quota"] * 90 / 365)).median())


# --- planted problems ----------------------------------------------------------------


def test_planted_names_the_flags_it_plants():
    assert set(PLANTED) == {"RF1", "RF2", "RF3", "RF4", "RF5", "RF6", "W1", "W3", "W4", "W6", "W7", "W8", "W9", "W10"}
    assert all(isinstance(v, str) and v for v in PLANTED.values())


def test_demo_triggers_every_planted_flag(demo):
    t = demo
    assert unassigned_pct(t) > 0.22  # RF1 (> 0.20), with margin
    a = t["accounts"]
    orphaned = a["owner_rep_id"].notna() & ~a["owner_rep_id"].isin(active_rep_ids(t["reps"], T))
    assert orphaned.sum() > 0.1 * len(a)
    assert attainment_ratio(t) > 2.2  # RF2
    assert months_since_rebalance(t) > 12  # RF3
    assert survey_mismatch_pct(t) > 0.2  # RF4
    assert channel_conflicts(t) > 0  # RF5
    assert headcount_shortfall(t) > 0.3  # RF6
    assert assigned_not_worked_pct(t) > 0.35  # W1
    assert potential_ratio(t) > 3.3  # W3
    assert white_space_cells(t) >= 1  # W4
    assert junior_on_enterprise_pct(t) > 0.12  # W6
    assert multi_rep(t) > 0  # W7
    assert conflicting_owner_pairs(t) > 0  # W8


def test_demo_white_space_is_mid_market_latam(demo):
    a = demo["accounts"]
    cell = a[(a["segment"] == "Mid-Market") & (a["region"] == "LATAM")]
    assert len(cell) >= 5
    assert not cell["owner_rep_id"].isin(active_rep_ids(demo["reps"], T)).any()
    assert cell["partner_id"].isna().all()


def test_demo_leaves_variance_and_pipeline_flags_clear(demo):
    assert attainment_cv(demo) < 0.4  # W2: disparity at the extremes, not overall
    assert 3 <= pipeline_coverage_median(demo) <= 5  # W5


def test_healthy_triggers_nothing(healthy):
    t = healthy
    assert unassigned_pct(t) < 0.05  # RF1
    assert attainment_ratio(t) < 1.6  # RF2
    assert attainment_cv(t) < 0.2  # W2
    assert months_since_rebalance(t) < 6  # RF3
    assert survey_mismatch_pct(t) == 0  # RF4
    assert channel_conflicts(t) == 0  # RF5
    assert headcount_shortfall(t) == 0  # RF6
    assert assigned_not_worked_pct(t) < 0.15  # W1
    assert potential_ratio(t) < 1.5  # W3
    assert white_space_cells(t) == 0  # W4
    assert 3.2 <= pipeline_coverage_median(t) <= 4.8  # W5
    assert junior_on_enterprise_pct(t) == 0  # W6
    assert multi_rep(t) == 0  # W7
    assert len(duplicate_pairs(t)) == 0  # W8: no duplicates at all


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_and_healthy_hold_for_other_seeds(seed):
    t = make_company(n_accounts=2000, seed=seed)
    assert unassigned_pct(t) > 0.2 and attainment_ratio(t) > 2 and months_since_rebalance(t) > 12
    assert survey_mismatch_pct(t) > 0.1 and channel_conflicts(t) > 0 and headcount_shortfall(t) > 0.25
    assert assigned_not_worked_pct(t) > 0.3 and potential_ratio(t) > 3 and white_space_cells(t) > 0
    assert junior_on_enterprise_pct(t) > 0.1 and multi_rep(t) > 0 and conflicting_owner_pairs(t) > 0
    h = make_company(n_accounts=2000, seed=seed, profile="healthy")
    assert unassigned_pct(h) <= 0.2 and attainment_ratio(h) <= 2 and months_since_rebalance(h) <= 12
    assert survey_mismatch_pct(h) <= 0.1 and channel_conflicts(h) == 0 and headcount_shortfall(h) <= 0.25
    assert assigned_not_worked_pct(h) <= 0.3 and potential_ratio(h) <= 3 and white_space_cells(h) == 0
    assert junior_on_enterprise_pct(h) <= 0.1 and multi_rep(h) == 0 and conflicting_owner_pairs(h) == 0
    assert attainment_cv(h) <= 0.4 and 3 <= pipeline_coverage_median(h) <= 5


# --- shape, types, integrity ----------------------------------------------------------


@pytest.mark.parametrize("profile", ["demo", "healthy"])
def test_tables_follow_the_contract(profile, demo, healthy):
    t = demo if profile == "demo" else healthy
    assert list(t) == list(TABLE_ORDER)
    expected = {DATE: "datetime64[ns]", NUMBER: "float64", INTEGER: "Int64", BOOL: "boolean"}
    for name, frame in t.items():
        table = TABLES[name]
        assert list(frame.columns) == table.column_names, name
        for col in table.columns:
            dtype = frame[col.name].dtype
            if col.kind in expected:
                assert str(dtype) == expected[col.kind], (name, col.name, dtype)
            else:  # the nullable "string" dtype, missing as pd.NA
                assert isinstance(dtype, pd.StringDtype) and dtype.na_value is pd.NA, (name, col.name, dtype)
            if col.required:
                assert frame[col.name].notna().all(), (name, col.name)
            if col.nonneg:
                assert (frame[col.name].dropna() >= 0).all(), (name, col.name)
        if table.key:
            assert frame[table.key].is_unique, name


def test_references_resolve(demo):
    a, r, o = demo["accounts"], demo["reps"], demo["opportunities"]
    accounts, reps = set(a["account_id"]), set(r["rep_id"])
    for name in ("opportunities", "activities", "assignment_history"):
        assert set(demo[name]["account_id"]) <= accounts, name
    for name, col in [
        ("accounts", "owner_rep_id"),
        ("opportunities", "owner_rep_id"),
        ("activities", "rep_id"),
        ("assignment_history", "rep_id"),
        ("rep_survey", "rep_id"),
        ("reps", "manager_id"),
    ]:
        assert set(demo[name][col].dropna()) <= reps, name
    partners = set(demo["partners"]["partner_id"])
    assert set(a["partner_id"].dropna()) <= partners and set(o["partner_id"].dropna()) <= partners


def test_values_are_consistent(demo):
    o, r, act, h = demo["opportunities"], demo["reps"], demo["activities"], demo["assignment_history"]
    assert set(o["stage"]) == {"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}
    assert (o["is_won"] == (o["stage"] == "Closed Won")).all()
    assert (o["is_closed"] == o["stage"].isin(["Closed Won", "Closed Lost"])).all()
    assert (o["close_date"] >= o["created_date"]).all()
    assert o["created_date"].max() <= T and o["created_date"].min() > T - 730 * DAY
    closed = o[o["is_closed"]]
    assert closed["close_date"].max() <= T
    assert (o.loc[~o["is_closed"], "close_date"] > T).any()
    win = closed[closed["close_date"] > T - 365 * DAY]["is_won"].mean()
    assert 0.18 <= win <= 0.35
    assert set(o["channel"]) == {"direct", "partner"}
    assert o.loc[o["channel"] == "partner", "partner_id"].notna().all()
    assert act["activity_date"].between(T - 364 * DAY, T).all()
    assert set(h["change_type"]) == {"new_account", "rebalance", "attrition", "other"}
    assert h["effective_date"].max() <= T
    # an owner never acts before its hire date, nor a departed rep after leaving
    dates = act.merge(r, on="rep_id")
    assert (dates["activity_date"] >= dates["hire_date"]).all()
    assert (dates["end_date"].isna() | (dates["activity_date"] <= dates["end_date"])).all()
    # the last history row of each account names its current owner
    last = h.groupby("account_id").tail(1).set_index("account_id")["rep_id"]
    owner = demo["accounts"].set_index("account_id")["owner_rep_id"]
    assert last.reindex(owner.index).fillna("-").equals(owner.fillna("-"))


def test_shape_of_the_organisation(demo):
    a, r = demo["accounts"], demo["reps"]
    mix = a["segment"].value_counts(normalize=True).round(2).to_dict()
    assert mix == {"SMB": 0.7, "Mid-Market": 0.25, "Enterprise": 0.05}
    assert 0.15 < (a["source_company"] == "Contoso").mean() < 0.25
    assert 30 <= len(r) <= 60
    assert {"AE", "AM", "SDR", "Partner Manager"} <= set(r["role"])
    assert r.loc[r["role"] == "SDR", "quota"].isna().all()
    managers = set(r["manager_id"].dropna())
    assert not a["owner_rep_id"].isin(managers).any()  # managers own no books
    active = r["rep_id"].isin(active_rep_ids(r, T))
    assert (active & (r["hire_date"] > T - 365 * DAY) & (r["quota"] > 0)).any()  # ramping reps
    assert (~active).any()


def test_same_seed_same_frames_other_seed_other_frames():
    one, two, other = make_company(500, seed=3), make_company(500, seed=3), make_company(500, seed=4)
    for name in one:
        pd.testing.assert_frame_equal(one[name], two[name])
    assert not one["accounts"].equals(other["accounts"])
    assert not one["opportunities"].equals(other["opportunities"])


@pytest.mark.parametrize("n", [200, 20_000])
def test_sizes_scale_with_accounts(n):
    t = make_company(n_accounts=n, seed=5)
    rows = {k: len(v) for k, v in t.items()}
    assert rows["accounts"] == n
    assert 1.0 * n <= rows["opportunities"] <= 2.2 * n
    assert 3.5 * n <= rows["activities"] <= 7 * n
    assert 1.2 * n <= rows["assignment_history"] <= 2.2 * n
    if n >= 10_000:
        assert n / 110 <= rows["reps"] <= n / 55
    names = t["accounts"]["account_name"].str.lower().str.replace(r"[^a-z]", "", regex=True)
    assert names.nunique() > 0.97 * n  # unique up to planted duplicates


def test_names_are_distinct_up_to_legal_suffix_in_healthy_company():
    from diligence import synth

    compounds = [(f + s).lower() for f in synth._NAME_FIRST for s in synth._NAME_SECOND]
    assert len(set(compounds)) == len(compounds)
    a = make_company(n_accounts=20_000, seed=9, profile="healthy")["accounts"]
    key = a["account_name"].str.lower().str.replace(r"\s+(inc|llc|ltd|corp|gmbh)\.?$", "", regex=True)
    assert key.str.replace(r"[^a-z]", "", regex=True).is_unique
    assert a["domain"].dropna().is_unique


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        make_company(profile="sunny")
    with pytest.raises(ValueError):
        make_company(n_accounts=10)


# --- writing ---------------------------------------------------------------------------


def test_write_company_csv_round_trip(tmp_path):
    tables = make_company(n_accounts=300, seed=2)
    out = write_company(tables, tmp_path / "new" / "data")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{name}.csv" for name in tables)
    for name, frame in tables.items():
        back = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(back.columns) == list(frame.columns)
        assert len(back) == len(frame)
        for col in frame.columns:
            assert ((back[col] == "") == frame[col].isna().to_numpy()).all(), (name, col)
    opps = pd.read_csv(out / "opportunities.csv", dtype=str)
    assert opps["created_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(opps["is_won"]) == {"true", "false"}
    reps = pd.read_csv(out / "reps.csv", parse_dates=["hire_date", "end_date"])
    assert (reps["quota"].fillna(0) == tables["reps"]["quota"].fillna(0).to_numpy()).all()
    assert (reps["hire_date"] == tables["reps"]["hire_date"].to_numpy()).all()


def test_write_company_parquet_keeps_types(tmp_path):
    tables = make_company(n_accounts=200, seed=2)
    out = write_company(tables, tmp_path, fmt="parquet")
    back = pd.read_parquet(out / "accounts.parquet")
    assert back["potential"].sum() == tables["accounts"]["potential"].sum()
    assert len(back) == 200
    with pytest.raises(ValueError):
        write_company(tables, tmp_path, fmt="json")


def test_later_quarter_carries_out_part_of_a_plan_and_moves_a_quarter_on():
    from diligence.synth import later_quarter

    before = make_company(n_accounts=400, seed=11)
    accounts = before["accounts"]
    owned = accounts.loc[accounts["owner_rep_id"].notna()].head(40)
    reps = before["reps"]
    target = reps.loc[reps["quota"].fillna(0) > 0, "rep_id"].iloc[0]
    plan = pd.DataFrame({"account_id": owned["account_id"], "to_rep_id": target})
    after = later_quarter(before, DEMO_AS_OF, moves=plan, carried=0.5, seed=3)
    assert later_quarter(before, DEMO_AS_OF, moves=plan, carried=0.5, seed=3)["accounts"].equals(after["accounts"])
    for name, frame in after.items():
        assert list(frame.columns) == list(before[name].columns) and dict(frame.dtypes) == dict(before[name].dtypes)
        key = {"accounts": "account_id", "reps": "rep_id", "opportunities": "opportunity_id"}.get(name)
        if key:
            assert frame[key].is_unique, name
    owner = after["accounts"].set_index("account_id")["owner_rep_id"]
    made = (owner.reindex(plan["account_id"]) == target).mean()
    assert 0.25 <= made <= 0.75
    t0, t1 = pd.Timestamp(DEMO_AS_OF), pd.Timestamp(DEMO_AS_OF) + pd.Timedelta(days=91)
    quarter = after["assignment_history"].loc[lambda h: h["effective_date"] > t0]
    assert quarter["effective_date"].max() <= t1
    assert {"rebalance", "attrition", "new_account"} <= set(quarter["change_type"])
    assert len(after["accounts"]) > len(accounts)
    left = after["reps"]["end_date"].between(t0, t1, inclusive="right")
    hired = after["reps"]["hire_date"].between(t0, t1, inclusive="right")
    assert left.sum() >= 1 and hired.sum() == 3
    assert after["activities"]["activity_date"].max() > t0  # the new quarter was worked too


# --- shapes ---------------------------------------------------------------------------------


def _active_sellers(reps: pd.DataFrame) -> set[str]:
    active = set(active_rep_ids(reps, T))
    return set(reps.loc[reps["rep_id"].isin(active) & (reps["quota"].fillna(0) > 0), "rep_id"])


def test_default_shape_is_the_generators_own():
    one, two = make_company(500, seed=3), make_company(500, seed=3, shape="default")
    for name in one:
        pd.testing.assert_frame_equal(one[name], two[name])


def test_wide_shape_books_of_thousands_across_segments_a_sixth_unowned():
    base = make_company(12_000, seed=4)
    t = make_company(12_000, seed=4, shape="wide")
    a, r = t["accounts"], t["reps"]
    assert (a["owner_rep_id"].isna().mean() - 1 / 6) ** 2 < 0.02**2
    books = a.groupby("owner_rep_id")["account_id"].size()
    assert len(books) == round(12_000 * 5 / 6 / 2000)
    assert books.min() > 1500 and books.max() < 2500
    assert set(books.index) <= _active_sellers(r)
    assert (a.groupby("owner_rep_id")["segment"].nunique() == a["segment"].nunique()).all()
    # only owners change; every other table is the generator's
    pd.testing.assert_frame_equal(a.drop(columns="owner_rep_id"), base["accounts"].drop(columns="owner_rep_id"))
    for name in set(base) - {"accounts"}:
        pd.testing.assert_frame_equal(t[name], base[name])


def test_tiny_shape_ten_thousand_sellers_books_inside_their_segment():
    base = make_company(3000, seed=4)
    t = make_company(3000, seed=4, shape="tiny")
    a, r = t["accounts"], t["reps"]
    assert r["rep_id"].is_unique
    assert len(_active_sellers(r)) >= 10_000
    books = a.groupby("owner_rep_id")["account_id"].size()
    assert books.max() - books.min() <= 1 + books.max() // 2
    assert a["owner_rep_id"].notna().sum() == base["accounts"]["owner_rep_id"].notna().sum()
    rep_segment = r.set_index("rep_id")["segment"]
    owned = a.dropna(subset=["owner_rep_id"])
    assert (owned["segment"].to_numpy() == rep_segment.loc[owned["owner_rep_id"]].to_numpy()).all()
    assert set(base["reps"]["rep_id"]) <= set(r["rep_id"])
    pd.testing.assert_frame_equal(t["opportunities"], base["opportunities"])


def test_rejects_unknown_shape():
    with pytest.raises(ValueError):
        make_company(300, shape="round")
