"""Red's forces (engine/sim/forces/adversary.py): what it can order, movement and incursions,
what it watches, and its cyber and counterspace attacks."""

from __future__ import annotations

import pytest

import engine
from engine.sim import effects
from engine.sim.forces import adversary
from engine.sim.state import ListSink
from engine.spec.scenario import with_values

GAME = engine.Game.load("alliance-2024")
# no ISR: nothing detects a group (which would stop its incursion clock) unless a test says so
BLIND = engine.Game(with_values(GAME.scenario, {"blue.isr": {}}), GAME.rules)
OBJECTIVE = "disputed_islands"  # 200 nm from red_home; the coast guard sails at 16 kts


def _session(seed: int = 0, game=GAME):
    sink = ListSink()
    return game.start(seed=seed, sink=sink).w, sink


def _of(sink, kind, unit=None):
    return [r for r in sink if r["kind"] == kind and (unit is None or r["unit"] == unit)]


# ---- what Red can do -------------------------------------------------------------------------

def test_red_with_its_forces_can_do_everything():
    w, _ = _session()
    for effect in ("patrol", "incursion", "strike", "stand_down", "cyber_attack",
                   "counterspace_attack", "hold"):
        assert adversary.unable(w, effect) is None, effect


def test_movements_need_a_surviving_group_of_the_right_kind():
    w, _ = _session()
    w.red.groups["coast_guard"].ships = 0
    assert adversary.unable(w, "patrol") == "no Red group of kind coast_guard is left to patrol"
    assert adversary.unable(w, "incursion") is None  # the militia can still go
    w.red.groups["militia"].ships = 0
    assert "coast_guard, militia" in adversary.unable(w, "incursion")
    assert adversary.unable(w, "strike") is None  # the navy is left
    w.red.groups["navy"].ships = 0
    assert adversary.unable(w, "strike") == (
        "no Red group of kind coast_guard, militia, navy is left to strike")


def test_attacks_need_the_units_the_scenario_gives():
    w, _ = _session(game=engine.Game.load("classroom-tutorial"))
    assert adversary.unable(w, "counterspace_attack") == (
        "the scenario gives Red no counterspace unit")
    s = with_values(GAME.scenario, {"red.cyber": {}})
    w2, _ = _session(game=engine.Game(s, GAME.rules))
    assert adversary.unable(w2, "cyber_attack") == "the scenario gives Red no cyber unit"


def test_a_refused_effect_is_off_reds_menu_with_its_reason():
    s = engine.Game.load("classroom-tutorial").start(seed=0)
    s.w.red.groups["coast_guard"].ships = 0
    menu = s.legal_orders("red")
    assert "patrol" not in menu and "no Red group of kind coast_guard" in menu.refused["patrol"]
    assert "incursion" not in menu and "seize" in menu  # the navy can still strike


# ---- movement --------------------------------------------------------------------------------

def test_setup_puts_every_group_at_home():
    w, _ = _session()
    assert {g: (s.zone, s.dest, s.ships, s.mission) for g, s in w.red.groups.items()} == {
        "coast_guard": ("red_home", "red_home", 4.0, "home"),
        "militia": ("red_home", "red_home", 10.0, "home"),
        "navy": ("red_home", "red_home", 4.0, "home")}


def test_a_group_sails_at_its_speed_and_makes_an_incursion_on_arrival():
    w, sink = _session(game=BLIND)
    adversary.move(w, "coast_guard", OBJECTIVE, "patrol")
    [move] = _of(sink, "red.move")
    assert move["data"] == {"from": "red_home", "to": OBJECTIVE, "mission": "patrol",
                            "eta_h": 12.5}
    assert move["visible_to"] == ["red"]
    w.env.run(until=12.4)
    assert not _of(sink, "red.incursion") and w.red.groups["coast_guard"].zone == "red_home"
    w.env.run(until=12.6)
    [inc] = _of(sink, "red.incursion")
    assert inc["t"] == 12.5 and inc["data"] == {"zone": OBJECTIVE, "mission": "patrol"}
    assert inc["visible_to"] == ["red"], "Blue learns of an incursion only by detection"
    assert w.red.groups["coast_guard"].zone == OBJECTIVE
    assert w.red.incursion_t == {"coast_guard": 12.5}
    assert w.tally.get("incursions") == 1


