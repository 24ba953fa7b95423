"""``wargame levers`` (the lever audit) and ``wargame posture-diff`` (why two postures differ).

``posture-diff`` is a command of its own, not an option of ``levers``: it takes two scenarios
instead of one, reads no lever declarations, and its output is a table meant for the docs (with
``--markdown``), where ``levers`` is a check with an exit status.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.cli.common import out_console, shown
from engine.errors import EngineError, Problem

if TYPE_CHECKING:
    from rich.table import Table

    from engine.levers.audit import Audit, Effect, ParameterResult
    from engine.levers.diff import PostureDiff

# the options both commands take
Workers = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: every "
                                                         "core).")]
RootSeed = Annotated[int, typer.Option(min=0, help="Root seed.")]


def register(app: typer.Typer) -> None:
    """Add the ``levers`` and ``posture-diff`` commands to the app."""

    @app.command("levers")
    def levers_command(
        scenario: Annotated[str, typer.Argument(help="Built-in name or YAML path.")],
        runs: Annotated[int, typer.Option(min=1, help="Seeds per variant (common to all).")],
        rules: Annotated[str | None, typer.Option(help="Rule set (default: the scenario's).")]
        = None,
        only: Annotated[list[str] | None, typer.Option(
            help="Only this parameter path, or those under this dotted prefix (whole "
                 "segments; repeatable), e.g. blue.isr or rules.red_model.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the audit as JSON.")]
        = False,
        workers: Workers = None,
        seed: RootSeed = 0,
    ) -> None:
        """Vary every declared parameter one at a time (x0.25 and x4, the other flag, every
        other choice) on common seeds; flag DEAD and WRONG-SIGN parameters. Exit 0 when no
        parameter is DEAD (changes nothing, with no declared inert condition that holds),
        WRONG-SIGN (moves P(deterrence holds) against its declared direction by more than 3
        paired standard errors) or ERROR; 1 otherwise; 2 for bad input."""
        from engine.io.loading import load_pair
        from engine.levers.audit import audit

        s, r = load_pair(scenario, rules)
        with _bar() as tick:
            result = audit(s, r, runs, seed, only or (), _workers(workers), tick)
        if as_json:
            sys.stdout.write(json.dumps(result.to_json(), indent=1) + "\n")
        else:
            print_audit(result)
        if result.failing:
            raise typer.Exit(1)

    @app.command("posture-diff")
    def posture_diff_command(
        a: Annotated[str, typer.Argument(help="The posture compared from (built-in or YAML).")],
        b: Annotated[str, typer.Argument(help="The posture compared to.")],
        runs: Annotated[int, typer.Option(min=1, help="Seeds per case (common to all).")]
        = 500,
        rules: Annotated[str | None, typer.Option(help="Rule set (default: A's).")] = None,
        markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")]
        = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
        = False,
        workers: Workers = None,
        seed: RootSeed = 0,
    ) -> None:
        """Split the difference from posture A to B into single changes, apply each alone to A
        and give its paired effect on P(deterrence holds) with a 95% interval, with A and B."""
        from engine.io.loading import load_pair
        from engine.levers.diff import markdown as as_markdown
        from engine.levers.diff import posture_diff

        sa, r = load_pair(a, rules)
        sb, _ = load_pair(b, rules or sa.rules)
        if rules is None and sb.rules != sa.rules:
            raise EngineError("", (Problem("posture-diff", f"{a} is written for rules "
                                           f"'{sa.rules}' and {b} for '{sb.rules}'; choose one "
                                           "with --rules", field="--rules"),))
        total = [0]
        with _bar() as tick:
            def step(n: int) -> None:
                total[0] += n
                tick(total[0], 0)

            d = posture_diff(sa, sb, r, runs, seed, _workers(workers), step)
        if as_json:
            sys.stdout.write(json.dumps(d.to_json(), indent=1) + "\n")
        elif markdown:
            sys.stdout.write(as_markdown(d))
        else:
            out_console().print(diff_table(d))


def _workers(n: int | None) -> int:
    from engine.sweeps.backends import default_workers

    return n or default_workers()


@contextmanager
def _bar() -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (when it is a terminal): tick(done, total)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done, total: None
        return
    with Progress("runs", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("runs", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield tick


# ---- the audit as a table ----------------------------------------------------------------------

STYLE = {"DEAD": "bold red", "WRONG-SIGN": "bold red", "ERROR": "bold red",
         "SKIPPED": "yellow", "OK": "green", "INERT": "dim", "NO-VARIANT": "dim"}
OTHERS = (("highest_level", "level"), ("failure_turn", "fails on turn"),
          ("red_gains", "Red gains"), ("blue_losses", "Blue losses"),
          ("red_losses", "Red losses"), ("incursions", "incursions"),
          ("detections", "detections"), ("mean_time_to_detect_h", "detect h"),
          ("c2_mean_latency_h", "C2 h"), ("c2_delivery_rate", "C2 delivered"))


def print_audit(a: Audit) -> None:
    """The audit's table, DEAD and WRONG-SIGN first, then its summary line."""
    console = out_console()
    console.print(audit_table(a))
    style = "bold red" if a.failing else "green"
    console.print(f"[{style}]{shown(a.summary())}[/{style}]")
    for r in a.failing:
        console.print(f"[red]{r.status}[/red] {shown(r.parameter.path)}")


