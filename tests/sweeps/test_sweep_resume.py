"""Real ``wargame sweep`` processes on a real process pool, interrupted and resumed.

SIGKILL, SIGTERM and SIGINT sent to the sweep's own process (not its group: its workers must
notice by themselves) at several points; then ``--resume`` ends with exactly the runs of an
uninterrupted sweep: the same tables, the same Parquet bytes, no duplicate, no gap, and no
worker left running. SIGINT and SIGTERM finish the batches in flight, write them and exit 130
and 143 with a one-line resume hint naming the command. A second sweep writing the same folder
is refused. Parts are made small (``WARGAME_SWEEP_CHUNK_ROWS``) so that a signal can fall
between, or inside, part writes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.sweeps.runner import build_spec, load_results, load_turns

psutil = pytest.importorskip("psutil")

WARGAME = Path(sys.executable).parent / "wargame"
AIRCRAFT = "blue.isr.mq9.aircraft"


class Sweep:
    """One sweep's command line, launched in its own session; its processes are recorded."""

    def __init__(self, out: Path, cells: list[int], runs: int, seed: int = 13,
                 chunk_rows: int = 40, scenario: str = "classroom-tutorial",
                 backend: str = "process") -> None:
        self.out, self.cells, self.runs, self.seed = out, cells, runs, seed
        self.scenario, self.backend = scenario, backend
        self.env = {**os.environ, "WARGAME_SWEEP_CHUNK_ROWS": str(chunk_rows),
                    "PYTHONIOENCODING": "utf-8", "COLUMNS": "400"}
        self.launches = 0
        self.seen: list = []  # every process of the sweep's tree seen while it ran

    @property
    def total(self) -> int:
        return len(self.cells) * self.runs

    def args(self, resume: bool) -> list[str]:
        return [str(WARGAME), "sweep", self.scenario, "--vary",
                f"{AIRCRAFT}={','.join(map(str, self.cells))}", "--runs", str(self.runs),
                "--seed", str(self.seed), "--workers", "2", "--out", str(self.out),
                *(["--backend", self.backend] if self.backend != "process" else []),
                *(["--resume"] if resume else [])]

    def launch(self, resume: bool) -> subprocess.Popen:
        self.launches += 1
        log = self.err_path.open("wb")
        return subprocess.Popen(self.args(resume), stdout=subprocess.DEVNULL, stderr=log,
                                env=self.env, start_new_session=True)

    @property
    def err_path(self) -> Path:
        return self.out.parent / f"{self.out.name}-{self.launches}.err"

    def complete(self, resume: bool) -> None:
        proc = self.launch(resume)
        assert proc.wait(timeout=300) == 0, self.stderr()

    def stderr(self) -> str:
        return self.err_path.read_text()

    def parts(self, table: str = "runs") -> list[Path]:
        folder = self.out / table
        return sorted(folder.glob("part-*.parquet")) if folder.exists() else []

    def record(self, proc: subprocess.Popen) -> None:
        with contextlib.suppress(psutil.Error):
            self.seen += psutil.Process(proc.pid).children(recursive=True)


def stop(sweep: Sweep, proc: subprocess.Popen, sig: signal.Signals) -> int | None:
    """Send ``sig`` to the sweep's own process only; its return code (None: it had already
    finished, and the test wanted it running)."""
    sweep.record(proc)
    alive = proc.poll() is None
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)
    code = proc.wait(timeout=60)
    return code if alive else None


