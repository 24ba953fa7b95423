"""``wargame sweep``: run a Monte Carlo sweep, summarise one, or regenerate one run's log."""

from __future__ import annotations

import contextlib
import shlex
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from engine.cli.common import (
    AfterRecorded,
    Backend,
    Compare,
    atomic,
    check_output,
    err_console,
    input_file,
    inside,
    out_console,
    refuse,
    same_file,
    shown,
    writing,
)
from engine.errors import EngineError, Problem


class DefaultToStart(TyperGroup):
    """``wargame sweep A B`` means ``wargame sweep start A B``; ``summary`` and ``run`` stay
    subcommands."""

    # typer bundles its own click: its Context is not click's, so the override takes Any
    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args.insert(0, "start")
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


sweep_app = typer.Typer(cls=DefaultToStart, no_args_is_help=True,
                        help="Monte Carlo sweeps over postures (see `wargame sweep start`).")

RANGE = "PATH=lo:hi"


@sweep_app.command("start")
def start(
    scenarios: Annotated[list[str] | None, typer.Argument(help="Built-in names or YAML paths.")]
    = None,
    runs: Annotated[int, typer.Option(min=1, help="Replications per cell.")] = 100,
    vary: Annotated[list[str] | None, typer.Option(help="PATH=v1,v2 (grid); PATH is "
                                                        "scenario.PATH, rules.PATH or a bare "
                                                        "scenario path.")] = None,
    design: Annotated[Path | None, typer.Option(help="Design points: a .csv or .parquet file, "
                                                     "one column per PATH.")] = None,
    lhs: Annotated[list[str] | None, typer.Option(help=f"{RANGE} (Latin hypercube).")] = None,
    sobol: Annotated[list[str] | None, typer.Option(help=f"{RANGE} (Sobol design, SALib).")]
    = None,
    morris: Annotated[list[str] | None, typer.Option(help=f"{RANGE} (Morris design, SALib).")]
    = None,
    samples: Annotated[int | None, typer.Option(
        min=1, help="Latin hypercube points, Sobol base samples (a power of 2) or Morris "
                    "trajectories.")] = None,
    levels: Annotated[int, typer.Option(min=2, help="Morris grid levels (even).")] = 4,
    seed: Annotated[int, typer.Option(min=0, help="Root seed.")] = 0,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
    backend: Annotated[Backend, typer.Option(
        help="Where runs execute: this process, worker processes, or a Dask cluster.")]
    = Backend.process,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler tcp://HOST:PORT.")]
    = None,
    out: Annotated[Path | None, typer.Option(help="Results folder.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the sweep in --out, or extend it with "
                                              "more runs or design points.")] = False,
    independent: Annotated[bool, typer.Option(help="Independent seeds per cell instead of "
                                                   "common random numbers.")] = False,
    blue_orders_from: Annotated[Path | None, typer.Option(
        help="Replay this game's recorded Blue orders against fresh Red seeds.")] = None,
    after_recorded: Annotated[AfterRecorded | None, typer.Option(
        help="With --blue-orders-from: stop at the recorded game's last turn, or let Blue's "
             "doctrine play on (default: stop).")] = None,
    turns: Annotated[bool, typer.Option(help="Also write the per-turn table.")] = True,
    until_halfwidth: Annotated[float | None, typer.Option(
        min=0, max=0.5, help="Add replications in rounds until every cell's 95% interval for "
                             "P(held) is at most this either side (e.g. 0.02).")] = None,
    max_runs: Annotated[int | None, typer.Option(
        min=1, help="With --until-halfwidth: at most this many replications per cell.")]
    = None,
    checkpoint_seconds: Annotated[float | None, typer.Option(
        min=0.001, help="Write rows to disk at least every this many seconds (default "
                        "30).")] = None,
    checkpoint_rows: Annotated[int | None, typer.Option(
        min=1, help="...and every this many runs (default 5,000).")] = None,
    compare: Annotated[Compare, typer.Option(
        help="Differences in P(held): each scenario against the first at every design point, "
             "or every pair of cells.")] = Compare.first,
) -> None:
    """Run every cell of a design RUNS times; stream results to --out; print the summary."""
    _check_options(until_halfwidth, max_runs, after_recorded, blue_orders_from)
    chosen = "dask" if scheduler and backend is Backend.process else backend.value
    where: dict[str, Any] = {"folder": out}  # what an interruption's hint can name
    terminate = signal.signal(signal.SIGTERM, _terminated)  # until the sweep handles it
    bar = None
    try:
        from engine.sweeps.progress import RichProgress
        from engine.sweeps.runner import build_spec, execute
        from engine.sweeps.runner import until_halfwidth as in_rounds

        bar = RichProgress()
        names: list[Any] = list(scenarios or [])
        blue_orders = rules = last_turn = None
        if blue_orders_from is not None:
            names, blue_orders, rules, last_turn = _from_game(blue_orders_from, names)
        if not names:
            raise EngineError("", (Problem("sweep", "name at least one scenario, or give "
                                                    "--blue-orders-from LOG",
                                           field="SCENARIO"),))
        kind, ranges = _design_kind(vary, design, lhs, sobol, morris)
        spec = build_spec(names, vary=_parse_vary(vary),
                          design=kind if design is None else design, ranges=ranges,
                          samples=samples, levels=levels, replications=runs, seed=seed,
                          seeding="independent" if independent else "crn",
                          blue_orders=blue_orders, recorded_turns=last_turn,
                          after_recorded=(after_recorded or AfterRecorded.stop).value,
                          rules=rules, turns=turns)
        folder = where["folder"] = out or Path("runs") / f"sweep-{default_name(spec)}"
        _check_folder(folder, [input_file(n, "scenarios") for n in names
                               if isinstance(n, str)] + [blue_orders_from, design])
        options: dict[str, Any] = {
            "backend": chosen, "workers": workers, "scheduler": scheduler, "out": folder,
            "resume": resume, "progress": bar, "checkpoint_rows": checkpoint_rows,
            "checkpoint_seconds": checkpoint_seconds, "say": _say}
        with writing(folder):
            if until_halfwidth is None:
                execute(spec, **options)
            else:
                in_rounds(spec, until_halfwidth, max_replications=max_runs, **options)
        print_summary(folder, compare.value)
    except KeyboardInterrupt as e:  # SweepInterrupted, or a signal before the sweep ran
        if bar is not None:
            bar.stop()
        signum = getattr(e, "signum", signal.SIGINT)
        _say(_interrupted(where["folder"], out is None))
        raise typer.Exit(128 + signum) from None
    finally:
        if bar is not None:
            bar.stop()
        signal.signal(signal.SIGTERM, terminate)


