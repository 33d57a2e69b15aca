"""The run's potential, chosen once before any step so that every step weighs accounts alike.

The model is fitted and validated here (:mod:`diligence.metrics.potential_model`),
the basis chosen from the ``potential_source`` parameter, and the accounts
written with it. What was learnt is kept in the work folder for the market
potential step, the methodology appendix and findings.json: ``potential.json``
(basis, the reason, the model card, features, sizes), the calibration table
and, when the model validated, every account's modelled potential.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from diligence.errors import InputError
from diligence.execution import store
from diligence.metrics import potential_model as pm

POTENTIAL_FILE = "potential.json"
CALIBRATION_FILE = "potential_calibration.parquet"
SCORES_FILE = "potential_scores.parquet"


def check(tables: dict[str, pd.DataFrame], params: Any) -> None:
    """Refuse, before anything is written, a ``potential_source`` or model
    feature the data cannot honour."""
    accounts = tables["accounts"]
    problem = pm.check_source(accounts, params["potential_source"])
    missing = [f for f in params["potential_model"]["features"] if f not in accounts]
    if missing:
        problem = (
            f"potential_model.features names column(s) the accounts table does not have: {', '.join(missing)}. "
            "Keep them in the mapping (keep: {accounts: [Your column]}), or remove them from the parameters."
        )
    if problem:
        raise InputError(problem)


def prepare(tables: dict[str, pd.DataFrame], params: Any, work: str | Path) -> dict[str, pd.DataFrame]:
    """Fit and validate the model, choose the basis, record both in ``work``;
    return the tables with the accounts as every step reads them."""
    work = Path(work)
    settings = params["potential_model"]
    accounts = tables["accounts"]
    model = pm.model_potential(
        accounts,
        tables.get("opportunities"),
        tables.get("activities"),
        params["as_of"],
        extra_features=settings["features"],
        min_auc=settings["min_auc"],
        min_train_wins=settings["min_train_wins"],
    )
    basis, why = pm.choose_basis(accounts, model, params["potential_source"])
    store.write_json(
        {
            "basis": basis,
            "why": why,
            "card": model.card(),
            "features": list(model.features),
            "train_wins": model.train_wins,
            "min_auc": settings["min_auc"],
            "min_train_wins": settings["min_train_wins"],
        },
        work / POTENTIAL_FILE,
    )
    model.calibration.to_parquet(work / CALIBRATION_FILE, index=False)
    if model.potential is not None:
        model.potential.rename("modelled_potential").reset_index().to_parquet(work / SCORES_FILE, index=False)
    return {**tables, "accounts": pm.apply_basis(accounts, basis, model)}


def read(work: str | Path) -> dict[str, Any]:
    """What :func:`prepare` recorded: its JSON, plus ``calibration`` and
    ``scores`` (account_id → modelled potential, or None) as frames."""
    work = Path(work)
    if not (work / POTENTIAL_FILE).exists():
        return {}
    out = store.read_json(work / POTENTIAL_FILE)
    out["calibration"] = pd.read_parquet(work / CALIBRATION_FILE)
    scores = work / SCORES_FILE
    out["scores"] = pd.read_parquet(scores).set_index("account_id")["modelled_potential"] if scores.exists() else None
    return out
