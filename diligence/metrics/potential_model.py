"""A modelled account potential: what an account yields in a year once it is worked.

Most targets have no trustworthy potential field, and annual revenue says how
big a customer is, not how much it would buy. This module learns, from the
company's own wins, what accounts like each one yield when someone works them,
and tests that on time before it is used:

- **Worked** in a year: the account had an activity or an opportunity created in
  that year. Only worked accounts teach the model (an idle account's zero says
  nothing about what it would buy).
- **Label**: won bookings closed in the year (sum of ``amount`` of won
  opportunities with ``close_date`` in it).
- **Features**: firmographics (segment, region, industry, employees, annual
  revenue, partner coverage) and any extra account columns the parameters name.
  Categorical columns are pandas categories, missing values stay missing: both
  are handled by the model itself.
- **Model**: scikit-learn's ``HistGradientBoostingRegressor`` with a Poisson
  loss. Yearly bookings are zero for most worked accounts and heavily skewed for
  the rest; a Poisson loss models the expected yield directly (the product of
  win probability and deal size a two-part model would estimate separately) on
  the log scale, with no hand-made transform, and ranks accounts by it.
  Fixed seeds make it deterministic.
- **Validation on time**: fitted on the year before T − 365 days (features as
  exported, labels from that year), scored on the 365 days before T. Reported:
  the holdout AUC of "won anything in the year", the top-decile lift (win rate of
  the top tenth of scores over the overall rate), bootstrap intervals of both,
  and predicted against actual bookings by decile (calibration).
- **Used** only when it validates: holdout AUC at least ``min_auc`` and at least
  ``min_train_wins`` accounts with wins in training. The potential is then the
  model refitted on the latest year, scored on every account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from diligence.metrics.coverage import MODELLED_POTENTIAL, positions_in

YEAR = pd.Timedelta(days=365)
BASE_FEATURES: tuple[str, ...] = ("segment", "region", "industry", "employees", "annual_revenue", "partner_covered")
SEED = 0
BOOTSTRAP_ROUNDS = 200
MIN_AUC = 0.60
MIN_TRAIN_WINS = 50
PARALLEL_ROWS = 200_000  # fits of fewer rows run on one thread


@dataclass
class PotentialModel:
    """The outcome of :func:`model_potential`.

    ``used`` says whether the model validated; ``reason`` says why not (or
    states the holdout figures when it did). ``potential`` holds every account's
    modelled yearly yield when used, else None. ``calibration`` has one row per
    holdout decile of score: ``decile`` (1 = highest), ``accounts``,
    ``predicted`` and ``actual`` mean bookings, ``win_rate``.
    """

    used: bool
    reason: str
    auc: float | None = None
    auc_low: float | None = None
    auc_high: float | None = None
    top_decile_lift: float | None = None
    n_train: int = 0
    n_test: int = 0
    train_wins: int = 0
    features: tuple[str, ...] = ()
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    potential: pd.Series | None = None

    def card(self) -> dict[str, Any]:
        """The SPEC §7 ``potential_model`` object (figures rounded for repeatable bytes)."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(float(x), 6)

        return {
            "auc": r(self.auc),
            "auc_low": r(self.auc_low),
            "auc_high": r(self.auc_high),
            "top_decile_lift": r(self.top_decile_lift),
            "n_train": int(self.n_train),
            "n_test": int(self.n_test),
            "used": bool(self.used),
            "reason": self.reason,
        }


def feature_frame(accounts: pd.DataFrame, extra: Sequence[str] = ()) -> pd.DataFrame:
    """The model's inputs, one row per account (index ``account_id``).

    Text columns become pandas categories (the model's own categorical
    handling), numbers stay numbers with their blanks; ``partner_covered`` is
    whether the account has a partner. Columns the accounts do not have are left
    out, as are extra columns that are neither text nor numbers.
    """
    frame = accounts.set_index("account_id")
    out = {}
    if "partner_id" in frame:
        out["partner_covered"] = frame["partner_id"].notna().astype("int8")
    for name in [*BASE_FEATURES, *extra]:
        if name in out or name not in frame:
            continue
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            out[name] = col.astype("float64")
        elif pd.api.types.is_string_dtype(col) or pd.api.types.is_object_dtype(col):
            # categories of plain strings, blanks as NaN: the encoder refuses pd.NA among strings
            text = col.astype(object).where(col.notna(), np.nan)
            out[name] = pd.Categorical(text.to_numpy(), categories=sorted(text.dropna().astype(str).unique()))
    return pd.DataFrame(out, index=frame.index)


