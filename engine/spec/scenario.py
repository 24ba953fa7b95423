"""Frozen models of a force-posture scenario: theater, sides, force elements, C2, treaty, injects.

A scenario is the fixed specification of one exercise (OpenSpiel's "game", apart from any state).
Every capability number in it is an illustrative teaching value, never a claim about a real system.
Force elements are keyed by id so that a sweep can address any number by a dotted path such as
``blue.isr.mq9.aircraft``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from engine.errors import Problem, ReferenceProblems, ScenarioError
from engine.spec.levers import describe_levers, lever
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

# ---- limits ----------------------------------------------------------------------------------
# Every count, size and number a scenario holds has a maximum: generous for teaching, small
# enough that the largest valid scenario runs in seconds (docs/authoring.md lists them all; the
# JSON Schema publishes them). Floats are finite everywhere. Divisors (areas, speeds, staying
# power) have a floor as well, so no quotient can overflow.
MAX_HOURS = 8760.0  # one year: any duration, delay or effect
MAX_TURN_HOURS = 168.0  # one week per turn
MAX_TURNS = 365
MAX_EXERCISE_HOURS = 8760.0  # turns.count x turns.hours
MAX_DISTANCE_NM = 25_000.0  # farther than halfway round the Earth
MAX_AREA_NM2 = 100_000_000.0
MAX_SPEED_KTS = 2_000.0
MAX_SORTIES_PER_DAY = 6.0  # the rules' sorties_per_aircraft cap (rules.py), used by the budget
MAX_WORK = 1_500_000  # the run-size budget (see run_size)

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Word = Annotated[str, Field(min_length=1, max_length=100)]  # a parameter value or choice
Count = Annotated[int, Field(strict=True, ge=1)]  # each field using it sets its own maximum
CountOrZero = Annotated[int, Field(strict=True, ge=0)]  # likewise
Hours = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=MAX_HOURS)]
HoursOrZero = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_HOURS)]
Prob = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
Factor = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=100)]
Flag = Annotated[bool, Field(strict=True)]
Area = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=1, le=MAX_AREA_NM2)]
Distance = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=MAX_DISTANCE_NM)]
Reach = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_DISTANCE_NM)]
Speed = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=1, le=MAX_SPEED_KTS)]
SpeedOrZero = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_SPEED_KTS)]
Width = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1000)]
WidthOrZero = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1000)]
TurnNumber = Annotated[int, Field(strict=True, ge=1, le=MAX_TURNS)]
# a parameter value given in a file: text, a number or a flag (matched against the choices)
ParamValue = (Word | Annotated[int, Field(strict=True, ge=-1_000_000_000, le=1_000_000_000)]
              | Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1e9, le=1e9)]
              | Flag)


class Frozen(BaseModel):
    """Base for every input model: immutable, unknown keys rejected, no silent type coercion."""

    # Numbers, flags and probabilities are strict field by field (no "3" for 3, no true for 1);
    # whole-model strictness would also refuse YAML lists where the model keeps tuples.
    # json_schema_extra: each field's lever declaration joins its published description
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=describe_levers)


class Meta(Frozen):
    """Who the scenario is for and where its facts come from."""

    id: Id
    title: Text
    summary: Annotated[str, Field(min_length=1, max_length=200)]
    sources: tuple[Text, ...] = Field(min_length=1, max_length=20)
    notional: Text = Field(
        description="Statement that every capability value is an illustrative teaching value."
    )
    changes: tuple[Text, ...] = Field((), max_length=50)

    @model_validator(mode="after")
    def _says_notional(self) -> Meta:
        if "notional" not in self.notional.lower() and "illustrative" not in self.notional.lower():
            raise ValueError("meta.notional must say that capability values are notional")
        return self


class Zone(Frozen):
    """A named region of the abstract theater; area drives random-search detection."""

    name: Text
    area_nm2: Area = Field(json_schema_extra=lever(
        "-", "a larger zone dilutes search (Koopman: W v t / A)",
        inert_when="zone_not_searched"))
    kind: ZoneKind = Field("sea", json_schema_extra=lever("?", "a map label",
                                                          inert_when="structural"))
    claimed_by: Claim = Field("none", json_schema_extra=lever(
        "?", "a Red arrival in a Blue-claimed or disputed zone is an incursion",
        inert_when="zone_not_objective"))


class Base(Frozen):
    """An air or ground base sitting in a zone."""

    name: Text
    zone: Id


class Theater(Frozen):
    """Zones, symmetric distances between them (nautical miles) and bases."""

    zones: dict[Id, Zone] = Field(min_length=2, max_length=50)
    distances: tuple[tuple[Id, Id, Distance], ...] = Field(
        min_length=1, max_length=1225, json_schema_extra=lever(
            "?", "transit times, and what lies within a firing site's reach",
            inert_when=("distance_unused", "spare_site_distance")))
    bases: dict[Id, Base] = Field({}, max_length=50)


class BlueSide(Frozen):
    """The alliance: members and partners (names only; capabilities live in force elements)."""

    name: Text = "Blue"
    members: tuple[Text, ...] = Field(min_length=1, max_length=30)
    partners: tuple[Text, ...] = Field((), max_length=30)


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
    aircraft: CountOrZero = Field(le=100, json_schema_extra=lever("+", "more sorties"))
    availability: Prob = Field(description="Chance an aircraft is mission-capable for a sortie.",
                               json_schema_extra=lever("+", "more sorties",
                                                       inert_when="no_aircraft"))
    endurance_h: Hours = Field(json_schema_extra=lever("+", "more hours on station",
                                                       inert_when="no_aircraft"))
    transit_kts: Speed = Field(json_schema_extra=lever(
        "+", "less of the endurance spent in transit", inert_when="no_aircraft"))
    search_kts: Speed = Field(json_schema_extra=lever("+", "search hazard W v / A",
                                                      inert_when="no_aircraft"))
    sweep_width_nm: Width = Field(json_schema_extra=lever("+", "search hazard W v / A",
                                                          inert_when="no_aircraft"))
    turnaround_h: HoursOrZero = Field(json_schema_extra=lever(
        "-", "fewer sorties a day", inert_when="no_aircraft"))
    weather_cancel_p: Prob = Field(json_schema_extra=lever("-", "fewer sorties fly",
                                                           inert_when="no_aircraft"))
    maintenance_cancel_p: Prob = Field(json_schema_extra=lever("-", "fewer sorties fly",
                                                               inert_when="no_aircraft"))
    zones: tuple[Id, ...] = Field(min_length=1, max_length=50,
                                  description="Zones it may be tasked to search.")


class Battery(Frozen):
    """A firing unit at an island site, able to displace between the regiment's sites."""

    site: Id
    launchers: CountOrZero = Field(le=100, json_schema_extra=lever(
        "+", "bigger salvos, so Red expects heavier losses"))
    magazine: CountOrZero = Field(le=10_000, json_schema_extra=lever(
        "+", "more salvos before it runs dry", inert_when="no_anti_ship"))


