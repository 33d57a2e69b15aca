"""A synthetic company: CRM exports of a made-up sales organisation.

The kit ships with no client data, so its demo, tests and benchmarks run on a
generated company. Two profiles share one shape:

- ``"demo"``: a company two years after a merger (legacy CRMs *Northwind* and
  *Contoso*) whose coverage model grew by accident. Each problem listed in
  :data:`PLANTED` is built in on purpose, so that its SPEC §5 flag triggers with
  the default parameters.
- ``"healthy"``: the same market and organisation run well: balanced books,
  nearly every account worked, a recent rebalance, an accurate survey, no channel or
  rep conflicts, no cross-CRM duplicates, enough headcount, no junior rep on
  enterprise accounts, attainment within 2x and pipeline coverage 3-5x. No
  flag of SPEC §5 triggers with the default parameters.

Frames use the contract's column names and post-intake types
(:mod:`diligence.contract`), so they feed metric functions directly, and
:func:`write_company` writes them as files that intake reads back.

Everything is drawn from one ``numpy.random.Generator`` seeded by ``seed``, and
every step is vectorized over accounts, opportunities and activities, so a
million accounts take seconds. Dates are computed as whole days relative to
the as-of date ``T`` (day 0; day -1 is the day before), then converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pandas.api.extensions import ExtensionArray

from diligence.contract import TABLE_ORDER, TABLES, typed

DEMO_AS_OF = "2026-09-30"
PROFILES = ("demo", "healthy")
#: How a company's books are cut (:func:`reshape`): the generator's own, a few
#: thousand accounts per book across segments with a sixth unowned, or
#: 10,000 reps of small books.
SHAPES = ("default", "wide", "tiny")
WIDE_BOOK = 2000  # accounts per book of the "wide" shape
WIDE_UNOWNED = 1 / 6
TINY_REPS = 10_000  # sellers of the "tiny" shape

#: Flag id -> the problem the ``demo`` profile plants to trigger it.
PLANTED: dict[str, str] = {
    "RF1": "About a quarter of accounts unassigned: orphaned books of departed reps, Contoso accounts "
    "imported without an owner, new accounts never routed",
    "RF2": "Mid-Market AEs with comparable books: the best attains more than 2.5x the worst",
    "RF3": "Last territory rebalance about 19 months before the as-of date",
    "RF4": "About a third of surveyed reps describe a territory (segment, region or size) unlike their CRM book",
    "RF5": "Partner-designated accounts where a partner deal and a direct deal run at the same time, "
    "with no rules of engagement",
    "RF6": "SMB staffed at about 60% of the headcount its account count needs",
    "W1": "Over 40% of rep-assigned accounts, mostly SMB, without an activity in the last 90 days",
    "W3": "SMB AE books differ more than 3x in potential",
    "W4": "Mid-Market LATAM: the whole team left and its accounts were never reassigned",
    "W6": "Junior AEs own about a fifth of Enterprise accounts",
    "W7": "Accounts where a second rep opened a direct deal alongside the owner's",
    "W8": "The same company in both legacy CRMs, owned by two different active reps",
    "W9": "About a fifth of next quarter's deals had their close date pushed back two or three times",
    "W10": "Most tenured reps end the year below quota (attainment drawn from 62% to 112%)",
}

# --- the market -------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    """How accounts of one segment look and sell (medians, spreads, rates)."""

    name: str
    share: float  # of accounts
    book: int  # accounts per seller the healthy company staffs for (under SPEC's defaults)
    potential: tuple[float, float]  # lognormal median, sigma
    potential_step: int  # rounding
    employees: tuple[float, float, int, int]  # lognormal median, sigma, clip low, clip high
    opps_per_year: float  # direct opportunities per owned account
    win_rate: float
    cycle_days: tuple[int, int]  # sales cycle, uniform
    touches_per_year: float  # activities per worked account
    neglect: float  # demo: share of rep-assigned accounts nobody touched for 90 days
    quota_step: int  # quotas are round numbers
    seller_levels: tuple[float, float, float]  # P(junior, mid, senior) of its sellers


SEGMENTS: tuple[_Segment, ...] = (
    _Segment(
        "Enterprise",
        0.05,
        16,
        (600_000, 0.7),
        1000,
        (6000, 0.9, 1000, 250_000),
        2.2,
        0.22,
        (60, 240),
        20,
        0.10,
        50_000,
        (0.0, 0.4, 0.6),
    ),
    _Segment(
        "Mid-Market",
        0.25,
        64,
        (110_000, 0.6),
        1000,
        (320, 0.5, 100, 999),
        1.2,
        0.26,
        (30, 150),
        7,
        0.30,
        25_000,
        (0.2, 0.5, 0.3),
    ),
    _Segment(
        "SMB",
        0.70,
        250,
        (20_000, 0.6),
        100,
        (25, 0.8, 2, 99),
        0.6,
        0.30,
        (14, 75),
        3.2,
        0.55,
        10_000,
        (0.55, 0.4, 0.05),
    ),
)
ENT, MM, SMB = 0, 1, 2
REGIONS = ("North America East", "North America West", "EMEA", "APAC", "LATAM")
REGION_SHARE = (0.28, 0.24, 0.26, 0.13, 0.09)
LATAM = 4
INDUSTRIES = (
    "Software",
    "Manufacturing",
    "Healthcare",
    "Financial Services",
    "Retail",
    "Logistics",
    "Energy",
    "Education",
    "Professional Services",
)
INDUSTRY_SHARE = (0.16, 0.17, 0.12, 0.11, 0.12, 0.09, 0.06, 0.06, 0.11)
SOURCES = ("Northwind", "Contoso")  # acquirer, acquired
ACQUIRED_SHARE = 0.20
LEVELS = ("junior", "mid", "senior")
ROLES = ("AE", "AM", "SDR", "Partner Manager", "Sales Manager")
AE, AM, SDR, PM, MGR = range(5)
TIERS = ("Gold", "Silver", "Registered")
ACTIVITY_TYPES = ("Call", "Email", "Meeting")
ACTIVITY_SHARE = (0.40, 0.45, 0.15)
CHANNELS = ("direct", "partner")
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
WON_STAGE, LOST_STAGE = 4, 5
NO_END = 10**6  # "still employed" as a day offset far after T

# Account names: "<First><second> [<Trade>] <Trade> <legal suffix>", e.g. "Ironbridge
# Cloud Networks Inc". No part is a legal-form word, so names stay unique once
# suffixes are stripped (SPEC §3 cross-CRM duplicates).
_NAME_FIRST = (
    "Blue",
    "Iron",
    "Silver",
    "North",
    "South",
    "East",
    "West",
    "Red",
    "Green",
    "Gold",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Birch",
    "Elm",
    "Willow",
    "Bright",
    "Clear",
    "Swift",
    "Star",
    "Sun",
    "Moon",
    "Sky",
    "River",
    "Lake",
    "Sea",
    "Bay",
    "Harbor",
    "Summit",
    "Copper",
    "Granite",
    "Amber",
    "Crystal",
    "Falcon",
    "Eagle",
    "Hawk",
    "Fox",
    "Wolf",
    "Bear",
    "Lion",
    "Tiger",
    "Raven",
    "Crane",
    "Heron",
    "Otter",
    "Beacon",
    "Anchor",
    "Arrow",
    "Atlas",
    "Delta",
    "Echo",
    "Nova",
    "Orbit",
    "Polar",
    "Prairie",
    "Quarry",
    "Rapid",
    "Royal",
    "Sage",
    "Timber",
    "True",
    "Vista",
    "White",
    "Black",
    "Grey",
    "High",
    "Long",
    "Deep",
    "Wild",
    "Frost",
    "Storm",
    "Thunder",
    "Rain",
    "Snow",
    "Ember",
    "Flint",
    "Marble",
    "Cobalt",
    "Indigo",
    "Scarlet",
    "Ivory",
    "Onyx",
    "Jade",
    "Pearl",
    "Ruby",
    "Coral",
    "Meadow",
    "Forest",
    "Canyon",
    "Mesa",
    "Glacier",
    "Tundra",
    "Alder",
    "Hazel",
    "Juniper",
    "Laurel",
    "Rowan",
    "Spruce",
    "Aspen",
    "Kestrel",
    "Osprey",
    "Lark",
    "Finch",
    "Wren",
    "Bison",
    "Elk",
    "Lynx",
    "Puma",
    "Cypress",
)
_NAME_SECOND = (
    "peak",
    "bridge",
    "field",
    "stone",
    "wood",
    "gate",
    "point",
    "view",
    "ridge",
    "water",
    "brook",
    "crest",
    "haven",
    "line",
    "path",
    "port",
    "star",
    "wave",
    "forge",
    "mark",
    "vale",
    "wind",
    "light",
    "rock",
    "ford",
    "land",
    "hill",
    "dale",
    "shore",
    "side",
    "spring",
    "creek",
    "grove",
    "stead",
    "wick",
    "ton",
    "bury",
    "mont",
    "moor",
    "leaf",
    "fall",
    "glen",
    "hurst",
    "way",
    "well",
    "cliff",
    "stream",
    "garden",
    "hollow",
    "lake",
    "mill",
    "mount",
    "pond",
    "reach",
    "run",
    "sound",
    "thorn",
    "tree",
    "watch",
    "yard",
)
_NAME_TRADE1 = (
    "",
    "Data",
    "Cloud",
    "Health",
    "Bio",
    "Energy",
    "Food",
    "Freight",
    "Retail",
    "Media",
    "Home",
    "Auto",
    "Agri",
    "Med",
    "Green",
    "Smart",
    "Power",
    "Water",
    "Metal",
    "Print",
    "Build",
    "Pay",
    "Learn",
    "Travel",
    "Care",
    "Fleet",
    "Aero",
    "Marine",
    "Solar",
    "Steel",
)
_NAME_TRADE2 = (
    "Systems",
    "Solutions",
    "Labs",
    "Logistics",
    "Analytics",
    "Networks",
    "Works",
    "Services",
    "Dynamics",
    "Supply",
    "Foods",
    "Technologies",
    "Software",
    "Consulting",
    "Manufacturing",
    "Brands",
    "Products",
    "Distribution",
    "Robotics",
    "Devices",
    "Engineering",
    "Materials",
    "Instruments",
    "Outfitters",
    "Interactive",
    "Medical",
    "Security",
    "Pharma",
)
# Legal suffixes by region, from SPEC §3's examples, with the punctuation CRMs vary.
_SUFFIXES = (
    ("Inc", "Inc.", "LLC", "Corp", "Corp."),  # North America East
    ("Inc", "Inc.", "LLC", "Corp"),  # North America West
    ("Ltd", "Ltd.", "GmbH", "GmbH"),  # EMEA
    ("Ltd", "Inc", "Ltd."),  # APAC
    ("Inc", "Ltd", "Corp."),  # LATAM
)
_TLDS = ((".com",), (".com",), (".com", ".co.uk", ".de", ".eu"), (".com", ".com.au", ".sg"), (".com", ".com.br", ".mx"))
_FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Paul",
    "Emily",
    "Steven",
    "Donna",
    "Andrew",
    "Michelle",
    "Kenji",
    "Carol",
    "Joshua",
    "Amanda",
    "Kevin",
    "Melissa",
    "Brian",
    "Deborah",
    "Priya",
    "Stephanie",
    "Timothy",
    "Rebecca",
    "Ronald",
    "Laura",
    "Jason",
    "Sharon",
    "Wei",
    "Cynthia",
    "Ryan",
    "Amy",
    "Jacob",
    "Angela",
    "Gary",
    "Anna",
    "Nicholas",
    "Olga",
    "Eric",
    "Brenda",
    "Jonathan",
    "Emma",
    "Stephen",
    "Nicole",
    "Larry",
    "Helen",
    "Justin",
    "Samantha",
    "Diego",
    "Katherine",
    "Raj",
    "Christine",
    "Lukas",
    "Sofia",
    "Mateo",
    "Ingrid",
    "Ahmed",
    "Fatima",
)
_LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Muller",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Tanaka",
    "Sato",
    "Kim",
    "Park",
    "Chen",
    "Wang",
    "Patel",
    "Shah",
    "Singh",
    "Kumar",
    "Silva",
    "Santos",
    "Costa",
    "Novak",
    "Larsen",
    "Jensen",
    "Okafor",
    "Mensah",
    "Haddad",
    "Nasser",
    "Ivanova",
    "Kowalski",
    "Horvat",
    "Berg",
    "Lindqvist",
    "Murphy",
)
_PARTNER_NAMES = (
    "Apex Channel Group",
    "Brightline Resellers",
    "Cascade IT Partners",
    "Dunmore Solutions",
    "Everpoint Distribution",
    "Foxglove Systems Integrators",
    "Gridwise Consulting",
    "Harborview Tech",
    "Ironclad Resellers",
    "Juniper Digital",
    "Keystone Integrators",
    "Lumen Channel Partners",
    "Meridian VAR",
    "Northlake Advisory",
    "Orchard Systems",
    "Pinnacle Partners",
    "Quayside IT",
    "Redwood Integration",
    "Silverline Channel",
    "Tidewater Technology",
    "Upland Solutions",
    "Vantage Resellers",
    "Westbrook Digital",
    "Yellowpine Consulting",
    "Zenith Partners",
)

# Rebalance dates (days before T): recent in the healthy company, 19+ months old in the demo.
_REBALANCES = {"healthy": (-485, -120), "demo": (-960, -590)}


# --- public API -----------------------------------------------------------------------


def make_company(
    n_accounts: int = 3000,
    seed: int = 7,
    as_of: str = DEMO_AS_OF,
    profile: str = "demo",
    shape: str = "default",
) -> dict[str, pd.DataFrame]:
    """Generate a synthetic company's CRM tables.

    Parameters
    ----------
    n_accounts
        Rows of ``accounts``. Reps scale with it (about one per 75 accounts,
        books of realistic size); opportunities are about 1.5x, activities
        about 5x and assignment history about 1.5x the accounts. The planted
        problems of the demo profile are sized for 2,000 accounts and more
        (smaller companies have too few reps for some of them).
    seed
        Seed of the random generator: the same seed gives identical frames.
    as_of
        The as-of date ``T`` (ISO ``YYYY-MM-DD``) the data is built around:
        two years of opportunities before it, open ones closing after it, a year
        of activities.
    profile
        ``"demo"`` (with the problems of :data:`PLANTED`) or ``"healthy"``
        (no SPEC §5 flag triggers with default parameters).
    shape
        How books are cut (:data:`SHAPES`): ``"default"`` the generator's own
        (books of realistic size inside their segment); ``"wide"`` and
        ``"tiny"`` recut them afterwards (:func:`reshape`) for benchmarks.

    Returns
    -------
    dict
        Table name -> frame, in :data:`diligence.contract.TABLE_ORDER`, each
        with exactly the contract's columns and post-intake dtypes, sorted by
        its key.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    if isinstance(n_accounts, bool) or not isinstance(n_accounts, (int, np.integer)) or n_accounts < 100:
        raise ValueError(f"n_accounts must be a whole number of at least 100, got {n_accounts!r}")
    as_of_day = pd.Timestamp(as_of).normalize()
    rng = np.random.default_rng(seed)
    demo = profile == "demo"

    acc = _accounts(int(n_accounts), rng, demo)
    n_partners = int(np.clip(round(n_accounts / 600), 3, len(_PARTNER_NAMES)))
    reps = _reps(acc, n_partners, rng, demo)
    _assign_books(acc, reps, n_partners, rng, demo)
    history = _history(acc, reps, rng, _REBALANCES[profile])
    opps = _opportunities(acc, reps, rng, demo)
    _ramp_new_hires(opps, reps)
    _set_quotas(opps, acc, reps, rng, demo)
    _scale_pipeline(opps, acc, reps, rng, demo)
    if not demo:
        _fresh_pipeline(opps)
    acts = _activities(acc, reps, rng, demo)
    survey = _survey(acc, reps, rng, demo)
    if demo:
        _plant_duplicates(acc, rng)
    # deal history from its own generator, so that the tables of schema 1 stay as they were
    rng_history = np.random.default_rng((seed, 2))
    tables = _frames(as_of_day, acc, reps, n_partners, opps, acts, history, survey, rng, rng_history, demo)
    return tables if shape == "default" else reshape(tables, shape, as_of=as_of, seed=seed)


