"""``wargame replay``, ``verify`` and ``fork``: the log commands, thin over engine.io.replay."""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.cli.common import (
    Continuation,
    Side,
    atomic,
    check_output,
    err_console,
    fail,
    out_console,
    printable,
    shown,
)
from engine.errors import LogError

if TYPE_CHECKING:
    from engine.io.eventlog import ReadState


def register(app: typer.Typer) -> None:
    """Add the log commands to the app (kept apart so main.py stays one screen of commands)."""

    @app.command()
    def replay(
        log: Annotated[Path, typer.Argument(help="A wargame JSONL log.")],
        side: Annotated[Side, typer.Option(help="Fog of war: blue, red or white (all).")]
        = Side.white,
        turn: Annotated[int | None, typer.Option(help="Only this turn.")] = None,
        turns: Annotated[str | None, typer.Option(help="Only turns A-B.")] = None,
        kind: Annotated[str | None, typer.Option(help="Glob on record kinds, e.g. 'isr.*'.")]
        = None,
        unit: Annotated[str | None, typer.Option(help="Only records of this unit.")] = None,
        step: Annotated[bool, typer.Option(help="Step turn by turn (on a terminal).")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the selected records "
                                                             "as JSONL.")] = False,
    ) -> None:
        """Show a logged game turn by turn, from one side's view if asked."""
        from engine.io.eventlog import ReadState, read_lines
        from engine.io.replay import CutHeader, read_log

        console = out_console()
        lo, hi = _turn_range(turn, turns)
        try:
            reader = read_log(log)
        except CutHeader:  # truncated with nothing to show, like any cut log: say so
            _say_truncated(console, False, 0, err=as_json, why="cut inside its header line")
            return
        keep = _filter(side.value, lo, hi, kind, unit)
        check = reader.integrity
        if check.status in ("broken", "damaged"):  # said before anything from the log
            err_console().print(f"[yellow]warning:[/yellow] {shown(check.message)}")
        try:
            if as_json:
                state = ReadState()
                for line in read_lines(log, state):
                    if line.number > 1 and "footer" not in line.obj and keep(line.obj):
                        sys.stdout.write(printable(line.text, json=True) + "\n")
                _say_truncated(console, state.complete, state.last_turn, err=True,
                           why=_why(state))
                return
            _banner(console, reader.header, side.value)
            if step and sys.stdin.isatty() and sys.stdout.isatty():
                _step(console, reader, keep, side.value)
                return
            _show(console, reader.records(), keep, side.value)
            if reader.footer is not None and lo is None and kind is None and unit is None:
                console.print("[bold]Outcome:[/bold] "
                              f"{shown(_outcome_line(reader.footer['outcome']))}")
            _say_truncated(console, reader.state.complete, reader.state.last_turn,
                           why=_why(reader.state))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            # a line that parses but lacks what the engine writes: an edited log
            raise fail(LogError(f"{log}: a line cannot be shown ({e.__class__.__name__}: "
                                f"{e}); was the log edited? 'wargame verify' finds the "
                                "line")) from None

    @app.command("verify")
    def verify_command(log: Annotated[Path, typer.Argument(help="A wargame JSONL log.")]) -> None:
        """Check a log's hash chain, then re-execute the game and compare every record."""
        from engine.io.replay import verify

        console = out_console()
        verdict = verify(log)
        if verdict.ok:
            console.print(shown(verdict.message))
            return
        console.print(f"[red]not verified:[/red] {shown(verdict.message)}")
        if verdict.expected is not None:
            console.print(f"  logged:      {shown(verdict.expected[:300])}", soft_wrap=True)
        if verdict.found is not None:
            console.print(f"  re-executed: {shown(verdict.found[:300])}", soft_wrap=True)
        raise typer.Exit(1)

    @app.command("fork")
    def fork_command(
        log: Annotated[Path, typer.Argument(help="The parent log.")],
        turn: Annotated[int, typer.Option(help="Continue differently from the start of this "
                                               "turn.")],
        seed: Annotated[int | None, typer.Option(min=0, help="New seed from that turn on.")]
        = None,
        blue: Annotated[Continuation | None, typer.Option(
            help="Blue from the fork on: doctrine decides afresh, recorded replays its orders.")]
        = None,
        red: Annotated[Continuation | None, typer.Option(
            help="Red from the fork on: doctrine decides afresh, recorded replays its orders.")]
        = None,
        out: Annotated[Path | None, typer.Option(
            help="Where to write the fork (default: beside the parent, LOG-forkN[-seedS].jsonl).")]
        = None,
        force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")]
        = False,
    ) -> None:
        """Continue a logged game from turn N with a new seed or other controllers."""
        from engine.io.fork import fork

        chosen = {k: v.value for k, v in (("blue", blue), ("red", red)) if v is not None}
        path = out or log.with_name(f"{log.stem}-fork{turn}"
                                    f"{'' if seed is None else f'-seed{seed}'}.jsonl")
        check_output(path, [log], force)
        with atomic(path) as tmp:  # the fork takes its name only once complete
            result, final = fork(log, turn, tmp, seed, chosen)
        out_console().print(f"forked {shown(log)} at turn {turn} -> {shown(path)} "
                            f"({result.records} records, chain {final}); deterrence "
                            f"{'held' if result.outcome['deterrence_held'] else 'failed'}")