class LittoralRegiment(Frozen):
    """A littoral regiment (or, in a baseline posture, an artillery regiment without anti-ship)."""

    name: Text
    hq_node: Id
    anti_ship: Flag = Field(json_schema_extra=lever(
        "+", "its batteries can sink Red's navy, which Red weighs", inert_when="unarmed"))
    sites: tuple[Id, ...] = Field(min_length=1, max_length=50, description="Zones it may occupy.")
    batteries: dict[Id, Battery] = Field(min_length=1, max_length=20)
    missiles_per_launcher: CountOrZero = Field(le=20, json_schema_extra=lever(
        "+", "bigger salvos", inert_when="no_anti_ship"))
    p_hit: Prob = Field(json_schema_extra=lever("+", "more hits per salvo",
                                                inert_when="no_anti_ship"))
    range_nm: Reach = Field(json_schema_extra=lever(
        "+", "more sites within reach of Red's objective, and of its sensors",
        inert_when="no_anti_ship_nor_sensor"))
    sensor_sweep_nm: WidthOrZero = Field(
        description="Organic sensor sweep width; 0 for none.",
        json_schema_extra=lever("+", "search hazard W v / A", inert_when="no_sensor"))
    sensor_kts: SpeedOrZero = Field(0.0, json_schema_extra=lever(
        "+", "search hazard W v / A", inert_when="no_sensor"))
    displace_h: Hours = Field(json_schema_extra=lever(
        "-", "a battery fires again only once it has moved", inert_when="never_moves"))
    readiness: Readiness = Field("garrison", json_schema_extra=lever(
        "+", "more launchers ready, then fewer exposed",
        order=("garrison", "alert", "dispersed")))
    track_max_age_h: Hours = Field(6.0, json_schema_extra=lever(
        "+", "older tracks still cue a salvo", inert_when="no_anti_ship"))