def audit_table(a: Audit) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(title=f"Levers of {shown(a.scenario)} (rules {shown(a.rules)}, {a.runs} "
                        "common seeds; changes paired with the base; notional values)",
                  box=box.SIMPLE_HEAD)
    table.add_column("status", no_wrap=True)
    table.add_column("parameter (declared direction)", no_wrap=True)
    table.add_column("value", max_width=14)
    table.add_column("variant", max_width=14)
    table.add_column("ΔP(hold) ± SE", no_wrap=True, justify="right")
    table.add_column("runs changed", justify="right", max_width=7)
    table.add_column("other measures (mean change); note", ratio=1, min_width=30)
    for r in a.sorted():
        rows = _rows(r)
        for i, cells in enumerate(rows):
            table.add_row(*cells, end_section=i == len(rows) - 1)
    return table


def _rows(r: ParameterResult) -> list[list[str]]:
    """One row per variant that ran (the parameter named on the first), and one for the
    variants that failed validation; the parameter's note after the first row's measures."""
    p, style = r.parameter, STYLE[r.status]
    head = [f"[{style}]{r.status}[/{style}]", f"{shown(p.path)} ({p.direction})",
            shown(_value(p.value))]
    blank = ["", "", ""]
    ran = [v for v in r.variants if v.status != "SKIPPED"]
    note = _note(r)
    rows = [[*(head if i == 0 else blank), shown(_value(v.variant.value)),
             _effect(v.held) + (" [red]![/red]" if v.status == "WRONG-SIGN" else ""),
             str(v.changed), _others(v.effects) + (f"; [dim]{note}[/dim]" if note and i == 0
                                                   else "")]
            for i, v in enumerate(ran)]
    skipped = len(r.variants) - len(ran)
    if skipped or not rows:
        rows.append([*(head if not rows else blank),
                     f"({skipped} invalid)" if skipped else "(none)", "", "",
                     f"[dim]{note}[/dim]" if note and not ran else ""])
    return rows


def _others(effects: dict[str, Effect]) -> str:
    """The measures besides P(hold) that changed on average, briefly."""
    out = [f"{label} {e.mean:+.2g}" for m, label in OTHERS
           if (e := effects.get(m)) is not None and e.mean != 0]
    return ", ".join(out) or "no change"


def _note(r: ParameterResult) -> str:
    from engine.spec.levers import INERT

    if r.inert:
        return shown("inert: " + "; ".join(INERT[c] for c in r.inert))
    errors = [v.reason for v in r.variants if v.status == "ERROR"]
    if errors:
        return shown(errors[0])
    if r.status == "SKIPPED":
        return shown(r.variants[0].reason)
    if not r.parameter.declared:
        return "no declaration in the schema"
    return ""


def _value(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, list):
        return "[" + ", ".join(map(str, x)) + "]"
    return f"{x:g}" if isinstance(x, float) else str(x)


def _effect(e: Effect | None) -> str:
    return "-" if e is None else f"{e.mean:+.3f} ± {e.se:.3f}"


# ---- a posture comparison as a table -----------------------------------------------------------

def diff_table(d: PostureDiff) -> Table:
    from rich.table import Table

    from engine.levers.diff import brief, effect_text
    from engine.sweeps.summary import wilson

    table = Table("change applied alone", "from", "to", "P(hold)", "effect (95% interval)",
                  title=f"{shown(d.a)} -> {shown(d.b)}: {d.runs} common seeds (notional "
                        "values)")
    lo, hi = wilson(d.a_held, d.runs)
    table.add_row(f"none: {shown(d.a)}", "", "", f"{d.a_held / d.runs:.3f} ({lo:.3f}-{hi:.3f})",
                  "")
    for c in d.changes:
        before = "; ".join(brief(e.before) for e in c.change.edits)
        after = "; ".join(brief(e.after) for e in c.change.edits)
        paths = "\n".join(shown(p) for p in c.change.paths)
        if c.held is None or c.share is None:
            table.add_row(paths, shown(before), shown(after), "[yellow]not valid alone[/yellow]",
                          shown(c.change.reason))
            continue
        table.add_row(paths, shown(_short(before)), shown(_short(after)), f"{c.share:.3f}",
                      effect_text(c))
    blo, bhi = wilson(d.b_held, d.runs)
    tlo, thi = d.total.interval()
    table.add_row(f"all: {shown(d.b)}", "", "", f"{d.b_held / d.runs:.3f} ({blo:.3f}-{bhi:.3f})",
                  f"{d.total.mean:+.3f} ({tlo:+.3f} to {thi:+.3f})")
    return table


def _short(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"
