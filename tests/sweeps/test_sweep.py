"""Monte Carlo sweeps: the API, seeds (runs reproducible alone from the seed column, common random
numbers or independent streams), identical results whatever the workers, batch sizes or backend
(in this process, a spawned process pool, Dask), errors recorded per run, and the Parquet store
with its manifest, atomic part writes, resume and refusals (more in test_store.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import engine
import engine.sweeps.columns
import engine.sweeps.runner
import engine.sweeps.worker
from engine import EngineError, load_pair
from engine.sim.kernel import run
from engine.spec.scenario import with_values
from engine.sweeps.runner import (
    OUTCOME_FIELDS,
    build_spec,
    execute,
    load_results,
    read_manifest,
    run_seed,
    sweep,
)

AIRCRAFT = "blue.isr.mq9.aircraft"
AIRCRAFT_COLUMN = "blue_isr_mq9_aircraft"
IDENTITY = ["run_id", "cell", "replication", "seed", "scenario", "blue_controller",
            "red_controller", "blue_scripted_turns"]
MEASURES = [name for name, _ in OUTCOME_FIELDS]
# a LocalCluster serves HTTP on 8787 even without a dashboard, or else on another port
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")


def canonical(t: pa.Table) -> pa.Table:
    return t.sort_by([("cell", "ascending"), ("replication", "ascending")])


def assert_same(a: pa.Table, b: pa.Table) -> None:
    a, b = canonical(a), canonical(b)
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    assert a.equals(b), "results differ"


def fixed_batches(monkeypatch, size: int) -> None:
    monkeypatch.setattr(engine.sweeps.runner, "batch_size", lambda *a, **k: size)


@pytest.fixture(scope="module")
def spec():
    """Two cells of the tutorial (2 and 6 MQ-9s) times 14 replications."""
    return build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=14, seed=11)


@pytest.fixture(scope="module")
def reference(spec):
    return execute(spec, backend="inprocess")


@pytest.fixture(scope="module")
def dask_scheduler():
    """One real LocalCluster for the module: two single-threaded worker processes."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


# ---- the API --------------------------------------------------------------------------------

def test_sweep_returns_a_table_of_one_row_per_run():
    t = sweep("classroom-tutorial", vary={AIRCRAFT: [2, 4, 6]}, replications=5, seed=3,
              backend="inprocess", progress=False)
    assert isinstance(t, pa.Table) and t.num_rows == 15
    assert t.column_names == [*IDENTITY, AIRCRAFT_COLUMN, *MEASURES, "error"]
    rows = t.to_pylist()
    assert [(r["cell"], r["replication"]) for r in rows] == [
        (c, i) for c in range(3) for i in range(5)]
    assert [r["run_id"] for r in rows[:6]] == ["0-0", "0-1", "0-2", "0-3", "0-4", "1-0"]
    assert {r[AIRCRAFT_COLUMN] for r in rows if r["cell"] == 2} == {6}
    assert t.schema.field(AIRCRAFT_COLUMN).type == pa.int64()
    assert t.schema.field(AIRCRAFT_COLUMN).metadata[b"path"] == f"scenario.{AIRCRAFT}".encode()
    assert all(r["error"] is None and r["scenario"] == "classroom-tutorial" for r in rows)
    assert {(r["blue_controller"], r["red_controller"], r["blue_scripted_turns"])
            for r in rows} == {("doctrine", "doctrine", None)}


def test_sweep_lhs_design_and_several_scenarios():
    t = sweep(["classroom-tutorial", "classroom-tutorial"], design="lhs",
              ranges={"blue.isr.mq9.availability": (0.5, 0.95)}, samples=3, replications=2,
              seed=1, backend="inprocess", progress=False)
    assert t.num_rows == 2 * 3 * 2
    assert t.schema.field("blue_isr_mq9_availability").type == pa.float64()
    values = t.column("blue_isr_mq9_availability").to_pylist()
    assert values[:6] == values[6:], "each scenario gets the same design points"


