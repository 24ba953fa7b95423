"""Kernel benchmark: how fast does one exercise run, relative to what simpy itself costs here?

    .venv/bin/python benchmarks/kernel.py [--runs N] [--scenario NAME] [--profile]

Prints plain text: the machine, a raw-simpy baseline measured in this process, simpy events and
records per run, timings for three sinks (metrics-only, in-memory list, log file) and three
ratios checked against targets. Always exits 0 on a completed measurement: it is a measurement,
not a test. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import simpy
import simpy.core
from common import table, verdict  # benchmarks/common.py (scripts run from this folder)

from engine import __version__ as engine_version
from engine import load_pair
from engine.io.eventlog import LogWriter
from engine.io.loading import builtin_names
from engine.io.logschema import make_header
from engine.sim.controllers import default_controllers
from engine.sim.kernel import run
from engine.sim.rng import describe, run_sequence
from engine.sim.state import ListSink

# targets (see README): engine cost per simpy event vs a bare simpy loop, the log writer's
# overhead over a metrics-only run, and the median wall time of one full-length run
TARGET_EVENT_RATIO = 4.0  # issue 15
TARGET_LOG_OVERHEAD = 0.30  # issue 15: a logged run at most 1.3x a metrics-only run
TARGET_RUN_MS = 10.0

BASELINE_PROCS = 50
BASELINE_EVENTS = 200_000
BASELINE_REPEATS = 5
WARMUP_RUNS = 3


# ---- sinks -----------------------------------------------------------------------------------

class NullSink:
    """Metrics-only: drops every record and asks the kernel to skip the per-turn state digest."""

    wants_digest = False
    wants_records = False  # measures only, as a sweep runs: no record is even built

    def emit(self, record: dict[str, Any]) -> None:
        return None

    def end_turn(self, turn: int) -> None:
        return None


# ---- counting simpy events -------------------------------------------------------------------

@contextmanager
def counting_steps() -> Iterator[list[int]]:
    """Count events processed by every simpy Environment while inside the block.

    Patches ``simpy.core.Environment.step`` (the one method ``Environment.run`` calls per event)
    in this process only, and restores it on exit. A step on an empty queue (the one that ends a
    ``run()`` without ``until``) is not an event and is not counted.
    """
    counter = [0]
    original = simpy.core.Environment.step

    def step(self: simpy.core.Environment) -> None:
        if self.peek() != math.inf:
            counter[0] += 1
        original(self)

    simpy.core.Environment.step = step  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        simpy.core.Environment.step = original  # type: ignore[method-assign]


# ---- raw simpy baseline ----------------------------------------------------------------------

def _baseline_env(procs: int, per_proc: int) -> simpy.Environment:
    def proc(env: simpy.Environment) -> Iterator[simpy.Event]:
        for _ in range(per_proc):
            yield env.timeout(1.0)

    env = simpy.Environment()
    for _ in range(procs):
        env.process(proc(env))
    return env


def simpy_baseline(procs: int = BASELINE_PROCS, events: int = BASELINE_EVENTS,
                   repeats: int = BASELINE_REPEATS) -> tuple[int, float]:
    """(events processed, best ns per event) for plain timeouts in a loop."""
    per_proc = events // procs
    with counting_steps() as counter:
        _baseline_env(procs, per_proc).run()
    steps = counter[0]
    best = math.inf
    for _ in range(repeats):
        env = _baseline_env(procs, per_proc)
        gc.collect()
        t0 = time.perf_counter()
        env.run()
        best = min(best, time.perf_counter() - t0)
    return steps, best / steps * 1e9


# ---- engine runs -----------------------------------------------------------------------------

def make_modes(s: Any, r: Any, folder: Path) -> dict[str, Callable[[int], Any]]:
    names = {side: c.name for side, c in default_controllers(r).items()}

    def metrics_only(seed: int) -> Any:
        return run(s, r, seed, sink=NullSink())

    def in_memory(seed: int) -> Any:
        return run(s, r, seed, sink=ListSink())

    def log_file(seed: int) -> Any:
        header = make_header(s, r, describe(run_sequence(seed)), names, "bench")
        # a new file per run, as `wargame run --out` writes one: reusing one path would time
        # the file system truncating the last run's log as well
        writer = LogWriter(folder / f"seed-{seed}.jsonl", header)
        result = run(s, r, seed, sink=writer)
        writer.close(result.outcome, result.outcome["turns_played"])
        return result

    return {"a": metrics_only, "b": in_memory, "c": log_file}


MODE_LABELS = {
    "a": "(a) metrics-only, no digest",
    "b": "(b) in-memory list + digest",
    "c": "(c) log file (LogWriter)",
}


def count_events(s: Any, r: Any, seeds: range) -> tuple[list[int], list[int], list[int]]:
    """Per seed: simpy events processed, records emitted, turns played (one untimed pass)."""
    events, records, turns = [], [], []
    for seed in seeds:
        with counting_steps() as counter:
            result = run(s, r, seed, sink=NullSink())
        events.append(counter[0])
        records.append(run(s, r, seed, sink=ListSink()).records)  # NullSink builds none
        turns.append(result.outcome["turns_played"])
    return events, records, turns


INTERLEAVED_PROCS, INTERLEAVED_PER_PROC = 10, 200  # ~2,000 raw events beside every seed


def raw_block() -> float:
    """ns per event of a small raw-simpy block, timed like the engine runs beside it."""
    env = _baseline_env(INTERLEAVED_PROCS, INTERLEAVED_PER_PROC)
    t0 = time.perf_counter()
    env.run()
    return (time.perf_counter() - t0) / (INTERLEAVED_PROCS * (INTERLEAVED_PER_PROC + 2)) * 1e9


def time_modes(modes: dict[str, Callable[[int], Any]], seeds: range) -> dict[str, list[float]]:
    """Seconds per run for each mode, and under "raw" the ns per event of a raw-simpy block run
    beside each seed. Modes are interleaved seed by seed, their order rotated, so drift in
    machine load falls on all of them, and on the yardstick, alike."""
    keys = list(modes)
    for seed in range(seeds.stop, seeds.stop + WARMUP_RUNS):  # seeds not timed after
        for k in keys:
            modes[k](seed)
    times: dict[str, list[float]] = {k: [] for k in [*keys, "raw"]}
    gc.collect()
    for i, seed in enumerate(seeds):
        times["raw"].append(raw_block())
        order = keys[i % len(keys):] + keys[:i % len(keys)]
        for k in order:
            t0 = time.perf_counter()
            modes[k](seed)
            times[k].append(time.perf_counter() - t0)
    return times


# ---- reporting -------------------------------------------------------------------------------

def ms(x: float) -> str:
    return f"{x * 1e3:.2f}"


def ns_per_event(times: list[float], events: list[int]) -> float:
    """Median over runs of (seconds / simpy events), in ns: robust to a few slowed runs."""
    return statistics.median(t / n for t, n in zip(times, events, strict=True)) * 1e9


def every_scenario(runs: int) -> tuple[list[list[str]], bool]:
    """Issue 15 holds every built-in scenario to the event ratio: (a) runs of each, timed beside
    the raw yardstick as above; the table's rows and whether all pass."""
    rows, ok = [], True
    for name in builtin_names("scenarios"):
        s, r = load_pair(name)
        seeds = range(runs)
        events = []
        for seed in seeds:
            with counting_steps() as counter:
                run(s, r, seed, sink=NullSink())
            events.append(counter[0])
        times = time_modes({"a": lambda seed, s=s, r=r: run(s, r, seed, sink=NullSink())}, seeds)
        ratio = ns_per_event(times["a"], events) / statistics.median(times["raw"])
        ok = ok and ratio <= TARGET_EVENT_RATIO
        rows.append([name, f"{statistics.median(events):g}", ms(statistics.median(times["a"])),
                     f"{ns_per_event(times['a'], events):.0f}",
                     f"{statistics.median(times['raw']):.0f}", f"{ratio:.1f}x",
                     verdict(ratio <= TARGET_EVENT_RATIO)])
    return rows, ok


