"""Monte Carlo sweeps: a design of cells times replications, run in batches on a backend, rows
streamed to two Parquet tables with a manifest (``store.py``), resumable and extensible.

Seeds. Every run has one integer seed, stored in its row: ``engine.run(scenario, rules, seed)``
replays it. With common random numbers (the default) run i of *every* cell has the seed drawn
from ``SeedSequence(root, spawn_key=(i,))``: the same named unit meets the same weather,
maintenance and message-loss draws in every posture, so differences between cells come from the
postures, not from luck. With ``seeding="independent"`` the spawn key is (cell key, i), the cell
key hashing the cell's content. Results do not depend on worker count, batch size or backend.

Checkpoints. Rows reach disk every ``checkpoint_seconds`` (30) and every ``checkpoint_rows``
(5,000) runs, whichever comes first; SIGINT and SIGTERM finish the batches in flight, write them
and raise ``SweepInterrupted``.
"""

from __future__ import annotations

import itertools
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from engine.canonical import canonical
from engine.sweeps.columns import OUTCOME_FIELDS, run_schema, turn_schema
from engine.sweeps.errors import bad, to_stderr
from engine.sweeps.spec import build_spec, policy_blob
from engine.sweeps.store import (
    Done,
    Store,
    iter_rows,
    load_results,
    load_turns,
    manifest_of,
    open_store,
    read_manifest,
)

__all__ = ["OUTCOME_FIELDS", "SweepInterrupted", "build_spec", "execute", "load_results",
           "load_turns", "manifest_of", "parse_run_id", "read_manifest", "regenerate_run",
           "run_id", "run_seed", "sweep", "until_halfwidth"]

CHECKPOINT_ROWS, CHECKPOINT_SECONDS = 5000, 30.0
BLOCK = 16  # replications per cell in a row of the plan when cells outnumber a worker's cache
SUMMARY_COLUMNS = ["cell", "replication", "error", "deterrence_held", "highest_level",
                   "mean_time_to_detect_h", "red_gains", "blue_losses", "red_losses",
                   "turns_played", "incursions", "incursions_detected"]


_bad = bad  # the one sweep problem constructor (engine/sweeps/errors.py)


_stderr = to_stderr


def run_seed(spec: dict[str, Any], cell: int, rep: int) -> int:
    """The seed of one run (see the module docstring)."""
    from engine.sweeps.worker import run_seed as seed_of

    return seed_of(spec, cell, rep)


def run_id(cell: int, rep: int) -> str:
    return f"{cell}-{rep}"


def parse_run_id(text: str) -> tuple[int, int]:
    cell, sep, rep = text.partition("-")
    if not (sep and cell.isdigit() and rep.isdigit()):
        raise _bad("--run", f"expected a run id CELL-REPLICATION such as 3-17, found '{text}'")
    return int(cell), int(rep)


# ---- execution --------------------------------------------------------------------------------

class SweepInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a sweep after its batches in flight were written."""

    def __init__(self, signum: int, done: int, total: int, out: Path) -> None:
        super().__init__(signum, done, total, str(out))
        self.signum, self.done, self.total, self.out = signum, done, total, out


class Interrupts:
    """While open (in the main thread): the first SIGINT or SIGTERM asks the sweep to stop
    after the batches in flight; a second SIGINT stops at once."""

    def __init__(self, say: Any) -> None:
        self.signum: int | None = None
        self.say = say
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self.saved[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
            self.say(f"{signal.Signals(signum).name}: finishing the batches in flight and "
                     "writing them (Ctrl-C again to stop at once)")
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        for s, old in self.saved.items():
            signal.signal(s, old)


def checkpoint_settings(rows: int | None, seconds: float | None) -> tuple[int, float]:
    """Rows and seconds between checkpoints: given, else the environment
    (WARGAME_SWEEP_CHUNK_ROWS, WARGAME_SWEEP_CHUNK_SECONDS), else 5,000 rows and 30 s."""
    if rows is None:
        raw = os.environ.get("WARGAME_SWEEP_CHUNK_ROWS", "").strip()
        if raw and (not raw.isdigit() or int(raw) < 1):
            raise _bad("WARGAME_SWEEP_CHUNK_ROWS", f"expected a positive integer, found '{raw}'")
        rows = int(raw) if raw else CHECKPOINT_ROWS
    if seconds is None:
        raw = os.environ.get("WARGAME_SWEEP_CHUNK_SECONDS", "").strip()
        try:
            seconds = float(raw) if raw else CHECKPOINT_SECONDS
        except ValueError:
            seconds = -1.0
        if not seconds > 0:
            raise _bad("WARGAME_SWEEP_CHUNK_SECONDS", f"expected a positive number, found "
                                                      f"'{raw}'")
    if rows < 1 or not seconds > 0:
        raise _bad("--checkpoint", f"expected positive rows and seconds, found {rows} rows, "
                                   f"{seconds} s")
    return rows, seconds


def plan(spec: dict[str, Any], done: Done) -> Iterator[tuple[int, int]]:
    """Runs still to do, replication-major so a partial sweep covers every cell evenly (in
    blocks of replications when cells outnumber a worker's cache of validated cells)."""
    from engine.sweeps.worker import CACHED_CELLS

    cells, reps = len(spec["cells"]), spec["replications"]
    block = 1 if cells <= CACHED_CELLS else BLOCK
    for start in range(0, reps, block):
        for c in range(cells):
            for i in range(start, min(start + block, reps)):
                if (c, i) not in done:
                    yield c, i


class Sizer:
    """Runs per batch: small at first, then about ``target_s`` of work by the time the batches
    so far took, and never more than ``most`` (a checkpoint cannot be finer than a batch, so
    the checkpoint rows cap it). Results do not depend on it: a run's numbers depend only on
    its seed."""

    def __init__(self, most: int = 500) -> None:
        self.per_run: float | None = None
        self.most = most
        self.size = min(most, batch_size(None))

    def update(self, rows: int, seconds: float) -> None:
        if rows:
            now = seconds / rows
            self.per_run = now if self.per_run is None else 0.7 * self.per_run + 0.3 * now
            self.size = min(self.most, batch_size(self.per_run))


def batch_size(per_run_s: float | None, target_s: float = 0.4) -> int:
    """Runs per batch for about target_s of work; 2 before anything was timed."""
    if per_run_s is None:
        return 2
    return int(min(500, max(1, round(target_s / max(1e-4, per_run_s)))))


def batches(todo: Iterable[tuple[int, int]], sizer: Sizer,
            stop: Any = None) -> Iterator[list[tuple[int, int]]]:
    """Lists of ``sizer.size`` runs, none once a stop was asked."""
    it = iter(todo)
    while (stop is None or stop.signum is None) and (
            batch := list(itertools.islice(it, sizer.size))):
        yield batch


class Buffer:
    """Rows between checkpoints, as Arrow batches; written every ``rows`` runs or ``seconds``."""

    def __init__(self, store: Store | None, factors: list[dict[str, str]], rows: int,
                 seconds: float) -> None:
        self.store, self.rows, self.seconds = store, rows, seconds
        self.schemas = run_schema(factors, metadata=False), turn_schema(metadata=False)
        self.runs: list[pa.RecordBatch] = []
        self.turns: list[pa.RecordBatch] = []
        self.pending = 0
        self.last = time.monotonic()

    def add(self, runs: dict[str, list], turns: dict[str, list] | None) -> None:
        """A batch's columns, made Arrow at once (more compact than lists)."""
        self.runs.append(pa.RecordBatch.from_pydict(runs, schema=self.schemas[0]))
        if turns is not None:
            self.turns.append(pa.RecordBatch.from_pydict(turns, schema=self.schemas[1]))
        self.pending += self.runs[-1].num_rows
        if self.store is not None and (self.pending >= self.rows or
                                       time.monotonic() - self.last >= self.seconds):
            self.flush()

    def flush(self) -> None:
        if self.store is None or not self.runs:
            return
        runs, turns = self.runs, self.turns
        # emptied first: rows a failed write loses are simply redone on resume
        self.runs, self.turns, self.pending, self.last = [], [], 0, time.monotonic()
        self.store.write(pa.Table.from_batches(runs),
                         pa.Table.from_batches(turns) if turns else None)


def execute(spec: dict[str, Any], *, backend: str = "process", workers: int | None = None,
            scheduler: str | None = None, out: str | Path | None = None,
            resume: bool = False, progress: Any = None,
            controllers: Mapping[str, Any] | None = None, checkpoint_rows: int | None = None,
            checkpoint_seconds: float | None = None, say: Any = _stderr) -> pa.Table | None:
    """Run a sweep. With ``out``, rows stream to disk (checkpoints, signals, resume and
    extension as in the module docstring) and None is returned; without, the runs table."""
    from engine.sweeps.backends import BACKENDS, Job
    from engine.sweeps.worker import refuse_while_bootstrapping

    refuse_while_bootstrapping()
    if backend not in BACKENDS:
        raise _bad("--backend", f"expected one of {', '.join(BACKENDS)}, found '{backend}'")
    rows, seconds = checkpoint_settings(checkpoint_rows, checkpoint_seconds)
    blob = policy_blob(spec, controllers)
    store, done = None, Done()
    if out is not None:
        store, spec, done = open_store(out, spec, resume, say)
    try:
        total = spec["replications"] * len(spec["cells"])
        on_disk = done.within(len(spec["cells"]), spec["replications"])
        job = Job(canonical(spec), blob, store is not None and spec["turns"], os.getpid())
        if progress is not None:
            progress.start(total - on_disk, on_disk)
        sizer, buffer = Sizer(rows), Buffer(store, spec["factors"], rows, seconds)
        with Interrupts(say) if store is not None else _NoInterrupts() as stop:
            try:
                work = batches(plan(spec, done), sizer, stop)
                for runs, turns, took in BACKENDS[backend](job, work, workers, scheduler):
                    sizer.update(len(runs["cell"]), took)
                    if progress is not None:
                        progress.advance(len(runs["cell"]))
                    buffer.add(runs, turns)
            finally:
                buffer.flush()  # what finished is kept, whatever stopped the loop
        if store is None:
            table = pa.Table.from_batches(buffer.runs, run_schema(spec["factors"], False))
            return pa.Table.from_arrays(table.sort_by(
                [("cell", "ascending"), ("replication", "ascending")]).columns,
                schema=run_schema(spec["factors"]))
        if stop.signum is not None:
            written = sum(p["runs"]["rows"] for p in store.manifest["parts"].values())
            raise SweepInterrupted(stop.signum, written, total, store.root)
        return None
    finally:
        if store is not None:
            store.close()


class _NoInterrupts:
    signum = None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def until_halfwidth(spec: dict[str, Any], target: float, *, out: str | Path,
                    max_replications: int | None = None, resume: bool = False,
                    say: Any = _stderr, **kwargs: Any) -> bool:
    """Rounds of replications until every cell's Wilson 95% half-width for P(deterrence
    holds) is at most ``target`` (or ``max_replications`` is reached); True when reached. The
    rounds depend only on the results, so any worker count gives the same sweep."""
    from engine.sweeps.summary import (
        check_target,
        halfwidth,
        halfwidths_ok,
        next_replications,
        summarize_rows,
    )
    from engine.sweeps.worker import refuse_while_bootstrapping

    refuse_while_bootstrapping()
    check_target(target)  # before the first round: a bad target must leave nothing on disk
    reps = spec["replications"]
    if max_replications is not None and max_replications < reps:
        raise _bad("--max-runs", f"expected at least --runs ({reps}), found {max_replications}")
    first = True
    while True:
        execute({**spec, "replications": reps}, out=out, resume=resume, say=say if first else
                _quiet_extension(say), **kwargs)
        resume, first = True, False
        now = read_manifest(out)["spec"]
        summaries = summarize_rows(iter_rows(out, SUMMARY_COLUMNS), now["cells"])
        widest = max((halfwidth(s) for s in summaries.values()), default=0.0)
        nxt = next_replications(summaries, target, now["replications"], max_replications)
        if nxt <= now["replications"]:
            ok = halfwidths_ok(summaries, target)
            say(f"half-width {widest:.4f} {'<=' if ok else '>'} {target} with "
                f"{now['replications']} replications per cell"
                + ("" if ok else f" (stopped at --max-runs {max_replications})"))
            return ok
        say(f"widest half-width {widest:.4f} > {target}: {now['replications']} -> {nxt} "
            "replications per cell")
        reps = nxt


def sweep(scenario: Any, *, vary: dict[str, list] | None = None, design: Any = "grid",
          ranges: dict[str, tuple[float, float]] | None = None, samples: int | None = None,
          levels: int = 4, replications: int, seed: int = 0, backend: str = "process",
          workers: int | None = None, scheduler: str | None = None,
          out: str | Path | None = None, resume: bool = False, progress: bool = True,
          seeding: str = "crn", rules: Any = None, controllers: Mapping[str, Any] | None = None,
          turns: bool = True, until_halfwidth: float | None = None,
          max_replications: int | None = None, checkpoint_rows: int | None = None,
          checkpoint_seconds: float | None = None) -> pa.Table:
    """Run a Monte Carlo sweep and return its runs table (one row per run, sorted by cell and
    replication); with ``out`` both tables are also on disk, resumable and extensible.
    ``controllers``: Python policies by side ({"red": policy}), picklable callables
    (observation, menu) -> orders; ``until_halfwidth``: replications in rounds until every
    cell's 95% interval for P(deterrence holds) is that narrow."""
    from engine.sweeps.progress import RichProgress
    from engine.sweeps.summary import check_target
    from engine.sweeps.worker import refuse_while_bootstrapping

    refuse_while_bootstrapping()
    if until_halfwidth is not None:
        check_target(until_halfwidth)
    elif max_replications is not None:
        raise _bad("max_replications", "caps the rounds of until_halfwidth; give "
                                       "until_halfwidth too, or leave max_replications out")
    spec = build_spec(scenario, vary=vary, design=design, ranges=ranges, samples=samples,
                      levels=levels, replications=replications, seed=seed, seeding=seeding,
                      rules=rules, controllers=controllers, turns=turns)
    bar = RichProgress() if progress else None
    options: dict[str, Any] = {
        "backend": backend, "workers": workers, "scheduler": scheduler, "progress": bar,
        "controllers": controllers, "checkpoint_rows": checkpoint_rows,
        "checkpoint_seconds": checkpoint_seconds}
    try:
        if until_halfwidth is None:
            table = execute(spec, out=out, resume=resume, **options)
            return load_results(out) if out is not None else table
        with tempfile.TemporaryDirectory(prefix="wargame-sweep-") as tmp:
            folder = out if out is not None else Path(tmp) / "sweep"
            _rounds(spec, until_halfwidth, out=folder, max_replications=max_replications,
                    resume=resume, **options)
            return load_results(folder)
    finally:
        if bar is not None:
            bar.stop()


def _quiet_extension(say: Any) -> Any:
    """A round's own line says what grows; the store's "extending" line would repeat it."""
    return lambda text: None if text.startswith("extending the sweep") else say(text)


_rounds = until_halfwidth  # sweep()'s parameter of that name hides the function inside it


def regenerate_run(folder: str | Path, rid: str, log: str | Path,
                   controllers: Mapping[str, Any] | None = None) -> Any:
    """Write the full event log of one run of a sweep (identical seed, cell and controllers;
    a sweep played by Python policies needs the same policies given again)."""
    from engine.io.eventlog import run_logged
    from engine.sweeps.worker import prepared

    spec = read_manifest(folder)["spec"]
    cell, rep = parse_run_id(rid)
    if not (0 <= cell < len(spec["cells"]) and 0 <= rep < spec["replications"]):
        raise _bad("--run", f"run {rid} is not in this sweep ({len(spec['cells'])} cells x "
                            f"{spec['replications']} replications)")
    python = {s: d for s, d in spec["controllers"].items() if d["kind"] == "python"}
    if python and controllers is None:
        names = ", ".join(f"{s}: {d['name']} ({d['ref']})" for s, d in python.items())
        raise _bad("--run", f"this sweep was played by Python policies ({names}); regenerate "
                            "its runs from Python: engine.sweeps.runner.regenerate_run(DIR, "
                            "RUN, LOG, controllers={...})")
    p = prepared(canonical(spec))
    s, r = p.cell(cell)
    players = p.players(r, policy_blob(spec, controllers))
    return run_logged(s, r, run_seed(spec, cell, rep), log, players or None)
