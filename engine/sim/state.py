"""The mutable state of one session, split by concept; each part has one writer.

| part | written only by |
|---|---|
| ``World.isr`` (tempo, tracks, open search windows) | ``sim/forces/isr.py`` |
| ``World.c2`` (links, space segment) | ``sim/forces/c2.py`` |
| ``World.littoral`` (batteries, readiness, authority) | ``sim/forces/littoral.py`` |
| ``World.red`` (groups, the incursion clock) | ``sim/forces/adversary.py`` |
| ``World.ladder`` (rung, threshold, Article V, Blue's knowledge) | ``sim/escalation.py`` |
| ``World.mind`` (Red's beliefs and picture of Blue) | ``sim/beliefs.py`` |
| ``World.counterstrike`` (magazines, last salvo) | ``sim/forces/counterstrike.py`` |
| ``World.tally`` (this turn's measures and the run's totals) | every module, add-only |

(``tests/sim/test_state.py`` checks the table against the code.) A World lives inside one
session: it owns the simpy Environment, the named random streams and the record sink; nothing in
it is global.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import simpy

from engine.sim.kinds import KINDS, visible_to
from engine.sim.rng import Streams
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario
from engine.spec.types import Mission, Readiness, Side, Tempo

T = TypeVar("T")


class Sink(Protocol):
    """Where records go: a list, a log writer, or a metrics-only reducer."""

    def emit(self, record: dict[str, Any]) -> None: ...
    def end_turn(self, turn: int) -> None: ...


class ListSink(list[dict[str, Any]]):
    """Keeps every record in memory (tests, notebooks, small runs)."""

    def emit(self, record: dict[str, Any]) -> None:
        self.append(record)

    def end_turn(self, turn: int) -> None:
        return None


class MeasuresOnly:
    """The sink of a measures-only run (sweeps, lever audits): the kernel builds no records."""

    wants_records = False
    wants_digest = False

    def emit(self, record: dict[str, Any]) -> None:
        return None

    def end_turn(self, turn: int) -> None:
        return None


class TurnSeries(MeasuresOnly):
    """Measures only, plus one small row per turn played (a sweep's per-turn table): the
    session hands it ``turn_row`` at each turn's end."""

    wants_turns = True

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def turn_row(self, row: dict[str, Any]) -> None:
        self.rows.append(row)


_FAST_R6_LIMIT = 2**32  # |x| * 1e6 below this: the product's error stays under 5e-7


def r6(x: float) -> float:
    """Round a float for the log (``round(x, 6)``, bit for bit): stable text, and immune to
    last-bit platform differences. NaN and infinities are refused (ValueError) where they arise.

    Speed: ``round(x, 6)`` formats x as decimal digits and parses them back (~0.5 µs, and a log
    rounds some 5,000 floats a run). Rounding x * 1e6 to an integer k and dividing gives the
    same double (k / 1e6 is the correctly rounded value of the decimal k e-6) whenever k is the
    integer nearest the exact product: sure when the computed product is more than 1e-6 from a
    half (its error is below 5e-7 under the limit). A zero is returned as it is (its sign
    kept, as round keeps it); ties, other results of zero, huge numbers, NaN and infinities
    take the exact path. tests/sim/test_state.py compares the two."""
    if type(x) is not float:
        x = float(x)
    q = x * 1e6
    if -_FAST_R6_LIMIT < q < _FAST_R6_LIMIT:  # False for NaN, whose comparisons all fail
        k = round(q)
        if k and -0.499999 < q - k < 0.499999:
            return k / 1e6
        if x == 0.0:
            return x  # 0.0 or -0.0, as round keeps it
    return _r6_exact(x)


def _r6_exact(x: float) -> float:
    x = round(x, 6)
    if x - x != 0.0:  # NaN - NaN and inf - inf are NaN; every finite x gives 0.0
        raise ValueError(f"a non-finite number ({x}) reached the log")
    return x


def rounded(value: Any) -> Any:
    """Floats rounded for the log (r6), through nested dicts and lists."""
    kind = type(value)  # exact types first: this runs over every state record of a log
    if kind is float:
        return r6(value)
    if kind is int or kind is str or kind is bool or value is None:
        return value
    if kind is dict:  # a float leaf is rounded here, sparing a call per number
        return {k: r6(v) if type(v) is float else rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return r6(value)
    if isinstance(value, Mapping):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


# ---- ISR -------------------------------------------------------------------------------------

@dataclass(slots=True)
class Track:
    """Blue's latest report on a Red group, as known at a C2 node."""

    zone: str
    detected_t: float


@dataclass(slots=True)
class Window:
    """A search under way: a group entering its zone before ``end`` is searched for the rest."""

    unit: str
    node: str
    hazard: float
    end: float
    rng: np.random.Generator
    # a partner's search: whether a detection of (group, zone) reaches the alliance (a draw);
    # None for Blue's own sensors, whose detections always do
    relay: Callable[[str, str], bool] | None = None


@dataclass(slots=True)
class IsrPart:
    tempo: dict[str, Tempo] = field(default_factory=dict)
    tracks: dict[str, dict[str, Track]] = field(default_factory=dict)  # node -> group -> track
    windows: dict[str, list[Window]] = field(default_factory=dict)  # zone -> open searches
    # Koopman coverage (hazard x hours) searched over Red's objective, credited to each turn by
    # the hours of that turn a search actually covers (what Red watches over its objective)
    objective_effort: dict[int, float] = field(default_factory=dict)
    # called when a track reaches a C2 node (the littoral regiment listens at its HQ)
    listeners: dict[str, list[Callable[[], None]]] = field(default_factory=dict)


# ---- C2 --------------------------------------------------------------------------------------

@dataclass(slots=True)
class LinkState:
    """A link's condition, and its capacity counted by hand: a simpy event is made only when a
    message must actually queue for a free channel."""

    capacity: int = 1
    degraded_until: float = -1.0
    hardened: bool = False
    in_use: int = 0
    waiting: deque[simpy.Event] = field(default_factory=deque)


@dataclass(slots=True)
class C2Part:
    links: dict[str, LinkState] = field(default_factory=dict)
    routes: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    loss: dict[str, tuple[float, ...]] = field(default_factory=dict)  # link -> P(loss) up, down
    space_degraded_until: float = -1.0
    plan: Any = None  # forces/c2.py's constants for the game (routes as hops, streams): not state


# ---- the littoral regiment -------------------------------------------------------------------

@dataclass(slots=True)
class BatteryState:
    site: str
    launchers: float
    magazine: int
    ready_t: float = 0.0  # not able to fire before this time (displacing)


@dataclass(slots=True)
class LittoralPart:
    batteries: dict[tuple[str, str], BatteryState] = field(default_factory=dict)
    readiness: dict[str, Readiness] = field(default_factory=dict)
    authority: dict[str, bool] = field(default_factory=dict)
    pending: dict[str, bool] = field(default_factory=dict)
    consulted_turn: int = -99


# ---- Red -------------------------------------------------------------------------------------

@dataclass(slots=True)
class GroupState:
    """Where a Red group is (or is heading) and how strong it still is."""

    zone: str
    dest: str
    arrive_t: float
    ships: float
    mission: Mission = "home"
    leg: int = 0  # counts orders to move: an arrival belongs to the latest leg only


@dataclass(slots=True)
class RedPart:
    groups: dict[str, GroupState] = field(default_factory=dict)
    incursion_t: dict[str, float] = field(default_factory=dict)  # group -> arrival, unseen


# ---- the ladder ------------------------------------------------------------------------------

@dataclass(slots=True)
class LadderPart:
    rung: str = ""
    highest: str = ""
    armed_attack_turn: int | None = None  # the truth: when Red ordered it
    attack_action: str = ""
    known_turn: int | None = None  # when Blue learned of it
    known_domains: list[str] = field(default_factory=list)  # attacks Blue knows of, by domain
    article5_turn: int | None = None
    red_gains: float = 0.0
    gains_claimed: float = 0.0  # what Red believes it gained (it cannot see attribution)
    attributed_gains: float = 0.0  # what Blue knows Red gained
    red_rung: str = ""  # the rung of Red's own latest act: where its next climb starts
    seized: bool = False  # Red has taken the objective (a seizure's gain is earned once)


# ---- Red's mind ------------------------------------------------------------------------------

@dataclass(slots=True)
class MindPart:
    """Red's beliefs about Blue, and the picture of Blue's posture it has observed."""

    isr: float = 0.0
    resolve: float = 0.0
    seen_readiness: dict[str, Readiness] = field(default_factory=dict)
    known_outages: dict[str, float] = field(default_factory=dict)  # link -> until, by its hand
    authority_seen: bool = False
    isr_seen_h: float = 0.0  # Blue ISR hours on station Red saw over its objective last turn
    isr_over_groups: bool = False  # Red saw Blue ISR over one of its groups last turn


# ---- Japan's counterstrike -------------------------------------------------------------------

@dataclass(slots=True)
class CounterstrikePart:
    magazines: dict[str, int] = field(default_factory=dict)  # unit -> missiles left
    fired_turn: dict[str, int] = field(default_factory=dict)  # unit -> turn of its last salvo


# ---- the tally -------------------------------------------------------------------------------

@dataclass(slots=True)
class Tally:
    """Counts of this turn (read by adjudication and next turn's views) and the run's totals."""

    turn: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    actions: list[tuple[Side, str]] = field(default_factory=list)  # this turn's executed orders
    detected: set[str] = field(default_factory=set)  # groups Blue detected this turn

    def add(self, key: str, value: float = 1) -> None:
        self.turn[key] = self.turn.get(key, 0) + value

    def close(self) -> None:
        """Fold this turn into the totals and start the next."""
        for k, v in self.turn.items():
            self.totals[k] = self.totals.get(k, 0) + v
        self.last, self.turn = self.turn, {}
        self.actions, self.detected = [], set()

    def get(self, key: str) -> float:
        return self.turn.get(key, 0)


@dataclass
class World:
    """Everything that changes during one session."""

    scenario: Scenario
    rules: Rules
    env: simpy.Environment
    streams: Streams
    sink: Sink
    turn: int = 0
    seq: int = 0
    recording: bool = True  # False when the sink wants measures only (sweeps)
    dist: dict[tuple[str, str], float] = field(default_factory=dict)  # zone pairs with a route
    isr: IsrPart = field(default_factory=IsrPart)
    c2: C2Part = field(default_factory=C2Part)
    littoral: LittoralPart = field(default_factory=LittoralPart)
    red: RedPart = field(default_factory=RedPart)
    ladder: LadderPart = field(default_factory=LadderPart)
    mind: MindPart = field(default_factory=MindPart)
    counterstrike: CounterstrikePart = field(default_factory=CounterstrikePart)
    tally: Tally = field(default_factory=Tally)
    fired_early: set[int] = field(default_factory=set)  # scripted injects the umpire fired
    watchers: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    # values derived from fixed inputs, kept for the session (never state: not in the digest)
    _memo: dict[Hashable, Any] = field(default_factory=dict)
    # values of the scenario and rules alone, kept for every session of a Game (its table is
    # handed in at setup; a World made without a Game keeps its own): estimates.shared
    shared: dict[Hashable, Any] = field(default_factory=dict)
    _t_of: float | None = None  # the simulation time whose rounding _t holds (emit)
    _t: float = 0.0

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()`` once per key for this session: for pure estimates of fixed inputs."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]  # type: ignore[no-any-return]

    @property
    def now(self) -> float:
        return float(self.env.now)

    @property
    def hours(self) -> float:
        return float(self.scenario.turns.hours)

    def rng(self, name: str) -> np.random.Generator:
        return self.streams(name)

    def emit(self, kind: str, unit: str, data: dict[str, Any], side: Side | None = None) -> None:
        """Make one record; who sees it comes from the kind's declared rule (sim/kinds.py).
        Hot call sites test ``recording`` first so a metrics-only run builds no data dicts."""
        if not self.recording:
            return
        acting = side if side is not None else KINDS[kind].side
        assert acting is not None, f"{kind} records name their side where they are made"
        now = self.env.now
        if now != self._t_of:  # records come in runs at one time: round each time once
            self._t_of, self._t = now, r6(now)
        record = {"seq": self.seq, "turn": self.turn, "t": self._t, "kind": kind,
                  "side": acting, "unit": unit, "data": data,
                  "visible_to": list(visible_to(kind, acting, data))}
        self.sink.emit(record)
        for watch in self.watchers:
            watch(record)
        self.seq += 1

    def link_degraded(self, link_id: str) -> bool:
        return self.c2.links[link_id].degraded_until > self.now

    def rung_level(self, rung: str | None = None) -> int:
        return self.rules.ladder.level(rung or self.ladder.rung)

    def distance(self, a: str, b: str) -> float:
        """Sailing distance between zones; infinite when no route joins them."""
        return self.dist.get((a, b), NO_ROUTE)


NO_ROUTE = float("inf")  # distance between zones no route joins: never in range, never reached
