"""Enumerating levers: every lever path of a (scenario, rules) pair with its value, bounds and
declaration; applying values revalidates and says why a value is refused."""

from __future__ import annotations

import pytest

from engine.io.loading import load_pair
from engine.levers.params import Invalid, apply, parameters


@pytest.fixture(scope="module")
def pair():
    return load_pair("alliance-2024")


@pytest.fixture(scope="module")
def by_path(pair):
    return {p.path: p for p in parameters(*pair)}


def test_scalars_carry_value_kind_and_bounds(by_path) -> None:
    aircraft = by_path["blue.isr.mq9.aircraft"]
    assert (aircraft.kind, aircraft.value, aircraft.lo, aircraft.hi) == ("int", 8, 0, 100)
    avail = by_path["blue.isr.mq9.availability"]
    assert avail.kind == "float" and avail.probability
    endurance = by_path["blue.isr.mq9.endurance_h"]
    assert endurance.lo == 0 and endurance.lo_open and not endurance.probability
    command = by_path["blue.c2.command"]
    assert command.kind == "choice" and "separate" in command.choices


def test_tables_rows_and_domains_become_one_lever_per_entry(by_path) -> None:
    surge = by_path["rules.adjudication.detection.sorties_per_aircraft.surge"]
    assert surge.key == "surge" and surge.kind == "float" and surge.hi == 6
    distance = by_path["theater.distances.0.2"]
    assert distance.kind == "float" and distance.value > 0
    assert "theater.distances.0.0" not in by_path  # a zone id, not a lever
    domains = by_path["treaty.article5_domains"]
    assert domains.kind == "choices" and set(domains.choices) == {"land_sea_air", "cyber",
                                                                  "space"}


def test_labels_and_references_are_not_levers(by_path) -> None:
    assert not any(p.endswith((".name", ".report_node", ".label", ".note")) for p in by_path)
    assert "blue.isr.mq9.base" not in by_path and "red.objective" not in by_path
    assert not any(p.startswith(("meta.", "sides.")) for p in by_path)


def test_rules_paths_carry_the_prefix(by_path) -> None:
    assert "rules.red_model.rationality" in by_path
    assert by_path["rules.red_model.rationality"].in_rules
    assert not by_path["blue.isr.mq9.aircraft"].in_rules


def test_apply_sets_values_in_both_and_revalidates(pair) -> None:
    s, r = apply(*pair, {"blue.isr.mq9.aircraft": 2, "rules.red_model.rationality": 3.0,
                         "rules.adjudication.detection.sorties_per_aircraft.low": 0.1})
    assert s.blue.isr["mq9"].aircraft == 2 and r.red_model.rationality == 3.0
    assert r.adjudication.detection.sorties_per_aircraft["low"] == 0.1
    assert pair[0].blue.isr["mq9"].aircraft == 8  # the originals are untouched


def test_apply_says_why_a_value_is_refused(pair) -> None:
    with pytest.raises(Invalid, match="level"):
        apply(*pair, {"rules.ladder.groups.0.rungs.1.level": 0})  # below the rung under it
    with pytest.raises(Invalid, match="less than or equal to 1"):
        apply(*pair, {"blue.isr.mq9.availability": 2.0})
    with pytest.raises(KeyError):
        apply(*pair, {"blue.isr.nothing.aircraft": 1})