def test_the_kernel_outcome_is_exactly_the_row_schema():
    s, r = load_pair("classroom-tutorial")
    assert set(run(s, r, 0).outcome) == set(MEASURES), (
        "engine.sweeps.runner.OUTCOME_FIELDS must list every outcome measure of the kernel")


def test_rows_say_when_blue_learned_of_the_armed_attack():
    t = sweep("baseline-2022", replications=12, seed=3, backend="inprocess", progress=False)
    assert t.schema.field("known_turn").type == pa.int64()
    rows = t.to_pylist()
    failed = [r for r in rows if not r["deterrence_held"]]
    assert failed and any(r["known_turn"] is not None for r in failed)
    for r in rows:
        if r["deterrence_held"]:  # no armed attack: nothing to learn of
            assert r["failure_turn"] is None and r["known_turn"] is None
        elif r["known_turn"] is not None:  # Blue learns of an attack when or after it is ordered
            assert r["known_turn"] >= r["failure_turn"]


def test_sweep_refuses_an_unknown_backend(spec):
    with pytest.raises(EngineError, match="--backend"):
        execute(spec, backend="slurm")


# ---- seeds ----------------------------------------------------------------------------------

def test_any_run_is_reproducible_alone_from_its_seed_column(spec, reference):
    base, rules = load_pair("classroom-tutorial")
    rows = reference.to_pylist()
    for row in (rows[0], rows[5], rows[17], rows[-1]):
        c, i = row["cell"], row["replication"]
        assert row["seed"] == run_seed(spec, c, i)
        s = with_values(base, spec["cells"][c]["values"])
        outcome = engine.run(s, rules, row["seed"]).outcome
        assert {k: row[k] for k in MEASURES} == outcome


def _seed(root: int, key: tuple[int, ...]) -> int:
    """The documented rule: 63 bits of the run's SeedSequence."""
    return int(np.random.SeedSequence(root, spawn_key=key).generate_state(1, np.uint64)[0]) >> 1


def test_common_random_numbers_share_seeds_across_cells(spec, reference):
    assert spec["seeding"] == "crn"
    for c in range(2):
        for i in (0, 3, 13):
            assert run_seed(spec, c, i) == _seed(11, (i,))
    seeds = reference.select(["cell", "replication", "seed"]).to_pylist()
    by_cell = [[r["seed"] for r in seeds if r["cell"] == c] for c in range(2)]
    assert by_cell[0] == by_cell[1] and len(set(by_cell[0])) == 14
    assert reference.schema.field("seed").type == pa.int64()


def test_independent_seeding_uses_the_cells_content_and_replication():
    ind = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=3, seed=11,
                     seeding="independent")
    keys = [c["key"] for c in ind["cells"]]
    assert len(set(keys)) == 2 and all(0 <= k < 2**63 for k in keys)
    assert run_seed(ind, 1, 2) == _seed(11, (keys[1], 2))
    assert run_seed(ind, 0, 2) != run_seed(ind, 1, 2)
    # the key is the cell's content, not its position: the same point elsewhere, same seeds
    swapped = build_spec("classroom-tutorial", vary={AIRCRAFT: [6, 2]}, replications=3,
                         seed=11, seeding="independent")
    assert [c["key"] for c in swapped["cells"]] == keys[::-1]
    with pytest.raises(EngineError):
        build_spec("classroom-tutorial", replications=3, seed=1, seeding="shared")


def test_identical_cells_give_identical_runs_only_with_common_random_numbers():
    """Two cells with the same values: with CRN their rows match run for run; with
    independent seeds they do not."""
    same = {AIRCRAFT: [4, 4]}
    measures = [m for m in MEASURES if m != "deterrence_held"]

    def per_cell(seeding):
        t = sweep("classroom-tutorial", vary=same, replications=12, seed=2, seeding=seeding,
                  backend="inprocess", progress=False)
        rows = t.select(["cell", *measures]).to_pylist()
        return ([{k: r[k] for k in measures} for r in rows if r["cell"] == 0],
                [{k: r[k] for k in measures} for r in rows if r["cell"] == 1])

    a, b = per_cell("crn")
    assert a == b
    a, b = per_cell("independent")
    assert a != b


