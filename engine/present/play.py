"""Classroom play in the terminal: people as controllers, the umpire between turns, and games
that survive a crash.

A Human is a controller like any other, a callable ``(observation, menu) -> Decision``: it shows
one side its own observation (fog of war: its situation and the records of the last turn it may
see), offers the menu's legal actions with their parameter choices, says why the others are not
available now, and asks for confirmation. The Umpire (White cell) gets the umpire's observation
and fires scripted or custom injects, pauses, or saves and quits between turns. A team may give
its reasons in one line with its orders (the ``rationale`` of its orders record). The hand-over
clears the screen and the scroll-back. The log is written as the game goes, flushed every turn;
``resume`` re-executes the complete turns of an interrupted log from its recorded orders, checks
them against the log byte for byte, and hands control back to the people from the next turn,
writing on into the same log (replaced atomically), so a game can be resumed any number of
times and the log always holds every complete turn.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any, cast

from rich.console import Console
from rich.table import Table

from engine.errors import LogError
from engine.io.eventlog import LogWriter, fsync, raw_lines
from engine.present.narrative import labels_of, printable, shown, tell
from engine.sim.controllers import Controller, Decision, Menu, MenuItem
from engine.sim.kernel import RunResult, run
from engine.sim.session import param_choices
from engine.sim.views import Observation
from engine.spec.order import Order
from engine.spec.rules import Action, Rules
from engine.spec.scenario import Scenario
from engine.spec.types import Team

CLEAR_ALL = "\x1b[2J\x1b[H\x1b[3J"  # clear the screen, cursor home, erase the scroll-back


class SaveAndQuit(Exception):
    """The umpire stopped the game; the log holds every complete turn."""


class Screen:
    """The terminal: rich output and line input, both replaceable (tests, other front ends)."""

    def __init__(self, console: Console | None = None,
                 ask: Callable[[str], str] = input) -> None:
        self.console = console or Console(highlight=False)
        self._ask = ask

    def say(self, text: str = "", markup: bool = True) -> None:
        """Print a line: rich markup written by us (user text in it passed through
        :func:`~engine.present.narrative.shown`), or, with ``markup=False``, plain user text."""
        self.console.print(text if markup else shown(text), soft_wrap=True)

    def ask(self, prompt: str) -> str:
        try:
            return self._ask(printable(prompt)).strip()
        except EOFError:
            raise SaveAndQuit() from None

    def clear(self) -> None:
        """Clear the screen and the terminal's scroll-back, so that the next team cannot scroll
        up to the other team's orders. Output that is not a terminal gets no escape codes; a
        terminal without them (TERM=dumb) gets a screenful of blank lines."""
        console = self.console
        if not console.is_terminal:
            return
        if console.is_dumb_terminal:
            console.file.write("\n" * console.height)
        else:
            console.file.write(CLEAR_ALL)
        console.file.flush()

    def choose(self, prompt: str, options: list[str], default: int | None = None) -> int:
        """Ask for one of numbered options until the answer is valid; return its index."""
        for i, option in enumerate(options, start=1):
            self.say(f"  {i}. {shown(option)}")
        while True:
            hint = f" [Enter = {options[default]}]" if default is not None else ""
            answer = self.ask(f"{prompt} (1-{len(options)}){hint}: ")
            if not answer and default is not None:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1
            self.say(f"[yellow]'{shown(answer)}' is not a choice: type a number from 1 to "
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
                self.screen.say(f"  - {shown(o.action)}{shown(_params(o))}")
            rationale = one_line(self.screen.ask(RATIONALE_PROMPT))
            if rationale:
                self.screen.say(f"  because: {shown(rationale)}")
            if self.screen.ask("Commit these orders? [y]es / [n]o, start again: ").lower() \
                    .startswith("y"):
                break
        if self.handover:
            self.screen.clear()
            self.screen.say(f"{self.side.upper()} orders committed. Hand the keyboard back.")
        return Decision(tuple(orders), rationale=rationale or None)

    def _show(self, obs: Observation) -> None:
        s = self.screen
        s.say(f"[bold]{self.side.upper()} - turn {obs.turn} of {self.scenario.turns.count}"
              f"[/bold]  rung: {shown(obs.rung)} (level {obs.rung_level})")
        table = Table("", "", box=None, show_header=False)
        for key, value in obs.situation.items():
            table.add_row(shown(key.replace("_", " ")), shown(_brief(value)))
        s.console.print(table)
        # the records of the last turn this side may see (visible_to, from sim/kinds.py)
        events = [line for r in obs.events if (line := tell(dict(r), self.labels))]
        if events:
            s.say("[bold]What you saw since your last orders:[/bold]")
            for line in events[-25:]:
                s.say(f"  {shown(line)}")

    def _collect(self, menu: Menu) -> list[Order]:
        items = list(menu.items)
        labels = [f"{i.action}: {i.label} (signals {i.signals})" for i in items]
        orders: list[Order] = []
        while True:
            self.screen.say("[bold]Your menu:[/bold]")
            for i, label in enumerate(labels, start=1):
                self.screen.say(f"  {i}. {shown(label)}")
            if menu.refused:
                self.screen.say("[dim]Not available now:[/dim]")
                for action, why in sorted(menu.refused.items()):
                    self.screen.say(f"[dim]  - {shown(action)}: {shown(why)}[/dim]")
            answer = self.screen.ask("Add an order by number, [d]one, [u]ndo last: ").lower()
            if answer in ("d", "done"):
                return orders
            if answer in ("u", "undo"):
                if orders:
                    orders.pop()
                continue
            if not (answer.isdigit() and 1 <= int(answer) <= len(items)):
                self.screen.say(f"[yellow]'{shown(answer)}' is not understood: type a number "
                                f"from 1 to {len(items)}, d or u.[/yellow]")
                continue
            item = items[int(answer) - 1]
            if any(o.action == item.action for o in orders):
                self.screen.say(f"[yellow]{shown(item.action)} is already ordered this turn; "
                                "\\[u]ndo it first to change it.[/yellow]")
                continue
            orders.append(Order(item.action, choose_params(self.screen, item)))


RATIONALE_PROMPT = "Your reasons, in one line, for the debrief (Enter to skip): "


def one_line(text: str) -> str:
    """A typed rationale as one clean line: no control characters, single spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


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
                self.screen.say(f"[yellow]'{shown(answer)}' is not a command.[/yellow]")

    def _view(self, obs: Observation) -> None:
        """The umpire's observation: both sides' situations and the truth only White sees."""
        self.screen.say(f"[bold]WHITE CELL - turn {obs.turn}[/bold]  public rung: "
                        f"{shown(obs.rung)} (level {obs.rung_level})")
        table = Table("", "", box=None, show_header=False)
        for part, values in obs.situation.items():
            for key, value in values.items():
                table.add_row(shown(f"{part}: {key.replace('_', ' ')}"), shown(_brief(value)))
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


