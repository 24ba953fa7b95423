"""The ladder, the threshold, Blue's knowledge and Article V (engine/sim/escalation.py),
driven on a session's World and by small scripted games."""

from __future__ import annotations

import pytest

import engine
from engine.sim import escalation
from engine.sim.session import Game
from engine.sim.state import ListSink
from engine.spec.rules import Rules
from engine.spec.scenario import with_turns


def _start(name: str = "alliance-2024", seed: int = 0, attribution_p: float | None = None):
    game = engine.Game.load(name)
    rules = game.rules
    if attribution_p is not None:
        data = rules.model_dump(mode="json")
        data["adjudication"]["detection"]["attribution_p"] = attribution_p
        rules = Rules.model_validate(data)
    sink = ListSink()
    s = Game(game.scenario, rules).start(seed, sink=sink)
    return s.w, sink


def _kinds(sink, *names):
    return [r for r in sink if r["kind"] in names]


def _order(w, side, aid):
    """What the session does with one legal order, without the rest of the turn."""
    action = (w.rules.actions.blue if side == "blue" else w.rules.actions.red)[aid]
    escalation.record_action(w, side, aid)
    if side == "red" and escalation.is_armed_attack(w, action):
        escalation.ordered_armed_attack(w, aid, action)
    return action


# ---- the public rung -------------------------------------------------------------------------

def test_the_ladder_starts_on_its_bottom_rung():
    w, _ = _start()
    assert w.ladder.rung == w.ladder.highest == "routine"


def test_the_rung_ignores_a_red_act_blue_does_not_know_of():
    w, sink = _start()
    _order(w, "red", "incursion")  # no group of it detected this turn
    escalation.adjudicate(w)
    assert w.ladder.rung == "routine"
    assert not _kinds(sink, "escalation.rung")


def test_the_rung_rises_with_a_red_act_blue_detected():
    w, sink = _start()
    _order(w, "red", "incursion")
    w.tally.detected.add("militia")  # a group the incursion moves
    escalation.adjudicate(w)
    assert w.ladder.rung == w.ladder.highest == "gray_zone_coercion"
    [rung] = _kinds(sink, "escalation.rung")
    assert rung["data"] == {"from": "routine", "to": "gray_zone_coercion", "level": 3}
    assert rung["visible_to"] == ["blue", "red"]


def test_detecting_a_group_the_act_does_not_move_does_not_reveal_it():
    w, _ = _start()
    _order(w, "red", "patrol")  # moves the coast guard only
    w.tally.detected.add("navy")
    escalation.adjudicate(w)
    assert w.ladder.rung == "routine"


@pytest.mark.parametrize(("p", "rung", "attributed"), [(0.0, "routine", False),
                                                       (1.0, "gray_zone_coercion", True)])
def test_a_cyber_act_counts_when_attributed(p, rung, attributed):
    w, sink = _start(attribution_p=p)
    _order(w, "red", "cyber_disrupt")
    escalation.adjudicate(w)
    assert w.ladder.rung == rung
    [gain] = _kinds(sink, "red.gain")
    assert gain["data"]["attributed"] is attributed and gain["visible_to"] == []
    share = w.rules.adjudication.attributed_gain_share if attributed else 1.0
    assert gain["data"]["gain"] == pytest.approx(0.6 * share)
    assert w.ladder.red_gains == pytest.approx(0.6 * share)
    assert w.ladder.gains_claimed == pytest.approx(0.6)  # Red cannot see attribution
    assert w.ladder.attributed_gains == pytest.approx(0.6 * share if attributed else 0.0)
    told = _kinds(sink, "intel.attribution")
    assert len(told) == int(attributed)
    if attributed:
        assert told[0]["data"]["domain"] == "cyber" and told[0]["visible_to"] == ["blue"]


def test_blues_own_acts_move_the_rung_and_it_falls_one_rung_a_turn():
    w, _ = _start()
    _order(w, "blue", "authorize_engagement")  # signals intense_crisis
    escalation.adjudicate(w)
    assert w.ladder.rung == "intense_crisis"
    w.tally.close()
    escalation.adjudicate(w)
    assert w.ladder.rung == "gray_zone_coercion"
    assert w.ladder.highest == "intense_crisis"


