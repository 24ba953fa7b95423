"""JSON Schemas of the input formats, as published by ``wargame schema`` and shipped files.

The scenario and rules schemas are pydantic's, with two additions: the keys of every id-keyed
map are constrained (``propertyNames``), as the loader constrains them, and a ``$comment`` says
what a schema cannot express. ``tests/spec/test_schema_agreement.py`` holds the loader and a
JSON Schema validator to the same verdict on a corpus of files.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from engine.io.logschema import log_json_schema
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

MODELS: dict[str, type[BaseModel]] = {"scenario": Scenario, "rules": Rules}

COMMENT = ("Written for YAML 1.2 (the loader reads YAML 1.2 core-schema scalars): booleans are "
           "only true or false, and an integer field takes a whole number written without a "
           "decimal point (8, not 8.0; validators that follow JSON cannot tell the two apart, "
           "`wargame validate` can). A number field also takes a whole number (12000 for "
           "12000.0). Every number is finite and every count and list has a maximum. "
           "`wargame validate` also checks what a schema cannot express: references between "
           "parts (zones, nodes, rungs, actions), the notional statement, the rules' effects "
           "and their parameters, and the run-size budget.")


def json_schema(kind: str, folder: str | None = None) -> str:
    """The JSON Schema text for ``scenario``, ``rules`` or ``log``, or the data dictionary of a
    sweep's tables for ``sweep`` (with a sweep folder: its own factor columns too); KeyError
    for another kind."""
    if kind == "log":
        return json.dumps(log_json_schema(), indent=2, sort_keys=True) + "\n"
    if kind == "sweep":
        from engine.sweeps.columns import data_dictionary
        from engine.sweeps.store import read_manifest

        factors = read_manifest(folder)["spec"]["factors"] if folder is not None else None
        return json.dumps(data_dictionary(factors), indent=2, sort_keys=True) + "\n"
    return json.dumps(input_schema(kind), indent=2, sort_keys=True) + "\n"


def input_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of scenario or rules files, as a dict (KeyError for another kind)."""
    schema = MODELS[kind].model_json_schema()
    _constrain_keys(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$comment"] = COMMENT
    return schema


def _constrain_keys(node: Any) -> None:
    """An object whose keys pydantic gives as one pattern accepts no other key
    (pydantic's ``patternProperties`` alone lets any other key through unchecked)."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1:
            node["propertyNames"] = {"pattern": next(iter(patterns))}
        for value in node.values():
            _constrain_keys(value)
    elif isinstance(node, list):
        for value in node:
            _constrain_keys(value)


# ---- the limits, as documented -------------------------------------------------------------

def limits(kind: str) -> list[tuple[str, str, str, str]]:
    """(field, kind of value, least, most) for every number, list and map of a scenario or
    rules file, read from its schema: the table docs/authoring.md prints."""
    schema = input_schema(kind)
    rows: list[tuple[str, str, str, str]] = []
    _limit_rows(schema, schema, "", rows)
    return rows


def limits_table(kind: str) -> str:
    """The limits as a Markdown table."""
    lines = ["| field | value | least | most |", "|---|---|---|---|"]
    lines += [f"| `{path}` | {what} | {lo} | {hi} |" for path, what, lo, hi in limits(kind)]
    return "\n".join(lines) + "\n"


def _limit_rows(root: dict[str, Any], node: dict[str, Any], path: str,
                rows: list[tuple[str, str, str, str]]) -> None:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    branches = [b for b in node.get("anyOf", ()) if b.get("type") != "null"]
    if any(b.get("type") == "number" for b in branches):  # int | float: one row, the number
        branches = [b for b in branches if b.get("type") != "integer"]
    for branch in branches:
        _limit_rows(root, branch, path, rows)
    kind = node.get("type")
    if kind in ("integer", "number"):
        lo = (f"more than {_num(node['exclusiveMinimum'])}" if "exclusiveMinimum" in node
              else _num(node["minimum"]))
        rows.append((path, "whole number" if kind == "integer" else "number", lo,
                     _num(node["maximum"])))
    elif kind == "array":
        if "prefixItems" not in node:  # a fixed tuple's length is its shape, not a limit
            rows.append((path, "list", _num(node.get("minItems", 0)), _num(node["maxItems"])))
        for i, sub in enumerate(node.get("prefixItems", ())):
            _limit_rows(root, sub, f"{path}[{i}]", rows)
        if "items" in node and "prefixItems" not in node:
            _limit_rows(root, node["items"], f"{path}[]", rows)
    elif kind == "object" and "properties" in node:  # a model: its fields
        for key, sub in node["properties"].items():
            _limit_rows(root, sub, f"{path}.{key}" if path else key, rows)
    elif kind == "object":  # a map: its size, and its values
        names = node.get("propertyNames", {})
        key = ("<id>" if "pattern" in names else names["const"] if "const" in names
               else "<" + "/".join(names["enum"]) + ">")
        if "maxProperties" in node:
            rows.append((path, "map", _num(node.get("minProperties", 0)),
                         _num(node["maxProperties"])))
        values = node.get("additionalProperties") or next(
            iter(node.get("patternProperties", {}).values()))
        _limit_rows(root, values, f"{path}.{key}", rows)


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"
