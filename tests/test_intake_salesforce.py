"""The Salesforce preset on a real Data Loader export, on report exports, and the Maven mapping."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diligence.intake import load_company, preset_names

HERE = Path(__file__).parent
EXCERPT = HERE / "data" / "sfdc_excerpt"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
MAVEN = REALDATA / "maven_crm_sales_opportunities"
MAVEN_MAPPING = HERE.parent / "examples" / "maven_mapping.yaml"


@pytest.fixture(scope="module")
def sfdc():
    return load_company(EXCERPT, mapping="salesforce", as_of="2024-06-30")


def test_presets_are_listed():
    assert "salesforce" in preset_names()


def test_excerpt_keeps_its_raw_format():
    head = (EXCERPT / "Account.csv").read_bytes()[:3]
    assert head == b"\xef\xbb\xbf"  # the byte-order mark of the export
    assert "Salesforce.com" in (EXCERPT / "LICENSE").read_text()


def test_data_loader_export_loads_without_errors(sfdc):
    assert sfdc.errors == []
    assert sfdc.sources == {
        "accounts": "Account.csv",
        "reps": "User.csv",
        "opportunities": "Opportunity.csv",
        "activities": "Task.csv",
    }
    assert len(sfdc.tables["accounts"]) == 22
    assert len(sfdc.tables["opportunities"]) == 50
    assert sfdc.tables["accounts"]["account_id"].iloc[0] == "001Ec00000FzlUdIAJ"  # BOM not in the header
    assert set(sfdc.tables["accounts"]["region"].dropna()) == {"United States"}
    # every opportunity names a known account and a known owner
    assert not [w for w in sfdc.warnings if "name no" in w.message]


def test_stage_derives_closed_and_won(sfdc):
    opps = sfdc.tables["opportunities"]
    by_stage = opps.groupby("stage")[["is_closed", "is_won"]].agg(lambda s: tuple(sorted(set(s.tolist()))))
    assert by_stage.loc["Closed Won"].tolist() == [(True,), (True,)]
    assert by_stage.loc["Closed Lost"].tolist() == [(True,), (False,)]  # IsWon blank in the export
    for stage in ("Qualification", "Negotiation", "Discovery", "Proposal/Quote"):
        assert by_stage.loc[stage].tolist() == [(False,), (False,)]  # IsClosed and IsWon blank
    assert opps["is_won"].sum() == 12 and opps["is_closed"].sum() == 15


def test_timestamps_count_as_their_date(sfdc):
    opps = sfdc.tables["opportunities"]
    assert set(opps["created_date"]) == {pd.Timestamp("2024-01-22")}
    assert opps.loc[opps["opportunity_id"] == "006Ec00000AieKFIAZ", "close_date"].item() == pd.Timestamp("2024-11-10")


def test_tasks_use_account_id_and_set_aside_contact_tasks(sfdc):
    acts = sfdc.tables["activities"]
    assert len(acts) == 36 and acts["account_id"].str.startswith("001").all()
    assert len(sfdc.set_aside["activities"]) == 39
    aside = [w for w in sfdc.warnings if w.table == "activities" and w.column == "account_id"]
    assert len(aside) == 1 and aside[0].count == 39 and aside[0].rows == (2, 3, 5, 7, 8)


def test_users_map_to_reps_and_inactive_users_depart(sfdc):
    reps = sfdc.tables["reps"].set_index("rep_id")
    assert reps.loc["005Ec000004oBPNIA2", "rep_name"] == "Dana Whitfield"
    assert reps.loc["005Ec000004oBPNIA2", "manager_id"] == "005Ec000004pQrSIAU"
    assert reps.loc["005Ec000004o8yHIAQ", "end_date"] == pd.Timestamp("2024-06-30")
    assert pd.isna(reps.loc["005Ec000004oBPNIA2", "end_date"])


def test_report_exports_with_labels(tmp_path):
    (tmp_path / "accounts.csv").write_text(
        '"Account ID","Account Name","Account Owner ID","Billing Country","Annual Revenue","Website"\n'
        '"001A","Acme, Inc.","005X","France","$1,200,000","acme.example"\n'
        '"001B","Beta","005Y","Spain","","beta.example"\n',
        encoding="utf-8-sig",
    )
    (tmp_path / "reps.csv").write_text(
        '"User ID","Full Name","Active","Role"\n"005X","Ann","1","AE West"\n"005Y","Bob","0",""\n'
    )
    (tmp_path / "opportunities.csv").write_text(
        '"Opportunity ID","Account ID","Opportunity Owner ID","Amount","Stage","Created Date","Close Date","Closed","Won"\n'
        '"006A","001A","005X","USD 1,234.00","Closed Won","1/22/2024","3/15/2024 4:14 PM","1","1"\n'
        '"006B","001B","005Y","EUR 10.00","Proposal","12/01/2023","","0","0"\n'
    )
    intake = load_company(tmp_path, mapping="salesforce", as_of="2024-06-30")
    assert intake.errors == []
    accounts, opps, reps = (intake.tables[t] for t in ("accounts", "opportunities", "reps"))
    assert accounts["account_name"].tolist() == ["Acme, Inc.", "Beta"]
    assert accounts["annual_revenue"].tolist()[0] == 1_200_000
    assert accounts["region"].tolist() == ["France", "Spain"]
    assert opps["amount"].tolist() == [1234.0, 10.0]
    assert opps["created_date"].tolist() == [pd.Timestamp("2024-01-22"), pd.Timestamp("2023-12-01")]
    assert opps["close_date"].tolist()[0] == pd.Timestamp("2024-03-15")
    assert opps["is_won"].tolist() == [True, False]
    assert reps["role"].tolist() == ["AE West", "AE"]
    assert reps["end_date"].isna().tolist() == [True, False]


def test_mapping_file_extends_the_preset(tmp_path):
    (tmp_path / "Account.csv").write_text("Id,Name,Tier__c\nA1,Alpha,Gold\n")
    (tmp_path / "User.csv").write_text("Id,Name\nU1,Ann\n")
    (tmp_path / "mapping.yaml").write_text("preset: salesforce\naccounts:\n  Tier__c: segment\n")
    intake = load_company(tmp_path)
    assert intake.errors == []
    assert intake.tables["accounts"]["segment"].tolist() == ["Gold"]


@pytest.mark.skipif(not MAVEN.is_dir(), reason="the Maven data set is not beside the repository")
def test_maven_example_mapping_gives_warnings_only():
    intake = load_company(MAVEN, mapping=MAVEN_MAPPING, as_of="2017-12-31")
    assert intake.errors == []
    assert len(intake.tables["accounts"]) == 85 and len(intake.tables["reps"]) == 35
    assert "owner_rep_id" not in intake.tables["accounts"]
    aside = [w for w in intake.warnings if w.table == "opportunities" and "set aside" in w.message]
    assert sum(w.count for w in aside) == len(intake.set_aside["opportunities"]) > 1000
    assert any(w.column == "amount" and "counted as 0" in w.message for w in intake.warnings)
    assert any(w.file == "products.csv" and "ignored" in w.message for w in intake.warnings)
    opps = intake.tables["opportunities"]
    assert set(opps.loc[opps["stage"] == "Won", "is_won"]) == {True}
    assert set(opps.loc[opps["stage"] == "Engaging", "is_closed"]) == {False}


def test_large_tables_are_read_without_row_loops(tmp_path):
    rng = np.random.default_rng(1)
    n_acc, n_act = 20_000, 200_000
    pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(n_acc)],
            "account_name": "x",
            "owner_rep_id": rng.choice(["R1", "R2"], n_acc),
            "potential": rng.random(n_acc).round(2),
        }
    ).to_csv(tmp_path / "accounts.csv", index=False)
    pd.DataFrame({"rep_id": ["R1", "R2"], "rep_name": ["a", "b"]}).to_csv(tmp_path / "reps.csv", index=False)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 500, n_act), unit="D")
    pd.DataFrame(
        {
            "activity_id": np.arange(n_act),
            "account_id": "A" + pd.Series(rng.integers(0, n_acc, n_act)).astype(str),
            "activity_date": days.strftime("%m/%d/%Y %I:%M %p"),
        }
    ).to_csv(tmp_path / "activities.csv", index=False)
    start = time.perf_counter()
    intake = load_company(tmp_path, as_of="2025-12-31")
    assert time.perf_counter() - start < 20
    assert intake.errors == [] and len(intake.tables["activities"]) == n_act
    assert intake.tables["activities"]["activity_date"].min() >= pd.Timestamp("2024-01-01")
