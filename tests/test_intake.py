"""Intake: the same company sent three ways gives the same tables; the parsers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from diligence.contract import TABLES
from diligence.errors import InputError
from diligence.intake import Intake, Issue, format_issues, load_company
from diligence.intake.parsing import parse_bools, parse_dates, parse_integers, parse_numbers, to_text


def write_files(folder: Path, files: dict[str, str | bytes], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode(encoding)
        (folder / name).write_bytes(data)
    return folder


# --------------------------------------------------------------------------- one company, three ways

SPEC_CSV = {
    "accounts.csv": (
        "account_id,account_name,owner_rep_id,segment,region,employees,annual_revenue,potential,domain\n"
        "007,Société Générale,R1,Enterprise,EMEA,1200,2500000.75,1234.5,sg.example\n"
        "A-2,Beta,R2,SMB,NA,15,,12000,\n"
        "12,Gamma,,SMB,NA,,100,0,gamma.example\n"
    ),
    "reps.csv": (
        "rep_id,rep_name,role,level,hire_date,end_date,quota\n"
        "R1,Ann,AE,senior,2020-01-15,,1000000\n"
        "R2,Bob,AM,junior,2024-05-01,2025-12-31,500000\n"
    ),
    "opportunities.csv": (
        "opportunity_id,account_id,owner_rep_id,channel,amount,stage,created_date,close_date,is_closed,is_won\n"
        "O1,007,R1,direct,1234.5,Closed Won,2025-01-05,2025-03-31,true,true\n"
        "O2,A-2,R2,partner,12000,Closed Lost,2025-02-13,2025-12-31,true,false\n"
        "O3,12,R1,direct,0,Negotiation,2025-06-01,2026-01-15,false,false\n"
    ),
    "activities.csv": (
        "activity_id,account_id,rep_id,activity_date,type\nT1,007,R1,2025-05-20,Call\nT2,12,R2,2025-06-14,Email\n"
    ),
}

# The same data as a European Excel would save it: Latin-1, semicolons,
# decimal commas, day-first dates, no is_closed/is_won (derived from stage),
# channel words and blanks, blank roles for the default.
EUROPEAN_CSV = {
    "accounts.csv": (
        "Account_ID;Account_Name;Owner_Rep_ID;Segment;Region;Employees;Annual_Revenue;Potential;Domain\n"
        "007;Société Générale;R1;Enterprise;EMEA;1.200;2.500.000,75;1.234,50;sg.example\n"
        "A-2;Beta;R2;SMB;NA;15;;12.000;\n"
        "12;Gamma;;SMB;NA;;100;0;gamma.example\n"
    ),
    "reps.csv": (
        "rep_id;rep_name;role;level;hire_date;end_date;quota\n"
        "R1;Ann;;senior;15/01/2020;;1.000.000\n"
        "R2;Bob;AM;junior;01/05/2024;31/12/2025;500.000\n"
    ),
    "opportunities.csv": (
        "opportunity_id;account_id;owner_rep_id;channel;amount;stage;created_date;close_date\n"
        "O1;007;R1;;1.234,50 EUR;Closed Won;05/01/2025;31/03/2025\n"
        "O2;A-2;R2;Indirect;12.000;Closed Lost;13/02/2025;31/12/2025\n"
        "O3;12;R1;Direct;0;Negotiation;01/06/2025;15/01/2026\n"
    ),
    "activities.csv": (
        "activity_id;account_id;rep_id;activity_date;type\nT1;007;R1;20/05/2025;Call\nT2;12;R2;14/06/2025;Email\n"
    ),
}

WORKBOOK_MAPPING = """\
preset: salesforce
files:
  opportunities: Pipeline
accounts:
  Potential (EUR): potential
reps:
  Start Date: hire_date
  Seniority: level
