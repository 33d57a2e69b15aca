"""The modelled potential: its measures on hand-built scores, and validation on time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from diligence.metrics.potential_model import (
    calibration,
    feature_frame,
    model_potential,
    rank_difference,
    top_decile_lift,
    weighted_auc,
    year_outcome,
)

T = pd.Timestamp("2026-06-30")


def test_auc_matches_scikit_learn_with_ties_and_weights_repeat_rows():
    rng = np.random.default_rng(1)
    score = rng.integers(0, 8, 300).astype(float)  # many ties
    positive = rng.random(300) < 0.3
    assert weighted_auc(score, positive) == pytest.approx(roc_auc_score(positive, score))
    w = rng.integers(0, 4, 300)
    repeated = np.repeat(np.arange(300), w)
    assert weighted_auc(score, positive, w) == pytest.approx(roc_auc_score(positive[repeated], score[repeated]))
    assert weighted_auc(score, np.zeros(300, bool)) is None


def test_top_decile_lift_by_hand():
    score = np.arange(20, 0, -1).astype(float)
    positive = np.zeros(20, bool)
    positive[[0, 1, 10, 15]] = True  # the top tenth (2 rows) all won; 4 of 20 overall
    assert top_decile_lift(score, positive) == pytest.approx(1.0 / 0.2)
    assert top_decile_lift(score, np.zeros(20, bool)) is None


def test_calibration_deciles_highest_first():
    score = np.arange(100, dtype=float)
    frame = calibration(score, score * 2)
    assert frame["decile"].tolist() == list(range(1, 11))
    assert frame["accounts"].eq(10).all()
    assert frame.loc[0, "predicted"] == pytest.approx(94.5) and frame.loc[0, "actual"] == pytest.approx(189.0)


def test_year_outcome_window_edges():
    ids = pd.Index(["A", "B", "C", "D"], name="account_id")
    activities = pd.DataFrame(
        {"account_id": ["A", "B"], "activity_date": [T, T - pd.Timedelta(days=365)]}
    )  # A on T counts; B exactly a year before does not
    opportunities = pd.DataFrame(
        {
            "account_id": ["C", "C", "D"],
            "amount": [100.0, 50.0, 70.0],
            "created_date": [T - pd.Timedelta(days=400)] * 3,
            "close_date": [T - pd.Timedelta(days=10), T - pd.Timedelta(days=364), T - pd.Timedelta(days=365)],
            "is_won": [True, True, True],
        }
    )
    out = year_outcome(ids, opportunities, activities, T)
    assert out["worked"].tolist() == [True, False, True, False]
    assert out["bookings"].tolist() == [0.0, 0.0, 150.0, 0.0]


def test_feature_frame_types_text_as_categories_and_partner_coverage():
    accounts = pd.DataFrame(
        {
            "account_id": ["A", "B"],
            "segment": ["SMB", None],
            "employees": [10, None],
            "partner_id": [None, "P1"],
            "tier": ["gold", "silver"],
        }
    )
    frame = feature_frame(accounts, extra=["tier", "missing_column"])
    assert list(frame.columns) == ["partner_covered", "segment", "employees", "tier"]
    assert isinstance(frame["segment"].dtype, pd.CategoricalDtype) and frame["segment"].isna().tolist() == [False, True]
    assert frame["partner_covered"].tolist() == [0, 1]


def company(n: int = 4000, *, driven: bool, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Accounts worked at random each year; wins follow size and industry (``driven``) or a coin."""
    rng = np.random.default_rng(seed)
    employees = np.exp(rng.normal(4, 1.2, n)).round()
    industry = rng.choice(["Software", "Retail", "Health", "Energy", "Finance"], n)
    lift = pd.Series(industry).map({"Software": 1.0, "Retail": -1.0, "Health": 0.5, "Energy": -0.5, "Finance": 0.0})
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:05d}" for i in range(n)],
            "segment": np.where(employees > 200, "Enterprise", "SMB"),
            "region": rng.choice(["EMEA", "AMER"], n),
            "industry": industry,
            "employees": employees,
            "annual_revenue": employees * 1e5 * rng.lognormal(0, 0.3, n),
            "partner_id": None,
        }
    )
    opps, acts = [], []
    for year_end in (T - pd.Timedelta(days=365), T):
        worked = rng.random(n) < 0.6
        logit = 1.4 * (np.log(employees) - 4) + 1.2 * lift.to_numpy() - 1.0 if driven else np.full(n, -1.0)
        won = worked & (rng.random(n) < 1 / (1 + np.exp(-logit)))
        idx = np.flatnonzero(worked)
        close = year_end - pd.to_timedelta(rng.integers(1, 300, len(idx)), unit="D")
        opps.append(
            pd.DataFrame(
                {
                    "account_id": accounts["account_id"].to_numpy()[idx],
                    "amount": (employees[idx] * 50 if driven else np.full(len(idx), 5000.0)),
                    "created_date": close - pd.Timedelta(days=40),
                    "close_date": close,
                    "is_won": won[idx],
                }
            )
        )
        acts.append(pd.DataFrame({"account_id": accounts["account_id"].to_numpy()[idx], "activity_date": close}))
    return accounts, pd.concat(opps, ignore_index=True), pd.concat(acts, ignore_index=True)


