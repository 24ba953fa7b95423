"""The published JSON Schemas and the loader agree, file by file: a JSON Schema validator and
``wargame validate``'s own validation accept and refuse the same documents.

The schemas (``wargame schema scenario|rules``, shipped in engine/data/schemas) say what each
field may hold; the loader checks more than a schema can express: references between parts,
the notional statement, the rules' effects, the run-size budget. Those checks raise pydantic
``value_error``s and nothing else, so the agreement is exact: a document passes the schema if
and only if the loader finds nothing wrong with it but such cross-checks.

The validator reads the schema as a YAML author means it, where JSON Schema validators written
for JSON differ: an ``integer`` is a number written as one (``8``, not ``8.0``: JSON has one kind
of number, so plain validators accept 8.0, which docs/authoring.md says), and a ``pattern`` ends
at the end of the text, as ECMA-262 regular expressions (which JSON Schema prescribes) do, not
before a final newline as Python's do. A document JSON cannot hold (``.nan``, ``.inf``) is refused
as not JSON.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from corners import DATA, RULES, SCENARIO, bounds, leaves, schema_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import BaseModel, ValidationError

from engine.errors import InputError
from engine.io.loading import builtin_names, builtin_path, parse_rules, parse_scenario, read_yaml
from engine.io.schemas import input_schema
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

MODELS: dict[str, type[BaseModel]] = {"scenario": Scenario, "rules": Rules}
SHIPPED = {kind: json.loads((DATA / "schemas" / f"{kind}.schema.json").read_text("utf-8"))
           for kind in MODELS}


def _ecma_pattern(validator: Any, pattern: str, instance: Any,
                  schema: dict[str, Any]) -> Iterator[SchemaError]:
    if not validator.is_type(instance, "string"):
        return
    ecma = re.sub(r"(?<!\\)\$$", r"\\Z", pattern)  # $ ends the text (ECMA-262)
    if not re.search(ecma, instance):
        yield SchemaError(f"{instance!r} does not match {pattern!r}")


YamlValidator = validators.extend(
    Draft202012Validator, validators={"pattern": _ecma_pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool)))
VALIDATORS = {kind: YamlValidator(schema) for kind, schema in SHIPPED.items()}


def test_the_shipped_schemas_are_the_generated_ones_and_valid_json_schema() -> None:
    for kind, schema in SHIPPED.items():
        assert schema == input_schema(kind), f"stale {kind} schema: run `make schemas`"
        Draft202012Validator.check_schema(schema)


# ---- the two verdicts ------------------------------------------------------------------------


def engine_verdict(kind: str, text: str) -> str:
    """"accept", "cross-check" (only checks a schema cannot express failed) or "reject"."""
    doc = read_yaml(text, f"{kind}.yaml")
    try:
        MODELS[kind].model_validate(doc.data)
    except ValidationError as e:
        types = {err["type"] for err in e.errors()}
        verdict = "cross-check" if types == {"value_error"} else "reject"
    else:
        verdict = "accept"
    # the loader proper (what `wargame validate` runs) refuses exactly when the model does
    parse = parse_scenario if kind == "scenario" else parse_rules
    try:
        parse(text, f"{kind}.yaml")
    except InputError:
        assert verdict != "accept"
    else:
        assert verdict == "accept"
    return verdict


def schema_accepts(kind: str, text: str) -> bool:
    data = read_yaml(text, f"{kind}.yaml").data
    try:
        as_json = json.loads(json.dumps(data, allow_nan=False))
    except ValueError:  # .nan or .inf: not JSON, so not a document the schema describes
        return False
    return bool(VALIDATORS[kind].is_valid(as_json))


def assert_agree(kind: str, text: str) -> str:
    verdict = engine_verdict(kind, text)
    schema_ok = schema_accepts(kind, text)
    if schema_ok != (verdict != "reject"):
        data = read_yaml(text, "x").data
        errors = [e.message for e in VALIDATORS[kind].iter_errors(
            json.loads(json.dumps(data, allow_nan=False, default=str)))][:3]
        try:
            MODELS[kind].model_validate(data)
        except ValidationError as e:
            mine = [(err["type"], err["loc"], err["msg"]) for err in e.errors()][:3]
        else:
            mine = []
        raise AssertionError(f"schema {'accepts' if schema_ok else 'refuses'} what the loader "
                             f"finds {verdict}: schema says {errors}, loader says {mine}")
    return verdict


# ---- the built-ins and hand-written files ----------------------------------------------------

BUILTINS = [builtin_path("scenarios", n) for n in builtin_names("scenarios")] + [
    builtin_path("rules", n) for n in builtin_names("rules")]


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_builtins_pass_both(path: Path) -> None:
    kind = "rules" if path.parent.name == "rules" else "scenario"
    assert assert_agree(kind, path.read_text(encoding="utf-8")) == "accept"


TUTORIAL_TEXT = (DATA / "scenarios" / "classroom-tutorial.yaml").read_text("utf-8")
RULES_TEXT = (DATA / "rules" / "standard.yaml").read_text("utf-8")

# (id, kind, old text, new text, the verdict both must reach)
HAND = [
    ("yes-for-true", "scenario", "anti_ship: true", "anti_ship: yes", "reject"),
    ("on-for-true", "scenario", "hardened: true", "hardened: on", "reject"),
    ("off-for-false", "scenario", "hardened: true", "hardened: off", "reject"),
    ("True-capital", "scenario", "anti_ship: true", "anti_ship: True", "accept"),
    ("quoted-true", "scenario", "anti_ship: true", 'anti_ship: "true"', "reject"),
    ("one-for-true", "scenario", "anti_ship: true", "anti_ship: 1", "reject"),
    ("int-as-float", "scenario", "aircraft: 4", "aircraft: 4.0", "reject"),
    ("int-as-exponent", "scenario", "aircraft: 4", "aircraft: 4e0", "reject"),
    ("int-as-text", "scenario", "aircraft: 4", 'aircraft: "4"', "reject"),
    ("int-hex", "scenario", "aircraft: 4", "aircraft: 0x4", "accept"),
    ("int-octal", "scenario", "aircraft: 4", "aircraft: 0o4", "accept"),
    ("int-leading-zero", "scenario", "aircraft: 4", "aircraft: 04", "accept"),
    ("int-underscore", "scenario", "aircraft: 4", "aircraft: 1_0", "reject"),
    ("float-as-int", "scenario", "area_nm2: 12000", "area_nm2: 12000", "accept"),
    ("float-exponent", "scenario", "area_nm2: 12000", "area_nm2: 1.2e4", "accept"),
    ("float-exponent-no-dot", "scenario", "area_nm2: 12000", "area_nm2: 12e3", "accept"),
    ("float-leading-dot", "scenario", "availability: 0.8", "availability: .8", "accept"),
    ("float-inf", "scenario", "area_nm2: 12000", "area_nm2: .inf", "reject"),
    ("float-nan", "scenario", "availability: 0.8", "availability: .nan", "reject"),
    ("float-too-big", "scenario", "area_nm2: 12000", "area_nm2: 1e300", "reject"),
    ("float-at-max", "scenario", "area_nm2: 12000", "area_nm2: 100000000", "accept"),
    ("float-text", "scenario", "area_nm2: 12000", "area_nm2: '12000'", "reject"),
    ("float-null", "scenario", "availability: 0.8", "availability: null", "reject"),
    ("float-tilde", "scenario", "availability: 0.8", "availability: ~", "reject"),
    ("count-huge", "scenario", "launchers: 4", "launchers: " + "9" * 101, "reject"),
    ("count-at-max", "scenario", "launchers: 4", "launchers: 100", "accept"),
    ("count-over-max", "scenario", "launchers: 4", "launchers: 101", "reject"),
    ("count-negative", "scenario", "launchers: 4", "launchers: -1", "reject"),
    ("date-text", "scenario", "  title: First lesson", "  title: 2024-01-01", "accept"),
    ("yes-text", "scenario", "  title: First lesson", "  title: yes", "accept"),
    ("number-for-text", "scenario", "name: Kyushu,", "name: 12,", "reject"),
    ("empty-text", "scenario", "name: Kyushu,", "name: '',", "reject"),
    ("long-text", "scenario", "  title: First lesson", "  title: " + "x" * 2001, "reject"),
    ("long-summary", "scenario", "  summary: Small", "  summary: " + "x" * 200, "reject"),
    ("key-upper", "scenario", "    kyushu: {", "    Kyushu: {", "reject"),
    ("key-space", "scenario", "    kyushu: {", "    'kyu shu': {", "reject"),
    ("key-digit", "scenario", "    kyushu: {", "    9kyushu: {", "reject"),
    ("key-int", "scenario", "    kyushu: {", "    9: {", "reject"),
    ("key-true", "scenario", "    kyushu: {", "    true: {", "cross-check"),
    ("key-yes", "scenario", "    kyushu: {", "    yes: {", "cross-check"),
    ("key-long", "scenario", "    kyushu: {", "    " + "k" * 49 + ": {", "reject"),
    ("key-at-max", "scenario", "    kyushu: {", "    " + "k" * 48 + ": {",
     "cross-check"),
    ("key-unicode", "scenario", "    kyushu: {", "    kyūshū: {", "reject"),
    ("key-newline", "scenario", "    kyushu: {", '    "kyushu\\n": {', "reject"),
    ("id-newline", "scenario", "  id: classroom-tutorial", '  id: "classroom-tutorial\\n"',
     "reject"),
    ("unknown-key", "scenario", "  hours: 24", "  hours: 24\n  minutes: 0", "reject"),
    ("missing-key", "scenario", "  hours: 24\n", "", "reject"),
    ("literal-wrong", "scenario", "kind: land", "kind: mountain", "reject"),
    ("list-for-tuple", "scenario", "- [kyushu, sakishima, 600]",
     "- [kyushu, sakishima, 600, 1]", "reject"),
    ("too-many-members", "scenario", "members: [United States, Japan]",
     "members: [" + ", ".join(["m"] * 31) + "]", "reject"),
    ("inject-param-list", "scenario", "    note: \"Umpire",
     "    params: {x: [1]}\n    note: \"Umpire", "reject"),
    ("inject-param-null", "scenario", "    note: \"Umpire",
     "    params: {x: null}\n    note: \"Umpire", "reject"),
    ("inject-param-nan", "scenario", "    note: \"Umpire",
     "    params: {x: .nan}\n    note: \"Umpire", "reject"),
    # what only the loader checks: the schema accepts, the loader finds a cross-check (the
    # renamed zones above keep a valid key, but kyushu is still named by a base)
    ("ref-unknown-zone", "scenario", "base: kanoya", "base: nowhere", "cross-check"),
    ("not-notional", "scenario", "  notional: All capability values are notional, illustrative",
     "  notional: All capability values are real, measured", "cross-check"),
    ("budget", "scenario", ("aircraft: 4", "  count: 5"), ("aircraft: 100", "  count: 365"),
     "cross-check"),
    ("year", "scenario", "  count: 5\n  hours: 24", "  count: 365\n  hours: 168",
     "cross-check"),
    ("rules-sortie-missing", "rules", "{low: 0.25, normal: 0.5, surge: 0.75}",
     "{low: 0.25, normal: 0.5}", "reject"),
    ("rules-sortie-extra", "rules", "{low: 0.25, normal: 0.5, surge: 0.75}",
     "{low: 0.25, normal: 0.5, surge: 0.75, max: 2}", "reject"),
    ("rules-sortie-over", "rules", "surge: 0.75}", "surge: 7}", "reject"),
    ("rules-sigma", "rules", "latency_sigma: 0.5", "latency_sigma: 40", "reject"),
    ("rules-doctrine-red", "rules", "doctrine:\n  blue:", "doctrine:\n  red:", "reject"),
    ("rules-choices-empty", "rules", "{choices: [low, normal, surge], default: normal}",
     "{choices: [], default: normal}", "reject"),
    ("rules-level-float", "rules", "{id: routine, level: 0,", "{id: routine, level: 0.0,",
     "reject"),
    ("rules-effect-side", "rules", "      effect: hold\n      signals: routine\n    isr",
     "      effect: strike\n      signals: routine\n    isr", "cross-check"),
    ("rules-param-both", "rules", "{choices: [low, normal, surge], default: normal}",
     "{choices: [low, normal, surge], kind: zone}", "cross-check"),
    ("rules-condition", "rules", '"outages_seen > 0"', '"outages_seen is high"',
     "cross-check"),
    ("rules-condition-long", "rules", '"outages_seen > 0"', '"' + "x" * 201 + '"', "reject"),
]


@pytest.mark.parametrize(("kind", "old", "new", "verdict"), [h[1:] for h in HAND],
                         ids=[h[0] for h in HAND])
def test_hand_written_files_get_the_same_verdict(kind: str, old: str | tuple[str, ...],
                                                 new: str | tuple[str, ...], verdict: str,
                                                 tmp_path: Path) -> None:
    text = TUTORIAL_TEXT if kind == "scenario" else RULES_TEXT
    for a, b in zip(*((old, new) if isinstance(old, tuple) else ((old,), (new,))), strict=True):
        assert a in text, a
        text = text.replace(a, b, 1)
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")
    assert assert_agree(kind, path.read_text(encoding="utf-8")) == verdict


def test_a_json_validator_cannot_tell_8_from_8_0() -> None:
    """The one difference left, and why the test's validator reads integers as YAML does:
    JSON has one kind of number, so a validator following JSON Schema to the letter takes 8.0
    as an integer; `wargame validate` asks for 8."""
    text = TUTORIAL_TEXT.replace("aircraft: 4", "aircraft: 4.0", 1)
    data = read_yaml(text, "x").data
    assert Draft202012Validator(SHIPPED["scenario"]).is_valid(data)
    assert not VALIDATORS["scenario"].is_valid(data)
    assert engine_verdict("scenario", text) == "reject"
    assert "8, not 8.0" in SHIPPED["scenario"]["$comment"]


# ---- generated files -------------------------------------------------------------------------

PATHS = {kind: [p for p, _ in leaves(data)] + _containers
         for kind, data, _containers in (
             ("scenario", SCENARIO, [("theater", "zones"), ("blue", "c2", "links"),
                                     ("red", "groups"), ("sides", "blue", "members")]),
             ("rules", RULES, [("actions", "blue"), ("doctrine", "blue"),
                               ("adjudication", "detection", "sorties_per_aircraft")]))}
KEYS = st.sampled_from(["x", "zz_new", "Upper", "with space", "9lives", "k" * 48, "k" * 49,
                        "true", "ünï", "name", "kind", "level", ""])
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.sampled_from(
        [0, 1, -1, 0.5, 1.0, 8.0, 1e300, -1e300, float("inf"), float("nan"), 10**100, 2**63]),
    st.text(max_size=12), st.sampled_from(["yes", "no", "on", "low", "x" * 2001, "8", ""]),
    st.lists(st.integers(0, 3), max_size=3), st.dictionaries(KEYS, st.integers(0, 3),
                                                             max_size=2))


def _near(sub: dict[str, Any]) -> list[Any]:
    """Values at, inside and just beyond a numeric field's bounds, in its own type and the
    other (about half of them valid)."""
    lo, hi = bounds(sub)
    out: list[Any] = [lo, hi, lo, hi, hi + 1, lo - 1, hi * 10, -hi]
    if sub["type"] == "integer":
        out += [(lo + hi) // 2, float(hi), float(lo), 10**100]
    else:
        out += [int(hi), (lo + hi) / 2, lo + (hi - lo) / 1000, float(hi)]
    return out


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> str:
    data = copy.deepcopy(SCENARIO if kind == "scenario" else RULES)
    schema = SHIPPED[kind]
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(PATHS[kind]))
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            value = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        op = draw(st.sampled_from(["near"] * 4 + ["odd", "odd", "delete", "insert", "grow"]))
        sub = schema_at(schema, path)
        if op == "near" and sub and sub.get("type") in ("integer", "number"):
            parent[path[-1]] = draw(st.sampled_from(_near(sub)))
        elif op == "near" and isinstance(value, bool):
            parent[path[-1]] = not value
        elif op == "near" and isinstance(value, str):  # text, an id, or a word of a vocabulary
            parent[path[-1]] = draw(st.sampled_from([value, value.upper(), f"{value}_2",
                                                     "yes", "x" * 48, "x" * 2000]))
        elif op == "delete":
            del parent[path[-1]]
        elif op == "insert" and isinstance(value, dict):
            value[draw(KEYS)] = draw(st.one_of(ODD, st.just(copy.deepcopy(
                next(iter(value.values()), 0)))))
        elif op == "grow" and isinstance(value, list | dict) and value:
            limit = (sub or {}).get("maxItems", (sub or {}).get("maxProperties", 3))
            extra = draw(st.sampled_from([1, limit - len(value), limit - len(value) + 1]))
            for i in range(max(0, extra)):
                item = copy.deepcopy(value[0] if isinstance(value, list)
                                     else next(iter(value.values())))
                if isinstance(value, list):
                    value.append(item)
                else:
                    value[f"extra_{i}"] = item
        else:
            parent[path[-1]] = draw(ODD)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


SETTINGS = settings(max_examples=80, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(mutated("scenario"))
def test_generated_scenarios_get_the_same_verdict(text: str) -> None:
    assert_agree("scenario", text)


@SETTINGS
@given(mutated("rules"))
def test_generated_rules_get_the_same_verdict(text: str) -> None:
    assert_agree("rules", text)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(["scenario", "rules"]).flatmap(
    lambda k: st.tuples(st.just(k), mutated(k))))
def test_many_generated_files_get_the_same_verdict(kind_and_text: tuple[str, str]) -> None:
    assert_agree(*kind_and_text)