def _check_options(until: float | None, max_runs: int | None, after: AfterRecorded | None,
                   orders: Path | None) -> None:
    """Before anything is built or written: a half-width target out of range, and an option
    that means something only beside another given alone, are refused (exit 2)."""
    from engine.sweeps.summary import check_target

    if until is not None:
        check_target(until)
    elif max_runs is not None:
        raise _option("--max-runs", "caps the rounds of --until-halfwidth; give "
                                    "--until-halfwidth too, or leave --max-runs out")
    if after is not None and orders is None:
        raise _option("--after-recorded", "says what Blue does after a recorded game's last "
                                          "turn; give --blue-orders-from LOG too, or leave "
                                          "--after-recorded out")


def _option(name: str, message: str) -> EngineError:
    return EngineError("", (Problem("sweep", message, field=name),))


class Terminated(KeyboardInterrupt):
    """SIGTERM before the sweep's own handling: stop like Ctrl-C, with the same hint."""

    signum = signal.SIGTERM


def _terminated(signum: int, frame: Any) -> None:
    raise Terminated


def _interrupted(folder: Path | None, add_out: bool) -> str:
    """The one line an interrupted sweep ends with: what is on disk, and the command that
    continues."""
    from engine.sweeps.store import read_manifest

    status = "interrupted before the sweep started"
    if folder is not None and (folder / "manifest.json").exists():
        with contextlib.suppress(EngineError):
            m = read_manifest(folder)
            done = sum(p["runs"]["rows"] for p in m["parts"].values())
            status = (f"interrupted: {done} of {m['replications'] * m['cells']} runs on disk "
                      f"in {folder}")
    if folder is None:
        return f"{status}; run again with: {shlex.join(['wargame', *sys.argv[1:]])}"
    return f"{status}; resume with: {resume_command(folder, add_out)}"


