"""A fixed game and a mutable session you step turn by turn (OpenSpiel's Game/State split).

    game = Game(scenario, rules)
    s = game.start(seed=7)
    while not s.over:
        for side in ("blue", "red"):
            obs, menu = s.observation(side), s.legal_orders(side)
            s.submit(side, [Order("isr_tempo", {"level": "surge"})])
        s.step()
    s.outcome

Each step plays one turn: the orders submitted (moves are simultaneous: both sides decided on
observations made before either's orders act), execution (simpy runs the turn's hours),
adjudication (gains and attribution, the public rung, Red's beliefs) and assessment (per-turn
records, the state digest, the end test). A session touches no file, clock or global.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import simpy

from engine.errors import EngineError
from engine.sim import beliefs, effects, escalation
from engine.sim.assessment import assess, outcome_measures, turn_row
from engine.sim.controllers import Decision, Menu, MenuItem
from engine.sim.decision import Condition, compile_condition
from engine.sim.forces import adversary, alliance, c2, counterstrike, isr, littoral, partners
from engine.sim.rng import Seed, Streams, describe
from engine.sim.state import ListSink, Sink, World, rounded
from engine.sim.views import Observation, observe, side_facts
from engine.spec.order import Order
from engine.spec.rules import Action, Param, Rules
from engine.spec.scenario import Scenario
from engine.spec.types import TEAMS, ParamKind, Side, Team

SIDES: tuple[Side, ...] = ("blue", "red", "white")
_DECISION_STREAMS = tuple((t, f"{t}.decision") for t in TEAMS)
# a menu entry: the item, its action, whether it is checked every turn, its preconditions
_Check = tuple[MenuItem, Action, bool, tuple[Condition, ...]]
_Defaults = tuple[tuple[str, str | None], ...]  # an action's parameters and their defaults


class OrderRefused(EngineError):
    """An order that is not legal now; ``reasons`` says why, order by order."""

    exit_code = 2

    def __init__(self, side: str, reasons: Sequence[str]) -> None:
        self.side, self.reasons = side, tuple(reasons)
        super().__init__(f"{side}'s orders refused: " + "; ".join(reasons))


@dataclass(frozen=True)
class Game:
    """The fixed specification of an exercise: a scenario and the rules it is played under."""

    scenario: Scenario
    rules: Rules

    def start(self, seed: Seed = 0, sink: Sink | None = None) -> Session:
        """A new session at the start of turn 1; records go to ``sink`` (kept in memory when
        none is given; a sink with ``wants_records = False`` gets none: measures only)."""
        return Session(self, seed, sink)

    @cached_property
    def menu_items(self) -> dict[Side, tuple[tuple[MenuItem, Action], ...]]:
        """Each side's whole menu with its parameter choices: fixed for the game, so made once
        (a session filters it by preconditions and capabilities every turn)."""
        out: dict[Side, tuple[tuple[MenuItem, Action], ...]] = {}
        for side in TEAMS:
            out[side] = tuple(
                (MenuItem(aid, action.label, action.signals,
                          {n: tuple(param_choices(self.scenario, p))
                           for n, p in sorted(action.params.items())},
                          {n: p.default for n, p in sorted(action.params.items())}), action)
                for aid, action in sorted(_menu_of(self.rules, side).items()))
        return out

    @cached_property
    def menu_index(self) -> dict[Side, dict[str, MenuItem]]:
        """Each side's menu items by action id."""
        return {side: {item.action: item for item, _ in items}
                for side, items in self.menu_items.items()}

    @cached_property
    def menu_checks(self) -> dict[Side, tuple[_Check, ...]]:
        """Each side's menu with, per action, whether it is checked every turn (preconditions,
        or movers whose groups may all be sunk) and its preconditions, parsed: fixed for the
        game, and a session builds both menus every turn."""
        level = self.rules.ladder.level
        return {side: tuple((item, action,
                             bool(action.preconditions) or action.effect in adversary.MOVERS,
                             tuple(compile_condition(c, level) for c in action.preconditions))
                            for item, action in items)
                for side, items in self.menu_items.items()}

    @cached_property
    def action_defaults(self) -> dict[Side, dict[str, tuple[Action, _Defaults]]]:
        """Each side's actions by id, with their parameters' defaults in name order: what an
        issued order is filled in from."""
        return {side: {aid: (action, tuple((n, p.default)
                                           for n, p in sorted(action.params.items())))
                       for aid, action in _menu_of(self.rules, side).items()}
                for side in TEAMS}

    @cached_property
    def distances(self) -> dict[tuple[str, str], float]:
        """Sailing distance of every zone pair the theater joins (each session copies it)."""
        s = self.scenario
        dist = {(z, z): 0.0 for z in s.theater.zones}
        for a, b, d in s.theater.distances:
            dist[(a, b)] = dist[(b, a)] = float(d)
        return dist

    @cached_property
    def shared(self) -> dict[Hashable, Any]:
        """Values of the scenario and rules alone, made once for every session of the game
        (estimates.shared reads it through the session's World)."""
        return {}

    def replay(self, seed: Seed, orders: Mapping[int, Mapping[str, Sequence[Order]]],
               upto: int, sink: Sink | None = None) -> Session:
        """A session rebuilt from a log prefix: turns 1..upto played with the recorded orders
        (``orders[turn][side]``), ready for turn upto + 1."""
        s = self.start(seed, sink)
        while not s.over and s.turn <= upto:
            for side, given in sorted(orders.get(s.turn, {}).items()):
                # side names come from a log; one that is not a side is stored, never played
                s.submit(side, given, strict=False)  # type: ignore[arg-type]
            s.step()
        return s