def profile(s: Any, r: Any, runs: int, top: int = 15) -> None:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for seed in range(runs):
        run(s, r, seed, sink=NullSink())
    prof.disable()
    print(f"\ncProfile: {runs} metrics-only runs, top {top} by tottime")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs per sink, seeds 0..N-1")
    ap.add_argument("--scenario", default="alliance-2024", help="built-in name or YAML path")
    ap.add_argument("--every", type=int, default=40, metavar="N",
                    help="then the event ratio of every built-in scenario, N runs each (0: skip)")
    ap.add_argument("--profile", action="store_true",
                    help="afterwards, cProfile N metrics-only runs and print the top 15")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    s, r = load_pair(args.scenario)
    seeds = range(args.runs)
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores

    print(f"kernel benchmark: scenario {args.scenario} ({s.turns.count} turns of "
          f"{s.turns.hours:g} h), {args.runs} runs per sink, seeds 0..{args.runs - 1}")
    print(table([
        ["cores", f"{cores} ({usable} usable by this process)"],
        ["machine", f"{platform.machine()} {platform.system()} {platform.release()}"],
        ["python", f"{platform.python_version()} ({platform.python_implementation()})"],
        ["simpy", simpy.__version__],
        ["numpy", np.__version__],
        ["engine", engine_version],
    ], ["", "version"], set()))

    # 1. raw simpy baseline
    base_events, base_ns = simpy_baseline()
    print(f"\nraw simpy: {BASELINE_PROCS} processes x env.timeout(1.0) loop, {base_events} "
          f"events, best of {BASELINE_REPEATS}: {base_ns:.0f} ns/event")

    # 2. events and records per run (untimed pass with simpy's step patched)
    events, records, turns = count_events(s, r, seeds)
    full = [i for i, t in enumerate(turns) if t == s.turns.count]
    print(f"\nper run (over {args.runs} seeds)")
    print(table([
        ["simpy events", str(events[0]), f"{statistics.median(events):g}",
         f"{statistics.fmean(events):.0f}"],
        ["records", str(records[0]), f"{statistics.median(records):g}",
         f"{statistics.fmean(records):.0f}"],
        ["turns played", str(turns[0]), f"{statistics.median(turns):g}",
         f"{statistics.fmean(turns):.1f}"],
    ], ["", "seed 0", "median", "mean"], {1, 2, 3}))
    early = "" if len(full) == args.runs else "; the others end early after an armed attack"
    print(f"{len(full)} of {args.runs} runs play all {s.turns.count} turns{early}")

    # 3. timings per sink
    with tempfile.TemporaryDirectory(prefix="wargame-bench-") as tmp:
        times = time_modes(make_modes(s, r, Path(tmp)), seeds)
        log_bytes = (Path(tmp) / f"seed-{seeds[-1]}.jsonl").stat().st_size
    raw_ns = times.pop("raw")
    rows = []
    for k, ts in times.items():
        full_ts = [ts[i] for i in full]
        rows.append([MODE_LABELS[k], f"{len(ts) / sum(ts):.1f}", ms(statistics.median(ts)),
                     ms(float(np.percentile(ts, 90))),
                     ms(statistics.median(full_ts)) if full_ts else "n/a",
                     f"{ns_per_event(ts, events):.0f}"])
    print("\ntimings (time.perf_counter per run, modes interleaved)")
    print(table(rows, ["sink", "runs/s", "median ms", "p90 ms",
                       f"median ms ({s.turns.count}-turn runs)", "ns/event"], {1, 2, 3, 4, 5}))
    print(f"last log file written: {log_bytes / 1024:.0f} KiB")

    # 4. ratios against targets
    med = {k: statistics.median(ts) for k, ts in times.items()}
    engine_ns = ns_per_event(times["a"], events)
    beside_ns = statistics.median(raw_ns)
    event_ratio = engine_ns / beside_ns
    print(f"raw simpy beside the runs: median {beside_ns:.0f} ns/event over {len(raw_ns)} "
          f"blocks of {INTERLEAVED_PROCS * (INTERLEAVED_PER_PROC + 2)} events (the yardstick; "
          f"{beside_ns / base_ns:.2f}x the quiet best above)")
    limit_ms = statistics.median(events) * beside_ns / 1e6
    print(f"physical limit: the median run's {statistics.median(events):g} simpy events at the "
          f"raw cost = {limit_ms:.2f} ms a run; (a) takes {med['a'] * 1e3:.2f} ms, "
          f"(c) {med['c'] * 1e3:.2f} ms")
    log_overhead = med["c"] / med["a"] - 1
    full_a = [times["a"][i] for i in full]
    run_ms = statistics.median(full_a) * 1e3 if full_a else math.nan
    print("\ntargets")
    print(table([
        ["engine / raw simpy cost per event (a)", f"{event_ratio:.1f}x",
         f"<= {TARGET_EVENT_RATIO:g}x", verdict(event_ratio <= TARGET_EVENT_RATIO)],
        ["log writing overhead, (c) vs (a) median", f"{log_overhead:+.0%}",
         f"<= {TARGET_LOG_OVERHEAD:.0%}", verdict(log_overhead <= TARGET_LOG_OVERHEAD)],
        [f"median ms, {s.turns.count}-turn run (a)",
         f"{run_ms:.2f} ms" if full_a else "n/a", f"< {TARGET_RUN_MS:g} ms",
         verdict(run_ms < TARGET_RUN_MS) if full_a else "n/a"],
    ], ["ratio", "value", "target", "result"], {1, 2}))
    print(f"(of the log overhead: digest {med['b'] / med['a'] - 1:+.0%} (b vs a), "
          f"writer {med['c'] / med['b'] - 1:+.0%} (c vs b))")

    if args.every > 0:
        rows, _ = every_scenario(args.every)
        print(f"\nevery built-in scenario: (a) metrics-only, {args.every} runs each, engine / raw "
              f"simpy per event (target <= {TARGET_EVENT_RATIO:g}x)")
        print(table(rows, ["scenario", "events/run", "median ms", "ns/event", "raw ns/event",
                           "ratio", "result"], {1, 2, 3, 4, 5}))

    if args.profile:
        profile(s, r, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