# ---- the same results everywhere ------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 5, 500])
def test_batch_size_does_not_change_results(monkeypatch, spec, reference, size):
    fixed_batches(monkeypatch, size)
    assert_same(execute(spec, backend="inprocess"), reference)


def test_process_pool_one_and_two_workers_give_identical_results(monkeypatch, spec,
                                                                 reference):
    assert_same(execute(spec, backend="process", workers=1), reference)
    fixed_batches(monkeypatch, 3)  # many small batches, completing in any order
    assert_same(execute(spec, backend="process", workers=2), reference)


def test_dask_on_a_given_scheduler_gives_identical_results(monkeypatch, spec, reference,
                                                           dask_scheduler, tmp_path):
    assert_same(execute(spec, backend="dask", scheduler=dask_scheduler), reference)
    fixed_batches(monkeypatch, 4)
    assert_same(execute(spec, backend="dask", scheduler=dask_scheduler), reference)
    # through the public API, streaming to disk
    t = sweep("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=14, seed=11,
              backend="dask", scheduler=dask_scheduler, out=tmp_path / "d", progress=False)
    assert_same(t, reference)
    assert_same(load_results(tmp_path / "d"), reference)


def test_dask_with_its_own_local_cluster_gives_identical_results(spec, reference):
    assert_same(execute(spec, backend="dask", workers=2), reference)


def test_results_on_disk_equal_results_in_memory(monkeypatch, spec, reference, tmp_path):
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "5")
    fixed_batches(monkeypatch, 4)
    assert execute(spec, backend="inprocess", out=tmp_path / "s") is None
    assert_same(load_results(tmp_path / "s"), reference)


# ---- errors in a run ------------------------------------------------------------------------

def test_a_run_that_raises_records_its_error_and_the_sweep_goes_on(monkeypatch, spec,
                                                                   reference, tmp_path):
    real = engine.sweeps.worker.run
    bad_seed = run_seed(spec, 0, 5)  # replication 5 of both cells (common random numbers)

    def flaky(s, r, seed, *args, **kwargs):
        if seed == bad_seed:
            raise RuntimeError("the umpire fell ill")
        return real(s, r, seed, *args, **kwargs)

    monkeypatch.setattr(engine.sweeps.worker, "run", flaky)
    fixed_batches(monkeypatch, 4)
    execute(spec, backend="inprocess", out=tmp_path / "e")
    t = load_results(tmp_path / "e")
    assert t.num_rows == 28
    bad = [r for r in t.to_pylist() if r["error"] is not None]
    assert [(r["cell"], r["replication"]) for r in bad] == [(0, 5), (1, 5)]
    assert all(r["error"] == "RuntimeError: the umpire fell ill" for r in bad)
    assert all(r[m] is None for r in bad for m in MEASURES)
    good = t.filter(pa.compute.is_null(t.column("error")))
    want = reference.filter(pa.compute.not_equal(reference.column("replication"), 5))
    assert_same(good, want)
    turns = engine.sweeps.runner.load_turns(tmp_path / "e")
    assert 5 not in set(turns.column("replication").to_pylist()), "a failed run has no turns"
    assert set(turns.column("run_id").to_pylist()) == set(good.column("run_id").to_pylist())


# ---- storage --------------------------------------------------------------------------------

def test_manifest_names_the_sweep(spec, tmp_path):
    execute(spec, backend="inprocess", out=tmp_path / "m")
    m = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert m == read_manifest(tmp_path / "m")
    assert m["format"] == "wargame-sweep/2" and m["engine"] == engine.__version__
    assert m["root_seed"] == 11 and m["replications"] == 14 and m["cells"] == 2
    assert m["seeding"] == "crn" and m["key"] == spec["key"] and "spawn_key=(replication,)" in \
        m["seed"]
    assert m["design"] == {"kind": "grid", "vary": {AIRCRAFT: [2, 6]}}
    assert m["controllers"] == {"blue": {"kind": "doctrine", "name": "doctrine"},
                                "red": {"kind": "doctrine", "name": "doctrine"}}
    assert m["columns"] == {AIRCRAFT_COLUMN: AIRCRAFT} and m["turns_table"] is True
    assert [s["id"] for s in m["scenarios"]] == ["classroom-tutorial"]
    assert all(len(s["sha256"]) == 64 for s in m["scenarios"])
    assert len(m["rules_sha256"]) == 64
    assert m["spec"]["key"] == spec["key"]
    assert sum(p["runs"]["rows"] for p in m["parts"].values()) == 28
    other = build_spec("alliance-2024", replications=1, seed=11)
    assert other["key"] != spec["key"]
    # the key names what a run is, not how many: replications and design points can grow
    more = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6, 8]}, replications=20, seed=11)
    assert more["key"] == spec["key"]


