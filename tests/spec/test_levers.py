"""Lever declarations: every numeric, boolean and categorical field of a scenario and a rule set
declares its expected direction, and the published JSON Schema says it in the field's
description."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from engine.io.schemas import input_schema
from engine.spec.levers import (
    INERT,
    KEY,
    declaration,
    describe_levers,
    lever,
    lever_fields,
    lever_kind,
    undeclared,
)
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

SCHEMAS = Path(__file__).resolve().parents[2] / "engine" / "data" / "schemas"


@pytest.mark.parametrize("root", [Scenario, Rules], ids=["scenario", "rules"])
def test_every_lever_field_declares_its_direction(root: type[BaseModel]) -> None:
    missing = undeclared(root)
    assert not missing, ("fields without a lever declaration (engine/spec/levers.py: lever): "
                         + ", ".join(missing))


def test_lever_fields_cover_numbers_flags_choices_tables_rows_and_domains() -> None:
    kinds = {f"{m.__name__}.{n}": k for root in (Scenario, Rules)
             for m, n, _, k in lever_fields(root)}
    assert kinds["IsrDetachment.aircraft"] == "int"
    assert kinds["IsrDetachment.availability"] == "float"
    assert kinds["LittoralRegiment.anti_ship"] == "bool"
    assert kinds["C2.command"] == "choice"
    assert kinds["DetectionTable.sorties_per_aircraft"] == "table"
    assert kinds["Theater.distances"] == "rows"
    assert kinds["Treaty.article5_domains"] == "choices"
    # names, ids and references are not levers
    assert "IsrDetachment.name" not in kinds and "IsrDetachment.base" not in kinds
    assert "IsrDetachment.zones" not in kinds and "Inject.params" not in kinds


def test_an_undeclared_field_is_found() -> None:
    class Toy(BaseModel):
        declared: int = Field(0, json_schema_extra=lever("+"))
        forgotten: float = 0.0
        label: str = ""

    assert undeclared(Toy) == ["Toy.forgotten"]
    assert lever_kind(Literal["a", "b"]) == "choice" and lever_kind(str) is None


def test_lever_refuses_unknown_directions_and_conditions() -> None:
    with pytest.raises(ValueError, match="direction"):
        lever("up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown condition"):
        lever("+", inert_when="never on tuesdays")
    with pytest.raises(ValueError, match="direction"):
        lever({"low": "+", "high": "more"})  # type: ignore[dict-item]


def test_a_direction_can_depend_on_where_the_field_is() -> None:
    """A Red action's gain: no sign claimed in general, "-" for an armed act."""
    from engine.io.loading import load_pair
    from engine.levers.params import parameters

    by_path = {p.path: p for p in parameters(*load_pair("alliance-2024"))}
    assert by_path["rules.actions.red.seize.gain"].direction == "-"
    assert by_path["rules.actions.red.seize.cost"].direction == "+"
    assert by_path["rules.actions.red.patrol.gain"].direction == "?"
    with pytest.raises(ValueError, match="unknown condition"):
        lever("?", where={"somewhere": "+"})


def test_a_declaration_reads_back() -> None:
    class Toy(BaseModel):
        tempo: dict[str, float] = Field({}, json_schema_extra={
            "required": ["low"], **lever({"low": "+", "high": "-"}, "why not",
                                         inert_when=["structural"])})

    decl = declaration(Toy.model_fields["tempo"])
    assert decl is not None and decl.direction_of("low") == "+"
    assert decl.direction_of("high") == "-" and decl.direction_of("other") == "?"
    assert decl.inert_when == ("structural",) and decl.why == "why not"


def test_the_description_hook_appends_the_declaration() -> None:
    schema = {"properties": {
        "p": {"type": "number", "description": "Chance.", KEY: {"direction": "+", "why": "w"}},
        "f": {"type": "boolean", KEY: {"direction": "-", "inert_when": ["no_cyber"]}},
        "c": {"enum": ["a", "b"], KEY: {"direction": "+", "order": ["a", "b"]}},
        "q": {"type": "number", KEY: {"direction": "?"}},
        "w": {"type": "number", KEY: {"direction": "?", "where": {"armed_act": "-"}}},
        "plain": {"type": "number", "description": "Untouched."}}}
    describe_levers(schema, object)
    props = schema["properties"]
    assert props["p"]["description"].startswith("Chance. Lever (+): raising it should raise")
    assert "Why: w." in props["p"]["description"]
    assert "switching it on should lower" in props["f"]["description"]
    assert INERT["no_cyber"] in props["f"]["description"]
    assert "moving along a < b should raise" in props["c"]["description"]
    assert "no sign claimed" in props["q"]["description"]
    assert props["plain"]["description"] == "Untouched."
    assert f"Where {INERT['armed_act']}: (-) raising it should lower" in props["w"]["description"]


@pytest.mark.parametrize("kind", ["scenario", "rules"])
def test_the_published_schema_describes_every_lever(kind: str) -> None:
    """Every property that carries a declaration says it in its description, in the schema
    the engine makes and in the shipped file."""
    for schema in (input_schema(kind),
                   json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))):
        found = 0
        for model in schema["$defs"].values():
            for prop in model.get("properties", {}).values():
                if KEY in prop:
                    found += 1
                    assert "Lever (" in prop["description"] or "Lever, per key" in prop[
                        "description"]
        assert found > 20
