"""Classroom play in the terminal: people as controllers, the umpire between turns, and games
that survive a crash.

A Human controller shows one side its own view (fog of war), takes orders from the menu with
parameters offered as choices, and asks for confirmation; the Umpire (White cell) fires scripted
or custom injects, pauses, or saves and quits between turns. The log is written as the game goes;
``resume`` re-executes the complete turns of an interrupted log from its recorded orders, checks
them against the log, and hands control back to the people from the next turn.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine.errors import LogError, ReplayDivergence
from engine.io.eventlog import LogWriter, raw_lines
from engine.present.narrative import tell
from engine.sim.controllers import Controller, Decision, Order, View
from engine.sim.kernel import RunResult, run
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario


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


class Recent:
    """A tee in front of the log writer keeping last turn's records for the players' views."""

    wants_digest = True

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.current: list[dict[str, Any]] = []
        self.last: list[dict[str, Any]] = []

    def emit(self, record: dict[str, Any]) -> None:
        self.inner.emit(record)
        self.current.append(record)

    def end_turn(self, turn: int) -> None:
        self.inner.end_turn(turn)
        self.last, self.current = self.current, []

    def seen_by(self, side: str) -> list[dict[str, Any]]:
        """Last turn's and this turn's records so far that ``side`` may see."""
        return [r for r in self.last + self.current if side in r["visible_to"]]


class Human:
    """A team at the keyboard: sees its own view, picks orders, confirms them."""

    name = "human"

    def __init__(self, side: str, screen: Screen, recent: Recent, scenario: Scenario,
                 handover: bool = True) -> None:
        self.side, self.screen, self.recent = side, screen, recent
        self.scenario, self.handover = scenario, handover

    def decide(self, view: View, rules: Rules, rng: np.random.Generator) -> Decision:
        if self.handover:
            self.screen.clear()
            self.screen.ask(f"Hand over to the {self.side.upper()} team. {self.side.upper()} "
                            "team: press Enter when only you can see the screen. ")
        self._show(view, rules)
        while True:
            orders = self._collect(view, rules)
            self.screen.say(f"[bold]{self.side.upper()} orders for turn {view.turn}:[/bold]")
            for o in orders or [Order("(no orders)")]:
                self.screen.say(f"  - {escape(o.action)}{escape(_params(o))}")
            if self.screen.ask("Commit these orders? [y]es / [n]o, start again: ").lower() \
                    .startswith("y"):
                break
        if self.handover:
            self.screen.clear()
            self.screen.say(f"{self.side.upper()} orders committed. Hand the keyboard back.")
        return Decision(tuple(orders))

    def _show(self, view: View, rules: Rules) -> None:
        s = self.screen
        s.say(f"[bold]{self.side.upper()} - turn {view.turn} of {self.scenario.turns.count}"
              f"[/bold]  rung: {view.rung} (level {rules.ladder.level(view.rung)})")
        table = Table("", "", box=None, show_header=False)
        for key, value in view.situation.items():
            table.add_row(key.replace("_", " "), escape(_brief(value)))
        s.console.print(table)
        events = [line for r in self.recent.seen_by(self.side) if (line := tell(r))]
        if events:
            s.say("[bold]What you saw since your last orders:[/bold]")
            for line in events[-25:]:
                s.say(f"  {escape(line)}")

    def _collect(self, view: View, rules: Rules) -> list[Order]:
        menu = rules.actions.blue if self.side == "blue" else rules.actions.red
        legal = list(view.menu)
        labels = [f"{a}: {menu[a].label} (signals {menu[a].signals})" for a in legal]
        orders: list[Order] = []
        while True:
            self.screen.say("[bold]Your menu:[/bold]")
            for i, label in enumerate(labels, start=1):
                self.screen.say(f"  {i}. {escape(label)}")
            answer = self.screen.ask("Add an order by number, [d]one, [u]ndo last: ").lower()
            if answer in ("d", "done"):
                return orders
            if answer in ("u", "undo"):
                if orders:
                    orders.pop()
                continue
            if not (answer.isdigit() and 1 <= int(answer) <= len(legal)):
                self.screen.say(f"[yellow]'{escape(answer)}' is not understood: type a number "
                                f"from 1 to {len(legal)}, d or u.[/yellow]")
                continue
            action = legal[int(answer) - 1]
            if any(o.action == action for o in orders):
                self.screen.say(f"[yellow]{action} is already ordered this turn; [u]ndo it "
                                "first to change it.[/yellow]")
                continue
            orders.append(Order(action, self._params(menu[action], rules)))

    def _params(self, action, rules: Rules) -> dict[str, str]:
        from engine.sim.kernel import param_choices_for

        chosen = {}
        for name, spec in sorted(action.params.items()):
            choices = param_choices_for(self.scenario, spec)
            default = choices.index(spec.default) if spec.default in choices else None
            chosen[name] = choices[self.screen.choose(f"  {name}", choices, default)]
        return chosen


class Umpire:
    """The White cell between turns: scripted or custom injects, pause, save and quit."""

    name = "umpire"

    def __init__(self, screen: Screen, scenario: Scenario) -> None:
        self.screen, self.scenario = screen, scenario

    def decide(self, view: View, rules: Rules, rng: np.random.Generator) -> Decision:
        injects: list[Order] = []
        while True:
            answer = self.screen.ask(
                f"WHITE CELL, turn {view.turn}: [Enter] play the turn, [i] scripted inject, "
                "[c] custom inject, [p] pause, [s] save and quit: ").lower()
            if answer == "":
                return Decision(tuple(injects))
            if answer.startswith("s"):
                raise SaveAndQuit()
            if answer.startswith("p"):
                self.screen.ask("Paused. Press Enter to resume. ")
            elif answer.startswith("i"):
                injects.extend(self._scripted())
            elif answer.startswith("c"):
                injects.append(self._custom(rules))
            else:
                self.screen.say(f"[yellow]'{escape(answer)}' is not a command.[/yellow]")

    def _scripted(self) -> list[Order]:
        options = self.scenario.injects
        if not options:
            self.screen.say("[yellow]This scenario has no scripted injects.[/yellow]")
            return []
        i = self.screen.choose("Fire which inject", [
            f"turn {x.turn}, {x.side}: {x.action} - {x.note}" for x in options])
        x = options[i]
        side = x.side if x.side != "white" else "blue"
        return [Order(x.action, {k: str(v) for k, v in x.params.items()}, side, x.note)]

    def _custom(self, rules: Rules) -> Order:
        side = ("blue", "red")[self.screen.choose("Force an action on", ["blue", "red"])]
        menu = rules.actions.blue if side == "blue" else rules.actions.red
        names = sorted(menu)
        action = names[self.screen.choose("Action", [f"{a}: {menu[a].label}" for a in names])]
        params = Human(side, self.screen, Recent(None), self.scenario, False)._params(
            menu[action], rules)
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

def play(scenario: Scenario, rules: Rules, seed: int, controllers: dict[str, Controller],
         path: Path, header: dict[str, Any]) -> RunResult | None:
    """Play a new game to ``path``; None if the umpire saved and quit (the log can resume)."""
    writer = LogWriter(path, header)
    recent = _recent_of(controllers)
    recent.inner = writer
    try:
        result = run(scenario, rules, seed, controllers, recent)
    except SaveAndQuit:
        writer.abort()
        return None
    except BaseException:
        writer.abort()
        raise
    writer.close(result.outcome, result.outcome["turns_played"])
    return result


def _recent_of(controllers: dict[str, Controller]) -> Recent:
    for c in controllers.values():
        for obj in (c, getattr(c, "fallback", None)):
            if isinstance(obj, Human):
                return obj.recent
    return Recent(None)


def last_complete_turn(path: Path) -> int:
    """The last turn whose turn.end record is in the log (0 if none)."""
    last = 0
    for _, text in raw_lines(path):
        if '"kind":"turn.end"' in text[:120]:
            last = int(text.split('"turn":', 1)[1].split(",", 1)[0])
    return last


def resume(path: Path, live: Callable[[str, Recent], Controller]) -> tuple[RunResult | None, int]:
    """Continue an interrupted game: re-execute its complete turns from the recorded orders
    (checked against the log), then let ``live(side, recent)`` controllers play on. Returns the
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
    recent = Recent(None)
    names = {side: name for side, name in reader.header["controllers"].items()}
    controllers = {side: recorded(name, side, scanned.orders, scanned.names, until=done,
                                  fallback=live(side, recent) if name != "doctrine" else None)
                   for side, name in names.items()}
    tmp = path.with_name(f".{path.name}.resume")
    header = {k: v for k, v in reader.header.items() if k != "h"}
    writer = LogWriter(tmp, header)
    lines = raw_lines(path)
    next(lines)
    recent.inner = ComparingSink(lines, upto_turn=done + 1, writer=writer)
    try:
        result = run(game.scenario, game.rules, game.seed, controllers, recent, game.switch)
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
