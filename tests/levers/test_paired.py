"""Paired runs: every case on the same seeds, measures only; a case equal to another gives the
same outcomes seed by seed, and the number of workers changes nothing."""

from __future__ import annotations

import pytest

from engine.io.loading import load_pair
from engine.levers.paired import outcomes, run_task, seed_of
from engine.levers.params import apply
from engine.sim.kernel import run
from engine.sim.state import MeasuresOnly


@pytest.fixture(scope="module")
def pair():
    return load_pair("classroom-tutorial")


def test_equal_cases_give_equal_outcomes_seed_by_seed(pair) -> None:
    same, other = outcomes([pair, pair], runs=6)
    assert same == other and len(same) == 6
    assert len({str(o) for o in same}) > 1  # the seeds differ from each other


def test_run_i_is_the_sweeps_common_seed_i(pair) -> None:
    got = outcomes([pair], runs=3, seed=5)[0]
    want = [run(*pair, seed_of(5, i), sink=MeasuresOnly()).outcome for i in range(3)]
    assert got == want


def test_workers_change_nothing(pair) -> None:
    varied = apply(*pair, {"rules.red_model.weights.gain": 4.0})
    one = outcomes([pair, varied], runs=4, workers=1)
    two = outcomes([pair, varied], runs=4, workers=2)
    assert one == two and one[0] != one[1]


def test_progress_counts_every_run(pair) -> None:
    seen: list[int] = []
    outcomes([pair, pair], runs=3, progress=seen.append)
    assert sum(seen) == 6


def test_a_run_that_raises_is_recorded_not_fatal(pair, monkeypatch) -> None:
    import engine.levers.paired as paired

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(paired, "run", broken)
    rows = run_task((0, paired._tasks([pair], 1, 0).__next__()[1], 0, 0, 2))[2]
    assert rows == [{"error": "RuntimeError: boom"}] * 2
