"""The ``wargame`` command line: thin typer wrappers over the engine; exit 0 ok, 1 check failed,
2 bad input. Every EngineError becomes a short message on stderr, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engine.errors import EngineError, Problem
from engine.loading import (
    builtin_names,
    builtin_path,
    load_any,
    load_rules,
    load_scenario,
    locate_problems,
    pair_problems,
)
from engine.scenario import Scenario

app = typer.Typer(
    help="Tabletop deterrence-exercise engine seeded by alliance posture (notional values).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(e: EngineError) -> typer.Exit:
    """Print an engine error plainly and return the exit to raise."""
    for line in str(e).splitlines() or [type(e).__name__]:
        err.print(f"[red]error:[/red] {line}", markup=True, soft_wrap=True)
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
                err.print(f"[red]✗[/red] {line}", soft_wrap=True)
            continue
        kind = "rules" if type(model).__name__ == "Rules" else "scenario"
        out.print(f"[green]✓[/green] {path} ({kind})")
    out.print(f"{len(paths) - bad} valid, {bad} invalid")
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
    kind: Annotated[str, typer.Argument(help="scenario | rules")],
) -> None:
    """Print the JSON Schema of scenario or rules files (for editors and other tools)."""
    from engine.schemas import json_schema

    try:
        text = json_schema(kind)
    except KeyError:
        raise fail(EngineError("", (Problem("schema", f"unknown schema '{kind}'; expected "
                                                      "scenario or rules"),))) from None
    sys.stdout.write(text)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios with their one-line summaries."""
    table = Table("scenario", "summary", "turns", box=None)
    for name in builtin_names("scenarios"):
        s = load_scenario(builtin_path("scenarios", name))
        table.add_row(name, s.meta.summary, str(s.turns.count))
    out.print(table)


def main() -> None:
    """Console entry point: run the app, mapping engine errors to exit code 2 without traces."""
    try:
        app()
    except EngineError as e:
        raise SystemExit(fail(e).exit_code) from None

