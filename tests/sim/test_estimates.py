"""What the declared posture implies (engine/sim/estimates.py), worked by hand: sortie rates,
search coverage, detection delay, and the losses batteries and counterstrike would inflict."""

from __future__ import annotations

import math

import pytest

import engine
from engine.sim import estimates
from engine.sim.adjudication import battery_salvo, expected_salvo_loss
from engine.spec.scenario import with_values


def _pair(name: str):
    game = engine.Game.load(name)
    return game.scenario, game.rules


def test_baseline_coverage_worked_by_hand():
    s, r = _pair("baseline-2022")
    # two MPAs at Naha (okinawa), 230 nm from the disputed islands at 350 kts, 10 h endurance
    # and 12 h turnaround, planned every 48 h (0.5 a day), on station half the time over the
    # objective (two zones); search hazard W v / A = 25 x 300 / 6000
    fly = 0.7 * 0.9 * 0.9
    per_day = 24 * fly / (fly * max(22, 48) + (1 - fly) * 48)
    on_station = (10 - 2 * 230 / 350) / 2
    expected = 2 * per_day * on_station * 25 * 300 / 6000
    assert estimates.posture_coverage(s, r, "disputed_islands") == pytest.approx(expected)


def test_an_aircraft_cannot_fly_more_often_than_its_endurance_and_turnaround_allow():
    s, r = _pair("alliance-2024")
    det = s.blue.isr["mq9"]  # 24 h endurance + 8 h turnaround: at most 0.75 a day
    fast = r.model_copy(update={"adjudication": r.adjudication.model_copy(update={
        "detection": r.adjudication.detection.model_copy(update={
            "sorties_per_aircraft": {"low": 0.25, "normal": 0.5, "surge": 3.0}})})})
    fly = det.availability * (1 - det.weather_cancel_p) * (1 - det.maintenance_cancel_p)
    plain = with_values(s, {"blue.sustainment.regional_maintenance": False})
    assert estimates.sorties_per_day(plain, fast, det, "surge") == pytest.approx(
        24 * fly / (fly * 32 + (1 - fly) * 8))
    assert estimates.sorties_per_day(plain, r, det, "low") < estimates.sorties_per_day(
        plain, r, det, "normal") < estimates.sorties_per_day(plain, r, det, "surge")


def test_regional_maintenance_flies_more_sorties():
    s, r = _pair("alliance-2024")
    on = with_values(s, {"blue.sustainment.regional_maintenance": True})
    off = with_values(s, {"blue.sustainment.regional_maintenance": False})
    det = s.blue.isr["mq9"]
    table = r.adjudication.sustainment
    assert estimates.upkeep(on, r, det) == pytest.approx((
        1 - (1 - det.availability) * table.unavailable_factor,
        det.maintenance_cancel_p * table.maintenance_cancel_factor))
    assert estimates.sorties_per_day(on, r, det, "normal") > estimates.sorties_per_day(
        off, r, det, "normal")


def test_coverage_counts_only_sources_over_the_zone_and_grows_with_aircraft():
    s, r = _pair("baseline-2022")
    away = with_values(s, {"blue.isr.mpa.zones": ["ecs_central"]})
    assert estimates.posture_coverage(away, r, "disputed_islands") == 0.0
    few = estimates.posture_coverage(s, r, "disputed_islands")
    more = with_values(s, {"blue.isr.mpa.aircraft": 4})
    assert estimates.posture_coverage(more, r, "disputed_islands") == pytest.approx(2 * few)


@pytest.mark.parametrize("law", ["random", "exhaustive"])
def test_seen_probability_follows_the_search_law(law):
    _, r = _pair("alliance-2024")
    rules = r.model_copy(update={"adjudication": r.adjudication.model_copy(update={
        "detection": r.adjudication.detection.model_copy(update={"law": law})})})
    got = estimates.seen_probability(0.5, rules)
    assert got == pytest.approx(-math.expm1(-0.5) if law == "random" else 0.5)


def test_detection_delay_is_the_inverse_coverage_rate_capped_at_two_turns():
    assert estimates.detection_delay_h(4.0, 24.0) == pytest.approx(6.0)
    assert estimates.detection_delay_h(0.0, 24.0) == 48.0
    assert estimates.detection_delay_h(0.1, 24.0) == 48.0