def _turn_range(turn: int | None, turns: str | None) -> tuple[int | None, int | None]:
    if turn is not None:
        return turn, turn
    if turns is None:
        return None, None
    lo, _, hi = turns.partition("-")
    if not (lo.isdigit() and hi.isdigit()) or int(lo) > int(hi):
        raise fail(LogError(f"--turns: expected A-B with A <= B, e.g. 3-7; found '{turns}'"))
    return int(lo), int(hi)


def _filter(side: str, lo: int | None, hi: int | None, kind: str | None, unit: str | None):
    def keep(rec: dict[str, Any]) -> bool:
        if side != "white" and side not in rec.get("visible_to", ()):
            return False
        if lo is not None and not lo <= rec.get("turn", 0) <= hi:
            return False
        if kind is not None and not fnmatch.fnmatchcase(rec.get("kind", ""), kind):
            return False
        return unit is None or rec.get("unit") == unit
    return keep


def _banner(console, header: dict[str, Any], side: str) -> None:
    meta = header["scenario"]["meta"]
    console.print(f"[bold]{shown(meta['title'])}[/bold]  seed "
                  f"{shown(header['seed']['entropy'])}  blue: "
                  f"{shown(header['controllers']['blue'])}, red: "
                  f"{shown(header['controllers']['red'])}  view: {side}")
    parent = header.get("parent")
    if parent:
        console.print(shown(f"forked at turn {parent['fork_turn']} from log "
                            f"{parent['log_sha256'][:16]} (seed {parent.get('seed')}, "
                            f"controllers {parent.get('controllers') or 'unchanged'})"))


def _show(console, records: Iterator[dict[str, Any]], keep, side: str) -> None:
    """Print the story and, at each turn's end, the situation table the side may see."""
    from engine.present.narrative import tell

    state: dict[str, dict[str, Any]] = {}
    current = None
    for rec in records:
        if rec["kind"] in ("state.blue", "state.red") and keep(rec):
            state[rec["kind"]] = rec
            continue
        if not keep(rec):
            continue
        if rec["turn"] != current:
            current = rec["turn"]
            console.rule(f"Turn {shown(current)}", style="dim")
        if rec["kind"] == "turn.end":
            _table(console, rec, state.get("state.blue"), state.get("state.red"))
            state.clear()
            continue
        line = tell(rec)
        if line is not None:
            console.print(f"  {rec['t']:7.2f} h  {shown(line)}", soft_wrap=True)


def _table(console, end, blue, red) -> None:
    from rich.table import Table

    from engine.present.narrative import situation_rows

    table = Table(box=None, show_header=False, title=f"End of turn {shown(end['turn'])}",
                  title_justify="left")
    table.add_column(style="dim")
    table.add_column()
    for name, value in situation_rows(end, blue, red):
        table.add_row(shown(name), shown(value))
    console.print(table)


def _step(console, reader, keep, side: str) -> None:
    """VCR mode: n(ext), b(ack), g N (go to turn N), q(uit)."""
    by_turn: dict[int, list[dict[str, Any]]] = {}
    for rec in reader.records():  # stepping needs random access; an index of turns
        by_turn.setdefault(rec["turn"], []).append(rec)
    turns = sorted(by_turn)
    i = 0
    while turns:
        console.clear()
        _show(console, iter(by_turn[turns[i]]), keep, side)
        answer = typer.prompt(f"turn {printable(turns[i])} of {printable(turns[-1])}: "
                              "[n]ext [b]ack [g N] [q]uit",
                              default="n", show_default=False).strip().lower()
        if answer.startswith("q"):
            return
        if answer.startswith("b"):
            i = max(0, i - 1)
        elif answer.startswith("g"):
            target = answer[1:].strip()
            if target.isdigit() and int(target) in by_turn:
                i = turns.index(int(target))
        else:
            i = min(len(turns) - 1, i + 1)


def _outcome_line(o: dict[str, Any]) -> str:
    held = "deterrence held" if o["deterrence_held"] else (
        f"deterrence failed on turn {o['failure_turn']}")
    return f"{held}; highest rung {o['highest_rung']}; Red gains {o['red_gains']}"


def _why(state: ReadState) -> str:
    if state.corrupt:
        return (f"line {state.truncated_at} is damaged ({state.reason}); the log was edited or "
                "corrupted, not cut: `wargame verify` names the first bad line")
    return "the log has no footer (the game was cut)"


def _say_truncated(console, complete: bool, last_turn: int, err: bool = False,
                   why: str = "the log has no footer (the game was cut)") -> None:
    if not complete:
        word = "stopped" if "damaged" in why else "truncated"
        msg = f"{word} after turn {last_turn}: {why}"
        if err:
            print(printable(msg), file=sys.stderr)
        else:
            console.print(f"[yellow]{shown(msg)}[/yellow]")
