"""The littoral regiment (engine/sim/forces/littoral.py): readiness and dispersal, what Red
sees of it, when a battery may fire, the salvo's recorded draws, and Red's strikes."""

from __future__ import annotations

import math

import pytest

import engine
from engine.sim import effects
from engine.sim.forces import adversary, isr, littoral
from engine.sim.state import ListSink, Track
from engine.spec.scenario import with_values

GAME = engine.Game.load("alliance-2024")  # sites okinawa, sakishima, amami; b1 sakishima


def _session(seed: int = 0, game=GAME):
    sink = ListSink()
    return game.start(seed=seed, sink=sink).w, sink


def _of(sink, kind):
    return [r for r in sink if r["kind"] == kind]


def _at_war(w, group: str = "navy", zone: str = "disputed_islands"):
    """The conditions to fire: an armed attack Blue knows of, authority, a fresh track."""
    w.ladder.armed_attack_turn = w.ladder.known_turn = w.turn
    w.littoral.authority["mlr12"] = True
    w.isr.tracks["mlr_hq"][group] = Track(zone, w.now)


# ---- readiness and dispersal -----------------------------------------------------------------

def test_setup_places_the_batteries_at_their_sites():
    w, _ = _session()
    assert {k: (b.site, b.launchers, b.magazine) for k, b in w.littoral.batteries.items()} == {
        ("mlr12", "b1"): ("sakishima", 4.0, 16), ("mlr12", "b2"): ("okinawa", 4.0, 16)}
    assert w.littoral.readiness == {"mlr12": "alert"}
    assert w.littoral.authority == {"mlr12": False}


def test_dispersal_moves_each_battery_once_to_another_site_within_range_of_the_objective():
    w, sink = _session()  # sites okinawa (230 nm), sakishima (90 nm), amami (350 nm); 250 range
    littoral.set_posture(w, "mlr12", "dispersed")
    sites = (w.littoral.batteries[("mlr12", "b1")].site,
             w.littoral.batteries[("mlr12", "b2")].site)
    assert sites == ("okinawa", "sakishima"), "amami is out of range: skipped"
    littoral.set_posture(w, "mlr12", "dispersed")  # already dispersed: nothing moves
    assert len(_of(sink, "littoral.displace")) == 2
    assert len(_of(sink, "littoral.readiness")) == 1, "readiness changed once"
    littoral.set_posture(w, "mlr12", "alert")
    littoral.set_posture(w, "mlr12", "dispersed")  # dispersing again moves them again
    moves = [(r["unit"], r["data"]["from"], r["data"]["to"])
             for r in _of(sink, "littoral.displace")]
    assert moves == [("mlr12.b1", "sakishima", "okinawa"), ("mlr12.b2", "okinawa", "sakishima"),
                     ("mlr12.b1", "okinawa", "sakishima"), ("mlr12.b2", "sakishima", "okinawa")]


def test_with_no_site_in_range_a_battery_disperses_to_the_next_site():
    game = engine.Game.load("alliance-2024")
    short = engine.Game(with_values(game.scenario, {"blue.littoral.mlr12.range_nm": 10.0}),
                        game.rules)
    w = short.start(seed=0).w
    assert littoral.dispersal_site(w, "mlr12", "okinawa") == "sakishima"
    assert littoral.dispersal_site(w, "mlr12", "amami") == "okinawa"


def test_dispersal_delays_readiness_by_the_displacement_time():
    w, sink = _session()
    w.env.run(until=3.0)
    littoral.set_posture(w, "mlr12", "dispersed")
    displace_h = w.scenario.blue.littoral["mlr12"].displace_h
    assert all(b.ready_t == pytest.approx(3.0 + displace_h)
               for b in w.littoral.batteries.values())
    assert all(r["data"]["ready_in_h"] == displace_h for r in _of(sink, "littoral.displace"))


def test_other_postures_change_readiness_without_moving():
    w, sink = _session()
    littoral.set_posture(w, "mlr12", "garrison")
    littoral.set_posture(w, "mlr12", "garrison")
    assert w.littoral.readiness["mlr12"] == "garrison"
    assert [r["data"] for r in _of(sink, "littoral.readiness")] == [
        {"from": "alert", "to": "garrison"}]
    assert not _of(sink, "littoral.displace")
    assert w.littoral.batteries[("mlr12", "b1")].site == "sakishima"


