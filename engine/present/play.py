"""Classroom play in the terminal: people as controllers, the umpire between turns, and games
that survive a crash.

A Human is a controller like any other, a callable ``(observation, menu) -> Decision``: it shows
one side its own observation (fog of war: its situation and the records of the last turn it may
see), offers the menu's legal actions with their parameter choices, says why the others are not
available now, and asks for confirmation. The Umpire (White cell) gets the umpire's observation
and fires scripted or custom injects, pauses, or saves and quits between turns. The log is
written as the game goes; ``resume`` re-executes the complete turns of an interrupted log from
its recorded orders, checks them against the log, and hands control back to the people from the
next turn.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine.errors import LogError, ReplayDivergence
from engine.io.eventlog import LogWriter, raw_lines
from engine.present.narrative import labels_of, tell
from engine.sim.controllers import Controller, Decision, Menu, MenuItem
from engine.sim.kernel import RunResult, run
from engine.sim.session import param_choices
from engine.sim.views import Observation
from engine.spec.order import Order
from engine.spec.rules import Action, Rules
from engine.spec.scenario import Scenario
from engine.spec.types import Team


class SaveAndQuit(Exception):
    """The umpire stopped the game; the log holds every complete turn."""


class Screen:
    """The terminal: rich output and line input, both replaceable (tests, other front ends)."""

    def __init__(self, console: Console | None = None,
                 ask: Callable[[str], str] = input) -> None:
        self.console = console or Console(highlight=False)
        self._ask = ask

    def say(self, text: str = "", markup: bool = True) -> None:
        self.console.print(text if markup else escape(text), soft_wrap=True)

    def ask(self, prompt: str) -> str:
        try:
            return self._ask(prompt).strip()
        except EOFError:
            raise SaveAndQuit() from None

    def clear(self) -> None:
        self.console.clear()

    def choose(self, prompt: str, options: list[str], default: int | None = None) -> int:
        """Ask for one of numbered options until the answer is valid; return its index."""
        for i, option in enumerate(options, start=1):
            self.say(f"  {i}. {escape(option)}")
        while True:
            hint = f" [Enter = {options[default]}]" if default is not None else ""
            answer = self.ask(f"{prompt} (1-{len(options)}){hint}: ")
            if not answer and default is not None:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1
            self.say(f"[yellow]'{escape(answer)}' is not a choice: type a number from 1 to "
                     f"{len(options)}.[/yellow]")


class Human:
    """A team at the keyboard: sees its own observation, picks orders from its menu, confirms
    them."""

    name = "human"

    def __init__(self, side: str, screen: Screen, scenario: Scenario, rules: Rules,
                 handover: bool = True) -> None:
        self.side, self.screen, self.scenario, self.handover = side, screen, scenario, handover
        self.labels = labels_of(rules)

    def __call__(self, obs: Observation, menu: Menu) -> Decision:
        if self.handover:
            self.screen.clear()
            self.screen.ask(f"Hand over to the {self.side.upper()} team. {self.side.upper()} "
                            "team: press Enter when only you can see the screen. ")
        self._show(obs)
        while True:
            orders = self._collect(menu)
            self.screen.say(f"[bold]{self.side.upper()} orders for turn {obs.turn}:[/bold]")
            for o in orders or [Order("(no orders)")]:
                self.screen.say(f"  - {escape(o.action)}{escape(_params(o))}")
            if self.screen.ask("Commit these orders? [y]es / [n]o, start again: ").lower() \
                    .startswith("y"):
                break
        if self.handover:
            self.screen.clear()
            self.screen.say(f"{self.side.upper()} orders committed. Hand the keyboard back.")
        return Decision(tuple(orders))

    def _show(self, obs: Observation) -> None:
        s = self.screen
        s.say(f"[bold]{self.side.upper()} - turn {obs.turn} of {self.scenario.turns.count}"
              f"[/bold]  rung: {obs.rung} (level {obs.rung_level})")
        table = Table("", "", box=None, show_header=False)
        for key, value in obs.situation.items():
            table.add_row(key.replace("_", " "), escape(_brief(value)))
        s.console.print(table)
        # the records of the last turn this side may see (visible_to, from sim/kinds.py)
        events = [line for r in obs.events if (line := tell(dict(r), self.labels))]
        if events:
            s.say("[bold]What you saw since your last orders:[/bold]")
            for line in events[-25:]:
                s.say(f"  {escape(line)}")

    def _collect(self, menu: Menu) -> list[Order]:
        items = list(menu.items)
        labels = [f"{i.action}: {i.label} (signals {i.signals})" for i in items]
        orders: list[Order] = []
        while True:
            self.screen.say("[bold]Your menu:[/bold]")
            for i, label in enumerate(labels, start=1):
                self.screen.say(f"  {i}. {escape(label)}")
            if menu.refused:
                self.screen.say("[dim]Not available now:[/dim]")
                for action, why in sorted(menu.refused.items()):
                    self.screen.say(f"[dim]  - {escape(action)}: {escape(why)}[/dim]")
            answer = self.screen.ask("Add an order by number, [d]one, [u]ndo last: ").lower()
            if answer in ("d", "done"):
                return orders
            if answer in ("u", "undo"):
                if orders:
                    orders.pop()
                continue
            if not (answer.isdigit() and 1 <= int(answer) <= len(items)):
                self.screen.say(f"[yellow]'{escape(answer)}' is not understood: type a number "
                                f"from 1 to {len(items)}, d or u.[/yellow]")
                continue
            item = items[int(answer) - 1]
            if any(o.action == item.action for o in orders):
                self.screen.say(f"[yellow]{item.action} is already ordered this turn; \\[u]ndo "
                                "it first to change it.[/yellow]")
                continue
            orders.append(Order(item.action, choose_params(self.screen, item)))


def choose_params(screen: Screen, item: MenuItem) -> dict[str, str]:
    """Ask for each parameter of a menu item among its choices (Enter takes the default)."""
    chosen = {}
    for name, options in sorted(item.params.items()):
        choices = list(options)
        default = item.defaults.get(name)
        at = choices.index(default) if default in choices else None
        chosen[name] = choices[screen.choose(f"  {name}", choices, at)]
    return chosen


def menu_item(scenario: Scenario, aid: str, action: Action) -> MenuItem:
    """A rules action as a menu item (the umpire may force any action, legal now or not)."""
    params = sorted(action.params.items())
    return MenuItem(aid, action.label, action.signals,
                    {n: tuple(param_choices(scenario, p)) for n, p in params},
                    {n: p.default for n, p in params})


class Umpire:
    """The White cell between turns: the umpire's view, scripted or custom injects, pause,
    save and quit."""

    name = "umpire"

    def __init__(self, screen: Screen, scenario: Scenario, rules: Rules) -> None:
        self.screen, self.scenario, self.rules = screen, scenario, rules

    def __call__(self, obs: Observation, menu: Menu) -> Decision:
        injects: list[Order] = []
        while True:
            answer = self.screen.ask(
                f"WHITE CELL, turn {obs.turn}: [Enter] play the turn, [v] view both sides, "
                "[i] scripted inject, [c] custom inject, [p] pause, [s] save and quit: ").lower()
            if answer == "":
                return Decision(tuple(injects))
            if answer.startswith("s"):
                raise SaveAndQuit()
            if answer.startswith("p"):
                self.screen.ask("Paused. Press Enter to resume. ")
            elif answer.startswith("v"):
                self._view(obs)
            elif answer.startswith("i"):
                injects.extend(self._scripted())
            elif answer.startswith("c"):
                injects.append(self._custom())
            else:
                self.screen.say(f"[yellow]'{escape(answer)}' is not a command.[/yellow]")

    def _view(self, obs: Observation) -> None:
        """The umpire's observation: both sides' situations and the truth only White sees."""
        self.screen.say(f"[bold]WHITE CELL - turn {obs.turn}[/bold]  public rung: {obs.rung} "
                        f"(level {obs.rung_level})")
        table = Table("", "", box=None, show_header=False)
        for part, values in obs.situation.items():
            for key, value in values.items():
                table.add_row(f"{part}: {key.replace('_', ' ')}", escape(_brief(value)))
        self.screen.console.print(table)

    def _scripted(self) -> list[Order]:
        options = self.scenario.injects
        if not options:
            self.screen.say("[yellow]This scenario has no scripted injects.[/yellow]")
            return []
        i = self.screen.choose("Fire which inject", [
            f"turn {x.turn}, {x.side}: {x.action} - {x.note}" for x in options])
        x = options[i]
        # a White inject is forced on the side whose menu has the action (as when it fires)
        side: Team = x.side if x.side in ("blue", "red") else (
            "blue" if x.action in self.rules.actions.blue else "red")
        return [Order(x.action, {k: str(v) for k, v in x.params.items()}, side, x.note)]

    def _custom(self) -> Order:
        sides: tuple[Team, Team] = ("blue", "red")
        side = sides[self.screen.choose("Force an action on", list(sides))]
        menu = self.rules.actions.blue if side == "blue" else self.rules.actions.red
        names = sorted(menu)
        action = names[self.screen.choose("Action", [f"{a}: {menu[a].label}" for a in names])]
        params = choose_params(self.screen, menu_item(self.scenario, action, menu[action]))
        note = ""
        while not note:
            note = self.screen.ask("Note read out to the teams: ")
        return Order(action, params, side, note)


def _params(o: Order) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in o.params.items()) + ")" if o.params else ""


def _brief(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_brief(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(_brief(v) for v in value) or "-"
    return str(value)


# ---- games -----------------------------------------------------------------------------------

def play(scenario: Scenario, rules: Rules, seed: int, controllers: Mapping[str, Controller],
         path: Path, header: dict[str, Any]) -> RunResult | None:
    """Play a new game to ``path``; None if the umpire saved and quit (the log can resume)."""
    writer = LogWriter(path, header)
    try:
        result = run(scenario, rules, seed, controllers, writer)
    except SaveAndQuit:
        writer.abort()
        return None
    except BaseException:
        writer.abort()
        raise
    writer.close(result.outcome, result.outcome["turns_played"])
    return result


def last_complete_turn(path: Path) -> int:
    """The last turn whose turn.end record is in the log (0 if none)."""
    last = 0
    for _, text in raw_lines(path):
        if '"kind":"turn.end"' in text[:120]:
            last = int(text.split('"turn":', 1)[1].split(",", 1)[0])
    return last


def resume(path: Path, live: Callable[[str], Controller]) -> tuple[RunResult | None, int]:
    """Continue an interrupted game: re-execute its complete turns from the recorded orders
    (checked against the log), then let ``live(side)`` controllers play on. Returns the
    result (None if saved again) and the turn play resumed at."""
    from engine.io.replay import ComparingSink, Diverged, read_log, reconstruct, scan
    from engine.io.replay import controller_for as recorded

    reader = read_log(path)
    scanned = scan(reader)
    if scanned.verdict is None:
        raise LogError(f"{path}: this game is finished (the log has its footer); replay it or "
                       "fork it instead")
    if "truncated" not in scanned.verdict.message:
        raise LogError(f"{path}: cannot resume: {scanned.verdict.message}")
    game = reconstruct(reader, scanned)
    done = last_complete_turn(path)
    # doctrine re-decides, before and after the cut alike; people (and files) replay their
    # recorded orders up to the cut, then people play on
    controllers = {side: recorded(name, side, scanned.orders, scanned.names, until=done,
                                  fallback=live(side) if name != "doctrine" else None,
                                  rules=game.rules, rationales=scanned.rationales)
                   for side, name in reader.header["controllers"].items()}
    tmp = path.with_name(f".{path.name}.resume")
    header = {k: v for k, v in reader.header.items() if k != "h"}
    writer = LogWriter(tmp, header)
    lines = raw_lines(path)
    next(lines)
    sink = ComparingSink(lines, upto_turn=done + 1, writer=writer)
    try:
        result = run(game.scenario, game.rules, game.seed, controllers, sink, game.switch)
    except SaveAndQuit:
        writer.abort()
        os.replace(tmp, path)
        return None, done + 1
    except Diverged as d:
        writer.abort()
        tmp.unlink(missing_ok=True)
        raise ReplayDivergence(f"{path}: line {d.line} does not re-execute ({d.why}); the log "
                               "was changed since it was written") from None
    except BaseException:
        writer.abort()
        tmp.unlink(missing_ok=True)
        raise
    writer.close(result.outcome, result.outcome["turns_played"])
    os.replace(tmp, path)
    return result, done + 1
