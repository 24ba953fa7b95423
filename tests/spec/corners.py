"""Extreme-but-valid inputs: scenarios and rules at the corners of the documented limits.

``worst_case`` builds the scenario the run-size budget is written against: every aircraft
searching, every search finding every Red group (tiny zones), every track report crossing the
longest possible chain of C2 nodes to every destination, and a Red that never ends the game.
``corner_scenarios`` gives the other corners: every number at its maximum, or at its minimum.
Tests run them and read every log line back with a JSON parser that refuses NaN and Infinity.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pydantic
import yaml

import engine
from engine.spec.scenario import MAX_WORK, Scenario, run_size

DATA = Path(engine.__file__).resolve().parent / "data"
SCENARIO = yaml.safe_load((DATA / "scenarios" / "alliance-2024.yaml").read_text("utf-8"))
RULES = yaml.safe_load((DATA / "rules" / "standard.yaml").read_text("utf-8"))


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def endless_rules(*, surge: float = 6.0) -> dict[str, Any]:
    """The standard rules, but Red only holds (no armed attack ends the game early) and Blue's
    doctrine surges ISR every turn at the highest sortie rate allowed."""
    r = copy.deepcopy(RULES)
    r["actions"]["red"] = {"hold": {"label": "Hold", "effect": "hold", "signals": "routine"}}
    r["adjudication"]["detection"]["sorties_per_aircraft"] = {"low": surge, "normal": surge,
                                                              "surge": surge}
    r["doctrine"]["blue"] = [{"name": "Surge", "do": "isr_tempo", "params": {"level": "surge"}}]
    return r


def worst_case(*, aircraft: int, groups: int, nodes: int, regiments: int, batteries: int,
               turns: int, hours: float = 24.0) -> dict[str, Any]:
    """A scenario built to make the budget's bound real: every term at its worst."""
    zones = {"home": {"name": "Red home", "area_nm2": 1, "kind": "sea"},
             "base": {"name": "Base", "area_nm2": 1, "kind": "land", "claimed_by": "blue"},
             "isle": {"name": "Isle", "area_nm2": 1, "kind": "littoral", "claimed_by": "blue"}}
    chain = [f"n{i:02d}" for i in range(nodes)]
    detachments = {}
    left = aircraft
    for k in range((aircraft + 99) // 100):
        n = min(100, left)
        left -= n
        detachments[f"d{k}"] = {
            "name": f"Detachment {k}", "base": "b", "report_node": chain[0], "aircraft": n,
            "availability": 1.0, "endurance_h": 24, "transit_kts": 2000, "search_kts": 2000,
            "sweep_width_nm": 1000, "turnaround_h": 0, "weather_cancel_p": 0,
            "maintenance_cancel_p": 0, "zones": ["home"]}
    littoral = {}
    for k in range(regiments):
        littoral[f"r{k}"] = {
            "name": f"Regiment {k}", "hq_node": chain[-1], "anti_ship": True,
            "sites": ["isle"], "missiles_per_launcher": 20, "p_hit": 1.0, "range_nm": 25000,
            "sensor_sweep_nm": 1000, "sensor_kts": 2000, "displace_h": 1, "readiness": "alert",
            "batteries": {f"b{j}": {"site": "isle", "launchers": 100, "magazine": 10000}
                          for j in range(batteries)}}
    return {
        "format": "wargame-scenario/1", "rules": "standard",
        "meta": {"id": "worst-case", "title": "The run-size budget's worst case",
                 "summary": "Every term of the budget at its worst.",
                 "sources": ["tests/spec/corners.py"],
                 "notional": "Every value is notional and illustrative."},
        "theater": {"zones": zones,
                    "distances": [["home", "base", 1], ["home", "isle", 1], ["base", "isle", 1]],
                    "bases": {"b": {"name": "Base", "zone": "base"}}},
        "sides": {"blue": {"members": ["A"]}, "red": {"description": "Red."}},
        "blue": {"isr": detachments, "littoral": littoral, "c2": {
            "command": "joint_force_hq", "consultation_h": 1, "authority_node": chain[-1],
            "intel_sharing": 1.0,
            "nodes": {n: {"name": n, "nation": "A", "recovery_h": 1} for n in chain},
            "links": {f"l{i}": {"a": a, "b": b, "latency_h": 0.01, "loss_p": 0, "capacity": 1}
                      for i, (a, b) in enumerate(itertools.pairwise(chain))}}},
        "red": {"objective": "isle", "groups": {
            f"g{i}": {"name": f"Group {i}", "kind": "navy", "home": "home", "ships": 1000,
                      "speed_kts": 1, "missiles_per_ship": 100, "interceptors_per_ship": 100,
                      "p_intercept": 1.0, "staying_power": 0.01} for i in range(groups)}},
        "treaty": {"article5_domains": ["land_sea_air"]},
        "turns": {"count": turns, "hours": hours},
    }


def fill_to_budget(**sizes: int) -> dict[str, Any]:
    """The worst case with as many turns as the budget allows for the other sizes given."""
    lo, hi = 0, 365
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if valid(worst_case(**sizes, turns=mid)):
            lo = mid
        else:
            hi = mid - 1
    assert lo > 0, f"no turn fits the budget with {sizes}"
    data = worst_case(**sizes, turns=lo)
    assert run_size(Scenario.model_validate(data))["total"] <= MAX_WORK
    return data


def valid(data: dict[str, Any]) -> bool:
    try:
        Scenario.model_validate(data)
    except pydantic.ValidationError:
        return False
    return True


# ---- the schema's bounds, field by field -----------------------------------------------------

def schema_at(schema: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any] | None:
    """The subschema governing the value at ``path`` in a document (None when none does)."""
    node: dict[str, Any] | None = _deref(schema, schema)
    for part in path:
        if node is None:
            return None
        node = _child(schema, node, part)
    return node


def _deref(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in node:  # X | None: the non-null branch
        branches = [b for b in node["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            return _deref(root, branches[0])
    return node


def _child(root: dict[str, Any], node: dict[str, Any], part: Any) -> dict[str, Any] | None:
    if isinstance(part, int) and node.get("type") == "array":
        prefix = node.get("prefixItems")
        if prefix is not None:
            return _deref(root, prefix[part]) if part < len(prefix) else None
        return _deref(root, node["items"]) if "items" in node else None
    if node.get("type") != "object":
        return None
    if part in node.get("properties", {}):
        return _deref(root, node["properties"][part])
    for sub in node.get("patternProperties", {}).values():
        return _deref(root, sub)
    extra = node.get("additionalProperties")
    return _deref(root, extra) if isinstance(extra, dict) else None


def leaves(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every scalar in a document with its path."""
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in leaves(v, (*prefix, k))]
    if isinstance(data, list):
        return [x for i, v in enumerate(data) for x in leaves(v, (*prefix, i))]
    return [(prefix, data)]


def numeric_fields(data: dict[str, Any], schema: dict[str, Any]
                   ) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path, subschema) of every number in a document whose schema says integer or number."""
    out = []
    for path, value in leaves(data):
        sub = schema_at(schema, path)
        if (sub is not None and sub.get("type") in ("integer", "number")
                and isinstance(value, int | float) and not isinstance(value, bool)):
            out.append((path, sub))
    return out


def bounds(sub: dict[str, Any]) -> tuple[float, float]:
    """The smallest and largest valid value of a numeric subschema (an exclusive bound is
    approached from inside: the next integer, or a millionth of the range)."""
    lo = sub.get("minimum", sub.get("exclusiveMinimum"))
    hi = sub.get("maximum", sub.get("exclusiveMaximum"))
    assert lo is not None and hi is not None, sub
    if "exclusiveMinimum" in sub:
        lo = lo + 1 if sub["type"] == "integer" else lo + max(1e-6, (hi - lo) * 1e-6)
    return lo, hi


def set_at(data: Any, path: tuple[Any, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
