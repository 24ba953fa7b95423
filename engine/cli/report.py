"""``wargame brief`` and ``wargame report``: thin typer wrappers over engine.present.brief and
engine.present.report (imported inside the commands, so matplotlib never slows other commands)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.cli.common import (
    BriefFormat,
    ReportFormat,
    Side,
    check_output,
    fail,
    input_file,
    out_console,
    printable,
    refuse,
    replace_folder,
    shown,
    temporary_beside,
    write_text,
    writing,
)
from engine.errors import EngineError

DEFAULT_SCENARIO = "alliance-2024"


def report_format(out: Path | None, fmt: str | None) -> str:
    """The report format: as given, else from the output's suffix, else html."""
    if fmt is not None:
        return ReportFormat(fmt).value
    return "md" if out is not None and out.suffix.lower() in (".md", ".markdown") else "html"


def register(app: typer.Typer) -> None:
    """Add the ``brief`` and ``report`` commands to the app."""

    @app.command()
    def brief(
        scenario: Annotated[str, typer.Argument(help="Built-in name or YAML path.")]
        = DEFAULT_SCENARIO,
        side: Annotated[Side, typer.Option(help="Whose brief: blue, red or white (umpire).")]
        = Side.blue,
        fmt: Annotated[BriefFormat, typer.Option("--format", help="Markdown or HTML.")]
        = BriefFormat.md,
        out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")]
        = False,
        rules: Annotated[str | None, typer.Option(help="Rule set (default: the scenario's).")]
        = None,
    ) -> None:
        """Print a team's brief: situation, forces, objectives, actions, ladder, turn."""
        try:
            _brief(scenario, side, fmt, out, force, rules)
        except EngineError as e:
            raise fail(e) from None

    @app.command()
    def report(
        log: Annotated[Path, typer.Argument(help="A wargame JSONL log.")],
        out: Annotated[Path | None, typer.Option(help="Report file (default: beside the log, "
                                                      "named after it).")] = None,
        fmt: Annotated[ReportFormat | None, typer.Option(
            "--format", help="html (default, or from --out's suffix) or md (with PNGs in "
                             "<stem>_files/).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace the report (and its "
                                                            "figures) if they exist.")]
        = False,
    ) -> None:
        """Write a self-contained after-action report of a logged game."""
        try:
            _report(log, out, fmt, force)
        except EngineError as e:
            raise fail(e) from None


def _brief(scenario: str, side: Side, fmt: BriefFormat, out: Path | None, force: bool,
           rules: str | None) -> None:
    from engine.io.loading import load_pair
    from engine.present.brief import render_brief

    s, r = load_pair(scenario, rules)
    if out is not None:
        check_output(out, [input_file(scenario, "scenarios"),
                           input_file(rules or s.rules, "rules")], force)
    text = render_brief(s, r, side.value, fmt.value)
    if out is None:  # to a terminal or a pipe: nothing in it may act on a terminal
        sys.stdout.write(printable(text))
        return
    write_text(out, printable(text) if fmt is BriefFormat.md else text)
    out_console().print(f"{side.value} brief: {shown(out)}")


def _report(log: Path, out: Path | None, fmt: ReportFormat | None, force: bool) -> None:
    from engine.present.report import write

    kind = report_format(out, fmt.value if fmt is not None else None)
    target = out or log.with_suffix(f".{kind}")
    figures = target.parent / f"{target.stem}_files"
    check_output(target, [log], force, folders=[figures] if kind == "md" else [])
    if kind == "md" and figures.exists() and not (force and figures.is_dir()):
        raise _refused(figures, force)
    # written whole into a temporary folder beside the target, then moved into place: the
    # report (and its figures folder) replace the old ones only once complete
    work = temporary_beside(target, folder=True)
    try:
        with writing(target):
            written = write(log, work / target.name, kind)
            if kind == "md":
                page = work / target.name
                page.write_text(printable(page.read_text(encoding="utf-8")),
                                encoding="utf-8", newline="\n")
            made = work / figures.name
            if made.exists():
                replace_folder(made, figures)
            (work / target.name).replace(target)
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    more = f" and {len(written) - 1} figures in {figures}" if written[1:] else ""
    out_console().print(f"report: {shown(target)}{shown(more)}")


def _refused(figures: Path, force: bool) -> EngineError:
    if force:
        return refuse(f"{figures}: is not a folder; the report's figures go there")
    return refuse(f"{figures}: already exists; add --force to replace the report's figures, or "
                  "choose another --out")
