"""Replay benchmark: how much does verifying a log cost next to playing it, and how soon does a
replay of a huge log start talking?

    .venv/bin/python benchmarks/replay.py [--seeds N] [--records N] [--repeats N]

(a) verify vs the logged run: alliance-2024 (30 turns), seeds 0..N-1; each seed is played with
    ``run_logged`` and its log verified with ``engine.io.replay.verify``; the ratio of the medians.
(b) a synthetic, validly chained log of a million ``isr.detect`` records: the wall time from
    starting ``wargame replay LOG`` (stdout piped) until its first narrative line arrives, and
    the in-process time until ``read_log(LOG).records()`` yields its first record.

Prints plain text with PASS or MISS against each target and exits 0 either way: it is a
measurement, not a test. It exits non-zero only if the engine itself fails (e.g. a log that does
not verify). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import verdict  # benchmarks/common.py (scripts run from this folder)

from engine import __version__ as engine_version
from engine import load_pair
from engine.io.eventlog import read_lines, run_logged, seal
from engine.io.replay import read_log, verify
from engine.spec.scenario import with_turns

TARGET_VERIFY_RATIO = 1.5  # verify / logged run, medians
TARGET_FIRST_LINE_S = 1.0  # `wargame replay` of a 1,000,000-record log: start to first line
WARGAME = Path(sys.executable).parent / "wargame"
NARRATIVE = re.compile(r"^\s+\d+\.\d\d h  \S")  # "   12.34 h  mq9.1 detected Red ..."
WARMUP_SEEDS = 2


def machine() -> None:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"machine: {os.cpu_count()} cores ({usable} usable), Python "
          f"{platform.python_version()}, engine {engine_version}, {platform.platform()}")


# ---- (a) verify vs the logged run --------------------------------------------------------------

def bench_verify(seeds: int, workdir: Path) -> float:
    s, r = load_pair("alliance-2024")
    for seed in range(WARMUP_SEEDS):
        path = workdir / f"warmup-{seed}.jsonl"
        run_logged(s, r, 1000 + seed, path)
        verify(path)
    runs, checks, records = [], [], []
    for seed in range(seeds):
        path = workdir / f"alliance-2024-seed{seed}.jsonl"
        gc.collect()
        t0 = time.perf_counter()
        result, _ = run_logged(s, r, seed, path)
        t1 = time.perf_counter()
        v = verify(path)
        t2 = time.perf_counter()
        if not v.ok:
            raise SystemExit(f"seed {seed}: the log does not verify: {v.message}")
        runs.append(t1 - t0)
        checks.append(t2 - t1)
        records.append(result.records)
    run_ms, verify_ms = statistics.median(runs) * 1e3, statistics.median(checks) * 1e3
    ratio = verify_ms / run_ms
    per_seed = statistics.median(c / w for c, w in zip(checks, runs, strict=True))
    print(f"\n(a) verify vs logged run: alliance-2024, {s.turns.count} turns, seeds 0-{seeds - 1}, "
          f"median {statistics.median(records):.0f} records per log")
    print(f"    logged run   median {run_ms:7.1f} ms   (min {min(runs) * 1e3:.1f}, "
          f"max {max(runs) * 1e3:.1f})")
    print(f"    verify       median {verify_ms:7.1f} ms   (min {min(checks) * 1e3:.1f}, "
          f"max {max(checks) * 1e3:.1f})")
    print(f"    ratio of medians {ratio:.2f}x (median of per-seed ratios {per_seed:.2f}x); "
          f"target <= {TARGET_VERIFY_RATIO}x: {verdict(ratio <= TARGET_VERIFY_RATIO)}")
    return ratio


# ---- (b) a million records -----------------------------------------------------------------------

def write_synthetic_log(path: Path, n: int, header: dict[str, Any], per_turn: int = 1000) -> None:
    """The header of a real game, then ``n`` isr.detect records (which the narrative tells) with
    increasing seq, turn and time, then a footer: a validly chained log."""
    line, prev = seal("", {k: v for k, v in header.items() if k != "h"})
    block = [line]
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for seq in range(n):
            rec = {"seq": seq, "turn": seq // per_turn + 1, "t": round(seq * 24 / per_turn, 6),
                   "kind": "isr.detect", "side": "blue", "unit": f"mq9.{seq % 4 + 1}",
                   "data": {"group": "coast_guard", "zone": "disputed_islands",
                            "since_incursion_h": round((seq % 97) / 7, 6)},
                   "visible_to": ["blue"]}
            line, prev = seal(prev, rec, sort=False)
            block.append(line)
            if len(block) >= 10_000:
                fh.write("\n".join(block) + "\n")
                block = []
        footer = {"footer": True, "records": n, "turns": (n - 1) // per_turn + 1, "outcome": {}}
        block.append(seal(prev, footer)[0])
        fh.write("\n".join(block) + "\n")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    return env


def first_line_s(path: Path) -> tuple[float, str]:
    """Seconds from starting `wargame replay LOG` (stdout piped) to its first narrative line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(WARGAME), "replay", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=_env())
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if NARRATIVE.match(line):
                return time.perf_counter() - t0, line.strip()
        raise SystemExit(f"`wargame replay` ended without a narrative line (exit {proc.wait()})")
    finally:
        proc.kill()  # the rest of the million lines is not what is measured
        proc.wait()