@dataclass
class _Submitted:
    orders: tuple[Order, ...]
    controller: str
    explanation: Mapping[str, Any] | None
    rationale: str | None = None


class Session:
    """The state of one play of a game."""

    def __init__(self, game: Game, seed: Seed = 0, sink: Sink | None = None) -> None:
        self.game = game
        self.streams = Streams(seed)
        self.sink: Sink = ListSink() if sink is None else sink
        self.w = _setup(game, self.streams, self.sink)
        self._submitted: dict[Side, _Submitted] = {}
        self._menus: dict[Side, Menu] = {}
        self._facts: dict[Team, dict[str, float]] = {}
        self._seen: dict[Team, list[dict[str, Any]]] = {"blue": [], "red": []}
        self._last_seen: dict[Team, tuple[dict[str, Any], ...]] = {"blue": (), "red": ()}
        if self.w.recording:
            self.w.watchers.append(self._watch)
        self._ended = False
        self._wants_turns = getattr(self.sink, "wants_turns", False)
        # what the scenario's forces can never do (no cyber unit, no regiment): decided once
        self._fixed: dict[Team, dict[str, str]] = {
            side: {item.action: why for item, action in game.menu_items[side]
                   if action.effect not in adversary.MOVERS
                   and (why := _unable(self.w, side, action.effect))}
            for side in TEAMS}
        self._begin(1)

    # ---- reading the state -------------------------------------------------------------------

    @property
    def turn(self) -> int:
        """The turn about to be played (or the last one played, once over)."""
        return self.w.turn

    @property
    def over(self) -> bool:
        return self._ended

    @property
    def outcome(self) -> dict[str, Any]:
        """The run's outcome measures so far (final once ``over``)."""
        return outcome_measures(self.w)

    @property
    def seed(self) -> dict[str, Any]:
        return describe(self.streams.sequence)

    @property
    def records(self) -> int:
        return self.w.seq

    def observation(self, side: Side) -> Observation:
        """What ``side`` knows now; "white" is the umpire's full view."""
        events = self._last_seen[side] if side != "white" else ()
        return observe(self.w, side, events, self._facts)

    def legal_orders(self, side: Side) -> Menu:
        """The actions ``side`` may order now, with parameter choices and preconditions."""
        if side not in self._menus:
            self._menus[side] = self._menu(side)
        return self._menus[side]

    def problem(self, side: Side, order: Order) -> str | None:
        """Why ``order`` is not legal for ``side`` now, or None."""
        if side == "white":
            if order.side not in ("blue", "red"):
                return "an inject must name side blue or red"
            return None
        entry = self.game.menu_index[side].get(order.action)
        if entry is None:
            return f"'{order.action}' is not on {side}'s menu"
        refused = self.legal_orders(side).refused.get(order.action)
        if refused:
            return refused
        for name, value in order.params.items():
            choices = entry.params.get(name)
            if choices is None:
                return f"'{order.action}' has no parameter '{name}'"
            if value not in choices:
                return f"{name}={value!r} is not one of {list(choices)}"
        return None

    # ---- acting ------------------------------------------------------------------------------

    def submit(self, side: Side, orders: Sequence[Order] | Decision, *, strict: bool = True,
               controller: str = "api", rationale: str | None = None) -> None:
        """Set ``side``'s orders for this turn (replacing any given before). With ``strict``
        an illegal order refuses the whole submission (:class:`OrderRefused`, with reasons);
        otherwise illegal orders are recorded as rejected when the turn is played."""
        if self._ended:
            raise EngineError("the game is over")
        made = orders if isinstance(orders, Decision) else Decision(tuple(orders))
        if strict:
            reasons = [f"{o.action}: {why}" for o in made.orders
                       if (why := self.problem(side, o)) is not None]
            if reasons:
                raise OrderRefused(side, reasons)
        self._submitted[side] = _Submitted(made.orders, made.controller or controller,
                                           made.explanation, rationale or made.rationale)

    def submitted(self, side: Side) -> bool:
        return side in self._submitted

    def step(self) -> None:
        """Play the current turn: orders, execution, adjudication, assessment."""
        if self._ended:
            raise EngineError("the game is over")
        w = self.w
        littoral.resupply(w)  # co-produced missiles arrive before anyone acts
        self._orders_phase()
        littoral.sense(w)
        partners.sense(w)
        littoral.engage_all(w)
        counterstrike.engage_all(w)
        w.env.run(until=w.turn * w.hours)
        escalation.adjudicate(w)
        beliefs.observe(w)
        assess(w)
        if self._wants_turns:
            self.sink.turn_row(self._turn_row())  # type: ignore[attr-defined]
        self._ended = escalation.ended(w)
        w.tally.close()
        self.sink.end_turn(w.turn)
        if self.w.recording:
            self._last_seen = {t: tuple(self._seen[t]) for t in ("blue", "red")}
            self._seen = {"blue": [], "red": []}
        if not self._ended:
            self._begin(w.turn + 1)

    def reseed(self, seed: Seed) -> None:
        """Switch every stream, in place, to another root seed (a fork)."""
        self.streams.reseed(seed)
        self._menus.clear()
        self._deal()

    def note(self, kind: str, unit: str, data: dict[str, Any]) -> None:
        """Record a game-level event (a fork's note)."""
        self.w.emit(kind, unit, data)

    # ---- inside a turn -----------------------------------------------------------------------

    def _begin(self, turn: int) -> None:
        self.w.turn = turn
        self._submitted, self._menus = {}, {}
        self._facts = {t: side_facts(self.w, t) for t in ("blue", "red")}
        self._deal()

    def _turn_row(self) -> dict[str, Any]:
        """Red's choice this turn and the chance its controller gave it, with the turn's state."""
        red = self._submitted.get("red")
        action = red.orders[0].action if red and red.orders else ""
        options = (red.explanation or {}).get("options", {}) if red else {}
        p = options.get(action, {}).get("p")
        return turn_row(self.w, action, None if p is None else float(p))

    def _deal(self) -> None:
        """Each side's decision draw for the turn, taken at its start whether or not anyone
        asks for a menu, so every driver of a session sees the same numbers."""
        rng = self.w.rng
        self._draws = {t: float(rng(name).random()) for t, name in _DECISION_STREAMS}

    def _watch(self, record: dict[str, Any]) -> None:
        for team in record["visible_to"]:
            self._seen[team].append(record)

    def _menu(self, side: Side) -> Menu:
        if side == "white":
            return Menu(side, self.turn, (), 0.0, {})
        items, refused = [], {}
        fixed = self._fixed[side]
        for item, action, live, conditions in self.game.menu_checks[side]:
            why = fixed.get(item.action)
            if why is None and live:
                why = self._unmet(side, action, conditions)
            if why:
                refused[item.action] = why
            else:
                items.append(item)
        return Menu(side, self.turn, tuple(items), self._draws[side], refused)

    def _unmet(self, side: Team, action: Action,
               conditions: tuple[Condition, ...]) -> str | None:
        unable = _unable(self.w, side, action.effect)
        if unable:
            return unable
        facts = self._facts[side]
        for cond in conditions:
            if not cond.holds(facts):
                return f"precondition '{cond.text}' does not hold"
        return None

    def _orders_phase(self) -> None:
        w = self.w
        white = self._submitted.get("white")
        if white is not None and white.orders:
            self._umpire(white)
        for side in TEAMS:
            self._log_orders(side, self._submitted.get(side))
        for side in TEAMS:
            sub = self._submitted.get(side)
            for order in sub.orders if sub else ():
                self._issue(side, order, sub.controller if sub else "")
        for i, inj in enumerate(w.scenario.injects):
            if inj.turn != w.turn or i in w.fired_early:
                continue
            side = inj.side if inj.side in ("blue", "red") else (
                "blue" if inj.action in w.rules.actions.blue else "red")
            w.emit("umpire.inject", f"inject.{i}", {
                "side": side, "action": inj.action, "note": inj.note})
            self._issue(side, Order(inj.action, {k: str(v) for k, v in inj.params.items()}),
                        "umpire")

    def _umpire(self, made: _Submitted) -> None:
        """The White cell's live injects: recorded as white orders so the game re-executes."""
        w = self.w
        w.emit("orders", "white", {"controller": made.controller,
                                   "orders": [o.to_json() for o in made.orders]}, "white")
        for order in made.orders:
            side = order.side if order.side in ("blue", "red") else ""
            self._mark_scripted(order)
            w.emit("umpire.inject", "umpire", {
                "side": side, "action": order.action, "note": order.note or "", "live": True})
            if not side:
                w.emit("orders.rejected", "white", {
                    "order": order.to_json(), "reason": "an inject must name side blue or red",
                    "source": "umpire"}, "white")
                continue
            self._issue(side, Order(order.action, dict(order.params)), "umpire")

    def _mark_scripted(self, order: Order) -> None:
        """A live inject that is a later scripted one fired early: it will not fire again."""
        w = self.w
        for i, inj in enumerate(w.scenario.injects):
            if (inj.turn > w.turn and i not in w.fired_early and inj.action == order.action
                    and inj.note == order.note):
                w.fired_early.add(i)
                return

    def _log_orders(self, side: Team, sub: _Submitted | None) -> None:
        w = self.w
        if not w.recording:
            return
        data: dict[str, Any] = {"controller": sub.controller if sub else "none",
                                "orders": [o.to_json() for o in sub.orders] if sub else []}
        if sub is not None and sub.rationale:
            data["rationale"] = sub.rationale
        explanation = sub.explanation if sub else None
        if side == "blue" and explanation:
            data.update(rounded(explanation))
        w.emit("orders", side, data, side)
        if side == "red" and explanation:
            w.emit("red.decision", "red", rounded(explanation))

    def _issue(self, side: Team, order: Order, source: str) -> None:
        w = self.w
        problem = self.problem(side, order)
        if problem:
            w.emit("orders.rejected", side, {"order": order.to_json(), "reason": problem,
                                             "source": source}, side)
            return
        action, defaults = self.game.action_defaults[side][order.action]
        given = order.params
        params = {n: given.get(n, default) for n, default in defaults}
        escalation.record_action(w, side, order.action)
        if side == "red" and escalation.is_armed_attack(w, action):
            escalation.ordered_armed_attack(w, order.action, action)
        effects.apply(w, action, params)