def reshape(
    tables: dict[str, pd.DataFrame], shape: str, *, as_of: str = DEMO_AS_OF, seed: int = 7
) -> dict[str, pd.DataFrame]:
    """Recut a company's books into another shape (for benchmarks; a new dict,
    ``tables`` left as it is).

    ``"wide"``: books of about :data:`WIDE_BOOK` accounts held by active
    sellers chosen at random, each book drawing accounts of every segment,
    and a sixth of the accounts unowned (the other active sellers keep
    empty books). ``"tiny"``: :data:`TINY_REPS` active sellers (the
    generator's, and copies of them with new ids when it has fewer), the
    owned accounts of each segment dealt evenly to that segment's sellers,
    so books are about ``owned / 10,000`` accounts. Either way only
    ``accounts.owner_rep_id`` changes (and ``reps`` gains the copies):
    opportunities, activities and history keep their reps, all still known.
    ``"default"`` returns ``tables`` as they are.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    if shape == "default":
        return tables
    rng = np.random.default_rng((seed, 3))
    t = pd.Timestamp(as_of)
    accounts, reps = tables["accounts"].copy(), tables["reps"]
    active = (reps["hire_date"].isna() | (reps["hire_date"] <= t)) & (reps["end_date"].isna() | (reps["end_date"] > t))
    sellers = reps.index[(active & (reps["quota"].fillna(0) > 0)).to_numpy()].to_numpy()
    n = len(accounts)
    owner = np.full(n, -1, dtype=np.int64)  # row of reps
    if shape == "wide":
        k = int(min(len(sellers), max(2, round(n * (1 - WIDE_UNOWNED) / WIDE_BOOK))))
        chosen = rng.choice(sellers, k, replace=False)
        owned = rng.random(n) >= WIDE_UNOWNED
        owner[owned] = chosen[rng.integers(0, k, int(owned.sum()))]
    else:
        extra = TINY_REPS - len(sellers)
        if extra > 0:
            template = reps.loc[sellers[np.arange(extra) % len(sellers)]].copy()
            template["rep_id"] = _ids("REP-T", np.arange(1, extra + 1), 6)
            reps = pd.concat([reps, template], ignore_index=True)
            sellers = np.concatenate([sellers, np.arange(len(reps) - extra, len(reps))])
        sellers = sellers[:TINY_REPS]
        had = accounts["owner_rep_id"].notna().to_numpy()
        seg = accounts["segment"].fillna("").to_numpy(dtype=object)
        # Sellers per segment in proportion to its owned accounts, at least one each.
        names, counts = np.unique(seg[had], return_counts=True)
        share = np.maximum(1, np.floor(counts / counts.sum() * len(sellers)).astype(np.int64))
        share[np.argmax(share)] += len(sellers) - share.sum()
        pool = rng.permutation(sellers)
        start = np.concatenate([[0], np.cumsum(share)])
        for i, name in enumerate(names):
            mine = pool[start[i] : start[i + 1]]
            rows = np.flatnonzero(had & (seg == name))
            owner[rows[rng.permutation(len(rows))]] = mine[np.arange(len(rows)) % len(mine)]
        reps = reps.copy()
        reps.loc[pool, "segment"] = np.repeat(names, share).astype(str)  # each seller covers its book's segment
    ids = reps["rep_id"].array.take(owner, allow_fill=True)
    accounts["owner_rep_id"] = ids
    return {**tables, "accounts": _conform("accounts", accounts), "reps": _conform("reps", reps)}


def write_company(tables: dict[str, pd.DataFrame], out_dir: str | Path, fmt: str = "csv") -> Path:
    """Write each table as ``<table>.<fmt>`` in ``out_dir`` (created if needed).

    CSV files are UTF-8 with the contract's column names in a header row, text
    quoted, ISO dates, ``true``/``false`` booleans, plain numbers and empty
    cells for missing values. ``parquet`` keeps the dtypes; ``xlsx`` writes
    one workbook per table with real date cells (an Excel sheet holds at most
    1,048,575 data rows).

    Returns
    -------
    Path
        ``out_dir``.
    """
    if fmt not in ("csv", "parquet", "xlsx"):
        raise ValueError(f"fmt must be csv, parquet or xlsx, got {fmt!r}")
    too_big = [name for name, frame in tables.items() if fmt == "xlsx" and len(frame) >= 1_048_576]
    if too_big:
        raise ValueError(f"too many rows for an Excel sheet in {', '.join(too_big)}: write csv or parquet")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            # Arrow's writer: twenty times faster than pandas at a million accounts.
            pacsv.write_csv(_dates_as_days(pa.Table.from_pandas(frame, preserve_index=False)), path)
        elif fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_excel(path, index=False, sheet_name=name)
    return out


def _dates_as_days(table: pa.Table) -> pa.Table:
    """Timestamp columns as calendar dates, so that CSV cells read ``YYYY-MM-DD``."""
    columns = [c.cast(pa.date32()) if pa.types.is_timestamp(c.type) else c for c in table.columns]
    return pa.table(columns, names=table.column_names)


# --- accounts ---------------------------------------------------------------------------


def _largest_remainder(total: int, shares: tuple[float, ...]) -> np.ndarray:
    """Split ``total`` into whole parts proportional to ``shares`` (Hamilton's
    method), so that segment and region mixes are exact, not sampled."""
    raw = total * np.asarray(shares, dtype=float) / np.sum(shares)
    parts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - parts), kind="stable")
    parts[order[: total - parts.sum()]] += 1
    return parts


def _days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, size: int | None = None) -> np.ndarray:
    """Whole days drawn uniformly in ``[lo, hi]`` (both included, elementwise)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    u = rng.random(size if size is not None else np.broadcast(lo, hi).shape)
    return lo + np.floor(u * (hi - lo + 1)).astype(np.int64)


