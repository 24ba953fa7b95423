"""The pure decision maths (engine/sim/decision.py): each term of Red's utility, the quantal
choice at its limits, the belief update and Blue's doctrine conditions. (The adjudication
formulas are tested in tests/sim/test_adjudication.py.)"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from engine import load_rules
from engine.sim.decision import (
    RedEstimate,
    compile_condition,
    condition_holds,
    quantal_choice,
    update_belief,
    update_estimate,
    utility,
)

RULES = load_rules("standard")
MODEL = RULES.red_model
RED = RULES.actions.red
THRESHOLD = RULES.ladder.level(RULES.ladder.armed_attack_threshold)
EST = RedEstimate(p_seen=0.4, resolve=0.5, attribution_p=0.9, response_delay_h=24.0,
                  patience_h=24.0, covered_domains=("land_sea_air", "cyber"),
                  naval_loss_share=0.25, punish_share=0.1, gain_share=0.25, holding_gain=0.5,
                  seized=False, red_rung="routine", threshold_level=THRESHOLD)


def _u(aid: str, est: RedEstimate = EST, climb: float = 0.0, model=MODEL):
    action = RED[aid]
    return utility(action, RULES.ladder.level(action.signals), climb, est, model)


def test_the_utility_of_a_gray_zone_act_term_by_term():
    w = MODEL.weights
    got = _u("patrol")
    speed = 24 / (24 + 24)
    assert got["p_detect"] == 0.4  # a movement is found by ISR
    assert got["p_answer"] == pytest.approx(0.5 * speed)
    q = 0.4 * 0.5 * speed
    assert got["q"] == pytest.approx(q)
    kept = 0.3 * (1 - 0.4 * (1 - 0.25))  # attributed, Red keeps a quarter (as adjudicated)
    assert got["gain"] == pytest.approx(kept)
    assert got["eu"] == pytest.approx(w.gain * kept - w.cost * 0.1 * q)
    assert got["climb"] == 0.0 and got["loss"] == 0.0


def test_cyber_and_space_acts_are_found_by_attribution_and_armed_acts_always():
    assert _u("cyber_disrupt")["p_detect"] == 0.9
    assert _u("jam_space")["p_detect"] == 0.9
    assert _u("incursion")["p_detect"] == 0.4
    assert _u("seize")["p_detect"] == 1.0  # an armed attack cannot go unseen
    assert _u("space_attack")["p_detect"] == 1.0


def test_an_armed_act_earns_its_whole_gain_and_a_seizure_only_once():
    assert _u("seize")["gain"] == RED["seize"].gain
    held = _u("seize", replace(EST, seized=True))
    assert held["gain"] == 0.5 and held["eu"] < _u("seize")["eu"]


def test_a_slower_answer_deters_less():
    fast = _u("incursion", replace(EST, response_delay_h=0.0))
    slow = _u("incursion", replace(EST, response_delay_h=72.0))
    assert fast["p_answer"] == pytest.approx(0.5)
    assert slow["p_answer"] == pytest.approx(0.5 * 24 / 96)
    assert slow["eu"] > fast["eu"]


def test_an_armed_attack_outside_the_treaty_is_answered_less_by_the_credibility_weight():
    covered = _u("space_attack", replace(EST, covered_domains=("land_sea_air", "space")))
    uncovered = _u("space_attack")  # EST covers land_sea_air and cyber only
    factor = 1 / (1 + MODEL.weights.credibility)
    assert uncovered["p_answer"] == pytest.approx(covered["p_answer"] * factor)
    assert uncovered["eu"] > covered["eu"]


def test_below_the_threshold_the_treaty_domains_do_not_matter():
    jam = [_u("jam_space", replace(EST, covered_domains=d)) for d in ((), ("space",))]
    assert jam[0] == jam[1]


def test_naval_losses_weigh_on_a_naval_attack_and_counterstrike_on_every_armed_act():
    no_naval = replace(EST, naval_loss_share=0.0)
    seize, seize0 = _u("seize"), _u("seize", no_naval)
    assert seize["loss"] == pytest.approx(0.35) and seize0["loss"] == pytest.approx(0.1)
    assert seize0["eu"] - seize["eu"] == pytest.approx(
        MODEL.weights.cost * RED["seize"].cost * seize["q"] * 0.25)
    assert _u("space_attack") == _u("space_attack", no_naval)  # not land_sea_air
    assert _u("space_attack")["loss"] == pytest.approx(0.1)  # but counterstrike answers it
    no_punish = replace(EST, punish_share=0.0)
    assert _u("space_attack", no_punish)["eu"] > _u("space_attack")["eu"]
    assert _u("incursion") == _u("incursion", replace(no_naval, punish_share=0.0))


def test_climbing_the_ladder_costs_its_firebreaks_times_the_escalation_weight():
    climb = RULES.ladder.climb_cost("routine", "armed_attack")
    groups = RULES.ladder.groups
    assert climb == pytest.approx(sum(g.firebreak for g in groups[1:]))
    flat, steep = _u("seize"), _u("seize", climb=climb)
    assert flat["eu"] - steep["eu"] == pytest.approx(MODEL.weights.escalation_risk * climb)
    assert steep["climb"] == climb


def test_more_resolve_or_coverage_lowers_the_utility_of_a_costly_act():
    base = _u("incursion")["eu"]
    assert _u("incursion", replace(EST, resolve=0.9))["eu"] < base
    assert _u("incursion", replace(EST, p_seen=0.9))["eu"] < base
    zero = _u("incursion", replace(EST, resolve=0.0, p_seen=0.0))
    assert zero["q"] == 0 and zero["eu"] == pytest.approx(MODEL.weights.gain * 1.0)


def test_the_weights_scale_their_terms():
    model = MODEL.model_copy(update={"weights": MODEL.weights.model_copy(
        update={"gain": 0.0, "cost": 0.0})})
    got = _u("seize", climb=2.0, model=model)
    assert got["eu"] == pytest.approx(-MODEL.weights.escalation_risk * 2.0)


# ---- quantal choice --------------------------------------------------------------------------

def test_rationality_zero_is_a_fair_draw_over_the_sorted_names():
    utils = {"c": 5.0, "a": -3.0, "b": 0.0}
    picks = [quantal_choice(utils, 0.0, u)[0] for u in (0.0, 0.32, 0.34, 0.65, 0.67, 0.99)]
    assert picks == ["a", "a", "b", "b", "c", "c"]
    _, probs = quantal_choice(utils, 0.0, 0.5)
    assert probs == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})


def test_large_rationality_is_a_best_reply_whatever_the_draw():
    utils = {"a": 0.0, "b": 2.0, "c": 1.0}
    for u in (1e-9, 0.5, 0.999999):  # only a draw of (nearly) 0 falls on the tiny "a"
        pick, probs = quantal_choice(utils, 50.0, u)
        assert pick == "b"
    assert probs["b"] == pytest.approx(1.0) and probs["c"] < 1e-20 and probs["a"] < 1e-40


def test_tied_best_options_share_the_probability():
    _, probs = quantal_choice({"x": 3.0, "y": 3.0, "z": -10.0}, 50.0, 0.0)
    assert probs["x"] == pytest.approx(0.5) and probs["y"] == pytest.approx(0.5)


def test_softmax_probabilities_match_the_formula_and_ignore_insertion_order():
    utils = {"p": 0.2, "q": -0.4, "r": 1.1}
    _, probs = quantal_choice(utils, 1.5, 0.3)
    total = sum(math.exp(1.5 * v) for v in utils.values())
    assert probs == pytest.approx({k: math.exp(1.5 * v) / total for k, v in utils.items()})
    reordered = dict(reversed(list(utils.items())))
    assert quantal_choice(reordered, 1.5, 0.3) == quantal_choice(utils, 1.5, 0.3)


def test_huge_utilities_do_not_overflow():
    pick, probs = quantal_choice({"a": 1e6, "b": 1e6 - 1}, 50.0, 0.5)
    assert pick == "a" and sum(probs.values()) == pytest.approx(1.0)


def test_a_draw_of_one_falls_back_to_the_last_name():
    assert quantal_choice({"a": 0.0, "b": 0.0}, 0.0, 1.0)[0] == "b"


# ---- beliefs ---------------------------------------------------------------------------------

def test_update_belief_moves_a_share_of_the_way():
    assert update_belief(0.5, 1.0, 0.3) == pytest.approx(0.65)
    assert update_belief(0.5, 0.0, 0.3) == pytest.approx(0.35)
    assert update_belief(0.42, 0.9, 0.0) == 0.42
    assert update_belief(0.42, 0.9, 1.0) == pytest.approx(0.9)


def test_update_estimate_is_not_clipped():
    assert update_estimate(2.0, 6.0, 0.25) == pytest.approx(3.0)


def test_update_belief_is_clipped_to_the_unit_interval():
    assert update_belief(0.9, 5.0, 0.5) == 1.0
    assert update_belief(0.1, -5.0, 0.5) == 0.0
    assert update_belief(1.0, 1.0, 0.3) == 1.0


# ---- doctrine conditions ---------------------------------------------------------------------

FACTS = {"turn": 3.0, "rung": 3.0, "links_degraded": 2.0, "authority": 0.0}


@pytest.mark.parametrize(("text", "expected"), [
    ("links_degraded > 1", True), ("links_degraded > 2", False),
    ("links_degraded >= 2", True), ("links_degraded < 2", False),
    ("links_degraded <= 2", True), ("links_degraded == 2", True),
    ("links_degraded != 2", False), ("authority == 0", True), ("turn >= 4", False),
    ("  turn>=3  ", True),
])
def test_condition_operators(text, expected):
    assert condition_holds(text, FACTS, RULES.ladder.level) is expected


def test_rung_conditions_compare_levels_of_rung_ids():
    level = RULES.ladder.level  # rung 3 is gray_zone_coercion
    assert condition_holds("rung >= gray_zone_coercion", FACTS, level)
    assert condition_holds("rung == gray_zone_coercion", FACTS, level)
    assert not condition_holds("rung >= intense_crisis", FACTS, level)
    assert condition_holds("rung < intense_crisis", FACTS, level)


def test_a_parsed_condition_tests_as_the_text_does():
    level = RULES.ladder.level
    for text in ("rung >= gray_zone_coercion", "rung < intense_crisis", "turn > 2",
                 "authority == 0", "turn != 3", "links_degraded <= 1"):
        cond = compile_condition(text, level)
        assert cond.text == text and cond.holds(FACTS) is condition_holds(text, FACTS, level)
    assert compile_condition("rung >= gray_zone_coercion", level).right == 3.0


def test_bad_conditions_are_refused():
    with pytest.raises(ValueError, match="unknown fact"):
        condition_holds("morale > 1", FACTS, RULES.ladder.level)
    with pytest.raises(ValueError, match="not of the form"):
        condition_holds("rung is high", FACTS, RULES.ladder.level)
    with pytest.raises(KeyError):
        condition_holds("rung >= no_such_rung", FACTS, RULES.ladder.level)
    with pytest.raises(KeyError):  # a known fact the caller did not provide
        condition_holds("red_gains > 0", FACTS, RULES.ladder.level)
