"""Cross-CRM duplicates and conflicting owners (SPEC §3-4) on hand-built accounts."""

from __future__ import annotations

import pandas as pd
import pytest

from diligence.metrics import merger

PARAMS = {"as_of": "2025-06-30"}


def _tables(rows: list[tuple], ended: tuple = ()) -> dict:
    """Rows of (account_id, account_name, domain, source_company, owner_rep_id)."""
    accounts = pd.DataFrame(
        rows, columns=["account_id", "account_name", "domain", "source_company", "owner_rep_id"], dtype="string"
    )
    reps = pd.DataFrame({"rep_id": ["r1", "r2", "r3"], "rep_name": ["Ann", "Bob", "Cy"]}, dtype="string")
    reps["end_date"] = pd.to_datetime(["2020-01-01" if r in ended else None for r in reps["rep_id"]])
    return {"accounts": accounts, "reps": reps}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme, Inc.", "acme"),
        ("ACME inc", "acme"),
        ("acme   LLC", "acme"),
        ("Acme L.L.C.", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Acme Holdings GmbH & Co. KG", "acme holdings"),
        ("Société Générale S.A.", "societe generale"),
        ("O'Neil & Sons", "oneil sons"),
        ("Incorporated", "incorporated"),  # a name that is only a suffix keeps it
        ("Coca-Cola Company", "coca cola"),
        ("Cobalt Corp", "cobalt"),  # "co" inside a word stays
        ("  ", None),
        (None, None),
    ],
)
def test_normalise_name(raw, expected):
    out = merger.normalise_name(pd.Series([raw], dtype="string"))
    assert (out.iloc[0] if pd.notna(out.iloc[0]) else None) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("acme.com.", "acme.com"),
        ("ACME.COM", "acme.com"),
        ("info@acme.com", "acme.com"),
        ("http://www2.acme.co.uk:8080/", "acme.co.uk"),
        ("shop.acme.com", "shop.acme.com"),
        ("n/a", None),
        ("-", None),
        (None, None),
    ],
)
def test_normalise_domain(raw, expected):
    out = merger.normalise_domain(pd.Series([raw], dtype="string"))
    assert (out.iloc[0] if pd.notna(out.iloc[0]) else None) == expected


def test_names_differing_by_case_punctuation_or_suffix_are_duplicates():
    tables = _tables(
        [
            ("A1", "Acme, Inc.", None, "Alpha", None),
            ("B1", "ACME LLC", None, "Beta", None),
            ("A2", "Globex Corporation", None, "Alpha", None),
            ("B2", "globex", None, "Beta", None),
            ("B3", "Initech", None, "Beta", None),
        ]
    )
    m = merger.metrics(tables, PARAMS)
    assert m["cross_crm_duplicates"] == 2
    assert m["cross_crm_conflicting_owners"] == 0
    pairs = merger.duplicate_pairs(tables, PARAMS)
    assert sorted(zip(pairs["account_id_a"], pairs["account_id_b"])) == [("A1", "B1"), ("A2", "B2")]
    assert set(pairs["matched_on"]) == {"name"}


def test_different_source_companies_are_required():
    tables = _tables(
        [
            ("A1", "Acme Inc", "acme.com", "Alpha", None),
            ("A2", "Acme", "acme.com", "alpha ", None),  # same source, other spelling
            ("B1", "Other", None, "Beta", None),
            ("X1", "Acme", "acme.com", None, None),  # no source: left out
        ]
    )
    assert merger.metrics(tables, PARAMS)["cross_crm_duplicates"] == 0


def test_three_rows_one_domain_give_two_pairs_and_both_keys_count_once():
    tables = _tables(
        [
            ("A", "Acme", "acme.com", "s1", None),
            ("B", "Acme", "www.acme.com", "s2", None),  # name and domain: one pair
            ("C", "Acme Europe", "acme.com", "s2", None),
        ]
    )
    assert merger.metrics(tables, PARAMS)["cross_crm_duplicates"] == 2
    pairs = merger.duplicate_pairs(tables, PARAMS).set_index("account_id_b")
    assert pairs.loc["B", "matched_on"] == "domain and name"
    assert pairs.loc["C", "matched_on"] == "domain"
    assert (pairs["account_id_a"] == "A").all()


def test_conflicting_owners_need_two_active_different_reps():
    tables = _tables(
        [
            ("A1", "Acme", None, "s1", "r1"),
            ("B1", "Acme", None, "s2", "r2"),  # conflict
            ("A2", "Beta", None, "s1", "r1"),
            ("B2", "Beta", None, "s2", "r1"),  # same rep
            ("A3", "Gamma", None, "s1", "r1"),
            ("B3", "Gamma", None, "s2", "r3"),  # r3 departed
            ("A4", "Delta", None, "s1", "r1"),
            ("B4", "Delta", None, "s2", None),  # one unowned
        ],
        ended=("r3",),
    )
    m = merger.metrics(tables, PARAMS)
    assert m["cross_crm_duplicates"] == 4
    assert m["cross_crm_conflicting_owners"] == 1
    pairs = merger.duplicate_pairs(tables, PARAMS)
    assert pairs.loc[0, ["account_id_a", "account_id_b", "conflicting_owners"]].tolist() == ["A1", "B1", True]
    assert pairs["conflicting_owners"].sum() == 1