def startup_s() -> float:
    """Seconds for `wargame --help`: the interpreter and imports, the floor of any command."""
    t0 = time.perf_counter()
    subprocess.run([str(WARGAME), "--help"], capture_output=True, check=True, env=_env())
    return time.perf_counter() - t0


def bench_first_line(n: int, repeats: int, workdir: Path) -> float:
    s, r = load_pair("alliance-2024")
    real = workdir / "header-source.jsonl"
    run_logged(with_turns(s, 1), r, 0, real)
    header = next(read_lines(real)).obj
    path = workdir / "synthetic.jsonl"
    t0 = time.perf_counter()
    write_synthetic_log(path, n, header)
    written = time.perf_counter() - t0
    size = path.stat().st_size
    print(f"\n(b) a synthetic log of {n:,} isr.detect records: {size / 2**20:.0f} MiB, "
          f"written in {written:.1f} s")

    firsts = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        rec = next(read_log(path).records())
        firsts.append(time.perf_counter() - t0)
    assert rec["seq"] == 0
    first_ms = statistics.median(firsts) * 1e3
    print(f"    read_log(LOG).records(): first record after {first_ms:.2f} ms "
          f"(median of {repeats})")
    t0 = time.perf_counter()
    count = sum(1 for _ in read_log(path).records())
    full = time.perf_counter() - t0
    print(f"    ... all {count:,} records in {full:.1f} s ({count / full / 1e3:.0f}k records/s)")

    startup = statistics.median(startup_s() for _ in range(repeats))
    times, line = [], ""
    for _ in range(repeats):
        took, line = first_line_s(path)
        times.append(took)
    first = statistics.median(times)
    print(f"    `wargame --help` (interpreter + imports): {startup:.2f} s (median of {repeats})")
    print(f"    `wargame replay LOG | ...`: first narrative line after {first:.2f} s (median of "
          f"{repeats}; min {min(times):.2f}, max {max(times):.2f})")
    print(f"        {line}")
    print(f"    target < {TARGET_FIRST_LINE_S:.0f} s: {verdict(first < TARGET_FIRST_LINE_S)}")
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds for (a) (default 10)")
    parser.add_argument("--records", type=int, default=1_000_000,
                        help="records in the synthetic log of (b) (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each (b) timing")
    args = parser.parse_args()
    machine()
    with tempfile.TemporaryDirectory(prefix="wargame-replay-bench-") as tmp:
        ratio = bench_verify(args.seeds, Path(tmp))
        first = bench_first_line(args.records, args.repeats, Path(tmp))
    print(f"\nsummary: verify/run {ratio:.2f}x ({verdict(ratio <= TARGET_VERIFY_RATIO)}), "
          f"first replay line {first:.2f} s ({verdict(first < TARGET_FIRST_LINE_S)})")


if __name__ == "__main__":
    main()
