"""Intake as a data room delivers it: workbooks of every kind, zip archives, split
tables, report exports with title blocks and totals, and messy values.

Each form is built from one small synthetic company written as clean contract
CSVs, and must give the same tables and the same metrics as those CSVs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from diligence.intake import load_company
from diligence.intake.archives import ArchiveLimits, ArchiveProblem, unpack
from diligence.metrics import all_metrics
from diligence.params import resolve_params
from diligence.synth import DEMO_AS_OF, make_company, write_company
from tests.conftest import run_cli

KEYS = {
    "accounts": "account_id",
    "reps": "rep_id",
    "opportunities": "opportunity_id",
    "activities": "activity_id",
    "partners": "partner_id",
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """A 300-account company as clean contract CSVs."""
    return write_company(make_company(n_accounts=300, seed=5), tmp_path_factory.mktemp("clean") / "data")


@pytest.fixture(scope="module")
def clean_intake(clean):
    intake = load_company(clean, as_of=DEMO_AS_OF)
    assert intake.errors == []
    return intake


def _copy(clean: Path, tmp_path: Path, name: str = "data") -> Path:
    return Path(shutil.copytree(clean, tmp_path / name))


def _same_as_clean(intake, clean_intake, tables=None) -> None:
    """The intake's tables equal the clean CSVs' (order aside), and so do all metrics."""
    assert intake.errors == [], intake.errors
    for table in tables or clean_intake.tables:
        expected = clean_intake.tables[table]
        got = intake.tables[table]
        key = KEYS.get(table)
        if key:
            expected, got = expected.sort_values(key), got.sort_values(key)
        else:
            expected = expected.sort_values(list(expected.columns))
            got = got.sort_values(list(expected.columns))
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True)[expected.columns],
            expected.reset_index(drop=True),
            check_dtype=False,
            obj=table,
        )
    if tables is not None:
        return  # a part of the company: its metrics are not the whole company's
    params = resolve_params({"as_of": DEMO_AS_OF})
    got_metrics = json.dumps(all_metrics(intake.tables, params), sort_keys=True, default=str)
    assert got_metrics == json.dumps(all_metrics(clean_intake.tables, params), sort_keys=True, default=str)


# --------------------------------------------------------------------------- spreadsheets


def _as_workbook(csv_path: Path, out: Path, title_rows: list[list[str]] = (), footer: list[list] = ()) -> Path:
    """The CSV's table as a workbook with real dates and numbers, under an optional title block."""
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Report"
    for row in title_rows:
        ws.append(row)
    ws.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        cells = []
        for column, v in zip(frame.columns, values):
            if v == "":
                cells.append(None)
            elif column.endswith("_date"):
                cells.append(pd.Timestamp(v).to_pydatetime())
            elif column in ("amount", "potential", "annual_revenue", "quota", "employees"):
                cells.append(float(v))
            else:
                cells.append(v)
        ws.append(cells)
    for row in footer:
        ws.append(row)
    wb.save(out)
    return out


def test_a_workbook_with_a_title_block_and_totals_reads_as_the_csv(clean, clean_intake, tmp_path):
    """A CRM report exported to Excel: title, date and filters above the header, totals and a notice below."""
    data = _copy(clean, tmp_path)
    _as_workbook(
        data / "accounts.csv",
        data / "accounts.xlsx",
        title_rows=[["Seller Inc: All accounts"], ["Generated 30/09/2026 by J. Analyst"], [], ["Filtered by: all"]],
        footer=[["Grand Totals (300 records)"], ["Confidential Information - Do Not Distribute"]],
    )
    (data / "accounts.csv").unlink()
    intake = load_company(data, as_of=DEMO_AS_OF)
    _same_as_clean(intake, clean_intake)
    (title,) = [w for w in intake.warnings if "title block" in w.message]
    assert title.file.startswith("accounts.xlsx") and '"Seller Inc: All accounts"' in title.message
    assert "the header is row 5" in title.message
    footers = [w for w in intake.warnings if w.table == "accounts" and w.count == 2 and "Grand Totals" in w.message]
    assert footers, [w.message for w in intake.warnings]