def no_survivors(sweep: Sweep, timeout: float = 15) -> None:
    """Every worker (and helper) process the sweep started is gone."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in sweep.seen if _running(p)]
        if not alive:
            return
        assert time.monotonic() < deadline, f"orphans: {[(p.pid, p.name()) for p in alive]}"
        time.sleep(0.1)


def _running(p) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_for_parts(sweep: Sweep, proc: subprocess.Popen, count: int,
                   timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(sweep.parts()) < count and proc.poll() is None:
        assert time.monotonic() < deadline, "no part appeared in time"
        sweep.record(proc)
        time.sleep(0.005)


def check_on_disk(sweep: Sweep) -> int:
    """After a stop: every visible part is whole, no run is on disk twice, and nothing but
    parts sits in the table folders (what pandas or polars would read)."""
    ids: list[str] = []
    for part in sweep.parts():
        ids += pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist()
    assert len(ids) == len(set(ids)), "a run is on disk twice"
    for table in ("runs", "turns"):
        folder = sweep.out / table
        names = {p.name for p in folder.iterdir()} if folder.exists() else set()
        assert names == {p.name for p in sweep.parts(table)}, names
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
    assert got.schema.equals(want.schema, check_metadata=True)
    assert got.equals(want)
    assert parquet_bytes(got) == parquet_bytes(want)
    assert parquet_bytes(got.combine_chunks()) == parquet_bytes(want)
    turns, want_turns = load_turns(resumed.out), load_turns(reference)
    assert turns.num_rows > got.num_rows
    assert parquet_bytes(turns) == parquet_bytes(want_turns)
    check_on_disk(resumed)
    assert not (resumed.out / "tmp").exists() and not (resumed.out / "damaged").exists()
    spec = build_spec(resumed.scenario, vary={AIRCRAFT: resumed.cells},
                      replications=resumed.runs, seed=resumed.seed)
    manifest = json.loads((resumed.out / "manifest.json").read_text())
    assert manifest["key"] == spec["key"]
    assert sorted(manifest["parts"]) == [p.stem.removeprefix("part-") for p in resumed.parts()]


def assert_resume_hint(sweep: Sweep, code: int | None, sig: signal.Signals) -> None:
    """Exit 128 + signal, and the last line of stderr is the command that continues."""
    assert code == 128 + sig, (code, sweep.stderr())
    last = sweep.stderr().strip().splitlines()[-1]
    on_disk = check_on_disk(sweep)
    assert last.startswith((f"interrupted: {on_disk} of {sweep.total} runs on disk",
                            "interrupted before the sweep started")), last
    command = last.split("resume with: ", 1)[1]
    assert shlex.split(command) == ["wargame", *sweep.args(resume=True)[1:]]
    assert "Traceback" not in sweep.stderr()


def test_interrupted_sweep_resumes_to_exactly_the_uninterrupted_results(tmp_path):
    reference = Sweep(tmp_path / "reference", [2, 4, 6], runs=400)
    reference.complete(resume=False)
    assert len(reference.parts()) >= 8, "parts too large to interrupt between"

    sweep = Sweep(tmp_path / "stopped", [2, 4, 6], runs=400)
    # 1: SIGKILL while starting up (maybe before its manifest exists)
    proc = sweep.launch(resume=False)
    time.sleep(0.3)
    assert stop(sweep, proc, signal.SIGKILL) == -signal.SIGKILL
    assert check_on_disk(sweep) == 0
    # 2: SIGTERM as soon as its first part is on disk: the batches in flight are written
    proc = sweep.launch(resume=True)
    wait_for_parts(sweep, proc, 1)
    assert_resume_hint(sweep, stop(sweep, proc, signal.SIGTERM), signal.SIGTERM)
    first = check_on_disk(sweep)
    # 3: SIGINT (Ctrl-C) a few parts later
    proc = sweep.launch(resume=True)
    wait_for_parts(sweep, proc, len(sweep.parts()) + 2)
    assert_resume_hint(sweep, stop(sweep, proc, signal.SIGINT), signal.SIGINT)
    # 4: SIGKILL shortly after a part, maybe inside the next one's write
    proc = sweep.launch(resume=True)
    wait_for_parts(sweep, proc, len(sweep.parts()) + 1)
    time.sleep(0.02)
    assert stop(sweep, proc, signal.SIGKILL) == -signal.SIGKILL
    on_disk = check_on_disk(sweep)
    assert 0 < first < on_disk < sweep.total
    no_survivors(sweep)
    assert len(sweep.seen) >= 6, "the workers of each launch were seen"

    summary = subprocess.run([str(WARGAME), "sweep", "summary", str(sweep.out)],
                             capture_output=True, text=True, env=sweep.env, timeout=120,
                             check=False)
    assert summary.returncode == 0, summary.stderr
    assert f"{on_disk} of {sweep.total} runs on disk" in summary.stdout

    # a stale staging file from some earlier crash is cleaned on resume
    (sweep.out / "tmp").mkdir(exist_ok=True)
    stale = sweep.out / "tmp" / "runs-000777.424242.parquet"
    stale.write_bytes(b"PAR1 half-written")
    sweep.complete(resume=True)
    assert not stale.exists()
    assert_exactly_the_uninterrupted_sweep(sweep, reference.out)
    no_survivors(sweep)


def test_a_second_writer_of_the_same_folder_is_refused(tmp_path):
    first = Sweep(tmp_path / "shared", [2, 6], runs=300, chunk_rows=20)
    proc = first.launch(resume=False)
    wait_for_parts(first, proc, 1)
    second = subprocess.run(first.args(resume=True), capture_output=True, text=True,
                            env=first.env, timeout=120, check=False)
    assert second.returncode == 2, second.stderr
    assert f"{first.out} is in use by another sweep (process {proc.pid})" in second.stderr
    assert "Traceback" not in second.stderr
    assert proc.wait(timeout=300) == 0, first.stderr()
    t = load_results(first.out)
    assert t.num_rows == 600 and len(set(t.column("run_id").to_pylist())) == 600
    no_survivors(first)


@pytest.mark.slow  # ~10 s: Dask workers exit on their own; the pool's guard is tested by default
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_a_killed_sweep_leaves_no_dask_worker_behind(tmp_path):
    """The Dask backend's own LocalCluster: its worker processes exit with the sweep."""
    pytest.importorskip("distributed")
    sweep = Sweep(tmp_path / "dask", [2, 6], runs=400, chunk_rows=20, backend="dask")
    proc = sweep.launch(resume=False)
    wait_for_parts(sweep, proc, 1)
    assert len(sweep.seen) >= 2, "the cluster's workers were seen"
    assert stop(sweep, proc, signal.SIGKILL) == -signal.SIGKILL
    no_survivors(sweep)
    sweep.complete(resume=True)
    assert load_results(sweep.out).num_rows == sweep.total


