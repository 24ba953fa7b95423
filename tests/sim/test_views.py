"""What each side knows (engine/sim/views.py): facts from each side's own knowledge, the
situations, Red's estimate of Blue, and observations as JSON."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

import engine
from engine.sim import beliefs, decision, effects, escalation, estimates, views
from engine.sim.controllers import as_decision, default_controllers
from engine.sim.forces import c2
from engine.sim.state import ListSink, Track


def _session(name: str = "alliance-2024", seed: int = 0):
    sink = ListSink()
    return engine.Game.load(name).start(seed, sink=sink), sink


def _red_orders(w, aid):
    """A Red order carried out as the session does, at the current time."""
    action = w.rules.actions.red[aid]
    escalation.record_action(w, "red", aid)
    if escalation.is_armed_attack(w, action):
        escalation.ordered_armed_attack(w, aid, action)
    effects.apply(w, action, {})


def test_blue_does_not_know_of_a_seize_until_it_lands_red_knows_at_once():
    s, sink = _session()
    w = s.w
    _red_orders(w, "seize")
    assert views.side_facts(w, "blue")["armed_attack"] == 0.0
    assert views.side_facts(w, "red")["armed_attack"] == 1.0
    assert views.truth(w)["armed_attack_turn"] == 1 and views.truth(w)["known_turn"] is None
    arrive = w.red.groups["navy"].arrive_t
    w.env.run(until=arrive - 0.01)
    assert not [r for r in sink if r["kind"] in ("engagement.strike", "alliance.armed_attack")]
    assert views.side_facts(w, "blue")["armed_attack"] == 0.0
    assert views.blue_situation(w)["armed_attack_known"] is False
    w.env.run(until=arrive + 0.01)  # the strike lands on the batteries in range
    assert [r["data"]["how"] for r in sink if r["kind"] == "alliance.armed_attack"] == [
        "effects"]
    facts = views.side_facts(w, "blue")
    assert facts["armed_attack"] == 1.0 and facts["article5"] == 1.0
    assert views.blue_situation(w)["armed_attack_known"] is True


def test_blue_observes_an_ordered_seize_only_from_the_turn_after_it_became_known():
    game = engine.Game.load("alliance-2024")
    s = game.start(0)
    assert s.observation("blue").facts["armed_attack"] == 0.0
    s.submit("red", [engine.Order("seize")])
    s.step()
    assert s.w.ladder.known_turn == 1
    assert s.observation("blue").facts["armed_attack"] == 1.0
    assert s.observation("red").facts["armed_attack"] == 1.0


def test_blue_counts_every_degraded_link_red_only_the_outages_it_caused():
    s, _ = _session()
    w = s.w
    until = c2.degrade(w, "usfj-indopacom", 5.0)  # not Red's doing as far as Red knows
    assert views.side_facts(w, "blue")["links_degraded"] == 1.0
    assert views.side_facts(w, "red")["links_degraded"] == 0.0
    mine = c2.degrade(w, "japan-mlr", 3.0)
    beliefs.caused_outage(w, "japan-mlr", mine)
    assert views.side_facts(w, "blue")["links_degraded"] == 2.0
    assert views.side_facts(w, "red")["links_degraded"] == 1.0
    assert views.red_situation(w)["seen"]["links_down"] == ["japan-mlr"]
    w.env.run(until=mine + 0.01)
    assert views.side_facts(w, "red")["links_degraded"] == 0.0
    assert views.side_facts(w, "blue")["links_degraded"] == 1.0
    w.env.run(until=until + 0.01)
    assert views.side_facts(w, "blue")["links_degraded"] == 0.0


def test_gains_authority_and_isr_facts_come_from_each_sides_own_picture():
    s, _ = _session()
    w = s.w
    w.ladder.red_gains, w.ladder.gains_claimed, w.ladder.attributed_gains = 1.2, 2.0, 0.3
    w.littoral.pending["mlr12"] = True
    w.mind.isr_seen_h = 7.5
    blue, red = views.side_facts(w, "blue"), views.side_facts(w, "red")
    assert blue["red_gains"] == 0.3 and red["red_gains"] == 2.0
    assert blue["authority_requested"] == 1.0 and blue["authority"] == 0.0
    assert red["authority_requested"] == 0.0, "a request is not announced"
    assert blue["blue_isr_seen"] == 0.0 and red["blue_isr_seen"] == 7.5
    assert red["red_tracks"] == 0.0 and red["incursions_seen"] == 0.0
    w.mind.authority_seen = True
    assert views.side_facts(w, "red")["authority"] == 1.0
    assert views.side_facts(w, "blue")["authority"] == 0.0
    assert set(blue) == set(red) == {"turn", "rung", "red_tracks", "incursions_seen",
                                     "links_degraded", "outages_seen", "authority",
                                     "authority_requested", "article5", "armed_attack",
                                     "blue_isr_seen", "red_gains"}
    w.tally.last["link_outages"], w.tally.last["cyber_hits"] = 2, 1
    assert views.side_facts(w, "blue")["outages_seen"] == 2.0
    assert views.side_facts(w, "red")["outages_seen"] == 1.0


def test_blue_tracks_and_incursions_seen_come_from_detections():
    s, _ = _session()
    w = s.w
    assert views.side_facts(w, "blue")["red_tracks"] == 0.0
    assert views.blue_situation(w)["tracks"] == {}
    w.isr.tracks["usfj"]["militia"] = Track("disputed_islands", w.now)
    w.tally.last["incursions_detected"] = 2
    facts = views.side_facts(w, "blue")
    assert facts["red_tracks"] == 1.0 and facts["incursions_seen"] == 2.0
    assert views.blue_situation(w)["tracks"] == {"militia": {"zone": "disputed_islands",
                                                             "age_h": 0.0}}


def test_the_situations_hold_each_sides_own_forces():
    s, _ = _session()
    w = s.w
    blue, red = views.blue_situation(w), views.red_situation(w)
    assert set(blue["batteries"]) == {"mlr12.b1", "mlr12.b2"}
    assert blue["batteries"]["mlr12.b1"] == {"site": "sakishima", "launchers": 4.0,
                                             "magazine": 16}
    assert blue["isr_tempo"] == {"mpa": "normal", "mq9": "normal"}
    assert set(red["groups"]) == {"coast_guard", "militia", "navy"}
    assert red["groups"]["navy"] == {"zone": "red_home", "ships": 4.0, "mission": "home"}
    assert red["seen"]["readiness"] == {"mlr12": "alert"}
    assert "beliefs" not in blue and "batteries" not in red


def test_the_situation_is_computed_only_when_read_and_only_once():
    calls = []

    def make():
        calls.append(1)
        return {"a": 1}

    lazy = views.Lazy(make)
    assert calls == []
    assert lazy["a"] == 1 and dict(lazy) == {"a": 1} and len(lazy) == 1
    assert calls == [1]


def test_reds_estimate_uses_what_it_has_seen():
    s, _ = _session()
    w = s.w
    est = views.red_estimate(w)
    assert [f.name for f in fields(est)] == [f.name for f in fields(decision.RedEstimate)]
    assert est.p_seen == pytest.approx(estimates.seen_probability(w.mind.isr, w.rules))
    assert est.resolve == w.mind.resolve
    assert est.covered_domains == ("land_sea_air", "cyber", "space")
    assert est.threshold_level == 6 and est.red_rung == "routine" and not est.seized
    w.mind.authority_seen = True  # announced authority: no consultation to wait for
    assert views.red_estimate(w).response_delay_h < est.response_delay_h
    w.mind.authority_seen = False
    beliefs.caused_outage(w, "usfj-mlr", 99.0)  # the regiment's route to its authority
    down = views.red_estimate(w)
    assert down.response_delay_h > est.response_delay_h
    assert down.naval_loss_share < est.naval_loss_share  # and the MQ-9s' reports' route
    w.mind.known_outages.clear()
    w.mind.seen_readiness["mlr12"] = "garrison"
    assert views.red_estimate(w).naval_loss_share < est.naval_loss_share
    w.mind.seen_readiness["mlr12"] = "alert"
    w.mind.isr = est.p_seen / 100  # Red believes it is barely watched
    thin = views.red_estimate(w)
    assert thin.p_seen < est.p_seen and thin.response_delay_h > est.response_delay_h


def test_observations_hold_the_estimate_for_red_only():
    s, _ = _session()
    assert s.observation("blue").estimate is None
    assert s.observation("white").estimate is None
    assert isinstance(s.observation("red").estimate, decision.RedEstimate)


def _play(name: str, seed: int, turns: int):
    s, _ = _session(name, seed)
    players = default_controllers(s.game.rules)
    for _ in range(turns):
        for side in ("blue", "red"):
            made = as_decision(players[side](s.observation(side), s.legal_orders(side)))
            s.submit(side, made, strict=False)
        s.step()
    return s


@pytest.mark.parametrize("side", ["blue", "red", "white"])
def test_an_observation_round_trips_through_json(side):
    s = _play("alliance-2023", 23, 3)
    obs = s.observation(side)
    data = obs.to_json()
    assert data["turn"] == 4 and data["side"] == side
    if side != "white":
        assert data["events"], "last turn's visible records come with the observation"
        assert all(side in e["visible_to"] for e in data["events"])
    assert json.loads(json.dumps(data)) == data
