"""Per-territory table: book, results and effort-to-return, on a hand-built company."""

import pandas as pd

from diligence.contract import typed
from diligence.metrics import balance
from diligence.params import resolve_params

T = "2026-06-30"


def d(n: int) -> str:
    return (pd.Timestamp(T) + pd.Timedelta(days=n)).date().isoformat()


def test_territory_table_counts_results_and_effort_per_won_deal():
    reps = typed(
        "reps",
        pd.DataFrame(
            {
                "rep_id": ["R1", "R2"],
                "rep_name": ["Ann", "Bob"],
                "role": ["AE", "AE"],
                "segment": ["SMB", "SMB"],
                "hire_date": pd.to_datetime([d(-800), d(-800)]),
                "quota": [100.0, 100.0],
            }
        ),
    )
    accounts = typed(
        "accounts",
        pd.DataFrame(
            {
                "account_id": ["A1", "A2", "A3"],
                "account_name": ["a", "b", "c"],
                "owner_rep_id": ["R1", "R1", "R2"],
                "potential": [10.0, 20.0, 5.0],
            }
        ),
    )
    opps = typed(
        "opportunities",
        pd.DataFrame(
            {
                "opportunity_id": ["O1", "O2", "O3", "O4"],
                "account_id": ["A1", "A2", "A1", "A3"],
                "owner_rep_id": ["R1", "R1", "R1", "R2"],
                "amount": [50.0, 30.0, 99.0, 10.0],
                "created_date": pd.to_datetime([d(-100), d(-90), d(-500), d(-50)]),
                "close_date": pd.to_datetime([d(-10), d(-5), d(-400), d(-1)]),  # O3 closed outside the year
                "is_closed": [True, True, True, True],
                "is_won": [True, False, True, False],
            }
        ),
    )
    acts = typed(
        "activities",
        pd.DataFrame(
            {
                "account_id": ["A1"] * 5 + ["A3"],
                "rep_id": ["R1"] * 5 + ["R2"],
                "activity_date": pd.to_datetime([d(-1), d(-30), d(-200), d(-364), d(-365), d(-2)]),  # -365 is outside
            }
        ),
    )
    table = balance.territory_table(
        {"accounts": accounts, "reps": reps, "opportunities": opps, "activities": acts}, resolve_params({"as_of": T})
    ).set_index("rep_id")
    assert table.loc["R1", ["accounts", "potential", "closed", "won"]].tolist() == [2, 30.0, 2, 1]
    assert table.loc["R1", "win_rate"] == 0.5 and table.loc["R1", "attainment"] == 0.5
    assert table.loc["R1", "activities"] == 4 and table.loc["R1", "activities_per_won_deal"] == 4.0
    assert table.loc["R2", "won"] == 0 and pd.isna(table.loc["R2", "activities_per_won_deal"])