def test_a_group_reordered_where_it_already_is_makes_no_second_incursion():
    w, sink = _session(game=BLIND)
    adversary.move(w, "coast_guard", OBJECTIVE, "patrol")
    w.env.run(until=13.0)
    adversary.move(w, "coast_guard", OBJECTIVE, "patrol")  # the same order: nothing at all
    assert len(_of(sink, "red.move")) == 1
    adversary.move(w, "coast_guard", OBJECTIVE, "incursion")  # a new task in place
    w.env.run(until=40.0)
    moves = _of(sink, "red.move")
    assert len(moves) == 2 and moves[1]["data"]["from"] == moves[1]["data"]["to"] == OBJECTIVE
    assert w.red.groups["coast_guard"].mission == "incursion"
    assert len(_of(sink, "red.incursion")) == 1
    assert w.red.incursion_t == {"coast_guard": 12.5}, "the incursion's clock runs on"


def test_a_group_turned_back_on_the_way_makes_no_incursion():
    w, sink = _session(game=BLIND)
    adversary.move(w, "coast_guard", OBJECTIVE, "patrol")
    w.env.run(until=5.0)
    adversary.move(w, "coast_guard", "red_home", "home")
    # under way, a group is still in the zone it left: it is back at once
    assert _of(sink, "red.move")[1]["data"] == {"from": "red_home", "to": "red_home",
                                                "mission": "home", "eta_h": 5.0}
    w.env.run(until=40.0)
    assert not _of(sink, "red.incursion")
    assert w.red.groups["coast_guard"].zone == "red_home"


def test_going_home_is_never_an_incursion_and_stops_the_clock():
    w, sink = _session(game=BLIND)
    adversary.move(w, "coast_guard", OBJECTIVE, "patrol")
    w.env.run(until=13.0)
    adversary.move(w, "coast_guard", "red_home", "home")
    assert w.red.incursion_t == {}
    w.env.run(until=40.0)
    assert len(_of(sink, "red.incursion")) == 1


def test_a_sunk_group_does_not_move():
    w, sink = _session()
    adversary.take_losses(w, "navy", 4.0)
    adversary.move(w, "navy", OBJECTIVE, "strike")
    assert w.red.groups["navy"].ships == 0 and not _of(sink, "red.move")


def test_first_seen_reports_an_incursion_once():
    w, _ = _session(game=BLIND)
    adversary.move(w, "militia", OBJECTIVE, "incursion")
    w.env.run(until=17.0)
    assert adversary.first_seen(w, "militia") == pytest.approx(200 / 12)
    assert adversary.first_seen(w, "militia") is None


def test_movement_effects_send_the_groups_of_their_kinds():
    w, sink = _session()
    effects.apply(w, w.rules.actions.red["incursion"], {})
    assert {r["unit"] for r in _of(sink, "red.move")} == {"coast_guard", "militia"}
    assert {r["data"]["mission"] for r in _of(sink, "red.move")} == {"incursion"}
    effects.apply(w, w.rules.actions.red["stand_down"], {})
    homes = [r for r in _of(sink, "red.move") if r["data"]["to"] == "red_home"]
    assert {r["unit"] for r in homes} == {"coast_guard", "militia"}  # the navy never left


# ---- what Red watches ------------------------------------------------------------------------

def test_red_watches_its_objective_and_where_its_groups_are():
    w, _ = _session()
    assert adversary.watches(w, OBJECTIVE)
    assert adversary.watches(w, "red_home")
    assert not adversary.watches(w, "ecs_central")
    adversary.move(w, "coast_guard", "ecs_central", "patrol")  # 180 nm: 11.25 h
    w.env.run(until=11.0)
    assert not adversary.watches(w, "ecs_central"), "not there yet"
    w.env.run(until=11.5)
    assert adversary.watches(w, "ecs_central")
    adversary.take_losses(w, "coast_guard", 4.0)
    assert not adversary.watches(w, "ecs_central"), "a sunk group sees nothing"


def test_an_aircraft_over_a_watched_zone_is_seen_by_red():
    w, sink = _session()
    adversary.move(w, "coast_guard", "ecs_central", "patrol")
    w.env.run(until=48.0)
    stations = _of(sink, "isr.on_station")
    assert stations
    for r in stations:
        watched = r["data"]["zone"] == OBJECTIVE or (
            r["data"]["zone"] == "ecs_central" and r["t"] >= 11.25)
        assert r["data"]["seen_by_red"] is watched, r
        assert ("red" in r["visible_to"]) is watched


