"""``wargame sweep``: run a Monte Carlo sweep, summarise one, or regenerate one run's log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from engine.cli.common import (
    Backend,
    atomic,
    check_output,
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
    backend: Annotated[Backend, typer.Option(
        help="Where runs execute: this process, worker processes, or a Dask cluster.")]
    = Backend.process,
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
    from engine.sweeps.design import parse_lhs, parse_vary
    from engine.sweeps.progress import RichProgress
    from engine.sweeps.runner import build_spec, execute

    chosen = "dask" if scheduler and backend is Backend.process else backend.value
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
    _check_folder(folder, [input_file(n, "scenarios") for n in names if isinstance(n, str)]
                  + [blue_orders_from])
    bar = RichProgress()
    try:
        with writing(folder):
            execute(spec, backend=chosen, workers=workers, scheduler=scheduler, out=folder,
                    resume=resume, progress=bar)
    finally:
        bar.stop()
    print_summary(folder)


def _check_folder(folder: Path, inputs: list[Path | None]) -> None:
    """A sweep's results folder must be a folder (or not yet exist), and none of the sweep's
    inputs may be the folder or one of the files a sweep writes there."""
    if folder.exists() and not folder.is_dir():
        raise refuse(f"{folder}: is a file; a sweep writes its results into a folder (--out)")
    for p in inputs:
        if p is None:
            continue
        if same_file(p, folder) or same_file(p, folder / "manifest.json") or inside(
                p, folder / "chunks"):
            raise refuse(f"{folder}: the sweep would write over its input {p}; choose "
                         "another --out")


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
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")]
    = False,
) -> None:
    """Regenerate the full event log of one run of a sweep."""
    from engine.sweeps.runner import regenerate_run

    if inside(out, folder / "chunks") or same_file(out, folder):
        raise refuse(f"{out}: is part of the sweep {folder}; choose another --out")
    check_output(out, [folder / "manifest.json"], force)
    with atomic(out) as tmp:
        result, final = regenerate_run(folder, run, tmp)
    out_console().print(f"run {shown(run)} -> {shown(out)} ({result.records} records, chain "
                        f"{final}); deterrence "
                        f"{'held' if result.outcome['deterrence_held'] else 'failed'}")


def print_summary(folder: Path) -> None:
    """Summarise a results directory chunk by chunk (flat memory) and print the tables."""
    import pyarrow.parquet as pq
    from rich.table import Table

    from engine.sweeps.runner import Store, read_manifest, row_schema
    from engine.sweeps.summary import comparisons, summarize_rows

    console = out_console()
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
        table.add_row(str(c["index"]), shown(ids[c["scenario"]]), shown(_values(c["values"])),
                      str(s.runs),
                      _f(share, 3), f"{_f(lo, 3)}-{_f(hi, 3)}", _f(s.highest_level.value, 2),
                      _f(s.time_to_detect.value, 1), _f(s.red_gains.value, 2),
                      _f(s.blue_losses.value, 2), _f(s.red_losses.value, 2), str(s.errors))
    console.print(table)
    diffs = comparisons(spec["cells"], summaries, ids)
    if diffs:
        t2 = Table("values", "posture", "versus", "difference in P(held)", "95% CI",
                   title="Posture comparison (Newcombe hybrid score interval)")
        for d in diffs:
            t2.add_row(shown(_values(d["values"])), shown(d["scenario"]), shown(d["versus"]),
                       f"{d['difference']:+.3f}", f"{d['low']:+.3f} to {d['high']:+.3f}")
        console.print(t2)
    total = spec["replications"] * len(spec["cells"])
    done = sum(s.runs for s in summaries.values())
    if done < total:
        console.print(f"[yellow]{done} of {total} runs on disk; continue with --resume[/yellow]")
    console.print(f"results: {shown(folder)}")


def _values(v: dict[str, Any]) -> str:
    return ", ".join(f"{k}={x}" for k, x in v.items()) or "-"


def _f(x: float | None, digits: int) -> str:
    return "-" if x is None or x != x else f"{x:.{digits}f}"