def test_conflicting_owners_with_a_group_of_many():
    # One domain on 2 + 2 rows: 4 cross pairs; owners r1, r2 | r1, r2 -> 2 pairs share an owner.
    tables = _tables(
        [
            ("A1", "x1", "acme.com", "s1", "r1"),
            ("A2", "x2", "acme.com", "s1", "r2"),
            ("B1", "y1", "acme.com", "s2", "r1"),
            ("B2", "y2", "acme.com", "s2", "r2"),
        ]
    )
    m = merger.metrics(tables, PARAMS)
    assert (m["cross_crm_duplicates"], m["cross_crm_conflicting_owners"]) == (4, 2)


def test_none_without_source_company_or_with_one_source():
    tables = _tables([("A1", "Acme", None, "s1", None), ("A2", "Acme", None, "s1", None)])
    m = merger.metrics(tables, PARAMS)
    assert m["cross_crm_duplicates"] is None and m["cross_crm_conflicting_owners"] is None
    assert m["source_companies"] == 1
    tables["accounts"] = tables["accounts"].drop(columns="source_company")
    assert merger.metrics(tables, PARAMS)["cross_crm_duplicates"] is None
    assert merger.duplicate_pairs(tables, PARAMS).empty
    assert merger.fuzzy_candidates(tables, PARAMS).empty


def test_without_domain_column_names_still_match():
    tables = _tables([("A1", "Acme", None, "s1", None), ("B1", "acme inc", None, "s2", None)])
    tables["accounts"] = tables["accounts"].drop(columns="domain")
    assert merger.metrics(tables, PARAMS)["cross_crm_duplicates"] == 1


def test_duplicate_pairs_caps_listing_but_not_counting():
    rows = [(f"A{i}", f"n{i}", "big.com", "s1", None) for i in range(5)]
    rows += [(f"B{i}", f"m{i}", "big.com", "s2", None) for i in range(5)]
    tables = _tables(rows)
    assert merger.metrics(tables, PARAMS)["cross_crm_duplicates"] == 25
    assert len(merger.duplicate_pairs(tables, PARAMS, per_source_cap=2)) == 4
    assert len(merger.duplicate_pairs(tables, PARAMS, limit=3)) == 3


def test_fuzzy_candidates_find_near_names_but_not_exact_duplicates():
    tables = _tables(
        [
            ("A1", "Acme Widgets", None, "s1", None),
            ("B1", "Acme Widget", None, "s2", None),  # near
            ("A2", "Globex", None, "s1", None),
            ("B2", "GLOBEX Inc", None, "s2", None),  # exact after normalising: not a candidate
            ("A3", "Wonka Industries", None, "s1", None),
            ("B3", "Vonka Industries", None, "s2", None),  # first letter differs
            ("A4", "Umbrella", None, "s1", None),
            ("A5", "Acme Widgetz", None, "s1", None),  # same source as A1: not a pair with it
        ]
    )
    out = merger.fuzzy_candidates(tables, PARAMS, score_cutoff=90)
    pairs = set(zip(out["account_id_a"], out["account_id_b"]))
    assert pairs == {("A1", "B1"), ("A3", "B3"), ("A5", "B1")}
    assert out["score"].between(90, 100).all()
    assert out["score"].is_monotonic_decreasing


def test_fuzzy_candidates_skip_pairs_sharing_a_domain():
    tables = _tables(
        [
            ("A1", "Acme Widgets", "acme.com", "s1", None),
            ("B1", "Acme Widget", "acme.com", "s2", None),
        ]
    )
    assert merger.fuzzy_candidates(tables, PARAMS, score_cutoff=90).empty


def test_cross_source_pairs_counts_from_group_sizes():
    frame = pd.DataFrame({"k": ["x", "x", "x", "y", "y", None], "source": ["a", "b", "b", "a", "a", "b"]})
    assert merger.cross_source_pairs(frame, ["k"]) == 2


def test_normalising_keeps_the_index():
    names = pd.Series(["Acme Inc", "Globex"], index=[7, 3], dtype="string")
    assert merger.normalise_name(names).to_dict() == {7: "acme", 3: "globex"}
    domains = pd.Series(["www.acme.com", None], index=["x", "y"], dtype="string")
    out = merger.normalise_domain(domains)
    assert out["x"] == "acme.com" and pd.isna(out["y"])
