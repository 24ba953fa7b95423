"""Japan's counterstrike (engine/sim/forces/counterstrike.py): it fires only once Blue knows of
an armed attack (not Article V), once a turn, at a fresh track within range, navy first; every
draw is recorded; its salvo is sized and averages as Red's estimate says (sim/estimates.py); it
changes Red's losses in a war."""

from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine.sim import estimates
from engine.sim.adjudication import battery_salvo, expected_salvo_loss
from engine.sim.forces import counterstrike as cs
from engine.sim.forces import isr
from engine.sim.kernel import run
from engine.sim.kinds import payload_problems
from engine.sim.state import ListSink, Track
from engine.spec.order import Order
from engine.testing import check_records, check_twin_runs, records_of

GAME = engine.Game.load("alliance-2024")  # kyushu_ssm: 4 launchers x 2, magazine 16, 600 nm
UNIT = "kyushu_ssm"


def _session(seed: int = 0, game=GAME):
    sink = ListSink()
    return game.start(seed=seed, sink=sink).w, sink


def _salvos(sink):
    return [r for r in sink if r["kind"] == "counterstrike.salvo"]


def _tracked(w, group: str = "navy", zone: str = "disputed_islands", age_h: float = 0.0):
    w.isr.tracks["japan_hq"][group] = Track(zone, w.now - age_h)


def _attack_known(w):
    w.ladder.armed_attack_turn = w.ladder.known_turn = w.turn


def _without_counterstrike(s):
    return s.model_copy(update={"blue": s.blue.model_copy(update={"counterstrike": {}})})


def test_setup_fills_the_magazines():
    w, _ = _session()
    assert w.counterstrike.magazines == {UNIT: 16}
    assert w.counterstrike.fired_turn == {}


def test_no_salvo_before_blue_knows_of_an_armed_attack():
    w, sink = _session()
    _tracked(w)
    cs.engage_all(w)
    w.ladder.armed_attack_turn = w.turn  # ordered, but Blue does not know yet
    cs.engage_all(w)
    assert _salvos(sink) == [] and w.counterstrike.magazines[UNIT] == 16


def test_it_fires_without_article5_or_engagement_authority():
    w, sink = _session()
    _tracked(w)
    _attack_known(w)
    assert w.ladder.article5_turn is None and not any(w.littoral.authority.values())
    cs.engage_all(w)
    (salvo,) = _salvos(sink)
    assert salvo["unit"] == UNIT and salvo["data"]["target"] == "navy"
    assert salvo["data"]["missiles"] == 8 and w.counterstrike.magazines[UNIT] == 8
    assert salvo["visible_to"] == ["blue", "red"]


def test_one_salvo_a_turn_and_none_once_the_magazine_is_empty():
    w, sink = _session()
    _attack_known(w)
    for turn in (1, 2, 3):
        w.turn = turn
        _tracked(w)
        cs.engage_all(w)
        cs.engage_all(w)  # a second chance in the same turn: nothing
    assert [r["turn"] for r in _salvos(sink)] == [1, 2]
    assert w.counterstrike.magazines[UNIT] == 0


@pytest.mark.parametrize("left", [1, 3, 5, 7])
def test_a_low_magazine_never_fires_more_than_it_holds(left):
    w, sink = _session()
    _tracked(w)
    _attack_known(w)
    w.counterstrike.magazines[UNIT] = left
    cs.engage_all(w)
    (salvo,) = _salvos(sink)
    assert 1 <= salvo["data"]["missiles"] <= left
    assert w.counterstrike.magazines[UNIT] == left - salvo["data"]["missiles"] >= 0


def test_a_stale_track_or_a_zone_out_of_range_draws_no_fire():
    w, sink = _session()
    _attack_known(w)
    w.env.run(until=30.0)
    _tracked(w, age_h=w.hours + 1)  # older than a turn
    cs.engage_all(w)
    _tracked(w, zone="red_home")  # no distance entry from kyushu: never in range
    cs.engage_all(w)
    assert _salvos(sink) == []
    short = GAME.scenario.blue.counterstrike[UNIT].model_copy(update={"range_nm": 400.0})
    s = GAME.scenario.model_copy(update={"blue": GAME.scenario.blue.model_copy(
        update={"counterstrike": {UNIT: short}})})
    w, sink = _session(game=engine.Game(s, GAME.rules))
    _attack_known(w)
    _tracked(w)  # the disputed islands are 500 nm from Kyushu
    cs.engage_all(w)
    assert _salvos(sink) == []
    assert not cs.in_range(s, UNIT, "disputed_islands")
    assert cs.in_range(GAME.scenario, UNIT, "disputed_islands")
    assert not cs.in_range(GAME.scenario, UNIT, "red_home")


def test_the_navy_first_then_the_group_with_most_ships():
    w, sink = _session()
    _attack_known(w)
    for gid in ("coast_guard", "militia", "navy"):
        _tracked(w, gid)
    cs.engage(w, UNIT)
    w.turn += 1
    w.red.groups["navy"].ships = 0.0
    cs.engage(w, UNIT)
    assert [r["data"]["target"] for r in _salvos(sink)] == ["navy", "militia"]


