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
    session = Game(scenario, rules).start(seed, sink)
    players: dict[str, Controller] = {**default_controllers(rules), **(controllers or {})}
    while not session.over:
        if switch is not None and switch.turn == session.turn:
            players = _switch(session, switch, players)
        play_turn(session, players)
    return RunResult(session.outcome, session.seed,
                     session.records if session.w.recording else None)


def play_turn(session: Session, players: Mapping[str, Controller]) -> None:
    """Ask each controller for its orders (the umpire first), then play the turn."""
    sides: tuple[Side, ...] = ("white", "blue", "red") if "white" in players else ("blue", "red")
    for side in sides:
        controller = players[side]
        made = as_decision(controller(session.observation(side), session.legal_orders(side)))
        session.submit(side, made, strict=False, controller=name_of(controller))
    session.step()


def _switch(session: Session, switch: Switch,
            players: dict[str, Controller]) -> dict[str, Controller]:
    if switch.seed is not None:
        session.reseed(switch.seed)
    players = {**players, **(switch.controllers or {})}
    session.note("game.fork", "", {
        **(switch.note or {}), "turn": switch.turn,
        "controllers": {side: name_of(c) for side, c in sorted(players.items())}})
    return players
