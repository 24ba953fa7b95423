"""Frozen models of a force-posture scenario: theater, sides, force elements, C2, treaty, injects.

A scenario is the fixed specification of one exercise (OpenSpiel's "game", apart from any state).
Every capability number in it is an illustrative teaching value, never a claim about a real system.
Force elements are keyed by id so that a sweep can address any number by a dotted path such as
``blue.isr.mq9.aircraft``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import ReferenceProblems
from engine.spec.types import (
    Claim,
    Command,
    ControllerKind,
    GroupKind,
    Readiness,
    Side,
    TreatyDomain,
    ZoneKind,
)

SCENARIO_FORMAT = "wargame-scenario/1"

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Count = Annotated[int, Field(strict=True, ge=1)]
CountOrZero = Annotated[int, Field(strict=True, ge=0)]
Hours = Annotated[float, Field(strict=True, gt=0)]
HoursOrZero = Annotated[float, Field(strict=True, ge=0)]
Positive = Annotated[float, Field(strict=True, gt=0)]
NonNegative = Annotated[float, Field(strict=True, ge=0)]
Prob = Annotated[float, Field(strict=True, ge=0, le=1)]
Flag = Annotated[bool, Field(strict=True)]



class Frozen(BaseModel):
    """Base for every input model: immutable, unknown keys rejected, no silent type coercion."""

    # Numbers, flags and probabilities are strict field by field (no "3" for 3, no true for 1);
    # whole-model strictness would also refuse YAML lists where the model keeps tuples.
    model_config = ConfigDict(frozen=True, extra="forbid")


class Meta(Frozen):
    """Who the scenario is for and where its facts come from."""

    id: Id
    title: Text
    summary: Annotated[str, Field(min_length=1, max_length=200)]
    sources: tuple[Text, ...] = Field(min_length=1)
    notional: Text = Field(
        description="Statement that every capability value is an illustrative teaching value."
    )
    changes: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _says_notional(self) -> Meta:
        if "notional" not in self.notional.lower() and "illustrative" not in self.notional.lower():
            raise ValueError("meta.notional must say that capability values are notional")
        return self


class Zone(Frozen):
    """A named region of the abstract theater; area drives random-search detection."""

    name: Text
    area_nm2: Positive
    kind: ZoneKind = "sea"
    claimed_by: Claim = "none"


class Base(Frozen):
    """An air or ground base sitting in a zone."""

    name: Text
    zone: Id


class Theater(Frozen):
    """Zones, symmetric distances between them (nautical miles) and bases."""

    zones: dict[Id, Zone] = Field(min_length=2)
    distances: tuple[tuple[Id, Id, Positive], ...] = Field(min_length=1)
    bases: dict[Id, Base] = {}


class BlueSide(Frozen):
    """The alliance: members and partners (names only; capabilities live in force elements)."""

    name: Text = "Blue"
    members: tuple[Text, ...] = Field(min_length=1)
    partners: tuple[Text, ...] = ()


class RedSide(Frozen):
    """The abstract adversary."""

    name: Text = "Red"
    description: Text


class Sides(Frozen):
    blue: BlueSide
    red: RedSide


class IsrDetachment(Frozen):
    """Uncrewed ISR aircraft (e.g. MQ-9s at Kanoya): sorties that search zones for Red groups."""

    name: Text
    base: Id
    report_node: Id = Field(description="C2 node that receives this detachment's track reports.")
    aircraft: CountOrZero
    availability: Prob = Field(description="Chance an aircraft is mission-capable for a sortie.")
    endurance_h: Hours
    transit_kts: Positive
    search_kts: Positive
    sweep_width_nm: Positive
    turnaround_h: HoursOrZero
    weather_cancel_p: Prob
    maintenance_cancel_p: Prob
    zones: tuple[Id, ...] = Field(min_length=1, description="Zones it may be tasked to search.")


class Battery(Frozen):
    """A firing unit at an island site, able to displace between the regiment's sites."""

    site: Id
    launchers: CountOrZero
    magazine: CountOrZero


