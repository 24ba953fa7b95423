"""One classroom game: a session written to its log turn by turn, the teams' pending orders
and reasons, the umpire's injects and timer, and what each role's page may show.

The log is the game's memory: every complete turn is flushed to it, and :func:`Room.resume`
re-executes those turns into a file beside it, checks every line against the old log, and only
then moves it into place, so a crash at any moment leaves a log holding every complete turn.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import __version__
from engine.errors import EngineError
from engine.game import Game
from engine.io.eventlog import LogWriter
from engine.io.logschema import make_header
from engine.sim.controllers import BlueDoctrine, Decision, RedQuantal
from engine.sim.rng import describe, run_sequence
from engine.sim.session import Session
from engine.spec.order import Order
from engine.spec.types import TEAMS, Team

CONTROLLERS = {"blue": "browser", "red": "browser", "white": "umpire"}
MAX_ORDERS = 20  # a turn's orders per side: the menu has fewer actions than this
MAX_RATIONALE = 2000  # characters of a team's reasons


@dataclass
class Pending:
    """A team's orders for this turn, hidden from the other team until the turn executes."""

    orders: tuple[Order, ...]
    rationale: str


@dataclass
class Timer:
    """The phase timer: a deadline while running, the time left while paused."""

    seconds_left: float = 0.0
    running_since: float | None = None
    clock: Callable[[], float] = time.monotonic

    def remaining(self) -> float:
        if self.running_since is None:
            return max(0.0, self.seconds_left)
        return max(0.0, self.seconds_left - (self.clock() - self.running_since))

    def set(self, seconds: float) -> None:
        self.seconds_left, self.running_since = seconds, None

    def pause(self) -> None:
        self.seconds_left, self.running_since = self.remaining(), None

    def resume(self) -> None:
        if self.running_since is None:
            self.running_since = self.clock()

    def to_json(self) -> dict[str, Any]:
        return {"seconds_left": round(self.remaining(), 1),
                "running": self.running_since is not None}


