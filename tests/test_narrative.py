"""Narrative sentences come from the numbers, never from placeholders."""

from diligence.metrics import flags as flag_rules
from diligence.params import resolve_params
from diligence.registry import spec
from diligence.report import narrative


def flag(fid, status, value, threshold, detail="d"):
    return {"id": fid, "name": fid, "status": status, "value": value, "threshold": threshold, "detail": detail}


def test_key_findings_rank_red_flags_in_list_order_then_warnings_by_severity():
    flags = [
        flag("W7", "triggered", 40, 0, "w7"),
        flag("RF1", "triggered", 0.22, 0.20, "rf1"),
        flag("RF3", "triggered", 36.0, 12, "rf3"),
        flag("RF2", "clear", 1.5, 2.0, "rf2"),
        flag("W5", "triggered", 1.0, [3.0, 5.0], "w5"),
        flag("RF4", "not_assessed", None, 0.1, "rf4"),
    ]
    found = narrative.key_findings(flags, limit=4)
    assert [s.split(". ")[-1] for s in found] == ["rf1", "rf3", "w7", "w5"]
    assert found[0].startswith(spec("RF1").headline)


def test_summary_counts_and_names_what_was_not_assessed():
    flags = [flag("RF1", "triggered", 0.3, 0.2), flag("W1", "clear", 0.1, 0.3), flag("RF4", "not_assessed", None, 0.1)]
    sentences = narrative.summary(flags)
    assert sentences[0] == "1 of 6 red flags and 0 of 10 warnings are raised."
    assert sentences[-1].endswith("RF4.")


def test_market_coverage_sentences_quote_the_metrics():
    params = resolve_params({"as_of": "2026-06-30"})
    m = {
        "unassigned_pct": 0.255,
        "accounts_total": 3000,
        "orphaned_accounts": 0,
        "assigned_not_worked_pct": 0.1,
        "white_space_cells": 1,
        "white_space_potential_pct": 0.033,
        "unassigned_potential_pct": None,
    }
    text = " ".join(narrative.market_coverage(m, params, flag_rules.evaluate(m, params, {})))
    assert "25.5% of the 3,000 accounts" in text and "above the 20% threshold (red flag RF1)" in text
    assert "1 market cell has" in text and "3.3%" in text
    assert "orphan" not in text.lower() and "departed" not in text  # 0 orphans: no sentence


def test_productivity_and_pipeline_quality_sentences_read_the_flags():
    params = resolve_params({"as_of": "2026-06-30", "thresholds": {"W10": 0.5}})
    m = {
        "reps_at_quota_pct": 0.45,
        "top_fifth_bookings_share": 0.5,
        "annual_attrition_observed": 0.2,
        "quota_carrying_reps": 30,
        "months_to_first_win_median": 4.2,
        "potential_bookings_rank_corr": 0.1,
    }
    text = " ".join(narrative.productivity(m, params, flag_rules.evaluate(m, params, {})))
    assert "45.0% of the reps" in text and "(warning W10)" in text.replace("below the 50% threshold ", "")
    assert "about 6 of today's 30" in text and "4.2 months" in text and "deserve caution" in text
    q = {"stale_pipeline_pct": 0.25, "pipeline_coverage_median": 3.7, "quality_pipeline_coverage_median": 2.5}
    sentences = narrative.pipeline_quality(q, params, flag_rules.evaluate(q, params, {}))
    assert "25.0% of the open pipeline" in sentences[0] and "at or below the 25% threshold" in sentences[0]
    assert "from 3.7× to 2.5×" in sentences[1]
