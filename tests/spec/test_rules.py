"""The built-in rule set: it validates, round-trips, is frozen, and its references are checked."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

import engine
from engine.errors import RulesError
from engine.io.loading import (
    builtin_names,
    builtin_path,
    canonical_json,
    load_any,
    load_rules,
    parse_rules,
)
from engine.spec.rules import FACTS, Rules, parse_condition, reference_problems

DATA = Path(engine.__file__).resolve().parent / "data"


def test_standard_ships() -> None:
    assert "standard" in builtin_names("rules")


def test_standard_validates_by_name_and_path() -> None:
    rules = load_rules()
    path = builtin_path("rules", "standard")
    assert load_rules("standard") == load_rules(path) == load_any(path) == rules
    assert rules.name == "standard"
    assert reference_problems(rules) == []


def test_round_trip_through_json() -> None:
    rules = load_rules()
    dumped = rules.model_dump(mode="json")
    again = Rules.model_validate(dumped)
    assert again == rules
    assert again.model_dump(mode="json") == dumped
    assert canonical_json(again) == canonical_json(rules)
    assert Rules.model_validate_json(rules.model_dump_json()) == rules


@pytest.mark.parametrize("sort_keys", [False, True])
def test_round_trip_through_yaml(sort_keys: bool) -> None:
    rules = load_rules()
    text = yaml.safe_dump(rules.model_dump(mode="json"), sort_keys=sort_keys)
    assert parse_rules(text, "dumped.yaml") == rules


def test_starts_with_its_schema_line() -> None:
    path = builtin_path("rules", "standard")
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = (path.parent / first[len(prefix):].strip()).resolve()
    assert target == (DATA / "schemas" / "rules.schema.json").resolve()


def test_models_are_frozen() -> None:
    rules = load_rules()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        rules.name = "other"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        rules.red_model.rationality = 9.0  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        rules.actions.blue["hold"].label = "x"  # type: ignore[misc]
    assert isinstance(rules.ladder.groups, tuple)
    assert isinstance(rules.doctrine["blue"], tuple)


def test_ladder_levels_increase_and_threshold_is_a_rung() -> None:
    rules = load_rules()
    levels = [r.level for r in rules.ladder.rungs()]
    assert levels == sorted(set(levels))
    threshold = rules.ladder.armed_attack_threshold
    assert rules.rung_level(threshold) == rules.ladder.level(threshold)


@pytest.mark.parametrize(("text", "parsed"), [
    ("rung >= gray_zone_presence", ("rung", ">=", "gray_zone_presence")),
    ("  incursions_seen==0 ", ("incursions_seen", "==", "0")),
    ("links_degraded != 1.5", ("links_degraded", "!=", "1.5")),
    ("turn < 3", ("turn", "<", "3")),
])
def test_parse_condition(text: str, parsed: tuple[str, str, str]) -> None:
    assert parse_condition(text) == parsed


@pytest.mark.parametrize(("text", "says"), [
    ("rung", "not of the form"),
    ("rung => brink", "not of the form"),
    ("__import__('os') == 1", "not of the form"),
    ("mood >= 3", "unknown fact 'mood'"),
    ("", "not of the form"),
])
def test_parse_condition_refuses(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_condition(text)


def test_every_fact_is_documented() -> None:
    assert all(isinstance(v, str) and v for v in FACTS.values())
    for fact in FACTS:
        assert parse_condition(f"{fact} >= 0")[0] == fact


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


def _rung(name: str) -> tuple[int, int]:
    """(group index, rung index) of a rung of the standard ladder."""
    for g, group in enumerate(load_rules().ladder.groups):
        for i, rung in enumerate(group.rungs):
            if rung.id == name:
                return g, i
    raise LookupError(name)


def _doctrine(action: str) -> int:
    return next(i for i, rule in enumerate(load_rules().doctrine["blue"]) if rule.do == action)


def _swap_levels(data: dict) -> None:
    g, i = _rung("signalling")
    data["ladder"]["groups"][g]["rungs"][i]["level"] = 60


def _duplicate_rung(data: dict) -> None:
    g, i = _rung("brink")
    data["ladder"]["groups"][g]["rungs"][i]["id"] = "routine"


REFERENCE_CASES = [
    ("threshold", _change("ladder.armed_attack_threshold", "war"),
     "ladder.armed_attack_threshold", "unknown rung 'war'"),
    ("rung-order", _swap_levels, "ladder.groups", "must be above"),
    ("rung-duplicate", _duplicate_rung, "ladder.groups", "appears more than once"),
    ("signals", _change("actions.red.patrol.signals", "calm"), "actions.red.patrol.signals",
     "unknown rung 'calm'"),
    ("precondition-text", _change("actions.blue.authorize_engagement.preconditions",
                                  ["rung is high"]),
     "actions.blue.authorize_engagement.preconditions.0", "not of the form"),
    ("precondition-rung", _change("actions.blue.authorize_engagement.preconditions",
                                  ["rung >= summit"]),
     "actions.blue.authorize_engagement.preconditions.0", "unknown rung 'summit'"),
]


def _doctrine_cases() -> list[Any]:
    i = _doctrine("harden_c2")
    j = _doctrine("isr_tempo")
    return [
        ("doctrine-action", _change(f"doctrine.blue.{i}.do", "reboot"), f"doctrine.blue.{i}.do",
         "unknown Blue action 'reboot'"),
        ("doctrine-red-action", _change(f"doctrine.blue.{i}.do", "patrol"),
         f"doctrine.blue.{i}.do", "unknown Blue action 'patrol'"),
        ("condition-text", _change(f"doctrine.blue.{i}.when", ["links are down"]),
         f"doctrine.blue.{i}.when.0", "not of the form"),
        ("condition-fact", _change(f"doctrine.blue.{i}.when", ["mood > 0"]),
         f"doctrine.blue.{i}.when.0", "unknown fact 'mood'"),
        ("condition-second", _change(f"doctrine.blue.{i}.when", ["turn > 1", "panic > 0"]),
         f"doctrine.blue.{i}.when.1", "unknown fact 'panic'"),
        ("condition-rung", _change(f"doctrine.blue.{i}.when", ["rung >= summit"]),
         f"doctrine.blue.{i}.when.0", "unknown rung 'summit'"),
        ("condition-number", _change(f"doctrine.blue.{i}.when", ["links_degraded > many"]),
         f"doctrine.blue.{i}.when.0", "expected a number"),
        ("doctrine-param", _change(f"doctrine.blue.{j}.params", {"speed": "normal"}),
         f"doctrine.blue.{j}.params.speed", "no parameter 'speed'"),
        ("doctrine-choice", _change(f"doctrine.blue.{j}.params", {"level": "max"}),
         f"doctrine.blue.{j}.params.level", "expected one of"),
    ]


@pytest.mark.parametrize(("change", "path", "says"), [
    pytest.param(c, p, m, id=i) for i, c, p, m in REFERENCE_CASES + _doctrine_cases()])
def test_cross_reference_problem_has_its_dotted_path(change: Callable[[dict], None],
                                                     path: str, says: str) -> None:
    data = copy.deepcopy(load_rules().model_dump(mode="json"))
    change(data)
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(RulesError) as info:
        parse_rules(text, "refs.yaml")
    matching = [p for p in info.value.problems if p.field == path]
    assert matching, f"no problem at {path}: {info.value}"
    assert says in matching[0].message
    assert matching[0].file == "refs.yaml" and matching[0].line is not None


@pytest.mark.parametrize(("path", "value", "says"), [
    ("actions.blue.isr_tempo.params.level", {"choices": ["a"], "kind": "zone"},
     "exactly one of"),
    ("actions.blue.isr_tempo.params.level", {}, "exactly one of"),
    ("actions.blue.isr_tempo.params.level", {"choices": ["a", "b"], "default": "c"},
     "not one of"),
    ("actions.blue.isr_tempo.params.level", {"choices": []}, "at least 1 item"),
    ("actions.blue.hold.effect", "teleport", "hold"),
    ("actions.red.patrol.domain", "undersea", "cyber"),
    ("red_model.rationality", 51.0, "less than or equal to 50"),
    ("red_model.belief_rate", -0.1, "greater than or equal to 0"),
    ("doctrine", {"red": []}, "'blue'"),
])
def test_field_problems(path: str, value: Any, says: str) -> None:
    data = load_rules().model_dump(mode="json")
    _change(path, value)(data)
    with pytest.raises(RulesError) as info:
        parse_rules(yaml.safe_dump(data), "fields.yaml")
    assert any(says in p.message for p in info.value.problems), str(info.value)
    assert all(p.line is not None for p in info.value.problems)
