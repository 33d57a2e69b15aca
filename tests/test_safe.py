"""Names made from client strings: slugs, Excel text, sheet and table names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diligence.report.safe import excel_sheet_name, excel_table_name, excel_text, slugify

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc", "etc"),
        ("../../x", "x"),
        ("..", "company"),
        ("", "company"),
        ("   ", "company"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("Alpha Software, Inc.", "alpha-software-inc"),
        ("Société Générale", "societe-generale"),
        ("Ärzte & Söhne GmbH", "arzte-sohne-gmbh"),
        ("東京商事", "company"),
        (".hidden", "hidden"),
        ("a/b\\c:d", "a-b-c-d"),
        ("CON", "con-company"),
        ("nul", "nul-company"),
    ],
)
def test_slugify_known_names(name, expected):
    assert slugify(name) == expected


def test_slugify_caps_length_without_trailing_dash():
    slug = slugify("word " * 100)
    assert len(slug) <= 80
    assert SLUG.fullmatch(slug)
    assert slugify("a" * 200) == "a" * 80


@given(st.text())
def test_slugify_is_always_one_safe_path_component(name):
    slug = slugify(name)
    assert 1 <= len(slug) <= 80
    assert SLUG.fullmatch(slug), slug
    assert slug == slugify(name)  # deterministic


def test_excel_text_strips_control_characters_and_leaves_numbers():
    assert excel_text("a\x00b\x07c\x1fd") == "abcd"
    assert excel_text("tab\tand\nnewline") == "tab\tand\nnewline"
    assert excel_text("\r=1") == "\n=1"
    assert excel_text('=HYPERLINK("http://x","y")') == '=HYPERLINK("http://x","y")'
    assert excel_text(3.5) == 3.5
    assert excel_text(7) == 7
    assert excel_text(None) is None
    assert len(excel_text("x" * 40_000)) == 32_767


def test_excel_sheet_name_valid_and_unique():
    taken = {"summary", "data quality", "definitions"}
    names = [
        excel_sheet_name(title, taken)
        for title in ["Summary", "Coverage: who? [1/2]", "x" * 40, "x" * 40, "'quoted'", "", "History", "a\x00b"]
    ]
    assert names[0] == "Summary (2)"
    assert names[1] == "Coverage who 1 2"
    assert names[2] == "x" * 31
    assert names[3] == "x" * 27 + " (2)"
    assert names[4] == "quoted"
    assert names[5] == "Sheet"
    assert names[6] == "History (step)"
    assert names[7] == "ab"
    for name in names:
        assert len(name) <= 31
        assert not re.search(r"[\[\]:*?/\\]", name)
        assert not name.startswith("'") and not name.endswith("'")
    assert len({n.lower() for n in names}) == len(names)


def test_excel_table_name_valid_unique_and_not_a_cell_reference():
    taken: set[str] = set()
    names = [
        excel_table_name("Accounts by segment", "t01_01", taken),
        excel_table_name("Accounts by segment", "t01_01", taken),
        excel_table_name("<script>", "t01_02", taken),
        excel_table_name("", "t01_03", taken),
        excel_table_name("Größe", "t01_04", taken),
    ]
    assert names == [
        "t01_01_Accounts_by_segment",
        "t01_01_Accounts_by_segment_2",
        "t01_02_script",
        "t01_03",
        "t01_04_Groe",
    ]
    for name in names:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)


def test_css_string_cannot_end_the_string_or_the_style_element():
    from diligence.report.safe import css_string

    text = css_string("Beta \"Corp\"\\ </style><script>x</script>\n& 'q'")
    assert text.startswith('"') and text.endswith('"')
    inner = text[1:-1]
    for bad in ('"', "<", ">", "&", "'", "\n"):
        assert bad not in inner
    assert "\\22 " in inner and "\\3c /style\\3e " in inner and "\\5c " in inner
