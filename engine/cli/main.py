"""The ``wargame`` command line: thin typer wrappers over the engine; exit 0 ok, 1 check failed,
2 bad input. Every EngineError becomes a short message on stderr, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine import __version__
from engine.cli.logs import register as register_log_commands
from engine.cli.play import register as register_play_command
from engine.cli.serve import register as register_serve_command
from engine.cli.sweep import sweep_app
from engine.errors import EngineError, Problem
from engine.io.eventlog import LogWriter
from engine.io.loading import (
    builtin_names,
    builtin_path,
    load_any,
    load_pair,
    load_rules,
    load_scenario,
    locate_problems,
    pair_problems,
)
from engine.io.logschema import make_header
from engine.present.narrative import tell
from engine.sim.controllers import default_controllers, name_of
from engine.sim.kernel import run
from engine.sim.rng import describe, run_sequence
from engine.spec.scenario import Scenario, with_turns

DEFAULT = "alliance-2024"

app = typer.Typer(
    help="Tabletop deterrence-exercise engine seeded by alliance posture (notional values).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console(highlight=False, width=None if Console().is_terminal else 160)
err = Console(stderr=True, highlight=False)


def fail(e: EngineError) -> typer.Exit:
    """Print an engine error plainly and return the exit to raise."""
    for line in str(e).splitlines() or [type(e).__name__]:
        err.print(f"[red]error:[/red] {escape(line)}", markup=True, soft_wrap=True)
    return typer.Exit(e.exit_code)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Scenario or rules YAML files.")],
) -> None:
    """Check scenario and rules files; print every problem with file, line and field."""
    bad = 0
    for path in paths:
        try:
            model = load_any(path)
            if isinstance(model, Scenario):
                _check_pair(model, path)
        except EngineError as e:
            bad += 1
            for line in str(e).splitlines():
                err.print(f"[red]✗[/red] {escape(line)}", soft_wrap=True)
            continue
        kind = "rules" if type(model).__name__ == "Rules" else "scenario"
        out_console.print(f"[green]✓[/green] {escape(str(path))} ({kind})")
    out_console.print(f"{len(paths) - bad} valid, {bad} invalid")
    if bad:
        raise typer.Exit(2)


def _check_pair(s: Scenario, path: Path) -> None:
    """The scenario against the rule set it names; each problem located in the scenario file."""
    try:
        problems = pair_problems(s, load_rules(s.rules))
    except EngineError as e:
        why = "; ".join(p.message for p in e.problems) or str(e)
        problems = [f"rules: cannot use rule set '{s.rules}': {why}"]
    if problems:
        raise EngineError("", locate_problems(path, problems))


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(help="scenario | rules | log")],
) -> None:
    """Print the JSON Schema of scenario or rules files, or of log lines."""
    from engine.io.schemas import json_schema

    try:
        text = json_schema(kind)
    except KeyError:
        raise fail(EngineError("", (Problem("schema", f"unknown schema '{kind}'; expected "
                                                      "scenario, rules or log"),))) from None
    sys.stdout.write(text)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios with their one-line summaries."""
    table = Table("scenario", "summary", "turns", box=None)
    for name in builtin_names("scenarios"):
        s = load_scenario(builtin_path("scenarios", name))
        table.add_row(name, s.meta.summary, str(s.turns.count))
    out_console.print(table)


class NarratingSink:
    """Prints the story of each turn as it happens, then passes records on to a log writer."""

    wants_digest = True

    def __init__(self, inner, console: Console, quiet: bool) -> None:
        self.inner, self.console, self.quiet = inner, console, quiet

    def emit(self, record: dict) -> None:
        self.inner.emit(record)
        if self.quiet:
            return
        line = tell(record)
        if line is None:
            return
        if record["kind"] == "turn.end":
            self.console.print(f"[bold]{escape(line)}[/bold]")
        elif record["kind"] == "orders" and record["side"] == "blue":
            self.console.rule(f"Turn {record['turn']}  (hour {record['t']:.0f})", style="dim")
            self.console.print(escape(line))
        else:
            self.console.print("  " + escape(line))

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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the log path.")] = False,
) -> None:
    """Play a scenario with doctrine on both sides: narrate it and write its event log."""
    s, r = load_pair(scenario, rules)
    if turns is not None:
        s = with_turns(s, turns)
    path = out or Path("runs") / f"{s.meta.id}-seed{seed}.jsonl"
    if not quiet:
        out_console.print(f"[bold]{escape(s.meta.title)}[/bold] - seed {seed}, "
                          f"{s.turns.count} turns of {s.turns.hours:g} h")
        out_console.print(f"[dim]{escape(s.meta.notional)}[/dim]")
    players = default_controllers(r)
    header = make_header(s, r, describe(run_sequence(seed)),
                         {side: name_of(c) for side, c in players.items()}, __version__)
    writer = LogWriter(path, header)
    try:
        result = run(s, r, seed, players, NarratingSink(writer, out_console, quiet))
    except BaseException:
        writer.abort()
        raise
    final = writer.close(result.outcome, result.outcome["turns_played"])
    if not quiet:
        out_console.print(outcome_table(result.outcome))
    out_console.print(f"log: {path}  ({result.records} records, chain {final})")


LABELS = {"known_turn": "armed attack known (turn)"}


def outcome_table(o: dict) -> Table:
    """The end-of-run summary as a two-column table."""
    table = Table("measure", "value", title="Outcome", box=None)
    held = "[green]held[/green]" if o["deterrence_held"] else (
        f"[red]failed on turn {o['failure_turn']}[/red]")
    table.add_row("deterrence", held)
    for key in ("highest_rung", "known_turn", "article5_turn", "turns_played", "red_gains",
                "red_losses", "blue_losses", "incursions", "incursions_detected",
                "mean_time_to_detect_h", "c2_messages", "c2_mean_latency_h", "c2_delivery_rate"):
        value = o.get(key)
        table.add_row(LABELS.get(key, key.replace("_", " ")),
                      "-" if value is None else escape(str(value)))
    return table


register_log_commands(app, out_console, fail)
app.add_typer(sweep_app, name="sweep")
from engine.cli.report import register as register_report_commands  # noqa: E402

register_report_commands(app, out_console)
register_play_command(app, out_console, lambda o: outcome_table(o))
register_serve_command(app, out_console)


def main() -> None:
    """Console entry point: run the app, mapping engine errors to exit code 2 without traces."""
    try:
        app()
    except EngineError as e:
        raise SystemExit(fail(e).exit_code) from None