def test_parts_are_whole_parquet_files_and_nothing_else(monkeypatch, spec, tmp_path):
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "6")
    fixed_batches(monkeypatch, 3)
    execute(spec, backend="inprocess", out=tmp_path / "c")
    for table in ("runs", "turns"):
        names = sorted(p.name for p in (tmp_path / "c" / table).iterdir())
        assert names == [f"part-{k:06d}.parquet" for k in range(5)]  # 28 rows, flushed at 6+
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "lock", "manifest.json", "runs", "turns"]
    sizes = [pq.read_metadata(p).num_rows for p in sorted((tmp_path / "c" / "runs").iterdir())]
    assert sum(sizes) == 28


def test_a_part_is_written_aside_then_renamed(monkeypatch, spec, tmp_path):
    """While a part is written only complete part files are visible in runs/ and turns/; a
    write that dies midway leaves no part file (and its staging file is removed on resume)."""
    import engine.sweeps.store as store

    real = store._write_synced
    seen: list[Path] = []

    def watching(path, data):
        seen.append(Path(path))
        if Path(path).name != "manifest.json.tmp":
            assert Path(path).parent.name == "tmp"
            for part in Path(path).parent.parent.glob("*/part-*.parquet"):
                pq.read_metadata(part)  # every visible part is whole
            if len([p for p in seen if p.parent.name == "tmp"]) == 5:  # the third part's turns
                Path(path).write_bytes(data[: len(data) // 2])
                raise OSError("disk full")
        return real(path, data)

    monkeypatch.setattr(store, "_write_synced", watching)
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "4")
    fixed_batches(monkeypatch, 4)
    out = tmp_path / "w"
    with pytest.raises(OSError, match="disk full"):
        execute(spec, backend="inprocess", out=out)
    assert sorted(p.name for p in (out / "runs").glob("*")) == ["part-000000.parquet",
                                                                "part-000001.parquet"]
    assert [p.name for p in (out / "tmp").iterdir()] == [seen[-1].name]
    assert load_results(out).num_rows == 8
    monkeypatch.setattr(store, "_write_synced", real)
    execute(spec, backend="inprocess", out=out, resume=True)
    assert not (out / "tmp").exists(), "the stale staging file must be cleaned"
    assert load_results(out).num_rows == 28


class Counting:
    def __init__(self):
        self.started = None
        self.advanced = 0

    def start(self, todo, already):
        self.started = (todo, already)

    def advance(self, n):
        self.advanced += n


def test_resume_runs_only_what_is_not_on_disk(monkeypatch, spec, reference, tmp_path):
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "8")
    fixed_batches(monkeypatch, 8)
    out = tmp_path / "r"
    execute(spec, backend="inprocess", out=out)
    parts = sorted((out / "runs").glob("part-*.parquet"))
    lost = pq.read_table(parts[1], columns=["cell", "replication"]).to_pylist()
    parts[1].unlink()  # gone: its runs are redone (its turns part is cleaned)
    (out / "tmp").mkdir()
    (out / "tmp" / "runs-000009.4242.parquet").write_bytes(b"stale")

    real = engine.sweeps.worker.run
    calls: list[int] = []

    def counting(s, r, seed, *args, **kwargs):
        calls.append(seed)
        return real(s, r, seed, *args, **kwargs)

    monkeypatch.setattr(engine.sweeps.worker, "run", counting)
    progress = Counting()
    execute(spec, backend="inprocess", out=out, resume=True, progress=progress)
    assert progress.started == (len(lost), 28 - len(lost)) and progress.advanced == len(lost)
    assert sorted(calls) == sorted(run_seed(spec, r["cell"], r["replication"])
                                           for r in lost)
    assert not (out / "tmp").exists()
    t = load_results(out)
    assert_same(t, reference)
    assert len(set(t.column("run_id").to_pylist())) == 28

    calls.clear()
    execute(spec, backend="inprocess", out=out, resume=True)  # nothing left to do
    assert calls == []
    assert_same(load_results(out), reference)