def _unable(w: World, side: Team, effect: str) -> str | None:
    """Why a side's forces cannot carry out an effect now, or None."""
    return (adversary.unable if side == "red" else alliance.unable)(w, effect)


def _menu_of(rules: Rules, side: Side) -> Mapping[str, Action]:
    return rules.actions.blue if side == "blue" else rules.actions.red


def param_choices(s: Scenario, spec: Param) -> list[str]:
    """Legal values of an action parameter, from the rules or (for kinds) from the scenario."""
    if spec.choices:
        return list(spec.choices)
    # a Param without choices has a kind (its validator), so the None key is never looked up
    tables: dict[ParamKind | None, Mapping[str, object]] = {
        "zone": s.theater.zones, "red_group": s.red.groups, "link": s.blue.c2.links}
    return sorted(tables[spec.kind])


def _setup(game: Game, streams: Streams, sink: Sink) -> World:
    s, r = game.scenario, game.rules
    w = World(s, r, simpy.Environment(), streams, sink)
    w.recording = getattr(sink, "wants_records", True)
    w.dist = dict(game.distances)
    w.shared = game.shared
    escalation.setup(w)
    c2.setup(w)
    adversary.setup(w)
    isr.setup(w)
    littoral.setup(w)
    counterstrike.setup(w)
    beliefs.setup(w)
    return w
