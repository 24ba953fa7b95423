"""Who decides each turn. A controller is a callable from a side's observation and its menu of
legal orders to orders; doctrine, recorded orders, people in a terminal or a browser, and Python
policies all fit that one interface.

A controller may return a list of orders or a :class:`Decision` (orders plus how it reached
them, which the log keeps). Its ``name`` (or the function's name) is what the log records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.sim.decision import compile_condition, quantal_choice, utility_terms
from engine.sim.views import Lazy, Observation
from engine.spec.order import Order
from engine.spec.rules import Action, Rules
from engine.spec.types import Side


@dataclass(frozen=True)
class MenuItem:
    """One legal action: its parameters' choices and defaults, and the rung it signals."""

    action: str
    label: str
    signals: str
    params: Mapping[str, tuple[str, ...]]
    defaults: Mapping[str, str | None]

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "label": self.label, "signals": self.signals,
                "params": {k: list(v) for k, v in self.params.items()},
                "defaults": dict(self.defaults)}


@dataclass(frozen=True)
class Menu:
    """A side's legal orders this turn. ``draw`` is a uniform number from the side's own
    decision stream, the same however often the menu is asked for: policies that randomise
    use it so a game stays reproducible."""

    side: Side
    turn: int
    items: tuple[MenuItem, ...]
    draw: float
    refused: Mapping[str, str]  # actions on the rules' menu that are not legal now, and why
    # derived from the items when made: a controller reads them for every option every turn
    actions: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        actions = tuple(i.action for i in self.items)
        object.__setattr__(self, "actions", actions)  # frozen: set once, here
        object.__setattr__(self, "_names", frozenset(actions))

    def __contains__(self, action: object) -> bool:
        return action in self._names

    def at(self, turn: int, draw: float, refused: Mapping[str, str]) -> Menu:
        """These items on another turn, with its draw and refusals: the fields derived from the
        items are copied, not remade (a session makes both menus every turn from a few item
        sets)."""
        menu = object.__new__(Menu)
        # frozen: filled in once, here, as __init__ would (a dataclass without slots)
        menu.__dict__.update(self.__dict__, turn=turn, draw=draw, refused=refused)
        return menu

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "turn": self.turn, "draw": self.draw,
                "items": [i.to_json() for i in self.items], "refused": dict(self.refused)}


@dataclass(frozen=True)
class Decision:
    """A controller's orders and, optionally, how it reached them (logged as a record)."""

    orders: tuple[Order, ...]
    explanation: Mapping[str, Any] | None = None
    controller: str | None = None  # logged controller name, if not the controller's own
    rationale: str | None = None  # a team's reasons, in its own words, for the debrief


class Controller(Protocol):
    """Anything that turns an observation and a menu into orders."""

    def __call__(self, obs: Observation, menu: Menu) -> Decision | Sequence[Order]: ...


def name_of(controller: object) -> str:
    """The name a log records for a controller."""
    return str(getattr(controller, "name", None) or getattr(controller, "__name__", "callback"))


def as_decision(made: Decision | Sequence[Order]) -> Decision:
    return made if isinstance(made, Decision) else Decision(tuple(made))


class BlueDoctrine:
    """Blue's readable rule list: every rule whose conditions hold adds its action once, in
    order (the first rule naming an action wins)."""

    name = "doctrine"

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        level = rules.ladder.level
        # parsed once, and each rule's order made once (orders are immutable): the rules are
        # tested every turn
        self._rules = tuple((rule.do, rule.name,
                             tuple(compile_condition(c, level) for c in rule.when),
                             Order(rule.do, dict(rule.params)))
                            for rule in rules.doctrine.get("blue", ()))

    def __call__(self, obs: Observation, menu: Menu) -> Decision:
        chosen: dict[str, Order] = {}
        fired: list[str] = []
        facts, legal = obs.facts, menu._names
        for do, name, when, order in self._rules:
            if do in chosen or do not in legal:
                continue
            for cond in when:
                if not cond.test(facts[cond.fact], cond.right):  # cond.holds, inlined
                    break
            else:
                chosen[do] = order
                fired.append(name)
        return Decision(tuple(chosen.values()), {"rules_fired": fired})


