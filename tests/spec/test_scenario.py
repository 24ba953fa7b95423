"""Built-in scenarios: they validate, round-trip, are frozen, and cross-references are checked."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

import engine
from engine.errors import ScenarioError
from engine.io.loading import (
    builtin_names,
    builtin_path,
    canonical_json,
    load_any,
    load_pair,
    load_scenario,
    parse_scenario,
)
from engine.spec.scenario import Scenario, reference_problems

DATA = Path(engine.__file__).resolve().parent / "data"
BUILTINS = builtin_names("scenarios")


def test_the_four_builtins_ship() -> None:
    assert {"alliance-2024", "alliance-2023", "baseline-2022", "classroom-tutorial"} <= set(
        BUILTINS)
    assert sorted(p.stem for p in (DATA / "scenarios").glob("*.yaml")) == BUILTINS


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_validates_by_name_and_path(name: str) -> None:
    by_name = load_scenario(name)
    path = builtin_path("scenarios", name)
    assert load_scenario(path) == by_name == load_any(path)
    assert by_name.meta.id == name
    assert reference_problems(by_name) == []


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_agrees_with_its_rule_set(name: str) -> None:
    scenario, rules = load_pair(name)
    assert rules.name == scenario.rules


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_round_trips_through_json(name: str) -> None:
    s = load_scenario(name)
    dumped = s.model_dump(mode="json")
    again = Scenario.model_validate(dumped)
    assert again == s
    assert again.model_dump(mode="json") == dumped
    assert canonical_json(again) == canonical_json(s)
    assert Scenario.model_validate_json(s.model_dump_json()) == s


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("sort_keys", [False, True])
def test_builtin_round_trips_through_yaml(name: str, sort_keys: bool) -> None:
    s = load_scenario(name)
    text = yaml.safe_dump(s.model_dump(mode="json"), sort_keys=sort_keys)
    assert parse_scenario(text, f"{name}-dumped.yaml") == s


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_starts_with_its_schema_line(name: str) -> None:
    path = builtin_path("scenarios", name)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = (path.parent / first[len(prefix):].strip()).resolve()
    assert target == (DATA / "schemas" / "scenario.schema.json").resolve()
    assert target.is_file()


def test_models_are_frozen() -> None:
    s = load_scenario("alliance-2024")
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        s.rules = "other"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        s.meta.title = "changed"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        s.blue.isr["mq9"].aircraft = 99  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        s.turns.count = 1  # type: ignore[misc]
    assert isinstance(s.theater.distances, tuple) and isinstance(s.injects, tuple)
    assert isinstance(s.blue.littoral["mlr12"].sites, tuple)
    assert hash(s.turns) == hash(s.turns.model_copy())


def test_distance_is_symmetric_and_zero_within_a_zone() -> None:
    s = load_scenario("alliance-2024")
    for a, b, nm in s.theater.distances:
        assert s.distance(a, b) == s.distance(b, a) == nm
    for z in s.theater.zones:
        assert s.distance(z, z) == 0.0


def test_unknown_keys_and_coercions_are_refused_by_the_model() -> None:
    data = load_scenario("alliance-2024").model_dump(mode="json")
    extra = copy.deepcopy(data)
    extra["meta"]["author"] = "someone"
    with pytest.raises(pydantic.ValidationError, match="extra"):
        Scenario.model_validate(extra)
    coerced = copy.deepcopy(data)
    coerced["blue"]["isr"]["mq9"]["aircraft"] = "8"
    with pytest.raises(pydantic.ValidationError):
        Scenario.model_validate(coerced)


# ---- cross-references: the dotted path of every problem ------------------------------------


def _change(path: str, value: Any) -> Callable[[dict], None]:
    def apply(data: dict) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _drop_distance(a: str, b: str) -> Callable[[dict], None]:
    def apply(data: dict) -> None:
        rows = data["theater"]["distances"]
        data["theater"]["distances"] = [x for x in rows if {x[0], x[1]} != {a, b}]

    return apply


REFERENCE_CASES = [
    ("battery-site", _change("blue.littoral.mlr12.batteries.b1.site", "kyushu"),
     "blue.littoral.mlr12.batteries.b1.site", "not one of the regiment's sites"),
    ("regiment-site", _change("blue.littoral.mlr12.sites.1", "atlantis"),
     "blue.littoral.mlr12.sites.1", "unknown zone 'atlantis'"),
    ("link-endpoint-a", _change("blue.c2.links.usfj-mlr.a", "ghost"),
     "blue.c2.links.usfj-mlr.a", "unknown C2 node 'ghost'"),
    ("link-endpoint-b", _change("blue.c2.links.japan-usfj.b", "ghost"),
     "blue.c2.links.japan-usfj.b", "unknown C2 node 'ghost'"),
    ("link-loop", _change("blue.c2.links.japan-usfj.b", "japan_hq"),
     "blue.c2.links.japan-usfj.b", "two different nodes"),
    ("isr-zone", _change("blue.isr.mq9.zones.2", "pacific"), "blue.isr.mq9.zones.2",
     "unknown zone 'pacific'"),
    ("isr-base", _change("blue.isr.mpa.base", "misawa"), "blue.isr.mpa.base",
     "unknown base 'misawa'"),
    ("isr-report-node", _change("blue.isr.mq9.report_node", "nowhere"),
     "blue.isr.mq9.report_node", "unknown C2 node 'nowhere'"),
    ("hq-node", _change("blue.littoral.mlr12.hq_node", "nowhere"),
     "blue.littoral.mlr12.hq_node", "unknown C2 node"),
    ("authority-node", _change("blue.c2.authority_node", "cabinet"), "blue.c2.authority_node",
     "unknown C2 node 'cabinet'"),
    ("base-zone", _change("theater.bases.naha.zone", "guam"), "theater.bases.naha.zone",
     "unknown zone 'guam'"),
    ("distance-zone", _change("theater.distances.4.0", "hokkaido"), "theater.distances.4.0",
     "unknown zone 'hokkaido'"),
    ("red-home", _change("red.groups.navy.home", "atlantis"), "red.groups.navy.home",
     "unknown zone 'atlantis'"),
    ("objective", _change("red.objective", "moon"), "red.objective", "unknown zone 'moon'"),
    ("partner-report-node", _change("blue.partners.australia.report_node", "canberra"),
     "blue.partners.australia.report_node", "unknown C2 node 'canberra'"),
    ("partner-zone", _change("blue.partners.india.zones.0", "indian_ocean"),
     "blue.partners.india.zones.0", "unknown zone 'indian_ocean'"),
    ("counterstrike-site", _change("blue.counterstrike.kyushu_ssm.site", "hokkaido"),
     "blue.counterstrike.kyushu_ssm.site", "unknown zone 'hokkaido'"),
    ("counterstrike-node", _change("blue.counterstrike.kyushu_ssm.node", "cabinet_office"),
     "blue.counterstrike.kyushu_ssm.node", "unknown C2 node 'cabinet_office'"),
    ("inject-turn", _change("injects.1.turn", 99), "injects.1.turn", "after the last turn"),
    ("isr-route", _drop_distance("kyushu", "ecs_north"), "blue.isr.mq9.zones.2",
     "no distance given"),
    ("red-route", _drop_distance("red_home", "disputed_islands"), "red.groups.militia.home",
     "no distance given"),
]


@pytest.mark.parametrize(("change", "path", "says"),
                         [pytest.param(c, p, m, id=i) for i, c, p, m in REFERENCE_CASES])
def test_cross_reference_problem_has_its_dotted_path(change: Callable[[dict], None],
                                                     path: str, says: str) -> None:
    data = load_scenario("alliance-2024").model_dump(mode="json")
    change(data)
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "refs.yaml")
    matching = [p for p in info.value.problems if p.field == path]
    assert matching, f"no problem at {path}: {info.value}"
    assert says in matching[0].message
    assert matching[0].line is not None and matching[0].file == "refs.yaml"
    # the located line is where the reference is written in the dumped text
    line_text = text.splitlines()[matching[0].line - 1]
    last = path.rpartition(".")[2]
    assert last in line_text or last.isdigit()


def test_reference_problems_collects_every_problem_at_once() -> None:
    s = load_scenario("alliance-2024")
    broken = s.model_copy(update={
        "red": s.red.model_copy(update={"objective": "moon"}),
        "turns": s.turns.model_copy(update={"count": 2}),
    })
    paths = [p for p, _ in reference_problems(broken)]
    assert "red.objective" in paths
    assert "injects.0.turn" in paths and "injects.1.turn" in paths
    assert all(p.startswith("red.groups.") for p in paths
               if p not in {"red.objective", "injects.0.turn", "injects.1.turn"})
