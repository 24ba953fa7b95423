"""The ``wargame`` command line: thin typer wrappers over the engine; exit 0 ok, 1 check failed,
2 bad input. Every EngineError becomes a short message on stderr, never a traceback.

Start-up is kept short: this module and the command modules import only typer and the light
shared helpers (engine.cli.common); each command imports the engine parts it needs when it runs,
so ``wargame --help`` loads no simulation, dask, pyarrow, matplotlib, numpy or web server
(measured by benchmarks/cli_startup.py, checked by tests/cli/test_cli_terminal.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine import __version__
from engine.cli.common import (
    Narration,
    SchemaKind,
    Wargame,
    atomic,
    check_output,
    err_console,
    fail,
    input_file,
    out_console,
    say_error,
    shown,
    silence_stdout,
)
from engine.cli.levers import register as register_levers_commands
from engine.cli.logs import register as register_log_commands
from engine.cli.play import register as register_play_command
from engine.cli.report import register as register_report_commands
from engine.cli.serve import register as register_serve_command
from engine.cli.sweep import sweep_app
from engine.errors import EngineError, Problem

if TYPE_CHECKING:
    from rich.table import Table

    from engine.spec.scenario import Scenario

DEFAULT = "alliance-2024"

app = typer.Typer(
    cls=Wargame,
    help="Tabletop deterrence-exercise engine seeded by alliance posture (notional values).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"wargame {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool | None, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the engine's version and exit.")] = None,
) -> None:
    """Tabletop deterrence-exercise engine seeded by alliance posture (notional values)."""


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Scenario or rules YAML files.")],
) -> None:
    """Check scenario and rules files; print every problem with file, line and field."""
    from engine.io.loading import load_any
    from engine.spec.scenario import Scenario

    bad = 0
    for path in paths:
        try:
            model = load_any(path)
            if isinstance(model, Scenario):
                _check_pair(model, path)
        except EngineError as e:
            bad += 1
            for line in str(e).splitlines():
                err_console().print(f"[red]✗[/red] {shown(line)}", soft_wrap=True)
            continue
        kind = "rules" if type(model).__name__ == "Rules" else "scenario"
        out_console().print(f"[green]✓[/green] {shown(path)} ({kind})")
    out_console().print(f"{len(paths) - bad} valid, {bad} invalid")
    if bad:
        raise typer.Exit(2)


def _check_pair(s: Scenario, path: Path) -> None:
    """The scenario against the rule set it names; each problem located in the scenario file."""
    from engine.io.loading import load_rules, locate_problems, pair_problems

    try:
        problems = pair_problems(s, load_rules(s.rules))
    except EngineError as e:
        why = "; ".join(p.message for p in e.problems) or str(e)
        problems = [f"rules: cannot use rule set '{s.rules}': {why}"]
    if problems:
        raise EngineError("", locate_problems(path, problems))


@app.command()
def schema(
    kind: Annotated[SchemaKind, typer.Argument(
        help="Which files: scenario, rules, log, or sweep (its tables' data dictionary).")],
    folder: Annotated[Path | None, typer.Argument(
        help="With sweep: a sweep folder, to include its factor columns.")] = None,
) -> None:
    """Print the JSON Schema of scenario or rules files or of log lines, or the data
    dictionary of a sweep's Parquet tables."""
    from engine.io.schemas import json_schema

    if folder is not None and kind.value != "sweep":
        raise EngineError("", (Problem("schema", "a folder goes with `wargame schema sweep` "
                                                 "only", field="FOLDER"),))
    sys.stdout.write(json_schema(kind.value, None if folder is None else str(folder)))


@app.command()
def scenarios() -> None:
    """List the built-in scenarios with their one-line summaries."""
    from rich.table import Table

    from engine.io.loading import builtin_names, builtin_path, load_scenario

    table = Table("scenario", "summary", "turns", box=None)
    for name in builtin_names("scenarios"):
        s = load_scenario(builtin_path("scenarios", name))
        table.add_row(shown(name), shown(s.meta.summary), str(s.turns.count))
    out_console().print(table)


class NarratingSink:
    """Prints the story of each turn as it happens, then passes records on to a log writer.
    Once the reader of the story goes away (``wargame run | head``) it only passes records on:
    the game and its log go on to the end."""

    wants_digest = True

    def __init__(self, inner: Any, narration: Narration, quiet: bool) -> None:
        self.inner, self.narration, self.quiet = inner, narration, quiet

    def emit(self, record: dict) -> None:
        from engine.present.narrative import tell

        self.inner.emit(record)
        if self.quiet or self.narration.closed:
            return
        line = tell(record)
        if line is None:
            return
        if record["kind"] == "turn.end":
            self.narration.print(f"[bold]{shown(line)}[/bold]")
        elif record["kind"] == "orders" and record["side"] == "blue":
            self.narration.rule(f"Turn {record['turn']}  (hour {record['t']:.0f})", style="dim")
            self.narration.print(shown(line))
        else:
            self.narration.print("  " + shown(line))

    def end_turn(self, turn: int) -> None:
        self.inner.end_turn(turn)


