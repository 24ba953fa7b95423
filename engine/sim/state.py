"""The mutable state of one run, and the single place records are made.

A World lives inside one call of ``engine.run``: it owns the simpy Environment, the run's named
random streams and the record sink. Nothing in it is global; two Worlds never share anything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import simpy

from engine.sim.rng import Streams
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

BLUE, RED = ("blue",), ("red",)
BOTH = ("blue", "red")


class Sink(Protocol):
    """Where records go: a list, a log writer, or a metrics-only reducer."""

    def emit(self, record: dict[str, Any]) -> None: ...
    def end_turn(self, turn: int) -> None: ...


class ListSink(list):
    """Keeps every record in memory (tests, notebooks, small runs)."""

    def emit(self, record: dict[str, Any]) -> None:
        self.append(record)

    def end_turn(self, turn: int) -> None:
        return None


@dataclass
class GroupState:
    """Where a Red group is (or is heading) and how strong it still is."""

    zone: str
    dest: str
    arrive_t: float
    ships: float
    mission: str = "home"
    leg: int = 0  # counts orders to move: an arrival belongs to the latest leg only


@dataclass
class BatteryState:
    site: str
    launchers: float
    magazine: int
    ready_t: float = 0.0  # not able to fire before this time (displacing)


@dataclass
class LinkState:
    """A link's condition, and its capacity counted by hand: a simpy event is made only when a
    message must actually queue for a free channel."""

    capacity: int = 1
    degraded_until: float = -1.0
    hardened: bool = False
    in_use: int = 0
    waiting: deque = field(default_factory=deque)


@dataclass
class Track:
    """Blue's latest report on a Red group, as known at a C2 node."""

    zone: str
    detected_t: float


def r6(x: float) -> float:
    """Round a float for the log: stable text, and immune to last-bit platform differences."""
    return round(float(x), 6)


@dataclass
class World:
    """Everything that changes during one run."""

    scenario: Scenario
    rules: Rules
    env: simpy.Environment
    streams: Streams
    sink: Sink
    turn: int = 0
    seq: int = 0
    recording: bool = True  # False when the sink wants measures only (sweeps)
    facts: dict[str, dict[str, float]] = field(default_factory=dict)  # this orders phase
    fired_early: set[int] = field(default_factory=set)  # scripted injects the umpire fired
    rung: str = ""
    highest: str = ""
    armed_attack_turn: int | None = None
    article5_turn: int | None = None
    groups: dict[str, GroupState] = field(default_factory=dict)
    batteries: dict[tuple[str, str], BatteryState] = field(default_factory=dict)
    links: dict[str, LinkState] = field(default_factory=dict)
    tracks: dict[str, dict[str, Track]] = field(default_factory=dict)  # node -> group -> track
    isr_tempo: dict[str, str] = field(default_factory=dict)
    readiness: dict[str, str] = field(default_factory=dict)
    authority: dict[str, bool] = field(default_factory=dict)
    authority_pending: dict[str, bool] = field(default_factory=dict)
    consulted_turn: int = -99
    space_degraded_until: float = -1.0
    beliefs: dict[str, float] = field(default_factory=dict)
    turn_log: dict[str, Any] = field(default_factory=dict)  # this turn's facts for adjudication
    last_turn: dict[str, Any] = field(default_factory=dict)
    incursion_t: dict[str, float] = field(default_factory=dict)  # group -> arrival, undetected
    red_gains: float = 0.0
    dist: dict[tuple[str, str], float] = field(default_factory=dict)  # zone pairs with a route
    routes: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # C2 node pairs
    totals: dict[str, float] = field(default_factory=dict)  # every turn's notes, summed
    # called when a track reaches a C2 node (the littoral regiment listens at its HQ)
    track_listeners: dict[str, list[Callable[[], None]]] = field(default_factory=dict)

    @property
    def now(self) -> float:
        return float(self.env.now)

    @property
    def hours(self) -> float:
        return float(self.scenario.turns.hours)

    def rng(self, name: str):
        return self.streams(name)

    def emit(self, kind: str, side: str, unit: str, data: dict[str, Any],
             visible_to: tuple[str, ...]) -> None:
        """Make one record; seq orders records, ties in time broken by emission order.
        Hot call sites test ``recording`` first so a metrics-only run builds no data dicts."""
        if not self.recording:
            return
        self.sink.emit({
            "seq": self.seq, "turn": self.turn, "t": r6(self.env.now), "kind": kind,
            "side": side, "unit": unit, "data": data, "visible_to": list(visible_to),
        })
        self.seq += 1

    def note(self, key: str, value: Any = 1) -> None:
        """Count a fact of the current turn (read by adjudication and next turn's views)."""
        self.turn_log[key] = self.turn_log.get(key, 0) + value

    def close_turn(self) -> None:
        """Fold this turn's numeric notes into the run totals."""
        for k, v in self.turn_log.items():
            if isinstance(v, int | float):
                self.totals[k] = self.totals.get(k, 0) + v

    def link_degraded(self, link_id: str) -> bool:
        return self.links[link_id].degraded_until > self.now

    def rung_level(self, rung: str | None = None) -> int:
        return self.rules.ladder.level(rung or self.rung)
