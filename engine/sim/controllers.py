"""Who decides each turn. A controller sees only its own side's view and returns orders drawn
from the rules' action menu; doctrine, recorded orders, people and Python callbacks all fit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engine.sim.decision import RedEstimate, condition_holds, quantal_choice, utility
from engine.spec.rules import Rules


@dataclass(frozen=True)
class Order:
    """One action from the menu, with its parameters. An umpire's inject also names the side
    it is forced on and a note read out to the players."""

    action: str
    params: Mapping[str, str] = field(default_factory=dict)
    side: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"action": self.action, "params": dict(sorted(self.params.items()))}
        if self.side is not None:
            d["side"], d["note"] = self.side, self.note or ""
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Order:
        return cls(str(d["action"]), {str(k): str(v) for k, v in d.get("params", {}).items()},
                   d.get("side"), d.get("note"))


class Lazy(Mapping):
    """A read-only mapping computed on first use (doctrine never reads the situation)."""

    def __init__(self, make: Callable[[], Mapping[str, Any]]) -> None:
        self._make: Callable[[], Mapping[str, Any]] | None = make
        self._data: Mapping[str, Any] = {}

    def _get(self) -> Mapping[str, Any]:
        if self._make is not None:
            self._data, self._make = self._make(), None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


@dataclass(frozen=True)
class View:
    """What one side knows at the start of a turn (fog of war applies)."""

    turn: int
    side: str
    rung: str
    menu: tuple[str, ...]  # actions whose preconditions hold now
    facts: Mapping[str, float]
    situation: Mapping[str, Any]
    estimate: RedEstimate | None = None  # Red only


@dataclass(frozen=True)
class Decision:
    """A controller's orders and, optionally, how it reached them (logged as a record)."""

    orders: tuple[Order, ...]
    explanation: Mapping[str, Any] | None = None
    controller: str | None = None  # logged controller name, if not the controller's own


class Controller(Protocol):
    """Anything that turns a view into orders."""

    name: str

    def decide(self, view: View, rules: Rules, rng: np.random.Generator) -> Decision: ...


class BlueDoctrine:
    """Blue's readable rule list: every rule whose conditions hold adds its action once, in
    order (the first rule naming an action wins)."""

    name = "doctrine"

    def decide(self, view: View, rules: Rules, rng: np.random.Generator) -> Decision:
        chosen: dict[str, Order] = {}
        fired: list[str] = []
        for rule in rules.doctrine.get("blue", ()):
            if rule.do in chosen or rule.do not in view.menu:
                continue
            if all(condition_holds(c, view.facts, rules.ladder.level) for c in rule.when):
                chosen[rule.do] = Order(rule.do, dict(rule.params))
                fired.append(rule.name)
        return Decision(tuple(chosen.values()), {"rules_fired": fired})


class RedQuantal:
    """Red's expected-utility choice with a quantal-response (softmax) rule."""

    name = "doctrine"

    def decide(self, view: View, rules: Rules, rng: np.random.Generator) -> Decision:
        assert view.estimate is not None, "Red's view carries its estimate of Blue"
        scored = {}
        for aid in view.menu:
            action = rules.actions.red[aid]
            climb = rules.ladder.climb_cost(view.rung, action.signals)
            scored[aid] = utility(action, rules.ladder.level(action.signals), climb,
                                  view.estimate, rules.red_model)
        u = float(rng.random())
        pick, probs = quantal_choice({a: s["eu"] for a, s in scored.items()},
                                     rules.red_model.rationality, u)
        # unrounded: the kernel rounds explanations only when it records them
        options = {a: {"eu": s["eu"], "p": probs[a], "q": s["q"]}
                   for a, s in sorted(scored.items())}
        return Decision((Order(pick),), {"options": options, "draw": u, "choice": pick})


class Scripted:
    """Plays recorded or file-given orders by turn. Turns without orders hold, except after
    ``until``, when the fallback (a person, say) takes over: how a game resumes. ``names``
    gives, per turn, the controller name to log (a replay logs what was recorded)."""

    def __init__(self, orders: Mapping[int, list[Order]], fallback: Controller | None = None,
                 name: str = "orders", names: Mapping[int, str] | None = None,
                 until: int | None = None) -> None:
        self.orders = {t: o for t, o in orders.items() if until is None or t <= until}
        self.fallback = fallback
        self.name = name
        self.names = dict(names or {})
        self.until = until

    def decide(self, view: View, rules: Rules, rng: np.random.Generator) -> Decision:
        if view.turn in self.orders:
            return Decision(tuple(self.orders[view.turn]), None, self.names.get(view.turn))
        after = self.until is None or view.turn > self.until
        if self.fallback is not None and after:
            return self.fallback.decide(view, rules, rng)
        return Decision(())


class Callback:
    """A Python function ``view -> list[Order]`` playing a side (notebooks, experiments)."""

    def __init__(self, fn: Callable[[View], list[Order]], name: str = "callback") -> None:
        self.fn = fn
        self.name = name

    def decide(self, view: View, rules: Rules, rng: np.random.Generator) -> Decision:
        return Decision(tuple(self.fn(view)))


def default_controllers() -> dict[str, Controller]:
    return {"blue": BlueDoctrine(), "red": RedQuantal()}
