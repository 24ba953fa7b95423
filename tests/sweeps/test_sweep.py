"""Monte Carlo sweeps: the API, seeds (runs reproducible alone, common random numbers or
independent streams), identical results whatever the workers, batch sizes or backend (in this
process, a spawned process pool, Dask), errors recorded per run, and the chunked Parquet store
with its manifest, atomic chunk writes, resume and refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import engine
import engine.sweeps.runner
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
    assert t.column_names == ["run_id", "cell", "replication", "scenario", f"p:{AIRCRAFT}",
                              *MEASURES, "error"]
    rows = t.to_pylist()
    assert [(r["cell"], r["replication"]) for r in rows] == [
        (c, i) for c in range(3) for i in range(5)]
    assert [r["run_id"] for r in rows[:6]] == ["0-0", "0-1", "0-2", "0-3", "0-4", "1-0"]
    assert {r[f"p:{AIRCRAFT}"] for r in rows if r["cell"] == 2} == {6}
    assert t.schema.field(f"p:{AIRCRAFT}").type == pa.int64()
    assert all(r["error"] is None and r["scenario"] == "classroom-tutorial" for r in rows)


def test_sweep_lhs_design_and_several_scenarios():
    t = sweep(["classroom-tutorial", "classroom-tutorial"], design="lhs",
              ranges={"blue.isr.mq9.availability": (0.5, 0.95)}, samples=3, replications=2,
              seed=1, backend="inprocess", progress=False)
    assert t.num_rows == 2 * 3 * 2
    assert t.schema.field("p:blue.isr.mq9.availability").type == pa.float64()
    values = t.column("p:blue.isr.mq9.availability").to_pylist()
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

def test_any_run_is_reproducible_alone(spec, reference):
    base, rules = load_pair("classroom-tutorial")
    rows = reference.to_pylist()
    for row in (rows[0], rows[5], rows[17], rows[-1]):
        c, i = row["cell"], row["replication"]
        s = with_values(base, spec["cells"][c]["values"])
        outcome = run(s, rules, run_seed(spec, c, i)).outcome
        assert {k: row[k] for k in MEASURES} == outcome


def test_common_random_numbers_share_seeds_across_cells(spec):
    assert spec["seeding"] == "crn"
    for c in range(2):
        for i in (0, 3, 13):
            seq = run_seed(spec, c, i)
            assert seq.spawn_key == (i,) and seq.entropy == 11
    assert (run_seed(spec, 0, 4).generate_state(4)
            == run_seed(spec, 1, 4).generate_state(4)).all()


def test_independent_seeding_uses_cell_and_replication():
    ind = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=3, seed=11,
                     seeding="independent")
    assert run_seed(ind, 1, 2).spawn_key == (1, 2)
    assert run_seed(ind, 0, 2).spawn_key == (0, 2)
    assert not np.array_equal(run_seed(ind, 0, 2).generate_state(4),
                              run_seed(ind, 1, 2).generate_state(4))
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
    real = engine.sweeps.runner.run

    def flaky(s, r, seed, *args, **kwargs):
        if seed.spawn_key == (5,):
            raise RuntimeError("the umpire fell ill")
        return real(s, r, seed, *args, **kwargs)

    monkeypatch.setattr(engine.sweeps.runner, "run", flaky)
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


# ---- storage --------------------------------------------------------------------------------

def test_manifest_names_the_sweep(spec, tmp_path):
    execute(spec, backend="inprocess", out=tmp_path / "m")
    m = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert m == read_manifest(tmp_path / "m")
    assert m["format"] == "wargame-sweep/1" and m["engine"] == engine.__version__
    assert m["root_seed"] == 11 and m["replications"] == 14 and m["cells"] == 2
    assert m["seeding"] == "crn" and m["key"] == spec["key"]
    assert m["design"] == {"kind": "grid", "vary": {AIRCRAFT: [2, 6]}}
    assert [s["id"] for s in m["scenarios"]] == ["classroom-tutorial"]
    assert all(len(s["sha256"]) == 64 for s in m["scenarios"])
    assert len(m["rules_sha256"]) == 64
    assert m["spec"]["key"] == spec["key"]
    other = build_spec("alliance-2024", replications=1, seed=11)
    assert other["key"] != spec["key"]


def test_chunks_are_whole_parquet_files_and_nothing_else(monkeypatch, spec, tmp_path):
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "6")
    fixed_batches(monkeypatch, 3)
    execute(spec, backend="inprocess", out=tmp_path / "c")
    names = sorted(p.name for p in (tmp_path / "c" / "chunks").iterdir())
    assert len(names) == 5  # 28 rows, flushed at 6 or more
    assert names == [f"part-{k:06d}.parquet" for k in range(5)]
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["chunks", "manifest.json"]
    sizes = [pq.read_metadata(tmp_path / "c" / "chunks" / n).num_rows for n in names]
    assert sum(sizes) == 28


def test_a_chunk_is_written_under_a_temporary_name_then_renamed(monkeypatch, spec, tmp_path):
    """While a chunk is written only complete part files are visible; a write that dies
    midway leaves no part file (and its temporary file is removed on resume)."""
    real_write = pq.write_table
    seen: list[str] = []

    def watching(table, where, *args, **kwargs):
        where = Path(where)
        seen.append(where.name)
        assert where.name.startswith(".") and where.name.endswith(".tmp")
        for part in where.parent.glob("part-*.parquet"):
            pq.read_metadata(part)  # every visible part is whole
        if len(seen) == 3:
            with where.open("wb") as fh:
                fh.write(b"PAR1 half a chunk")
            raise OSError("disk full")
        return real_write(table, where, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", watching)
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "4")
    fixed_batches(monkeypatch, 4)
    out = tmp_path / "w"
    with pytest.raises(OSError, match="disk full"):
        execute(spec, backend="inprocess", out=out)
    chunks = out / "chunks"
    assert sorted(p.name for p in chunks.glob("part-*")) == ["part-000000.parquet",
                                                             "part-000001.parquet"]
    assert [p.name for p in chunks.glob(".*.tmp")] == [seen[2]]
    assert load_results(out).num_rows == 8
    monkeypatch.setattr(pq, "write_table", real_write)
    execute(spec, backend="inprocess", out=out, resume=True)
    assert not list(chunks.glob(".*")), "the stale temporary chunk must be cleaned"
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
    chunks = sorted((out / "chunks").glob("part-*.parquet"))
    lost = pq.read_table(chunks[1], columns=["cell", "replication"]).to_pylist()
    chunks[1].unlink()
    (out / "chunks" / ".part-000009.parquet.4242.tmp").write_bytes(b"stale")

    real = engine.sweeps.runner.run
    calls: list[tuple[int, ...]] = []

    def counting(s, r, seed, *args, **kwargs):
        calls.append(seed.spawn_key)
        return real(s, r, seed, *args, **kwargs)

    monkeypatch.setattr(engine.sweeps.runner, "run", counting)
    progress = Counting()
    execute(spec, backend="inprocess", out=out, resume=True, progress=progress)
    assert progress.started == (len(lost), 28 - len(lost)) and progress.advanced == len(lost)
    assert sorted(calls) == sorted((r["replication"],) for r in lost)
    assert not list((out / "chunks").glob(".*"))
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
    more = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=15,
                      seed=11)
    with pytest.raises(EngineError, match="replications"):
        execute(more, backend="inprocess", out=out, resume=True)


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
    with pytest.raises(EngineError, match="cannot read the manifest"):
        load_results(out)


def test_load_results_of_a_sweep_without_chunks_is_an_empty_table(spec, tmp_path):
    out = tmp_path / "empty"
    execute(spec, backend="inprocess", out=out)
    for f in (out / "chunks").iterdir():
        f.unlink()
    t = load_results(out)
    assert t.num_rows == 0 and t.schema.equals(engine.sweeps.runner.row_schema(spec))


def test_a_bad_chunk_size_override_is_refused(monkeypatch, spec, tmp_path):
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "0")
    with pytest.raises(EngineError, match="WARGAME_SWEEP_CHUNK_ROWS"):
        execute(spec, backend="inprocess", out=tmp_path / "z")
    assert not (tmp_path / "z").exists(), "refused before anything is written"
    monkeypatch.setenv("WARGAME_SWEEP_CHUNK_ROWS", "many")
    with pytest.raises(EngineError, match="positive integer"):
        execute(spec, backend="inprocess")
    assert os.environ["WARGAME_SWEEP_CHUNK_ROWS"] == "many"


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
