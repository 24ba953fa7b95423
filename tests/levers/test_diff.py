"""Posture differences: the leaf changes from A to B, grouped only where one needs another to be
a valid scenario, each applied alone to A on common seeds."""

from __future__ import annotations

import pytest

from engine.io.loading import load_pair
from engine.levers.diff import (
    ABSENT,
    applied,
    brief,
    decompose,
    edits,
    markdown,
    posture_diff,
    problems,
)
from engine.spec.scenario import with_turns


@pytest.fixture(scope="module")
def scenarios():
    return {n: load_pair(n) for n in ("baseline-2022", "alliance-2023", "alliance-2024")}


def _mechanics(data: dict) -> list:
    """Every edit from an empty difference: what is left when labels are ignored."""
    return list(edits(data, data))


def test_edits_are_leaves_and_skip_labels() -> None:
    a = {"meta": {"id": "a"}, "x": {"name": "A", "n": 1, "l": [1, 2], "sub": {"k": 1}}}
    b = {"meta": {"id": "b"}, "x": {"name": "B", "n": 2, "l": [1, 3], "new": {"k": 2}}}
    got = [(e.path, e.before, e.after) for e in edits(a, b)]
    assert got == [("x.n", 1, 2), ("x.l", [1, 2], [1, 3]), ("x.sub", {"k": 1}, ABSENT),
                   ("x.new", ABSENT, {"k": 2})]


def test_all_changes_together_make_b(scenarios) -> None:
    for a, b in (("baseline-2022", "alliance-2023"), ("alliance-2023", "alliance-2024")):
        sa, r = scenarios[a]
        sb = scenarios[b][0]
        changes = decompose(sa, sb, r)
        together = applied(sa, tuple(e for c in changes for e in c.edits))
        assert list(edits(together.model_dump(mode="json"), sb.model_dump(mode="json"))) == []


def test_each_change_is_valid_alone_and_grouped_only_by_need(scenarios) -> None:
    sa, r = scenarios["baseline-2022"]
    sb = scenarios["alliance-2023"][0]
    changes = decompose(sa, sb, r)
    for c in changes:
        assert c.reason == "" and problems(sa, r, c.edits) == []
    groups = [c.paths for c in changes if len(c.paths) > 1]
    # the MQ-9s report to a node 2023 adds: they come with it (and the links to it)
    mq9 = next(g for g in groups if "blue.isr.mq9" in g)
    assert "blue.c2.nodes.isr_ops" in mq9
    # single numbers stay alone
    assert ("blue.c2.consultation_h",) in [c.paths for c in changes]


def test_2023_to_2024_changes(scenarios) -> None:
    sa, r = scenarios["alliance-2023"]
    paths = {p for c in decompose(sa, scenarios["alliance-2024"][0], r) for p in c.paths}
    assert {"blue.c2.command", "blue.c2.consultation_h", "blue.c2.intel_sharing",
            "blue.isr.mq9.availability", "blue.c2.links.isr-usfj.hardened"} <= paths
    assert not any(p.startswith(("meta", "sides")) or p.endswith(".name") for p in paths)


def test_posture_diff_runs_a_b_and_each_change_on_common_seeds(scenarios) -> None:
    sa, r = scenarios["alliance-2023"]
    a, b = with_turns(sa, 3), with_turns(scenarios["alliance-2024"][0], 3)
    d = posture_diff(a, b, r, runs=3)
    assert d.runs == 3 and len(d.changes) == len(decompose(a, b, r))
    assert all(c.held is not None and c.held.n == 3 for c in d.changes)
    text = markdown(d)
    assert text.startswith("**`alliance-2023` → `alliance-2024`**")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(d.changes)
    assert "| none: `alliance-2023` itself |" in text and "| all of them: " in text
    assert d.to_json()["changes"][0]["paths"] == list(d.changes[0].change.paths)


def test_brief_values() -> None:
    assert brief(ABSENT) == "(absent)" and brief(True) == "true"
    assert brief({"name": "MQ-9s", "aircraft": 6}) == "MQ-9s"
    assert brief({"a": "x", "b": "y", "latency_h": 1}) == "x to y"
    assert brief([{"turn": 3, "side": "blue", "action": "go", "params": {}, "note": "n"}]) == (
        "3 blue go")
    assert brief(["land_sea_air", "cyber"]) == "land_sea_air, cyber"
    assert brief("a|b") == "a\\|b"