class Node(Frozen):
    """A C2 node: a headquarters, operations centre or national command."""

    name: Text
    nation: Text
    recovery_h: Hours = Field(description="Time to recover from a cyber attack.",
                              json_schema_extra=lever(
                                  "-", "its links stay down longer",
                                  inert_when="node_never_degraded"))


class Link(Frozen):
    """A two-way C2 link between nodes, with latency, loss and capacity."""

    a: Id
    b: Id
    latency_h: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0,
                                      le=MAX_TURN_HOURS)] = Field(
        json_schema_extra=lever("-", "reports and orders arrive later",
                                inert_when="link_unused"))
    loss_p: Prob = Field(json_schema_extra=lever("-", "more reports and orders lost",
                                                 inert_when="link_unused"))
    capacity: Count = Field(le=1000, description="Messages in transit at once.",
                            json_schema_extra=lever("+", "fewer messages wait",
                                                    inert_when="link_unused"))
    via_space: Flag = Field(False, json_schema_extra=lever(
        "-", "counterspace attacks degrade it",
        inert_when=("link_unused", "no_counterspace")))
    hardened: Flag = Field(False, json_schema_extra=lever(
        "+", "cyber attacks on it succeed less and it recovers sooner",
        inert_when=("link_unused", "not_attacked")))


class C2(Frozen):
    """Command and control: nodes, links and the alliance command arrangement."""

    nodes: dict[Id, Node] = Field(min_length=1, max_length=50)
    links: dict[Id, Link] = Field({}, max_length=200)
    command: Command = Field(json_schema_extra=lever(
        "+", "a more joint command shortens latency, consultation and recovery",
        order=("separate", "planned_joint_hq", "joint_hq", "joint_force_hq")))
    consultation_h: Hours = Field(description="Alliance consultation before escalation.",
                                  json_schema_extra=lever("-", "a slower answer"))
    authority_node: Id = Field(description="Node that grants engagement authority.")
    intel_sharing: Prob = Field(
        description="Share of partner detections fused into Blue tracks.",
        json_schema_extra=lever("+", "more reports reach the shooters across nations",
                                inert_when="one_nation"))
    exercises_per_turn: CountOrZero = Field(0, le=20, json_schema_extra=lever(
        "+", "exercises show Red the alliance's resolve"))


class PartnerIsr(Frozen):
    """A regional partner's surveillance (e.g. Australia, the Republic of Korea, India): search
    effort over some zones each turn, its detections passed to the alliance with ``share_p``."""

    name: Text
    nation: Text
    report_node: Id = Field(description="Alliance C2 node that receives the partner's reports.")
    zones: tuple[Id, ...] = Field(min_length=1, max_length=50,
                                  description="Zones the partner watches.")
    sweep_width_nm: Width = Field(json_schema_extra=lever("+", "search hazard W v / A",
                                                          inert_when="partner_idle"))
    search_kts: Speed = Field(json_schema_extra=lever("+", "search hazard W v / A",
                                                      inert_when="partner_idle"))
    hours_per_turn: HoursOrZero = Field(json_schema_extra=lever("+", "more search"),
                                        description="Search hours per zone each turn, spread "
                                                    "over the turn; 0 for none.")
    share_p: Prob = Field(description="Chance a partner detection is passed to the alliance.",
                          json_schema_extra=lever("+", "more detections reach Blue",
                                                  inert_when="partner_idle"))


class CounterstrikeUnit(Frozen):
    """Long-range strike missiles (Japan's counterstrike capability): a national decision under
    self-defence, so once Blue knows of an armed attack (no Article V needed) the unit fires one
    salvo a turn at a Red group its node holds a fresh track on, within range of its site."""

    name: Text
    site: Id = Field(description="Zone the unit fires from.")
    node: Id = Field(description="C2 node that orders the strike; it receives every track "
                                 "report, and its tracks are the unit's targets.")
    launchers: CountOrZero = Field(le=100, json_schema_extra=lever(
        "+", "bigger salvos, so Red expects heavier losses"))
    missiles_per_launcher: CountOrZero = Field(le=20, json_schema_extra=lever(
        "+", "bigger salvos", inert_when="no_counterstrike"))
    magazine: CountOrZero = Field(le=10_000, json_schema_extra=lever(
        "+", "more salvos", inert_when="no_counterstrike"))
    p_hit: Prob = Field(json_schema_extra=lever("+", "more hits per salvo",
                                                inert_when="no_counterstrike"))
    range_nm: Reach = Field(json_schema_extra=lever(
        "+", "Red's forces within reach", inert_when="no_counterstrike"))