class RedQuantal:
    """Red's expected-utility choice with a quantal-response (softmax) rule, using its
    estimate of Blue and the menu's draw."""

    name = "doctrine"

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        # (Red's rung, the menu's actions) -> each action, its level and the climb to it:
        # fixed by the rules, and a turn's menu is one of a few
        self._terms: dict[tuple[str, tuple[str, ...]], tuple[_Term, ...]] = {}
        self._orders: dict[str, Order] = {}  # one per action: orders are immutable

    def _menu_terms(self, red_rung: str, actions: tuple[str, ...]) -> tuple[_Term, ...]:
        """Work out (and keep) each action's level and the climb to it from ``red_rung``."""
        ladder, menu = self.rules.ladder, self.rules.actions.red
        terms = self._terms[(red_rung, actions)] = tuple(
            (aid, menu[aid], ladder.level(menu[aid].signals),
             ladder.climb_cost(red_rung, menu[aid].signals)) for aid in actions)
        return terms

    def __call__(self, obs: Observation, menu: Menu) -> Decision:
        model = self.rules.red_model
        est = obs.estimate
        assert est is not None, "Red's observation carries its estimate of Blue"
        key = (est.red_rung, menu.actions)
        scored, eus, climbs = {}, {}, {}
        for aid, action, level, climb in self._terms.get(key) or self._menu_terms(*key):
            score = scored[aid] = utility_terms(action, level, climb, est, model)
            eus[aid], climbs[aid] = score[0], climb
        if not scored:
            return Decision((), {"options": {}, "draw": menu.draw, "choice": None})
        pick, probs = quantal_choice(eus, model.rationality, menu.draw)
        # unrounded: the session rounds explanations only when it records them; built only
        # when read (a logged run's records, a sweep's per-turn table), not in every run
        options = Lazy(lambda: {a: _option(s, probs[a], climbs[a])
                                for a, s in sorted(scored.items())})
        order = self._orders.get(pick)
        if order is None:
            order = self._orders[pick] = Order(pick)
        return Decision((order,), {"options": options, "draw": menu.draw, "choice": pick})


_Term = tuple[str, Action, int, float]  # an action id, the action, its level, the climb to it


def _option(terms: tuple[float, ...], p: float, climb: float) -> dict[str, float]:
    """One scored option as an explanation shows it (the terms of decision.utility_terms)."""
    eu, _, _, q, gain, loss = terms
    return {"eu": eu, "p": p, "q": q, "gain": gain, "loss": loss, "climb": climb}


class Scripted:
    """Plays recorded or file-given orders by turn. Turns without orders hold, except after
    ``until``, when the fallback (a person, say) takes over: how a game resumes. ``names``
    gives, per turn, the controller name to log (a replay logs what was recorded)."""

    def __init__(self, orders: Mapping[int, list[Order]], fallback: Controller | None = None,
                 name: str = "orders", names: Mapping[int, str] | None = None,
                 until: int | None = None,
                 rationales: Mapping[int, str] | None = None) -> None:
        self.orders = {t: o for t, o in orders.items() if until is None or t <= until}
        self.fallback = fallback
        self.name = name
        self.names = dict(names or {})
        self.until = until
        self.rationales = dict(rationales or {})

    def __call__(self, obs: Observation, menu: Menu) -> Decision | Sequence[Order]:
        if obs.turn in self.orders:
            return Decision(tuple(self.orders[obs.turn]), None, self.names.get(obs.turn),
                            self.rationales.get(obs.turn))
        after = self.until is None or obs.turn > self.until
        if self.fallback is not None and after:
            return self.fallback(obs, menu)
        return Decision(())


class Callback:
    """A Python function ``observation -> list[Order]`` playing a side, under a name."""

    def __init__(self, fn: Callable[[Observation], Sequence[Order]],
                 name: str = "callback") -> None:
        self.fn = fn
        self.name = name

    def __call__(self, obs: Observation, menu: Menu) -> Decision:
        return Decision(tuple(self.fn(obs)))


def default_controllers(rules: Rules) -> dict[str, Controller]:
    return {"blue": BlueDoctrine(rules), "red": RedQuantal(rules)}
