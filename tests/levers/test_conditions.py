"""Inert conditions: every name of the registry has a test, and each test reads the scenario the
way the mechanics do."""

from __future__ import annotations

import pytest

from engine.io.loading import load_pair
from engine.levers.conditions import TESTS, attacked_links, holds
from engine.spec.levers import INERT
from engine.spec.scenario import with_values


@pytest.fixture(scope="module")
def y2024():
    return load_pair("alliance-2024")


@pytest.fixture(scope="module")
def y2022():
    return load_pair("baseline-2022")


def test_every_registered_condition_has_a_test() -> None:
    assert set(TESTS) == set(INERT)


def test_regiment_conditions(y2022, y2024) -> None:
    assert holds("no_anti_ship", *y2022, "blue.littoral.mlr12.p_hit")
    assert not holds("no_anti_ship", *y2024, "blue.littoral.mlr12.p_hit")
    assert holds("no_sensor", *y2022, "blue.littoral.mlr12.sensor_kts")
    assert holds("never_moves", *y2022, "blue.littoral.mlr12.displace_h")
    assert holds("unarmed", *y2022, "blue.littoral.mlr12.anti_ship")  # no missiles, 40 nm
    assert not holds("unarmed", *y2024, "blue.littoral.mlr12.anti_ship")
    assert not holds("never_moves", *y2024, "blue.littoral.mlr12.displace_h")


def test_zone_conditions(y2024) -> None:
    s, r = y2024
    assert not holds("zone_not_searched", s, r, f"theater.zones.{s.red.objective}.area_nm2")
    assert holds("zone_not_searched", s, r, "theater.zones.kyushu.area_nm2")  # Red never there
    assert holds("zone_not_objective", s, r, "theater.zones.kyushu.claimed_by")
    assert not holds("zone_not_objective", s, r, f"theater.zones.{s.red.objective}.claimed_by")


def test_distance_conditions(y2024) -> None:
    s, r = y2024
    rows = {frozenset((a, b)): i for i, (a, b, _) in enumerate(s.theater.distances)}
    home = s.red.groups["navy"].home
    used = rows[frozenset((home, s.red.objective))]
    assert not holds("distance_unused", s, r, f"theater.distances.{used}.2")
    unused = rows[frozenset(("kyushu", "amami"))]  # no base, site or Red zone pair
    assert holds("distance_unused", s, r, f"theater.distances.{unused}.2")


def test_red_attacks_reach_its_cyber_target_and_the_links_through_space(y2024) -> None:
    s, r = y2024
    attacked = attacked_links(s, r)
    assert {lid for lid, x in s.blue.c2.links.items() if x.via_space} <= attacked
    assert len(attacked - {lid for lid, x in s.blue.c2.links.items() if x.via_space}) <= 1
    spared = sorted(set(s.blue.c2.links) - attacked)
    assert spared and holds("not_attacked", s, r, f"blue.c2.links.{spared[0]}.hardened")
    quiet = s.model_copy(update={"red": s.red.model_copy(update={"cyber": {},
                                                                 "counterspace": {}})})
    assert attacked_links(quiet, r) == set()
    assert holds("node_never_degraded", quiet, r, "blue.c2.nodes.usfj.recovery_h")


def test_link_and_node_conditions(y2024) -> None:
    s, r = y2024
    assert not holds("link_unused", s, r, "blue.c2.links.usfj-mlr.latency_h")
    alone = with_values(s, {"red.cyber.apt.p_success": 0.5})
    assert not holds("node_never_degraded", alone, r, "blue.c2.nodes.usfj.recovery_h")
    assert not holds("no_cyber", s, r, "blue.c2.links.usfj-mlr.hardened")
    assert holds("command_unused", s, r, "rules.adjudication.c2.command_latency_factor.separate")
    assert not holds("command_unused", s, r,
                     f"rules.adjudication.c2.command_latency_factor.{s.blue.c2.command}")


def test_doctrine_conditions(y2024) -> None:
    s, r = y2024
    assert holds("tempo_unused", s, r, "rules.adjudication.detection.sorties_per_aircraft.low")
    assert not holds("tempo_unused", s, r,
                     "rules.adjudication.detection.sorties_per_aircraft.surge")
    assert not holds("tempo_unused", s, r,
                     "rules.adjudication.detection.sorties_per_aircraft.normal")
    assert holds("blue_action", s, r, "rules.actions.blue.hold.gain")
    assert not holds("blue_action", s, r, "rules.actions.red.seize.gain")
    assert holds("never_ordered", s, r, "rules.actions.blue.hold.effect")
    assert not holds("never_ordered", s, r, "rules.actions.blue.isr_tempo.effect")
    assert holds("armed_act", s, r, "rules.actions.red.seize.gain")
    assert not holds("armed_act", s, r, "rules.actions.red.incursion.gain")
    assert not holds("armed_act", s, r, "rules.actions.blue.hold.gain")
    assert holds("first_group", s, r, "rules.ladder.groups.0.firebreak")
    assert not holds("first_group", s, r, "rules.ladder.groups.1.firebreak")


def test_red_conditions(y2024) -> None:
    s, r = y2024
    assert holds("not_navy", s, r, "red.groups.militia.ships")
    assert not holds("not_navy", s, r, "red.groups.navy.ships")
    assert not holds("no_red_missiles", s, r, "rules.adjudication.strike.p_hit")
    assert not holds("red_unable", s, r, "rules.actions.red.cyber_disrupt.gain")
    no_cyber = s.model_copy(update={"red": s.red.model_copy(update={"cyber": {}})})
    assert holds("red_unable", no_cyber, r, "rules.actions.red.cyber_disrupt.gain")
    assert holds("no_cyber", no_cyber, r, "blue.c2.links.usfj-mlr.hardened")
