"""The portfolio file of `diligence batch` (SPEC §7): parsing, defaults, validation."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from diligence.errors import InputError
from diligence.execution.batch.portfolio_file import load_portfolio


def write(tmp_path: Path, text: str, name: str = "portfolio.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> str:
    """Everything an InputError says: its message and each listed problem."""
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    return "\n".join([str(info.value), *map(str, info.value.problems)])


def test_companies_in_file_order_with_paths_relative_to_the_file(tmp_path):
    path = write(
        tmp_path,
        """
        companies:
          - name: Zeta Corp
            data: zeta/
          - name: Alpha Software
            data: sub/alpha.xlsx
        """,
    )
    portfolio = load_portfolio(path)
    assert [c.name for c in portfolio.companies] == ["Zeta Corp", "Alpha Software"]
    assert [c.slug for c in portfolio.companies] == ["zeta-corp", "alpha-software"]
    assert portfolio.companies[0].data == str((tmp_path / "zeta").resolve())
    assert portfolio.companies[1].data == str((tmp_path / "sub" / "alpha.xlsx").resolve())
    assert portfolio.path == path.resolve()


def test_company_values_beat_defaults_and_params_merge_by_name(tmp_path):
    path = write(
        tmp_path,
        """
        defaults:
          as_of: 2026-06-30
          mapping: salesforce
          params:
            active_window_days: 60
            thresholds: {RF1: 0.3}
        companies:
          - name: A
            data: a
          - name: B
            data: b
            as_of: "2026-03-31"
            mapping: maps/b.yaml
            params:
              rules_of_engagement_documented: true
              thresholds: {RF2: 3}
        """,
    )
    a, b = load_portfolio(path).companies
    assert a.as_of == "2026-06-30" and a.params["as_of"] == "2026-06-30"
    assert b.as_of == "2026-03-31" and b.params["as_of"] == "2026-03-31"
    assert a.mapping == "salesforce", "a preset name stays a name"
    assert b.mapping == str((tmp_path / "maps" / "b.yaml").resolve()), "a mapping file is relative to the portfolio"
    assert a.params["active_window_days"] == b.params["active_window_days"] == 60
    assert a.params["rules_of_engagement_documented"] is False
    assert b.params["rules_of_engagement_documented"] is True
    # thresholds merge key by key: B keeps the default RF1 override and adds RF2.
    assert a.params["thresholds"]["RF1"] == 0.3 and a.params["thresholds"]["RF2"] == 2.0
    assert b.params["thresholds"]["RF1"] == 0.3 and b.params["thresholds"]["RF2"] == 3
    assert b.params["thresholds"]["W5"] == [3.0, 5.0], "untouched thresholds keep their defaults"


def test_as_of_in_params_and_today_when_absent(tmp_path):
    path = write(
        tmp_path,
        """
        companies:
          - {name: A, data: a, params: {as_of: 2025-12-31}}
          - {name: B, data: b}
        """,
    )
    a, b = load_portfolio(path, today=dt.date(2026, 1, 15)).companies
    assert a.as_of == "2025-12-31"
    assert b.as_of == "2026-01-15"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("companies: []\n", "at least one company"),
        ("defaults: {as_of: 2026-06-30}\n", "at least one company"),
        ("companies:\n  - data: a\n", "name is missing"),
        ("companies:\n  - name: A\n", "data is missing"),
        ("companies:\n  - {name: A, data: a}\n  - {name: A, data: b}\n", "duplicate company name 'A'"),
        (
            "companies:\n  - {name: Acme Inc, data: a}\n  - {name: ACME INC, data: b}\n",
            "duplicate company name 'ACME INC'",
        ),
        ("companies:\n  - {name: Acme Inc., data: a}\n  - {name: acme-inc, data: b}\n", "same folder name 'acme-inc'"),
        ("companies:\n  - {name: A, data: a, colour: red}\n", "unknown key(s) colour"),
        (
            "defaults: {as_of: 2026-06-30, workers: 4}\ncompanies:\n  - {name: A, data: a}\n",
            "defaults: unknown key(s) workers",
        ),
        ("portfolio: x\ncompanies:\n  - {name: A, data: a}\n", "unknown key(s) portfolio"),
        ("companies:\n  - {name: A, data: a, as_of: 2026-02-30}\n", "not a date (day is out of range"),
        ("companies:\n  - {name: A, data: a, as_of: yesterday}\n", "'yesterday' is not a date"),
        (
            "companies:\n  - {name: A, data: a, params: {active_window_day: 90}}\n",
            "unknown parameter(s) active_window_day",
        ),
        ("defaults: {params: {thresholds: {RF9: 1}}}\ncompanies:\n  - {name: A, data: a}\n", "unknown flag id(s) RF9"),
        (
            "companies:\n  - {name: A, data: a, params: {active_window_days: -5}}\n",
            "active_window_days must be a positive",
        ),
        ("companies:\n  - {name: A, data: a, params: [1, 2]}\n", "params must be a mapping"),
        ("companies:\n  - just a string\n", "each company must be a mapping"),
        ("- name: A\n  data: a\n", "must be a mapping with a 'companies' list"),
    ],
)
def test_bad_portfolio_files_are_input_errors(tmp_path, text, expected):
    assert expected in problems(write(tmp_path, text))


def test_every_problem_is_listed_with_its_company(tmp_path):
    path = write(
        tmp_path,
        """
        companies:
          - {name: Good, data: g}
          - {name: Typo Co, data: t, params: {white_space_min_acounts: 3}}
          - {data: nameless}
        """,
    )
    text = problems(path)
    assert "companies[1] (Typo Co)" in text and "white_space_min_acounts" in text
    assert "companies[2]: name is missing" in text
    assert "2 problems" in text


def test_missing_file_and_not_yaml(tmp_path):
    assert "does not exist" in problems(tmp_path / "nope.yaml")
    assert "not valid YAML" in problems(write(tmp_path, "companies: [unclosed\n"))
    assert "is not a file" in problems(tmp_path)


def test_data_that_does_not_exist_is_not_a_portfolio_error(tmp_path):
    """Bad data fails that company when it runs, not the whole batch up front."""
    path = write(tmp_path, "companies:\n  - {name: A, data: missing/}\n")
    (company,) = load_portfolio(path).companies
    assert company.data == str((tmp_path / "missing").resolve())