def _lognormal(rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Lognormal draws, tails cut at 2.5 sigma: one account worth a whole book
    would make book sizes meaningless."""
    return median * np.exp(sigma * np.clip(rng.standard_normal(np.shape(median)), -2.5, 2.5))


def _seg_attr(name: str) -> np.ndarray:
    """One attribute of every segment, as an array indexed by segment code."""
    return np.array([getattr(s, name) for s in SEGMENTS])


# Account classes before books are cut: who may own them.
ASSIGN, PARTNER_ONLY, UNOWNED, WHITE_SPACE = range(4)


def _accounts(n: int, rng: np.random.Generator, demo: bool) -> dict[str, np.ndarray]:
    """Accounts as arrays: market attributes, names, domains and account class.

    Segment and region mixes are exact (largest remainder per segment); rows
    come in random order. Classes: ``UNOWNED`` (new accounts not routed yet;
    in the demo also 40% of Contoso's accounts, imported without owners),
    ``PARTNER_ONLY`` (6% of SMB, sold by partners), ``WHITE_SPACE`` (demo:
    Mid-Market LATAM, whose reps all left), ``ASSIGN`` (cut into rep books).
    """
    seg_n = _largest_remainder(n, tuple(s.share for s in SEGMENTS))
    seg = np.repeat(np.arange(len(SEGMENTS)), seg_n)
    reg = np.concatenate([np.repeat(np.arange(len(REGIONS)), _largest_remainder(k, REGION_SHARE)) for k in seg_n])
    perm = rng.permutation(n)
    seg, reg = seg[perm], reg[perm]

    contoso = rng.random(n) < ACQUIRED_SHARE
    new = rng.random(n) < (0.015 if demo else 0.01)
    created = np.where(rng.random(n) < 0.85, _days(rng, -8 * 365, -731, n), _days(rng, -730, -60, n))
    created = np.where(new, _days(rng, -45, -2, n), created)

    med, sig = _seg_attr("potential").T
    step = _seg_attr("potential_step")[seg]
    potential = np.maximum(np.round(_lognormal(rng, med[seg], sig[seg]) / step), 1) * step
    e_med, e_sig, e_lo, e_hi = _seg_attr("employees").T
    employees = np.clip(np.round(_lognormal(rng, e_med[seg], e_sig[seg])), e_lo[seg], e_hi[seg])
    revenue = np.round(employees * _lognormal(rng, np.full(n, 180_000.0), np.full(n, 0.35)), -4)
    revenue = np.maximum(revenue, 100_000.0)

    cls = np.full(n, ASSIGN)
    unowned = new | (demo & contoso & (rng.random(n) < 0.40))
    cls[unowned] = UNOWNED
    cls[(cls == ASSIGN) & (seg == SMB) & (rng.random(n) < 0.06)] = PARTNER_ONLY
    if demo:
        cls[(cls == ASSIGN) & (seg == MM) & (reg == LATAM)] = WHITE_SPACE

    return {
        "n": n,
        "seg": seg,
        "reg": reg,
        "contoso": contoso,
        "created": created,
        "potential": potential.astype(float),
        "employees": employees.astype(float),
        "employees_blank": rng.random(n) < 0.04,
        "revenue": revenue,
        "revenue_blank": rng.random(n) < 0.08,
        "industry": np.where(rng.random(n) < 0.02, -1, rng.choice(len(INDUSTRIES), n, p=INDUSTRY_SHARE)),
        "name_code": _name_codes(n, rng),
        "suffix_pick": rng.integers(0, 60, n),
        "domain_blank": rng.random(n) < 0.04,
        "cls": cls,
    }


def _name_space() -> tuple[int, int, int, int]:
    return len(_NAME_FIRST), len(_NAME_SECOND), len(_NAME_TRADE1), len(_NAME_TRADE2)


def _name_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct codes into the space of names, seed-dependent.

    ``i -> (a * i + b) mod size`` with ``a`` prime and larger than ``size`` is a
    bijection, so names never repeat without drawing a permutation of millions.
    """
    size = int(np.prod(_name_space()))
    if n > size:
        raise ValueError(f"at most {size:,} accounts have distinct synthetic names")
    a = 2_654_435_761  # prime
    b = int(rng.integers(0, size))
    return (np.arange(n, dtype=np.int64) * a + b) % size


def _company_names(codes: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Company names without legal suffix (``"Ironbridge Cloud Networks"``)
    and the matching domain stem (``"ironbridge-cloudnetworks"``)."""
    _, _, n_t1, n_t2 = _name_space()
    t2 = codes % n_t2
    rest = codes // n_t2
    t1 = rest % n_t1
    rest = rest // n_t1
    compound = pd.array([f + s for f in _NAME_FIRST for s in _NAME_SECOND], dtype="string")
    word = pd.Series(compound.take(rest))  # rest = first * n_second + second
    trade1 = pd.Series(pd.array([f"{t} " if t else "" for t in _NAME_TRADE1], dtype="string").take(t1))
    trade2 = pd.Series(pd.array(_NAME_TRADE2, dtype="string").take(t2))
    names = word + " " + trade1 + trade2
    stems = word.str.lower() + "-" + (trade1.str.replace(" ", "") + trade2).str.lower()
    return names, stems


# --- reps -------------------------------------------------------------------------------

# What a rep is in the organisation (drives dates, books and quotas).
SELLER, GONE_WITH_BOOK, GONE, MANAGER, SDR_KIND, PM_KIND = range(6)


def _reps(acc: dict, n_partners: int, rng: np.random.Generator, demo: bool) -> dict[str, np.ndarray]:
    """The sales organisation, as arrays indexed by rep.

    Sellers (AE, and AM in Enterprise and Mid-Market) are staffed per segment
    at the healthy book size (:attr:`_Segment.book`), except SMB in the demo
    (about 60% of SPEC's capacity need: RF6). Departed reps: some whose books
    were moved (attrition), and in the demo some whose books still point at
    them (orphans; all Mid-Market LATAM reps among them: W4). Managers, SDRs
    and partner managers own no books.
    """
    seg, cls = acc["seg"], acc["cls"]
    role, rseg, kind, pos = [], [], [], []

    def add(count: int, r: int, s: int, k: int) -> None:
        role.append(np.full(count, r))
        rseg.append(np.full(count, s))
        kind.append(np.full(count, k))
        pos.append(np.arange(count))

    for s, spec in enumerate(SEGMENTS):
        booked = int(np.sum((seg == s) & (cls == ASSIGN)))
        sellers = max(2, int(np.ceil(booked / spec.book)))
        if demo and s == SMB:
            need = int(np.ceil(np.sum(seg == s) / 400))  # SPEC §6 default accounts_per_rep
            sellers = max(2, int(round(0.6 * need)))
        ams = sellers // 4 if s != SMB and sellers // 4 >= 2 else 0
        add(ams, AM, s, SELLER)
        add(sellers - ams, AE, s, SELLER)
        if demo and s == ENT:
            add(max(1, round(0.12 * sellers)), AE, s, GONE_WITH_BOOK)
        if demo and s == SMB:
            add(max(1, round(0.3 * sellers)), AE, s, GONE_WITH_BOOK)
        if demo and s == MM:
            latam = int(np.sum((seg == s) & (cls == WHITE_SPACE)))
            add(max(1, round(latam / spec.book)), AE, s, GONE_WITH_BOOK)
        add(max(1, round(0.06 * sellers)), AE if s == SMB else AM, s, GONE)
        sdrs = 0 if s == ENT else max(1, round(0.12 * sellers))
        add(sdrs, SDR, s, SDR_KIND)
        add(max(1, int(np.ceil((sellers + sdrs) / 8))), MGR, s, MANAGER)
    add(1, MGR, -1, MANAGER)  # head of sales
    add(max(1, round(n_partners / 3)), PM, -1, PM_KIND)

    role, rseg, kind, pos = (np.concatenate(x) for x in (role, rseg, kind, pos))
    m = len(role)
    seller = kind == SELLER
    # Levels: sellers by their segment's mix; demo puts juniors on Enterprise (W6).
    p = np.array([s.seller_levels for s in SEGMENTS])[np.maximum(rseg, 0)]
    level = (rng.random(m)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    level = np.select(
        [kind == SDR_KIND, kind == MANAGER, kind == PM_KIND], [0, 2, 1 + (rng.random(m) < 0.5)], default=level
    )
    if demo:
        ent_ae = np.flatnonzero(seller & (rseg == ENT) & (role == AE))
        juniors = ent_ae[rng.permutation(len(ent_ae))[: max(2, int(round(0.4 * len(ent_ae))))]]
        level[juniors] = 0

    # Hires: most sellers tenured; some ramping (hired in the last year), never
    # the first two of a group, so that every group has reps with a full year.
    ramping = seller & (pos >= 2) & (rng.random(m) < 0.15)
    hire = np.select(
        [ramping, seller, kind == MANAGER, kind == SDR_KIND, kind == PM_KIND],
        [
            _days(rng, -330, -30, m),
            _days(rng, -7 * 365, -400, m),
            _days(rng, -9 * 365, -500, m),
            _days(rng, -700, -30, m),
            _days(rng, -5 * 365, -400, m),
        ],
        default=_days(rng, -6 * 365, -800, m),
    )
    end = np.select(
        [kind == GONE_WITH_BOOK, kind == GONE],
        [_days(rng, -300, -120, m), _days(rng, -700, -60, m)],
        default=NO_END,
    )
    # Managers: each rep of a segment reports to one of its managers; they
    # (and partner managers) report to the head of sales.
    head = int(np.flatnonzero((kind == MANAGER) & (rseg == -1))[0])
    manager = np.full(m, head)
    manager[head] = -1
    for s in range(len(SEGMENTS)):
        mgrs = np.flatnonzero((kind == MANAGER) & (rseg == s))
        team = np.flatnonzero((kind != MANAGER) & (rseg == s))
        manager[team] = mgrs[rng.integers(0, len(mgrs), len(team))]

    # Rep ids in order of hire, as a CRM numbers its users.
    id_order = np.lexsort((rng.random(m), hire))
    number = np.empty(m, dtype=np.int64)
    number[id_order] = np.arange(1, m + 1)
    n_f, n_l = len(_FIRST_NAMES), len(_LAST_NAMES)
    code = (number * 7919 + int(rng.integers(0, n_f * n_l))) % (n_f * n_l)
    return {
        "m": m,
        "role": role,
        "seg": rseg,
        "kind": kind,
        "level": level,
        "hire": hire,
        "end": end,
        "active": (hire <= 0) & (end > 0),
        "seller": seller,
        "ramping": ramping,
        "manager": manager,
        "number": number,
        "first": code // n_l,
        "last": code % n_l,
        "region": rng.choice(len(REGIONS), m, p=REGION_SHARE),  # books overwrite it
        "quota": np.full(m, np.nan),
    }


# --- books ------------------------------------------------------------------------------


def _cut_books(
    accounts: np.ndarray, reps: np.ndarray, weights: np.ndarray, acc: dict, rng: np.random.Generator
) -> np.ndarray:
    """Owner of each of ``accounts``: contiguous slices of the accounts ordered
    by region, each rep receiving a share of total potential proportional to
    its weight. Slices follow regions, so a book is mostly one region; equal
    weights give books of equal potential."""
    if len(accounts) == 0 or len(reps) == 0:
        return np.full(len(accounts), -1)
    perm = rng.permutation(len(reps))
    reps, weights = reps[perm], weights[perm]
    order = np.lexsort((rng.random(len(accounts)), acc["reg"][accounts]))
    pot = acc["potential"][accounts][order]
    mid = (np.cumsum(pot) - pot / 2) / pot.sum()
    edges = np.cumsum(weights) / weights.sum()
    slot = np.minimum(np.searchsorted(edges, mid, side="right"), len(reps) - 1)
    owner = np.empty(len(accounts), dtype=np.int64)
    owner[order] = reps[slot]
    return owner


def _book_regions(owner: np.ndarray, reg: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per rep: accounts in its book, the most common region of the book, and
    whether that most common region is tied with another."""
    has = owner >= 0
    counts = np.bincount(owner[has] * len(REGIONS) + reg[has], minlength=m * len(REGIONS)).reshape(m, len(REGIONS))
    top2 = np.sort(counts, axis=1)[:, -2:]
    return counts.sum(axis=1), counts.argmax(axis=1), (top2[:, 0] == top2[:, 1]) & (top2[:, 1] > 0)


def _assign_books(acc: dict, reps: dict, n_partners: int, rng: np.random.Generator, demo: bool) -> None:
    """Cut books, designate partners, and set each rep's region from its book.

    Adds ``owner`` (rep index or -1) and ``partner`` (index or -1) to ``acc``;
    ``book``, ``region`` and ``region_tied`` to ``reps``. Healthy: equal
    weights, so comparable books hold equal potential. Demo: weights vary
    (about +-30%) and SMB AE books are forced more than 3x apart (W3).
    """
    n, seg, cls = acc["n"], acc["seg"], acc["cls"]
    kind, rseg, role = reps["kind"], reps["seg"], reps["role"]
    weight = np.exp(0.3 * rng.standard_normal(reps["m"])) if demo else np.ones(reps["m"])
    if demo:
        smb_ae = np.flatnonzero((kind == SELLER) & (rseg == SMB) & (role == AE))
        weight[smb_ae[:2]] = (2.2, 0.6)
        weight[(kind == GONE_WITH_BOOK) & (rseg == SMB)] = 1.3
    owner = np.full(n, -1)
    for s in range(len(SEGMENTS)):
        accounts = np.flatnonzero((seg == s) & (cls == ASSIGN))
        holders = np.flatnonzero(((kind == SELLER) | ((kind == GONE_WITH_BOOK) & (s != MM))) & (rseg == s))
        owner[accounts] = _cut_books(accounts, holders, weight[holders], acc, rng)
    latam = np.flatnonzero(cls == WHITE_SPACE)
    leavers = np.flatnonzero((kind == GONE_WITH_BOOK) & (rseg == MM))
    owner[latam] = _cut_books(latam, leavers, np.ones(len(leavers)), acc, rng)

    partner = np.full(n, -1)
    designated = (cls == PARTNER_ONLY) | ((cls == ASSIGN) & (seg != SMB) & (rng.random(n) < 0.05))
    partner[designated] = rng.integers(0, n_partners, int(designated.sum()))

    book, region, tied = _book_regions(owner, acc["reg"], reps["m"])
    acc["owner"], acc["partner"] = owner, partner
    reps["book"], reps["region_tied"] = book, tied
    reps["region"] = np.where(book > 0, region, reps["region"])


# --- assignment history ------------------------------------------------------------------


def _pick_in_segment(rng: np.random.Generator, seg: np.ndarray, pool: np.ndarray, pool_seg: np.ndarray) -> np.ndarray:
    """For each segment code in ``seg``, a random member of ``pool`` of that
    segment (-1 when the segment has none)."""
    order = np.argsort(pool_seg, kind="stable")
    pool, pool_seg = pool[order], pool_seg[order]
    start = np.searchsorted(pool_seg, seg, side="left")
    size = np.searchsorted(pool_seg, seg, side="right") - start
    pick = start + np.floor(rng.random(len(seg)) * size).astype(np.int64)
    return np.where(size > 0, pool[np.minimum(pick, max(len(pool) - 1, 0))] if len(pool) else -1, -1)


def _history(acc: dict, reps: dict, rng: np.random.Generator, rebalances: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Owner changes: a ``new_account`` row at creation, and for about half of
    owned accounts one later move to the current owner.

    A move is a ``rebalance`` (on one of the profile's rebalance dates), an
    ``attrition`` (from a departed rep, after it left) or ``other``. An owner
    hired after the account was created always received it by a move, on or
    after its hire date. The last row of each account names its current owner.
    """
    n = acc["n"]
    owner, created, seg = acc["owner"], acc["created"], acc["seg"]
    owned = np.flatnonzero(owner >= 0)
    o = owner[owned]
    hire, end = reps["hire"][o], reps["end"][o]
    c = created[owned]
    latest = np.minimum(-1, end - 1)  # a departed owner received its accounts before leaving
    u = rng.random(len(owned))
    kind = np.select([u < 0.30, u < 0.42, u < 0.50], [1, 2, 3], default=0)  # none, rebalance, attrition, other
    kind = np.where((kind == 0) & (hire > c), 3, kind)

    # Rebalance: a random rebalance date after the owner's hire and the creation.
    dates = np.array(rebalances)
    ok = (dates[None, :] > hire[:, None]) & (dates[None, :] >= c[:, None] + 30) & (dates[None, :] <= latest[:, None])
    pick = np.argmax(ok * rng.random(ok.shape), axis=1)
    reb_date = dates[pick]
    kind = np.where((kind == 1) & ~ok.any(axis=1), 3, kind)

    # Attrition: from a departed rep of the segment whose books were moved.
    gone = np.flatnonzero(reps["kind"] == GONE)
    prev_gone = _pick_in_segment(rng, seg[owned], gone, reps["seg"][gone])
    gone_end = reps["end"][np.maximum(prev_gone, 0)]
    att_date = np.maximum(gone_end + _days(rng, 1, 20, len(owned)), hire + _days(rng, 1, 20, len(owned)))
    att_ok = (prev_gone >= 0) & (gone_end > c + 30) & (att_date <= latest)
    kind = np.where((kind == 2) & ~att_ok, 3, kind)

    # Other: any day the owner could have received it; before, unowned or with a peer.
    lo = np.maximum(hire, c) + 1
    other_date = _days(rng, lo, np.maximum(lo, latest))
    kind = np.where((kind == 3) & (lo > latest), 0, kind)
    peers = np.flatnonzero(reps["kind"] == SELLER)
    peer = _pick_in_segment(rng, seg[owned], peers, reps["seg"][peers])
    peer = np.where(peer == o, _pick_in_segment(rng, seg[owned], peers, reps["seg"][peers]), peer)
    peer = np.where((peer == o) | ((kind == 3) & (rng.random(len(owned)) < 0.5)), -1, peer)

    moved = kind > 0
    prev = np.select([kind == 2, kind == 1, kind == 3], [prev_gone, peer, peer], default=o)
    move_date = np.select([kind == 1, kind == 2], [reb_date, att_date], default=other_date)
    first_rep = np.full(n, -1)
    first_rep[owned] = prev
    change = np.array(["", "rebalance", "attrition", "other"])
    return {
        "account": np.concatenate([np.arange(n), owned[moved]]),
        "rep": np.concatenate([first_rep, o[moved]]),
        "day": np.concatenate([created, move_date[moved]]),
        "change": np.concatenate([np.full(n, "new_account"), change[kind[moved]]]),
    }


# --- opportunities -----------------------------------------------------------------------


def _lifetimes(
    rng: np.random.Generator, a: np.ndarray, o: np.ndarray, acc: dict, reps: dict, lo: int = -729, hi: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Created and close days of opportunities on accounts ``a`` owned by reps
    ``o``: created in ``[lo, hi]`` while the owner was there and after the
    account existed, closing one sales cycle later (a departed owner's close
    within a month of leaving). Returns (created, close, keep)."""
    start = np.maximum.reduce([np.full(len(a), lo), reps["hire"][o] + 1, acc["created"][a] + 1])
    stop = np.minimum(hi, reps["end"][o] - 10)
    keep = start <= stop
    created = _days(rng, start, np.maximum(start, stop))
    c_lo, c_hi = _seg_attr("cycle_days").T
    s = acc["seg"][a]
    close = created + _days(rng, c_lo[s], c_hi[s])
    close = np.where(reps["end"][o] < NO_END, np.minimum(close, reps["end"][o] + 30), close)
    return created, close, keep


def _deal_pairs(
    rng: np.random.Generator,
    accounts: np.ndarray,
    owner: np.ndarray,
    other: np.ndarray,
    channel: int,
    lag: tuple[int, int],
    acc: dict,
    reps: dict,
) -> list[tuple]:
    """The owner's direct deal on each of ``accounts``, and a second deal by
    ``other`` on ``channel`` opened ``lag`` days later while the first runs,
    both inside the last year (SPEC §3 overlapping lifetimes)."""
    k = len(accounts)
    start = np.maximum.reduce([_days(rng, -300, -60, k), reps["hire"][owner] + 1, acc["created"][accounts] + 1])
    second = np.minimum(start + _days(rng, lag[0], lag[1], k), 0)
    always = np.ones(k, bool)
    return [
        (accounts, owner, 0, start, start + 90, always),
        (accounts, other, channel, second, second + _days(rng, 60, 120, k), always),
    ]


def _opportunities(acc: dict, reps: dict, rng: np.random.Generator, demo: bool) -> dict[str, np.ndarray]:
    """Opportunities of the two years before T, and open ones closing after it.

    Direct deals on owned accounts (the owner's; departed owners' before they
    left) and partner deals on partner-only accounts, owned by a partner
    manager. The demo adds overlapping direct + partner deals on
    partner-designated accounts (RF5), a second rep's deal next to the owner's
    (W7) and slipped deals left open past their close date.
    """
    seg, owner, partner = acc["seg"], acc["owner"], acc["partner"]
    owned = np.flatnonzero(owner >= 0)
    a_dir = np.repeat(owned, rng.poisson(2 * _seg_attr("opps_per_year")[seg[owned]]))
    pms = np.flatnonzero((reps["kind"] == PM_KIND) & reps["active"])
    p_only = np.flatnonzero(acc["cls"] == PARTNER_ONLY)
    a_par = np.repeat(p_only, rng.poisson(1.0, len(p_only)))
    o_par = pms[rng.integers(0, len(pms), len(a_par))]
    parts = [
        (a_dir, owner[a_dir], 0, *_lifetimes(rng, a_dir, owner[a_dir], acc, reps)),
        (a_par, o_par, 1, *_lifetimes(rng, a_par, o_par, acc, reps)),
    ]

    if demo:
        active_owner = (owner >= 0) & reps["active"][np.maximum(owner, 0)]
        # RF5: a partner deal opened while the owner's direct deal runs.
        cosell = np.flatnonzero(active_owner & (partner >= 0) & (acc["cls"] == ASSIGN))
        conflict = rng.permutation(cosell)[: max(3, int(round(0.25 * len(cosell))))]
        by_pm = pms[rng.integers(0, len(pms), len(conflict))]
        parts += _deal_pairs(rng, conflict, owner[conflict], by_pm, 1, (0, 30), acc, reps)
        # W7: a tenured seller of the same segment opens a deal on a colleague's account.
        big = np.flatnonzero(active_owner & (seg != SMB) & (acc["cls"] == ASSIGN))
        big = big[~np.isin(big, conflict)]
        overlap = rng.permutation(big)[: max(3, int(round(0.015 * np.sum(active_owner))))]
        tenured = np.flatnonzero((reps["kind"] == SELLER) & (reps["hire"] <= -400))
        intruder = _pick_in_segment(rng, seg[overlap], tenured, reps["seg"][tenured])
        again = _pick_in_segment(rng, seg[overlap], tenured, reps["seg"][tenured])
        intruder = np.where(intruder == owner[overlap], again, intruder)
        keep = (intruder >= 0) & (intruder != owner[overlap])
        overlap, intruder = overlap[keep], intruder[keep]
        parts += _deal_pairs(rng, overlap, owner[overlap], intruder, 0, (5, 40), acc, reps)

    a, o, channel, created, close, keep = (
        np.concatenate([np.broadcast_to(np.asarray(p[i]), p[0].shape) for p in parts]) for i in range(6)
    )
    a, o, channel, created, close = a[keep], o[keep], channel[keep], created[keep], close[keep]
    s = seg[a]
    closed = close <= 0
    won = closed & (rng.random(len(a)) < _seg_attr("win_rate")[s])
    if demo:  # slipped deals: lost ones still open in the CRM, close date in the past
        slipped = closed & ~won & (close > -150) & (rng.random(len(a)) < 0.08) & reps["active"][o]
        closed = closed & ~slipped
    step = np.where(s == ENT, 1000, 100)
    amount = np.maximum(np.round(acc["potential"][a] * (0.1 + 0.35 * rng.random(len(a))) / step) * step, 500.0)
    return {
        "account": a,
        "owner": o,
        "channel": channel,
        "partner": np.where(channel == 1, partner[a], -1),
        "created": created,
        "close": close,
        "closed": closed,
        "won": won,
        "amount": amount,
    }


#: Months a new seller takes to sell at full pace (its early wins are smaller).
RAMP_MONTHS = 6


def _ramp_new_hires(opps: dict, reps: dict) -> None:
    """Wins in a seller's first :data:`RAMP_MONTHS` months are scaled by how far
    into its ramp it was (linearly, at least 15%): recent hires sell less."""
    months = (opps["close"] - reps["hire"][opps["owner"]]) / 30.44
    ramping = opps["won"] & (months < RAMP_MONTHS)
    scale = np.clip(months / RAMP_MONTHS, 0.15, 1.0)
    opps["amount"] = np.where(ramping, np.maximum(np.round(opps["amount"] * scale, -2), 100.0), opps["amount"])


def _oldest_account(owner: np.ndarray, created: np.ndarray, m: int) -> np.ndarray:
    """Per rep, the index of the oldest account of its book (-1 when none)."""
    owned = np.flatnonzero(owner >= 0)
    order = owned[np.lexsort((created[owned], owner[owned]))]
    reps, first = np.unique(owner[order], return_index=True)
    out = np.full(m, -1)
    out[reps] = order[first]
    return out


def _append_opps(
    opps: dict,
    account: np.ndarray,
    owner: np.ndarray,
    created: np.ndarray,
    close: np.ndarray,
    won: bool,
    amount: np.ndarray,
) -> None:
    """Add direct opportunities to ``opps`` in place."""
    k = len(account)
    new = {
        "account": account,
        "owner": owner,
        "channel": np.zeros(k, int),
        "partner": np.full(k, -1),
        "created": created,
        "close": close,
        "closed": close <= 0,
        "won": np.full(k, won) & (close <= 0),
        "amount": amount,
    }
    for key, values in new.items():
        opps[key] = np.concatenate([opps[key], values])


def _won_in_year(opps: dict) -> np.ndarray:
    """Mask of won opportunities closed in the 365 days before T."""
    return opps["won"] & (opps["close"] > -365) & (opps["close"] <= 0)


def _closing_next_quarter(opps: dict) -> np.ndarray:
    """Mask of open direct opportunities closing in the 90 days after T."""
    return ~opps["closed"] & (opps["close"] > 0) & (opps["close"] <= 90) & (opps["channel"] == 0)


def _set_quotas(opps: dict, acc: dict, reps: dict, rng: np.random.Generator, demo: bool) -> None:
    """Quotas, and bookings that give each seller a chosen attainment (SPEC §3).

    A group (segment, role) shares one quota, its median yearly bookings
    rounded, with +-10% for some reps. Every seller employed for the whole
    year gets at least one won deal in the year; then its won deals of the
    year are resized so that bookings / quota hits a target: 0.82-1.12
    (healthy: about 60% at quota) or 0.62-1.12 (demo: about a quarter at
    quota, W10; with two Mid-Market AEs at 0.48 and 1.32: RF2). Sellers and departed sellers carry a quota; nobody else does.
    """
    m = reps["m"]
    eligible = reps["seller"] & reps["active"] & (reps["hire"] <= -365)
    has_win = np.bincount(opps["owner"][_won_in_year(opps)], minlength=m) > 0
    oldest = _oldest_account(acc["owner"], acc["created"], m)
    need = np.flatnonzero(eligible & ~has_win & (oldest >= 0))
    a = oldest[need]
    start = np.maximum(-250, acc["created"][a] + 1)
    ok = start <= -61
    a, need, start = a[ok], need[ok], start[ok]
    _append_opps(opps, a, need, start, start + 60, True, np.round(acc["potential"][a] * 0.3, -2))

    won = _won_in_year(opps)
    bookings = np.bincount(opps["owner"][won], weights=opps["amount"][won], minlength=m)
    eligible &= bookings > 0
    frame = pd.DataFrame({"seg": reps["seg"], "role": reps["role"], "b": np.where(eligible, bookings, np.nan)})
    typical = frame.groupby(["seg", "role"])["b"].transform("median")
    typical = typical.fillna(frame.groupby("seg")["b"].transform("median"))
    default = np.array([1_200_000.0, 450_000.0, 300_000.0])[np.maximum(reps["seg"], 0)]
    step = _seg_attr("quota_step")[np.maximum(reps["seg"], 0)]
    typical = np.maximum(np.round(typical.fillna(pd.Series(default)).to_numpy(float) / step), 1) * step
    quota = np.round(typical * rng.choice([0.9, 1.0, 1.0, 1.0, 1.1], m) / step) * step
    carries = reps["seller"] | (reps["kind"] == GONE_WITH_BOOK) | (reps["kind"] == GONE)
    reps["quota"] = np.where(carries, quota, np.nan)

    target = 0.62 + 0.50 * rng.random(m) if demo else 0.88 + 0.30 * rng.random(m)
    if demo:
        mm_ae = np.flatnonzero(eligible & (reps["seg"] == MM) & (reps["role"] == AE))
        if len(mm_ae) >= 2:
            target[mm_ae[:2]] = (0.48, 1.32)
    factor = np.where(eligible, target * quota / np.where(bookings > 0, bookings, 1.0), 1.0)
    resized = won & eligible[opps["owner"]]
    opps["amount"][resized] = np.maximum(np.round(opps["amount"][resized] * factor[opps["owner"][resized]], -2), 100.0)
    _pace_recent_hires(opps, reps, target, quota)


def _pace_recent_hires(opps: dict, reps: dict, target: np.ndarray, quota: np.ndarray) -> None:
    """Sellers hired in the last two years book, from their hire, what a rep at
    its target attainment books over a linear ramp of :data:`RAMP_MONTHS`: the
    ramp the history then shows. A seller hired more than a year ago is paced
    up to T - 365 (its last year is already set to its target)."""
    m = reps["m"]
    hire = reps["hire"]
    end = np.where(hire <= -365, -365, 0)
    months = np.maximum(end - hire, 0) / 30.44
    recent = reps["seller"] & reps["active"] & (hire > -730) & (months >= 1)
    ramped = np.where(months >= RAMP_MONTHS, months - RAMP_MONTHS / 2, months**2 / (2 * RAMP_MONTHS))
    owner = opps["owner"]
    since = opps["won"] & (opps["close"] >= hire[owner]) & (opps["close"] <= end[owner])
    booked = np.bincount(owner[since], weights=opps["amount"][since], minlength=m)
    expected = target * np.nan_to_num(quota) / 12 * ramped
    factor = np.divide(expected, booked, out=np.ones(m), where=recent & (booked > 0))
    resized = since & recent[owner]
    opps["amount"][resized] = np.maximum(np.round(opps["amount"][resized] * factor[owner[resized]], -2), 100.0)


def _scale_pipeline(opps: dict, acc: dict, reps: dict, rng: np.random.Generator, demo: bool) -> None:
    """Resize open deals closing in the next 90 days to set each active
    seller's pipeline coverage (SPEC §3), keeping deals as drawn where possible.

    Healthy: coverage clipped into 3.3-4.7x of quarterly quota. Demo: every
    seller's coverage scaled by one factor so that the median is 3.7x, the
    spread (many reps out of band) left as it came. A seller with no such deal
    first gets one on its oldest account.
    """
    m = reps["m"]
    sellers = reps["seller"] & reps["active"] & (reps["quota"] > 0)
    has = np.bincount(opps["owner"][_closing_next_quarter(opps)], minlength=m) > 0
    oldest = _oldest_account(acc["owner"], acc["created"], m)
    need = np.flatnonzero(sellers & ~has & (oldest >= 0))
    a = oldest[need]
    start = np.maximum(-40, acc["created"][a] + 1)
    _append_opps(opps, a, need, start, np.full(len(a), 45), False, np.round(acc["potential"][a] * 0.3, -2))

    w = _closing_next_quarter(opps) & sellers[opps["owner"]]
    current = np.bincount(opps["owner"][w], weights=opps["amount"][w], minlength=m)
    quarter = np.nan_to_num(reps["quota"]) * 90 / 365
    coverage = np.divide(current, quarter, out=np.zeros(m), where=quarter > 0)
    if demo:
        target = coverage * 3.7 / np.median(coverage[sellers]) if sellers.any() else coverage
    else:
        target = np.clip(coverage, 3.3, 4.7)
    factor = np.divide(target, coverage, out=np.ones(m), where=coverage > 0)
    opps["amount"][w] = np.maximum(np.round(opps["amount"][w] * factor[opps["owner"][w]], -2), 100.0)


def _fresh_pipeline(opps: dict) -> None:
    """Healthy: next quarter's open deals were all opened in the last 90 days
    (none aged past twice the median sales cycle: W9 stays clear)."""
    near = ~opps["closed"] & (opps["close"] > 0) & (opps["close"] <= 90)
    opps["created"] = np.where(near, np.maximum(opps["created"], -90), opps["created"])


#: Stages a deal passes through before it closes (the first rows of its history).
OPEN_STAGES = 4


def _deal_history(o: dict, rng: np.random.Generator, demo: bool) -> dict[str, np.ndarray]:
    """How each opportunity changed until T: one row per change (SPEC §2 opportunity_history).

    Every deal gets a row when it was created (first stage, its amount, an
    expected close date) and one when it reached a later stage halfway to its
    close (or to T while open); closed deals a last row on their close date.
    Some deals slipped: their expected close date started earlier and moved
    later once (a tenth of deals, both profiles) or, in the demo, two or three
    times for about a fifth of next quarter's open deals (W9). Rows are in
    order of change, same-day rows in the order they happened.
    """
    n = len(o["created"])
    created, close = o["created"], o["close"]
    near = ~o["closed"] & (close > 0) & (close <= 90)
    pushes = np.where(rng.random(n) < 0.10, 1, 0)
    if demo:
        pushes = np.where(near & (rng.random(n) < 0.22), rng.integers(2, 4, n), pushes)
    last = np.minimum(close, 0)  # changes happen up to T
    span = np.maximum(last - created, 0)
    step = _days(rng, 15, 45, n)
    first_close = close - pushes * step
    reached = np.where(o["won"], rng.choice([2, 3], n, p=(0.3, 0.7)), rng.choice([1, 2, 3], n, p=(0.4, 0.4, 0.2)))
    # rows: created, one per push (spread over the deal's life), the later stage, the close
    k = 2 + pushes + o["closed"].astype(int)
    deal = np.repeat(np.arange(n), k)
    pos = np.arange(len(deal)) - np.repeat(np.cumsum(k) - k, k)
    is_push = (pos >= 1) & (pos <= pushes[deal])
    is_stage = pos == 1 + pushes[deal]
    is_close = pos == 2 + pushes[deal]
    frac = np.where(
        is_push, pos / (pushes[deal] + 2.0), np.where(is_stage, (1 + pushes[deal]) / (pushes[deal] + 2.0), 0)
    )
    day = np.where(is_close, close[deal], created[deal] + np.floor(frac * span[deal]).astype(int))
    moved = np.minimum(np.where(is_push | is_stage | is_close, pos, 0), pushes[deal])
    expected = np.where(is_close, close[deal], first_close[deal] + moved * step[deal])
    stage = np.where(
        is_close,
        np.where(o["won"][deal], WON_STAGE, LOST_STAGE),
        np.where(is_stage, reached[deal], np.where(is_push, np.minimum(1, reached[deal]), 0)),
    )
    return {"deal": deal, "day": day, "stage": stage, "close": expected, "amount": o["amount"][deal]}


# --- activities ---------------------------------------------------------------------------


def _activities(acc: dict, reps: dict, rng: np.random.Generator, demo: bool) -> dict[str, np.ndarray]:
    """Calls, emails and meetings of the year before T.

    Owned accounts get activities at their segment's rate, mostly by the owner
    (some by an SDR of the segment), while the rep was there. Neglected
    accounts have none in the last 90 days: 5% of owned accounts in the
    healthy company, a segment-dependent share in the demo (W1). Every other
    account of an active owner has at least one in the last 90 days.
    Unowned and partner-only accounts get occasional touches.
    """
    n, seg, owner = acc["n"], acc["seg"], acc["owner"]
    active_owner = (owner >= 0) & reps["active"][np.maximum(owner, 0)]
    neglect_p = _seg_attr("neglect")[seg] if demo else np.full(n, 0.05)
    neglected = active_owner & (rng.random(n) < neglect_p)

    owned = np.flatnonzero(owner >= 0)
    a = np.repeat(owned, rng.poisson(_seg_attr("touches_per_year")[seg[owned]]))
    r = owner[a]
    sdrs = np.flatnonzero((reps["kind"] == SDR_KIND) & reps["active"])
    by_sdr = _pick_in_segment(rng, seg[a], sdrs, reps["seg"][sdrs])
    r = np.where((rng.random(len(a)) < 0.12) & (by_sdr >= 0) & active_owner[a], by_sdr, r)
    hi = np.where(neglected[a], -90, np.minimum(0, reps["end"][r]))

    # A guaranteed recent touch by the owner for accounts that are worked.
    worked = np.flatnonzero(active_owner & ~neglected)
    unowned = np.flatnonzero(acc["cls"] == UNOWNED)
    unowned = unowned[rng.random(len(unowned)) < 0.15]
    p_only = np.flatnonzero(acc["cls"] == PARTNER_ONLY)
    p_only = p_only[rng.random(len(p_only)) < 0.25]
    pms = np.flatnonzero((reps["kind"] == PM_KIND) & reps["active"])
    any_sdr = sdrs if len(sdrs) else pms
    a = np.concatenate([a, worked, unowned, p_only])
    r = np.concatenate(
        [
            r,
            owner[worked],
            any_sdr[rng.integers(0, len(any_sdr), len(unowned))],
            pms[rng.integers(0, len(pms), len(p_only))],
        ]
    )
    lo_floor = np.concatenate(
        [np.full(len(hi), -364), np.full(len(worked), -89), np.full(len(unowned) + len(p_only), -364)]
    )
    hi = np.concatenate([hi, np.zeros(len(a) - len(hi), dtype=np.int64)])
    lo = np.maximum.reduce([lo_floor, reps["hire"][r] + 1, acc["created"][a]])
    keep = lo <= hi
    day = _days(rng, lo, np.maximum(lo, hi))[keep]
    a, r = a[keep], r[keep]
    kind = rng.choice(len(ACTIVITY_TYPES), len(a), p=ACTIVITY_SHARE)
    return {"account": a, "rep": r, "day": day, "type": kind}


# --- survey ---------------------------------------------------------------------------------


def _survey(acc: dict, reps: dict, rng: np.random.Generator, demo: bool) -> dict[str, np.ndarray]:
    """How reps describe their territory.

    About 85% of active sellers with a book answer (not those whose book has
    no single most common region). Healthy answers match the CRM book (count
    within 8%); in the demo about a third of answers are off in size, region
    or segment (RF4).
    """
    who = np.flatnonzero(reps["seller"] & reps["active"] & (reps["book"] > 0) & ~reps["region_tied"])
    who = who[rng.random(len(who)) < 0.85]
    k = len(who)
    segment = reps["seg"][who].copy()
    region = reps["region"][who].copy()
    count = np.round(reps["book"][who] * (0.92 + 0.16 * rng.random(k)))
    if demo and k:
        off = rng.permutation(k)[: max(2, int(np.ceil(0.3 * k)))]
        size, place, tier = (off[np.arange(len(off)) % 3 == i] for i in range(3))
        count[size] = np.round(reps["book"][who[size]] * rng.choice([0.55, 1.6], len(size)))
        region[place] = (region[place] + rng.integers(1, len(REGIONS), len(place))) % len(REGIONS)
        segment[tier] = (segment[tier] + 1) % len(SEGMENTS)
    return {"rep": who, "segment": segment, "region": region, "count": count}


# --- merger duplicates ----------------------------------------------------------------------


def _plant_duplicates(acc: dict, rng: np.random.Generator) -> None:
    """W8: in each segment, some rep-assigned Contoso accounts are really
    Northwind accounts of another rep: same domain, same name up to case,
    punctuation and legal suffix. Sets ``twin`` (the Northwind row, or -1)."""
    n, seg, owner, contoso = acc["n"], acc["seg"], acc["owner"], acc["contoso"]
    twin = np.full(n, -1)
    assigned = (acc["cls"] == ASSIGN) & (owner >= 0)
    for s in range(len(SEGMENTS)):
        c_rows = np.flatnonzero(assigned & contoso & (seg == s))
        n_rows = np.flatnonzero(assigned & ~contoso & (seg == s) & ~acc["domain_blank"])
        k = min(len(c_rows), len(n_rows), max(1, int(round(0.10 * len(c_rows)))))
        c_pick = rng.choice(c_rows, k, replace=False)
        n_pick = rng.choice(n_rows, k, replace=False)
        differ = owner[c_pick] != owner[n_pick]
        twin[c_pick[differ]] = n_pick[differ]
    acc["twin"] = twin


# --- frames ---------------------------------------------------------------------------------


def _ids(prefix: str | np.ndarray, numbers: np.ndarray, width: int) -> pd.arrays.ArrowStringArray:
    """``prefix`` + zero-padded ``numbers`` as a pandas ``string`` array."""
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width, "0")
    pre = pa.array(np.asarray(prefix, dtype=object)) if isinstance(prefix, np.ndarray) else prefix
    return pd.arrays.ArrowStringArray(pc.binary_join_element_wise(pre, digits, ""))


def _pick(vocab: tuple[str, ...] | ExtensionArray, codes: np.ndarray) -> ExtensionArray:
    """``vocab[codes]`` as a ``string`` array, missing where a code is -1."""
    values = vocab if isinstance(vocab, ExtensionArray) else pd.array(list(vocab), dtype="string")
    return values.take(np.asarray(codes, dtype=np.int64), allow_fill=True)


def _dates(as_of: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """Day offsets from T as ``datetime64[ns]`` (``NaT`` for :data:`NO_END`)."""
    out = (np.datetime64(as_of.date(), "D") + np.asarray(days).astype("timedelta64[D]")).astype("datetime64[ns]")
    return np.where(np.asarray(days) >= NO_END, np.datetime64("NaT", "ns"), out)


def _conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Contract columns, in contract order, with post-intake dtypes."""
    table = TABLES[name]
    frame = typed(name, frame[table.column_names])
    if table.key:
        frame = frame.sort_values(table.key, kind="stable")
    return frame.reset_index(drop=True)


def _names_and_domains(acc: dict) -> tuple[pd.Series, pd.Series]:
    """Account names with a legal suffix of their region, and web domains.

    A W8 twin copies its Northwind row: the same domain, and the name as the
    other CRM wrote it (capitals, a comma, another legal form).
    """
    n, reg, pick = acc["n"], acc["reg"], acc["suffix_pick"]
    twin = acc.get("twin", np.full(n, -1))
    src = np.where(twin >= 0, twin, np.arange(n))
    base, stem = _company_names(acc["name_code"][src])
    offsets = np.cumsum([0] + [len(g) for g in _SUFFIXES])
    suffix = pd.Series(_pick([s for g in _SUFFIXES for s in g], offsets[reg] + pick % np.diff(offsets)[reg]))
    twin_suffix = pd.Series(_pick(("Inc", "LLC", "Ltd", "Corp", "GmbH"), pick % 5))
    names = (base + " " + suffix).where(pd.Series(twin < 0), base.str.upper() + ", " + twin_suffix)
    offsets = np.cumsum([0] + [len(g) for g in _TLDS])
    tld = _pick([t for g in _TLDS for t in g], offsets[reg[src]] + pick[src] % np.diff(offsets)[reg[src]])
    domains = (stem + pd.Series(tld)).mask(pd.Series(acc["domain_blank"] & (twin < 0)))
    return names, domains


def _frames(
    as_of: pd.Timestamp,
    acc: dict,
    reps: dict,
    n_partners: int,
    opps: dict,
    acts: dict,
    history: dict,
    survey: dict,
    rng: np.random.Generator,
    rng_history: np.random.Generator,
    demo: bool,
) -> dict[str, pd.DataFrame]:
    """Assemble the arrays into the contract's tables."""
    n, m = acc["n"], reps["m"]
    rep_ids = _ids("REP-", reps["number"], max(4, len(str(m))))
    partner_ids = _ids("PTN-", np.arange(1, n_partners + 1), 3)
    width = max(6, len(str(n)))
    account_ids = _ids(np.where(acc["contoso"], "CT-", "NW-"), np.arange(1, n + 1), width)

    names, domains = _names_and_domains(acc)
    accounts = pd.DataFrame(
        {
            "account_id": account_ids,
            "account_name": names,
            "owner_rep_id": rep_ids.take(acc["owner"], allow_fill=True),
            "partner_id": partner_ids.take(acc["partner"], allow_fill=True),
            "segment": _pick(tuple(s.name for s in SEGMENTS), acc["seg"]),
            "region": _pick(REGIONS, acc["reg"]),
            "industry": _pick(INDUSTRIES, acc["industry"]),
            "employees": pd.array(acc["employees"], dtype="Int64").copy(),
            "annual_revenue": np.where(acc["revenue_blank"], np.nan, acc["revenue"]),
            "potential": acc["potential"],
            "domain": domains,
            "source_company": _pick(SOURCES, acc["contoso"].astype(int)),
        }
    )
    accounts.loc[acc["employees_blank"], "employees"] = pd.NA

    names_first = _pick(_FIRST_NAMES, reps["first"])
    names_last = _pick(_LAST_NAMES, reps["last"])
    reps_frame = pd.DataFrame(
        {
            "rep_id": rep_ids,
            "rep_name": pd.Series(names_first) + " " + pd.Series(names_last),
            "role": _pick(ROLES, reps["role"]),
            "level": _pick(LEVELS, reps["level"]),
            "segment": _pick(tuple(s.name for s in SEGMENTS), reps["seg"]),
            "region": _pick(REGIONS, np.where(reps["kind"] == PM_KIND, -1, reps["region"])),
            "manager_id": rep_ids.take(reps["manager"], allow_fill=True),
            "hire_date": _dates(as_of, reps["hire"]),
            "end_date": _dates(as_of, reps["end"]),
            "quota": reps["quota"],
        }
    )

    # Opportunities numbered in order of creation, as a CRM does.
    order = np.lexsort((opps["account"], opps["created"]))
    o = {k: v[order] for k, v in opps.items()}
    progress = -o["created"] / np.maximum(o["close"] - o["created"], 1)
    stage = np.where(
        o["closed"],
        np.where(o["won"], WON_STAGE, LOST_STAGE),
        np.where(o["close"] <= 0, 3, np.minimum((progress * 4).astype(int), 3)),
    )
    opportunity_ids = _ids("OPP-", np.arange(1, len(order) + 1), max(7, len(str(len(order)))))
    opportunities = pd.DataFrame(
        {
            "opportunity_id": opportunity_ids,
            "account_id": account_ids.take(o["account"]),
            "owner_rep_id": rep_ids.take(o["owner"]),
            "channel": _pick(CHANNELS, o["channel"]),
            "partner_id": partner_ids.take(o["partner"], allow_fill=True),
            "amount": o["amount"],
            "stage": _pick(STAGES, stage),
            "created_date": _dates(as_of, o["created"]),
            "close_date": _dates(as_of, o["close"]),
            "is_closed": o["closed"],
            "is_won": o["won"] & o["closed"],
        }
    )

    h = _deal_history(o, rng_history, demo)
    order = np.lexsort((h["deal"], h["day"]))  # stable: a deal's same-day rows keep their order
    deal_history = pd.DataFrame(
        {
            "opportunity_id": opportunity_ids.take(h["deal"][order]),
            "changed_date": _dates(as_of, h["day"][order]),
            "stage": _pick(STAGES, h["stage"][order]),
            "amount": h["amount"][order],
            "close_date": _dates(as_of, h["close"][order]),
        }
    )

    order = np.lexsort((acts["account"], acts["day"]))
    activities = pd.DataFrame(
        {
            "activity_id": _ids("ACT-", np.arange(1, len(order) + 1), max(8, len(str(len(order))))),
            "account_id": account_ids.take(acts["account"][order]),
            "rep_id": rep_ids.take(acts["rep"][order]),
            "activity_date": _dates(as_of, acts["day"][order]),
            "type": _pick(ACTIVITY_TYPES, acts["type"][order]),
        }
    )

    history_frame = pd.DataFrame(
        {
            "account_id": account_ids.take(history["account"]),
            "rep_id": rep_ids.take(history["rep"], allow_fill=True),
            "effective_date": _dates(as_of, history["day"]),
            "change_type": pd.array(history["change"], dtype="string"),
        }
    ).sort_values(["effective_date", "account_id"], kind="stable")

    rep_survey = pd.DataFrame(
        {
            "rep_id": rep_ids.take(survey["rep"]),
            "described_segment": _pick(tuple(s.name for s in SEGMENTS), survey["segment"]),
            "described_region": _pick(REGIONS, survey["region"]),
            "described_account_count": pd.array(survey["count"], dtype="Int64"),
        }
    )
    partners = pd.DataFrame(
        {
            "partner_id": partner_ids,
            "partner_name": _pick(_PARTNER_NAMES, np.arange(n_partners)),
            "tier": _pick(TIERS, rng.choice(len(TIERS), n_partners, p=(0.2, 0.4, 0.4))),
        }
    )
    frames = {
        "accounts": accounts,
        "reps": reps_frame,
        "opportunities": opportunities,
        "activities": activities,
        "assignment_history": history_frame,
        "rep_survey": rep_survey,
        "partners": partners,
        "opportunity_history": deal_history,
    }
    return {name: _conform(name, frames[name]) for name in TABLE_ORDER if name in frames}


# --- a later quarter ---------------------------------------------------------------------


def later_quarter(
    tables: dict[str, pd.DataFrame],
    as_of: str,
    *,
    moves: pd.DataFrame | None = None,
    carried: float = 0.6,
    days: int = 91,
    seed: int = 7,
) -> dict[str, pd.DataFrame]:
    """The same company's CRM exports ``days`` after ``as_of``, a quarter of operations later.

    Starting from ``tables`` (as of ``as_of``), the quarter:

    - makes ``carried`` of the planned ``moves`` (``account_id``, ``to_rep_id``: an
      earlier run's rebalanced plan), each logged as a ``rebalance``; a tenth of the
      others go to another rep of the account's segment instead (``other``);
    - sees about 3% of the active quota-carrying reps leave (none that a made move
      went to): half of each book moved to a peer (``attrition``), half left orphaned;
    - hires three reps like existing ones, each with a first won deal;
    - adds about 1% new accounts (``new_account``), half of them given an owner;
    - closes the deals that were due in the quarter (about 30% won), and repeats
      the last quarter's activities, its closed deals and the pipeline that was due,
      a quarter later (new ids), so the new quarter is as busy as the last.

    Everything else stays as it was. Returns the tables in contract order, typed,
    sorted by key; the same arguments give the same frames.
    """
    rng = np.random.default_rng((seed, 18))
    t0 = pd.Timestamp(as_of).normalize()
    t1 = t0 + pd.Timedelta(days=days)
    third = max(1, days // 3)  # plan moves, then departures, then their books handed over
    day = lambda lo, hi, n: t0 + pd.to_timedelta(rng.integers(lo, hi, n), unit="D")  # noqa: E731
    acc = tables["accounts"].copy()
    reps = tables["reps"].copy()
    hist_rows: list[pd.DataFrame] = [tables["assignment_history"]] if "assignment_history" in tables else []
    owner = acc.set_index("account_id")["owner_rep_id"].astype("string")

    def log(ids: pd.Index, new_owner: pd.Series | np.ndarray, kind: str, when: tuple[int, int]) -> None:
        hist_rows.append(
            pd.DataFrame(
                {
                    "account_id": pd.array(ids, dtype="string"),
                    "rep_id": pd.array(np.asarray(new_owner, dtype=object), dtype="string"),
                    "effective_date": day(*when, len(ids)),
                    "change_type": pd.array([kind] * len(ids), dtype="string"),
                }
            )
        )

    active = (reps["hire_date"].isna() | (reps["hire_date"] <= t0)) & (
        reps["end_date"].isna() | (reps["end_date"] > t0)
    )
    sellers = reps.loc[active & (reps["quota"].fillna(0) > 0)]
    made_to: set[str] = set()
    if moves is not None and len(moves):
        plan = moves[["account_id", "to_rep_id"]].astype("string").sort_values("account_id").reset_index(drop=True)
        plan = plan.loc[plan["account_id"].isin(owner.index)].reset_index(drop=True)
        made = rng.random(len(plan)) < carried
        done = plan.loc[made]
        owner.loc[done["account_id"]] = done["to_rep_id"].to_numpy()
        log(pd.Index(done["account_id"]), done["to_rep_id"], "rebalance", (1, third))
        made_to = set(done["to_rep_id"].dropna())
        rest = plan.loc[~made & (rng.random(len(plan)) < 0.1)]
        seg = acc.set_index("account_id")["segment"].reindex(rest["account_id"]).astype("string").to_numpy()
        other = [
            _peer(rng, sellers, s, {owner.get(a), t}) for a, t, s in zip(rest["account_id"], rest["to_rep_id"], seg)
        ]
        keep = [o is not None for o in other]
        ids = pd.Index(rest["account_id"])[keep]
        owner.loc[ids] = [o for o in other if o is not None]
        log(ids, [o for o in other if o is not None], "other", (1, third))

    # Departures: their books half to a peer, half orphaned.
    candidates = sellers.loc[~sellers["rep_id"].isin(made_to)]
    leaving = candidates.sample(n=max(1, round(0.03 * len(sellers))), random_state=int(rng.integers(1 << 31)))
    reps.loc[reps["rep_id"].isin(leaving["rep_id"]), "end_date"] = day(third, 2 * third, len(leaving)).to_numpy()
    stay = sellers.loc[~sellers["rep_id"].isin(leaving["rep_id"])]
    for rid, seg in zip(leaving["rep_id"], leaving["segment"]):
        book = owner.index[(owner == rid).fillna(False).to_numpy()]
        moved = book[rng.random(len(book)) < 0.5]
        peers = [_peer(rng, stay, seg, {rid}) for _ in moved]
        ids = moved[[p is not None for p in peers]]
        owner.loc[ids] = [p for p in peers if p is not None]
        log(ids, [p for p in peers if p is not None], "attrition", (2 * third, days))

    # Three hires like existing sellers.
    like = stay.sample(n=3, random_state=int(rng.integers(1 << 31)))
    hires = like.assign(
        rep_id=[f"REP-Q{i + 1:03d}" for i in range(3)],
        rep_name=[f"{a.split()[0]} {b.split()[-1]}" for a, b in zip(like["rep_name"], np.roll(like["rep_name"], 1))],
        level="junior",
        hire_date=day(5, max(6, days - 30), 3).to_numpy(),
        end_date=pd.NaT,
        manager_id=like["manager_id"],
    )
    reps = pd.concat([reps, hires], ignore_index=True)

    # New accounts like existing ones.
    n_new = max(3, round(0.01 * len(acc)))
    new = acc.sample(n=n_new, random_state=int(rng.integers(1 << 31))).reset_index(drop=True)
    new_ids = pd.array([f"NEW-{i + 1:06d}" for i in range(n_new)], dtype="string")
    new_owner = np.where(rng.random(n_new) < 0.5, stay["rep_id"].sample(n=n_new, replace=True, random_state=1), None)
    new = new.assign(account_id=new_ids, account_name=new["account_name"] + " Group", owner_rep_id=new_owner)
    if "domain" in new:
        new["domain"] = pd.array([f"new{i + 1}.example" for i in range(n_new)], dtype="string")
    hist_rows.append(
        pd.DataFrame(
            {
                "account_id": new_ids,
                "rep_id": pd.array(new_owner, dtype="string"),
                "effective_date": day(1, days, n_new),
                "change_type": pd.array(["new_account"] * n_new, dtype="string"),
            }
        )
    )
    acc["owner_rep_id"] = owner.reindex(acc["account_id"]).to_numpy()
    acc = pd.concat([acc, new], ignore_index=True)

    out = dict(tables)
    out["accounts"], out["reps"] = acc, reps
    if hist_rows:
        out["assignment_history"] = pd.concat(hist_rows, ignore_index=True).sort_values(
            ["effective_date", "account_id"], kind="stable"
        )
    shift = pd.Timedelta(days=days)
    if "activities" in tables:
        a = tables["activities"]
        last = a.loc[(a["activity_date"] > t0 - shift) & (a["activity_date"] <= t0)]
        last = last.assign(
            activity_id=[f"ACT-Q{i + 1:08d}" for i in range(len(last))], activity_date=last["activity_date"] + shift
        )
        out["activities"] = pd.concat([a, last], ignore_index=True)
    if "opportunities" in tables:
        o = tables["opportunities"].copy()
        due = ~o["is_closed"].fillna(False).astype(bool) & (o["close_date"] <= t1)
        fresh_open = o.loc[due & (o["close_date"] > t0)]
        won = rng.random(len(o)) < 0.3
        o.loc[due, "is_closed"] = True
        o.loc[due, "is_won"] = won[due.to_numpy()]
        o.loc[due, "stage"] = np.where(won[due.to_numpy()], STAGES[4], STAGES[5])
        # Next quarter looks like this one: its wins and its pipeline due, a quarter later.
        closed_last = (
            o["is_closed"].fillna(False).astype(bool) & (o["close_date"] > t0 - shift) & (o["close_date"] <= t0)
        )
        fresh = pd.concat([o.loc[closed_last], fresh_open])
        fresh = fresh.assign(
            opportunity_id=[f"OPP-Q{i + 1:07d}" for i in range(len(fresh))],
            created_date=fresh["created_date"] + shift,
            close_date=fresh["close_date"] + shift,
        )
        firsts = pd.DataFrame(
            {
                "opportunity_id": [f"OPP-H{i + 1:03d}" for i in range(3)],
                "account_id": acc["account_id"].iloc[:3].to_numpy(),
                "owner_rep_id": hires["rep_id"].to_numpy(),
                "channel": "direct",
                "amount": (hires["quota"].fillna(0) * 0.05).to_numpy(),
                "stage": STAGES[4],
                "created_date": hires["hire_date"].to_numpy(),
                "close_date": (hires["hire_date"] + pd.Timedelta(days=20)).clip(upper=t1).to_numpy(),
                "is_closed": True,
                "is_won": True,
            }
        )
        out["opportunities"] = pd.concat([o, fresh, firsts], ignore_index=True)
    return {name: _conform(name, out[name]) for name in TABLE_ORDER if name in out}


def _peer(rng: np.random.Generator, sellers: pd.DataFrame, segment: object, exclude: set) -> str | None:
    """A random seller of ``segment`` not in ``exclude``, or None when there is none."""
    pool = sellers.loc[(sellers["segment"] == segment).fillna(False).to_numpy() & ~sellers["rep_id"].isin(exclude)]
    return None if pool.empty else str(pool["rep_id"].iloc[int(rng.integers(len(pool)))])