class Sustainment(Frozen):
    """Sustainment in the region (2024: missile co-production and maintenance of US assets)."""

    missile_resupply_per_turn: CountOrZero = Field(
        0, le=100, json_schema_extra=lever("+", "fuller magazines",
                                           inert_when="no_anti_ship"),
        description="Missiles delivered to each anti-ship battery each turn, up to "
                               "its starting magazine (co-production).")
    regional_maintenance: Flag = Field(
        False, json_schema_extra=lever("+", "more sorties", inert_when="no_isr"),
        description="ISR aircraft are maintained in the region: more are mission-capable "
                    "and fewer sorties are cancelled for maintenance (rules: "
                    "adjudication.sustainment).")


class BlueForces(Frozen):
    isr: dict[Id, IsrDetachment] = Field({}, max_length=10)
    littoral: dict[Id, LittoralRegiment] = Field({}, max_length=10)
    c2: C2
    partners: dict[Id, PartnerIsr] = Field({}, max_length=10)
    counterstrike: dict[Id, CounterstrikeUnit] = Field({}, max_length=10)
    sustainment: Sustainment = Sustainment()


class RedGroup(Frozen):
    """A Red surface group: coast guard, maritime militia or navy."""

    name: Text
    kind: GroupKind = Field(json_schema_extra=lever(
        "?", "which of Red's acts send the group (rules: adversary.MOVERS)"))
    home: Id
    ships: Count = Field(le=1000, json_schema_extra=lever(
        "-", "a bigger navy loses a smaller share to Blue's salvos",
        inert_when="not_navy"))
    speed_kts: Speed = Field(json_schema_extra=lever(
        "?", "it arrives sooner: less time to be seen on the way, sooner at the goal"))
    missiles_per_ship: CountOrZero = Field(0, le=100, json_schema_extra=lever(
        "-", "Red's strikes on the batteries", inert_when="not_navy"))
    interceptors_per_ship: CountOrZero = Field(0, le=100, json_schema_extra=lever(
        "-", "fewer of Blue's missiles get through", inert_when="not_fired_at"))
    p_intercept: Prob = Field(0.0, json_schema_extra=lever(
        "-", "fewer of Blue's missiles get through", inert_when="not_fired_at"))
    staying_power: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.01,
                                          le=100)] = Field(1.0, json_schema_extra=lever(
        "-", "each hit sinks less of a ship", inert_when="not_fired_at"))


class CyberUnit(Frozen):
    """A Red cyber unit that degrades C2 links or nodes for a time."""

    name: Text
    p_success: Prob = Field(json_schema_extra=lever("-", "more of Blue's links go down",
                                                    inert_when="no_cyber"))
    effect_h: Hours = Field(json_schema_extra=lever("-", "links stay down longer",
                                                    inert_when="no_cyber"))


class CounterspaceUnit(Frozen):
    """A Red counterspace unit that degrades space-dependent links and ISR."""

    name: Text
    p_success: Prob = Field(json_schema_extra=lever(
        "-", "space links and ISR sorties lost more often"))
    effect_h: Hours = Field(json_schema_extra=lever("-", "space stays down longer"))


class RedForces(Frozen):
    groups: dict[Id, RedGroup] = Field(min_length=1, max_length=20)
    cyber: dict[Id, CyberUnit] = Field({}, max_length=10)
    counterspace: dict[Id, CounterspaceUnit] = Field({}, max_length=10)
    objective: Id = Field(description="The zone Red wants to control.")


class Treaty(Frozen):
    """Which domains of armed attack can trigger the alliance's mutual-defence article."""

    article5_domains: tuple[TreatyDomain, ...] = Field(
        min_length=1, max_length=3, json_schema_extra=lever(
            "+", "an armed attack in a covered domain is answered by the alliance"))