def _say(text: str) -> None:
    err_console().print(shown(text), highlight=False, soft_wrap=True)


def resume_command(folder: Path, add_out: bool) -> str:
    """This command line, with --resume (and --out) added: what continues the sweep."""
    args = list(sys.argv[1:])
    if "--resume" not in args:
        args.append("--resume")
    if add_out:
        args += ["--out", str(folder)]
    return shlex.join(["wargame", *args])


def default_name(spec: dict[str, Any]) -> str:
    """A default folder name for a sweep: its key, cells and replications hashed."""
    from engine.canonical import sha256_of

    cells = [[c["scenario"], c["row"]] for c in spec["cells"]]
    return sha256_of([spec["key"], cells, spec["replications"]])[:12]


def _parse_vary(vary: list[str] | None) -> dict[str, list] | None:
    from engine.sweeps.design import parse_vary

    return parse_vary(vary) if vary else None


def _design_kind(vary: list[str] | None, design: Path | None, lhs: list[str] | None,
                 sobol: list[str] | None, morris: list[str] | None
                 ) -> tuple[str, dict[str, Any] | None]:
    """The design named by the options (one at most), and its ranges."""
    from engine.sweeps.design import parse_ranges

    given = [(k, v) for k, v in (("--vary", vary), ("--design", design), ("--lhs", lhs),
                                 ("--sobol", sobol), ("--morris", morris)) if v]
    if len(given) > 1:
        raise EngineError("", (Problem("sweep", f"{given[0][0]} cannot be combined with "
                                                f"{given[1][0]}; a sweep has one design",
                                       field=given[1][0]),))
    kind = given[0][0].removeprefix("--") if given else "grid"
    if kind in ("lhs", "sobol", "morris"):
        return kind, parse_ranges(list(given[0][1]), f"--{kind}")  # type: ignore[arg-type]
    return ("grid" if kind == "vary" else kind), None


def _check_folder(folder: Path, inputs: list[Path | None]) -> None:
    """A sweep's results folder must be a folder (or not yet exist), and none of the sweep's
    inputs may be the folder or one of the files a sweep writes there."""
    if folder.exists() and not folder.is_dir():
        raise refuse(f"{folder}: is a file; a sweep writes its results into a folder (--out)")
    for p in inputs:
        if p is None:
            continue
        if same_file(p, folder) or inside(p, folder):
            raise refuse(f"{folder}: the sweep would write over its input {p}; choose "
                         "another --out")


def _from_game(log: Path, names: list[Any]
               ) -> tuple[list[Any], dict[int, list[dict]], Any, int]:
    """The game's scenario (unless names are given), Blue's recorded orders, the game's last
    turn and, with the game's own scenario, the rules it was played with. A log whose chain is
    broken or that is cut short is refused: its orders would be missing from some turn on."""
    from engine.errors import LogError
    from engine.io.replay import read_log, reconstruct, scan

    reader = read_log(log)
    scanned = scan(reader)
    if scanned.verdict is not None:
        raise LogError(f"{log}: cannot replay its Blue orders: {scanned.verdict.message}")
    game = reconstruct(reader, scanned)
    orders = {t: [o.to_json() for o in os] for t, os in scanned.orders["blue"].items()}
    if names:
        return names, orders, None, scanned.last_turn
    return [game.scenario], orders, game.rules, scanned.last_turn


@sweep_app.command("summary")
def summary(
    folder: Annotated[Path, typer.Argument(help="A sweep results directory.")],
    compare: Annotated[Compare, typer.Option(
        help="Each scenario against the first at every design point, or every pair.")]
    = Compare.first,
) -> None:
    """Print a finished (or interrupted) sweep's summary again."""
    print_summary(folder, compare.value)


@sweep_app.command("run")
def run_one(
    folder: Annotated[Path, typer.Argument(help="A sweep results directory.")],
    run: Annotated[str, typer.Option("--run", help="Run id CELL-REPLICATION, e.g. 3-17.")],
    out: Annotated[Path, typer.Option(help="Where to write the run's event log.")],
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")]
    = False,
) -> None:
    """Regenerate the full event log of one run of a sweep."""
    from engine.sweeps.runner import regenerate_run

    if inside(out, folder) or same_file(out, folder):
        raise refuse(f"{out}: is part of the sweep {folder}; choose another --out")
    check_output(out, [folder / "manifest.json"], force)
    with atomic(out) as tmp:
        result, final = regenerate_run(folder, run, tmp)
    out_console().print(f"run {shown(run)} -> {shown(out)} ({result.records} records, chain "
                        f"{final}); deterrence "
                        f"{'held' if result.outcome['deterrence_held'] else 'failed'}")