"""


def _d(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def write_salesforce_workbook(path: Path) -> Path:
    """The same company as one workbook with Salesforce report labels and Excel types."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(
        [
            "Account ID",
            "Account Name",
            "Account Owner ID",
            "Segment",
            "Billing Country",
            "Employees",
            "Annual Revenue",
            "Potential (EUR)",
            "Website",
            "Last Activity",
        ]
    )
    ws.append(["007", "Société Générale", "R1", "Enterprise", "EMEA", 1200, 2500000.75, 1234.5, "sg.example", "x"])
    ws.append(["A-2", "Beta", "R2", "SMB", "NA", 15.0, None, 12000, None, None])
    ws.append([12, "Gamma", None, "SMB", "NA", None, 100, 0, "gamma.example", None])  # a numeric id
    ws.append([None] * 10)  # a formatted but empty row
    ws = wb.create_sheet("REPS")
    ws.append(["User ID", "Full Name", "Role", "Seniority", "Start Date", "End Date", "Quota"])
    ws.append(["R1", "Ann", "AE", "senior", _d("2020-01-15"), None, 1_000_000])
    ws.append(["R2", "Bob", "AM", "junior", _d("2024-05-01"), _d("2025-12-31"), 500_000.0])
    ws = wb.create_sheet("Pipeline")
    ws.append(
        [
            "Opportunity ID",
            "Account ID",
            "Opportunity Owner ID",
            "Channel",
            "Amount",
            "Stage",
            "Created Date",
            "Close Date",
            "Closed",
            "Won",
        ]
    )
    ws.append(["O1", "007", "R1", "Direct", 1234.5, "Closed Won", _d("2025-01-05"), _d("2025-03-31"), True, True])
    ws.append(["O2", "A-2", "R2", "Partner", 12000, "Closed Lost", _d("2025-02-13"), _d("2025-12-31"), True, False])
    ws.append(["O3", 12, "R1", "Direct", 0, "Negotiation", _d("2025-06-01 10:30"), _d("2026-01-15"), False, False])
    ws = wb.create_sheet("activities")
    ws.append(["Activity ID", "Account ID", "Assigned ID", "Date", "Activity Type"])
    ws.append(["T1", "007", "R1", _d("2025-05-20"), "Call"])
    ws.append(["T2", 12.0, "R2", _d("2025-06-14"), "Email"])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def three_ways(tmp_path_factory) -> dict[str, Intake]:
    base = tmp_path_factory.mktemp("company")
    spec = load_company(write_files(base / "spec", SPEC_CSV), as_of="2025-06-30")
    european = load_company(write_files(base / "european", EUROPEAN_CSV, encoding="latin-1"), as_of="2025-06-30")
    book = write_salesforce_workbook(base / "company.xlsx")
    (base / "mapping.yaml").write_text(WORKBOOK_MAPPING, encoding="utf-8")
    workbook = load_company(book, mapping=base / "mapping.yaml", as_of="2025-06-30")
    return {"spec": spec, "european": european, "workbook": workbook}


def test_spec_csv_has_no_errors_and_the_contract_types(three_ways):
    intake = three_ways["spec"]
    assert intake.errors == []
    assert set(intake.tables) == {"accounts", "reps", "opportunities", "activities"}
    accounts = intake.tables["accounts"]
    assert accounts["account_id"].tolist() == ["007", "A-2", "12"]
    assert str(accounts["account_id"].dtype) == "string"
    assert accounts["employees"].dtype == "Int64"
    assert accounts["potential"].tolist() == [1234.5, 12000.0, 0.0]
    assert accounts["owner_rep_id"].isna().tolist() == [False, False, True]
    assert "partner_id" not in accounts  # not sent: absent, not blank
    opps = intake.tables["opportunities"]
    assert opps["created_date"].dtype == "datetime64[ns]"
    assert opps["created_date"].tolist() == [
        pd.Timestamp("2025-01-05"),
        pd.Timestamp("2025-02-13"),
        pd.Timestamp("2025-06-01"),
    ]
    assert opps["is_won"].dtype == "boolean"
    assert opps["is_won"].tolist() == [True, False, False]
    assert list(opps.columns) == [c for c in TABLES["opportunities"].column_names if c != "partner_id"]
    assert intake.sources == {
        "accounts": "accounts.csv",
        "reps": "reps.csv",
        "opportunities": "opportunities.csv",
        "activities": "activities.csv",
    }


@pytest.mark.parametrize("other", ["european", "workbook"])
def test_same_company_three_ways_gives_identical_tables(three_ways, other):
    spec, got = three_ways["spec"].tables, three_ways[other].tables
    assert three_ways[other].errors == []
    assert set(got) == set(spec)
    for table in spec:
        assert_frame_equal(got[table], spec[table], check_like=False, obj=f"{other}: {table}")