class Turns(Frozen):
    count: TurnNumber = Field(json_schema_extra=lever(
        "-", "more turns, more chances for Red to cross the threshold"))
    hours: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0,
                                  le=MAX_TURN_HOURS)] = Field(
        json_schema_extra=lever("?", "how much happens between two of Red's choices"))


class Inject(Frozen):
    """A scripted umpire event: an action forced on a side at a turn, with its parameters."""

    turn: TurnNumber = Field(json_schema_extra=lever("?", "when the scripted act happens"))
    side: Side = Field(json_schema_extra=lever(
        "?", "only the menu its action is found in", inert_when="structural"))
    action: Id
    params: dict[Id, ParamValue] = Field({}, max_length=10)
    note: Text


class Controllers(Frozen):
    blue: ControllerKind = Field("doctrine", json_schema_extra=lever(
        "?", "who plays in `wargame play`; runs use doctrine", inert_when="structural"))
    red: ControllerKind = Field("doctrine", json_schema_extra=lever(
        "?", "who plays in `wargame play`; runs use doctrine", inert_when="structural"))


class Scenario(Frozen):
    """A whole force-posture scenario, validated including every cross-reference."""

    format: Literal["wargame-scenario/1"] = Field(json_schema_extra=lever(
        "?", "the format tag", inert_when="structural"))
    rules: Id = Field("standard", description="Name of the built-in rule set it is written for.")
    meta: Meta
    theater: Theater
    sides: Sides
    blue: BlueForces
    red: RedForces
    treaty: Treaty
    turns: Turns
    injects: tuple[Inject, ...] = Field((), max_length=500)
    controllers: Controllers = Controllers()

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        problems = reference_problems(self)
        if problems:
            raise ReferenceProblems(problems)
        return self

    def distance(self, a: str, b: str) -> float:
        """Distance in nautical miles between two zones (0 within a zone; infinite when no
        distance entry joins them: never in range, never reached)."""
        return _distance_table(self).get((a, b), math.inf)


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

    pairs: dict[frozenset[str], int] = {}
    for i, (a, b, _) in enumerate(s.theater.distances):
        need(f"theater.distances.{i}.0", a, zones, "zone")
        need(f"theater.distances.{i}.1", b, zones, "zone")
        if a == b:
            out.append((f"theater.distances.{i}.1", "a distance joins two different zones "
                                                   "(a zone is 0 nm from itself)"))
        elif frozenset((a, b)) in pairs:
            out.append((f"theater.distances.{i}", f"the distance between '{a}' and '{b}' is "
                                                  f"already given (entry "
                                                  f"{pairs[frozenset((a, b))]})"))
        pairs.setdefault(frozenset((a, b)), i)
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
    for k, p in s.blue.partners.items():
        need(f"blue.partners.{k}.report_node", p.report_node, nodes, "C2 node")
        for i, z in enumerate(p.zones):
            need(f"blue.partners.{k}.zones.{i}", z, zones, "zone")
    for k, u in s.blue.counterstrike.items():
        need(f"blue.counterstrike.{k}.site", u.site, zones, "zone")
        need(f"blue.counterstrike.{k}.node", u.node, nodes, "C2 node")
    for k, g in s.red.groups.items():
        need(f"red.groups.{k}.home", g.home, zones, "zone")
    need("red.objective", s.red.objective, zones, "zone")
    for i, inj in enumerate(s.injects):
        if inj.turn > s.turns.count:
            out.append((f"injects.{i}.turn", f"turn {inj.turn} is after the last turn "
                                             f"({s.turns.count})"))
    out.extend(_connectivity_problems(s))
    out.extend(size_problems(s))
    return out


def size_problems(s: Scenario) -> list[tuple[str, str]]:
    """The exercise's length and the run-size budget (see :func:`run_size`)."""
    out: list[tuple[str, str]] = []
    length = s.turns.count * s.turns.hours
    if length > MAX_EXERCISE_HOURS:
        out.append(("turns", f"{s.turns.count} turns of {s.turns.hours:g} h is {length:g} h; "
                             f"an exercise lasts at most {MAX_EXERCISE_HOURS:g} h (a year)"))
        return out
    size = run_size(s)
    if size["total"] > MAX_WORK:
        terms = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in size.items()
                          if k != "total")
        out.append(("turns.count", f"the run would be too large: up to {size['total']:,} "
                                   f"simulated events, the limit is {MAX_WORK:,} ({terms}); "
                                   "use fewer turns, aircraft, Red groups, batteries or C2 "
                                   "nodes"))
    return out


