"""What each role's page receives, as JSON: a team its own observation, menu, story and map;
the umpire everything; the projector only what both sides may see.

The information rule is the session's (sim/kinds.py and sim/views.py): a team's page is built
from ``session.observation(side)`` and the records that side may see, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.classroom.room import Room, summary
from engine.present.narrative import labels_of, tell
from engine.spec.types import TEAMS, Team


def _map(room: Room, observation: Mapping[str, Any] | None) -> str:
    from engine.present.svgmap import layer_for, theater_svg
    return theater_svg(room.game.scenario, layer_for(observation) if observation else None)


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
    return {**summary(room), "role": side, "side": side,
            "observation": obs, "menu": s.legal_orders(side).to_json(),
            "pending": _pending(room, side),
            "story": _story(room, obs["events"]), "map": _map(room, obs),
            "outcome": _outcome(room, public=True)}


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
            "outcome": _outcome(room, public=False)}


def projector_view(room: Room) -> dict[str, Any]:
    """The projected screen: the public map, the rung on the ladder, public events."""
    s = room.session
    ladder = [{"id": r.id, "label": r.label, "level": r.level}
              for r in room.game.rules.ladder.rungs()]
    return {**summary(room), "role": "projector", "rung": s.w.ladder.rung, "ladder": ladder,
            "timeline": [{"turn": r["turn"], "t": r["t"], "text": line}
                         for r in room.public if (line := tell(r, labels_of(room.game.rules)))],
            "map": _map(room, None), "outcome": _outcome(room, public=True)}