def test_workbook_sheets_stacked_for_one_table(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Account"
    wb.active.append(["Id", "Name"])
    wb.active.append(["A1", "Alpha"])
    wb.create_sheet("User").append(["Id", "Name"])
    wb["User"].append(["U1", "Ann"])
    for sheet, rows in (
        ("Task", [["T1", "A1", "2025-01-02"]]),
        ("Event", [["E1", "A1", "2025-01-03"], ["E2", "A1", "bad"]]),
    ):
        ws = wb.create_sheet(sheet)
        ws.append(["Id", "AccountId", "ActivityDate"])
        for row in rows:
            ws.append(row)
    wb.create_sheet("Lookup").append(["x"])
    wb.save(tmp_path / "export.xlsx")
    intake = load_company(tmp_path / "export.xlsx", mapping="salesforce")
    assert intake.tables["activities"]["activity_id"].tolist() == ["T1", "E1", "E2"]
    bad = [i for i in intake.errors if i.column == "activity_date"]
    assert [(i.file, i.rows) for i in bad] == [("export.xlsx [Event]", (3,))]
    assert [i.file for i in intake.warnings if "ignored" in i.message] == ["export.xlsx [Lookup]"]


def test_workbook_sources_and_ignored_columns(three_ways):
    intake = three_ways["workbook"]
    assert intake.sources["opportunities"] == "company.xlsx [Pipeline]"
    assert intake.sources["reps"] == "company.xlsx [REPS]"
    assert "Last Activity" not in intake.tables["accounts"]
    files = {f["file"]: f for f in intake.data_quality()["files"]}
    assert files["company.xlsx [Accounts]"]["columns"]["domain"] == "Website"
    assert files["company.xlsx [Pipeline]"]["columns"]["is_won"] == "Won"


def test_european_defaults_are_warned(three_ways):
    warnings = three_ways["european"].warnings
    role = [w for w in warnings if w.table == "reps" and w.column == "role"]
    assert len(role) == 1 and role[0].rows == (2,) and role[0].count == 1
    channel = [w for w in warnings if w.column == "channel"]
    assert [w.rows for w in channel] == [(2,)]
    opps = three_ways["european"].tables["opportunities"]
    assert opps["channel"].tolist() == ["direct", "partner", "direct"]
    assert opps["is_closed"].tolist() == [True, True, False]


def test_data_quality_is_json_and_deterministic(three_ways, tmp_path):
    dq = three_ways["spec"].data_quality()
    text = json.dumps(dq, sort_keys=True)
    again = load_company(write_files(tmp_path / "again", SPEC_CSV), as_of="2025-06-30").data_quality()
    assert json.dumps(again, sort_keys=True) == text
    assert dq["tables"]["accounts"]["rows_read"] == 3
    assert dq["tables"]["accounts"]["rows_kept"] == 3
    assert dq["error_count"] == 0
    assert dq["files"][0] == {
        "file": "accounts.csv",
        "table": "accounts",
        "status": "read",
        "rows_read": 3,
        "rows_kept": 3,
        "rows_set_aside": 0,
        "columns": {
            c: c
            for c in [
                "account_id",
                "account_name",
                "owner_rep_id",
                "segment",
                "region",
                "employees",
                "annual_revenue",
                "potential",
                "domain",
            ]
        },
    }
    assert dq["tables"]["accounts"]["columns_absent"] == ["partner_id", "industry", "source_company"]


def test_issue_str_and_format_issues():
    issue = Issue(
        "error",
        "accounts",
        "accounts.csv",
        "account_id",
        3,
        (4, 9, 12),
        '3 duplicate keys (rows 4, 9, 12: "A-1", ...)',
        "make account_id unique",
    )
    assert str(issue) == (
        'error: accounts (accounts.csv), column account_id: 3 duplicate keys (rows 4, 9, 12: "A-1", ...). '
        "Fix: make account_id unique"
    )
    text = format_issues([issue])
    assert "accounts.csv" in text and "duplicate keys" in text and "1 error(s), 0 warning(s)" in text
    assert "\x1b[" not in text
    assert format_issues([]) == "No problems found."


def test_bad_arguments_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_company(tmp_path / "nope")
    folder = write_files(tmp_path / "c", SPEC_CSV)
    with pytest.raises(InputError, match="unknown preset"):
        load_company(folder, mapping="sforce")
    (tmp_path / "bad.yaml").write_text("accounts: [unclosed", encoding="utf-8")
    with pytest.raises(InputError, match="YAML"):
        load_company(folder, mapping=tmp_path / "bad.yaml")
    (tmp_path / "typo.yaml").write_text("acounts:\n  Id: account_id\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown table"):
        load_company(folder, mapping=tmp_path / "typo.yaml")
    (tmp_path / "col.yaml").write_text("accounts:\n  Id: acount_id\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a column of accounts"):
        load_company(folder, mapping=tmp_path / "col.yaml")
    with pytest.raises(InputError, match="as_of"):
        load_company(folder, as_of="30/06/2025")


def test_mapping_yaml_in_folder_multi_target_and_files(tmp_path):
    folder = write_files(
        tmp_path / "c",
        {
            "Customers.CSV": "Company,Owner\nAcme,Ann\nBeta,\n",
            "team.csv": "Agent\nAnn\n",
            "mapping.yaml": "files:\n  accounts: customers.csv\n  reps: TEAM\naccounts:\n  company: [account_id, account_name]\n"
            "  OWNER: owner_rep_id\nreps:\n  agent: [rep_id, rep_name]\n",
        },
    )
    intake = load_company(folder)
    assert intake.errors == []
    accounts = intake.tables["accounts"]
    assert accounts["account_id"].tolist() == ["Acme", "Beta"] == accounts["account_name"].tolist()
    assert intake.tables["reps"]["rep_id"].tolist() == ["Ann"]
    assert intake.tables["reps"]["role"].tolist() == ["AE"]  # default when absent
    assert intake.sources == {"accounts": "Customers.CSV", "reps": "team.csv"}


def test_header_names_are_matched_loosely(tmp_path):
    folder = write_files(
        tmp_path / "c",
        {
            "ACCOUNTS.csv": '\ufeff" Account ID ",Account Name,  SEGMENT \nA1,Alpha,SMB\n',
            "reps.csv": "Rep_ID,Rep_Name\nR1,Ann\n",
        },
    )
    intake = load_company(folder)
    assert intake.errors == []
    assert list(intake.tables["accounts"].columns) == ["account_id", "account_name", "segment"]


def test_windows_1252_text_with_euro_sign(tmp_path):
    folder = write_files(
        tmp_path / "c",
        {
            "accounts.csv": "account_id;account_name;potential\nA1;Café;1.234,50 €\n",
            "reps.csv": "rep_id;rep_name\nR1;Zoë\n",
        },
        encoding="cp1252",
    )
    intake = load_company(folder)
    assert intake.errors == []
    assert intake.tables["accounts"]["account_name"].tolist() == ["Café"]
    assert intake.tables["accounts"]["potential"].tolist() == [1234.5]
    assert intake.tables["reps"]["rep_name"].tolist() == ["Zoë"]


def test_table_workbooks_in_a_folder(tmp_path):
    folder = write_files(tmp_path / "c", {"accounts.csv": "account_id,account_name\nA1,Alpha\n"})
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["these are notes"])
    ws = wb.create_sheet("Reps")
    ws.append([None, None])  # the header may start lower down
    ws.append(["rep_id", "rep_name", "hire_date", "quota"])
    ws.append([101, "Ann", 43831, 5])  # an id stored as a number, a date as a serial number
    ws.append([102, "Bob", None, -5])
    wb.save(folder / "reps.xlsx")
    intake = load_company(folder)
    assert [(i.table, i.column, i.rows) for i in intake.errors] == [("reps", "quota", (4,))]  # sheet row numbers
    reps = intake.tables["reps"]
    assert reps["rep_id"].tolist() == ["101", "102"]
    assert reps["hire_date"].tolist()[0] == pd.Timestamp("2020-01-01")
    assert intake.sources["reps"] == "reps.xlsx [Reps]"