@app.command("run")
def run_command(
    scenario: Annotated[str, typer.Argument(help="Built-in name or YAML path.")] = DEFAULT,
    seed: Annotated[int, typer.Option(min=0, help="Root seed of the run.")] = 0,
    turns: Annotated[int | None, typer.Option(min=1, max=365, help="Play this many turns.")] = None,
    rules: Annotated[str | None, typer.Option(help="Rule set (default: the scenario's).")] = None,
    out: Annotated[Path | None, typer.Option(help="Log path (default runs/NAME-seedN.jsonl).")]
    = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the log if it exists.")]
    = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the log path.")] = False,
) -> None:
    """Play a scenario with doctrine on both sides: narrate it and write its event log."""
    from engine.io.eventlog import LogWriter
    from engine.io.loading import load_pair
    from engine.io.logschema import make_header
    from engine.sim.controllers import default_controllers, name_of
    from engine.sim.kernel import run
    from engine.sim.rng import describe, run_sequence
    from engine.spec.scenario import with_turns

    s, r = load_pair(scenario, rules)
    if turns is not None:
        s = with_turns(s, turns)
    path = out or Path("runs") / f"{s.meta.id}-seed{seed}.jsonl"
    check_output(path, [input_file(scenario, "scenarios"), input_file(rules or s.rules, "rules")],
                 force)
    say = Narration(out_console())
    if not quiet:
        say.print(f"[bold]{shown(s.meta.title)}[/bold] - seed {seed}, "
                  f"{s.turns.count} turns of {s.turns.hours:g} h")
        say.print(f"[dim]{shown(s.meta.notional)}[/dim]")
    players = default_controllers(r)
    header = make_header(s, r, describe(run_sequence(seed)),
                         {side: name_of(c) for side, c in players.items()}, __version__)
    # the log is written turn by turn (flushed each turn) into a temporary file beside its
    # final name, and takes that name only once its footer is written
    with atomic(path) as tmp:
        writer = LogWriter(tmp, header)
        try:
            result = run(s, r, seed, players, NarratingSink(writer, say, quiet))
        except BaseException:
            writer.abort()
            raise
        final = writer.close(result.outcome, result.outcome["turns_played"])
    if not quiet:
        say.print(outcome_table(result.outcome))
    say.print(f"log: {shown(path)}  ({result.records} records, chain {final})")
    say.flush()
    if say.failed is not None:
        raise EngineError(f"standard output: cannot write: {say.failed.strerror or say.failed}; "
                          f"the game was played to its end and its log {path} is complete")


LABELS = {"known_turn": "armed attack known (turn)"}


def outcome_table(o: dict) -> Table:
    """The end-of-run summary as a two-column table."""
    from rich.table import Table

    table = Table("measure", "value", title="Outcome", box=None)
    held = "[green]held[/green]" if o["deterrence_held"] else (
        f"[red]failed on turn {shown(o['failure_turn'])}[/red]")
    table.add_row("deterrence", held)
    for key in ("highest_rung", "known_turn", "article5_turn", "turns_played", "red_gains",
                "red_losses", "blue_losses", "incursions", "incursions_detected",
                "mean_time_to_detect_h", "c2_messages", "c2_mean_latency_h", "c2_delivery_rate"):
        value = o.get(key)
        table.add_row(LABELS.get(key, key.replace("_", " ")),
                      "-" if value is None else shown(value))
    return table


register_log_commands(app)
app.add_typer(sweep_app, name="sweep")
register_report_commands(app)
register_play_command(app, outcome_table)
register_serve_command(app)
register_levers_commands(app)


def main() -> None:
    """Console entry point: run the app, mapping engine errors to exit code 2 and a failed
    write to one line, never a traceback."""
    try:
        app()
    except EngineError as e:
        raise SystemExit(fail(e).exit_code) from None
    except BrokenPipeError:  # the reader of our output went away: stop printing, quietly
        silence_stdout()
        raise SystemExit(1) from None
    except OSError as e:  # a file the command could not read or write
        where = f"{e.filename}: " if e.filename else ""
        say_error(f"{where}{e.strerror or e}")
        raise SystemExit(2) from None