MAX_SHOWN = 300  # rows of a comparison table; the rest are counted


def print_summary(folder: Path, compare: str = "first") -> None:
    """Summarise a results folder part by part (flat memory) and print the tables."""
    from rich.table import Column, Table

    from engine.sweeps.runner import SUMMARY_COLUMNS
    from engine.sweeps.store import iter_rows, read_manifest
    from engine.sweeps.summary import comparisons, summarize_rows

    console = out_console()
    manifest = read_manifest(folder)
    spec = manifest["spec"]
    summaries = summarize_rows(iter_rows(folder, SUMMARY_COLUMNS), spec["cells"])
    ids = [s["meta"]["id"] for s in spec["scenarios"]]
    table = Table("cell", Column("scenario", no_wrap=True), "values", "runs", "P(held)",
                  Column("95% CI", no_wrap=True), "top level", "turns", "detect h",
                  "Red gains /turn", "Blue losses /turn", "Red losses /turn", "errors",
                  title="Deterrence by cell (notional values)",
                  caption="/turn: totals over all turns played (a run ends soon after an armed "
                          "attack); detect h: over detected incursions only")
    for c in spec["cells"]:
        s = summaries[c["index"]]
        share, lo, hi = s.held_share()
        m = {x.key: x.value for x in s.measures()}
        table.add_row(str(c["index"]), shown(ids[c["scenario"]]), shown(_values(c["values"])),
                      str(s.runs), _f(share, 3), f"{_f(lo, 3)}-{_f(hi, 3)}",
                      _f(m["highest_level"], 2), _f(m["turns_played"], 1),
                      _f(m["time_to_detect_h"], 1), _f(m["red_gains_per_turn"], 3),
                      _f(m["blue_losses_per_turn"], 3), _f(m["red_losses_per_turn"], 3),
                      str(s.errors))
    console.print(table)
    paired = spec["seeding"] == "crn"
    diffs = comparisons(spec["cells"], summaries, ids, pairs=compare, paired=paired)
    if diffs:
        how = ("paired by replication (common random numbers), Newcombe's method for paired "
               "proportions" if paired else "independent seeds, Newcombe's hybrid score")
        t2 = Table("cell", "values", "posture", "versus cell", "versus", "difference in "
                   "P(held)", "95% CI", "pairs" if paired else "runs",
                   title=f"Differences in P(held): {how}")
        for d in diffs[:MAX_SHOWN]:
            t2.add_row(str(d["cell"]), shown(_values(d["values"])), shown(d["scenario"]),
                       str(d["versus_cell"]), shown(d["versus"]), f"{d['difference']:+.3f}",
                       f"{d['low']:+.3f} to {d['high']:+.3f}", str(d["runs"]))
        console.print(t2)
        if len(diffs) > MAX_SHOWN:
            console.print(f"({len(diffs) - MAX_SHOWN} more pairs not shown; engine.sweeps."
                          "summary.comparisons gives them all)")
    total = spec["replications"] * len(spec["cells"])
    done = sum(s.runs for s in summaries.values())
    if done < total:
        console.print(f"[yellow]{done} of {total} runs on disk; continue with --resume[/yellow]")
    blue = spec["controllers"]["blue"]
    if blue["kind"] == "recorded":
        then = ("the runs stop there" if blue["after"] == "stop"
                else "Blue's doctrine plays on after it")
        console.print(f"Blue replays a recorded game's orders for its {blue['turns']} turns; "
                      f"{then}.")
    console.print(f"results: {shown(folder)} (tables {shown(folder / 'runs')} and "
                  f"{shown(folder / 'turns')})")


def _values(v: dict[str, Any]) -> str:
    return ", ".join(f"{k}={x}" for k, x in v.items()) or "-"


def _f(x: float | None, digits: int) -> str:
    return "-" if x is None or x != x else f"{x:.{digits}f}"