class LittoralRegiment(Frozen):
    """A littoral regiment (or, in a baseline posture, an artillery regiment without anti-ship)."""

    name: Text
    hq_node: Id
    anti_ship: Flag
    sites: tuple[Id, ...] = Field(min_length=1, description="Zones it may occupy.")
    batteries: dict[Id, Battery] = Field(min_length=1)
    missiles_per_launcher: CountOrZero
    p_hit: Prob
    range_nm: NonNegative
    sensor_sweep_nm: NonNegative = Field(description="Organic sensor sweep width; 0 for none.")
    sensor_kts: NonNegative = 0.0
    displace_h: Hours
    readiness: Readiness = "garrison"
    track_max_age_h: Hours = 6.0


class Node(Frozen):
    """A C2 node: a headquarters, operations centre or national command."""

    name: Text
    nation: Text
    recovery_h: Hours = Field(description="Time to recover from a cyber attack.")


class Link(Frozen):
    """A two-way C2 link between nodes, with latency, loss and capacity."""

    a: Id
    b: Id
    latency_h: Positive
    loss_p: Prob
    capacity: Count = Field(description="Messages in transit at once.")
    via_space: Flag = False
    hardened: Flag = False


class C2(Frozen):
    """Command and control: nodes, links and the alliance command arrangement."""

    nodes: dict[Id, Node] = Field(min_length=1)
    links: dict[Id, Link] = {}
    command: Command
    consultation_h: Hours = Field(description="Alliance consultation before escalation.")
    authority_node: Id = Field(description="Node that grants engagement authority.")
    intel_sharing: Prob = Field(description="Share of partner detections fused into Blue tracks.")
    exercises_per_turn: CountOrZero = 0


class BlueForces(Frozen):
    isr: dict[Id, IsrDetachment] = {}
    littoral: dict[Id, LittoralRegiment] = {}
    c2: C2


class RedGroup(Frozen):
    """A Red surface group: coast guard, maritime militia or navy."""

    name: Text
    kind: GroupKind
    home: Id
    ships: Count
    speed_kts: Positive
    missiles_per_ship: CountOrZero = 0
    interceptors_per_ship: CountOrZero = 0
    p_intercept: Prob = 0.0
    staying_power: Positive = 1.0


class CyberUnit(Frozen):
    """A Red cyber unit that degrades C2 links or nodes for a time."""

    name: Text
    p_success: Prob
    effect_h: Hours


class CounterspaceUnit(Frozen):
    """A Red counterspace unit that degrades space-dependent links and ISR."""

    name: Text
    p_success: Prob
    effect_h: Hours


class RedForces(Frozen):
    groups: dict[Id, RedGroup] = Field(min_length=1)
    cyber: dict[Id, CyberUnit] = {}
    counterspace: dict[Id, CounterspaceUnit] = {}
    objective: Id = Field(description="The zone Red wants to control.")


class Treaty(Frozen):
    """Which domains of armed attack can trigger the alliance's mutual-defence article."""

    article5_domains: tuple[TreatyDomain, ...] = Field(min_length=1)


class Turns(Frozen):
    count: Count = Field(le=365)
    hours: Hours = Field(le=168)


class Inject(Frozen):
    """A scripted umpire event: an action forced on a side at a turn, with its parameters."""

    turn: Count
    side: Side
    action: Id
    params: dict[Id, str | int | float | bool] = {}
    note: Text


class Controllers(Frozen):
    blue: ControllerKind = "doctrine"
    red: ControllerKind = "doctrine"


class Scenario(Frozen):
    """A whole force-posture scenario, validated including every cross-reference."""

    format: Literal["wargame-scenario/1"]
    rules: Id = Field("standard", description="Name of the built-in rule set it is written for.")
    meta: Meta
    theater: Theater
    sides: Sides
    blue: BlueForces
    red: RedForces
    treaty: Treaty
    turns: Turns
    injects: tuple[Inject, ...] = ()
    controllers: Controllers = Controllers()

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        problems = reference_problems(self)
        if problems:
            raise ReferenceProblems(problems)
        return self

    def distance(self, a: str, b: str) -> float:
        """Distance in nautical miles between two zones (0 within a zone)."""
        return _distance_table(self)[(a, b)]


def _distance_table(s: Scenario) -> dict[tuple[str, str], float]:
    table = {(z, z): 0.0 for z in s.theater.zones}
    for a, b, d in s.theater.distances:
        table[(a, b)] = table[(b, a)] = float(d)
    return table


