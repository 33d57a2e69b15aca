"""At a value exactly on its threshold, every place that speaks of a flag agrees.

The scorecard, the key findings and the section narrative all read the one
evaluated flag; none of them compares a metric with a threshold again. These
tests put each flag's metric exactly on its threshold (and on each end of the W5
band), and just past it, and check that the three say the same thing.
"""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest

import diligence
from diligence.metrics import flags as rules
from diligence.params import resolve_params
from diligence.registry import BELOW, FLAGS, OUTSIDE, spec
from diligence.report import narrative
from diligence.report.formats import flag_rows

PARAMS = resolve_params({"as_of": "2025-06-30"})

#: The section narrative that speaks of each flag, where one does.
SECTION = {
    "RF1": narrative.market_coverage,
    "W1": narrative.market_coverage,
    "RF2": narrative.capacity_balance,
    "W2": narrative.capacity_balance,
    "W3": narrative.capacity_balance,
    "W5": narrative.pipeline_win_rates,
    "RF3": narrative.territory_governance,
    "RF4": narrative.territory_governance,
    "RF6": narrative.headcount_capacity,
    "W6": narrative.headcount_capacity,
}

#: Context metrics some sentences need besides the judged one.
CONTEXT = {"RF1": {"accounts_total": 1000}}


def _on_threshold():
    for s in FLAGS:
        if s.test == OUTSIDE:
            yield s.id, s.threshold[0]
            yield s.id, s.threshold[1]
        else:
            yield s.id, s.threshold


def _past(s, value):
    step = 1 if s.kind == "int" else 0.01
    if s.test == BELOW or (s.test == OUTSIDE and value == s.threshold[0]):
        return value - step
    return value + step


def _says(fid, value):
    s = spec(fid)
    m = {s.metric: value, **CONTEXT.get(fid, {})}
    evaluated = rules.evaluate(m, PARAMS, {})
    flag = next(f for f in evaluated if f["id"] == fid)
    row = next(r for r in flag_rows(evaluated) if r["id"] == fid)
    key = [k for k in narrative.key_findings(evaluated, limit=len(FLAGS)) if k.startswith(s.headline)]
    section = " ".join(SECTION[fid](m, PARAMS, evaluated)) if fid in SECTION else ""
    return flag, row, key, section


@pytest.mark.parametrize(("fid", "value"), list(_on_threshold()))
def test_on_the_threshold_every_place_says_clear(fid, value):
    flag, row, key, section = _says(fid, value)
    assert flag["status"] == "clear", flag["detail"]
    assert row["label"] == "Clear"
    assert key == [], "a clear flag is not a key finding"
    phrase = rules.relation(flag)
    assert phrase == "" or phrase.startswith(("at or below", "at or above", "within", "inside"))
    if fid in SECTION and phrase:
        assert phrase in section and phrase in flag["detail"]


@pytest.mark.parametrize(("fid", "value"), list(_on_threshold()))
def test_just_past_the_threshold_every_place_says_triggered(fid, value):
    s = spec(fid)
    flag, row, key, section = _says(fid, _past(s, value))
    assert flag["status"] == "triggered", flag["detail"]
    assert row["label"] == "Triggered"
    assert len(key) == 1 and flag["detail"] in key[0]
    phrase = rules.relation(flag)
    assert phrase.startswith(("above", "below", "more than"))
    if fid in SECTION:
        assert phrase in section and phrase in flag["detail"]


def test_the_narrative_never_compares_a_metric_with_a_threshold():
    source = inspect.getsource(narrative)
    assert "thresholds" not in source.replace('params["thresholds"]["W5"]', "")
    assert not re.search(r"\]\s*(>|<|>=|<=)\s*(t\b|t\[|params)", source)
    assert not re.search(r"\b(>|<)\s*t\[", source)


def test_each_flags_facts_are_written_once_in_the_code():
    code = "\n".join(p.read_text(encoding="utf-8") for p in pathlib.Path(diligence.__file__).parent.rglob("*.py"))
    for s in FLAGS:
        assert code.count(f'"{s.headline}"') == 1, s.id
        assert code.count(f'"{s.rule}"') == 1, s.id
        assert code.count(f'id="{s.id}"') == 1, s.id
        assert len(re.findall(rf'"{s.id}":\s*[\d\[(]', code)) == 0, f"a second threshold table names {s.id}"