@dataclass
class Room:
    """The game a classroom plays; every method is quick and synchronous (one event loop)."""

    game: Game
    session: Session
    writer: LogWriter
    log: Path
    pending: dict[Team, Pending] = field(default_factory=dict)
    injects: list[Order] = field(default_factory=list)  # the umpire's live injects this turn
    timer: Timer = field(default_factory=Timer)
    version: int = 0
    public: list[dict[str, Any]] = field(default_factory=list)  # records both sides saw
    last_turn: list[dict[str, Any]] = field(default_factory=list)  # the umpire's story
    _this_turn: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[Callable[[], None]] = field(default_factory=list)

    # ---- making one ------------------------------------------------------------------------

    @classmethod
    def start(cls, game: Game, seed: int, log: Path) -> Room:
        """A new game whose log is ``log`` (refused if it exists: nothing is overwritten)."""
        if log.exists():
            raise EngineError(f"{log}: already exists; choose another --out, or resume it "
                              f"with --resume {log}")
        header = make_header(game.scenario, game.rules, describe(run_sequence(seed)),
                             CONTROLLERS, __version__)
        writer = LogWriter(log, header)
        return cls._open(game, seed, writer, log)

    @classmethod
    def _open(cls, game: Game, seed: int | dict[str, Any], writer: LogWriter,
              log: Path) -> Room:
        from engine.sim.rng import from_description
        root = from_description(seed) if isinstance(seed, dict) else seed
        room = cls(game, game.start(root, writer), writer, log)
        room.session.w.watchers.append(room._seen)
        return room

    @classmethod
    def resume(cls, log: Path) -> Room:
        """The game of ``log`` at its last complete turn, its turns re-executed and checked
        line by line; the log is replaced only once the copy holds all it held."""
        from engine.io.replay import read_log, scan
        reader = read_log(log)
        scanned = scan(reader)
        if scanned.verdict is None:
            raise EngineError(f"{log}: this game is finished; replay it or report on it")
        if "truncated" not in scanned.verdict.message:
            raise EngineError(f"{log}: cannot resume: {scanned.verdict.message}; it is left "
                              "as it was")
        header = {k: v for k, v in reader.header.items() if k != "h"}
        if header.get("controllers") != CONTROLLERS:
            raise EngineError(f"{log}: not a game served to a classroom (its players are "
                              f"{header.get('controllers')}); continue it with the command "
                              "that made it")
        game = Game.from_header(header)
        done = _complete_turns(log)
        tmp = log.with_name(f".{log.name}.resuming")
        room = cls._open(game, header["seed"], LogWriter(tmp, header), log)
        try:
            for turn in range(1, done + 1):
                for side in ("white", "blue", "red"):
                    orders = scanned.orders.get(side, {}).get(turn)
                    if orders is not None:
                        room.session.submit(side, orders,  # type: ignore[arg-type]
                                            strict=False, controller=scanned.names[side][turn],
                                            rationale=scanned.rationales.get(side, {}).get(turn))
                room.session.step()
            room.writer.end_turn(done)
            _same_prefix(tmp, log)
        except BaseException:
            room.writer.abort()
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, log)  # the writer's file is now the log itself
        room.writer.path = log
        if room.session.over:  # the last turn ended the game before its footer was written
            room.writer.close(room.session.outcome, room.session.turn)
        return room

    # ---- what happens ------------------------------------------------------------------------

    def _seen(self, record: dict[str, Any]) -> None:
        self._this_turn.append(record)
        if len(record["visible_to"]) == 2:
            self.public.append(record)

    def changed(self) -> None:
        self.version += 1
        for listener in list(self.listeners):
            listener()

    def submit(self, side: Team, orders: list[Order], rationale: str) -> list[str]:
        """A team's orders for this turn (replacing earlier ones); the reasons they are not
        legal, or [] when accepted."""
        if self.session.over:
            return ["the game is over"]
        if len(orders) > MAX_ORDERS:
            return [f"at most {MAX_ORDERS} orders a turn"]
        if not _is_text(rationale):
            return ["the rationale is not valid text"]
        reasons = [f"{o.action}: {why}" for o in orders
                   if (why := self.session.problem(side, o)) is not None]
        if not reasons:
            self.pending[side] = Pending(tuple(orders), rationale[:MAX_RATIONALE])
            self.changed()
        return reasons

    def inject(self, order: Order) -> list[str]:
        """An umpire's live inject, forced on ``order.side`` when the turn executes."""
        if self.session.over:
            return ["the game is over"]
        if order.side not in TEAMS:
            return ["an inject must name side blue or red"]
        if not _is_text(order.note or ""):
            return ["the note is not valid text"]
        why = self.session.problem(order.side, Order(order.action, dict(order.params)))
        if why:
            return [f"{order.action}: {why}"]
        self.injects.append(order)
        self.changed()
        return []

    def advance(self, late: str = "wait") -> list[str]:
        """Play the turn. A team that has not submitted holds back the turn unless ``late`` is
        "doctrine" (its doctrine decides) or "hold" (it does nothing)."""
        s = self.session
        if s.over:
            return ["the game is over"]
        if late not in ("wait", "doctrine", "hold"):
            return [f"late must be wait, doctrine or hold, not {late[:40]!r}"]
        missing = [side for side in TEAMS if side not in self.pending]
        if missing and late == "wait":
            return [f"waiting for {', '.join(missing)}; force the turn with doctrine or hold"]
        if self.injects:
            s.submit("white", self.injects, strict=False, controller="umpire")
        for side in TEAMS:
            p = self.pending.get(side)
            if p is not None:
                s.submit(side, p.orders, strict=False, controller="browser",
                         rationale=p.rationale or None)
            else:
                s.submit(side, self._forced(side, late), strict=False, controller=f"umpire:{late}")
        self._this_turn = []
        s.step()
        self.last_turn = self._this_turn
        self.pending, self.injects = {}, []
        if s.over:
            self.writer.close(s.outcome, s.turn)
        self.changed()
        return []

    def _forced(self, side: Team, late: str) -> Decision:
        """A late team's orders: its doctrine's (without the explanation, which a replay of
        recorded orders would not make) or none."""
        if late == "hold":
            return Decision(())
        doctrine = BlueDoctrine(self.game.rules) if side == "blue" else RedQuantal(
            self.game.rules)
        made = doctrine(self.session.observation(side), self.session.legal_orders(side))
        return Decision(made.orders)

    def scripted_injects(self) -> list[dict[str, Any]]:
        """The scenario's injects, and whether each has fired or been fired early."""
        w = self.session.w
        return [{"index": i, "turn": inj.turn, "side": inj.side, "action": inj.action,
                 "note": inj.note, "done": inj.turn < w.turn or i in w.fired_early}
                for i, inj in enumerate(self.game.scenario.injects)]

    def fire_scripted(self, index: int) -> list[str]:
        """Fire a later scripted inject now (it will not fire again at its turn)."""
        injects = self.game.scenario.injects
        if not 0 <= index < len(injects):
            return [f"no scripted inject {index}"]
        inj = injects[index]
        turn = self.session.turn
        if inj.turn < turn or index in self.session.w.fired_early:
            return [f"scripted inject {index} has already fired"]
        if inj.turn == turn:
            return [f"scripted inject {index} fires this turn anyway"]
        if any(o.action == inj.action and o.note == inj.note for o in self.injects):
            return [f"scripted inject {index} is already set to fire this turn"]
        side = inj.side if inj.side in TEAMS else (
            "blue" if inj.action in self.game.rules.actions.blue else "red")
        return self.inject(Order(inj.action, {k: str(v) for k, v in inj.params.items()},
                                 side, inj.note))  # type: ignore[arg-type]


def _is_text(value: str) -> bool:
    """Whether a string can be written to the log (a lone surrogate cannot: it would stop the
    turn half played)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _complete_turns(log: Path) -> int:
    """The last turn whose turn.end record the log holds."""
    from engine.present.play import last_complete_turn
    return last_complete_turn(log)


def _same_prefix(new: Path, old: Path) -> None:
    """Every line of the re-executed log equals the old log's line (else the game diverged)."""
    with new.open("rb") as a, old.open("rb") as b:
        for number, line in enumerate(a, start=1):
            if b.readline() != line:
                raise EngineError(f"{old}: line {number} differs when the game is re-executed; "
                                  "the log was not made by this engine and rules, or was "
                                  "edited; it is left as it was")


def summary(room: Room) -> Mapping[str, Any]:
    """Who has submitted, the turn and the timer: what every page shows at the top."""
    s = room.session
    return {"turn": s.turn, "turns": room.game.scenario.turns.count, "over": s.over,
            "submitted": {side: side in room.pending for side in TEAMS},
            "timer": room.timer.to_json(), "version": room.version,
            "title": room.game.scenario.meta.title}
