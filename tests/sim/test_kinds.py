"""The record kinds table (engine/sim/kinds.py): each visibility rule's audience, the
declarations themselves, ``can_see``, and agreement with what the simulation emits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine
from engine.sim import kinds
from engine.sim.kinds import KINDS, Seen, can_see, visible_to
from engine.sim.state import ListSink
from engine.testing import BLUE_ONLY, RED_ONLY, UMPIRE_ONLY

SIM = Path(engine.__file__).parent / "sim"


def _kind_with(seen: Seen) -> str:
    return next(k.name for k in KINDS.values() if k.seen is seen)


def test_kinds_are_keyed_by_their_own_name():
    assert all(name == spec.name for name, spec in KINDS.items())
    assert len(KINDS) == len(kinds._SPECS), "a kind is declared twice"


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_has_a_doc_fields_and_a_valid_acting_side(name):
    spec = KINDS[name]
    assert spec.doc.strip().endswith("."), f"{name}: its doc should be a sentence"
    assert isinstance(spec.fields, tuple)
    assert len(set(spec.fields)) == len(spec.fields), f"{name}: a field is listed twice"
    assert all(re.fullmatch(r"[a-z_0-9]+", f) for f in spec.fields)
    assert spec.side in ("blue", "red", "white", None)
    if spec.seen is Seen.IF_SEEN_BY_RED:
        assert "seen_by_red" in spec.fields
    if spec.seen is Seen.AFFECTED_SIDE:
        assert "side" in spec.fields


def test_only_orders_and_rejections_take_their_side_where_they_are_made():
    assert {k.name for k in KINDS.values() if k.side is None} == {"orders", "orders.rejected"}


def test_public_kinds_are_seen_by_both_sides_whoever_acts():
    name = _kind_with(Seen.PUBLIC)
    for side in ("blue", "red", "white"):
        assert visible_to(name, side, {}) == ("blue", "red")


def test_umpire_kinds_are_seen_by_no_team():
    for name in ("red.gain", "turn.measures", "isr.search"):
        assert KINDS[name].seen is Seen.UMPIRE
        assert visible_to(name, KINDS[name].side, {"detected": True}) == ()


def test_blue_only_and_red_only_kinds_ignore_the_acting_side():
    assert visible_to("intel.attribution", "white", {}) == ("blue",)
    assert visible_to("alliance.armed_attack", "white", {}) == ("blue",)
    assert visible_to("escalation.threshold", "white", {}) == ("red",)
    assert visible_to("escalation.threshold", "blue", {}) == ("red",)


@pytest.mark.parametrize(("side", "audience"), [("blue", ("blue",)), ("red", ("red",)),
                                                ("white", ())])
def test_own_kinds_are_seen_by_the_acting_side_only(side, audience):
    assert visible_to("orders", side, {}) == audience
    assert visible_to("orders.rejected", side, {}) == audience


def test_if_seen_by_red_needs_the_payload_to_say_true():
    for name in ("isr.on_station", "littoral.displace"):
        assert KINDS[name].seen is Seen.IF_SEEN_BY_RED
        assert visible_to(name, "blue", {"seen_by_red": True}) == ("blue", "red")
        assert visible_to(name, "blue", {"seen_by_red": False}) == ("blue",)
        assert visible_to(name, "blue", {}) == ("blue",)
        assert visible_to(name, "blue", {"seen_by_red": 1}) == ("blue",), "only True counts"


def test_affected_side_follows_the_payload():
    assert visible_to("umpire.inject", "white", {"side": "blue"}) == ("blue",)
    assert visible_to("umpire.inject", "white", {"side": "red"}) == ("red",)
    assert visible_to("umpire.inject", "white", {"side": ""}) == ()
    assert visible_to("umpire.inject", "white", {}) == ()


def test_an_undeclared_kind_is_an_error():
    with pytest.raises(KeyError):
        visible_to("no.such.kind", "blue", {})


def test_can_see_reads_kind_side_and_payload_of_a_record():
    def rec(kind, side, data):
        return {"kind": kind, "side": side, "data": data}

    assert can_see("blue", rec("isr.detect", "blue", {}))
    assert not can_see("red", rec("isr.detect", "blue", {}))
    assert can_see("red", rec("isr.on_station", "blue", {"seen_by_red": True}))
    assert not can_see("red", rec("isr.on_station", "blue", {"seen_by_red": False}))
    assert not can_see("blue", rec("red.gain", "red", {}))
    assert not can_see("red", rec("red.gain", "red", {}))
    assert can_see("red", rec("orders", "red", {}))
    assert not can_see("blue", rec("orders", "red", {}))


def test_the_leak_checkers_kind_lists_agree_with_the_table():
    """engine.testing restates who may see what; the two must not drift apart."""
    for name in BLUE_ONLY:
        assert "red" not in visible_to(name, "blue", {}), name
    for name in RED_ONLY:
        assert "blue" not in visible_to(name, "red", {}), name
    for name in UMPIRE_ONLY:
        assert KINDS[name].seen is Seen.UMPIRE, name
    assert {k for k, s in KINDS.items() if s.seen is Seen.UMPIRE} == UMPIRE_ONLY


def test_every_kind_the_simulation_emits_is_declared_and_every_declared_kind_is_used():
    source = "".join(p.read_text() for p in sorted(SIM.rglob("*.py")))
    emitted = set(re.findall(r'emit\(\s*"([a-z0-9._]+)"', source))
    assert emitted, "the pattern should find the emit calls"
    assert emitted <= set(KINDS), sorted(emitted - set(KINDS))
    # game.fork is the one kind made elsewhere (the kernel's fork note)
    assert set(KINDS) - emitted == {"game.fork"}


def test_world_emit_derives_visible_to_from_the_table():
    sink = ListSink()
    w = engine.Game.load("classroom-tutorial").start(seed=0, sink=sink).w
    before = len(sink)
    w.emit("isr.on_station", "mq9.1", {"zone": "ecs_central", "seen_by_red": True})
    w.emit("red.gain", "red", {"action": "patrol"})
    w.emit("orders", "red", {"controller": "x", "orders": []}, side="red")
    got = [(r["kind"], r["side"], r["visible_to"]) for r in sink[before:]]
    assert got == [("isr.on_station", "blue", ["blue", "red"]), ("red.gain", "red", []),
                   ("orders", "red", ["red"])]
    assert [r["seq"] for r in sink[before:]] == [before, before + 1, before + 2]
    with pytest.raises(AssertionError, match="name their side"):
        w.emit("orders", "blue", {})