def test_a_csv_report_export_with_a_title_block_reads_as_the_csv(clean, clean_intake, tmp_path):
    data = _copy(clean, tmp_path)
    body = (data / "opportunities.csv").read_text()
    (data / "opportunities.csv").write_text(
        '"Opportunities report"\n"As of 30/09/2026, all owners"\n\n' + body + '"Grand Totals (n records)",,,\n'
    )
    intake = load_company(data, as_of=DEMO_AS_OF)
    _same_as_clean(intake, clean_intake)
    (title,) = [w for w in intake.warnings if "title block" in w.message]
    assert title.file == "opportunities.csv" and "the header is row 4" in title.message
    # row numbers count the title lines: the first data row is row 5
    first = pd.read_csv(clean / "opportunities.csv", dtype=str).iloc[0]
    assert first["opportunity_id"] in set(intake.tables["opportunities"]["opportunity_id"])


def test_totals_and_notes_in_a_table_without_a_key_are_dropped_and_only_they(clean, clean_intake, tmp_path):
    """assignment_history has no key: every row is looked at, and rows that merely
    mention a word of a total ("new_account", a subsidiary's name) stay data."""
    data = _copy(clean, tmp_path)
    body = (data / "assignment_history.csv").read_text()
    first = pd.read_csv(clean / "assignment_history.csv", dtype=str).iloc[0]
    wordy = f'"{first["account_id"]}","{first["rep_id"]}",2019-01-02,"new_account"\n'  # "count" inside: data
    (data / "assignment_history.csv").write_text(
        body + ",,Subtotal:,\n" + '"Grand Totals (n records)",,,\n' + '"Report generated by J. Analyst",,,\n'
    )
    intake = load_company(data, as_of=DEMO_AS_OF)
    _same_as_clean(intake, clean_intake)
    notes = [w for w in intake.warnings if w.table == "assignment_history" and w.count == 3]
    assert notes, [w.message for w in intake.warnings]
    (data / "assignment_history.csv").write_text(body + wordy)
    kept = load_company(data, as_of=DEMO_AS_OF).tables["assignment_history"]
    assert len(kept) == len(clean_intake.tables["assignment_history"]) + 1


def test_a_first_row_that_is_the_header_is_never_skipped(tmp_path):
    """A narrow header over wider data rows is still the header (the ragged rows are reported)."""
    (tmp_path / "accounts.csv").write_text("account_id,account_name\nA1,Alpha\n")
    (tmp_path / "reps.csv").write_text("rep_id,rep_name,quota\nR1,Ann,2000\n")
    intake = load_company(tmp_path)
    assert intake.errors == [] and not [w for w in intake.warnings if "title block" in w.message]