def complete_turns(path: Path) -> tuple[int, int]:
    """The last turn whose turn.end record is in the log (0 if none), and the length in bytes of
    the log up to the end of that record's line (of the header line if none)."""
    last, size, offset = 0, 0, 0
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                break
            offset += len(raw)
            if number == 1:
                size = offset
            elif b'"kind":"turn.end"' in raw[:120]:
                try:
                    last = int(raw.split(b'"turn":', 1)[1].split(b",", 1)[0])
                except (IndexError, ValueError):
                    break
                size = offset
    return last, size


def last_complete_turn(path: Path) -> int:
    """The last turn whose turn.end record is in the log (0 if none)."""
    return complete_turns(path)[0]


def resume_command(path: Path) -> str:
    """The command that continues the game of ``path``, exactly as to type it."""
    return f"wargame play --resume {shlex.quote(str(path))}"


class _Resuming:
    """The sink of a resumed game. Every record goes to a new file beside the log; the
    re-executed turns are compared with the log record by record as they come, then byte for
    byte; the new file takes the log's place (``os.replace``, atomic) as soon as it holds a
    complete turn more than the log (or the footer), and play goes on appending to it. Until
    then the log is left as it was, so a crash at any moment leaves the old log or the new one,
    and never less than every complete turn."""

    wants_digest = True

    def __init__(self, path: Path, header: dict[str, Any], done: int, size: int) -> None:
        from engine.io.replay import ComparingSink

        self.path, self.done, self.size = path, done, size
        self.tmp = temp_path(path)
        self.writer = LogWriter(self.tmp, header)
        self.old = cast(Generator[tuple[int, str], None, None], raw_lines(path))
        next(self.old)
        self.compare = ComparingSink(self.old, upto_turn=done + 1, writer=self.writer)
        self.ended = 0  # the last turn whose records are all in the new file
        self.committed = False

    def start(self) -> None:
        """Before play: with no complete turn to re-execute, the header is all to check."""
        if self.done == 0:
            self._check()

    def emit(self, record: dict[str, Any]) -> None:
        self.compare.emit(record)

    def end_turn(self, turn: int) -> None:
        self.writer.end_turn(turn)
        self.ended = turn
        if turn == self.done:
            self._check()
        elif turn > self.done:
            self._commit()

    def close(self, outcome: dict[str, Any], turns: int) -> None:
        self.writer.close(outcome, turns)
        self._commit()

    def abort(self) -> None:
        """Stop writing. The new file replaces the log if it holds a complete turn more (an
        interruption in the instant before the rename); else it holds nothing the log lacks and
        is removed."""
        self.writer.abort()
        self.old.close()
        if self.ended > self.done:
            self._commit()
        elif not self.committed:
            self.tmp.unlink(missing_ok=True)

    def _check(self) -> None:
        """The re-executed turns are the log's complete turns, byte for byte (hash chain too)."""
        from engine.io.replay import Diverged

        self.old.close()
        line = _first_difference(self.tmp, self.path, self.size)
        if line is not None:
            raise Diverged(line, None, None, "the re-executed line is not byte-identical to "
                                             "the log's")

    def _commit(self) -> None:
        if self.committed:
            return
        fsync(self.tmp)
        os.replace(self.tmp, self.path)  # the writer's open file is now the log itself
        fsync(self.path.parent)
        self.committed = True


