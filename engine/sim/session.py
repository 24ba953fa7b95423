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

import numpy as np
import simpy

from engine.errors import EngineError
from engine.sim import beliefs, effects, escalation, estimates
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
    def issue_plans(self) -> dict[Team, dict[str, _Plan]]:
        """Each side's actions by id with what issuing one takes: its parameters' defaults in
        name order, its effect's handler (effects.apply's) and whether it is an armed attack
        (Red's only). Fixed for the game; orders are issued every turn."""
        ladder = self.rules.ladder
        threshold = ladder.level(ladder.armed_attack_threshold)
        return {side: {aid: _Plan(action, defaults, effects.EFFECTS[action.effect],
                                  side == "red" and ladder.level(action.signals) >= threshold)
                       for aid, (action, defaults) in self.action_defaults[side].items()}
                for side in TEAMS}

    @cached_property
    def injects_by_turn(self) -> dict[int, tuple[tuple[int, Team, Order], ...]]:
        """The scenario's scripted injects by turn: index, the side they are forced on, and
        the order (made once: orders are immutable)."""
        blue = self.rules.actions.blue
        out: dict[int, list[tuple[int, Team, Order]]] = {}
        for i, inj in enumerate(self.scenario.injects):
            side: Team = inj.side if inj.side in ("blue", "red") else (
                "blue" if inj.action in blue else "red")
            order = Order(inj.action, {k: str(v) for k, v in inj.params.items()})
            out.setdefault(inj.turn, []).append((i, side, order))
        return {turn: tuple(injects) for turn, injects in out.items()}

    @cached_property
    def distances(self) -> dict[tuple[str, str], float]:
        """Sailing distance of every zone pair the theater joins (sessions only read it)."""
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


@dataclass(frozen=True, slots=True)
class _Plan:
    """What issuing one action takes (Game.issue_plans)."""

    action: Action
    defaults: _Defaults
    effect: effects.Handler
    armed: bool  # a Red act at or above the armed-attack threshold


@dataclass(slots=True)
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
        # the menus' fixed parts, the same for every session of the game (each starts from
        # the scenario's state): made once, by the first session (_menu_tables)
        self._fixed, self._live, self._shapes = estimates.shared(
            self.w, "session.menus", lambda: _menu_tables(game, self.w))
        self._decision_rngs: tuple[tuple[Team, np.random.Generator], ...] = ()
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
        menu = self._menus.get(side) or self.legal_orders(side)
        refused = menu.refused.get(order.action)
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
        w = self.w
        w.turn = turn
        self._submitted, self._menus = {}, {}
        self._facts = {"blue": side_facts(w, "blue"), "red": side_facts(w, "red")}
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
        if not self._decision_rngs:  # made at the first deal, as the streams were before
            rng = self.w.rng
            self._decision_rngs = tuple((t, rng(name)) for t, name in _DECISION_STREAMS)
        # a reseed switches each stream in place, so the generators held here stay current
        self._draws = {t: float(gen.random()) for t, gen in self._decision_rngs}

    def _watch(self, record: dict[str, Any]) -> None:
        for team in record["visible_to"]:
            self._seen[team].append(record)

    def _menu(self, side: Side) -> Menu:
        """The side's menu now: the game's fixed refusals, then each live entry's forces
        (_unable) and preconditions; the items come from the kept shape of the refusals."""
        if side == "white":
            return Menu(side, self.turn, (), 0.0, {})
        mask, unmet = 0, {}
        w, facts = self.w, self._facts[side]
        unable = adversary.unable if side == "red" else alliance.unable  # as _unable
        for bit, aid, action, conditions in self._live[side]:
            why = unable(w, action.effect)
            if not why:
                for cond in conditions:
                    if not cond.test(facts[cond.fact], cond.right):
                        why = f"precondition '{cond.text}' does not hold"
                        break
            if why:
                mask |= bit
                unmet[aid] = why
        shape, order = self._shapes[side].get(mask) or self._shape(side, mask)
        fixed = self._fixed[side]
        refused = {aid: fixed.get(aid) or unmet[aid] for aid in order} if unmet else dict(fixed)
        return shape.at(self.turn, self._draws[side], refused)

    def _shape(self, side: Team, mask: int) -> tuple[Menu, tuple[str, ...]]:
        """The menu's items when the live entries of ``mask`` are refused, and the refused
        actions in menu order (kept per mask)."""
        fixed = self._fixed[side]
        items, order = [], []
        for k, (item, _, _, _) in enumerate(self.game.menu_checks[side]):
            if item.action in fixed or mask & (1 << k):
                order.append(item.action)
            else:
                items.append(item)
        made = self._shapes[side][mask] = (Menu(side, 0, tuple(items), 0.0, {}), tuple(order))
        return made

    def _orders_phase(self) -> None:
        w = self.w
        submitted = self._submitted
        white = submitted.get("white")
        if white is not None and white.orders:
            self._umpire(white)
        for side in TEAMS:
            self._log_orders(side, submitted.get(side))
        for side in TEAMS:
            sub = submitted.get(side)
            if sub is not None:
                for order in sub.orders:
                    self._issue(side, order, sub.controller)
        for i, side, order in self.game.injects_by_turn.get(w.turn, ()):
            if i in w.fired_early:
                continue
            if w.recording:
                inj = w.scenario.injects[i]
                w.emit("umpire.inject", f"inject.{i}", {
                    "side": side, "action": inj.action, "note": inj.note})
            self._issue(side, order, "umpire")

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
        plan = self.game.issue_plans[side][order.action]
        given = order.params
        params = {n: given.get(n, default) for n, default in plan.defaults}
        escalation.record_action(w, side, order.action)
        if plan.armed:
            escalation.ordered_armed_attack(w, order.action, plan.action)
        plan.effect(w, plan.action, params)  # effects.apply, its handler looked up once


_Live = tuple[tuple[int, str, Action, tuple[Condition, ...]], ...]
_Shapes = dict[Team, dict[int, tuple[Menu, tuple[str, ...]]]]


def _menu_tables(game: Game, w: World) -> tuple[dict[Team, dict[str, str]], dict[Team, _Live],
                                                _Shapes]:
    """Per side: what the scenario's forces can never do (no cyber unit, no regiment), why;
    the menu entries checked every turn (the others are legal or refused for the whole
    session), each with its bit in a turn's mask of refusals; and, per mask seen so far, the
    menu's items (as a menu to copy) and the refused actions in menu order."""
    fixed: dict[Team, dict[str, str]] = {
        side: {item.action: why for item, action in game.menu_items[side]
               if action.effect not in adversary.MOVERS
               and (why := _unable(w, side, action.effect))}
        for side in TEAMS}
    live: dict[Team, _Live] = {
        side: tuple((1 << k, item.action, action, conditions)
                    for k, (item, action, checked, conditions)
                    in enumerate(game.menu_checks[side])
                    if checked and item.action not in fixed[side])
        for side in TEAMS}
    return fixed, live, {side: {} for side in TEAMS}


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
    w.dist = game.distances  # read only: a table of the game, shared by its sessions
    w.shared = game.shared
    escalation.setup(w)
    c2.setup(w)
    adversary.setup(w)
    isr.setup(w)
    littoral.setup(w)
    counterstrike.setup(w)
    beliefs.setup(w)
    return w