def test_model_validates_where_firmographics_drive_wins_and_is_repeatable():
    accounts, opps, acts = company(driven=True)
    model = model_potential(accounts, opps, acts, T, rounds=50)
    assert model.used, model.reason
    assert model.auc >= 0.70 and model.auc_low <= model.auc <= model.auc_high
    assert model.top_decile_lift > 1.5
    assert model.n_train > 1000 and model.n_test > 1000
    assert model.potential.index.equals(pd.Index(accounts["account_id"], name="account_id"))
    # calibrated enough to rank: the top decile yields more than the bottom one
    cal = model.calibration.set_index("decile")
    assert cal.loc[1, "actual"] > cal.loc[10, "actual"]
    again = model_potential(accounts, opps, acts, T, rounds=50)
    assert again.card() == model.card() and again.potential.equals(model.potential)


def test_model_is_not_used_where_wins_are_random():
    accounts, opps, acts = company(driven=False)
    model = model_potential(accounts, opps, acts, T, rounds=20)
    assert not model.used and model.potential is None
    assert model.auc is not None and model.auc < 0.60
    assert "AUC" in model.reason and "below" in model.reason


def test_too_few_training_wins_is_said():
    accounts, opps, acts = company(n=200, driven=True)
    model = model_potential(accounts, opps, acts, T, min_train_wins=500)
    assert not model.used and "training year" in model.reason and model.auc is None
    assert model_potential(accounts, None, acts, T).reason == "there are no opportunities to learn from"


def test_rank_difference_overlap_and_correlation():
    a = pd.Series([5.0, 4, 3, 2, 1], index=list("abcde"))
    assert rank_difference(a, a) == {"top_overlap": 1.0, "rank_corr": pytest.approx(1.0)}
    flipped = rank_difference(a, -a, top=0.4)
    assert flipped["top_overlap"] == 0.0 and flipped["rank_corr"] == pytest.approx(-1.0)


# ---------------------------------------------------------------- the run's choice of basis


def test_choose_basis_follows_the_parameter_and_the_validation():
    from diligence.metrics.potential_model import PotentialModel, choose_basis

    with_column = pd.DataFrame({"account_id": ["A"], "potential": [1.0]})
    without = pd.DataFrame({"account_id": ["A"], "annual_revenue": [5.0]})
    good = PotentialModel(True, "validated", auc=0.8, potential=pd.Series([2.0], index=["A"]))
    bad = PotentialModel(False, "the holdout AUC is 0.52, below the 0.60 it must reach", auc=0.52)
    assert choose_basis(with_column, good, None)[0] == "column"
    assert choose_basis(with_column, good, "model")[0] == "model"
    assert choose_basis(with_column, good, "proxy")[0] == "proxy"
    assert choose_basis(without, good, None)[0] == "model"
    basis, why = choose_basis(without, bad, None)
    assert basis == "proxy" and "0.52" in why
    assert choose_basis(without, bad, "model")[0] == "proxy"


def test_apply_basis_gives_every_step_the_chosen_potential():
    from diligence.metrics import coverage
    from diligence.metrics.potential_model import PotentialModel, apply_basis

    accounts = pd.DataFrame(
        {"account_id": ["A", "B"], "potential": [1.0, 3.0], "annual_revenue": [10.0, 5.0], "modelled_potential": [9, 9]}
    )
    model = PotentialModel(True, "validated", potential=pd.Series([7.0, 2.0], index=["A", "B"]))
    as_model = apply_basis(accounts, "model", model)
    assert coverage.potential_basis_code(as_model) == "model"
    assert coverage.account_potential(as_model).tolist() == [7.0, 2.0]
    as_column = apply_basis(accounts, "column", model)
    assert coverage.potential_basis_code(as_column) == "column"  # a client column named like ours is not trusted
    assert coverage.account_potential(as_column).tolist() == [1.0, 3.0]
    as_proxy = apply_basis(accounts, "proxy", model)
    assert coverage.potential_basis_code(as_proxy) == "proxy:annual_revenue"
    assert coverage.account_potential(as_proxy).tolist() == [10.0, 5.0]


def test_prepare_writes_the_card_and_the_modelled_accounts(tmp_path):
    from diligence.execution import potential
    from diligence.metrics import coverage
    from diligence.params import Params

    accounts, opps, acts = company(driven=True)
    params = Params.resolve({"as_of": str(T.date())})
    tables = potential.prepare({"accounts": accounts, "opportunities": opps, "activities": acts}, params, tmp_path)
    info = potential.read(tmp_path)
    assert info["basis"] == "model" and info["card"]["used"] and info["card"]["auc"] >= 0.7
    assert coverage.potential_basis_code(tables["accounts"]) == "model"
    assert info["scores"].index.equals(pd.Index(accounts["account_id"], name="account_id"))
    assert list(info["calibration"]["decile"]) == list(range(1, 11))


