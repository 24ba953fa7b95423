"""Sweep benchmark: throughput against the single-run rate, scaling, Dask, checkpoints, memory.

    .venv/bin/python benchmarks/sweep.py            # default (~8 minutes on 2 cores)
    .venv/bin/python benchmarks/sweep.py --quick    # small version (~1.5 minutes), noisier
    .venv/bin/python benchmarks/sweep.py --full     # 100,000-run throughput and memory cases

Prints plain text: the machine, then (0) the single-run rate of alliance-2024 in this process,
(1) 10,000 runs (100,000 with --full) of alliance-2024 on 2 worker processes, per worker against
(0), and the projection to a million runs, (2) the speed-up from 1 to 2 workers, (3) the Dask
backend against the process pool on the same work, (4) the cost of checkpointing every second,
(5) the peak memory of the sweeping process tree at two (or three) sweep sizes, each checked
against its target. Every sweep streams both tables to Parquet in a temporary folder, as
``wargame sweep`` does. Always exits 0 on a completed measurement: it is a measurement, not a
test. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import pyarrow.parquet as pq
from common import table, verdict  # benchmarks/common.py (scripts run from this folder)

from engine import __version__ as engine_version
from engine.sweeps.runner import build_spec, execute, run_seed

TARGET_PER_WORKER = 0.90   # a worker's runs per second / the single-run rate in one process
TARGET_SPEEDUP = 1.7       # 2 workers vs 1
TARGET_DASK_RATIO = 1.15   # Dask time / process-pool time, same work
TARGET_CHECKPOINT = 0.05   # checkpointing every second vs one write at the end, time - 1
TARGET_MEMORY_MB = 50.0    # growth of the tree's peak RSS from the smallest to the largest sweep

SCENARIO = "alliance-2024"


# ---- measuring -------------------------------------------------------------------------------

def cpu_seconds() -> float:
    """CPU time of this process and of every child it has waited for (pool workers are waited
    for when the pool shuts down)."""
    me, kids = (resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def single_rate(scenario: str, runs: int) -> tuple[float, float]:
    """Runs per second of metrics-only runs one after another in this process, over the seeds
    of a sweep's first ``runs`` replications (the very runs a sweep plays), and their CPU
    seconds per run."""
    from engine import load_pair
    from engine.sim.kernel import run
    from engine.sim.state import MeasuresOnly

    s, r = load_pair(scenario)
    spec = build_spec(scenario, replications=runs, seed=0)
    seeds = [run_seed(spec, 0, i) for i in range(runs)]
    run(s, r, seeds[0], None, MeasuresOnly())  # warm: imports and first-use caches
    cpu, start = cpu_seconds(), time.perf_counter()
    for seed in seeds:
        run(s, r, seed, None, MeasuresOnly())
    elapsed = time.perf_counter() - start
    return runs / elapsed, (cpu_seconds() - cpu) / runs


def timed_sweep(scenario: str, runs: int, workers: int, backend: str = "process",
                scheduler: str | None = None, seed: int = 0,
                checkpoint_seconds: float | None = None) -> tuple[float, float]:
    """Wall seconds of one sweep of ``runs`` replications streamed to a temporary folder
    (pool or cluster start-up included, except a given scheduler's), and the CPU seconds this
    process and its reaped children spent meanwhile."""
    spec = build_spec(scenario, replications=runs, seed=seed)
    with tempfile.TemporaryDirectory(prefix="wargame-sweep-bench-") as tmp:
        out = Path(tmp) / "sweep"
        cpu, start = cpu_seconds(), time.perf_counter()
        execute(spec, backend=backend, workers=workers, scheduler=scheduler, out=out,
                checkpoint_seconds=checkpoint_seconds)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        check_complete(out, runs)
    return elapsed, cpu


def check_complete(out: Path, runs: int) -> int:
    """Rows on disk (from the parts' footers, reading no rows); exit if any is missing or any
    run raised."""
    import pyarrow.compute as pc

    parts = sorted((out / "runs").glob("part-*.parquet"))
    rows = sum(pq.read_metadata(f).num_rows for f in parts)
    errors = sum(pc.sum(pc.is_valid(pq.read_table(f, columns=["error"]).column("error")))
                 .as_py() or 0 for f in parts)
    if rows != runs or errors:
        raise SystemExit(f"sweep incomplete: {rows} of {runs} rows, {errors} errors")
    return len(parts)


def _vm_hwm_kb(pid: int | str = "self") -> int | None:
    """A process's own peak RSS (VmHWM, Linux), or None where /proc does not say."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class ChildPeaks(threading.Thread):
    """Samples the VmHWM of this process's children (the pool's workers and multiprocessing's
    resource tracker) every ``every`` seconds; VmHWM only grows, so the last sample before a
    child exits is (nearly) its peak. A child caught between fork and exec still shows this
    process's memory: such samples (same command line as ours) are skipped."""

    def __init__(self, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.every, self.peaks = every, {}
        self.halt = threading.Event()
        self.me = os.getpid()
        self.cmdline = Path("/proc/self/cmdline").read_bytes()

    def children(self) -> list[int]:
        out = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    stat = Path(f"/proc/{name}/stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == self.me:
                        out.append(int(name))
                except (OSError, ValueError, IndexError):
                    continue
        return out

    def run(self) -> None:
        while not self.halt.is_set():
            for pid in self.children():
                try:
                    if Path(f"/proc/{pid}/cmdline").read_bytes() == self.cmdline:
                        continue
                except OSError:
                    continue
                hwm = _vm_hwm_kb(pid)
                if hwm:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)
            self.halt.wait(self.every)

    def stop(self) -> list[int]:
        self.halt.set()
        self.join()
        return sorted(self.peaks.values(), reverse=True)


def memory_child(runs: int, scenario: str, workers: int) -> None:
    """Run one sweep in this (fresh) process and print peak RSS figures of it and its workers.

    getrusage's ru_maxrss is printed as asked, but on Linux a child started by fork+exec (as
    this process and the spawned workers are) inherits its parent's high-water mark in
    ru_maxrss, so it never reads below what the parent held; VmHWM from /proc belongs to the
    process's own memory map and starts afresh at exec. The targets use VmHWM where there is
    one."""
    spec = build_spec(scenario, replications=runs, seed=0)
    sampler = ChildPeaks() if Path("/proc/self/status").exists() else None
    with tempfile.TemporaryDirectory(prefix="wargame-sweep-mem-") as tmp:
        if sampler is not None:
            sampler.start()
        start = time.perf_counter()
        execute(spec, backend="process", workers=workers, out=Path(tmp) / "sweep")
        elapsed = time.perf_counter() - start
        children_hwm = sampler.stop() if sampler is not None else []
        # row counts from the parts' footers: reading the rows would raise the peak measured
        rows = sum(pq.read_metadata(f).num_rows
                   for f in (Path(tmp) / "sweep" / "runs").glob("part-*.parquet"))
    print(json.dumps({
        "runs": rows, "seconds": elapsed, "self_hwm_kb": _vm_hwm_kb(),
        "children_hwm_kb": children_hwm,
        "self_ru_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_ru_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))


def measure_memory(runs: int, scenario: str, workers: int) -> dict:
    res = subprocess.run([sys.executable, __file__, "--memory-child", str(runs),
                          "--memory-scenario", scenario, "--workers", str(workers)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"memory measurement of {runs} runs failed:\n{res.stderr}")
    m = json.loads(res.stdout.strip().splitlines()[-1])
    if m["runs"] != runs:
        raise SystemExit(f"memory sweep incomplete: {m['runs']} of {runs} rows")
    m["ru_tree_mb"] = (m["self_ru_kb"] + workers * m["children_ru_kb"]) / 1024
    if m["self_hwm_kb"] and m["children_hwm_kb"]:
        m["tree_mb"] = (m["self_hwm_kb"] + sum(m["children_hwm_kb"])) / 1024
    else:  # no /proc: getrusage only
        m["tree_mb"] = m["ru_tree_mb"]
    return m


# ---- reporting -------------------------------------------------------------------------------

def machine() -> str:
    import distributed
    import numpy
    import pyarrow

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return table([
        ["cores", f"{cores} ({usable} usable by this process)"],
        ["load average", f"{load} (1, 5, 15 min, at start)"],
        ["machine", f"{platform.machine()} {platform.system()} {platform.release()}"],
        ["python", f"{platform.python_version()} ({platform.python_implementation()})"],
        ["numpy", numpy.__version__],
        ["pyarrow", pyarrow.__version__],
        ["distributed", distributed.__version__],
        ["engine", engine_version],
    ], ["", "version"], set())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes, about 1.5 minutes")
    size.add_argument("--full", action="store_true",
                      help="100,000 runs for throughput and memory (about 25 minutes more)")
    ap.add_argument("--workers", type=int, default=2, help="workers of the parallel sweeps")
    ap.add_argument("--repeats", type=int, default=2,
                    help="timings of the scaling, Dask and checkpoint comparisons, "
                         "interleaved; best kept")
    ap.add_argument("--memory-scenario", default="classroom-tutorial",
                    help="scenario of the memory sweeps (default: the fast tutorial)")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child is not None:
        memory_child(args.memory_child, args.memory_scenario, args.workers)
        return 0

    # a LocalCluster serves its HTTP routes on 8787 even without a dashboard, else another port
    warnings.filterwarnings("ignore", message="Port 8787 is already in use")
    n = args.workers
    big = 1_000 if args.quick else 100_000 if args.full else 10_000
    scaling = 300 if args.quick else 2_000
    single_runs = 100 if args.quick else 300
    args.repeats = max(1, args.repeats)
    sizes = [500, 5_000] if args.quick else [1_000, 20_000] + ([100_000] if args.full else [])
    mode = "quick" if args.quick else "full" if args.full else "default"
    print(f"sweep benchmark ({mode}): {SCENARIO}, process backend unless stated, "
          f"{n} workers, both tables streamed to Parquet")
    print(machine())
    targets = []

    # 0. the single-run rate, and 1. throughput against it
    rate0, cpu_run = single_rate(SCENARIO, single_runs)
    print(f"\n0. single runs in this process: {rate0:.1f} runs/s ({1e3 / rate0:.1f} ms, CPU "
          f"{cpu_run * 1e3:.1f} ms per run; the first {single_runs} seeds of the sweep, "
          "metrics only)")
    t_big, cpu_big = timed_sweep(SCENARIO, big, n)
    rate1, _ = single_rate(SCENARIO, single_runs)  # again: the machine may have changed
    rate = max(rate0, rate1)
    per_worker = big / t_big / n
    million_h = t_big * 1_000_000 / big / 3600
    print(f"\n1. {big:,} runs of {SCENARIO} on {n} workers: {t_big:.1f} s, pool start-up "
          f"included ({big / t_big:.1f} runs/s; {per_worker:.1f} runs/s per worker = "
          f"{per_worker / rate:.1%} of the single-run rate {rate:.1f} runs/s, the better of "
          f"{rate0:.1f} before and {rate1:.1f} after; CPU {cpu_big / big * 1e3:.1f} ms per run, "
          f"{cpu_big / t_big:.2f} cores busy on average)")
    print(f"   projection: 1,000,000 runs on {n} workers in {million_h:.2f} h "
          f"({million_h * 60:.0f} min) at this rate")
    targets.append([f"per worker / single run, {big:,} runs", f"{per_worker / rate:.1%}",
                    f">= {TARGET_PER_WORKER:.0%}", verdict(per_worker / rate >= TARGET_PER_WORKER)])

    # 2. scaling, 3. Dask against the pool, 4. checkpoints every second against one write at
    # the end, all on the same work: interleaved, best of --repeats, so that a burst of other
    # load on the machine falls on every variant alike
    import distributed

    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        cluster_s = time.perf_counter() - start
        one, many, dask_given, every_s = [], [], [], []
        for _ in range(args.repeats):
            one.append(timed_sweep(SCENARIO, scaling, 1))
            many.append(timed_sweep(SCENARIO, scaling, n, checkpoint_seconds=1e9))
            dask_given.append(timed_sweep(SCENARIO, scaling, n, backend="dask",
                                          scheduler=cluster.scheduler_address))
            every_s.append(timed_sweep(SCENARIO, scaling, n, checkpoint_seconds=1.0))
    t_own, cpu_own = timed_sweep(SCENARIO, scaling, n, backend="dask")
    (t1, cpu1), (tn, cpun), (tc, cpuc) = min(one), min(many), min(every_s)
    t_dask = min(dask_given)[0]
    speedup, ratio, cost = t1 / tn, t_dask / tn, tc / tn - 1
    print(f"\n2-4. {scaling:,} runs of {SCENARIO} each; best of {args.repeats}, interleaved "
          "(all times: " + "; ".join(
              f"{label} {', '.join(f'{x[0]:.1f}' for x in xs)} s"
              for label, xs in (("1 worker", one), (f"{n} workers", many),
                                ("Dask", dask_given), ("checkpoint every 1 s", every_s))) + ")")
    print(table([
        ["process pool, 1 worker", f"{t1:.1f}", f"{scaling / t1:.0f}", f"{cpu1:.1f}",
         f"{cpu1 / t1:.2f}"],
        [f"process pool, {n} workers (one write at the end)", f"{tn:.1f}",
         f"{scaling / tn:.0f}", f"{cpun:.1f}", f"{cpun / tn:.2f}"],
        [f"process pool, {n} workers, a checkpoint every 1 s", f"{tc:.1f}",
         f"{scaling / tc:.0f}", f"{cpuc:.1f}", f"{cpuc / tc:.2f}"],
        [f"Dask, {n} workers (cluster already running)", f"{t_dask:.1f}",
         f"{scaling / t_dask:.0f}", "-", "-"],
        [f"Dask, {n} workers, own LocalCluster (start-up included), once", f"{t_own:.1f}",
         f"{scaling / t_own:.0f}", f"{cpu_own:.1f}", f"{cpu_own / t_own:.2f}"],
    ], ["backend", "seconds", "runs/s", "CPU s", "cores busy"], {1, 2, 3, 4}))
    print("(cores busy = CPU seconds of this process and its reaped workers / wall seconds; "
          "a pool's workers are reaped when it shuts down, a running cluster's are not)")
    print(f"(starting the LocalCluster of {n} workers took {cluster_s:.1f} s; a sweep "
          "checkpoints every 30 s or 5,000 runs by default, 30 times less often than the "
          "every-second case)")
    targets.append([f"speed-up 1 -> {n} workers", f"{speedup:.3f}x",
                    f">= {TARGET_SPEEDUP:g}x", verdict(speedup >= TARGET_SPEEDUP)])
    targets.append(["Dask / process pool, same work", f"{ratio:.3f}x",
                    f"<= {TARGET_DASK_RATIO:g}x", verdict(ratio <= TARGET_DASK_RATIO)])
    targets.append(["checkpoint every 1 s / one write", f"{cost:+.1%}",
                    f"<= {TARGET_CHECKPOINT:+.0%}", verdict(cost <= TARGET_CHECKPOINT)])

    # 5. memory, each size in a fresh process
    mems = [measure_memory(k, args.memory_scenario, n) for k in sizes]
    print(f"\n5. peak RSS of the sweeping process tree, {args.memory_scenario}, {n} workers "
          "(fresh process per size), MB")
    print(table([[f"{m['runs']:,}", f"{m['seconds']:.1f}",
                  f"{(m['self_hwm_kb'] or 0) / 1024:.1f}",
                  " + ".join(f"{k / 1024:.1f}" for k in m["children_hwm_kb"]) or "-",
                  f"{m['tree_mb']:.1f}", f"{m['self_ru_kb'] / 1024:.1f}",
                  f"{m['children_ru_kb'] / 1024:.1f}", f"{m['ru_tree_mb']:.1f}"]
                 for m in mems],
                ["runs", "seconds", "coordinator", "children (VmHWM each)", "tree",
                 "ru coordinator", "ru largest child", f"ru tree (+ {n} x child)"],
                {0, 1, 2, 4, 5, 6, 7}))
    print("(coordinator, children, tree: VmHWM from /proc, each process's own peak; ru: "
          "getrusage ru_maxrss, RUSAGE_SELF and RUSAGE_CHILDREN, which on Linux carry the "
          "parent's high-water mark over fork+exec, so they read high and can hide growth)")
    growth = mems[-1]["tree_mb"] - mems[0]["tree_mb"]
    ru_growth = mems[-1]["ru_tree_mb"] - mems[0]["ru_tree_mb"]
    print(f"growth {sizes[0]:,} -> {sizes[-1]:,} runs: tree {growth:+.1f} MB "
          f"(getrusage figures: {ru_growth:+.1f} MB)")
    targets.append([f"memory growth {sizes[0]:,} -> {sizes[-1]:,} runs", f"{growth:+.1f} MB",
                    f"<= {TARGET_MEMORY_MB:g} MB", verdict(growth <= TARGET_MEMORY_MB)])

    if hasattr(os, "getloadavg"):
        print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\ntargets")
    print(table(targets, ["figure", "value", "target", "result"], {1, 2}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
