"""JSON Schemas of the input formats, as published by ``wargame schema`` and shipped files."""

from __future__ import annotations

import json

from pydantic import BaseModel

from engine.io.logschema import log_json_schema
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

MODELS: dict[str, type[BaseModel]] = {"scenario": Scenario, "rules": Rules}


def json_schema(kind: str) -> str:
    """The JSON Schema text for ``scenario``, ``rules`` or ``log`` (KeyError otherwise)."""
    if kind == "log":
        return json.dumps(log_json_schema(), indent=2, sort_keys=True) + "\n"
    model = MODELS[kind]
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