# ---- cyber and counterspace ------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_a_cyber_attack_records_its_draw_and_takes_the_link_down_when_it_succeeds(seed):
    w, sink = _session(seed)
    effects.apply(w, w.rules.actions.red["cyber_disrupt"], {"link": "usfj-indopacom"})
    w.env.run(until=w.hours)
    [attack] = _of(sink, "red.cyber.attack")
    d = attack["data"]
    assert d["link"] == "usfj-indopacom" and d["hardened"] is False and d["p_success"] == 0.6
    assert d["success"] is (d["draw"] < d["p_success"])
    assert attack["t"] <= w.hours * adversary.ATTACK_WINDOW_SHARE
    degraded = _of(sink, "c2.link.degraded", "usfj-indopacom")
    assert len(degraded) == int(d["success"])
    assert ("usfj-indopacom" in w.mind.known_outages) is d["success"]
    if d["success"]:
        assert "cause" not in degraded[0]["data"] and degraded[0]["visible_to"] == ["blue"]
        assert w.mind.known_outages["usfj-indopacom"] == pytest.approx(
            degraded[0]["data"]["until_h"], abs=1e-6)


def test_a_hardened_link_halves_the_cyber_attacks_chance():
    w, sink = _session()
    effects.apply(w, w.rules.actions.red["cyber_disrupt"], {"link": "isr-usfj"})
    w.env.run(until=w.hours)
    [attack] = _of(sink, "red.cyber.attack")
    assert attack["data"]["hardened"] is True and attack["data"]["p_success"] == 0.3


def test_without_a_target_cyber_strikes_the_link_carrying_most_vital_traffic():
    w, sink = _session()  # alliance-2024
    effects.apply(w, w.rules.actions.red["cyber_disrupt"], {})
    w.env.run(until=w.hours)
    # track reports from isr_ops (MQ-9s) and japan_hq (MPA, partners) to usfj (the authority)
    # and mlr_hq, and authority requests and grants between mlr_hq and usfj: usfj-mlr carries
    # four of them, more than any other link
    [attack] = _of(sink, "red.cyber.attack")
    assert attack["data"]["link"] == "usfj-mlr"
    assert attack["data"]["hardened"] is True  # so 2024's hardening matters


def test_cyber_strikes_the_unhardened_link_in_2023():
    game = engine.Game.load("alliance-2023")
    sink = ListSink()
    w = game.start(seed=0, sink=sink).w
    effects.apply(w, w.rules.actions.red["cyber_disrupt"], {})
    w.env.run(until=w.hours)
    [attack] = _of(sink, "red.cyber.attack")
    assert attack["data"]["hardened"] is False


@pytest.mark.parametrize(("aid", "destructive"), [("jam_space", False), ("space_attack", True)])
def test_counterspace_attacks_are_destructive_at_the_threshold(aid, destructive):
    outcomes = set()
    for seed in range(8):
        w, sink = _session(seed)
        w.ladder.armed_attack_turn = 1 if destructive else None
        effects.apply(w, w.rules.actions.red[aid], {})
        w.env.run(until=w.hours)
        [attack] = _of(sink, "red.counterspace.attack")
        d = attack["data"]
        assert d["destructive"] is destructive and d["success"] is (d["draw"] < d["p_success"])
        space = _of(sink, "space.degraded")
        assert len(space) == int(d["success"])
        known = [r["data"] for r in _of(sink, "alliance.armed_attack")]
        evident = destructive and d["success"]  # destroyed satellites: the attack is evident
        assert known == ([{"domain": "space", "how": "effects"}] if evident else [])
        if d["success"]:
            factor = w.rules.adjudication.destructive_space_factor if destructive else 1
            effect = w.scenario.red.counterspace["asat"].effect_h * factor
            assert space[0]["data"]["until_h"] == pytest.approx(attack["t"] + effect, abs=1e-5)
        outcomes.add(d["success"])
    assert outcomes == {True, False}, "eight seeds should see both a hit and a miss"


@pytest.mark.parametrize("name", ["baseline-2022", "alliance-2024", "classroom-tutorial"])
def test_groups_are_kept_in_id_order(name):
    # isr.search draws for the groups in the order World.red.groups holds them
    w, _ = _session(game=engine.Game.load(name))
    assert list(w.red.groups) == sorted(w.scenario.red.groups)
