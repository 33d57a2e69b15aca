"""The HubSpot and Dynamics 365 presets on exports written as those CRMs write them.

The fixtures (tests/data/hubspot_excerpt, tests/data/dynamics365_excerpt) keep
the CRMs' file names, labels and value formats: HubSpot's dated export names,
stage ids beside stage labels, owners as names; Dynamics' field names (GUIDs,
statecode numbers) and its "Export to Excel" labels (names, Won/Lost/Open).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from diligence.errors import InputError
from diligence.intake import load_company, preset_names
from diligence.intake.mapping import load_mapping
from diligence.intake.owners import disambiguate_reps, name_key, resolve_owner_names
from tests.conftest import run_cli

HERE = Path(__file__).parent
HUBSPOT = HERE / "data" / "hubspot_excerpt"
DYNAMICS = HERE / "data" / "dynamics365_excerpt"
AS_OF = "2026-09-30"


def _text(values: list) -> pd.Series:
    return pd.Series(values, dtype="string")


@pytest.fixture(scope="module")
def hubspot():
    return load_company(HUBSPOT, mapping="hubspot", as_of=AS_OF)


@pytest.fixture(scope="module")
def dynamics_fields():
    return load_company(DYNAMICS / "field_names", mapping="dynamics365", as_of=AS_OF)


@pytest.fixture(scope="module")
def dynamics_labels():
    return load_company(DYNAMICS / "excel_labels", mapping="dynamics365", as_of=AS_OF)


def test_presets_are_listed():
    assert {"salesforce", "hubspot", "dynamics365"} <= set(preset_names())


# --------------------------------------------------------------------------- HubSpot


def test_hubspot_files_are_found_by_their_dated_export_names(hubspot):
    assert hubspot.errors == []
    assert hubspot.sources == {
        "accounts": "hubspot-crm-exports-all-companies-2026-09-30.csv",
        "reps": "owners.csv",
        "opportunities": "hubspot-crm-exports-all-deals-2026-09-30.csv",
        "activities": "hubspot-crm-exports-all-calls-2026-09-30.csv"
        " + hubspot-crm-exports-all-meetings-2026-09-30.csv"
        " + hubspot-crm-exports-all-emails-2026-09-30.csv",
    }


def test_hubspot_companies_read_as_accounts(hubspot):
    accounts = hubspot.tables["accounts"].set_index("account_id")
    assert accounts.index.tolist() == ["9001001", "9001002", "9001003", "9001004", "9001005"]
    assert accounts.loc["9001001", "account_name"] == "Acme, Inc."
    assert accounts.loc["9001001", "annual_revenue"] == 1_200_000  # "$1,200,000.00"
    assert accounts.loc["9001002", "employees"] == 1200  # "1,200"
    assert accounts.loc["9001004", "annual_revenue"] == 750_000.5
    assert accounts.loc["9001002", "region"] == "Germany"
    assert accounts.loc["9001005", "domain"] == "hooli.example"
    assert pd.isna(accounts.loc["9001003", "owner_rep_id"])  # no owner: unassigned, not an error


def test_hubspot_stage_ids_and_labels_give_closed_and_won(hubspot):
    opps = hubspot.tables["opportunities"].set_index("opportunity_id")
    outcome = opps[["stage", "is_closed", "is_won"]].astype(object)
    assert outcome.loc["7001"].tolist() == ["closedwon", True, True]
    assert outcome.loc["7002"].tolist() == ["Closed Won", True, True]
    assert outcome.loc["7003"].tolist() == ["closedlost", True, False]
    assert outcome.loc["7006"].tolist() == ["Closed Lost", True, False]
    assert outcome.loc["7004"].tolist() == ["Contract Sent", False, False]
    assert opps.loc["7001", "amount"] == 1200.5 and opps.loc["7004", "amount"] == 25_000
    assert opps.loc["7001", "created_date"] == pd.Timestamp("2026-01-05")  # "2026-01-05 09:12"
    assert opps.loc["7006", "pipeline"] == "Partner Pipeline"  # kept beside the contract
    # the deal tied to no company is set aside, with its row in the export
    (aside,) = [w for w in hubspot.warnings if w.table == "opportunities" and w.column == "account_id"]
    assert aside.count == 1 and aside.rows == (6,)


def test_hubspot_owners_are_names_that_join_the_users(hubspot):
    reps = hubspot.tables["reps"].set_index("rep_id")
    assert reps.index.tolist() == ["Jane Doe", "Raj Patel", "Mark Old"]
    assert reps.loc["Mark Old", "end_date"] == pd.Timestamp("2026-02-28")
    for table, column in (("accounts", "owner_rep_id"), ("opportunities", "owner_rep_id"), ("activities", "rep_id")):
        owners = hubspot.tables[table][column].dropna()
        assert owners.isin(reps.index).all(), (table, owners.tolist())
    assert not [w for w in hubspot.warnings if "name no" in w.message]


def test_hubspot_activities_stack_calls_meetings_and_emails(hubspot):
    acts = hubspot.tables["activities"]
    assert sorted(acts["activity_id"]) == ["51001", "51002", "51003", "52001", "52002", "53001"]
    assert acts.set_index("activity_id").loc["52001", "activity_date"] == pd.Timestamp("2026-09-29")


def test_hubspot_renamed_files_and_a_contract_reps_file_beside_them(tmp_path):
    """A consultant renames the exports and adds reps.csv in contract form (quotas, hire dates)."""
    renames = {
        "hubspot-crm-exports-all-companies-2026-09-30.csv": "companies.csv",
        "hubspot-crm-exports-all-deals-2026-09-30.csv": "deals.csv",
        "hubspot-crm-exports-all-calls-2026-09-30.csv": "calls.csv",
    }
    for old, new in renames.items():
        shutil.copy(HUBSPOT / old, tmp_path / new)
    (tmp_path / "reps.csv").write_text(
        "rep_id,rep_name,segment,hire_date,end_date,quota\n"
        "Jane Doe,Jane Doe,Enterprise,2022-04-01,,900000\n"
        "Raj Patel,Raj Patel,Mid-Market,2025-10-01,,600000\n"
        "Mark Old,Mark Old,Enterprise,2019-01-07,2026-02-28,900000\n"
    )
    intake = load_company(tmp_path, mapping="hubspot", as_of=AS_OF)
    assert intake.errors == []
    assert intake.sources["reps"] == "reps.csv" and intake.sources["accounts"] == "companies.csv"
    reps = intake.tables["reps"].set_index("rep_id")
    assert reps.loc["Raj Patel", "quota"] == 600_000
    assert reps.loc["Raj Patel", "hire_date"] == pd.Timestamp("2025-10-01")
    assert intake.tables["opportunities"]["owner_rep_id"].dropna().isin(reps.index).all()


def test_hubspot_owner_names_match_whatever_their_case_and_spacing(tmp_path):
    shutil.copytree(HUBSPOT, tmp_path / "data")
    deals = tmp_path / "data" / "hubspot-crm-exports-all-deals-2026-09-30.csv"
    deals.write_text(deals.read_text().replace(",Jane Doe,", ",jane  DOE ,").replace(",Raj Patel,", ",Who Else,", 1))
    intake = load_company(tmp_path / "data", mapping="hubspot", as_of=AS_OF)
    opps = intake.tables["opportunities"].set_index("opportunity_id")
    assert opps.loc["7001", "owner_rep_id"] == "Jane Doe"  # resolved to the rep as the users file writes it
    assert opps.loc["7002", "owner_rep_id"] == "Who Else"  # kept as written, and reported
    (unknown,) = [w for w in intake.warnings if w.table == "opportunities" and "name no owner" in w.message]
    assert unknown.count == 1 and "Who Else" in unknown.message


def test_a_name_two_users_share_is_a_counted_warning(tmp_path):
    shutil.copytree(HUBSPOT, tmp_path / "data")
    owners = tmp_path / "data" / "owners.csv"
    owners.write_text(owners.read_text() + "Jane Doe,Jane,Doe,jane.doe2@seller.example,Sales Rep,SMB,2026-09-30,\n")
    intake = load_company(tmp_path / "data", mapping="hubspot", as_of=AS_OF)
    assert intake.errors == []  # not a duplicate key: two people
    reps = intake.tables["reps"]
    assert reps["rep_id"].tolist() == ["Jane Doe", "Raj Patel", "Mark Old", "Jane Doe (2)"]
    (shared,) = [w for w in intake.warnings if w.table == "reps" and "share their name" in w.message]
    assert shared.count == 2 and shared.rows == (2, 5)
    ambiguous: dict[str, int] = {}
    for w in intake.warnings:
        if "more than one rep holds" in w.message:  # one warning per file
            ambiguous[w.table] = ambiguous.get(w.table, 0) + w.count
    assert ambiguous == {"accounts": 2, "opportunities": 2, "activities": 4}  # 7005 is set aside


def test_validate_with_the_hubspot_preset(tmp_path):
    result = run_cli("validate", HUBSPOT, "--mapping", "hubspot", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "hubspot-crm-exports-all-deals-2026-09-30.csv" in result.stdout
    assert "0 error(s)" in result.stdout


# --------------------------------------------------------------------------- Dynamics 365


def test_dynamics_field_names_read_guids_statecodes_and_fallbacks(dynamics_fields):
    intake = dynamics_fields
    assert intake.errors == []
    assert intake.sources == {
        "accounts": "account.csv",
        "reps": "systemuser.csv",
        "opportunities": "opportunity.csv",
        "activities": "activitypointer.csv",
    }
    opps = intake.tables["opportunities"].set_index("opportunity_id").sort_index()
    ids = opps.index.str[-1].tolist()
    assert ids == ["1", "2", "3"]
    assert opps["is_closed"].tolist() == [True, True, False]  # statecode 1 won, 2 lost, 0 open
    assert opps["is_won"].tolist() == [True, False, False]
    # actual value and close date where Dynamics has them, else the estimates
    assert opps["amount"].tolist() == [52_500, 20_000, 8_000]
    assert opps["close_date"].tolist() == [pd.Timestamp(d) for d in ("2026-07-14", "2026-05-20", "2026-12-20")]
    # parentaccountid blank: the customer (customerid) is the account
    assert opps["account_id"].iloc[2] == "a1f0c3e2-0003-4b7e-9a11-000000000003"
    assert opps["created_date"].iloc[0] == pd.Timestamp("2026-01-15")


def test_dynamics_disabled_users_depart_and_activities_are_filtered(dynamics_fields):
    reps = dynamics_fields.tables["reps"].set_index("rep_name")
    assert reps.loc["Sam Former", "end_date"] == pd.Timestamp(AS_OF)  # isdisabled True, no end date
    assert reps["end_date"].notna().sum() == 1
    assert reps.loc["Alex Wu", "manager_id"] == reps.loc["Dana Lee", "rep_id"]
    acts = dynamics_fields.tables["activities"]
    # the email regarding an opportunity and the open (statecode 0) call are left out by the filters
    assert sorted(acts["activity_id"].str[-1]) == ["1", "2"]
    left_out = [w for w in dynamics_fields.warnings if "left out by the mapping's filter" in w.message]
    assert sorted(w.count for w in left_out) == [1, 1]


def test_dynamics_excel_export_uses_names_and_status_words(dynamics_labels):
    intake = dynamics_labels
    assert intake.errors == []
    accounts = intake.tables["accounts"].set_index("account_id")
    assert "Contoso Ltd" in accounts.index and accounts.loc["Contoso Ltd", "annual_revenue"] == 25_000_000
    reps = intake.tables["reps"].set_index("rep_id")
    assert reps.loc["Alex Wu", "manager_id"] == "Dana Lee"
    opps = intake.tables["opportunities"].set_index("opportunity_id").sort_index()
    assert opps["is_closed"].tolist() == [True, True, False, False, True]  # Won, Lost, Open, Open, Lost
    assert opps["is_won"].tolist() == [True, False, False, False, False]
    assert opps["account_id"].tolist() == [
        "Contoso Ltd",
        "Fabrikam Inc",
        "Litware",
        "Northwind Traders",
        "Adventure Works",
    ]
    assert opps["close_date"].iloc[2] == pd.Timestamp("2026-11-15")  # open: the estimated close date
    assert opps["status_reason"].iloc[1] == "Out-Sold"
    for table in ("accounts", "opportunities"):
        assert intake.tables[table]["owner_rep_id"].dropna().isin(reps.index).all()


# --------------------------------------------------------------------------- the same data as contract CSVs


def test_hubspot_gives_the_tables_of_the_same_data_in_contract_form(hubspot, tmp_path):
    (tmp_path / "accounts.csv").write_text(
        "account_id,account_name,owner_rep_id,region,industry,employees,annual_revenue,domain\n"
        '9001001,"Acme, Inc.",Jane Doe,United States,Computer Software,250,1200000,acme.example\n'
        "9001002,Globex GmbH,Raj Patel,Germany,Industrial Automation,1200,,globex.example\n"
        "9001003,Initech,,United States,Financial Services,,5000000,initech.example\n"
        "9001004,Umbrella Corp,Mark Old,United Kingdom,,80,750000.5,umbrella.example\n"
        "9001005,Hooli,Jane Doe,United States,Internet,3400,90000000,hooli.example\n"
    )
    (tmp_path / "reps.csv").write_text(
        "rep_id,rep_name,end_date\nJane Doe,Jane Doe,\nRaj Patel,Raj Patel,\nMark Old,Mark Old,2026-02-28\n"
    )
    (tmp_path / "opportunities.csv").write_text(
        "opportunity_id,account_id,owner_rep_id,amount,stage,created_date,close_date\n"
        "7001,9001001,Jane Doe,1200.5,closedwon,2026-01-05,2026-05-10\n"
        "7002,9001002,Raj Patel,48000,Closed Won,2026-02-11,2026-08-01\n"
        "7003,9001003,Raj Patel,15000,closedlost,2026-03-01,2026-06-15\n"
        "7004,9001005,Jane Doe,25000,Contract Sent,2026-07-20,2026-11-30\n"
        "7006,9001004,Mark Old,9000,Closed Lost,2025-11-20,2026-04-02\n"
    )
    (tmp_path / "activities.csv").write_text(
        "activity_id,account_id,rep_id,activity_date\n"
        "51001,9001001,Jane Doe,2026-09-12\n51002,9001002,Raj Patel,2026-08-20\n51003,9001003,Raj Patel,2026-06-15\n"
        "52001,9001005,Jane Doe,2026-09-29\n52002,9001001,Jane Doe,2026-07-02\n53001,9001001,Jane Doe,2026-09-25\n"
    )
    clean = load_company(tmp_path, as_of=AS_OF)
    assert clean.errors == []
    for table, key in (
        ("accounts", "account_id"),
        ("reps", "rep_id"),
        ("opportunities", "opportunity_id"),
        ("activities", "activity_id"),
    ):
        expected = clean.tables[table].sort_values(key).reset_index(drop=True)
        got = hubspot.tables[table].sort_values(key).reset_index(drop=True)[expected.columns]
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=table)


# --------------------------------------------------------------------------- the mapping keys the presets use


def test_values_translate_and_coalesce_fills_from_the_next_source(tmp_path):
    (tmp_path / "accounts.csv").write_text("account_id,account_name,owner_rep_id\nA,Alpha,R1\nB,Beta,R1\n")
    (tmp_path / "reps.csv").write_text("rep_id,rep_name\nR1,Ann\n")
    (tmp_path / "opportunities.csv").write_text(
        "id,account_id,owner_rep_id,created_date,Actual,Estimate,Outcome\n"
        "O1,A,R1,2024-01-01,100,90,  WON \nO2,B,R1,2024-01-01,,75,Lost\n"
        "O3,B,R1,2024-01-01,,,open\nO4,A,R1,2024-01-01,5,,Pending\n"
    )
    (tmp_path / "mapping.yaml").write_text(
        "opportunities:\n  id: opportunity_id\n  Actual: amount\n  Estimate: amount\n"
        "  Outcome: [is_closed, is_won]\n"
        "coalesce:\n  opportunities: [amount]\n"
        "values:\n  opportunities:\n"
        "    is_closed: {won: true, lost: true, open: false, pending: null}\n"
        "    is_won: {won: true, lost: false, open: false, pending: null}\n"
    )
    intake = load_company(tmp_path)
    assert intake.errors == []
    opps = intake.tables["opportunities"].set_index("opportunity_id")
    assert opps.loc["O1", "amount"] == 100 and opps.loc["O2", "amount"] == 75
    assert opps.loc["O3", "amount"] == 0  # neither source filled: a blank amount, counted as 0 and warned
    assert opps["is_won"].astype(object).tolist()[:3] == [True, False, False]
    assert opps.loc["O2", "is_closed"] and not opps.loc["O3", "is_closed"]
    assert pd.isna(opps.loc["O4", "is_won"])  # "Pending" maps to null: blank, not a guess
    (entry,) = [f for f in intake.files if f["table"] == "opportunities"]
    assert entry["columns"]["amount"] == "Actual, else Estimate"


@pytest.mark.parametrize(
    "text",
    [
        "values:\n  opportunities:\n    no_such_column: {a: b}\n",
        "values:\n  no_such_table: {amount: {a: b}}\n",
        "coalesce:\n  opportunities: [not_a_column]\n",
    ],
)
def test_bad_values_or_coalesce_entries_are_refused(tmp_path, text):
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match="mapping"):
        load_mapping(path, tmp_path)


# --------------------------------------------------------------------------- owners by name, the pure functions


def test_name_key_ignores_case_and_spacing():
    assert name_key(_text([" Jane  Doe", "JANE DOE", None])).tolist()[:2] == ["jane doe", "jane doe"]


def test_disambiguate_keeps_every_person():
    reps = pd.DataFrame(
        {"rep_id": _text(["Ann", "Bob", "ann", "Ann"]), "rep_name": _text(["Ann", "Bob", "ann", "Ann"])}
    )
    out, shared = disambiguate_reps(reps)
    assert out["rep_id"].tolist() == ["Ann", "Bob", "ann (2)", "Ann (3)"]
    assert shared.tolist() == [True, False, True, True]


def test_resolve_owner_names_points_owners_at_reps():
    tables = {
        "reps": pd.DataFrame(
            {"rep_id": _text(["Ann Lee", "Bob", "Bob (2)"]), "rep_name": _text(["Ann Lee", "Bob", "Bob"])}
        ),
        "accounts": pd.DataFrame(
            {"account_id": _text(["A", "B", "C", "D"]), "owner_rep_id": _text(["ann  lee", "Bob", "Zed", None])}
        ),
    }
    out, found = resolve_owner_names(tables)
    assert out["accounts"]["owner_rep_id"].tolist()[:3] == ["Ann Lee", "Bob", "Zed"]
    (check,) = found
    assert check.table == "accounts" and check.mask.tolist() == [False, True, False, False]
    assert tables["accounts"]["owner_rep_id"].iloc[0] == "ann  lee"  # the input is not changed


def test_hubspot_exports_saved_under_other_names_are_found_by_their_columns(tmp_path):
    shutil.copytree(HUBSPOT, tmp_path / "data")
    data = tmp_path / "data"
    (data / "hubspot-crm-exports-all-companies-2026-09-30.csv").rename(data / "download (1).csv")
    (data / "hubspot-crm-exports-all-deals-2026-09-30.csv").rename(data / "download (2).csv")
    intake = load_company(data, mapping="hubspot", as_of=AS_OF)
    assert intake.errors == []
    assert intake.sources["accounts"] == "download (1).csv"
    assert intake.sources["opportunities"] == "download (2).csv"
