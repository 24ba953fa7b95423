"""Red's mind (engine/sim/beliefs.py): its starting beliefs, the nominal ISR coverage it reads
from Blue's posture, and how each turn's observations move its beliefs."""

from __future__ import annotations

import pytest

import engine
from engine.sim import beliefs, effects, estimates
from engine.sim.state import ListSink
from engine.spec.rules import Rules
from engine.spec.scenario import with_values


def _world(name: str = "alliance-2024", scenario=None):
    game = engine.Game.load(name)
    if scenario is not None:
        game = engine.Game(scenario, game.rules)
    return game.start(seed=0).w


def _after(w, **tally):
    """Red's beliefs after one turn in which it saw ``tally``."""
    for key, value in tally.items():
        w.tally.add(key, value)
    beliefs.observe(w)
    return w.mind.isr, w.mind.resolve


def test_red_starts_from_what_the_declared_posture_implies():
    w = _world("baseline-2022")
    assert w.mind.isr == pytest.approx(
        estimates.posture_coverage(w.scenario, w.rules, w.scenario.red.objective))
    assert w.mind.resolve == pytest.approx(beliefs.posture_resolve(w.scenario, w.rules))
    assert w.mind.seen_readiness == {"mlr12": "garrison"}
    assert w.mind.known_outages == {} and w.mind.authority_seen is False


def test_posture_resolve_counts_exercises_and_isr_over_the_objective():
    s, r = _world("alliance-2024").scenario, engine.Game.load("alliance-2024").rules
    seen = r.red_model.resolve_seen
    assert beliefs.posture_resolve(s, r) == pytest.approx(seen.base + seen.exercise
                                                          + seen.detection)
    quiet = with_values(s, {"blue.c2.exercises_per_turn": 0, "blue.isr.mq9.zones": ["ecs_north"],
                            "blue.isr.mpa.zones": ["ecs_central"], "blue.partners": {}})
    assert beliefs.posture_resolve(quiet, r) == pytest.approx(seen.base)


def test_a_quiet_turn_moves_resolve_toward_the_base():
    w = _world()
    model = w.rules.red_model
    before = w.mind.resolve
    _, resolve = _after(w)
    rate, base = model.belief_rate, model.resolve_seen.base
    assert resolve == pytest.approx(before + rate * (base - before))


@pytest.mark.parametrize(("key", "term"), [("exercises", "exercise"), ("signals", "signal"),
                                           ("authority_announced", "authority"),
                                           ("isr_seen_by_red_h", "detection")])
def test_each_public_act_red_sees_raises_its_belief_in_blues_resolve(key, term):
    quiet = _after(_world())[1]
    w = _world()
    before = w.mind.resolve
    seen = _after(w, **{key: 1})[1]
    model = w.rules.red_model
    weight = getattr(model.resolve_seen, term)
    assert seen - quiet == pytest.approx(model.belief_rate * weight)
    assert seen > quiet
    assert before != seen


def test_exercise_and_signal_together_raise_resolve_more_than_either():
    one = _after(_world(), exercises=1)[1]
    both = _after(_world(), exercises=1, signals=1)[1]
    assert both > one


def test_seen_resolve_is_capped_at_one():
    game = engine.Game.load("alliance-2024")
    data = game.rules.model_dump(mode="json")
    data["red_model"]["resolve_seen"]["base"] = 0.9  # the terms now sum past one
    rules = Rules.model_validate(data)
    w = engine.Game(game.scenario, rules).start(seed=0).w
    before = w.mind.resolve
    _after(w, exercises=1, signals=1, authority_announced=1, isr_seen_by_red_h=5)
    assert w.mind.resolve == pytest.approx(before + rules.red_model.belief_rate * (1 - before))


def test_announced_authority_is_remembered():
    w = _world()
    _after(w, authority_announced=1)
    assert w.mind.authority_seen
    w.tally.close()
    _after(w)
    assert w.mind.authority_seen, "an announcement is not forgotten the next turn"


def test_the_search_effort_red_sees_over_its_objective_moves_its_coverage_belief():
    quiet = _world()
    start = quiet.mind.isr
    rate = quiet.rules.red_model.belief_rate
    assert _after(quiet)[0] == pytest.approx(start * (1 - rate))
    w = _world()
    w.isr.objective_effort[w.turn] = 10.0
    assert _after(w)[0] == pytest.approx(start + rate * (10.0 - start))


def test_a_search_is_credited_to_each_turn_by_the_hours_it_covers():
    w = _world()
    from engine.sim.forces import isr
    isr._credit_effort(w, 0.5, 20.0, 10.0)  # 4 h of turn 1, 6 h of turn 2
    assert isr.effort_over_objective(w, 1) == pytest.approx(2.0)
    assert isr.effort_over_objective(w, 2) == pytest.approx(3.0)


def test_isr_seen_elsewhere_does_not_count_as_coverage_of_the_objective():
    w = _world()
    isr, _ = _after(w, isr_seen_by_red_h=10)
    assert isr == _after(_world())[0]
    assert w.mind.isr_over_groups is True


def test_what_red_saw_of_blue_is_recorded_in_its_mind():
    w = _world()
    beliefs.caused_outage(w, "usfj-mlr", 30.0)
    beliefs.saw_dispersal(w, "mlr12")
    assert w.mind.known_outages == {"usfj-mlr": 30.0}
    assert w.mind.seen_readiness == {"mlr12": "dispersed"}


def test_in_play_blues_exercises_move_reds_estimate_of_resolve():
    game = engine.Game.load("alliance-2024")

    def resolve_after(blue_orders):
        s = game.start(seed=2)
        for _ in range(2):
            s.submit("blue", blue_orders)
            s.submit("red", [])
            s.step()
        return s.observation("red").estimate.resolve

    quiet = resolve_after([])
    loud = resolve_after([engine.Order("joint_exercise"), engine.Order("signal_resolve")])
    assert loud > quiet


def test_exercises_and_statements_are_public_acts_tallied_for_red():
    sink = ListSink()
    w = engine.Game.load("alliance-2024").start(seed=0, sink=sink).w
    effects.apply(w, w.rules.actions.blue["joint_exercise"], {})
    effects.apply(w, w.rules.actions.blue["signal_resolve"], {})
    assert [(r["kind"], r["visible_to"]) for r in sink] == [
        ("blue.exercise", ["blue", "red"]), ("blue.signal", ["blue", "red"])]
    assert w.tally.get("exercises") == 1 and w.tally.get("signals") == 1
    baseline = engine.Game.load("baseline-2022").start(seed=0, sink=ListSink()).w
    effects.apply(baseline, baseline.rules.actions.blue["joint_exercise"], {})
    assert baseline.tally.get("exercises") == 0, "the 2022 posture holds no joint exercises"
