"""What each role's page receives, as JSON: a team its own observation, menu, story and map;
the umpire everything; the projector only what both sides may see.

The information rule is the session's (sim/kinds.py and sim/views.py): a team's page is built
from ``session.observation(side)`` and the records that side may see, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from engine.classroom.room import Room, summary
from engine.present.narrative import labels_of, tell
from engine.spec.types import TEAMS, Team

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[.\-][A-Za-z0-9_]+)*")
DOMAINS = {"land_sea_air": "land, sea and air"}  # "cyber" and "space" are words already


def name_table(room: Room) -> dict[str, str]:
    """Every scenario id a page may meet -> its name in words: zones, bases, units, aircraft,
    batteries, C2 nodes and links, Red groups and units, rungs, treaty domains."""
    sc = room.game.scenario
    t: dict[str, str] = {**DOMAINS}
    t.update({r.id: r.label for r in room.game.rules.ladder.rungs()})
    t.update({z: zone.name for z, zone in sc.theater.zones.items()})
    t.update({b: base.name for b, base in sc.theater.bases.items()})
    for d, det in sc.blue.isr.items():
        t[d] = det.name
        t.update({f"{d}.{n}": f"aircraft {n} of the {det.name}"
                  for n in range(1, det.aircraft + 1)})
    for r, reg in sc.blue.littoral.items():
        t[r] = reg.name
        t.update({f"{r}.{b}": f"battery {b.upper()} of the {reg.name}" for b in reg.batteries})
    nodes = sc.blue.c2.nodes
    t.update({n: node.name for n, node in nodes.items()})
    t.update({k: f"{nodes[link.a].name} ↔ {nodes[link.b].name}"
              for k, link in sc.blue.c2.links.items()})
    t.update({g: group.name for g, group in sc.red.groups.items()})
    t.update({u: unit.name for u, unit in sc.red.cyber.items()})
    t.update({u: unit.name for u, unit in sc.red.counterspace.items()})
    return t


def _ids(value: Any) -> set[str]:
    """The id-like words in a JSON value (keys, values and the words of text)."""
    if isinstance(value, Mapping):
        return set().union(*(_ids(k) | _ids(v) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return set().union(*(_ids(v) for v in value))
    if isinstance(value, str):
        return set(_ID.findall(value))
    return set()


def names(room: Room, *parts: Any) -> dict[str, str]:
    """Names for the ids that ``parts`` (a page's own JSON) already hold, and no others: the
    names add words, never knowledge."""
    table = name_table(room)
    return {k: table[k] for k in sorted(_ids(list(parts)) & table.keys())}


def ladder(room: Room) -> list[dict[str, Any]]:
    """The escalation ladder, bottom to top (public: both sides know the rules)."""
    return [{"id": r.id, "label": r.label, "level": r.level}
            for r in room.game.rules.ladder.rungs()]


def labels(room: Room, side: Team | None = None) -> dict[str, str]:
    """Action id -> label: a team's own actions (its rule book), or both sides' for the umpire."""
    if side is None:
        return labels_of(room.game.rules)
    return {aid: a.label for aid, a in getattr(room.game.rules.actions, side).items()}


def sides(room: Room) -> dict[str, str]:
    sc = room.game.scenario.sides
    return {"blue": sc.blue.name, "red": sc.red.name}


def _map(room: Room, observation: Mapping[str, Any] | None) -> str:
    from engine.present.svgmap import layer_for, theater_svg
    return theater_svg(room.game.scenario, layer_for(observation, room.game.rules))


def _story(room: Room, records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Plain-words lines for records (routine ones are left out)."""
    labels = labels_of(room.game.rules)
    return [line for r in records if (line := tell(dict(r), labels))]


def _pending(room: Room, side: Team) -> dict[str, Any] | None:
    p = room.pending.get(side)
    if p is None:
        return None
    return {"orders": [o.to_json() for o in p.orders], "rationale": p.rationale}


def _outcome(room: Room, public: bool) -> dict[str, Any] | None:
    """The outcome once the game is over: a team sees when it learned of an attack, not the
    turn Red ordered it unless Blue learned of it."""
    s = room.session
    if not s.over:
        return None
    o = s.outcome
    if not public:
        return o
    return {"turns_played": o["turns_played"], "highest_rung": o["highest_rung"],
            "known_turn": o["known_turn"], "article5_turn": o["article5_turn"]}


def team_view(room: Room, side: Team) -> dict[str, Any]:
    """A team's page: its observation, legal orders, its pending orders, last turn's story."""
    s = room.session
    obs = s.observation(side).to_json()
    menu, pending, story = s.legal_orders(side).to_json(), _pending(room, side), _story(
        room, obs["events"])
    return {**summary(room), "role": side, "side": side,
            "observation": obs, "menu": menu, "pending": pending,
            "story": story, "map": _map(room, obs),
            "outcome": _outcome(room, public=True), "ladder": ladder(room),
            "sides": sides(room), "names": names(room, obs, menu, pending, story),
            "labels": labels(room, side)}


def umpire_view(room: Room) -> dict[str, Any]:
    """The White cell's console: both sides' views, the truth, injects, the outcome."""
    s = room.session
    white = s.observation("white").to_json()
    return {**summary(room), "role": "umpire",
            "views": {side: {"observation": s.observation(side).to_json(),
                             "pending": _pending(room, side)} for side in TEAMS},
            "truth": white, "menus": {side: s.legal_orders(side).to_json() for side in TEAMS},
            "injects": {"scripted": room.scripted_injects(),
                        "pending": [o.to_json() for o in room.injects]},
            "story": _story(room, room.last_turn), "map": _map(room, white),
            "outcome": _outcome(room, public=False), "ladder": ladder(room),
            "sides": sides(room), "names": name_table(room), "labels": labels(room)}


def projector_view(room: Room) -> dict[str, Any]:
    """The projected screen: the public map, the rung on the ladder, public events."""
    s = room.session
    said = labels_of(room.game.rules)
    timeline = [{"turn": r["turn"], "t": r["t"], "text": line}
                for r in room.public if (line := tell(r, said))]
    return {**summary(room), "role": "projector", "rung": s.w.ladder.rung,
            "ladder": ladder(room), "timeline": timeline,
            "map": _map(room, {"side": "public", "rung": s.w.ladder.rung, "turn": s.turn}),
            "outcome": _outcome(room, public=True),
            "sides": sides(room), "names": names(room, timeline, s.w.ladder.rung)}