# ---- the threshold and Blue's knowledge ------------------------------------------------------

def test_ordering_an_armed_attack_is_known_to_red_only():
    w, sink = _start()
    _order(w, "red", "seize")
    assert w.ladder.armed_attack_turn == 1 and w.ladder.known_turn is None
    [threshold] = _kinds(sink, "escalation.threshold")
    assert threshold["visible_to"] == ["red"]
    assert threshold["data"] == {"action": "seize", "domain": "land_sea_air"}
    w.turn = 2
    _order(w, "red", "seize")  # the first order is the one that counts
    assert len(_kinds(sink, "escalation.threshold")) == 1 and w.ladder.armed_attack_turn == 1
    escalation.adjudicate(w)
    assert w.ladder.rung == "routine", "an attack Blue does not know of moves no public rung"


def test_blue_learns_nothing_before_an_armed_attack_is_ordered():
    w, sink = _start()
    escalation.blue_learns(w, "effects", "space")
    escalation.on_detection(w, "navy")
    assert w.ladder.known_turn is None
    assert not _kinds(sink, "alliance.armed_attack", "alliance.article5")


def test_a_detected_strike_group_tells_blue_and_article5_follows():
    w, sink = _start()
    _order(w, "red", "seize")
    escalation.on_detection(w, "navy")
    assert w.ladder.known_turn is None, "the navy is still at home: not on a strike mission"
    w.red.groups["navy"].mission = "strike"
    escalation.on_detection(w, "navy")
    known, art5 = _kinds(sink, "alliance.armed_attack", "alliance.article5")
    assert known["data"] == {"domain": "land_sea_air", "how": "detected"}
    assert known["visible_to"] == ["blue"]
    assert art5["data"]["invoked"] is True and art5["visible_to"] == ["blue", "red"]
    assert w.ladder.known_turn == w.ladder.article5_turn == 1
    assert all(w.littoral.authority.values()), "Article V grants every regiment authority"
    escalation.on_detection(w, "navy")  # a second detection tells Blue nothing new
    assert len(_kinds(sink, "alliance.armed_attack", "alliance.article5")) == 2


def test_a_known_attack_raises_the_rung_in_the_turn_it_becomes_known():
    w, _ = _start()
    _order(w, "red", "seize")
    w.tally.close()  # ordered last turn, not yet known
    w.turn = 2
    escalation.blue_learns(w, "effects")
    escalation.adjudicate(w)
    assert w.ladder.rung == "armed_attack"


def test_a_space_attack_outside_the_treaty_is_known_but_does_not_invoke_article5():
    w, sink = _start("baseline-2022")  # the treaty covers land_sea_air and cyber
    _order(w, "red", "space_attack")
    escalation.blue_learns(w, "effects", "space")
    [art5] = _kinds(sink, "alliance.article5")
    assert art5["data"] == {"domain": "space", "invoked": False,
                            "treaty_domains": ["land_sea_air", "cyber"]}
    assert w.ladder.known_turn == 1 and w.ladder.article5_turn is None
    assert not any(w.littoral.authority.values())
    # a later attack in a treaty domain is decided on afresh
    escalation.blue_learns(w, "detected", "land_sea_air")
    decided = [r["data"]["invoked"] for r in _kinds(sink, "alliance.article5")]
    assert decided == [False, True] and w.ladder.article5_turn == 1


def test_once_article5_is_invoked_later_attacks_are_known_but_not_decided_again():
    w, sink = _start("alliance-2023")
    _order(w, "red", "seize")
    escalation.blue_learns(w, "effects", "land_sea_air")
    escalation.blue_learns(w, "effects", "space")
    escalation.blue_learns(w, "effects", "space")
    assert [r["data"]["domain"] for r in _kinds(sink, "alliance.armed_attack")] == [
        "land_sea_air", "space"]
    assert len(_kinds(sink, "alliance.article5")) == 1


