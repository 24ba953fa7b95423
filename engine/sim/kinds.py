"""Every record kind, declared once: its acting side, its payload and who may see it.

This is the information model's single source. A record's ``visible_to`` is never chosen at the
place it is emitted: :func:`visible_to` derives it from the kind's rule and, for the few kinds
whose visibility depends on mechanics, from a payload field that the mechanics set (for example
``isr.on_station`` is seen by Red only when ``seen_by_red``: a Red group was in the zone or the
zone is Red's objective, which Red watches). The umpire (white) sees every record.

What each side can know (DESIGN.md section 4):
- Blue learns of Red's acts by detection, by a successful attribution draw or by effects it
  observes itself (a link going down; an armed attack when detected or when its effects land).
- Red sees Blue's public acts: exercises, statements, the ISR aircraft it can see, the
  dispersal it detects, the alliance's announcements (engagement authority, Article V).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from engine.spec.types import Side, Team

BLUE: tuple[Team, ...] = ("blue",)
RED: tuple[Team, ...] = ("red",)
BOTH: tuple[Team, ...] = ("blue", "red")
NOBODY: tuple[Team, ...] = ()


class Seen(Enum):
    """How a kind's visibility is decided."""

    OWN = "the acting side only"
    PUBLIC = "both sides"
    UMPIRE = "the umpire only"
    BLUE = "Blue only"
    RED = "Red only"
    IF_SEEN_BY_RED = "the acting side, and Red when the payload's seen_by_red is true"
    AFFECTED_SIDE = "the side named by the payload's side field"


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One record kind: who acts, who sees it, the payload fields it always carries."""

    name: str
    side: Side | None  # None: given where the record is made (orders, rejections)
    seen: Seen
    fields: tuple[str, ...]
    doc: str


def _k(name: str, side: Side | None, seen: Seen, fields: str, doc: str) -> KindSpec:
    return KindSpec(name, side, seen, tuple(fields.split()), doc)


_SPECS = (
    # Blue's ISR
    _k("isr.sortie.launch", "blue", Seen.OWN, "zone transit_h on_station_h lands_at_h",
       "An aircraft takes off for a zone; its whole timeline is known at launch."),
    _k("isr.sortie.cancel", "blue", Seen.OWN,
       "reason p_available draw p_weather draw_weather p_maintenance draw_maintenance "
       "p_space_loss draw_space", "A sortie did not fly; every draw that decided it."),
    _k("isr.on_station", "blue", Seen.IF_SEEN_BY_RED, "zone seen_by_red",
       "An aircraft begins its search; Red sees it over its groups or its objective."),
    _k("isr.search", "blue", Seen.UMPIRE,
       "zone group law hazard_per_h hours p_detect draw detected",
       "One search draw against one Red group (Koopman's law); the umpire's, since even a "
       "miss would tell Blue where an unseen group is going."),
    _k("isr.detect", "blue", Seen.OWN, "group zone p_detect draw",
       "A Red group is found, with the search draw that found it."),
    _k("partner.share", "blue", Seen.UMPIRE, "group zone p_share draw shared",
       "Whether a regional partner passes a detection to the alliance; the umpire's, since a "
       "report withheld never reaches Blue (a passed one reaches it as an isr.detect)."),
    # C2
    _k("c2.message.lost", "blue", Seen.OWN, "what to link reason p_loss draw",
       "A message was lost on a link (or had no route)."),
    _k("c2.message.delivered", "blue", Seen.OWN, "what from route latency_h latency_z",
       "A message reached its destination; latency_z: each hop's lognormal draw."),
    _k("c2.share.withheld", "blue", Seen.OWN, "to p_share draw",
       "A report was not shared across nations."),
    _k("c2.link.degraded", "blue", Seen.OWN, "until_h",
       "A link is down: Blue observes the outage, not who caused it."),
    _k("c2.link.restored", "blue", Seen.OWN, "", "A link is back."),
    _k("c2.hardened", "blue", Seen.OWN, "", "Blue hardened its C2 links."),
    _k("space.degraded", "blue", Seen.OWN, "until_h",
       "Space links are down: Blue observes the outage, not who caused it."),
    _k("c2.authority.granted", "blue", Seen.PUBLIC, "by regiment",
       "Engagement authority reached a regiment; the alliance announces it."),
    _k("alliance.consultation", "blue", Seen.OWN, "regiment hours",
       "Allies consult before granting engagement authority."),
    # the littoral regiment
    _k("littoral.readiness", "blue", Seen.OWN, "from to", "A regiment changed readiness."),
    _k("littoral.displace", "blue", Seen.IF_SEEN_BY_RED, "from to ready_in_h seen_by_red",
       "A battery moves site; Red sees it when one of its groups is in either zone."),
    _k("engagement.salvo", "blue", Seen.PUBLIC,
       "target shooters missiles p_hit good_shots interceptors p_intercept intercepts hits "
       "damage ships_before ships_lost model",
       "A battery's anti-ship salvo with every draw (Armstrong's stochastic salvo)."),
    _k("littoral.resupply", "blue", Seen.OWN, "added magazine",
       "Co-produced missiles reach a battery's magazine (up to its starting load)."),
    _k("counterstrike.salvo", "blue", Seen.PUBLIC,
       "target from zone shooters missiles p_hit good_shots interceptors p_intercept intercepts "
       "hits damage ships_before ships_lost model",
       "A counterstrike salvo at a Red group with every draw (Armstrong's stochastic salvo): "
       "Blue fired it and Red's forces took it."),
    _k("engagement.strike", "red", Seen.PUBLIC,
       "target launchers_before launchers_lost of scouting model",
       "A Red naval strike lands on a battery (Hughes' salvo)."),
    # Blue's public acts
    _k("blue.exercise", "blue", Seen.PUBLIC, "count", "A joint exercise: public."),
    _k("blue.signal", "blue", Seen.PUBLIC, "", "A public statement of resolve."),
    # Red
    _k("red.move", "red", Seen.OWN, "from to mission eta_h", "A Red group sets off."),
    _k("red.incursion", "red", Seen.OWN, "zone mission",
       "A Red group arrives in claimed waters (Blue learns of it only by detection)."),
    _k("red.cyber.attack", "red", Seen.OWN, "link hardened p_success draw success",
       "A cyber attack on a link, with its draw."),
    _k("red.counterspace.attack", "red", Seen.OWN, "destructive p_success draw success",
       "A counterspace attack, with its draw."),
    _k("red.gain", "red", Seen.UMPIRE, "action attributed gain p_attribute draw",
       "What Red gained from an act, and whether Blue attributed it (the umpire's score)."),
    _k("intel.attribution", "blue", Seen.BLUE, "action domain p_attribute draw",
       "Blue's intelligence attributes a cyber or space act to Red."),
    _k("red.decision", "red", Seen.OWN, "options draw choice",
       "How Red's doctrine scored its options and drew its choice."),
    # the ladder and the alliance
    _k("escalation.rung", "white", Seen.PUBLIC, "from to level", "The public rung moved."),
    _k("escalation.threshold", "white", Seen.RED, "action domain",
       "Red ordered an armed attack: deterrence failed (Blue learns of it later)."),
    _k("alliance.armed_attack", "white", Seen.BLUE, "domain how",
       "Blue learns of the armed attack: detected, or its effects landed."),
    _k("alliance.article5", "white", Seen.PUBLIC, "domain invoked treaty_domains",
       "The allies decide on Article V once Blue knows of an armed attack."),
    # orders and the umpire
    _k("orders", None, Seen.OWN, "controller orders", "A side's orders for the turn."),
    _k("orders.rejected", None, Seen.OWN, "order reason source", "An order that was refused."),
    _k("umpire.inject", "white", Seen.AFFECTED_SIDE, "side action note",
       "The umpire forces an act on a side, which is told of it."),
    _k("game.fork", "white", Seen.PUBLIC, "turn controllers", "A fork continues from here."),
    # per-turn state
    _k("state.blue", "blue", Seen.OWN,
       "isr_tempo readiness authority batteries links_degraded tracks armed_attack_known "
       "detections c2_delivered c2_sent", "Blue's own situation at the end of a turn."),
    _k("state.red", "red", Seen.OWN, "groups beliefs seen incursions",
       "Red's own situation at the end of a turn."),
    _k("turn.measures", "white", Seen.UMPIRE,
       "detections c2_delivered c2_sent incursions fresh_tracks degraded_count beliefs "
       "armed_attack_known", "Every measure of the turn: the umpire's."),
    _k("turn.end", "white", Seen.PUBLIC, "rung red_losses blue_losses",
       "The public end of a turn."),
)

KINDS: Mapping[str, KindSpec] = {k.name: k for k in _SPECS}


def _each(kind: str, names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(), kind)


# A payload field means one thing, with one JSON type, in every kind that carries it (so a
# table of all records has one type per column); "?" marks a field that may be null.
FIELD_TYPES: Mapping[str, str] = {
    **_each("str", "zone group law reason what from to target model mission action domain "
                   "how controller source side note rung regiment by"),
    **_each("float", "transit_h on_station_h lands_at_h p_available draw_weather p_weather "
                     "p_maintenance draw_maintenance p_space_loss draw_space hazard_per_h hours "
                     "p_detect latency_h p_share until_h ready_in_h p_hit p_intercept "
                     "ships_before ships_lost launchers_before launchers_lost scouting eta_h "
                     "p_success gain red_losses blue_losses p_loss"),
    **_each("int", "shooters missiles good_shots interceptors intercepts hits of count level "
                   "turn detections c2_delivered c2_sent incursions fresh_tracks degraded_count "
                   "added magazine"),
    **_each("bool", "seen_by_red detected hardened success destructive attributed invoked "
                    "armed_attack_known shared"),
    **_each("list", "route damage treaty_domains orders links_degraded latency_z"),
    **_each("dict", "options order controllers isr_tempo readiness authority batteries tracks "
                    "groups beliefs seen"),
    **_each("float?", "draw p_attribute"),
    **_each("str?", "link choice"),
}

_IS = {"str": lambda v: isinstance(v, str), "float": lambda v: type(v) is float,
       "int": lambda v: type(v) is int, "bool": lambda v: type(v) is bool,
       "list": lambda v: isinstance(v, list), "dict": lambda v: isinstance(v, dict)}


def payload_problems(record: Mapping[str, Any]) -> list[str]:
    """What in a record's payload breaks its kind's declaration: a missing field, or a value
    not of the field's type. Empty when the record keeps the contract."""
    spec, data = KINDS[record["kind"]], record["data"]
    out = []
    for name in spec.fields:
        if name not in data:
            out.append(f"{spec.name}: missing field {name!r}")
            continue
        kind = FIELD_TYPES[name]
        value = data[name]
        if value is None and kind.endswith("?"):
            continue
        if not _IS[kind.rstrip("?")](value):
            out.append(f"{spec.name}: {name}={value!r} is not {kind}")
    return out