def test_a_one_site_regiment_cannot_displace():
    w, sink = _session(game=engine.Game.load("classroom-tutorial"))  # one site: sakishima
    littoral.set_posture(w, "mlr12", "dispersed")
    assert w.littoral.readiness["mlr12"] == "dispersed"
    assert not _of(sink, "littoral.displace")
    assert w.littoral.batteries[("mlr12", "b1")].ready_t == 0.0


def test_the_posture_effect_applies_its_parameter_to_every_regiment():
    w, _ = _session()
    action = w.rules.actions.blue["littoral_posture"]
    effects.apply(w, action, {"readiness": "garrison"})
    assert w.littoral.readiness == {"mlr12": "garrison"}
    effects.apply(w, action, {"readiness": None})  # the effect's fallback
    assert w.littoral.readiness == {"mlr12": "alert"}


def test_red_does_not_see_a_dispersal_far_from_its_groups():
    w, sink = _session()
    littoral.set_posture(w, "mlr12", "dispersed")
    assert all(r["data"]["seen_by_red"] is False for r in _of(sink, "littoral.displace"))
    assert all(r["visible_to"] == ["blue"] for r in _of(sink, "littoral.displace"))
    assert w.mind.seen_readiness["mlr12"] == "alert"


def test_red_sees_a_dispersal_when_a_group_sits_in_the_zone():
    w, sink = _session()
    adversary.move(w, "coast_guard", "disputed_islands", "patrol")  # 200 nm at 16 kts
    w.env.run(until=13.0)
    adversary.move(w, "coast_guard", "sakishima", "patrol")  # 90 nm more
    eta = w.red.groups["coast_guard"].arrive_t
    w.env.run(until=eta - 0.5)
    littoral.set_posture(w, "mlr12", "dispersed")  # still under way: not seen
    assert [r["data"]["seen_by_red"] for r in _of(sink, "littoral.displace")] == [False, False]
    w.env.run(until=eta + 0.5)
    # b1 now at okinawa, b2 at sakishima (where the coast guard is): both moves are seen,
    # b1 arriving there and b2 leaving
    littoral.set_posture(w, "mlr12", "alert")
    littoral.set_posture(w, "mlr12", "dispersed")
    seen = {r["unit"]: r["data"]["seen_by_red"] for r in _of(sink, "littoral.displace")[2:]}
    assert seen == {"mlr12.b1": True, "mlr12.b2": True}
    b2 = _of(sink, "littoral.displace")[3]
    assert b2["data"]["from"] == "sakishima" and b2["visible_to"] == ["blue", "red"]
    assert w.mind.seen_readiness["mlr12"] == "dispersed"


# ---- when a battery fires --------------------------------------------------------------------

def test_no_salvo_without_knowledge_of_an_attack_authority_or_a_track():
    w, sink = _session()
    w.littoral.authority["mlr12"] = True
    w.isr.tracks["mlr_hq"]["navy"] = Track("disputed_islands", w.now)
    littoral.engage_regiment(w, "mlr12")  # Blue knows of no armed attack
    w.ladder.armed_attack_turn = w.ladder.known_turn = 1
    w.littoral.authority["mlr12"] = False
    littoral.engage_regiment(w, "mlr12")  # no authority
    w.littoral.authority["mlr12"] = True
    w.isr.tracks["mlr_hq"].clear()
    littoral.engage_regiment(w, "mlr12")  # no track
    w.isr.tracks["mlr_hq"]["militia"] = Track("disputed_islands", w.now)
    littoral.engage_regiment(w, "mlr12")  # a track, but not on a warship
    assert not _of(sink, "engagement.salvo")


def test_a_stale_or_distant_track_draws_no_fire():
    w, sink = _session()
    _at_war(w)
    w.isr.tracks["mlr_hq"]["navy"] = Track("disputed_islands", -7.0)  # older than 6 h
    littoral.engage_regiment(w, "mlr12")
    w.isr.tracks["mlr_hq"]["navy"] = Track("red_home", w.now)  # out of range of both sites
    littoral.engage_regiment(w, "mlr12")
    assert not _of(sink, "engagement.salvo")


def test_a_displacing_battery_fires_only_once_it_is_ready_then_it_must_move_again():
    w, sink = _session()
    littoral.set_posture(w, "mlr12", "dispersed")  # ready at 6 h
    _at_war(w)
    littoral.engage_regiment(w, "mlr12")
    assert not _of(sink, "engagement.salvo")
    w.env.run(until=6.0)
    w.isr.tracks["mlr_hq"]["navy"] = Track("disputed_islands", w.now)
    littoral.engage_regiment(w, "mlr12")
    # b1 moved to okinawa, b2 to sakishima: both in range, both fire
    assert [r["unit"] for r in _of(sink, "engagement.salvo")] == ["mlr12.b1", "mlr12.b2"]
    assert w.littoral.batteries[("mlr12", "b2")].ready_t == pytest.approx(12.0)
    littoral.engage_regiment(w, "mlr12")
    assert len(_of(sink, "engagement.salvo")) == 2, "shoot and scoot: no second salvo at once"


