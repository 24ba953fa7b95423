"""A sweep killed with SIGKILL (coordinator and workers at once) at several points and resumed
ends with exactly the runs of an uninterrupted sweep: the same table, the same Parquet bytes, no
duplicate and no gap. Real ``wargame sweep`` processes on a real process pool; chunks are made
small with ``WARGAME_SWEEP_CHUNK_ROWS`` so that a kill can fall between, or inside, chunk writes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.sweeps.runner import build_spec, load_results

WARGAME = Path(sys.executable).parent / "wargame"
AIRCRAFT = "blue.isr.mq9.aircraft"


class Sweep:
    """One sweep's command line, launched and killed as a whole process group."""

    def __init__(self, out: Path, cells: list[int], runs: int, seed: int = 13,
                 chunk_rows: int = 40) -> None:
        self.out, self.cells, self.runs, self.seed = out, cells, runs, seed
        self.env = {**os.environ, "WARGAME_SWEEP_CHUNK_ROWS": str(chunk_rows),
                    "PYTHONIOENCODING": "utf-8"}
        self.launches = 0

    @property
    def total(self) -> int:
        return len(self.cells) * self.runs

    def args(self, resume: bool) -> list[str]:
        return [str(WARGAME), "sweep", "classroom-tutorial", "--vary",
                f"{AIRCRAFT}={','.join(map(str, self.cells))}", "--runs", str(self.runs),
                "--seed", str(self.seed), "--workers", "2", "--out", str(self.out),
                *(["--resume"] if resume else [])]

    def launch(self, resume: bool) -> subprocess.Popen:
        self.launches += 1
        log = (self.out.parent / f"{self.out.name}-{self.launches}.err").open("wb")
        return subprocess.Popen(self.args(resume), stdout=subprocess.DEVNULL, stderr=log,
                                env=self.env, start_new_session=True)

    def complete(self, resume: bool) -> None:
        proc = self.launch(resume)
        assert proc.wait(timeout=300) == 0, self.stderr()

    def stderr(self) -> str:
        return (self.out.parent / f"{self.out.name}-{self.launches}.err").read_text()

    def parts(self) -> list[Path]:
        chunks = self.out / "chunks"
        return sorted(chunks.glob("part-*.parquet")) if chunks.exists() else []


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL the whole group (the coordinator and its pool); True if it was still running."""
    alive = proc.poll() is None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return alive


def wait_for_parts(sweep: Sweep, proc: subprocess.Popen, count: int,
                   timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(sweep.parts()) < count and proc.poll() is None:
        assert time.monotonic() < deadline, "no chunk appeared in time"
        time.sleep(0.005)


def check_on_disk(sweep: Sweep) -> int:
    """After a kill: every visible chunk is whole, and no run is on disk twice."""
    ids: list[str] = []
    for part in sweep.parts():
        ids += pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist()
    assert len(ids) == len(set(ids)), "a run is on disk twice"
    leftovers = {p.name for p in (sweep.out / "chunks").iterdir()} - {
        p.name for p in sweep.parts()} if (sweep.out / "chunks").exists() else set()
    assert all(n.startswith(".part-") and n.endswith(".tmp") for n in leftovers), leftovers
    return len(ids)


def parquet_bytes(t: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(t, sink, compression="zstd", row_group_size=1 << 20)
    return sink.getvalue()


def assert_exactly_the_uninterrupted_sweep(resumed: Sweep, reference: Path) -> None:
    got, want = load_results(resumed.out), load_results(reference)
    assert got.num_rows == want.num_rows == resumed.total
    pairs = list(zip(got.column("cell").to_pylist(), got.column("replication").to_pylist(),
                     strict=True))
    assert len(set(pairs)) == len(pairs), "duplicates"
    assert set(pairs) == {(c, i) for c in range(len(resumed.cells))
                          for i in range(resumed.runs)}, "gaps"
    assert got.schema.equals(want.schema)
    assert got.equals(want)
    assert parquet_bytes(got) == parquet_bytes(want)
    assert parquet_bytes(got.combine_chunks()) == parquet_bytes(want)
    names = sorted(p.name for p in (resumed.out / "chunks").iterdir())
    assert names == [p.name for p in resumed.parts()], "only whole part files may remain"
    spec = build_spec("classroom-tutorial", vary={AIRCRAFT: resumed.cells},
                      replications=resumed.runs, seed=resumed.seed)
    assert json.loads((resumed.out / "manifest.json").read_text())["key"] == spec["key"]


def test_killed_sweep_resumes_to_exactly_the_uninterrupted_results(tmp_path):
    reference = Sweep(tmp_path / "reference", [2, 4, 6], runs=700)
    reference.complete(resume=False)
    n_ref = len(reference.parts())
    assert n_ref >= 8, f"chunks too large to interrupt between: {n_ref}"

    sweep = Sweep(tmp_path / "killed", [2, 4, 6], runs=700)
    # 1: killed while starting up (maybe before its manifest exists)
    proc = sweep.launch(resume=False)
    time.sleep(0.3)
    assert kill(proc), "the sweep finished before it could be killed"
    assert check_on_disk(sweep) == 0
    # 2: killed as soon as its first chunk is on disk
    proc = sweep.launch(resume=True)
    wait_for_parts(sweep, proc, 1)
    assert kill(proc)
    first = check_on_disk(sweep)
    # 3: killed a few chunks later
    proc = sweep.launch(resume=True)
    wait_for_parts(sweep, proc, len(sweep.parts()) + 2)
    assert kill(proc)
    # 4: killed shortly after a chunk, maybe inside the next one's write
    proc = sweep.launch(resume=True)
    wait_for_parts(sweep, proc, len(sweep.parts()) + 1)
    time.sleep(0.02)
    assert kill(proc)
    on_disk = check_on_disk(sweep)
    assert 0 < first < on_disk < sweep.total

    summary = subprocess.run([str(WARGAME), "sweep", "summary", str(sweep.out)],
                             capture_output=True, text=True, env=sweep.env, timeout=120,
                             check=False)
    assert summary.returncode == 0, summary.stderr
    assert f"{on_disk} of {sweep.total} runs on disk" in summary.stdout

    # a stale temporary chunk from some earlier crash is cleaned on resume
    stale = sweep.out / "chunks" / ".part-000777.parquet.424242.tmp"
    stale.write_bytes(b"PAR1 half-written")
    sweep.complete(resume=True)
    assert not stale.exists()
    assert_exactly_the_uninterrupted_sweep(sweep, reference.out)


@pytest.mark.slow
def test_sweep_killed_many_times_at_random_points_resumes_exactly(tmp_path):
    reference = Sweep(tmp_path / "reference", [1, 3, 5, 8], runs=2500, chunk_rows=25)
    reference.complete(resume=False)
    rng = random.Random(20240611)
    sweep = Sweep(tmp_path / "killed", [1, 3, 5, 8], runs=2500, chunk_rows=25)
    kills = 0
    for k in range(12):
        proc = sweep.launch(resume=k > 0)
        if k % 3 == 0:
            time.sleep(rng.uniform(0.1, 4.0))
        else:
            wait_for_parts(sweep, proc, len(sweep.parts()) + rng.randint(1, 4))
            time.sleep(rng.choice([0.0, 0.001, 0.01, 0.05]))
        kills += kill(proc)
        check_on_disk(sweep)
    assert kills >= 8
    assert check_on_disk(sweep) < sweep.total
    sweep.complete(resume=True)
    assert_exactly_the_uninterrupted_sweep(sweep, reference.out)
