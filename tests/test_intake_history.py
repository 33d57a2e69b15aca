"""Intake of deal history (SPEC §2 opportunity_history): as a contract file and
through the Salesforce preset; its quirks are counted warnings."""

from __future__ import annotations

from pathlib import Path

from diligence.intake import load_company
from tests.test_intake import write_files

BASE = {
    "accounts.csv": "account_id,account_name\nA1,Acme\n",
    "reps.csv": "rep_id,rep_name,quota\nR1,Ann,100\n",
    "opportunities.csv": (
        "opportunity_id,account_id,owner_rep_id,amount,stage,created_date,close_date\n"
        "O1,A1,R1,10,Negotiation,2026-01-05,2026-08-15\n"
    ),
}


def _warnings(intake, table: str) -> dict[str, int]:
    return {i.message: i.count for i in intake.issues if i.table == table and i.level == "warning"}


def test_contract_file_with_unknown_deals_late_rows_and_blank_dates(tmp_path: Path):
    history = (
        "opportunity_id,changed_date,stage,amount,close_date\n"
        "O1,2026-01-05,Qualification,10,2026-06-30\n"
        "O1,2026-03-01,Negotiation,10,2026-07-31\n"
        "O1,2026-03-01,Negotiation,12,2026-08-15\n"  # same day, after it in the file
        "O9,2026-02-01,Qualification,5,2026-05-01\n"  # no such deal
        "O1,2026-07-15,Negotiation,12,2026-09-30\n"  # after the as-of date
        "O1,,Negotiation,12,2026-09-30\n"  # blank date: set aside
    )
    intake = load_company(write_files(tmp_path / "c", {**BASE, "opportunity_history.csv": history}), as_of="2026-06-30")
    assert intake.errors == []
    h = intake.tables["opportunity_history"]
    assert len(h) == 5 and h["amount"].tolist()[:3] == [10.0, 10.0, 12.0], "file order kept"
    warned = _warnings(intake, "opportunity_history")
    assert any("name no opportunity" in m and n == 1 for m, n in warned.items()), warned
    assert any("after the as-of date" in m and n == 1 for m, n in warned.items()), warned
    assert any("blank changed_date, set aside" in m and n == 1 for m, n in warned.items()), warned
    assert intake.counts["opportunity_history"]["rows_set_aside"] == 1


def test_salesforce_report_export_labels(tmp_path: Path):
    files = {
        "Account.csv": "Account ID,Account Name\nA1,Acme\n",
        "User.csv": "User ID,Full Name\nR1,Ann\n",
        "Opportunity.csv": "Opportunity ID,Account ID,Amount,Stage,Created Date,Close Date\nO1,A1,10,Prospecting,2026-01-05,2026-08-15\n",
        "Opportunity History.csv": "Opportunity ID,Edit Date,To Stage,Amount,Close Date\nO1,2026-02-01,Prospecting,10,2026-07-01\n",
    }
    intake = load_company(write_files(tmp_path / "sf", files), mapping="salesforce", as_of="2026-06-30")
    assert intake.errors == []
    h = intake.tables["opportunity_history"]
    assert h.columns.tolist() == ["opportunity_id", "changed_date", "stage", "amount", "close_date"]
    assert h["stage"].tolist() == ["Prospecting"] and str(h["close_date"].iloc[0].date()) == "2026-07-01"
