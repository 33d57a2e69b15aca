"""The run's work folder: tables read once per process, never shared between steps."""

from __future__ import annotations

import pandas as pd

from diligence.execution import store


def _accounts(potential):
    return {"accounts": pd.DataFrame({"account_id": ["a", "b"], "potential": potential})}


def test_what_a_step_does_to_its_tables_never_reaches_the_next(tmp_path):
    store.save_tables(_accounts([1.0, 2.0]), tmp_path)
    first = store.load_tables(tmp_path)["accounts"]
    first["potential"] = first["potential"] * 10
    first.loc[0, "account_id"] = "changed"
    first["added"] = 1
    second = store.load_tables(tmp_path)["accounts"]
    second.loc[1, "potential"] = 99.0
    again = store.load_tables(tmp_path)["accounts"]
    assert again["account_id"].tolist() == ["a", "b"]
    assert again["potential"].tolist() == [1.0, 2.0]
    assert list(again.columns) == ["account_id", "potential"]


def test_tables_written_again_are_read_again(tmp_path):
    store.save_tables(_accounts([1.0, 2.0]), tmp_path)
    assert store.load_tables(tmp_path)["accounts"]["potential"].tolist() == [1.0, 2.0]
    store.save_tables(_accounts([3.0, 4.0, 5.0][:2]), tmp_path / "other")
    store.save_tables({"accounts": pd.DataFrame({"account_id": ["c"], "potential": [7.0]})}, tmp_path)
    assert store.load_tables(tmp_path)["accounts"]["account_id"].tolist() == ["c"]
    assert store.load_tables(tmp_path / "other")["accounts"]["potential"].tolist() == [3.0, 4.0]