def run_size(s: Scenario) -> dict[str, int]:
    """An upper bound on the work of one run, term by term (docs/authoring.md explains it):

    sorties: every aircraft flying the rules' highest sortie rate every day of the exercise;
    search_draws: each sortie, each battery's organic sensor each turn and each partner's
    search of each of its zones each turn, draws once per Red group; message_hops: every draw a
    detection whose track report crosses the longest possible route (nodes - 1 links) to every
    destination (the authority node, each regiment's HQ and each counterstrike unit's node);
    engagement_checks: each detection's report may make every regiment look over every battery
    and every counterstrike unit look for a target; missiles: every missile in an anti-ship or
    counterstrike magazine, and every one co-production delivers, fired in a salvo of its own.
    """
    days = s.turns.count * s.turns.hours / 24
    aircraft = sum(d.aircraft for d in s.blue.isr.values())
    regiments = s.blue.littoral.values()
    sensors = sum(len(r.batteries) for r in regiments
                  if r.sensor_sweep_nm > 0 and r.sensor_kts > 0)
    batteries = sum(len(r.batteries) for r in regiments)
    shooting = [b for r in regiments if r.anti_ship for b in r.batteries.values()]
    strikers = s.blue.counterstrike.values()
    missiles = (sum(b.magazine for b in shooting) + sum(u.magazine for u in strikers)
                + len(shooting) * s.blue.sustainment.missile_resupply_per_turn * s.turns.count)
    partner_zones = sum(len(set(p.zones)) for p in s.blue.partners.values())
    groups = len(s.red.groups)
    c2 = s.blue.c2
    destinations = len({c2.authority_node} | {r.hq_node for r in regiments}
                       | {u.node for u in strikers})
    hops = max(1, min(len(c2.nodes) - 1, len(c2.links)))
    sorties = math.ceil(aircraft * MAX_SORTIES_PER_DAY * days)
    draws = (sorties + (sensors + partner_zones) * s.turns.count) * groups
    size = {"sorties": sorties, "search_draws": draws,
            "message_hops": draws * destinations * hops,
            "engagement_checks": draws * (len(regiments) * batteries + len(strikers)),
            "missiles": missiles}
    size["total"] = (4 * sorties + draws + size["message_hops"] + size["engagement_checks"]
                     + 2 * missiles)
    return size


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
    return Scenario.model_validate(set_values(s.model_dump(mode="json"), values))


def set_values(data: dict[str, object], values: Mapping[str, object]) -> dict[str, object]:
    """Set values at dotted paths of a model's JSON data, in place (and return it); KeyError
    names a path that does not exist."""
    for path, value in values.items():
        node: object = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = _child(node, part, path)
        last = parts[-1]
        if isinstance(node, list):
            if not (last.isdigit() and int(last) < len(node)):
                raise KeyError(f"index '{last}' out of range at '{path}' (the list has "
                               f"{len(node)} items)")
            node[int(last)] = value
        elif isinstance(node, dict) and last in node:
            node[last] = value
        else:
            raise KeyError(f"no field '{last}' at '{path}'")
    return data


def _child(node: object, part: str, path: str) -> object:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise KeyError(f"no field '{part}' in '{path}'")


def cut_turns(data: dict[str, Any], count: int) -> None:
    """Set a scenario's dumped data to ``count`` turns, dropping the injects after the last
    (the one rule for ``wargame run --turns`` and a sweep's ``turns.count`` factor)."""
    data["turns"]["count"] = count
    data["injects"] = [i for i in data["injects"] if i["turn"] <= count]


def with_turns(s: Scenario, count: int) -> Scenario:
    """The scenario cut (or extended) to ``count`` turns, dropping injects after the last;
    ScenarioError when that many turns break a limit."""
    data = s.model_dump(mode="json")
    cut_turns(data, count)
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        why = "; ".join(_reason(err) for err in e.errors(include_url=False))
        raise ScenarioError("", (Problem(s.meta.id, f"cannot play {count} turns: {why}",
                                         field="turns.count"),)) from None


def _reason(err: ErrorDetails) -> str:
    error = err.get("ctx", {}).get("error")
    if isinstance(error, ReferenceProblems):
        return "; ".join(m for _, m in error.problems)
    return err["msg"]
