"""``wargame sweep``: run a Monte Carlo sweep, summarise one, or regenerate one run's log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from engine.errors import EngineError, Problem
from engine.sweeps.design import parse_lhs, parse_vary
from engine.sweeps.runner import (
    Store,
    build_spec,
    execute,
    read_manifest,
    regenerate_run,
    row_schema,
)
from engine.sweeps.summary import comparisons, summarize_rows


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
console = Console(highlight=False, width=None if Console().is_terminal else 160)


@sweep_app.command("start")
def start(
    scenarios: Annotated[list[str] | None, typer.Argument(help="Built-in names or YAML paths.")]
    = None,
    runs: Annotated[int, typer.Option(min=1, help="Replications per cell.")] = 100,
    vary: Annotated[list[str] | None, typer.Option(help="PATH=v1,v2 (grid).")] = None,
    lhs: Annotated[list[str] | None, typer.Option(help="PATH=lo:hi (Latin hypercube).")]
    = None,
    samples: Annotated[int | None, typer.Option(min=1, help="Latin hypercube points.")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Root seed.")] = 0,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
    backend: Annotated[str, typer.Option(help="process, inprocess or dask.")] = "process",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler tcp://HOST:PORT.")]
    = None,
    out: Annotated[Path | None, typer.Option(help="Results directory.")] = None,
    resume: Annotated[bool, typer.Option(help="Skip runs already in --out.")] = False,
    independent: Annotated[bool, typer.Option(help="Independent seeds per cell instead of "
                                                   "common random numbers.")] = False,
    blue_orders_from: Annotated[Path | None, typer.Option(
        help="Replay this game's recorded Blue orders against fresh Red seeds.")] = None,
) -> None:
    """Run every cell of a design RUNS times; stream results to --out; print the summary."""
    from engine.sweeps.progress import RichProgress

    if scheduler and backend == "process":
        backend = "dask"
    names: list[Any] = list(scenarios or [])
    blue_orders = rules = None
    if blue_orders_from is not None:
        names, blue_orders, rules = _from_game(blue_orders_from, names)
    if not names:
        raise EngineError("", (Problem("sweep", "name at least one scenario, or give "
                                                "--blue-orders-from LOG", field="SCENARIO"),))
    spec = build_spec(names, vary=parse_vary(vary or []), design="lhs" if lhs else "grid",
                      ranges=parse_lhs(lhs) if lhs else None, samples=samples,
                      replications=runs, seed=seed,
                      seeding="independent" if independent else "crn",
                      blue_orders=blue_orders, rules=rules)
    folder = out or Path("runs") / f"sweep-{spec['key'][:12]}"
    bar = RichProgress()
    try:
        execute(spec, backend=backend, workers=workers, scheduler=scheduler, out=folder,
                resume=resume, progress=bar)
    finally:
        bar.stop()
    print_summary(folder)


def _from_game(log: Path, names: list[Any]) -> tuple[list[Any], dict[int, list[dict]], Any]:
    """The game's scenario (unless names are given), Blue's recorded orders and, with the game's
    own scenario, the rules it was played with. A log whose chain is broken or that is cut
    short is refused: its orders would be missing from some turn on."""
    from engine.errors import LogError
    from engine.io.replay import read_log, reconstruct, scan

    reader = read_log(log)
    scanned = scan(reader)
    if scanned.verdict is not None:
        raise LogError(f"{log}: cannot replay its Blue orders: {scanned.verdict.message}")
    game = reconstruct(reader, scanned)
    orders = {t: [o.to_json() for o in os] for t, os in scanned.orders["blue"].items()}
    if names:
        return names, orders, None
    return [game.scenario], orders, game.rules


@sweep_app.command("summary")
def summary(folder: Annotated[Path, typer.Argument(help="A sweep results directory.")]) -> None:
    """Print a finished (or interrupted) sweep's summary again."""
    print_summary(folder)


@sweep_app.command("run")
def run_one(
    folder: Annotated[Path, typer.Argument(help="A sweep results directory.")],
    run: Annotated[str, typer.Option("--run", help="Run id CELL-REPLICATION, e.g. 3-17.")],
    out: Annotated[Path, typer.Option(help="Where to write the run's event log.")],
) -> None:
    """Regenerate the full event log of one run of a sweep."""
    result, final = regenerate_run(folder, run, out)
    console.print(f"run {run} -> {out} ({result.records} records, chain {final}); deterrence "
                  f"{'held' if result.outcome['deterrence_held'] else 'failed'}")


def print_summary(folder: Path) -> None:
    """Summarise a results directory chunk by chunk (flat memory) and print the tables."""
    spec = read_manifest(folder)["spec"]
    store = Store(Path(folder), row_schema(spec))
    rows = (row for f in store.chunk_files()
            for batch in pq.ParquetFile(f).iter_batches(batch_size=10_000)
            for row in batch.to_pylist())
    summaries = summarize_rows(rows, spec["cells"])
    ids = [s["meta"]["id"] for s in spec["scenarios"]]
    table = Table("cell", "scenario", "values", "runs", "P(held)", "95% CI", "highest rung",
                  "detect h", "Red gains", "Blue losses", "Red losses", "errors",
                  title="Deterrence by cell (notional values)")
    for c in spec["cells"]:
        s = summaries[c["index"]]
        share, lo, hi = s.held_share()
        table.add_row(str(c["index"]), ids[c["scenario"]], _values(c["values"]), str(s.runs),
                      _f(share, 3), f"{_f(lo, 3)}-{_f(hi, 3)}", _f(s.highest_level.value, 2),
                      _f(s.time_to_detect.value, 1), _f(s.red_gains.value, 2),
                      _f(s.blue_losses.value, 2), _f(s.red_losses.value, 2), str(s.errors))
    console.print(table)
    diffs = comparisons(spec["cells"], summaries, ids)
    if diffs:
        t2 = Table("values", "posture", "versus", "difference in P(held)", "95% CI",
                   title="Posture comparison (Newcombe hybrid score interval)")
        for d in diffs:
            t2.add_row(_values(d["values"]), d["scenario"], d["versus"],
                       f"{d['difference']:+.3f}", f"{d['low']:+.3f} to {d['high']:+.3f}")
        console.print(t2)
    total = spec["replications"] * len(spec["cells"])
    done = sum(s.runs for s in summaries.values())
    if done < total:
        console.print(f"[yellow]{done} of {total} runs on disk; continue with --resume[/yellow]")
    console.print(f"results: {folder}")


def _values(v: dict[str, Any]) -> str:
    return ", ".join(f"{k}={x}" for k, x in v.items()) or "-"


def _f(x: float | None, digits: int) -> str:
    return "-" if x is None or x != x else f"{x:.{digits}f}"