def _office(fmt: str, src: Path, outdir: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (make tools installs it)")
    profile = outdir / "lo-profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            outdir,
            src,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    out = outdir / f"{src.stem}.{fmt}"
    assert out.exists(), f"LibreOffice wrote no {fmt}"
    return out


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_old_excel_and_opendocument_workbooks_read_as_the_csv(clean, clean_intake, tmp_path, fmt):
    data = _copy(clean, tmp_path)
    for table in ("accounts", "opportunities"):
        src = _as_workbook(data / f"{table}.csv", tmp_path / f"{table}.xlsx")
        _office(fmt, src, data)
        (data / f"{table}.csv").unlink()
    intake = load_company(data, as_of=DEMO_AS_OF)
    assert intake.sources["accounts"] == f"accounts.{fmt}"
    _same_as_clean(intake, clean_intake)


def test_a_workbook_of_tables_may_be_an_xls(clean, clean_intake, tmp_path):
    """DATA itself may be a workbook of any kind, one sheet per table."""
    book = tmp_path / "company.xlsx"
    with pd.ExcelWriter(book) as writer:
        for table in ("accounts", "reps"):
            pd.read_csv(clean / f"{table}.csv", dtype=str, keep_default_na=False).to_excel(
                writer, sheet_name=table, index=False
            )
    xls = _office("xls", book, tmp_path)
    intake = load_company(xls, as_of=DEMO_AS_OF)
    assert intake.errors == []
    assert intake.sources["accounts"] == "company.xls [accounts]"
    _same_as_clean(intake, clean_intake, tables=["accounts", "reps"])


def test_a_corrupt_or_protected_workbook_is_an_error_not_a_traceback(clean, tmp_path):
    data = _copy(clean, tmp_path)
    (data / "accounts.csv").unlink()
    (data / "accounts.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    (data / "reps.csv").unlink()
    (data / "reps.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x01" * 300)
    intake = load_company(data, as_of=DEMO_AS_OF)
    files = sorted(e.file for e in intake.errors)
    assert files == ["accounts.xlsx", "reps.xls"]
    assert all("cannot read the file" in e.message for e in intake.errors)


# --------------------------------------------------------------------------- zip archives


def _zip(folder: Path, out: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, prefix + p.name)
    return out


def _leftovers(tmp_root: Path) -> list[str]:
    return sorted(p.name for p in tmp_root.iterdir() if "-zip-" in p.name)


def test_a_zip_of_the_tables_reads_as_the_folder_and_leaves_nothing(clean, clean_intake, tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    archive = _zip(clean, tmp_path / "exports.zip", prefix="Seller Inc export/")
    _same_as_clean(load_company(archive, as_of=DEMO_AS_OF), clean_intake)
    assert _leftovers(temp) == []
    # a folder holding the archive (and a mapping beside it) reads the same
    holder = tmp_path / "room"
    holder.mkdir()
    shutil.copy(archive, holder / "exports.zip")
    (holder / "notes.txt").write_text("index of the data room")
    intake = load_company(holder, as_of=DEMO_AS_OF)
    _same_as_clean(intake, clean_intake)
    assert _leftovers(temp) == []


def test_validate_prints_the_same_for_a_zip_as_for_the_folder(clean, tmp_path):
    archive = _zip(clean, tmp_path / "exports.zip")
    folder = run_cli("validate", clean, "--as-of", DEMO_AS_OF)
    zipped = run_cli("validate", archive, "--as-of", DEMO_AS_OF)
    assert folder.returncode == zipped.returncode == 0, zipped.stderr[-2000:]
    assert zipped.stdout == folder.stdout


def test_a_file_in_the_folder_and_in_its_archive_is_one_table_twice(clean, tmp_path):
    data = _copy(clean, tmp_path)
    _zip(clean, data / "exports.zip")
    intake = load_company(data, as_of=DEMO_AS_OF)
    clash = [e for e in intake.errors if e.table == "accounts"]
    assert clash and "accounts.csv (in exports.zip)" in clash[0].message


def _set_encrypted(path: Path) -> None:
    """Mark every member of a zip as encrypted (bit 0 of the general purpose flags)."""
    blob = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = blob.find(signature)
        while at != -1:
            blob[at + offset] |= 0x01
            at = blob.find(signature, at + 4)
    path.write_bytes(bytes(blob))


def _bad_archives(clean: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    made = {}
    escape = tmp_path / "escape.zip"
    with zipfile.ZipFile(escape, "w") as zf:
        zf.write(clean / "accounts.csv", "accounts.csv")
        zf.writestr("../../reps.csv", (clean / "reps.csv").read_text())
    made["escape"] = (escape, "outside the archive's folder")
    absolute = tmp_path / "absolute.zip"
    with zipfile.ZipFile(absolute, "w") as zf:
        zf.writestr("/etc/reps.csv", "rep_id,rep_name\n")
    made["absolute"] = (absolute, "outside the archive's folder")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("accounts.csv", "account_id,account_name\n" + "A,B\n" * 2_000_000)
    made["bomb"] = (bomb, "zip bomb")
    nested = tmp_path / "nested.zip"
    inner = _zip(clean, tmp_path / "inner.zip")
    with zipfile.ZipFile(nested, "w") as zf:
        zf.write(inner, "2026/inner.zip")
    made["nested"] = (nested, "'2026/inner.zip' is itself an archive")
    encrypted = _zip(clean, tmp_path / "encrypted.zip")
    _set_encrypted(encrypted)
    made["encrypted"] = (encrypted, "is encrypted")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("__MACOSX/._accounts.csv", "x")
    made["empty"] = (empty, "holds no files")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    made["broken"] = (broken, "cannot be opened")
    return made


@pytest.mark.parametrize("case", ["escape", "absolute", "bomb", "nested", "encrypted", "empty", "broken"])
def test_an_unsafe_archive_is_refused_and_nothing_is_unpacked(clean, tmp_path, monkeypatch, case):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    archive, said = _bad_archives(clean, tmp_path)[case]
    intake = load_company(archive, as_of=DEMO_AS_OF)
    (error,) = intake.errors
    assert error.file == archive.name and said in error.message and error.action
    assert _leftovers(temp) == []
    assert not (tmp_path.parent / "reps.csv").exists() and not Path("/etc/reps.csv").exists()


def test_limits_are_parameters(clean, tmp_path):
    archive = _zip(clean, tmp_path / "exports.zip")
    small = ArchiveLimits.from_params({"max_mb": 0.05, "max_ratio": 100, "max_members": 100})
    (error,) = load_company(archive, archive_limits=small).errors
    assert "MiB allowed" in error.message and "archive_limits.max_mb" in error.action
    few = ArchiveLimits.from_params({"max_mb": 100, "max_ratio": 100, "max_members": 3})
    (error,) = load_company(archive, archive_limits=few).errors
    assert "more than the 3 allowed" in error.message


def test_a_member_whose_entry_understates_its_size_is_not_unpacked_past_it(tmp_path):
    lying = tmp_path / "lying.zip"
    with zipfile.ZipFile(lying, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("accounts.csv", "x" * 3000)
    blob = bytearray(lying.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size: 3000 -> 100
        at = blob.find(signature)
        blob[at + offset : at + offset + 4] = (100).to_bytes(4, "little")
    lying.write_bytes(bytes(blob))
    with pytest.raises(ArchiveProblem, match=r"accounts\.csv"):
        unpack(lying, tmp_path / "out", ArchiveLimits(max_bytes=1 << 20, max_ratio=100, max_members=10))
    written = list((tmp_path / "out").rglob("accounts.csv"))
    assert all(p.stat().st_size <= 100 for p in written)


def test_run_on_a_refused_archive_exits_2_and_writes_nothing(clean, tmp_path):
    archive, _ = _bad_archives(clean, tmp_path)["escape"]
    out = tmp_path / "report"
    result = run_cli("run", archive, "--company", "Zip Co", "--as-of", DEMO_AS_OF, "--out", out)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "escape.zip" in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_archive_limits_parameter_is_validated(clean, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("archive_limits: {max_mb: -1}\n")
    result = run_cli("run", clean, "--company", "X", "--as-of", DEMO_AS_OF, "--out", tmp_path / "o", "--params", params)
    assert result.returncode == 2 and "archive_limits.max_mb must be a positive number" in result.stderr


# --------------------------------------------------------------------------- several files per table


def _split(data: Path, table: str, column: str, names) -> None:
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    (data / f"{table}.csv").unlink()
    year = frame[column].str[:4]
    for y, part in frame.groupby(year, sort=True):
        part.to_csv(data / names(y), index=False)


def test_a_table_split_by_year_reads_as_one(clean, clean_intake, tmp_path):
    data = _copy(clean, tmp_path)
    _split(data, "opportunities", "created_date", lambda y: f"opportunities_{y}.csv")
    _split(data, "activities", "activity_date", lambda y: f"Activities-{y}.CSV")
    intake = load_company(data, as_of=DEMO_AS_OF)
    _same_as_clean(intake, clean_intake)
    parts = [f for f in intake.files if f["table"] == "opportunities"]
    assert len(parts) >= 2 and sum(p["rows_kept"] for p in parts) == len(intake.tables["opportunities"])


def test_files_may_name_a_pattern(clean, clean_intake, tmp_path):
    data = _copy(clean, tmp_path)
    _split(data, "opportunities", "created_date", lambda y: f"pipeline export {y}.csv")
    (data / "mapping.yaml").write_text('files:\n  opportunities: "pipeline export *"\n')
    _same_as_clean(load_company(data, as_of=DEMO_AS_OF), clean_intake)


def test_a_key_in_two_files_is_an_error_naming_both(clean, tmp_path):
    data = _copy(clean, tmp_path)
    _split(data, "opportunities", "created_date", lambda y: f"opportunities_{y}.csv")
    parts = sorted(p.name for p in data.glob("opportunities_*.csv"))
    first = pd.read_csv(data / parts[0], dtype=str, keep_default_na=False)
    last = pd.read_csv(data / parts[-1], dtype=str, keep_default_na=False)
    pd.concat([last, first.head(2)]).to_csv(data / parts[-1], index=False)
    intake = load_company(data, as_of=DEMO_AS_OF)
    (error,) = intake.errors
    assert error.table == "opportunities" and error.column == "opportunity_id" and error.count == 2
    assert parts[0] in error.message and parts[-1] in error.message and "appear in both" in error.message


def test_warnings_of_a_split_table_name_the_file_and_row(clean, tmp_path):
    data = _copy(clean, tmp_path)
    _split(data, "opportunities", "created_date", lambda y: f"opportunities_{y}.csv")
    parts = sorted(data.glob("opportunities_*.csv"))
    frame = pd.read_csv(parts[-1], dtype=str, keep_default_na=False)
    frame.loc[1, "account_id"] = "NO-SUCH-ACCOUNT"
    frame.to_csv(parts[-1], index=False)
    intake = load_company(data, as_of=DEMO_AS_OF)
    (unknown,) = [w for w in intake.warnings if w.table == "opportunities" and "NO-SUCH-ACCOUNT" in w.message]
    assert unknown.file == parts[-1].name and unknown.rows == (3,)


# --------------------------------------------------------------------------- messy values


def test_messy_values_read_as_the_clean_ones(clean, clean_intake, tmp_path):
    """Upper-case file names, Windows line endings, keys with spaces around them,
    amounts with currency signs and thousands separators: the same company."""
    data = _copy(clean, tmp_path)
    opps = pd.read_csv(data / "opportunities.csv", dtype=str, keep_default_na=False)
    opps["account_id"] = "  " + opps["account_id"] + " "
    amounts = pd.to_numeric(opps["amount"])
    opps["amount"] = amounts.map(lambda v: f"${v:,.2f}")
    (data / "opportunities.csv").unlink()
    opps.to_csv(data / "OPPORTUNITIES.CSV", index=False, lineterminator="\r\n")
    accounts = (data / "accounts.csv").read_bytes().replace(b"\n", b"\r\n")
    (data / "accounts.csv").unlink()
    (data / "ACCOUNTS.csv").write_bytes(accounts)
    intake = load_company(data, as_of=DEMO_AS_OF)
    _same_as_clean(intake, clean_intake)


def test_ids_with_leading_zeros_stay_text(tmp_path):
    (tmp_path / "accounts.csv").write_text("account_id,account_name\n007,Bond Ltd\n7,Seven Inc\n")
    (tmp_path / "reps.csv").write_text("rep_id,rep_name\n01,Ann\n1,Bob\n")
    intake = load_company(tmp_path)
    assert intake.errors == []
    assert intake.tables["accounts"]["account_id"].tolist() == ["007", "7"]
    assert intake.tables["reps"]["rep_id"].tolist() == ["01", "1"]


def test_negative_amounts_in_parentheses_read_as_negative(tmp_path):
    """Accounting negatives are read as such, and so refused where SPEC §2 wants zero or more."""
    (tmp_path / "accounts.csv").write_text('account_id,account_name,annual_revenue\nA1,Alpha,"(1,500)"\n')
    (tmp_path / "reps.csv").write_text("rep_id,rep_name\nR1,Ann\n")
    (tmp_path / "opportunities.csv").write_text(
        'opportunity_id,account_id,amount,created_date\nO1,A1,"(£2,000)",2026-01-01\n'
    )
    intake = load_company(tmp_path)
    assert intake.tables["accounts"]["annual_revenue"].tolist() == [-1500]
    said = {(e.table, e.column): e.message for e in intake.errors}
    assert '"-1500"' in said["accounts", "annual_revenue"] and '"-2000"' in said["opportunities", "amount"]


def test_a_table_sent_as_csv_and_as_xlsx_is_an_error_naming_both(clean, tmp_path):
    data = _copy(clean, tmp_path)
    _as_workbook(data / "reps.csv", data / "reps.xlsx")
    intake = load_company(data, as_of=DEMO_AS_OF)
    (error,) = intake.errors
    assert error.table == "reps" and "reps.csv" in error.message and "reps.xlsx" in error.message


# --------------------------------------------------------------------------- files found by their columns


def test_a_file_named_like_no_table_is_found_by_its_columns(clean, clean_intake, tmp_path):
    data = _copy(clean, tmp_path)
    (data / "accounts.csv").rename(data / "export (3).csv")
    (data / "partners.csv").rename(data / "Book1.csv")  # partners: partner_id alone fits it
    intake = load_company(data, as_of=DEMO_AS_OF)
    _same_as_clean(intake, clean_intake)
    said = {w.file: w.message for w in intake.warnings if "from its columns" in w.message}
    assert said == {
        "export (3).csv": "read as the accounts table from its columns (its name is no table's)",
        "Book1.csv": "read as the partners table from its columns (its name is no table's)",
    }


def test_two_files_that_fit_one_table_are_left_alone(clean, tmp_path):
    data = _copy(clean, tmp_path)
    shutil.copy(data / "accounts.csv", data / "export (4).csv")
    (data / "accounts.csv").rename(data / "export (3).csv")
    intake = load_company(data, as_of=DEMO_AS_OF)
    assert [e.message.split(" (")[0] for e in intake.errors] == ["required table accounts not found"]
    ignored = sorted(w.file for w in intake.warnings if "ignored" in w.message)
    assert ignored == ["export (3).csv", "export (4).csv"]