@dataclass(frozen=True)
class _History:
    """Activities and opportunities as positions into the accounts (hashed once),
    so that each year's outcome is array arithmetic."""

    n: int
    act_pos: np.ndarray
    act_date: np.ndarray
    opp_pos: np.ndarray
    created: np.ndarray
    closed: np.ndarray
    won_amount: np.ndarray

    @classmethod
    def of(cls, account_ids: pd.Index, opportunities: pd.DataFrame | None, activities: pd.DataFrame | None) -> _History:
        def pos(frame: pd.DataFrame | None) -> np.ndarray:
            return (
                np.zeros(0, np.int64)
                if frame is None or not len(frame)
                else positions_in(frame["account_id"], account_ids)
            )

        def dates(frame: pd.DataFrame | None, column: str) -> np.ndarray:
            if frame is None or not len(frame):
                return np.zeros(0, "datetime64[ns]")
            return pd.to_datetime(frame[column]).to_numpy("datetime64[ns]")

        if opportunities is not None and len(opportunities):
            won = opportunities["is_won"].fillna(False).astype(bool).to_numpy()
            amount = pd.to_numeric(opportunities["amount"], errors="coerce").fillna(0.0).to_numpy(float)
            won_amount = np.where(won, amount, np.nan)  # NaN: not won
        else:
            won_amount = np.zeros(0)
        return cls(
            len(account_ids), pos(activities), dates(activities, "activity_date"), pos(opportunities),
            dates(opportunities, "created_date"), dates(opportunities, "close_date"), won_amount,
        )  # fmt: skip

    def year(self, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
        """(worked, bookings) of every account for the year ``(end − 365 days, end]``."""
        start, stop = np.datetime64(end - YEAR, "ns"), np.datetime64(end, "ns")

        def hits(positions: np.ndarray, when: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
            keep = (when > start) & (when <= stop) & (positions >= 0)
            if extra is not None:
                keep &= extra
            return np.bincount(positions[keep], minlength=self.n)

        won = ~np.isnan(self.won_amount)
        worked = (hits(self.act_pos, self.act_date) > 0) | (hits(self.opp_pos, self.created) > 0)
        in_year = (self.closed > start) & (self.closed <= stop) & won & (self.opp_pos >= 0)
        bookings = np.bincount(self.opp_pos[in_year], weights=self.won_amount[in_year], minlength=self.n)
        worked |= np.bincount(self.opp_pos[in_year], minlength=self.n) > 0  # a win is work
        return worked, bookings.astype(float)


def year_outcome(
    account_ids: pd.Index,
    opportunities: pd.DataFrame | None,
    activities: pd.DataFrame | None,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """For the year ``(end − 365 days, end]``: ``worked`` (an activity, or an
    opportunity created, in the year) and ``bookings`` (won amount closed in the
    year), one row per account of ``account_ids``."""
    worked, bookings = _History.of(pd.Index(account_ids), opportunities, activities).year(pd.Timestamp(end))
    return pd.DataFrame({"worked": worked, "bookings": bookings}, index=account_ids)


class _Ranked:
    """Scores sorted once, grouped by distinct value, so that the AUC and the
    top-decile lift of any weighting of the rows cost O(rows), not a sort each
    (the bootstrap weighs the same rows hundreds of times)."""

    def __init__(self, score: np.ndarray, positive: np.ndarray) -> None:
        score = np.asarray(score, dtype=float)
        self.order = np.argsort(score, kind="stable")
        self.positive = np.asarray(positive, dtype=bool)[self.order]
        _, self.first = np.unique(score[self.order], return_index=True)

    def auc(self, weight: np.ndarray | None = None) -> float | None:
        w = np.ones(len(self.order)) if weight is None else np.asarray(weight, dtype=float)[self.order]
        pos_w = np.where(self.positive, w, 0.0)
        neg_w = w - pos_w
        w_pos, w_neg = pos_w.sum(), neg_w.sum()
        if w_pos == 0 or w_neg == 0:
            return None
        neg_group = np.add.reduceat(neg_w, self.first)
        pos_group = np.add.reduceat(pos_w, self.first)
        below = np.cumsum(neg_group) - neg_group  # negatives scored strictly lower; ties count half
        return float((pos_group * (below + 0.5 * neg_group)).sum() / (w_pos * w_neg))

    def lift(self, weight: np.ndarray | None = None) -> float | None:
        w = np.ones(len(self.order)) if weight is None else np.asarray(weight, dtype=float)[self.order]
        w, pos = w[::-1], self.positive[::-1]  # highest score first
        total, wins = w.sum(), (w * pos).sum()
        if total == 0 or wins == 0:
            return None
        top = np.cumsum(w) <= 0.1 * total
        top[0] = True  # at least one row
        return float(((w * pos)[top].sum() / w[top].sum()) / (wins / total))


def weighted_auc(score: np.ndarray, positive: np.ndarray, weight: np.ndarray | None = None) -> float | None:
    """Area under the ROC curve of ``score`` for ``positive``, ties counted half,
    each row counted ``weight`` times (bootstrap multiplicities); None without
    both classes."""
    return _Ranked(score, positive).auc(weight)


def top_decile_lift(score: np.ndarray, positive: np.ndarray, weight: np.ndarray | None = None) -> float | None:
    """Win rate of the highest-scored tenth (by weight) over the overall win rate; None without wins."""
    return _Ranked(score, positive).lift(weight)


def bootstrap(
    score: np.ndarray, positive: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = SEED
) -> tuple[tuple[float | None, float | None], tuple[float | None, float | None]]:
    """95% percentile intervals of the AUC and of the top-decile lift, from
    ``rounds`` resamples of the holdout rows with replacement (fixed seed)."""
    rng = np.random.default_rng(seed)
    ranked = _Ranked(score, positive)
    n = len(score)
    aucs, lifts = [], []
    for _ in range(rounds if n else 0):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        a, lift = ranked.auc(w), ranked.lift(w)
        if a is not None:
            aucs.append(a)
        if lift is not None:
            lifts.append(lift)

    def interval(xs: list[float]) -> tuple[float | None, float | None]:
        if not xs:
            return None, None
        lo, hi = np.percentile(xs, [2.5, 97.5])
        return float(lo), float(hi)

    return interval(aucs), interval(lifts)


def calibration(score: np.ndarray, bookings: np.ndarray) -> pd.DataFrame:
    """Predicted against actual mean bookings by decile of score (1 = highest)."""
    if len(score) == 0:
        return pd.DataFrame(columns=["decile", "accounts", "predicted", "actual", "win_rate"])
    rank = pd.Series(-np.asarray(score)).rank(method="first").to_numpy()
    decile = np.minimum(10, np.ceil(rank / len(score) * 10).astype(int))
    frame = pd.DataFrame({"decile": decile, "predicted": score, "actual": bookings, "won": bookings > 0})
    return (
        frame.groupby("decile")
        .agg(
            accounts=("actual", "size"),
            predicted=("predicted", "mean"),
            actual=("actual", "mean"),
            win_rate=("won", "mean"),
        )
        .reset_index()
    )


def _fit(features: pd.DataFrame, label: pd.Series):  # -> HistGradientBoostingRegressor
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(
        loss="poisson",
        categorical_features="from_dtype",
        max_iter=200,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=SEED,
    )
    from threadpoolctl import threadpool_limits

    # Threads pay only on large fits; on small ones, and beside a busy batch, they cost more than they save.
    with threadpool_limits(limits=None if len(features) >= PARALLEL_ROWS else 1):
        return model.fit(features, label.to_numpy(dtype=float))


def model_potential(
    accounts: pd.DataFrame,
    opportunities: pd.DataFrame | None,
    activities: pd.DataFrame | None,
    as_of: Any,
    *,
    extra_features: Sequence[str] = (),
    min_auc: float = MIN_AUC,
    min_train_wins: int = MIN_TRAIN_WINS,
    rounds: int = BOOTSTRAP_ROUNDS,
) -> PotentialModel:
    """Fit, validate on time and (when it validates) score the modelled potential.

    Parameters
    ----------
    accounts, opportunities, activities
        The validated tables (opportunities and activities may be None).
    as_of
        The as-of date T: training is the year to T − 365 days, the holdout the
        365 days before T.
    extra_features
        Further account columns to learn from (kept by the mapping, named in the
        parameters).
    min_auc, min_train_wins
        What "validates" means: holdout AUC at least ``min_auc`` and at least
        ``min_train_wins`` worked accounts with wins in the training year.

    Returns
    -------
    PotentialModel
        The holdout figures, the calibration table and, when used, the potential
        of every account (index ``account_id``, yearly bookings a worked account
        like it yields).
    """
    as_of = pd.Timestamp(as_of)
    features = feature_frame(accounts, extra_features)
    names = tuple(features.columns)
    if opportunities is None or not len(opportunities):
        return PotentialModel(False, "there are no opportunities to learn from", features=names)
    if not names:
        return PotentialModel(False, "the accounts carry no firmographic column to learn from")
    history = _History.of(features.index, opportunities, activities)
    train = pd.DataFrame(dict(zip(("worked", "bookings"), history.year(as_of - YEAR))), index=features.index)
    test = pd.DataFrame(dict(zip(("worked", "bookings"), history.year(as_of))), index=features.index)
    tr, te = train[train["worked"]], test[test["worked"]]
    wins = int((tr["bookings"] > 0).sum())
    base = {"n_train": len(tr), "n_test": len(te), "train_wins": wins, "features": names}
    if wins < min_train_wins:
        got = "no worked account" if wins == 0 else f"only {wins:,} worked account{'s' if wins > 1 else ''}"
        return PotentialModel(
            False, f"{got} won anything in the training year (at least {min_train_wins} needed)", **base
        )
    if not len(te) or te["bookings"].gt(0).all() or te["bookings"].eq(0).all():
        return PotentialModel(False, "the holdout year has no mix of won and not-won worked accounts", **base)
    model = _fit(features[train["worked"].to_numpy()], tr["bookings"])
    score = model.predict(features[test["worked"].to_numpy()])
    won = te["bookings"].to_numpy() > 0
    auc = weighted_auc(score, won)
    lift = top_decile_lift(score, won)
    validated = auc is not None and auc >= min_auc
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="potential") as pool:
        # On a large company the refit and its scoring of every account (native code, outside
        # Python's lock) and the bootstrap take seconds each and depend on nothing of each other:
        # they run side by side.
        latest = (
            pool.submit(lambda: _fit(features[test["worked"].to_numpy()], te["bookings"]).predict(features))
            if validated
            else None
        )
        (auc_lo, auc_hi), _ = bootstrap(score, won, rounds)
        figures = dict(
            auc=auc, auc_low=auc_lo, auc_high=auc_hi, top_decile_lift=lift,
            calibration=calibration(score, te["bookings"].to_numpy()),
        )  # fmt: skip
        if latest is None:
            return PotentialModel(
                False, f"the holdout AUC is {auc:.2f}, below the {min_auc:.2f} it must reach", **base, **figures
            )
        potential = pd.Series(latest.result(), index=features.index, name="potential")
    return PotentialModel(
        True,
        f"validated on the year before the as-of date: AUC {auc:.2f}, top-decile lift {lift:.1f}×",
        **base,
        **figures,
        potential=potential,
    )


def rank_difference(potential: pd.Series, modelled: pd.Series, top: float = 0.2) -> Mapping[str, float]:
    """How a client's potential and the model rank accounts differently: the
    share of the client's top ``top`` that the model also puts in its top, and
    the Spearman correlation of the two."""
    both = pd.concat([potential, modelled], axis=1, join="inner").dropna()
    if len(both) < 2:
        return {"top_overlap": float("nan"), "rank_corr": float("nan")}
    n = max(1, int(round(top * len(both))))
    a = set(both.iloc[:, 0].rank(method="first", ascending=False).nsmallest(n).index)
    b = set(both.iloc[:, 1].rank(method="first", ascending=False).nsmallest(n).index)
    return {"top_overlap": len(a & b) / n, "rank_corr": float(both.iloc[:, 0].corr(both.iloc[:, 1], method="spearman"))}


#: The bases a run can use, as findings.json names them (SPEC §7 ``potential_basis``).
SOURCES = ("column", "model", "proxy")
MODELLED = MODELLED_POTENTIAL  # the column the chosen model potential is kept in


def has_client_potential(accounts: pd.DataFrame) -> bool:
    """True when the accounts carry a ``potential`` column with any value."""
    return "potential" in accounts and accounts["potential"].notna().any()


def choose_basis(accounts: pd.DataFrame, model: PotentialModel | None, source: str | None) -> tuple[str, str]:
    """Which potential the run uses, and why, in a sentence.

    ``source`` is the ``potential_source`` parameter: ``column``, ``model``,
    ``proxy`` or None (the client's column when present, else the model when it
    validates, else the proxy). A model asked for that does not validate gives
    the proxy; a column asked for that is absent is refused earlier, by
    :func:`check_source`.
    """
    client = has_client_potential(accounts)
    validated = model is not None and model.used
    why_not = model.reason if model is not None else "there is no history to learn from"
    if source == "column" or (source is None and client):
        return "column", "the client's own potential column" + (
            " (kept; the parameters may ask for the model instead)" if source is None else ", as the parameters ask"
        )
    if source == "proxy":
        return "proxy", "the proxy, as the parameters ask"
    if validated:
        return "model", f"the modelled potential ({model.reason})"
    return "proxy", f"the proxy: the modelled potential was not used because {why_not}"


def check_source(accounts: pd.DataFrame, source: str | None) -> str | None:
    """A sentence saying why ``potential_source`` cannot be honoured, else None."""
    if source == "column" and not has_client_potential(accounts):
        return (
            "potential_source is 'column' but the accounts table has no potential values: "
            "map a potential column, or set potential_source to model or proxy (or leave it out)."
        )
    return None


def apply_basis(accounts: pd.DataFrame, basis: str, model: PotentialModel | None) -> pd.DataFrame:
    """The accounts as every later step reads them: with :data:`MODELLED` for the
    model basis, without the client's ``potential`` for a proxy chosen over it."""
    out = accounts.drop(columns=[MODELLED], errors="ignore")
    if basis == "model" and model is not None and model.potential is not None:
        return out.assign(**{MODELLED: out["account_id"].map(model.potential).astype(float).to_numpy()})
    if basis == "proxy" and "potential" in out:
        return out.drop(columns=["potential"])
    return out


def realised_bookings(accounts: pd.DataFrame, opportunities: pd.DataFrame | None, as_of: Any) -> pd.Series:
    """Won bookings of each account closed in the 365 days before T (index ``account_id``)."""
    ids = pd.Index(accounts["account_id"], name="account_id")
    return year_outcome(ids, opportunities, None, pd.Timestamp(as_of))["bookings"]


def client_check(accounts: pd.DataFrame, bookings: pd.Series) -> dict[str, Any]:
    """Whether the client's ``potential`` predicts where bookings came from:
    ``rank_corr`` (Spearman, average ranks; None when either side is constant),
    ``top_decile_share`` (share of bookings in the client's top tenth of accounts
    by potential) and ``deciles`` (:func:`calibration` of potential against
    bookings). Empty without a client potential."""
    if "potential" not in accounts or not accounts["potential"].notna().any():
        return {}
    potential = pd.to_numeric(accounts["potential"], errors="coerce").astype(float).fillna(0.0).to_numpy()
    booked = bookings.reindex(pd.Index(accounts["account_id"])).fillna(0.0).to_numpy()
    constant = np.ptp(potential) == 0 or np.ptp(booked) == 0
    corr = None if constant else float(pd.Series(potential).corr(pd.Series(booked), method="spearman"))
    order = np.argsort(-potential, kind="stable")
    top = order[: max(1, int(np.ceil(0.1 * len(order))))]
    total = booked.sum()
    return {
        "rank_corr": corr,
        "top_decile_share": float(booked[top].sum() / total) if total > 0 else None,
        "deciles": calibration(potential, booked),
    }


def calibration_long(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`calibration` as one row per decile and series (``predicted``,
    ``actual``), for a grouped bar chart."""
    return table.melt(
        id_vars="decile", value_vars=["predicted", "actual"], var_name="series", value_name="bookings"
    ).assign(decile=lambda f: f["decile"].astype(str))