def test_a_directory_of_another_sweep_is_refused(spec, tmp_path):
    out = tmp_path / "o"
    execute(spec, backend="inprocess", out=out)
    other = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=14,
                       seed=12)
    for resume in (False, True):
        with pytest.raises(EngineError) as e:
            execute(other, backend="inprocess", out=out, resume=resume)
        assert "holds a different sweep" in str(e.value) and "root_seed" in str(e.value)
    rules = build_spec("classroom-tutorial", vary={"rules.red_model.rationality": [1.0, 2.0]},
                       replications=14, seed=11)
    with pytest.raises(EngineError, match="must vary the same factors"):
        execute(rules, backend="inprocess", out=out, resume=True)


def test_a_rerun_into_a_directory_with_results_needs_resume(spec, reference, tmp_path):
    out = tmp_path / "x"
    execute(spec, backend="inprocess", out=out)
    with pytest.raises(EngineError, match="--resume"):
        execute(spec, backend="inprocess", out=out)
    assert_same(load_results(out), reference)


def test_an_unreadable_manifest_is_refused(spec, tmp_path):
    out = tmp_path / "bad"
    out.mkdir()
    (out / "manifest.json").write_text("{not json")
    with pytest.raises(EngineError, match="not a readable sweep manifest"):
        execute(spec, backend="inprocess", out=out, resume=True)
    with pytest.raises(EngineError, match="not a readable sweep manifest"):
        load_results(out)


def test_load_results_of_a_sweep_without_parts_is_an_empty_table(spec, tmp_path):
    out = tmp_path / "empty"
    execute(spec, backend="inprocess", out=out)
    for f in (out / "runs").iterdir():
        f.unlink()
    t = load_results(out)
    assert t.num_rows == 0 and t.schema.equals(
        engine.sweeps.columns.run_schema(spec["factors"]))


def test_a_bad_chunk_size_override_is_refused(monkeypatch, spec, tmp_path):
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "0")
    with pytest.raises(EngineError, match="WARGAME_SWEEP_CHUNK_ROWS"):
        execute(spec, backend="inprocess", out=tmp_path / "z")
    assert not (tmp_path / "z").exists(), "refused before anything is written"
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "many")
    with pytest.raises(EngineError, match="positive integer"):
        execute(spec, backend="inprocess")
    assert os.environ["WARGAME_SWEEP_CHUNK_ROWS"] == "many"
    monkeypatch.delenv("WARGAME_SWEEP_CHUNK_ROWS")
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_SECONDS", "-3")
    with pytest.raises(EngineError, match="WARGAME_SWEEP_CHUNK_SECONDS"):
        execute(spec, backend="inprocess", out=tmp_path / "z")
    monkeypatch.delenv("WARGAME_SWEEP_CHUNK_SECONDS")
    with pytest.raises(EngineError, match="--checkpoint"):
        execute(spec, backend="inprocess", checkpoint_rows=0)


# ---- worker processes that die ---------------------------------------------------------------

class KillsAWorker:
    """A progress display that, after the sweep's first batch, SIGKILLs one of its pool's
    workers (a process spawned since the sweep started, running multiprocessing's spawn_main)."""

    def __init__(self) -> None:
        import psutil

        self.me, self.before, self.killed = psutil.Process(), set(), None

    def start(self, total: int, on_disk: int) -> None:
        self.before = {p.pid for p in self.me.children(recursive=True)}

    def advance(self, n: int) -> None:
        if self.killed is None:
            new = [p for p in self.me.children() if p.pid not in self.before
                   and "spawn_main" in " ".join(p.cmdline())]
            self.killed = new[0].pid
            new[0].kill()

    def stop(self) -> None:
        pass