def test_the_baseline_artillery_never_fires_at_ships():
    w, sink = _session(game=engine.Game.load("baseline-2022"))
    _at_war(w, zone="okinawa")
    littoral.engage_regiment(w, "mlr12")
    assert not _of(sink, "engagement.salvo")


@pytest.mark.parametrize("seed", range(40))
def test_a_salvo_records_consistent_draws(seed):
    w, sink = _session(seed)
    _at_war(w)
    littoral.engage_regiment(w, "mlr12")
    reg, g = w.scenario.blue.littoral["mlr12"], w.scenario.red.groups["navy"]
    salvos = _of(sink, "engagement.salvo")
    assert len(salvos) == 2
    lost = 0.0
    for rec in salvos:
        d = rec["data"]
        assert d["target"] == "navy" and rec["visible_to"] == ["blue", "red"]
        assert d["hits"] == max(0, d["good_shots"] - d["intercepts"])
        assert len(d["damage"]) == d["hits"] and all(x >= 0 for x in d["damage"])
        assert d["ships_lost"] == pytest.approx(min(d["ships_before"], sum(d["damage"])),
                                                abs=1e-5)
        assert 0 <= d["good_shots"] <= d["missiles"] == d["shooters"] * reg.missiles_per_launcher
        assert 0 <= d["intercepts"] <= d["interceptors"]
        assert d["interceptors"] == g.interceptors_per_ship * math.ceil(d["ships_before"])
        assert d["p_hit"] == reg.p_hit and d["p_intercept"] == g.p_intercept
        lost += d["ships_lost"]
    assert salvos[1]["data"]["ships_before"] == pytest.approx(
        salvos[0]["data"]["ships_before"] - salvos[0]["data"]["ships_lost"], abs=1e-5)
    assert w.red.groups["navy"].ships == pytest.approx(4.0 - lost, abs=1e-5)
    assert w.tally.get("red_losses") == pytest.approx(lost, abs=1e-5)
    fired = sum(r["data"]["missiles"] for r in salvos)
    assert sum(b.magazine for b in w.littoral.batteries.values()) == 32 - fired


@pytest.mark.parametrize("left", [1, 3])
def test_a_nearly_empty_magazine_never_fires_more_than_it_holds(left):
    w, sink = _session()
    for b in w.littoral.batteries.values():
        b.magazine = left
    _at_war(w)
    littoral.engage_regiment(w, "mlr12")
    salvos = _of(sink, "engagement.salvo")
    assert salvos
    for rec in salvos:
        d = rec["data"]
        assert d["missiles"] <= left and d["good_shots"] <= d["missiles"]
        assert d["missiles"] % d["shooters"] == 0
    assert all(b.magazine >= 0 for b in w.littoral.batteries.values())


def test_salvos_over_many_seeds_sometimes_hit_and_sometimes_are_all_intercepted():
    hits = []
    for seed in range(40):
        w, sink = _session(seed)
        _at_war(w)
        littoral.engage_regiment(w, "mlr12")
        hits += [r["data"]["hits"] for r in _of(sink, "engagement.salvo")]
    assert 0 in hits and max(hits) > 0


def test_garrison_readiness_fires_a_quarter_of_the_launchers():
    w, sink = _session()
    littoral.set_posture(w, "mlr12", "garrison")
    _at_war(w)
    littoral.engage_regiment(w, "mlr12")
    assert [r["data"]["shooters"] for r in _of(sink, "engagement.salvo")] == [1, 1]


def test_a_battery_with_an_empty_magazine_does_not_fire():
    w, sink = _session()
    for b in w.littoral.batteries.values():
        b.magazine = 0
    _at_war(w)
    littoral.engage_regiment(w, "mlr12")
    assert not _of(sink, "engagement.salvo")


def test_article5_grants_authority_and_fires_at_once():
    w, sink = _session()
    w.ladder.armed_attack_turn = w.ladder.known_turn = 1
    w.isr.tracks["mlr_hq"]["navy"] = Track("disputed_islands", w.now)
    littoral.grant_all(w)
    assert w.littoral.authority == {"mlr12": True}
    assert len(_of(sink, "engagement.salvo")) == 2


