"""Orders files for asynchronous classes: a side's orders by turn, written in YAML.

```yaml
format: wargame-orders/1
side: blue
turns:
  - turn: 1
    orders:
      - action: isr_tempo
        params: {level: surge}
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.errors import ReferenceProblems
from engine.spec.order import Order
from engine.spec.rules import Rules, param_problems
from engine.spec.scenario import MAX_TURNS, Frozen, Id, ParamValue, TurnNumber


class FileOrder(Frozen):
    action: Id
    params: dict[Id, ParamValue] = Field({}, max_length=10)


class TurnOrders(Frozen):
    turn: TurnNumber
    orders: tuple[FileOrder, ...] = Field((), max_length=50)


class OrdersFile(Frozen):
    format: Literal["wargame-orders/1"]
    side: Literal["blue", "red"]
    turns: tuple[TurnOrders, ...] = Field(min_length=1, max_length=MAX_TURNS)

    @model_validator(mode="after")
    def _one_entry_per_turn(self) -> OrdersFile:
        seen: dict[int, int] = {}
        problems = []
        for i, t in enumerate(self.turns):
            if t.turn in seen:
                problems.append((f"turns.{i}.turn", f"turn {t.turn} already has orders "
                                                    f"(entry {seen[t.turn]})"))
            seen[t.turn] = i
        if problems:
            raise ReferenceProblems(problems)
        return self

    def by_turn(self) -> dict[int, list[Order]]:
        return {t.turn: [Order(o.action, {k: _text(v) for k, v in o.params.items()})
                         for o in t.orders] for t in self.turns}


def _text(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def menu_problems(f: OrdersFile, rules: Rules, turns: int) -> list[tuple[str, str]]:
    """Every order names an action of the side's menu with valid choices, on a real turn."""
    menu = rules.actions.blue if f.side == "blue" else rules.actions.red
    out: list[tuple[str, str]] = []
    for i, t in enumerate(f.turns):
        if t.turn > turns:
            out.append((f"turns.{i}.turn", f"turn {t.turn} is after the last turn ({turns})"))
        for j, o in enumerate(t.orders):
            path = f"turns.{i}.orders.{j}"
            action = menu.get(o.action)
            if action is None:
                out.append((f"{path}.action", f"'{o.action}' is not on {f.side}'s menu "
                                              f"(known: {', '.join(sorted(menu))})"))
                continue
            out.extend((f"{path}.params.{p}", m)
                       for p, m in param_problems(o.action, action, o.params))
    return out
