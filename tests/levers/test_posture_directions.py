"""Each change from alliance-2023 to alliance-2024, applied alone to 2023, moves P(deterrence
holds) in the direction its field declares, or not measurably at all (slow: 500 seeds)."""

from __future__ import annotations

import pytest

from engine.io.loading import load_pair, load_rules
from engine.levers.diff import posture_diff
from engine.levers.params import parameters

Z = 2.5  # against the declared direction by more than this many standard errors fails


def _expected_sign(param, before, after) -> int:
    """+1 when the change should raise P(hold), -1 lower it, 0 when no sign is declared."""
    sign = {"+": 1, "-": -1}.get(param.direction, 0)
    if isinstance(before, bool) or isinstance(after, bool):
        return sign if after else -sign
    if isinstance(before, int | float) and isinstance(after, int | float):
        return sign if after > before else -sign
    order = list(param.lever.order)
    if before in order and after in order:
        return sign if order.index(after) > order.index(before) else -sign
    return 0


@pytest.mark.slow
def test_each_2024_change_alone_moves_deterrence_its_declared_way():
    rules = load_rules("standard")
    a, b = load_pair("alliance-2023")[0], load_pair("alliance-2024")[0]
    diff = posture_diff(a, b, rules, runs=500, seed=0, workers=2)
    declared = {p.path: p for p in parameters(a, rules)}
    checked = []
    for effect in diff.changes:
        edits = effect.change.edits
        if effect.held is None or len(edits) != 1 or edits[0].path not in declared:
            continue
        edit = edits[0]
        sign = _expected_sign(declared[edit.path], edit.before, edit.after)
        if sign == 0:
            continue
        checked.append(edit.path)
        assert sign * effect.held.z > -Z, (edit.path, effect.held.to_json())
    assert len(checked) >= 8, checked
    assert diff.total.mean > 0 and diff.total.z > 3, diff.total.to_json()