def reference_problems(s: Scenario) -> list[tuple[str, str]]:
    """Every dangling reference or inconsistency, as (dotted path, message) pairs."""
    zones, nodes = s.theater.zones, s.blue.c2.nodes
    out: list[tuple[str, str]] = []

    def need(path: str, value: str, table: Mapping[str, object], what: str) -> None:
        if value not in table:
            known = ", ".join(sorted(table)) or "none defined"
            out.append((path, f"unknown {what} '{value}' (known: {known})"))

    for i, (a, b, _) in enumerate(s.theater.distances):
        need(f"theater.distances.{i}.0", a, zones, "zone")
        need(f"theater.distances.{i}.1", b, zones, "zone")
    for k, base in s.theater.bases.items():
        need(f"theater.bases.{k}.zone", base.zone, zones, "zone")
    for k, d in s.blue.isr.items():
        need(f"blue.isr.{k}.base", d.base, s.theater.bases, "base")
        need(f"blue.isr.{k}.report_node", d.report_node, nodes, "C2 node")
        for i, z in enumerate(d.zones):
            need(f"blue.isr.{k}.zones.{i}", z, zones, "zone")
    for k, r in s.blue.littoral.items():
        need(f"blue.littoral.{k}.hq_node", r.hq_node, nodes, "C2 node")
        for i, z in enumerate(r.sites):
            need(f"blue.littoral.{k}.sites.{i}", z, zones, "zone")
        for b, bat in r.batteries.items():
            if bat.site not in r.sites:
                out.append((f"blue.littoral.{k}.batteries.{b}.site",
                            f"site '{bat.site}' is not one of the regiment's sites "
                            f"{list(r.sites)}"))
    for k, link in s.blue.c2.links.items():
        need(f"blue.c2.links.{k}.a", link.a, nodes, "C2 node")
        need(f"blue.c2.links.{k}.b", link.b, nodes, "C2 node")
        if link.a == link.b:
            out.append((f"blue.c2.links.{k}.b", "a link must join two different nodes"))
    need("blue.c2.authority_node", s.blue.c2.authority_node, nodes, "C2 node")
    for k, g in s.red.groups.items():
        need(f"red.groups.{k}.home", g.home, zones, "zone")
    need("red.objective", s.red.objective, zones, "zone")
    for i, inj in enumerate(s.injects):
        if inj.turn > s.turns.count:
            out.append((f"injects.{i}.turn", f"turn {inj.turn} is after the last turn "
                                             f"({s.turns.count})"))
    out.extend(_connectivity_problems(s))
    return out


def _connectivity_problems(s: Scenario) -> list[tuple[str, str]]:
    """Zones referenced for movement must have a distance route; C2 nodes must be connected."""
    out: list[tuple[str, str]] = []
    known = _distance_table(s)
    for k, d in s.blue.isr.items():
        base = s.theater.bases.get(d.base)
        for i, z in enumerate(d.zones):
            if base and z in s.theater.zones and (base.zone, z) not in known:
                out.append((f"blue.isr.{k}.zones.{i}",
                            f"no distance given between base zone '{base.zone}' and '{z}'"))
    for k, g in s.red.groups.items():
        if g.home in s.theater.zones and (g.home, s.red.objective) not in known:
            out.append((f"red.groups.{k}.home",
                        f"no distance given between '{g.home}' and objective "
                        f"'{s.red.objective}'"))
    return out


def with_values(s: Scenario, values: dict[str, object]) -> Scenario:
    """A copy of a scenario with values set at dotted paths (``blue.isr.mq9.aircraft``),
    re-validated; KeyError names a path that does not exist."""
    data = s.model_dump(mode="json")
    for path, value in values.items():
        node: object = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = _child(node, part, path)
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif isinstance(node, dict) and last in node:
            node[last] = value
        else:
            raise KeyError(f"no field '{last}' at '{path}'")
    return Scenario.model_validate(data)


def _child(node: object, part: str, path: str) -> object:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise KeyError(f"no field '{part}' in '{path}'")


def with_turns(s: Scenario, count: int) -> Scenario:
    """The scenario cut (or extended) to ``count`` turns, dropping injects after the last."""
    data = s.model_dump(mode="json")
    data["turns"]["count"] = count
    data["injects"] = [i for i in data["injects"] if i["turn"] <= count]
    return Scenario.model_validate(data)
