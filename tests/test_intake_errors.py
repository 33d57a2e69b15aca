"""Intake on broken data: every error and warning of SPEC §2, with table, column and rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from diligence.errors import InputError
from diligence.intake import Issue, load_company

ACCOUNTS = "account_id,account_name,owner_rep_id,potential\nA1,Alpha,R1,100\nA2,Beta,R2,200\nA3,Gamma,,300\n"
REPS = "rep_id,rep_name,quota\nR1,Ann,1000\nR2,Bob,2000\n"
OPPS = (
    "opportunity_id,account_id,owner_rep_id,amount,stage,created_date,close_date\n"
    "O1,A1,R1,100,Closed Won,2025-01-01,2025-02-01\n"
    "O2,A2,R2,200,Prospecting,2025-03-01,2025-09-01\n"
)


def company(tmp_path: Path, **files: str | bytes | None) -> Path:
    """A small good company with some files replaced (``None`` removes one)."""
    folder = tmp_path / "company"
    folder.mkdir(exist_ok=True)
    content = {"accounts.csv": ACCOUNTS, "reps.csv": REPS, "opportunities.csv": OPPS}
    content.update({k.replace("__", "."): v for k, v in files.items()})
    for name, text in content.items():
        if text is not None:
            (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return folder


def only(issues: list[Issue], **where) -> Issue:
    found = [i for i in issues if all(getattr(i, k) == v for k, v in where.items())]
    assert len(found) == 1, f"expected one issue with {where}, got {found} among {issues}"
    return found[0]


def test_good_company_has_no_issue(tmp_path):
    intake = load_company(company(tmp_path), as_of="2025-06-30")
    assert intake.issues == []
    intake.raise_for_errors()  # nothing to raise


# --------------------------------------------------------------------------- errors


def test_duplicate_keys(tmp_path):
    accounts = ACCOUNTS + "A1,Alpha again,R1,50\nA4,Delta,R1,10\nA2,Beta again,R2,20\n"
    intake = load_company(company(tmp_path, accounts__csv=accounts))
    issue = only(intake.errors, table="accounts", column="account_id")
    assert issue.file == "accounts.csv"
    assert issue.count == 4 and issue.rows == (2, 3, 5, 7)
    assert '"A1"' in issue.message and "duplicate" in issue.message
    assert "unique" in issue.action


def test_missing_required_table(tmp_path):
    intake = load_company(company(tmp_path, reps__csv=None))
    issue = only(intake.errors, table="reps")
    assert issue.column is None and "not found" in issue.message and "accounts.csv" in issue.message
    with pytest.raises(InputError) as raised:
        intake.raise_for_errors()
    assert raised.value.exit_code == 2 and raised.value.problems == [issue]


def test_missing_required_column_suggests_a_mapping(tmp_path):
    intake = load_company(company(tmp_path, accounts__csv="account_id,Acct Name\nA1,Alpha\n"))
    issue = only(intake.errors, table="accounts", column="account_name")
    assert issue.file == "accounts.csv"
    assert 'Columns found: "account_id", "Acct Name"' in issue.message
    assert '"Acct Name"' in issue.message  # the close match
    assert "mapping" in issue.action
    assert "accounts" not in intake.tables


def test_unparseable_date_in_required_column(tmp_path):
    opps = OPPS + "O3,A1,R1,10,Prospecting,next week,\n"
    intake = load_company(company(tmp_path, opportunities__csv=opps))
    issue = only(intake.errors, table="opportunities", column="created_date")
    assert issue.rows == (4,) and '"next week"' in issue.message and "YYYY-MM-DD" in issue.action


def test_unparseable_amount(tmp_path):
    opps = OPPS + "O3,A1,R1,ten thousand,Prospecting,2025-04-01,\n"
    intake = load_company(company(tmp_path, opportunities__csv=opps))
    issue = only(intake.errors, table="opportunities", column="amount")
    assert issue.rows == (4,) and '"ten thousand"' in issue.message
    assert not [w for w in intake.warnings if w.column == "amount"]  # not also "blank, counted as 0"
    assert pd.isna(intake.tables["opportunities"]["amount"].iloc[2])


def test_negative_amount(tmp_path):
    opps = OPPS + "O3,A1,R1,-50,Closed Won,2025-04-01,2025-05-01\n"
    issue = only(
        load_company(company(tmp_path, opportunities__csv=opps)).errors, table="opportunities", column="amount"
    )
    assert issue.rows == (4,) and "negative" in issue.message and '"-50"' in issue.message


def test_negative_quota(tmp_path):
    reps = REPS + "R3,Cy,-1\n"
    issue = only(load_company(company(tmp_path, reps__csv=reps)).errors, table="reps", column="quota")
    assert issue.level == "error" and issue.rows == (4,)


@pytest.mark.parametrize("column", ["potential", "employees", "annual_revenue"])
def test_negative_account_sizes(tmp_path, column):
    accounts = f"account_id,account_name,{column}\nA1,Alpha,5\nA2,Beta,-5\n"
    issue = only(load_company(company(tmp_path, accounts__csv=accounts)).errors, table="accounts", column=column)
    assert issue.rows == (3,)


def test_empty_file(tmp_path):
    intake = load_company(company(tmp_path, accounts__csv=""))
    issue = only(intake.errors, table="accounts")
    assert issue.file == "accounts.csv" and "empty" in issue.message
    assert len(intake.errors) == 1  # not also "accounts not found"


def test_binary_junk_csv(tmp_path):
    intake = load_company(company(tmp_path, reps__csv=b"\x00\x01\x02garbage\x00" * 10))
    issue = only(intake.errors, table="reps")
    assert "binary" in issue.message


def test_unreadable_workbook(tmp_path):
    book = tmp_path / "company.xlsx"
    book.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    intake = load_company(book)
    issue = only(intake.errors, file="company.xlsx")
    assert "cannot be opened" in issue.message and "xlsx" in issue.action
    assert len(intake.errors) == 1


def test_unreadable_table_workbook_in_folder(tmp_path):
    intake = load_company(company(tmp_path, accounts__csv=None, accounts__xlsx=b"not a workbook"))
    issue = only(intake.errors, table="accounts")
    assert issue.file == "accounts.xlsx" and "cannot read" in issue.message


def test_blank_account_id_in_accounts(tmp_path):
    accounts = ACCOUNTS + ",Nameless,R1,5\n"
    issue = only(load_company(company(tmp_path, accounts__csv=accounts)).errors, table="accounts", column="account_id")
    assert issue.rows == (5,) and "blank" in issue.message


def test_blank_rep_id_in_reps(tmp_path):
    reps = REPS + " ,Ghost,0\n"
    issue = only(load_company(company(tmp_path, reps__csv=reps)).errors, table="reps", column="rep_id")
    assert issue.rows == (4,)


def test_two_files_for_one_table(tmp_path):
    folder = company(tmp_path)
    pd.DataFrame({"account_id": ["A1"], "account_name": ["x"]}).to_parquet(folder / "Accounts.parquet")
    issue = only(load_company(folder).errors, table="accounts")
    assert "2 files" in issue.message and set(issue.rows) == {"accounts.csv", "Accounts.parquet"}


def test_ragged_rows_are_read_or_reported(tmp_path):
    short = load_company(company(tmp_path, reps__csv="rep_id,rep_name,quota\nR1,Ann\nR2,Bob,2000\n"))
    assert short.errors == [] and short.tables["reps"]["quota"].isna().tolist() == [True, False]
    long = load_company(company(tmp_path, reps__csv="rep_id,rep_name\nR1,Ann\nR2,Bob,2000,extra\n"))
    issue = only(long.errors, table="reps")
    assert "line 3" in issue.message or "more fields" in issue.message


def test_errors_come_first_in_a_stable_order(tmp_path):
    accounts = ACCOUNTS + "A1,Dup,R9,1\n"
    intake = load_company(company(tmp_path, accounts__csv=accounts))
    levels = [i.level for i in intake.issues]
    assert levels == sorted(levels)  # "error" < "warning"
    assert intake.issues == load_company(company(tmp_path, accounts__csv=accounts)).issues


# --------------------------------------------------------------------------- warnings


def test_unknown_references_are_warnings(tmp_path):
    accounts = ACCOUNTS + "A4,Delta,R9,1\nA5,Eps,R9,1\n"
    opps = OPPS + "O3,A9,R7,10,Prospecting,2025-04-01,\n"
    acts = "account_id,rep_id,activity_date\nA1,R1,2025-05-01\nA1,R8,2025-05-02\n"
    intake = load_company(company(tmp_path, accounts__csv=accounts, opportunities__csv=opps, activities__csv=acts))
    assert intake.errors == []
    owner = only(intake.warnings, table="accounts", column="owner_rep_id")
    assert (
        owner.rows == (5, 6)
        and owner.count == 2
        and '1 different: "R9"' in owner.message
        and "orphaned" in owner.message
    )
    assert only(intake.warnings, table="opportunities", column="account_id").rows == (4,)
    assert only(intake.warnings, table="opportunities", column="owner_rep_id").rows == (4,)
    assert only(intake.warnings, table="activities", column="rep_id").rows == (3,)
    assert len(intake.tables["opportunities"]) == 3  # rows kept


def test_unknown_partner_only_when_partners_sent(tmp_path):
    accounts = "account_id,account_name,partner_id\nA1,Alpha,P1\nA2,Beta,P2\n"
    without = load_company(company(tmp_path, accounts__csv=accounts))
    assert not [w for w in without.warnings if w.column == "partner_id"]
    withp = load_company(
        company(tmp_path, accounts__csv=accounts, partners__csv="partner_id,partner_name\nP1,Reseller\n")
    )
    assert only(withp.warnings, table="accounts", column="partner_id").rows == (3,)


def test_dates_after_as_of(tmp_path):
    opps = OPPS + "O3,A1,R1,10,Prospecting,2026-01-01,2026-03-01\n"
    intake = load_company(company(tmp_path, opportunities__csv=opps), as_of="2025-06-30")
    created = only(intake.warnings, table="opportunities", column="created_date")
    assert created.rows == (4,) and "2025-06-30" in created.message
    # O2 is open: an expected close date after T is normal.
    assert not [w for w in intake.warnings if w.column == "close_date"]
    assert load_company(company(tmp_path, opportunities__csv=opps)).warnings == []  # no as_of, no check


def test_blank_amount_counts_as_zero(tmp_path):
    opps = OPPS + "O3,A1,R1,,Prospecting,2025-04-01,\n"
    intake = load_company(company(tmp_path, opportunities__csv=opps))
    issue = only(intake.warnings, table="opportunities", column="amount")
    assert issue.rows == (4,) and "0" in issue.message
    assert intake.tables["opportunities"]["amount"].tolist() == [100.0, 200.0, 0.0]


def test_rows_without_key_or_date_are_set_aside(tmp_path):
    opps = OPPS + "O3,,R1,10,Prospecting,2025-04-01,\nO4,A1,R1,10,Prospecting,,\nO5,A2,R1,10,Won,2025-04-02,\n"
    acts = "account_id,rep_id,activity_date\nA1,R1,2025-05-01\nA1,R1,\n"
    intake = load_company(company(tmp_path, opportunities__csv=opps, activities__csv=acts))
    assert intake.errors == []
    assert intake.tables["opportunities"]["opportunity_id"].tolist() == ["O1", "O2", "O5"]
    assert only(intake.warnings, table="opportunities", column="account_id").rows == (4,)
    assert only(intake.warnings, table="opportunities", column="created_date").rows == (5,)
    aside = intake.set_aside["opportunities"]
    assert aside[["file", "row"]].values.tolist() == [["opportunities.csv", 4], ["opportunities.csv", 5]]
    assert aside["opportunity_id"].tolist() == ["O3", "O4"]
    assert only(intake.warnings, table="activities", column="activity_date").rows == (3,)
    dq = intake.data_quality()
    counts = dq["tables"]["opportunities"]
    assert (counts["rows_read"], counts["rows_set_aside"], counts["rows_kept"]) == (5, 2, 3)
    file = next(f for f in dq["files"] if f["file"] == "opportunities.csv")
    assert (file["rows_read"], file["rows_set_aside"], file["rows_kept"]) == (5, 2, 3)
    assert [i["level"] for i in dq["issues"]] == ["warning"] * len(intake.warnings)


def test_unparseable_optional_value_is_blanked_with_a_warning(tmp_path):
    opps = OPPS + "O3,A1,R1,10,Prospecting,2025-04-01,someday\n"
    intake = load_company(company(tmp_path, opportunities__csv=opps))
    issue = only(intake.warnings, table="opportunities", column="close_date")
    assert issue.rows == (4,) and "blank" in issue.message
    assert intake.tables["opportunities"]["close_date"].isna().tolist() == [False, False, True]


def test_blank_optional_values_one_warning_per_column(tmp_path):
    accounts = "account_id,account_name,segment,region\nA1,Alpha,,EMEA\nA2,Beta,,\nA3,Gamma,SMB,NA\n"
    intake = load_company(company(tmp_path, accounts__csv=accounts))
    segment = only(intake.warnings, table="accounts", column="segment")
    assert (segment.count, segment.rows) == (2, (2, 3))
    assert only(intake.warnings, table="accounts", column="region").rows == (3,)


def test_stage_derives_closed_and_won_where_blank(tmp_path):
    opps = (
        "opportunity_id,account_id,amount,stage,created_date,is_closed,is_won\n"
        "O1,A1,1,Closed Won,2025-01-01,,\n"
        "O2,A1,1,Closed Lost,2025-01-01,,\n"
        "O3,A1,1,Won,2025-01-01,,\n"
        "O4,A1,1,Not Won,2025-01-01,,\n"
        "O5,A1,1,Negotiation,2025-01-01,,\n"
        "O6,A1,1,Negotiation,2025-01-01,TRUE,no\n"
    )
    opps_frame = load_company(company(tmp_path, opportunities__csv=opps)).tables["opportunities"]
    assert opps_frame["is_closed"].tolist() == [True, True, True, True, False, True]
    assert opps_frame["is_won"].tolist() == [True, False, True, False, False, False]


def test_ignored_files_and_blank_lines(tmp_path):
    folder = company(
        tmp_path, accounts__csv=ACCOUNTS + ",,,\n,,,\n", **{"products__csv": "product\nX\n", "notes__txt": "hello"}
    )
    intake = load_company(folder)
    assert intake.errors == []
    assert {w.file for w in intake.warnings if "ignored" in w.message} == {"notes.txt", "products.csv"}
    assert len(intake.tables["accounts"]) == 3
    assert intake.data_quality()["tables"]["accounts"]["rows_blank"] == 2
    statuses = {f["file"]: f["status"] for f in intake.data_quality()["files"]}
    assert statuses["products.csv"] == "ignored" and statuses["accounts.csv"] == "read"


def test_inactive_user_without_end_date_counts_as_departed(tmp_path):
    folder = company(tmp_path, reps__csv=None, **{"User__csv": "Id,Name,IsActive\nR1,Ann,true\nR2,Bob,false\n"})
    intake = load_company(folder, mapping="salesforce", as_of="2025-06-30")
    assert intake.errors == []
    reps = intake.tables["reps"]
    assert reps["end_date"].tolist()[1] == pd.Timestamp("2025-06-30") and pd.isna(reps["end_date"].tolist()[0])
    assert "is_active" not in reps
    assert only(intake.warnings, table="reps", column="end_date").rows == (3,)


def test_preset_filter_drops_deleted_rows(tmp_path):
    folder = company(
        tmp_path,
        accounts__csv=None,
        reps__csv=None,
        **{
            "Account__csv": "Id,Name,IsDeleted\nA1,Alpha,false\nA2,Gone,true\nA3,Gamma,\n",
            "User__csv": "Id,Name\nR1,Ann\n",
        },
    )
    intake = load_company(folder, mapping="salesforce")
    assert intake.tables["accounts"]["account_id"].tolist() == ["A1", "A3"]
    issue = only(intake.warnings, table="accounts", column=None)
    assert issue.count == 1 and "IsDeleted" in issue.message
    assert intake.data_quality()["tables"]["accounts"]["rows_filtered"] == 1


def test_ambiguous_slash_dates_are_warned(tmp_path):
    opps = "opportunity_id,account_id,amount,created_date\nO1,A1,1,03/04/2025\nO2,A1,1,05/06/2025\n"
    intake = load_company(company(tmp_path, opportunities__csv=opps))
    issue = only(intake.warnings, table="opportunities", column=None)
    assert "month/day" in issue.message and issue.count == 2
    assert intake.tables["opportunities"]["created_date"].tolist() == [
        pd.Timestamp("2025-03-04"),
        pd.Timestamp("2025-05-06"),
    ]