def test_a_potential_source_the_data_cannot_honour_is_refused():
    from diligence.errors import InputError
    from diligence.execution import potential
    from diligence.params import Params

    accounts = pd.DataFrame({"account_id": ["A"], "segment": ["SMB"]})
    with pytest.raises(InputError, match="no potential values"):
        potential.check({"accounts": accounts}, Params.resolve({"potential_source": "column"}))
    with pytest.raises(InputError, match="tier"):
        potential.check({"accounts": accounts}, Params.resolve({"potential_model": {"features": ["tier"]}}))
    for bad in ({"potential_source": "guess"}, {"potential_model": {"min_auc": 0.3}}, {"potential_model": {"x": 1}}):
        with pytest.raises(InputError):
            Params.resolve(bad)


def test_client_check_rank_correlation_and_top_decile_share():
    from diligence.metrics.potential_model import client_check

    accounts = pd.DataFrame({"account_id": [f"A{i:02d}" for i in range(20)], "potential": np.arange(20.0)})
    bookings = pd.Series(np.where(np.arange(20) >= 18, 100.0, 0.0), index=accounts["account_id"])
    out = client_check(accounts, bookings)
    assert out["top_decile_share"] == pytest.approx(1.0)  # the two highest potentials booked everything
    assert out["rank_corr"] == pytest.approx(
        pd.Series(np.arange(20.0)).corr(pd.Series(bookings.values), method="spearman")
    )
    assert client_check(accounts.drop(columns="potential"), bookings) == {}


def test_strong_but_idle_lists_top_fifth_accounts_nobody_works(params):
    from diligence.metrics import coverage
    from tests.helpers import T as AS_OF

    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(10)],
            "account_name": [f"Acc {i}" for i in range(10)],
            "owner_rep_id": ["R1"] * 5 + [None] * 5,
            "partner_id": [None] * 10,
            "segment": ["SMB"] * 10,
            "region": ["EMEA"] * 10,
            "potential": [100.0, 90, 80, 1, 1, 95, 1, 1, 1, 1],
        }
    )
    reps = pd.DataFrame(
        {"rep_id": ["R1"], "rep_name": ["Rita"], "hire_date": [pd.Timestamp("2020-01-01")], "end_date": [pd.NaT],
         "segment": ["SMB"], "role": ["AE"], "quota": [1.0], "level": ["mid"], "region": ["EMEA"]}
    )  # fmt: skip
    activities = pd.DataFrame(
        {"activity_id": ["X"], "account_id": ["A0"], "rep_id": ["R1"], "activity_date": [pd.Timestamp(AS_OF)], "type": ["call"]}
    )  # fmt: skip
    tables = {"accounts": accounts, "reps": reps, "activities": activities}
    idle = coverage.strong_but_idle(tables, params)
    # top fifth = A0 (worked), A5: only A5 is idle, and it has no owner
    assert idle["account_id"].tolist() == ["A5"] and idle["reason"].tolist() == ["no active owner"]
    share = coverage.strong_but_idle_share(tables, params)
    assert share["accounts"] == 1 and share["potential_share"] == pytest.approx(95 / 371)


def test_random_wins_give_the_proxy_and_the_report_says_why(tmp_path):
    from diligence.execution import potential
    from diligence.metrics import coverage
    from diligence.params import Params
    from diligence.report.narrative import market_potential

    accounts, opps, acts = company(driven=False)
    params = Params.resolve({"as_of": str(T.date())})
    tables = potential.prepare({"accounts": accounts, "opportunities": opps, "activities": acts}, params, tmp_path)
    info = potential.read(tmp_path)
    assert info["basis"] == "proxy" and not info["card"]["used"] and info["scores"] is None
    assert coverage.potential_basis_code(tables["accounts"]) == "proxy:annual_revenue"
    said = market_potential(info, {}, None, {}, params)
    assert "the proxy: the modelled potential was not used because the holdout AUC is" in said[0]


def test_client_columns_the_mapping_keeps_reach_the_model(tmp_path):
    from diligence.errors import InputError
    from diligence.intake import load_company
    from diligence.synth import DEMO_AS_OF, make_company, write_company

    data = write_company(make_company(n_accounts=300, seed=2), tmp_path / "data")
    accounts = pd.read_csv(data / "accounts.csv")
    accounts["Tier"] = np.where(np.arange(len(accounts)) % 3 == 0, "gold", "silver")
    accounts["Seats Licensed"] = np.arange(len(accounts))
    accounts.to_csv(data / "accounts.csv", index=False)
    (data / "mapping.yaml").write_text("keep:\n  accounts: [Tier, Seats Licensed]\n")
    intake = load_company(data, as_of=DEMO_AS_OF)
    assert not intake.errors
    kept = intake.tables["accounts"]
    assert kept["tier"].tolist()[:3] == ["gold", "silver", "silver"]
    assert kept["seats_licensed"].tolist()[:3] == [0.0, 1.0, 2.0]
    assert list(feature_frame(kept, ["tier", "seats_licensed"]).columns)[-2:] == ["tier", "seats_licensed"]
    (data / "mapping.yaml").write_text("keep:\n  accounts: [Segment]\n")
    with pytest.raises(InputError, match="not a contract column"):
        load_company(data, as_of=DEMO_AS_OF)