def test_a_worker_that_dies_is_a_clear_error_and_the_finished_runs_are_kept(
        monkeypatch, spec, reference, tmp_path):
    pytest.importorskip("psutil")
    fixed_batches(monkeypatch, 2)
    killer = KillsAWorker()
    with pytest.raises(EngineError, match="a worker process died") as caught:
        execute(spec, backend="process", workers=2, out=tmp_path / "k", progress=killer,
                checkpoint_rows=2)  # a part per batch of 2
    assert killer.killed is not None
    message = str(caught.value)
    assert message.startswith("sweep: --backend process: a worker process died (")
    assert 'if __name__ == "__main__":' in message and "\n" not in message
    assert caught.value.__suppress_context__, "no BrokenProcessPool chained to the error"
    kept = load_results(tmp_path / "k")
    assert kept.num_rows >= 2, "the batches finished before the death are written"
    ids = pa.compute.is_in(reference.column("run_id"), value_set=kept.column("run_id"))
    assert_same(kept, reference.filter(ids))
    execute(spec, backend="inprocess", out=tmp_path / "k", resume=True)
    assert_same(load_results(tmp_path / "k"), reference)


SCRIPT = """import engine

table = engine.sweep("classroom-tutorial", replications=2, seed=4, workers=2, progress=False)
print("rows", table.num_rows)
"""


def test_a_script_without_a_main_guard_is_told_to_add_one(tmp_path):
    """Spawned workers import the main script again: a sweep started at import is refused in
    each worker, and the sweep itself ends on one clear error, not a BrokenProcessPool."""
    import subprocess
    import sys
    import textwrap

    (tmp_path / "bare.py").write_text(SCRIPT)
    (tmp_path / "guarded.py").write_text('if __name__ == "__main__":\n'
                                         + textwrap.indent(SCRIPT, "    "))

    def python(script: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, script], capture_output=True, text=True,
                              cwd=tmp_path, timeout=180, check=False)

    bare = python("bare.py")
    assert bare.returncode == 1 and "rows" not in bare.stdout, bare.stderr
    assert "BrokenProcessPool" not in bare.stderr and "RuntimeError" not in bare.stderr
    assert ("a sweep was started while a worker process was importing the main script: put "
            'the call under `if __name__ == "__main__":`') in bare.stderr
    last = bare.stderr.strip().splitlines()[-1]
    assert last.startswith("engine.errors.EngineError: sweep: --backend process: a worker "
                           "process died"), bare.stderr
    assert 'if __name__ == "__main__":' in last
    guarded = python("guarded.py")
    assert guarded.returncode == 0, guarded.stderr
    assert guarded.stdout == "rows 2\n"


# ---- bigger versions ------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seeding", ["crn", "independent"])
def test_larger_sweep_is_identical_on_every_backend(monkeypatch, tmp_path, dask_scheduler,
                                                   seeding):
    big = build_spec(["classroom-tutorial", "alliance-2024"], vary={AIRCRAFT: [2, 6]},
                     replications=150, seed=21, seeding=seeding)
    ref = execute(big, backend="inprocess")
    assert ref.num_rows == 600 and ref.column("error").null_count == 600
    assert_same(execute(big, backend="process", workers=1), ref)
    assert_same(execute(big, backend="process", workers=2), ref)
    assert_same(execute(big, backend="dask", scheduler=dask_scheduler), ref)
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "37")
    fixed_batches(monkeypatch, 11)
    execute(big, backend="process", workers=2, out=tmp_path / "big")
    assert_same(load_results(tmp_path / "big"), ref)


def test_batches_grow_to_about_0_4_s_of_work_but_never_past_the_checkpoint_rows():
    from engine.sweeps.runner import Sizer

    free, capped = Sizer(), Sizer(40)
    assert free.size == capped.size == 2  # nothing timed yet
    for sizer in (free, capped):
        sizer.update(10, 0.01)  # 1 ms a run: 400 runs make 0.4 s
    assert free.size == 400
    assert capped.size == 40  # a part every 40 rows needs batches of 40 at most
