"""Red's mind (engine/sim/beliefs.py): its starting beliefs, the nominal ISR coverage it reads
from Blue's posture, and how each turn's observations move its beliefs."""

from __future__ import annotations

import pytest

import engine
from engine.sim import beliefs, effects
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


def test_nominal_coverage_worked_by_hand_for_the_baseline():
    game = engine.Game.load("baseline-2022")
    # two MPAs at Naha (okinawa), 230 nm from the disputed islands at 350 kts, 10 h
    # endurance, flying 1 sortie a day, split over two zones
    flown = 2 * 0.7 * (1 - 0.1) * (1 - 0.1) * 1.0 * (24 / 24)
    on_station = 10 - 2 * 230 / 350
    expected = flown * on_station / 2 / 24
    got = beliefs.nominal_isr_coverage(game.scenario, game.rules)
    assert got == pytest.approx(expected)
    assert 0.2 < got < 0.21


def test_nominal_coverage_counts_only_detachments_covering_the_objective():
    game = engine.Game.load("alliance-2024")
    away = with_values(game.scenario, {"blue.isr.mq9.zones": ["ecs_north"],
                                       "blue.isr.mpa.zones": ["ecs_central"]})
    assert beliefs.nominal_isr_coverage(away, game.rules) == 0.0
    only_mpa = with_values(game.scenario, {"blue.isr.mq9.zones": ["ecs_north"]})
    assert 0 < beliefs.nominal_isr_coverage(only_mpa, game.rules) < beliefs.nominal_isr_coverage(
        game.scenario, game.rules)


def test_nominal_coverage_grows_with_aircraft_and_is_capped_at_one():
    game = engine.Game.load("baseline-2022")
    few = beliefs.nominal_isr_coverage(game.scenario, game.rules)
    more = with_values(game.scenario, {"blue.isr.mpa.aircraft": 4})
    assert beliefs.nominal_isr_coverage(more, game.rules) == pytest.approx(2 * few)
    many = with_values(game.scenario, {"blue.isr.mpa.aircraft": 40})
    assert beliefs.nominal_isr_coverage(many, game.rules) == 1.0


def test_red_starts_halfway_between_its_prior_and_the_posture():
    w = _world("baseline-2022")
    model = w.rules.red_model
    nominal = beliefs.nominal_isr_coverage(w.scenario, w.rules)
    assert w.mind.isr == pytest.approx((model.prior_isr_coverage + nominal) / 2)
    assert w.mind.resolve == model.prior_resolve
    assert w.mind.seen_readiness == {"mlr12": "garrison"}
    assert w.mind.known_outages == {} and w.mind.authority_seen is False


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


def test_isr_over_the_objective_raises_the_isr_belief():
    quiet = _world()
    start = quiet.mind.isr
    low = _after(quiet)[0]
    assert low == pytest.approx(start * (1 - quiet.rules.red_model.belief_rate))
    w = _world()
    full = _after(w, isr_station_objective_h=w.hours)[0]
    assert full == pytest.approx(start + w.rules.red_model.belief_rate * (1 - start))
    assert w.mind.isr_seen_h == w.hours
    over = _world()
    capped = _after(over, isr_station_objective_h=5 * over.hours)[0]
    assert capped == pytest.approx(full), "more hours than the turn count as full coverage"


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