def test_batteries_inflict_nothing_without_anti_ship_missiles():
    s, r = _pair("baseline-2022")
    assert estimates.battery_losses(s, r, {}, "navy", 4.0, 1.0) == 0.0


def test_one_battery_one_salvo_worked_by_hand():
    s, r = _pair("alliance-2023")
    # one battery in range, magazine for one salvo, no resupply
    s = with_values(s, {"blue.littoral.mlr12.batteries.b2.site": "amami",  # 350 nm: too far
                        "blue.littoral.mlr12.batteries.b1.magazine": 8})
    navy = s.red.groups["navy"]
    expected = expected_salvo_loss(shots=8, p_hit=0.7, interceptors=2 * 4, p_intercept=0.5,
                                   loss_per_hit=1.0 / navy.staying_power, targets=4.0)
    got = estimates.battery_losses(s, r, {"mlr12": "alert"}, "navy", 4.0, 1.0)
    assert got == pytest.approx(expected)
    assert estimates.battery_losses(s, r, {"mlr12": "alert"}, "navy", 4.0, 0.5) == (
        pytest.approx(expected * 0.5))
    garrison = estimates.battery_losses(s, r, {"mlr12": "garrison"}, "navy", 4.0, 1.0)
    assert 0 < garrison < got  # a quarter of the launchers ready


def test_resupply_adds_salvos_when_the_magazine_limits_them():
    s, r = _pair("alliance-2023")
    short = with_values(s, {"blue.littoral.mlr12.batteries.b1.magazine": 8,
                            "blue.littoral.mlr12.batteries.b2.magazine": 8})
    fed = with_values(short, {"blue.sustainment.missile_resupply_per_turn": 8})
    assert estimates.battery_losses(fed, r, {}, "navy", 4.0, 1.0) > estimates.battery_losses(
        short, r, {}, "navy", 4.0, 1.0)


def test_counterstrike_reaches_only_within_range():
    s, r = _pair("alliance-2024")
    assert s.blue.counterstrike, "2024 has a counterstrike unit"
    uid = sorted(s.blue.counterstrike)[0]
    assert estimates.counterstrike_losses(s, r, "navy", 4.0, 1.0) > 0
    half = estimates.counterstrike_losses(s, r, "navy", 4.0, 0.5)
    assert 0 < half < estimates.counterstrike_losses(s, r, "navy", 4.0, 1.0)
    short = with_values(s, {f"blue.counterstrike.{uid}.range_nm": 10.0})
    assert estimates.counterstrike_losses(short, r, "navy", 4.0, 1.0) == 0.0


def test_a_shooters_salvos_are_sized_by_the_engines_rule_until_its_magazine_runs_out():
    s, r = _pair("alliance-2023")
    (first, *_) = estimates.battery_shooters(s, r, {"mlr12": "alert"})

    def salvo(magazine: int) -> tuple[int, int]:
        return battery_salvo(launchers=first.launchers, magazine=magazine,
                             ready_share=first.ready_share,
                             missiles_per_launcher=first.missiles_per_launcher)

    sizes = first.sizes
    assert sizes and sizes[0] == salvo(first.magazine)  # the first salvo: a full magazine
    assert len(sizes) <= first.salvos
    used = [sum(c * p for c, p in sizes[:i]) for i in range(len(sizes) + 1)]
    assert used[-1] <= first.magazine
    # each salvo is sized from what the ones before it left, and it stops only when its turns
    # run out or the rest of the magazine cannot fire
    assert all(sizes[i] == salvo(first.magazine - used[i]) for i in range(len(sizes)))
    assert len(sizes) == first.salvos or salvo(first.magazine - used[-1])[0] == 0
    dry = estimates.Shooter(4.0, 2, 0, 1.0, 0.7, 3)
    assert dry.sizes == ()  # an empty magazine fires nothing


def test_shared_values_are_made_once_per_game_and_kept_apart_between_games():
    game = engine.Game.load("classroom-tutorial")
    made = []
    for _ in range(2):
        w = game.start(seed=0).w
        assert estimates.shared(w, "k", lambda: made.append(1) or len(made)) == 1
    assert made == [1]
    other = engine.Game(game.scenario, game.rules).start(seed=0).w
    assert estimates.shared(other, "k", lambda: 7) == 7
