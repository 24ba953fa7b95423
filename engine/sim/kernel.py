"""``run(scenario, rules, seed, controllers, sink) -> RunResult``: a loop over a session.

Every turn each side's controller gets its observation and menu and returns orders; the
umpire's controller (white), when one plays, adds live injects. ``run`` touches no file, clock
or global: the same arguments give the same records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.sim.controllers import Controller, as_decision, default_controllers, name_of
from engine.sim.rng import Seed
from engine.sim.session import Game, Session
from engine.sim.state import Sink
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario
from engine.spec.types import Side


@dataclass(frozen=True)
class Switch:
    """At the start of ``turn``, reseed every stream (when ``seed`` is given) and hand sides to
    new controllers: how a fork continues a game differently from a given turn."""

    turn: int
    seed: Seed | None = None
    controllers: Mapping[str, Controller] | None = None
    note: Mapping[str, Any] | None = None  # logged in the game.fork record


@dataclass(frozen=True)
class RunResult:
    """What a run produced besides its records: the outcome, its seed, and how many records it
    emitted (None for a measures-only run, which builds none)."""

    outcome: dict[str, Any]
    seed: dict[str, Any]
    records: int | None


def run(scenario: Scenario, rules: Rules, seed: Seed = 0,
        controllers: Mapping[str, Controller] | None = None,
        sink: Sink | None = None, switch: Switch | None = None) -> RunResult:
    """Play one exercise with controllers (doctrine for any side not given)."""
    game, doctrine = _cached(scenario, rules)
    session = game.start(seed, sink)
    players: dict[str, Controller] = {**doctrine, **(controllers or {})}
    names = _names(players)
    while not session.over:
        if switch is not None and switch.turn == session.turn:
            players = _switch(session, switch, players)
            names = _names(players)
        play_turn(session, players, names)
    return RunResult(session.outcome, session.seed,
                     session.records if session.w.recording else None)


_GAMES: dict[tuple[int, int], tuple[Game, dict[str, Controller]]] = {}
_GAMES_KEPT = 8  # a sweep over rules or scenarios makes a new pair per design point


def game_of(scenario: Scenario, rules: Rules) -> Game:
    """The Game of a scenario and rules pair, made once for the runs of the pair (see
    :func:`_cached`)."""
    return _cached(scenario, rules)[0]


def _cached(scenario: Scenario, rules: Rules) -> tuple[Game, dict[str, Controller]]:
    """The Game of a pair and its default controllers, made once for the runs of the pair:
    scenario and rules are frozen models, so the tables a Game derives from them (menus,
    distances, Red's prior) and the doctrine's parsed rules hold for every run, and doctrine
    keeps no state between calls. Keyed by identity; the entry holds the pair, so their ids
    cannot be reused by other objects while it is kept."""
    key = (id(scenario), id(rules))
    entry = _GAMES.get(key)
    if entry is None or entry[0].scenario is not scenario or entry[0].rules is not rules:
        if len(_GAMES) >= _GAMES_KEPT:
            del _GAMES[next(iter(_GAMES))]  # the oldest
        entry = _GAMES[key] = (Game(scenario, rules), default_controllers(rules))
    return entry


_WITH_UMPIRE: tuple[Side, ...] = ("white", "blue", "red")
_TEAMS: tuple[Side, ...] = ("blue", "red")


def play_turn(session: Session, players: Mapping[str, Controller],
              names: Mapping[str, str] | None = None) -> None:
    """Ask each controller for its orders (the umpire first), then play the turn; ``names``
    are the controllers' (name_of), when the caller made them once for its turns."""
    if names is None:
        names = _names(players)
    for side in _WITH_UMPIRE if "white" in players else _TEAMS:
        controller = players[side]
        made = as_decision(controller(session.observation(side), session.legal_orders(side)))
        session.submit(side, made, strict=False, controller=names[side])
    session.step()


def _names(players: Mapping[str, Controller]) -> dict[str, str]:
    return {side: name_of(controller) for side, controller in players.items()}


def _switch(session: Session, switch: Switch,
            players: dict[str, Controller]) -> dict[str, Controller]:
    if switch.seed is not None:
        session.reseed(switch.seed)
    players = {**players, **(switch.controllers or {})}
    session.note("game.fork", "", {
        **(switch.note or {}), "turn": switch.turn,
        "controllers": {side: name_of(c) for side, c in sorted(players.items())}})
    return players
