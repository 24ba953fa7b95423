"""The event log's schema: header, record and footer, the log format's version, and the one
canonical JSON form every hash is taken over.

A log is JSON Lines. Line 1 is the header (the whole scenario and rules embedded, so a log replays
on a machine that lacks the files); then one record per line; the last line is the footer with
the outcome. Every line ends with ``"h"``, a hash chained to the previous line (see eventlog).
Each record's ``data`` follows its kind's declaration in engine/sim/kinds.py (the fields it always
carries, one JSON type per field name across kinds) and its ``visible_to`` is what the kind's
visibility rule derives; the models below check both, and :func:`log_json_schema` publishes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from engine.canonical import sha256_of
from engine.sim.kinds import FIELD_TYPES, KINDS, Seen, payload_problems, visible_to

LOG_FORMAT = "wargame-log"
LOG_VERSION = 2  # 2: one information model (engine/sim/kinds.py); see docs/log-format.md
Side = Literal["blue", "red", "white"]

# PEP 440 release numbers as the engine's versions are written (0.2.0, 0.2.1rc1, 0.3.0.dev4+g1a)
ENGINE_VERSION = (r"^[0-9]+\.[0-9]+\.[0-9]+(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?"
                  r"(?:\.dev[0-9]+)?(?:\+[0-9a-z]+(?:\.[0-9a-z]+)*)?$")
SHA256 = r"^[0-9a-f]{64}$"
CHAIN_HASH = r"^[0-9a-f]{16}$"


# the canonical JSON form lives in engine/canonical.py (the simulation's digest uses it too)


def is_engine_version(text: object) -> bool:
    """Whether ``text`` is a version number as the engine writes them (not arbitrary text)."""
    return isinstance(text, str) and re.fullmatch(ENGINE_VERSION, text) is not None


# ---- the three kinds of line -----------------------------------------------------------------

class _Strict(BaseModel):
    # strict: a log is machine-written JSON, so "7" is not 7 and 1.0 is not an integer
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Seed(_Strict):
    entropy: int = Field(ge=0, description="Root entropy of the run's numpy SeedSequence.")
    spawn_key: list[int] = Field(description=(
        "Spawn key of the root SeedSequence: empty for a run seeded by one integer (wargame "
        "run --seed; a sweep's run, whose row's seed is the entropy); non-empty only for a "
        "SeedSequence given to engine.run_logged from Python (a fork keeps its parent's) or a "
        "run of a wargame-sweep/1 sweep."))

    @field_validator("spawn_key")
    @classmethod
    def _natural(cls, v: list[int]) -> list[int]:
        if any(k < 0 for k in v):
            raise ValueError("spawn key entries are natural numbers")
        return v


class Parent(_Strict):
    log_sha256: str = Field(pattern=SHA256,
                            description="sha256 of the parent log file this game forks.")
    fork_turn: int = Field(ge=1, description="The turn at whose start this game left its parent.")
    seed: int | None = Field(None, ge=0, description="The new root seed from the fork turn on, "
                                                     "or null to keep the parent's numbers.")
    controllers: dict[Side, str] = Field(
        default_factory=dict, description="Sides handed to other controllers at the fork.")


class Header(_Strict):
    """Line 1 of every log."""

    format: Literal["wargame-log"]
    version: Literal[2]
    engine: str = Field(pattern=ENGINE_VERSION, description="Engine version that wrote the log.")
    seed: Seed
    scenario: dict[str, Any] = Field(description="The full scenario, as validated.")
    rules: dict[str, Any] = Field(description="The full rule set, as validated.")
    scenario_sha256: str = Field(pattern=SHA256, description="sha256 of the scenario's "
                                                             "canonical JSON.")
    rules_sha256: str = Field(pattern=SHA256, description="sha256 of the rules' canonical JSON.")
    controllers: dict[Side, str] = Field(description="Which controller played each side "
                                                     "(white: the umpire, when one played).")
    parent: Parent | None = Field(description="null, or what this game forks.")
    h: str = Field(pattern=CHAIN_HASH, description="Chain hash of this line.")

    @field_validator("controllers")
    @classmethod
    def _both_sides(cls, v: dict[str, str]) -> dict[str, str]:
        missing = [s for s in ("blue", "red") if s not in v]
        if missing:
            raise ValueError(f"no controller for {' and '.join(missing)}")
        if any(not name for name in v.values()):
            raise ValueError("a controller's name is empty")
        return v


class Record(_Strict):
    """One event. ``visible_to`` lists the sides that may see it; the umpire (white) sees all.
    Its ``data`` carries the fields its kind declares (engine/sim/kinds.py: KINDS), each of the
    one type its name has in every kind (FIELD_TYPES), and ``visible_to`` is what the kind's
    rule derives."""

    seq: int = Field(ge=0)
    turn: int = Field(ge=0)
    t: float = Field(ge=0, description="Hours since the start of the exercise.")
    kind: str = Field(description="Dotted event kind, e.g. isr.detect, engagement.salvo.",
                      json_schema_extra={"enum": list(sorted(KINDS))})
    side: Side
    unit: str
    data: dict[str, Any]
    visible_to: list[Literal["blue", "red"]] = Field(
        description="Sides that may see the record; the umpire (white) sees every record.")
    h: str = Field(pattern=CHAIN_HASH)

    @model_validator(mode="after")
    def _keeps_its_kind(self) -> Record:
        problems = record_problems(self.kind, self.side, self.data, self.visible_to)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Footer(_Strict):
    """The last line: the outcome. A log without one is truncated; nothing may follow it."""

    footer: Literal[True]
    records: int = Field(ge=0, description="Number of records between header and footer.")
    turns: int = Field(ge=0, description="Turns played.")
    outcome: dict[str, Any]
    h: str = Field(pattern=CHAIN_HASH, description="Final chain hash: it seals the whole log.")


_ORDER_KEYS = {"action", "params", "side", "note"}


def order_problem(order: object) -> str:
    """What is wrong with one logged order (``{action, params}``, plus ``side`` and ``note``
    for an umpire's inject), or ""."""
    if not isinstance(order, dict):
        return f"an order is not an object: {order!r:.60}"
    if not isinstance(order.get("action"), str) or not isinstance(order.get("params"), dict):
        return f"an order needs an action (text) and params (an object): {order!r:.80}"
    if set(order) - _ORDER_KEYS:
        return f"an order has unknown keys {sorted(set(order) - _ORDER_KEYS)}"
    if any(not isinstance(v, str) for v in order["params"].values()):
        return f"an order's parameters are text: {order['params']!r:.80}"
    if order.get("side", "blue") not in ("blue", "red", "white"):
        return f"an order's side is blue, red or white: {order['side']!r:.40}"
    if not isinstance(order.get("note", ""), str | None):
        return f"an order's note is text: {order['note']!r:.40}"
    return ""


def record_problems(kind: str, side: str, data: Mapping[str, Any],
                    seen_by: Sequence[str]) -> list[str]:
    """Where a record breaks the information model: an undeclared kind, another acting side
    than the kind's, a payload that breaks the kind's declaration, a ``visible_to`` other than
    the kind's rule derives, a malformed order. Empty when it keeps the model."""
    spec = KINDS.get(kind)
    if spec is None:
        return [f"kind: unknown record kind {kind!r:.60}"]
    out = [f"data: {p}" for p in payload_problems({"kind": kind, "data": data})]
    if spec.side is not None and side != spec.side:
        out.append(f"side: a {kind} record is made by {spec.side}, not {side}")
    if not out:
        derived = list(visible_to(kind, side, data))  # type: ignore[arg-type]
        if list(seen_by) != derived:
            out.append(f"visible_to: {seen_by} is not what the {kind} rule "
                       f"({spec.seen.name.lower()}) gives: {derived}")
    if kind == "orders" and not out:
        out.extend(f"data.orders: {p}" for p in map(order_problem, data["orders"]) if p)
        if not isinstance(data.get("rationale", ""), str | None):
            out.append("data.rationale: a rationale is text")
    if kind == "orders.rejected" and not out and (p := order_problem(data["order"])):
        out.append(f"data.order: {p}")
    return out


def line_problem(obj: Mapping[str, Any], header: bool = False) -> str:
    """Where a parsed line breaks the published schema (Header, Record or Footer), as
    ``field: message``; "" when it keeps it."""
    model: type[BaseModel] = Header if header else Footer if "footer" in obj else Record
    try:
        model.model_validate(obj)
    except ValidationError as e:
        return f"{model.__name__.lower()} {_first(e)}"
    return ""


def _first(e: ValidationError) -> str:
    err = e.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


# ---- the published JSON Schema ---------------------------------------------------------------

_JSON_TYPES = {"str": "string", "float": "number", "int": "integer", "bool": "boolean",
               "list": "array", "dict": "object"}


def _field_schema(name: str) -> dict[str, Any]:
    declared = FIELD_TYPES[name]
    json_type = _JSON_TYPES[declared.rstrip("?")]
    return {"type": [json_type, "null"] if declared.endswith("?") else json_type}


def _data_schema(kind: str) -> dict[str, Any]:
    spec = KINDS[kind]
    schema: dict[str, Any] = {
        "type": "object",
        "description": f"{spec.doc} Made by {spec.side or 'the ordering side'}; seen by "
                       f"{spec.seen.value} (rule {spec.seen.name.lower()}).",
        "required": list(spec.fields),
        "properties": {f: _field_schema(f) for f in spec.fields},
        "additionalProperties": True,
    }
    order = {"$ref": "#/$defs/Order"}
    if kind == "orders":
        schema["properties"]["orders"]["items"] = order
    if kind == "orders.rejected":
        schema["properties"]["order"].update(order)
    return schema


_FIXED_RULES = (Seen.PUBLIC, Seen.UMPIRE, Seen.BLUE, Seen.RED)


def _record_rule(kind: str) -> dict[str, Any]:
    """if kind == K then data follows data.K (and side and visible_to are what K fixes)."""
    spec = KINDS[kind]
    then: dict[str, Any] = {"data": {"$ref": f"#/$defs/data.{kind}"}}
    if spec.side is not None:
        then["side"] = {"const": spec.side}
        if spec.seen in _FIXED_RULES or spec.seen is Seen.OWN:
            then["visible_to"] = {"const": list(visible_to(kind, spec.side, {}))}
    return {"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
            "then": {"properties": then}}


_ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One order: an action of the side's menu with its parameters; an umpire's "
                   "inject also names the side it is forced on and a note.",
    "required": ["action", "params"],
    "properties": {"action": {"type": "string"},
                   "params": {"type": "object", "additionalProperties": {"type": "string"}},
                   "side": {"enum": ["blue", "red", "white"]},
                   "note": {"type": ["string", "null"]}},
    "additionalProperties": False,
}


