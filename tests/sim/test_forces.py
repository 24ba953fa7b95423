"""Force processes and the effect registry: ISR sortie rates per day, late entries into a
search, the effect table, and records that carry every declared field."""

from __future__ import annotations

import pytest

import engine
from engine.sim import estimates
from engine.sim.effects import EFFECTS
from engine.sim.forces import adversary, isr
from engine.sim.kinds import FIELD_TYPES, KINDS, payload_problems
from engine.sim.state import ListSink
from engine.spec.scenario import with_turns, with_values
from engine.spec.types import EFFECTS as VOCABULARY
from engine.testing import check_payloads, records_of


def test_every_effect_of_the_vocabulary_has_exactly_one_handler():
    assert set(EFFECTS) == set(VOCABULARY)


def _launches_per_aircraft_day(hours: float) -> float:
    game = engine.Game.load("alliance-2024")
    s = with_values(with_turns(game.scenario, int(240 // hours)), {"turns.hours": hours})
    recs = records_of(s, game.rules, 2)
    launches = sum(1 for r in recs if r["kind"] == "isr.sortie.launch")
    aircraft = sum(d.aircraft for d in s.blue.isr.values())
    return launches / aircraft / 10


def test_sorties_per_aircraft_is_a_daily_rate_whatever_the_turn_length():
    short, long = _launches_per_aircraft_day(12.0), _launches_per_aircraft_day(48.0)
    assert short == pytest.approx(long, rel=0.15)
    assert 0.3 < short < 1.0  # normal tempo: at most one sortie per aircraft per day


def test_a_group_entering_a_zone_during_a_search_is_searched_for_the_rest_of_it():
    game = engine.Game.load("alliance-2024")
    sink = ListSink()
    s = game.start(seed=0, sink=sink)
    w = s.w
    zone = w.scenario.red.objective
    w.env.process(isr.search(w, "test.1", "isr_ops", zone, 0.5, 40.0, w.rng("test")))
    w.env.run(until=2.0)
    adversary.move(w, "coast_guard", zone, "patrol")
    searched = [r for r in sink if r["kind"] == "isr.search" and r["unit"] == "test.1"]
    assert len(searched) == 1 and searched[0]["data"]["group"] == "coast_guard"
    eta = w.red.groups["coast_guard"].arrive_t
    assert searched[0]["data"]["hours"] == pytest.approx(40.0 - eta, abs=1e-5)
    assert eta < 40.0


@pytest.mark.parametrize("name", ["baseline-2022", "alliance-2023", "alliance-2024",
                                  "classroom-tutorial"])
def test_every_record_keeps_its_kinds_payload_contract(name):
    game = engine.Game.load(name)
    assert check_payloads(game.scenario, game.rules, range(8)) > 8 * 100
    for rec in records_of(game.scenario, game.rules, 23):
        spec = KINDS[rec["kind"]]
        if spec.side is not None:
            assert rec["side"] == spec.side


def test_every_declared_field_has_one_type_and_the_check_catches_a_wrong_one():
    fields = {f for spec in KINDS.values() for f in spec.fields}
    assert fields == set(FIELD_TYPES)
    good = {"kind": "isr.detect", "data": {"group": "g", "zone": "z", "p_detect": 0.5,
                                           "draw": 0.1}}
    assert payload_problems(good) == []
    bad = {"kind": "isr.detect", "data": {"group": "g", "zone": "z", "p_detect": 1,
                                          "draw": None}}
    assert payload_problems(bad) == ["isr.detect: p_detect=1 is not float"]
    assert payload_problems({"kind": "isr.detect", "data": {"group": "g"}})[0] == \
        "isr.detect: missing field 'zone'"


# ---- regional maintenance (blue.sustainment.regional_maintenance) ----------------------------

def test_regional_maintenance_scales_unavailability_and_maintenance_by_the_rules():
    game = engine.Game.load("alliance-2024")
    s, r = game.scenario, game.rules
    assert s.blue.sustainment.regional_maintenance
    table = r.adjudication.sustainment
    for det in s.blue.isr.values():
        assert estimates.upkeep(s, r, det) == pytest.approx(
            (1 - (1 - det.availability) * table.unavailable_factor,
             det.maintenance_cancel_p * table.maintenance_cancel_factor))
    off = with_values(s, {"blue.sustainment.regional_maintenance": False})
    mq9 = s.blue.isr["mq9"]
    assert estimates.upkeep(off, r, mq9) == (mq9.availability, mq9.maintenance_cancel_p)


def _maintenance_and_launches(s, rules, seeds):
    cancels = launches = 0
    for seed in seeds:
        for rec in records_of(s, rules, seed):
            if rec["kind"] == "isr.sortie.cancel" and rec["data"]["reason"] == "maintenance":
                cancels += 1
            launches += rec["kind"] == "isr.sortie.launch"
    return cancels, launches


def test_regional_maintenance_means_fewer_maintenance_cancellations_and_more_sorties():
    game = engine.Game.load("alliance-2023")
    worn = with_values(game.scenario, {"blue.isr.mq9.maintenance_cancel_p": 0.3})
    kept = with_values(worn, {"blue.sustainment.regional_maintenance": True})
    cancels_worn, launches_worn = _maintenance_and_launches(worn, game.rules, range(6))
    cancels_kept, launches_kept = _maintenance_and_launches(kept, game.rules, range(6))
    assert cancels_kept < 0.7 * cancels_worn
    assert launches_kept > launches_worn
    recs = records_of(kept, game.rules, 0)
    p = {rec["data"]["p_maintenance"] for rec in recs if rec["kind"] == "isr.sortie.cancel"
         and rec["unit"].startswith("mq9.")}
    assert p == {0.3 * game.rules.adjudication.sustainment.maintenance_cancel_factor}
