"""``wargame brief`` and ``wargame report``: thin typer wrappers over engine.present.brief and
engine.present.report (imported inside the commands, so matplotlib never slows other commands)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from engine.errors import EngineError

DEFAULT_SCENARIO = "alliance-2024"
SIDES = ("blue", "red", "white")
err = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error plainly on stderr and return the exit to raise."""
    for line in message.splitlines() or ["error"]:
        err.print(f"[red]error:[/red] {escape(line)}", soft_wrap=True)
    return typer.Exit(code)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise fail(f"{name}: expected {', '.join(allowed[:-1])} or {allowed[-1]}, "
                   f"found '{value}'")
    return value


def report_format(out: Path | None, fmt: str | None) -> str:
    """The report format: as given, else from the output's suffix, else html."""
    if fmt is not None:
        return _choice("--format", fmt, ("html", "md"))
    return "md" if out is not None and out.suffix.lower() in (".md", ".markdown") else "html"


def register(app: typer.Typer, console: Console) -> None:
    """Add the ``brief`` and ``report`` commands to the app."""

    @app.command()
    def brief(
        scenario: Annotated[str, typer.Argument(help="Built-in name or YAML path.")]
        = DEFAULT_SCENARIO,
        side: Annotated[str, typer.Option(help="Whose brief: blue, red or white (umpire).")]
        = "blue",
        fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
        out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
        rules: Annotated[str | None, typer.Option(help="Rule set (default: the scenario's).")]
        = None,
    ) -> None:
        """Print a team's brief: situation, forces, objectives, actions, ladder, turn."""
        from engine.io.loading import load_pair
        from engine.present.brief import render_brief

        _choice("--side", side, SIDES)
        _choice("--format", fmt, ("md", "html"))
        try:
            s, r = load_pair(scenario, rules)
        except EngineError as e:
            raise fail(str(e), e.exit_code) from None
        text = render_brief(s, r, side, fmt)
        if out is None:
            sys.stdout.write(text)
            return
        _write(out, text)
        console.print(f"{side} brief: {escape(str(out))}")

    @app.command()
    def report(
        log: Annotated[Path, typer.Argument(help="A wargame JSONL log.")],
        out: Annotated[Path | None, typer.Option(help="Report file (default: beside the log, "
                                                      "named after it).")] = None,
        fmt: Annotated[str | None, typer.Option("--format", help="html (default) or md "
                                                                 "(with PNGs in <stem>_files/)."
                                                )] = None,
    ) -> None:
        """Write a self-contained after-action report of a logged game."""
        from engine.present.report import write

        kind = report_format(out, fmt)
        target = out or log.with_suffix(f".{kind}")
        try:
            written = write(log, target, kind)
        except EngineError as e:
            raise fail(str(e), e.exit_code) from None
        except OSError as e:
            raise fail(f"{target}: cannot write: {e.strerror or e}") from None
        figures = f" and {len(written) - 1} figures in {written[1].parent}" if written[1:] else ""
        console.print(f"report: {escape(str(target))}{escape(figures)}")


def _write(out: Path, text: str) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise fail(f"{out}: cannot write: {e.strerror or e}") from None
