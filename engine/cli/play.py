"""``wargame play``: a classroom game in the terminal (hot-seat when both sides are human)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine import __version__
from engine.cli.common import (
    Player,
    check_output,
    input_file,
    out_console,
    refuse,
    shown,
    writing,
)
from engine.errors import EngineError, Problem

if TYPE_CHECKING:
    from engine.present.play import Screen
    from engine.sim.controllers import Controller

KINDS = ("human", "doctrine")


def register(app: typer.Typer, outcome_table) -> None:
    @app.command("play")
    def play_command(
        scenario: Annotated[str, typer.Argument(help="Built-in name or YAML path.")]
        = "classroom-tutorial",
        blue: Annotated[Player | None, typer.Option(
            help="Who plays Blue (default: the scenario's controllers).")] = None,
        red: Annotated[Player | None, typer.Option(
            help="Who plays Red (default: the scenario's controllers).")] = None,
        blue_orders: Annotated[Path | None, typer.Option(help="Blue's orders from a YAML "
                                                              "file.")] = None,
        red_orders: Annotated[Path | None, typer.Option(help="Red's orders from a YAML file.")]
        = None,
        umpire: Annotated[bool, typer.Option(help="Offer the White cell's commands between "
                                                  "turns.")] = True,
        handover: Annotated[bool, typer.Option(help="Clear the screen between teams.")]
        = True,
        seed: Annotated[int, typer.Option(min=0)] = 0,
        out: Annotated[Path | None, typer.Option(help="Log path.")] = None,
        resume_log: Annotated[Path | None, typer.Option("--resume", help="Continue this "
                                                                         "interrupted game.")]
        = None,
    ) -> None:
        """Play an exercise turn by turn: teams at the keyboard, an umpire between turns."""
        from engine.io.loading import load_orders, load_pair
        from engine.io.logschema import make_header
        from engine.present.play import Human, Screen, Umpire, play
        from engine.sim.controllers import BlueDoctrine, RedQuantal, Scripted, name_of
        from engine.sim.rng import describe, run_sequence

        screen = Screen(out_console())
        if resume_log is not None:
            _resume(screen, resume_log, handover, outcome_table)
            return
        s, r = load_pair(scenario)
        blue_kind = blue.value if blue is not None else _default(s.controllers.blue, "blue",
                                                                 blue_orders)
        red_kind = red.value if red is not None else _default(s.controllers.red, "red",
                                                              red_orders)
        path = out or Path("runs") / f"{s.meta.id}-play-seed{seed}.jsonl"
        # the log is the game's live record, written turn by turn under its own name (so that
        # a game cut short can be resumed); it never replaces a file, nor an input
        check_output(path, [input_file(scenario, "scenarios"), input_file(s.rules, "rules"),
                            blue_orders, red_orders], force=True)
        if path.exists():
            raise refuse(f"{path}: already exists: continue it with --resume {path}, or "
                         "choose --out")
        players: dict[str, Controller] = {}
        for side, kind, orders in (("blue", blue_kind, blue_orders),
                                   ("red", red_kind, red_orders)):
            if orders is not None:
                players[side] = Scripted(load_orders(orders, side, r, s.turns.count).by_turn())
            elif kind == "human":
                players[side] = Human(side, screen, s, r, handover)
            else:
                players[side] = BlueDoctrine(r) if side == "blue" else RedQuantal(r)
        if umpire:
            players["white"] = Umpire(screen, s, r)
        header = make_header(s, r, describe(run_sequence(seed)),
                             {k: name_of(c) for k, c in players.items()}, __version__)
        screen.say(f"[bold]{shown(s.meta.title)}[/bold] - {s.turns.count} turns; log: "
                   f"{shown(path)}")
        screen.say(f"[dim]{shown(s.meta.notional)}[/dim]")
        with _interrupted(screen, path), writing(path):
            result = play(s, r, seed, players, path, header)
        _finish(screen, result, path, outcome_table)


def _default(kind: str, side: str, orders: Path | None) -> str:
    """The scenario's controller for a side, when the command line names none."""
    if kind in KINDS or orders is not None:
        return kind if kind in KINDS else "doctrine"
    raise EngineError("", (Problem("play", f"the scenario has {side} played by '{kind}'; give "
                                           f"--{side} human|doctrine or --{side}-orders FILE",
                                   field=f"--{side}"),))


def _resume(screen: Screen, log: Path, handover: bool, outcome_table) -> None:
    from engine.io.replay import read_log, reconstruct, scan
    from engine.present.play import Human, Umpire, last_complete_turn, resume

    reader = read_log(log)
    game = reconstruct(reader, scan(reader))
    s, r = game.scenario, game.rules

    def live(side: str) -> Controller:
        return Umpire(screen, s, r) if side == "white" else Human(side, screen, s, r, handover)

    done = last_complete_turn(log)
    screen.say(f"resuming {shown(log)}: " + (f"replaying turns 1-{done} from the log, "
                                             if done else "")
               + f"play goes on at turn {done + 1}")
    with _interrupted(screen, log), writing(log):
        result, _ = resume(log, live)
    _finish(screen, result, log, outcome_table)


@contextmanager
def _interrupted(screen: Screen, path: Path) -> Iterator[None]:
    """Ctrl-C during play: no traceback, but where the log is, what it holds and the command
    that continues the game; exit code 130."""
    from engine.present.play import resume_command

    try:
        yield
    except KeyboardInterrupt:
        screen.say(f"\nInterrupted. The log {shown(path)} holds every complete turn "
                   f"({_held(path)}).\nContinue with: {shown(resume_command(path))}")
        raise typer.Exit(130) from None


def _held(path: Path) -> str:
    from engine.present.play import last_complete_turn

    done = last_complete_turn(path) if path.exists() else 0
    return f"turns 1-{done}" if done else "no complete turn yet"


def _finish(screen: Screen, result, path: Path, outcome_table) -> None:
    from engine.present.play import resume_command

    if result is None:
        screen.say(f"Game saved: the log {shown(path)} holds every complete turn "
                   f"({_held(path)}). Continue with: {shown(resume_command(path))}")
        return
    screen.console.print(outcome_table(result.outcome))
    screen.say(f"log: {shown(path)}\nDebrief with: wargame replay {shown(path)} "
               f"--side blue | wargame report {shown(path)} --out report.html")
