"""The leak checker of engine.testing: it passes on every built-in over many seeds, and it
fails when a leak is planted in the kinds table, the views or the mechanics."""

from __future__ import annotations

import pytest

from engine.io.loading import builtin_names, load_pair
from engine.sim import escalation, kinds, views
from engine.sim.forces import adversary
from engine.testing import InformationLeak, check_information

BUILTINS = builtin_names("scenarios")


@pytest.mark.parametrize("name", BUILTINS)
def test_no_side_sees_what_it_cannot_know_over_50_seeds(name):
    s, r = load_pair(name)
    assert check_information(s, r, range(50)) > 50 * 100  # records and observations checked


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTINS)
def test_no_side_sees_what_it_cannot_know_over_500_seeds(name):
    s, r = load_pair(name)
    check_information(s, r, range(500))


def _planted(monkeypatch, name="alliance-2024", seeds=range(10)):
    s, r = load_pair(name)
    with pytest.raises(InformationLeak) as caught:
        check_information(s, r, seeds)
    return str(caught.value)


def _reveal(monkeypatch, kind: str, seen: kinds.Seen) -> None:
    """Plant a leak in the kinds table: ``kind`` seen by ``seen``."""
    spec = kinds.KINDS[kind]
    monkeypatch.setitem(kinds.KINDS, kind,  # type: ignore[call-overload]
                        kinds.KindSpec(spec.name, spec.side, seen, spec.fields, spec.doc))
    # the lookup table visible_to answers from is derived from KINDS: derive it again
    monkeypatch.setattr(kinds, "_FIXED_VISIBILITY", kinds.fixed_visibility(kinds.KINDS))


def test_a_red_record_made_public_is_caught(monkeypatch):
    _reveal(monkeypatch, "red.cyber.attack", kinds.Seen.PUBLIC)
    assert "Red's own record is seen by Blue" in _planted(monkeypatch)


def test_an_unattributed_gain_shown_to_blue_is_caught(monkeypatch):
    _reveal(monkeypatch, "red.gain", kinds.Seen.BLUE)
    assert "the umpire's record is seen by" in _planted(monkeypatch)


def test_red_groups_in_blues_situation_are_caught(monkeypatch):
    real = views.blue_situation

    def leaky(w):
        out = real(w)
        out["tracks"] = {**out["tracks"], **{g: {"zone": s.dest, "age_h": 0.0}
                                              for g, s in w.red.groups.items()}}
        return out

    monkeypatch.setattr(views, "blue_situation", leaky)
    assert "tracks on undetected" in _planted(monkeypatch)


def test_blue_told_of_an_armed_attack_when_it_is_ordered_is_caught(monkeypatch):
    real = escalation.ordered_armed_attack

    def eager(w, aid, action):
        real(w, aid, action)
        escalation.blue_learns(w, "detected", action.domain)

    monkeypatch.setattr(escalation, "ordered_armed_attack", eager)
    assert "armed attack with no evidence" in _planted(monkeypatch, "baseline-2022", range(30))


def test_red_seeing_every_aircraft_is_caught(monkeypatch):
    monkeypatch.setattr(adversary, "watches", lambda w, zone: True)
    assert "Red sees an aircraft over" in _planted(monkeypatch)
