"""The event log's schema: header, record and footer, and the log format's version.

A log is JSON Lines. Line 1 is the header (the whole scenario and rules embedded, so a log replays
on a machine that lacks the files); then one record per line; the last line is the footer with
the outcome. Every line ends with ``"h"``, a hash chained to the previous line (see eventlog).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LOG_FORMAT = "wargame-log"
LOG_VERSION = 2  # 2: one information model (engine/sim/kinds.py); see docs/log-format.md
Side = Literal["blue", "red", "white"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Seed(_Open):
    entropy: int = Field(description="Root entropy of the run's numpy SeedSequence.")
    spawn_key: list[int] = Field(description="Spawn key (sweep cell, replication) or empty.")


class Parent(_Open):
    log_sha256: str = Field(description="sha256 of the parent log file this game forks.")
    fork_turn: int = Field(description="The turn at whose start this game left its parent.")
    seed: int | None = Field(None, description="The new root seed from the fork turn on, or "
                                               "null to keep the parent's numbers.")
    controllers: dict[Side, str] = Field(
        default_factory=dict, description="Sides handed to other controllers at the fork.")


class Header(_Open):
    """Line 1 of every log."""

    format: Literal["wargame-log"]
    version: Literal[2]
    engine: str = Field(description="Engine version that wrote the log.")
    seed: Seed
    scenario: dict[str, Any] = Field(description="The full scenario, as validated.")
    rules: dict[str, Any] = Field(description="The full rule set, as validated.")
    scenario_sha256: str
    rules_sha256: str
    controllers: dict[Side, str] = Field(description="Which controller played each side "
                                                     "(white: the umpire, when one played).")
    parent: Parent | None = None
    h: str = Field(description="Chain hash of this line.")


class Record(_Open):
    """One event. ``visible_to`` lists the sides that may see it; the umpire (white) sees all."""

    seq: int = Field(ge=0)
    turn: int = Field(ge=0)
    t: float = Field(ge=0, description="Hours since the start of the exercise.")
    kind: str = Field(description="Dotted event kind, e.g. isr.detect, engagement.salvo.")
    side: Side
    unit: str
    data: dict[str, Any]
    visible_to: list[Literal["blue", "red"]] = Field(
        description="Sides that may see the record; the umpire (white) sees every record.")
    h: str


class Footer(_Open):
    """The last line: the outcome. A log without one is truncated."""

    footer: Literal[True]
    records: int = Field(description="Number of records between header and footer.")
    turns: int
    outcome: dict[str, Any]
    h: str = Field(description="Final chain hash: it seals the whole log.")


def log_json_schema() -> dict[str, Any]:
    """JSON Schema of one log line: a header, a record or a footer."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "wargame event log line (JSON Lines, one object per line)",
        "description": "Line 1 is a Header, the last line a Footer, every line between a Record.",
        "oneOf": [{"$ref": "#/$defs/Header"}, {"$ref": "#/$defs/Record"},
                  {"$ref": "#/$defs/Footer"}],
        "$defs": _defs(),
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

    def digest(m: BaseModel) -> tuple[dict[str, Any], str]:
        data = m.model_dump(mode="json")
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return data, hashlib.sha256(text.encode()).hexdigest()

    s_data, s_hash = digest(scenario)
    r_data, r_hash = digest(rules)
    return {
        "format": LOG_FORMAT, "version": LOG_VERSION, "engine": engine_version, "seed": seed,
        "scenario": s_data, "rules": r_data, "scenario_sha256": s_hash, "rules_sha256": r_hash,
        "controllers": dict(sorted(controllers.items())), "parent": parent,
    }