@pytest.mark.parametrize("seed", range(4))
def test_in_play_blue_learns_of_a_seize_after_it_is_ordered_and_article5_only_then(seed):
    game = engine.Game.load("alliance-2024")
    sink = ListSink()
    engine.run(game.scenario, game.rules, seed, sink=sink, controllers={
        "blue": lambda obs, menu: [],
        "red": lambda obs, menu: [engine.Order("seize")] if obs.turn == 1 else []})
    [threshold] = _kinds(sink, "escalation.threshold")
    [known] = _kinds(sink, "alliance.armed_attack")
    [art5] = _kinds(sink, "alliance.article5")
    assert threshold["seq"] < known["seq"] < art5["seq"]
    assert known["t"] > threshold["t"], "the attack is learned of when it lands or is seen"
    evidence = [r for r in sink if r["seq"] < known["seq"] and (
        r["kind"] == "engagement.strike"
        or (r["kind"] == "isr.detect" and r["data"]["group"] in ("navy", "coast_guard",
                                                                  "militia")))]
    assert evidence, "Blue learned of the attack with no detection or effect before it"
    assert known["data"]["how"] in ("detected", "effects")
    rungs = [r for r in _kinds(sink, "escalation.rung") if r["data"]["to"] == "armed_attack"]
    assert rungs and rungs[0]["seq"] > known["seq"]


# ---- the end ---------------------------------------------------------------------------------

def test_the_game_ends_turns_after_the_armed_attack_or_at_the_last_turn():
    w, _ = _start()
    after = w.rules.end.turns_after_armed_attack
    assert after == 2
    w.turn = 5
    assert not escalation.ended(w)
    _order(w, "red", "seize")
    assert w.ladder.armed_attack_turn == 5
    w.turn = 5 + after - 1
    assert not escalation.ended(w)
    w.turn = 5 + after
    assert escalation.ended(w)
    w2, _ = _start()
    w2.turn = w2.scenario.turns.count - 1
    assert not escalation.ended(w2)
    w2.turn = w2.scenario.turns.count
    assert escalation.ended(w2)


def test_a_scripted_seize_on_turn_three_ends_the_game_on_turn_five():
    game = engine.Game.load("classroom-tutorial")
    result = engine.run(with_turns(game.scenario, 9), game.rules, 0, controllers={
        "red": lambda obs, menu: [engine.Order("seize")] if obs.turn == 3 else []})
    assert result.outcome["failure_turn"] == 3
    assert result.outcome["turns_played"] == 5


# ---- Red's own rung and its score ------------------------------------------------------------

def test_reds_own_rung_follows_its_acts_not_blues_signals():
    w, _ = _start()
    assert w.ladder.red_rung == "routine"
    _order(w, "blue", "authorize_engagement")  # Blue signals intense_crisis
    assert w.ladder.red_rung == "routine"
    _order(w, "red", "incursion")
    assert w.ladder.red_rung == "gray_zone_coercion"
    _order(w, "red", "stand_down")
    assert w.ladder.red_rung == "routine"


def _gains(sink):
    return [r["data"] for r in _kinds(sink, "red.gain")]


def test_a_seizure_earns_its_gain_once_then_only_holds():
    w, sink = _start()
    _order(w, "red", "seize")
    escalation.adjudicate(w)
    w.tally.close()
    _order(w, "red", "seize")
    escalation.adjudicate(w)
    first, later = _gains(sink)
    assert first["gain"] == w.rules.actions.red["seize"].gain
    assert later["gain"] == w.rules.adjudication.holding_gain
    assert w.ladder.seized


def test_an_armed_act_keeps_its_whole_gain_a_deniable_one_a_share_when_attributed():
    w, sink = _start(attribution_p=1.0)
    _order(w, "red", "space_attack")
    _order(w, "red", "cyber_disrupt")
    escalation.adjudicate(w)
    armed, deniable = _gains(sink)
    assert armed["attributed"] is True and armed["gain"] == 4.0
    share = w.rules.adjudication.attributed_gain_share
    assert deniable["attributed"] is True and deniable["gain"] == pytest.approx(0.6 * share)