@pytest.mark.slow
def test_sweep_stopped_many_times_at_random_points_resumes_exactly(tmp_path):
    """A 2,000-run sweep of alliance-2024, each launch stopped by SIGKILL, SIGTERM or SIGINT
    at a random point."""
    reference = Sweep(tmp_path / "reference", [1, 3, 5, 8], runs=500, chunk_rows=25,
                      scenario="alliance-2024")
    reference.complete(resume=False)
    rng = random.Random(20240611)
    sweep = Sweep(tmp_path / "stopped", [1, 3, 5, 8], runs=500, chunk_rows=25,
                  scenario="alliance-2024")
    stopped = 0
    for k in range(12):
        proc = sweep.launch(resume=k > 0)
        if k % 3 == 0:
            time.sleep(rng.uniform(0.5, 3.0))  # after start-up
        else:
            wait_for_parts(sweep, proc, len(sweep.parts()) + rng.randint(1, 4))
            time.sleep(rng.choice([0.0, 0.001, 0.01, 0.05]))
        sig = rng.choice([signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
        code = stop(sweep, proc, sig)
        if code is not None:
            stopped += 1
            if sig != signal.SIGKILL and code != -sig:  # a signal before the handlers exist
                assert_resume_hint(sweep, code, sig)
        check_on_disk(sweep)
        no_survivors(sweep)
    assert stopped >= 8
    assert check_on_disk(sweep) < sweep.total
    sweep.complete(resume=True)
    assert_exactly_the_uninterrupted_sweep(sweep, reference.out)