def visible_to(kind: str, side: Side, data: Mapping[str, Any]) -> tuple[Team, ...]:
    """The teams that may see a record of ``kind`` made by ``side`` with payload ``data``."""
    fixed = _FIXED_VISIBILITY.get((kind, side))
    if fixed is not None:  # most kinds: decided by kind and side alone, looked up once
        return fixed
    return _visibility(KINDS[kind].seen, side, data)


def _visibility(seen: Seen, side: Side, data: Mapping[str, Any]) -> tuple[Team, ...]:
    """The teams a record reaches under rule ``seen``, made by ``side`` with ``data``."""
    if seen is Seen.PUBLIC:
        return BOTH
    if seen is Seen.UMPIRE:
        return NOBODY
    if seen is Seen.BLUE:
        return BLUE
    if seen is Seen.RED:
        return RED
    if seen is Seen.AFFECTED_SIDE:
        target = data.get("side")
        return BLUE if target == "blue" else RED if target == "red" else NOBODY
    own = BLUE if side == "blue" else RED if side == "red" else NOBODY
    if seen is Seen.IF_SEEN_BY_RED and data.get("seen_by_red") is True:
        return BOTH
    return own


def fixed_visibility(table: Mapping[str, KindSpec]) -> dict[tuple[str, Side], tuple[Team, ...]]:
    """Who sees each (kind, side) whose payload has no say: every record is made through
    visible_to, and a lookup is cheaper than the rules. Derived from ``table`` (KINDS), never
    written by hand; whoever changes KINDS must rebuild it (the leak tests do)."""
    return {(name, side): _visibility(spec.seen, side, {})
            for name, spec in table.items()
            if spec.seen not in (Seen.IF_SEEN_BY_RED, Seen.AFFECTED_SIDE)
            for side in ("blue", "red", "white")}


_FIXED_VISIBILITY = fixed_visibility(KINDS)


def can_see(team: Team, record: Mapping[str, Any]) -> bool:
    """Whether the model lets ``team`` see a record (what the leak checker holds logs to)."""
    return team in visible_to(str(record["kind"]), record["side"], record["data"])