def test_a_track_reaching_the_units_node_makes_it_fire():
    w, sink = _session()
    _attack_known(w)
    w.red.groups["navy"].dest = "disputed_islands"
    isr.detect(w, "mpa.1", "japan_hq", "navy", "disputed_islands", 0.5, 0.1)
    assert [r["data"]["target"] for r in _salvos(sink)] == ["navy"]


def test_track_reports_reach_the_counterstrike_node():
    w, _ = _session()
    assert "japan_hq" in isr.report_destinations(w, "isr_ops")
    w2, _ = _session(game=engine.Game(_without_counterstrike(GAME.scenario), GAME.rules))
    assert "japan_hq" not in isr.report_destinations(w2, "isr_ops")


@pytest.mark.parametrize("seed", range(6))
def test_a_salvo_records_consistent_draws(seed):
    w, sink = _session(seed)
    _tracked(w)
    _attack_known(w)
    before = w.red.groups["navy"].ships
    cs.engage_all(w)
    d = _salvos(sink)[0]["data"]
    assert d["good_shots"] <= d["missiles"] == d["shooters"] * 2
    assert d["interceptors"] == 2 * math.ceil(before) and d["intercepts"] <= d["interceptors"]
    assert d["hits"] == max(0, d["good_shots"] - d["intercepts"]) == len(d["damage"])
    assert d["ships_lost"] == pytest.approx(min(before, sum(d["damage"])), abs=1e-5)
    assert w.red.groups["navy"].ships == pytest.approx(before - d["ships_lost"], abs=1e-5)
    assert w.tally.get("red_losses") == pytest.approx(d["ships_lost"], abs=1e-5)


def test_the_salvo_is_sized_by_the_one_rule_red_estimates_with():
    u = GAME.scenario.blue.counterstrike[UNIT]
    for left in range(0, 17):
        w, sink = _session()
        _tracked(w)
        _attack_known(w)
        w.counterstrike.magazines[UNIT] = left
        cs.engage_all(w)
        shooters, per = battery_salvo(launchers=u.launchers, magazine=left, ready_share=1.0,
                                      missiles_per_launcher=u.missiles_per_launcher)
        fired = [(r["data"]["shooters"], r["data"]["missiles"]) for r in _salvos(sink)]
        assert fired == ([(shooters, shooters * per)] if shooters else [])


def test_the_simulated_salvo_has_the_mean_the_estimate_uses():
    s, r = GAME.scenario, GAME.rules
    g, u = s.red.groups["navy"], s.blue.counterstrike[UNIT]
    lost = []
    for seed in range(600):
        w, sink = _session(seed)
        _tracked(w)
        _attack_known(w)
        cs.engage_all(w)
        lost.append(_salvos(sink)[0]["data"]["ships_lost"])
    expected = expected_salvo_loss(
        shots=u.launchers * u.missiles_per_launcher, p_hit=u.p_hit,
        interceptors=g.interceptors_per_ship * g.ships, p_intercept=g.p_intercept,
        loss_per_hit=r.adjudication.salvo.loss_per_hit / g.staying_power, targets=g.ships)
    sd = float(np.std(lost)) / math.sqrt(len(lost))
    assert float(np.mean(lost)) == pytest.approx(expected, abs=4 * sd + 0.01)
    assert 0 < estimates.counterstrike_losses(s, r, "navy", g.ships, 1.0) <= g.ships
    assert estimates.counterstrike_losses(_without_counterstrike(s), r, "navy", g.ships, 1.0) == 0


# ---- in a whole game -------------------------------------------------------------------------

def _seize(obs, menu):
    return [Order("seize")] if any(i.action == "seize" for i in menu.items) else []


def _war(scenario, seed):
    sink = ListSink()
    result = run(scenario, GAME.rules, seed, controllers={"red": _seize}, sink=sink)
    return result.outcome, list(sink)


def test_in_a_war_it_fires_only_after_blue_learns_of_the_attack_and_sinks_red_ships():
    with_cs = without = 0.0
    fired = 0
    for seed in range(20):
        outcome, recs = _war(GAME.scenario, seed)
        known = [r["seq"] for r in recs if r["kind"] == "alliance.armed_attack"]
        salvos = _salvos(recs)
        fired += len(salvos)
        assert all(known and r["seq"] > known[0] for r in salvos)
        with_cs += outcome["red_losses"]
        without += _war(_without_counterstrike(GAME.scenario), seed)[0]["red_losses"]
    assert fired >= 10, "the unit should fire in most wars"
    assert with_cs > without + 1.0


def test_runs_with_counterstrike_are_deterministic():
    recs = records_of(GAME.scenario, GAME.rules, 5)
    assert recs == records_of(GAME.scenario, GAME.rules, 5)
    check_twin_runs(GAME.scenario, GAME.rules, 7)
    a, b = _war(GAME.scenario, 3), _war(GAME.scenario, 3)
    assert a == b


def test_war_records_keep_the_information_model_and_their_payload_contracts():
    for seed in range(5):
        _, recs = _war(GAME.scenario, seed)
        assert _salvos(recs)
        assert check_records(GAME.scenario, GAME.rules, recs, f"seed {seed}") == len(recs)
        assert [p for r in recs for p in payload_problems(r)] == []
