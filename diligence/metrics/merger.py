"""Post-merger overlap: the same customer held in two legacy CRMs, perhaps by two reps.

Definitions follow SPEC §3. A **cross-CRM duplicate** is a pair of accounts
with different ``source_company`` and the same normalised domain or the same
normalised name (:func:`normalise_domain`, :func:`normalise_name`). A pair
matching on both counts once. Rows with a blank ``source_company`` cannot be
said to come from a different CRM and are left out; source companies compare
trimmed and case-insensitively. Pairs are counted from group sizes, never by
listing them, so a large group costs nothing; only the evidence tables list
pairs, with a cap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from diligence.metrics.coverage import REP_ASSIGNED, classify_accounts
from diligence.metrics.memo import once_per_tables

#: Legal-form words dropped from the end of a name (after punctuation is removed,
#: so ``L.L.C.`` reads ``llc`` and ``S.A.`` reads ``sa``).
LEGAL_SUFFIXES: tuple[str, ...] = (
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "se",
    "sa",
    "sas",
    "sarl",
    "spa",
    "srl",
    "sl",
    "bv",
    "nv",
    "plc",
    "pty",
    "pte",
    "oy",
    "oyj",
    "ab",
    "as",
    "asa",
    "aps",
    "kk",
    "pvt",
    "sdn",
    "bhd",
)
_SUFFIX_RE = r"(?:\s+(?:" + "|".join(LEGAL_SUFFIXES) + r"))+$"
#: Scheme, user part and ``www.`` skipped; the host runs to a path, query or port.
_HOST_RE = r"^(?:[a-z][a-z0-9+.\-]*://)?(?:[^@/]*@)?(?:www\d*\.)?(?P<host>[^/?#:]*)"


def _to_arrow(values: pd.Series) -> pa.Array:
    return pa.array(values.astype("string").array)


def _from_arrow(values: pa.Array, index: pd.Index) -> pd.Series:
    out = pd.Series(pd.arrays.ArrowStringArray(values), index=index).astype("string")
    return out.mask(out == "")


def normalise_name(names: pd.Series) -> pd.Series:
    """Account names reduced to what identifies the company.

    Unicode-compatibility decomposed (full-width letters become plain ones),
    accents removed, lower-cased (``ß`` -> ``ss``), periods and apostrophes
    deleted (``L.L.C.`` -> ``llc``, ``O'Neil`` -> ``oneil``), every other
    character that is not a letter, digit or mark in any script turned into a
    space, whitespace collapsed, then legal-form suffixes
    (:data:`LEGAL_SUFFIXES`) dropped from the end, repeatedly
    (``Acme Co., Ltd.`` -> ``acme``). A name that is only a suffix keeps it.
    Blank results are missing.

    Returns a ``string`` Series indexed like ``names``.
    """
    # pyarrow's RE2 kernels: fast on a million names, and Unicode-aware (\p{L}).
    a = pc.utf8_normalize(_to_arrow(names), "NFKD")
    a = pc.replace_substring_regex(a, r"\p{Mn}+", "")
    a = pc.replace_substring(pc.utf8_lower(a), "ß", "ss")
    a = pc.replace_substring_regex(a, r"[.'`\x{2019}]", "")
    a = pc.utf8_trim_whitespace(pc.replace_substring_regex(a, r"(?:[^\p{L}\p{N}\p{M}]|_)+", " "))
    a = pc.replace_substring_regex(a, _SUFFIX_RE, "")
    return _from_arrow(a, names.index)


def normalise_domain(domains: pd.Series) -> pd.Series:
    """Web domains reduced to the host name.

    Lower-cased and trimmed; scheme (``https://``), user part (``info@``),
    path, query, port, a leading ``www.`` (or ``www2.``) and trailing dots
    removed. A value without a dot after this (``n/a``, ``-``) is missing.

    Returns a ``string`` Series indexed like ``domains``.
    """
    a = pc.utf8_lower(pc.utf8_trim_whitespace(_to_arrow(domains)))
    host = pc.struct_field(pc.extract_regex(a, _HOST_RE), [0])
    out = _from_arrow(pc.utf8_rtrim(host, characters="."), domains.index)
    return out.where(out.str.contains(".", regex=False).fillna(False).astype(bool))


@once_per_tables(("accounts", "reps"), ("as_of",))
def match_keys(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame | None:
    """What the duplicate search matches on, per account with a source company.

    Columns: ``account_id``, ``source`` (trimmed, lower-cased),
    ``name_key`` (:func:`normalise_name`), ``domain_key``
    (:func:`normalise_domain`; missing without a ``domain`` column),
    ``owner`` (``owner_rep_id`` when the account is rep-assigned, else
    missing) and an integer ``*_code`` for each of these four (-1 where
    missing). Computing it once and passing it as ``keys`` to
    :func:`duplicate_pairs` and :func:`fuzzy_candidates` saves normalising a
    large table three times.

    ``None`` when there is no ``source_company`` column or fewer than two
    source companies. Built once for the same tables and T
    (:func:`~diligence.metrics.memo.once_per_tables`).
    """
    accounts = tables["accounts"]
    source = _sources(accounts)
    if source is None or source.nunique() < 2:
        return None
    assigned = classify_accounts(accounts, tables["reps"], pd.Timestamp(params["as_of"])) == REP_ASSIGNED
    blank = pd.Series(pd.NA, index=accounts.index, dtype="string")
    keyed = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "source": source,
            "name_key": normalise_name(accounts["account_name"]),
            "domain_key": normalise_domain(accounts["domain"]) if "domain" in accounts else blank,
            "owner": accounts["owner_rep_id"].where(assigned) if "owner_rep_id" in accounts else blank,
        },
        index=accounts.index,
    )
    keyed = keyed.loc[keyed["source"].notna()]
    # Integer codes so that the pair counts group on numbers, not text.
    return keyed.assign(**{f"{c}_code": _codes(keyed[c]) for c in ("source", "name_key", "domain_key", "owner")})


def _sources(accounts: pd.DataFrame) -> pd.Series | None:
    """``source_company`` trimmed and lower-cased, blanks missing (None without the column)."""
    if "source_company" not in accounts:
        return None
    source = accounts["source_company"].astype("string").str.strip().str.lower()
    return source.mask(source == "")


def _codes(values: pd.Series) -> np.ndarray:
    """Integer code of each distinct value, -1 where missing."""
    return pd.factorize(values)[0].astype(np.int64)


def _combine(codes: list[np.ndarray]) -> np.ndarray:
    """One non-negative code per distinct combination of non-negative codes."""
    key = pd.factorize(codes[0])[0].astype(np.int64)
    for c in codes[1:]:
        key = pd.factorize(key * (int(c.max()) + 1) + c)[0].astype(np.int64)
    return key


def cross_source_pairs(frame: pd.DataFrame, keys: list[str], source: str = "source") -> int:
    """Number of pairs of rows that agree on every column of ``keys`` and differ
    on ``source``, counted from group sizes.

    Within a group of ``n`` rows of which ``n_s`` come from source ``s``, the
    cross-source pairs are ``(n² - Σ n_s²) / 2``. Rows with a missing key or
    source are left out; ``int64`` columns are taken as codes, -1 missing.
    """
    codes = [frame[c].to_numpy() if frame[c].dtype == np.int64 else _codes(frame[c]) for c in [*keys, source]]
    present = np.logical_and.reduce([c >= 0 for c in codes])
    if not present.any():
        return 0
    codes = [c[present] for c in codes]
    group = _combine(codes[:-1])
    n_group = np.bincount(group).astype(np.int64)
    n_source = np.bincount(_combine([group, codes[-1]])).astype(np.int64)
    return int(((n_group**2).sum() - (n_source**2).sum()) // 2)


def _union_pairs(frame: pd.DataFrame, extra: list[str] | None = None) -> int:
    """Pairs matching on domain or name (both counted once), each key refined by ``extra``."""
    extra = extra or []
    count = lambda keys: cross_source_pairs(frame, keys + extra, "source_code")  # noqa: E731
    return count(["domain_key_code"]) + count(["name_key_code"]) - count(["domain_key_code", "name_key_code"])


def metrics(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> dict[str, float | int | None]:
    """SPEC §4 merger metrics.

    - ``cross_crm_duplicates``: pairs of accounts from different source
      companies with the same normalised domain or name (once per pair).
    - ``cross_crm_conflicting_owners``: of those, pairs whose two accounts are
      both rep-assigned (:func:`diligence.metrics.coverage.classify_accounts`) to
      different reps: all such assigned pairs minus those with the same owner.
    - extra ``source_companies``: distinct non-blank source companies.

    Both counts are ``None`` without ``source_company`` or with fewer than two
    source companies.
    """
    keyed = match_keys(tables, params)
    accounts = tables["accounts"]
    sources = _sources(accounts)
    n_sources = None if sources is None else int(sources.nunique())
    if keyed is None:
        return {"cross_crm_duplicates": None, "cross_crm_conflicting_owners": None, "source_companies": n_sources}
    assigned = keyed.loc[keyed["owner_code"] >= 0]
    conflicting = _union_pairs(assigned) - _union_pairs(assigned, ["owner_code"])
    return {
        "cross_crm_duplicates": _union_pairs(keyed),
        "cross_crm_conflicting_owners": int(conflicting),
        "source_companies": n_sources,
    }


def _pairs_on(keyed: pd.DataFrame, key: str, per_source_cap: int) -> pd.DataFrame:
    """Cross-source pairs sharing ``key`` (oriented source_a < source_b), with
    at most ``per_source_cap`` rows of each source per key value listed."""
    code = f"{key}_code"
    rows = keyed.loc[keyed[code] >= 0, ["account_id", "source", code, "source_code"]]
    rows = rows.loc[rows.groupby(code)["source_code"].transform("nunique") > 1]
    rows = rows.sort_values([code, "source", "account_id"])
    rows = rows.loc[rows.groupby([code, "source_code"]).cumcount() < per_source_cap, ["account_id", "source", code]]
    pairs = rows.merge(rows, on=code, suffixes=("_a", "_b"))
    return pairs.loc[pairs["source_a"] < pairs["source_b"], ["account_id_a", "account_id_b"]]


def duplicate_pairs(
    tables: dict[str, pd.DataFrame],
    params: dict[str, Any],
    limit: int = 1000,
    per_source_cap: int = 20,
    keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Evidence for the cross-CRM duplicate metrics: the pairs themselves.

    Parameters
    ----------
    limit
        Most pairs returned.
    per_source_cap
        Most accounts of one source listed per shared domain or name; a bigger
        group (say one domain on thousands of rows) is shown in part, while
        the metrics count it whole.
    keys
        :func:`match_keys` of the same tables, when already computed.

    Returns
    -------
    DataFrame
        One row per pair: both accounts' id, name, source company and owner,
        ``matched_on`` (``domain``, ``name`` or ``domain and name``), the
        shared ``domain`` / ``normalised_name`` and ``conflicting_owners``
        (both rep-assigned, to different reps). Conflicting pairs first, then
        by names and ids. Empty when the metric is ``None``.
    """
    columns = [
        "account_id_a",
        "account_name_a",
        "source_company_a",
        "owner_rep_id_a",
        "account_id_b",
        "account_name_b",
        "source_company_b",
        "owner_rep_id_b",
        "matched_on",
        "domain",
        "normalised_name",
        "conflicting_owners",
    ]
    keyed = match_keys(tables, params) if keys is None else keys
    if keyed is None:
        return pd.DataFrame(columns=columns)
    on_domain = _pairs_on(keyed, "domain_key", per_source_cap).assign(by_domain=True)
    on_name = _pairs_on(keyed, "name_key", per_source_cap).assign(by_name=True)
    pairs = on_domain.merge(on_name, on=["account_id_a", "account_id_b"], how="outer")
    by_domain = pairs["by_domain"].fillna(False).astype(bool)
    by_name = pairs["by_name"].fillna(False).astype(bool)
    pairs["matched_on"] = np.select([by_domain & by_name, by_domain], ["domain and name", "domain"], default="name")
    accounts = tables["accounts"].set_index("account_id")
    info = keyed.set_index("account_id")
    for side in ("a", "b"):
        ids = pairs[f"account_id_{side}"]
        pairs[f"account_name_{side}"] = ids.map(accounts["account_name"])
        pairs[f"source_company_{side}"] = ids.map(accounts["source_company"])
        pairs[f"owner_rep_id_{side}"] = ids.map(accounts["owner_rep_id"]) if "owner_rep_id" in accounts else pd.NA
        pairs[f"_owner_{side}"] = ids.map(info["owner"])
        pairs[f"_domain_{side}"] = ids.map(info["domain_key"])
        pairs[f"_name_{side}"] = ids.map(info["name_key"])
    pairs["domain"] = pairs["_domain_a"].where(by_domain)
    pairs["normalised_name"] = pairs["_name_a"].where(by_name)
    both = pairs["_owner_a"].notna() & pairs["_owner_b"].notna()
    pairs["conflicting_owners"] = (both & (pairs["_owner_a"] != pairs["_owner_b"])).fillna(False).astype(bool)
    pairs = pairs.assign(_sort_name=pairs["_name_a"].fillna(""))
    pairs = pairs.sort_values(
        ["conflicting_owners", "_sort_name", "account_id_a", "account_id_b"], ascending=[False, True, True, True]
    )
    return pairs[columns].head(limit).reset_index(drop=True)


def _neighbour_pairs(names: pa.Array, sources: np.ndarray, window: int, score_cutoff: float) -> pd.DataFrame:
    """Similar names from different sources among sorted neighbours.

    ``names`` (distinct within a source) are sorted, ties by source; each is
    compared with those of the next ``window`` names that come from another
    source. Pairs whose lengths alone rule out
    ``score_cutoff`` (``fuzz.ratio`` is at most ``200 min / (len_a + len_b)``)
    are skipped before scoring.
    """
    order = pc.sort_indices(
        pa.table({"name": names, "source": sources}), sort_keys=[("name", "ascending"), ("source", "ascending")]
    ).to_numpy()
    sorted_names = names.take(pa.array(order)).to_numpy(zero_copy_only=False)
    src = sources[order]
    length = pc.utf8_length(names).to_numpy()[order].astype(np.int64)
    found = []
    for k in range(1, min(window, len(order) - 1) + 1):
        i = np.arange(len(order) - k)
        j = i + k
        short, long_ = np.minimum(length[i], length[j]), np.maximum(length[i], length[j])
        ok = (src[i] != src[j]) & (200 * short >= score_cutoff * (short + long_))
        i, j = i[ok], j[ok]
        if not len(i):
            continue
        scores = process.cpdist(
            sorted_names[i], sorted_names[j], scorer=fuzz.ratio, score_cutoff=score_cutoff, workers=1
        )
        hit = scores >= score_cutoff
        found.append(pd.DataFrame({"i": order[i[hit]], "j": order[j[hit]], "score": scores[hit].astype(float)}))
    if not found:
        return pd.DataFrame(
            {"i": pd.Series(dtype="int64"), "j": pd.Series(dtype="int64"), "score": pd.Series(dtype=float)}
        )
    return pd.concat(found, ignore_index=True)


def fuzzy_candidates(
    tables: dict[str, pd.DataFrame],
    params: dict[str, Any],
    limit: int = 100,
    score_cutoff: float = 92,
    window: int = 5,
    keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Near-duplicate account names across CRMs, for a human to review.

    Not part of any metric: the metrics count exact matches only. Distinct
    normalised names (:func:`normalise_name`) of all source companies are
    sorted together, and each is scored with ``rapidfuzz.fuzz.ratio`` against
    those of the next ``window`` names that come from another source; the same is done on the
    names spelt backwards, so that a difference in the first letters is
    caught too. This sorted-neighbourhood blocking keeps a million accounts to
    a few million comparisons. Pairs that are already exact duplicates (same
    normalised name or domain) are left out.

    Returns
    -------
    DataFrame
        ``account_id_a``, ``account_name_a``, ``source_company_a``,
        ``account_id_b``, ``account_name_b``, ``source_company_b``,
        ``normalised_name_a``, ``normalised_name_b``, ``score`` (0-100, one
        decimal); best score first, then ids; at most ``limit`` rows, side
        ``a`` being the source that sorts first. ``keys`` as in
        :func:`duplicate_pairs`.
    """
    columns = [
        "account_id_a",
        "account_name_a",
        "source_company_a",
        "account_id_b",
        "account_name_b",
        "source_company_b",
        "normalised_name_a",
        "normalised_name_b",
        "score",
    ]
    keyed = match_keys(tables, params) if keys is None else keys
    if keyed is None:
        return pd.DataFrame(columns=columns)
    cols = ["source", "name_key", "source_code", "name_key_code"]
    distinct = keyed.loc[keyed["name_key_code"] >= 0, cols].drop_duplicates(["source_code", "name_key_code"])
    distinct = distinct.reset_index(drop=True)
    sources = pd.factorize(distinct["source"], sort=True)[0]
    names = _to_arrow(distinct["name_key"])
    forward = _neighbour_pairs(names, sources, window, score_cutoff)
    backward = _neighbour_pairs(pc.utf8_reverse(names), sources, window, score_cutoff)
    hits = pd.concat([forward, backward], ignore_index=True)
    # Orient each pair so that side a is the source that sorts first.
    i, j = hits["i"].to_numpy(), hits["j"].to_numpy()
    swap = sources[i] > sources[j]
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    hits = pd.DataFrame({"i": i, "j": j, "score": hits["score"].to_numpy()}).drop_duplicates(["i", "j"])
    row = distinct.to_dict("series")
    for side, pos in (("a", hits["i"].to_numpy()), ("b", hits["j"].to_numpy())):
        hits[f"name_{side}"] = row["name_key"].to_numpy()[pos]
        hits[f"source_code_{side}"] = row["source_code"].to_numpy()[pos]
        hits[f"name_key_code_{side}"] = row["name_key_code"].to_numpy()[pos]
    hits = hits.loc[hits["name_a"] != hits["name_b"]]
    hits = hits.sort_values(["score", "name_a", "name_b"], ascending=[False, True, True]).head(limit)
    wanted = keyed.loc[keyed["name_key_code"].isin(np.concatenate([hits["name_key_code_a"], hits["name_key_code_b"]]))]
    side = wanted[["account_id", "source_code", "name_key_code", "domain_key"]]
    pairs = hits.merge(side.add_suffix("_a"), on=["source_code_a", "name_key_code_a"]).merge(
        side.add_suffix("_b"), on=["source_code_b", "name_key_code_b"]
    )
    same_domain = (pairs["domain_key_a"] == pairs["domain_key_b"]).fillna(False).astype(bool)
    pairs = pairs.loc[~same_domain]
    accounts = tables["accounts"].set_index("account_id")
    pairs = pairs.assign(
        account_name_a=pairs["account_id_a"].map(accounts["account_name"]),
        source_company_a=pairs["account_id_a"].map(accounts["source_company"]),
        account_name_b=pairs["account_id_b"].map(accounts["account_name"]),
        source_company_b=pairs["account_id_b"].map(accounts["source_company"]),
        normalised_name_a=pairs["name_a"],
        normalised_name_b=pairs["name_b"],
        score=pairs["score"].round(1),
    )
    pairs = pairs.sort_values(["score", "account_id_a", "account_id_b"], ascending=[False, True, True])
    return pairs[columns].head(limit).reset_index(drop=True)