def log_json_schema() -> dict[str, Any]:
    """JSON Schema of one log line: a header, a record or a footer. A record's ``data`` is
    described per kind (``$defs["data.<kind>"]``: the fields it always carries and their
    types), chosen by the record's ``kind``."""
    defs = _defs()
    record = defs["Record"]
    record["properties"]["data"] = {
        "type": "object",
        "description": "The event's payload: the fields of its kind (data.<kind>); a field has "
                       "one JSON type wherever it appears, listed here.",
        "properties": {name: _field_schema(name) for name in sorted(FIELD_TYPES)},
        "additionalProperties": True,
    }
    record["allOf"] = [_record_rule(kind) for kind in KINDS]
    defs["Order"] = _ORDER_SCHEMA
    for kind in KINDS:
        defs[f"data.{kind}"] = _data_schema(kind)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "wargame event log line (JSON Lines, one object per line)",
        "description": "Line 1 is a Header, the last line a Footer, every line between a Record.",
        "oneOf": [{"$ref": "#/$defs/Header"}, {"$ref": "#/$defs/Record"},
                  {"$ref": "#/$defs/Footer"}],
        "$defs": defs,
    }


def _defs() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for model in (Header, Record, Footer):
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
    return defs


def make_header(scenario: BaseModel, rules: BaseModel, seed: dict[str, Any],
                controllers: dict[str, str], engine_version: str,
                parent: dict[str, Any] | None = None) -> dict[str, Any]:
    """The header object of a log (without its chain hash)."""
    s_data, r_data = scenario.model_dump(mode="json"), rules.model_dump(mode="json")
    return {
        "format": LOG_FORMAT, "version": LOG_VERSION, "engine": engine_version, "seed": seed,
        "scenario": s_data, "rules": r_data, "scenario_sha256": sha256_of(s_data, finite=True),
        "rules_sha256": sha256_of(r_data, finite=True),
        "controllers": dict(sorted(controllers.items())), "parent": parent,
    }
