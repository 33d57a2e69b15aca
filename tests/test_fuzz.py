"""The fuzzing harness: mutated data-room files end in data or a clean refusal, never a crash."""

from __future__ import annotations

import pytest

from tests.fuzzing import mutate, read_case

CASES = 300


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    from diligence.synth import make_company, write_company

    return write_company(make_company(n_accounts=150, seed=4), tmp_path_factory.mktemp("clean") / "data")


@pytest.mark.parametrize("block", range(10))
def test_mutated_files_are_read_or_refused(clean, tmp_path, block):
    from diligence.synth import DEMO_AS_OF

    outcomes = {"ok": 0, "refused": 0}
    for seed in range(block * CASES // 10, (block + 1) * CASES // 10):
        done = mutate(clean, tmp_path / "case", seed)
        try:
            outcomes[read_case(tmp_path / "case", DEMO_AS_OF)] += 1
        except Exception as exc:  # a defect: say which case, so it can be replayed
            raise AssertionError(f"seed {seed} ({'; '.join(done)}): {type(exc).__name__}: {exc}") from exc
    assert sum(outcomes.values()) == CASES // 10


def test_whole_runs_on_mutated_files_end_in_exit_0_or_2(clean, tmp_path):
    from diligence.synth import DEMO_AS_OF
    from tests.conftest import run_cli

    ran = 0
    for seed in range(1000, 1100):  # the first two cases whose files can be read: they run every step
        done = mutate(clean, tmp_path / "case", seed)
        if read_case(tmp_path / "case", DEMO_AS_OF) != "ok":
            continue
        result = run_cli(
            "run", tmp_path / "case", "--company", "Fuzz", "--as-of", DEMO_AS_OF, "--out", tmp_path / f"out{seed}",
            "--formats", "html",
        )  # fmt: skip
        assert result.returncode in (0, 2) and "Traceback" not in result.stderr, (seed, done, result.stderr[-2000:])
        ran += 1
        if ran == 2:
            break
    assert ran == 2