def test_a_track_reaching_the_regiments_hq_makes_it_fire():
    w, sink = _session()
    w.ladder.armed_attack_turn = w.ladder.known_turn = 1
    w.littoral.authority["mlr12"] = True
    isr.detect(w, "test.1", "mlr_hq", "navy", "disputed_islands", 0.5, 0.1)  # found at the HQ
    assert [r["kind"] for r in sink][:3] == ["isr.detect", "engagement.salvo",
                                             "engagement.salvo"]


# ---- Red's strike ----------------------------------------------------------------------------

def test_a_strike_hits_the_batteries_in_range_and_tells_blue_of_the_attack():
    w, sink = _session()
    w.ladder.armed_attack_turn = 1
    w.red.groups["navy"].dest = "disputed_islands"
    littoral.struck(w, "navy")
    strikes = _of(sink, "engagement.strike")
    assert [r["data"]["target"] for r in strikes] == ["mlr12.b1", "mlr12.b2"]
    for r in strikes:
        assert r["data"]["scouting"] == w.rules.adjudication.littoral.exposure["alert"]
        assert 0 < r["data"]["launchers_lost"] <= r["data"]["launchers_before"] == 4.0
    lost = sum(r["data"]["launchers_lost"] for r in strikes)
    assert sum(b.launchers for b in w.littoral.batteries.values()) == pytest.approx(8 - lost,
                                                                                    abs=1e-5)
    assert [r["data"] for r in _of(sink, "alliance.armed_attack")] == [
        {"domain": "land_sea_air", "how": "effects"}]


def test_dispersed_batteries_lose_fewer_launchers_to_a_strike():
    def lost(readiness):
        w, sink = _session()
        w.littoral.readiness["mlr12"] = readiness
        w.red.groups["navy"].dest = "disputed_islands"
        littoral.struck(w, "navy")
        return sum(r["data"]["launchers_lost"] for r in _of(sink, "engagement.strike"))

    assert lost("dispersed") < lost("alert") < lost("garrison")


# ---- missile co-production (blue.sustainment.missile_resupply_per_turn) ----------------------

def test_resupply_refills_a_magazine_and_never_beyond_its_starting_load():
    w, sink = _session()  # alliance-2024: two missiles a turn, magazines of 16
    assert w.scenario.blue.sustainment.missile_resupply_per_turn == 2
    b1, b2 = w.littoral.batteries[("mlr12", "b1")], w.littoral.batteries[("mlr12", "b2")]
    b1.magazine, b2.magazine = 3, 15
    littoral.resupply(w)
    assert (b1.magazine, b2.magazine) == (5, 16)
    for _ in range(10):
        littoral.resupply(w)
    assert (b1.magazine, b2.magazine) == (16, 16)
    added = [(r["unit"], r["data"]["added"], r["data"]["magazine"])
             for r in _of(sink, "littoral.resupply")]
    assert added[:2] == [("mlr12.b1", 2, 5), ("mlr12.b2", 1, 16)]
    assert sum(a for u, a, _ in added if u == "mlr12.b1") == 13, "no record once full"


def test_no_resupply_without_co_production_or_an_anti_ship_role():
    w, sink = _session(game=engine.Game.load("alliance-2023"))
    w.littoral.batteries[("mlr12", "b1")].magazine = 3
    littoral.resupply(w)
    assert w.littoral.batteries[("mlr12", "b1")].magazine == 3
    base = engine.Game.load("baseline-2022")
    s = base.scenario.model_copy(update={"blue": base.scenario.blue.model_copy(update={
        "sustainment": GAME.scenario.blue.sustainment})})
    w, sink = _session(game=engine.Game(s, base.rules))
    w.littoral.batteries[("mlr12", "b1")].magazine = 3  # the artillery never fires at ships
    littoral.resupply(w)
    assert w.littoral.batteries[("mlr12", "b1")].magazine == 3 and not _of(sink,
                                                                           "littoral.resupply")


def test_resupply_arrives_at_the_start_of_each_turn():
    sink = ListSink()
    s = GAME.start(seed=0, sink=sink)
    s.step()
    s.w.littoral.batteries[("mlr12", "b1")].magazine = 4
    s.step()
    (rec,) = _of(sink, "littoral.resupply")
    assert rec["turn"] == 2 and rec["t"] == s.w.hours and rec["data"]["magazine"] == 6
    first_of_turn = next(r for r in sink if r["turn"] == 2)
    assert first_of_turn is rec, "before any order of the turn acts"
