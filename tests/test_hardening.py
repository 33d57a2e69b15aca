"""Refusals where a crash or a silent wrong answer used to be: bad parameters, dates and numbers
are exit 2 before any step, with a message that says what to do."""

from __future__ import annotations

import shutil
import time

import pandas as pd

from tests.conftest import run_cli


def _run(data, tmp_path, *extra):
    return run_cli("run", data, "--company", "X", "--out", tmp_path / "out", *extra)


def test_a_misspelt_column_parameter_is_refused_with_a_suggestion(small_company, tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("comparable_by: [segmnet]\n")
    result = _run(small_company, tmp_path, "--params", params)
    assert result.returncode == 2 and "Did you mean segment?" in result.stderr
    params.write_text("white_space_dimensions: [segment, regoin]\n")
    result = _run(small_company, tmp_path, "--params", params)
    assert result.returncode == 2 and "'regoin', which is not a column of accounts" in result.stderr
    assert not (tmp_path / "out").exists()


def test_as_of_dates_outside_the_data_or_the_calendar_are_refused(small_company, tmp_path):
    result = _run(small_company, tmp_path, "--as-of", "2000-01-01")
    assert result.returncode == 2 and "before every date in the data" in result.stderr
    result = _run(small_company, tmp_path, "--as-of", "0001-01-01")
    assert result.returncode == 2 and result.stderr.startswith("error: --as-of: 0001-01-01 is outside the dates")
    params = tmp_path / "p.yaml"
    params.write_text("as_of: 2024-02-30\n")
    result = _run(small_company, tmp_path, "--params", params)
    assert result.returncode == 2 and "not a date" in result.stderr


def test_absurd_numbers_are_errors_naming_the_rows(small_company, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_company, data)
    accounts = pd.read_csv(data / "accounts.csv", dtype=str)
    accounts.loc[3, "potential"] = "1e308"
    accounts.to_csv(data / "accounts.csv", index=False)
    result = _run(data, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "column potential: 1 value(s) of 1,000,000,000,000,000 or more" in result.stderr and "row 5" in result.stderr


def test_a_header_only_optional_table_counts_as_not_provided(small_company, tmp_path):
    from diligence.intake import load_company
    from diligence.metrics import coverage
    from diligence.params import resolve_params
    from diligence.synth import DEMO_AS_OF

    data = tmp_path / "data"
    shutil.copytree(small_company, data)
    header = (data / "activities.csv").read_text().splitlines()[0]
    (data / "activities.csv").write_text(header + "\n")
    intake = load_company(data, as_of=DEMO_AS_OF)
    assert "activities" not in intake.tables
    assert any(w.table == "activities" and "treated as not provided" in w.message for w in intake.warnings)
    m = coverage.metrics(intake.tables, resolve_params({"as_of": DEMO_AS_OF}))
    assert m["assigned_not_worked_pct"] is None  # not assessed, never "100% not worked"


def test_synth_refuses_impossible_sizes():
    result = run_cli("synth", "--out", "unused", "--accounts", "0")
    assert result.returncode == 2 and "at least 100" in result.stderr and "Traceback" not in result.stderr


def test_an_as_of_soon_after_the_first_hire_runs(small_company, tmp_path):
    from diligence.intake import load_company

    reps = load_company(small_company).tables["reps"]
    early = (reps["hire_date"].min() + pd.Timedelta(days=150)).date().isoformat()
    result = _run(small_company, tmp_path, "--as-of", early, "--formats", "html")
    assert result.returncode == 0, result.stderr


def test_report_totals_and_footers_are_set_aside_not_read_as_accounts(small_company, tmp_path):
    from diligence.intake import load_company
    from diligence.synth import DEMO_AS_OF

    data = tmp_path / "data"
    shutil.copytree(small_company, data)
    header = [h.strip('"') for h in (data / "accounts.csv").read_text().splitlines()[0].split(",")]
    blank = [""] * (len(header) - 1)
    potential = header.index("potential")
    total = ["Total", *blank]
    total[potential] = "25000000"
    lines = [
        ",".join(total),
        ",".join(["Grand Totals (400 records)", *blank]),
        ",".join(['"Confidential Information - Do Not Distribute"', *blank]),
        ",".join(['"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."', *blank]),
        ",".join(["TOTAL-001", "Total Fitness GmbH", *[""] * (len(header) - 2)]),  # a real account that says total
    ]
    with open(data / "accounts.csv", "a") as f:
        f.write("\n".join(lines) + "\n")
    intake = load_company(data, as_of=DEMO_AS_OF)
    accounts = intake.tables["accounts"]
    assert len(accounts) == 401 and "TOTAL-001" in set(accounts["account_id"])
    assert not {"Total", "Grand Totals (400 records)"} & set(accounts["account_id"])
    (warning,) = [w for w in intake.warnings if "summary or footer" in w.message]
    assert warning.count == 4 and warning.rows == (402, 403, 404, 405) and '"Total"' in warning.message


def test_files_named_like_a_table_that_cannot_be_opened_are_errors(small_company, tmp_path):
    import os

    from diligence.intake import load_company

    data = tmp_path / "data"
    shutil.copytree(small_company, data)
    (data / "partners.csv").unlink()
    (data / "partners.csv").symlink_to(tmp_path / "nowhere.csv")
    (data / "rep_survey.csv").unlink()
    os.mkfifo(data / "rep_survey.csv")  # never opened: reading a pipe would wait for ever
    (data / "activities.csv").unlink()
    (data / "activities.csv").mkdir()
    (data / "archive").mkdir()  # a plain folder is no table
    started = time.perf_counter()
    intake = load_company(data)
    assert time.perf_counter() - started < 60
    found = {(e.table, e.message) for e in intake.errors}
    assert ("partners", "cannot read partners.csv: it is a link to a file that does not exist") in found
    assert ("rep_survey", "cannot read rep_survey.csv: it is not a regular file (a pipe or a device)") in found
    assert ("activities", "cannot read activities.csv: it is a folder, not a file") in found
    assert len(intake.errors) == 3


def test_header_encoding_and_nul_troubles_are_warned(small_company, tmp_path):
    from diligence.intake import load_company

    data = tmp_path / "data"
    shutil.copytree(small_company, data)
    lines = (data / "accounts.csv").read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ',"account_name",""'] + [line + ",X,Y" for line in lines[1:]]
    (data / "accounts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(data / "accounts.csv", "ab") as f:
        f.write("ZZ-8,Müller Werke,,,,,,,,,,,,\n".encode())
        f.write("ZZ-9,Café Latin,,,,,,,,,,,,\n".encode("latin-1"))
    activities = (data / "activities.csv").read_text(encoding="utf-8").splitlines()
    assert len("\n".join(activities)) > 70_000, "the NUL must sit past the sniffed head"
    activities[-3] = activities[-3].replace("A", "A\x00", 1)
    (data / "activities.csv").write_text("\n".join(activities) + "\n", encoding="utf-8")
    intake = load_company(data)
    said = [w.message for w in intake.warnings]
    assert any('the header "account_name" appears 2 times (columns 2, 13)' in m for m in said)
    assert any("1 column(s) without a header (column 14)" in m for m in said)
    assert any("starts as UTF-8 but later lines are not" in m for m in said)
    assert any("held NUL bytes, removed" in m for m in said)
    assert not intake.tables["activities"]["activity_id"].str.contains("\x00", regex=False).any()


def test_a_cut_off_file_is_said_and_validate_counts_once(small_company, tmp_path):
    from diligence.intake import load_company

    data = tmp_path / "data"
    shutil.copytree(small_company, data)
    raw = (data / "accounts.csv").read_bytes().split(b"\n")
    (data / "accounts.csv").write_bytes(b"\n".join(raw[:101]) + b"\n" + raw[101][:12])
    intake = load_company(data)
    (cut,) = [w for w in intake.warnings if "cut off" in w.message]
    assert "row 102 has 2 of" in cut.message
    result = run_cli("validate", data)
    assert result.returncode == 0 and result.stdout.count("error(s),") == 1, result.stdout[-500:]


def test_a_number_beyond_the_float_range_is_unreadable_not_a_crash():
    from diligence.intake.parsing import parse_numbers

    values, bad = parse_numbers(pd.Series(["9" * 400, "12", None, "1,234.5"], dtype="string"))
    assert bad.tolist() == [True, False, False, False]
    assert values.iloc[1:].tolist()[0] == 12.0 and values.iloc[3] == 1234.5 and pd.isna(values.iloc[0])


def test_an_amount_with_a_currency_sign_or_a_whole_number_has_no_third_decimal():
    from diligence.intake.parsing import number_style_evidence, parse_integers, parse_numbers

    money = pd.Series(["€1.000", "USD 2,500", "1.234 €", "1.000", "(£1.500)", "3.5"], dtype="string")
    assert parse_numbers(money)[0].tolist() == [1000.0, 2500.0, 1234.0, 1.0, -1500.0, 3.5]
    assert parse_numbers(money, european=True)[0].tolist() == [1000.0, 2500.0, 1234.0, 1000.0, -1500.0, 3.5]
    assert number_style_evidence(money) == (1, 0, 1), "only the bare 1.000 reads two ways"
    employees, bad = parse_integers(pd.Series(["1.000", "2,500", "250", "1.5"], dtype="string"))
    assert employees.tolist()[:3] == [1000, 2500, 250] and bad.tolist() == [False, False, False, True]


def _workbook(path, sheets: dict) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)


def test_a_table_on_a_later_sheet_is_found_and_said_and_problems_name_the_sheet(tmp_path):
    import pytest

    from diligence.intake.readers import ReadProblem, read_excel

    table = [["account_id", "account_name"], ["A1", "One"], ["A2", "Two"]]
    _workbook(tmp_path / "empty_first.xlsx", {"Cover": [], "Data": table})
    _workbook(tmp_path / "cover_first.xlsx", {"Cover": [["Accounts export"], ["Prepared 2026-09-30"]], "Data": table})
    for name in ("empty_first.xlsx", "cover_first.xlsx"):
        raw = read_excel(tmp_path / name)
        assert raw.name == f"{name} [Data]" and raw.frame["account_id"].tolist() == ["A1", "A2"]
        assert any("read sheet [Data]" in note and "[Cover]" in note for note, _ in raw.notes)
    _workbook(tmp_path / "nothing.xlsx", {"Cover": [], "Notes": [["just a title"]]})
    with pytest.raises(ReadProblem, match=r"no sheet of the workbook holds a table \(\[Cover\] the sheet is empty"):
        read_excel(tmp_path / "nothing.xlsx")
    assert read_excel(tmp_path / "cover_first.xlsx", prefer=("cover",)).name == "cover_first.xlsx [Cover]"


def test_nan_thresholds_and_reversed_bands_are_refused():
    import pytest

    from diligence.errors import InputError
    from diligence.params import Params

    for thresholds, said in (
        ({"RF1": float("nan")}, "threshold RF1 must be a number, got nan"),
        ({"W5": [5, 3]}, "threshold W5 must be a band [low, high] with low ≤ high"),
        ({"W5": [float("inf"), 9]}, "threshold W5 must be a band"),
    ):
        with pytest.raises(InputError) as refused:
            Params.resolve({"as_of": "2026-09-30", "thresholds": thresholds}, source="--params")
        assert said in str(refused.value)


def test_a_file_named_like_no_table_is_warned_as_ignored(small_company, tmp_path):
    from diligence.intake import load_company

    data = tmp_path / "data"
    shutil.copytree(small_company, data)
    shutil.copy(data / "opportunities.csv", data / "pipeline_backup.csv")
    intake = load_company(data)
    (ignored,) = [w for w in intake.warnings if w.file == "pipeline_backup.csv"]
    assert "ignored" in ignored.message and "name it after its table" in ignored.action
