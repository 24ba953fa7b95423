"""engine/sim/assessment.py: the per-turn state records are logged as the situations build them,
without a second rounding pass, so every float in them must already be rounded for the log."""

from __future__ import annotations

import pytest

from engine import load_pair
from engine.canonical import canonical
from engine.sim.kernel import run
from engine.sim.state import ListSink, rounded

TURN_KINDS = ("state.blue", "state.red", "turn.measures")


@pytest.mark.parametrize("name", ["alliance-2024", "baseline-2022", "classroom-tutorial"])
def test_turn_records_hold_only_rounded_numbers(name: str) -> None:
    s, r = load_pair(name)
    checked = 0
    for seed in range(4):
        sink = ListSink()
        run(s, r, seed, sink=sink)
        for record in sink:
            if record["kind"] in TURN_KINDS:
                # rounded() would change the text of any float r6 has not rounded
                assert canonical(record["data"]) == canonical(rounded(record["data"])), record
                checked += 1
    assert checked >= 3 * 4 * 5  # three kinds a turn, four seeds, five turns at the least