def test_files_entries_that_match_nothing_or_too_much(tmp_path):
    folder = write_files(
        tmp_path / "c",
        {
            "accounts.csv": "account_id,account_name\nA1,Alpha\n",
            "reps.csv": "rep_id,rep_name\nR1,Ann\n",
            "deals.csv": "opportunity_id,account_id,amount,created_date\nO1,A1,5,2025-01-01\n",
            "deals.xlsx": b"",
            "mapping.yaml": "files:\n  opportunities: deals\n  activities: calls.csv\n  accounts: customers.csv\n",
        },
    )
    intake = load_company(folder)
    clash = [i for i in intake.errors if i.table == "opportunities"]
    assert len(clash) == 1 and set(clash[0].rows) == {"deals.csv", "deals.xlsx"}
    assert not [i for i in intake.warnings if "ignored" in i.message]
    missing = [i for i in intake.warnings if i.table == "activities"]
    assert len(missing) == 1 and "calls.csv" in missing[0].message
    fallback = [i for i in intake.warnings if i.table == "accounts"]
    assert len(fallback) == 1 and "accounts.csv is used instead" in fallback[0].message
    assert intake.sources["accounts"] == "accounts.csv"


def test_parquet_tables_keep_ids_as_text(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    pd.DataFrame({"account_id": [7.0, 12.0], "account_name": ["A", "B"], "employees": [10, 20]}).to_parquet(
        folder / "accounts.parquet"
    )
    pd.DataFrame({"rep_id": ["R1"], "rep_name": ["Ann"], "hire_date": pd.to_datetime(["2020-01-01 09:30"])}).to_parquet(
        folder / "reps.parquet"
    )
    intake = load_company(folder)
    assert intake.errors == []
    assert intake.tables["accounts"]["account_id"].tolist() == ["7", "12"]
    assert intake.tables["accounts"]["employees"].dtype == "Int64"
    assert intake.tables["reps"]["hire_date"].tolist() == [pd.Timestamp("2020-01-01")]
    assert intake.set_aside == {}


def test_task_and_event_are_stacked_with_their_own_row_numbers(tmp_path):
    folder = write_files(
        tmp_path / "c",
        {
            "Account.csv": "Id,Name\nA1,Alpha\n",
            "User.csv": "Id,Name,IsActive\nU1,Ann,true\n",
            "Task.csv": "Id,AccountId,OwnerId,ActivityDate,Type\nT1,A1,U1,2025-01-02,Call\nT2,A9,U1,2025-01-03,Call\n",
            "Event.csv": "Id,AccountId,OwnerId,ActivityDate\nE1,A1,U1,2025-01-04\nE2,,U1,2025-01-05\n",
        },
    )
    intake = load_company(folder, mapping="salesforce")
    assert intake.errors == []
    acts = intake.tables["activities"]
    assert acts["activity_id"].tolist() == ["T1", "T2", "E1"]
    assert acts["type"].tolist() == ["Call", "Call", None] or acts["type"].isna().tolist() == [False, False, True]
    assert intake.sources["activities"] == "Task.csv + Event.csv"
    unknown = [w for w in intake.warnings if w.column == "account_id" and "name no account" in w.message]
    assert [(w.file, w.rows) for w in unknown] == [("Task.csv", (3,))]
    aside = intake.set_aside["activities"]
    assert aside[["file", "row"]].values.tolist() == [["Event.csv", 3]]


# --------------------------------------------------------------------------- parsers


def test_parse_dates_formats():
    values = pd.Series(
        [
            "2024-01-22",
            "2024-01-22T16:14:25.000+0000",
            "1/22/2024",
            "01/22/2024 4:14 PM",
            "20240122",
            "45313",
            "Jan 22, 2024",
            "",
            None,
            "soon",
            "2024-02-30",
            "9999-12-31",
        ]
    )
    dates, bad = parse_dates(values)
    assert dates.dtype == "datetime64[ns]"
    assert dates.iloc[:7].tolist() == [pd.Timestamp("2024-01-22")] * 7
    assert dates.iloc[7:].isna().all()
    assert bad.tolist() == [False] * 9 + [True, True, True]


def test_parse_dates_day_first_and_dotted():
    dates, _bad = parse_dates(pd.Series(["03/04/2025", "31.12.2025"]), dayfirst=True)
    assert dates.tolist() == [pd.Timestamp("2025-04-03"), pd.Timestamp("2025-12-31")]
    dates, _ = parse_dates(pd.Series(["03/04/2025"]))
    assert dates.tolist() == [pd.Timestamp("2025-03-04")]


def test_parse_numbers_styles():
    values = pd.Series(
        ["1,234.50", "1.234,50", "$1,234", "USD 2,000.00", "(12)", "1 234,50 €", "1e3", "-5", "", "12%", "abc"]
    )
    numbers, bad = parse_numbers(values)
    assert numbers.iloc[:8].tolist() == [1234.5, 1234.5, 1234.0, 2000.0, -12.0, 1234.5, 1000.0, -5.0]
    assert bad.tolist() == [False] * 9 + [True, True]
    ambiguous = pd.Series(["1,234", "1.234"])
    assert parse_numbers(ambiguous)[0].tolist() == [1234.0, 1.234]
    assert parse_numbers(ambiguous, european=True)[0].tolist() == [1.234, 1234.0]


def test_parse_integers_bools_text():
    ints, bad = parse_integers(pd.Series(["12", "12.5", "1,000", ""]))
    assert ints.dtype == "Int64" and ints.tolist()[0] == 12 and ints.tolist()[2] == 1000
    assert bad.tolist() == [False, True, False, False]
    flags, bad = parse_bools(pd.Series(["TRUE", "no", "Y", "1", "0", "False", "maybe", ""]))
    assert flags.iloc[:6].tolist() == [True, False, True, True, False, False]
    assert bad.tolist() == [False] * 6 + [True, False]
    assert to_text(pd.Series([12.0, 1.5, np.nan])).tolist()[:2] == ["12", "1.5"]
    assert to_text(pd.Series(["  a ", "", None], dtype=object)).isna().tolist() == [False, True, True]