def temp_path(path: Path) -> Path:
    """The file a resumed game is written to until it holds more than the log."""
    return path.with_name(f".{path.name}.resume")


def _first_difference(new: Path, old: Path, size: int) -> int | None:
    """The number of the first line of ``new`` that differs from ``old``'s in their first
    ``size`` bytes (or that ``new`` lacks, or has beyond them); None if they are the same."""
    with new.open("rb") as a, old.open("rb") as b:
        number, read = 0, 0
        while read < size:
            number += 1
            line = a.readline()
            if not line or line != b.readline():
                return number
            read += len(line)
        return number + 1 if a.readline() or read != size else None


def resume(path: Path, live: Callable[[str], Controller]) -> tuple[RunResult | None, int]:
    """Continue an interrupted game: re-execute its complete turns from the recorded orders
    (checked against the log), then let ``live(side)`` controllers play on, into the same log
    (see :class:`_Resuming`: it can be resumed again any number of times). Returns the result
    (None if saved again) and the turn play resumed at. LogError (exit 2), leaving the log as
    it was, if the log does not re-execute."""
    from engine.io.replay import Diverged, read_log, reconstruct, scan
    from engine.io.replay import controller_for as recorded

    reader = read_log(path)
    scanned = scan(reader)
    if scanned.verdict is None:
        raise LogError(f"{path}: this game is finished (the log has its footer); replay it or "
                       "fork it instead")
    if "truncated" not in scanned.verdict.message:
        raise LogError(f"{path}: cannot resume: {scanned.verdict.message}")
    game = reconstruct(reader, scanned)
    done, size = complete_turns(path)
    _refuse_a_fuller_copy(path, done)
    # doctrine re-decides, before and after the cut alike; people (and files) replay their
    # recorded orders up to the cut, then people play on
    controllers = {side: recorded(name, side, scanned.orders, scanned.names, until=done,
                                  fallback=live(side) if name != "doctrine" else None,
                                  rules=game.rules, rationales=scanned.rationales)
                   for side, name in reader.header["controllers"].items()}
    header = {k: v for k, v in reader.header.items() if k != "h"}
    sink = _Resuming(path, header, done, size)
    try:
        sink.start()
        result = run(game.scenario, game.rules, game.seed, controllers, sink, game.switch)
    except SaveAndQuit:
        sink.abort()
        return None, done + 1
    except Diverged as d:
        sink.abort()
        where = f"line {d.line}" if d.line > 0 else "the end of the log"
        raise LogError(f"{path}: cannot resume: the game does not re-execute as logged ({where}: "
                       f"{d.why}); the log was changed since it was written, or was written by "
                       "another engine version. It is left as it was.") from None
    except BaseException:
        sink.abort()
        raise
    sink.close(result.outcome, result.outcome["turns_played"])
    return result, done + 1


def _refuse_a_fuller_copy(path: Path, done: int) -> None:
    """A resumed game's file left beside the log normally holds no more than the log; if it
    holds more complete turns (a crash in the instant between writing a turn and renaming, or
    an older engine that kept resumed turns there), refuse rather than overwrite it."""
    tmp = temp_path(path)
    if not tmp.exists():
        return
    try:
        theirs = complete_turns(tmp)[0]
    except OSError:
        theirs = 0
    if theirs > done:
        mv = f"mv {shlex.quote(str(tmp))} {shlex.quote(str(path))}"
        raise LogError(f"{tmp} holds turns 1-{theirs}, more than {path} (turns 1-{done}); it is "
                       f"the game's most recent copy. Check it with: wargame verify {tmp}; then "
                       f"move it over the log ({mv}) and resume again")
