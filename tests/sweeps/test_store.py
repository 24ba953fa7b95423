"""The sweep folder: tables every tool reads (pandas, pyarrow.dataset, polars, DuckDB) with
stable types and a data dictionary; the lock against a second writer; damaged parts detected,
moved aside and redone; checkpoints by time; extension with more replications or design points,
equal to a sweep run at the larger size from the start; old and foreign folders refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import engine.sweeps.runner
import engine.sweeps.worker
from engine import EngineError
from engine.io.schemas import json_schema
from engine.sweeps.columns import factor_names, run_schema, turn_schema
from engine.sweeps.runner import build_spec, execute, load_results, load_turns
from engine.sweeps.store import open_store

AIRCRAFT = "blue.isr.mq9.aircraft"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def same(a: pa.Table, b: pa.Table) -> None:
    assert a.schema.equals(b.schema, check_metadata=True), (a.schema, b.schema)
    assert a.equals(b)


def spec_of(cells=(2, 6), runs=12, seeding="crn", **kw):
    return build_spec("classroom-tutorial", vary={AIRCRAFT: list(cells)}, replications=runs,
                      seed=5, seeding=seeding, **kw)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A finished sweep with a grid over a scenario int, a rules float and a list factor."""
    out = tmp_path_factory.mktemp("store") / "s"
    spec = build_spec("classroom-tutorial", vary={
        AIRCRAFT: [2, 6], "rules.red_model.rationality": [1, 3.5],
        "treaty.article5_domains": [["land_sea_air"], ["land_sea_air", "cyber", "space"]]},
        replications=6, seed=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.sweeps.runner, "batch_size", lambda *a, **k: 5)
        execute(spec, backend="inprocess", out=out, checkpoint_rows=10)
    return out


# ---- every tool reads the tables ----------------------------------------------------------

def test_pandas_pyarrow_polars_and_duckdb_read_the_tables(folder):
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow.dataset as ds

    runs, turns = load_results(folder), load_turns(folder)
    assert runs.num_rows == 8 * 6 and turns.num_rows == sum(runs.column("turns_played")
                                                            .to_pylist())
    for table, want in (("runs", runs), ("turns", turns)):
        path = folder / table
        assert len(list(path.iterdir())) > 1, "several parts"
        key = ["cell", "replication"] + (["turn"] if table == "turns" else [])
        by_pandas = pd.read_parquet(path).sort_values(key).reset_index(drop=True)
        assert by_pandas.shape == (want.num_rows, want.num_columns)
        assert by_pandas.equals(want.to_pandas())
        assert ds.dataset(path).to_table().sort_by([(k, "ascending") for k in key]).equals(
            want)
        by_polars = pl.scan_parquet(path).sort(key).collect()
        assert by_polars.equals(pl.from_arrow(want))
        n, cells = duckdb.sql(f"select count(*), count(distinct cell) from "
                              f"read_parquet('{path}/*.parquet')").fetchall()[0]
        assert (n, cells) == (want.num_rows, 8)
        assert all(NAME.match(c) for c in want.column_names), want.column_names


def test_integers_stay_integers_with_nulls_in_every_tool(folder):
    import pandas as pd
    import polars as pl

    runs = load_results(folder)
    assert runs.column("failure_turn").null_count > 0, "some runs held: nulls to keep"
    frame = pd.read_parquet(folder / "runs")
    for column in ("failure_turn", "known_turn", "cell", "seed", "blue_isr_mq9_aircraft",
                   "blue_scripted_turns"):
        assert str(frame[column].dtype) == "Int64", (column, frame[column].dtype)
    assert str(frame["deterrence_held"].dtype) == "boolean"
    assert pl.read_parquet(folder / "runs")["failure_turn"].dtype == pl.Int64
    assert str(pd.read_parquet(folder / "turns")["level"].dtype) == "Int64"


def test_factor_columns_follow_the_naming_rule_with_stable_types(folder):
    schema = load_results(folder).schema
    assert schema.field("blue_isr_mq9_aircraft").type == pa.int64()
    # a float field given the integer 1 is still a float column
    assert schema.field("rules_red_model_rationality").type == pa.float64()
    assert schema.field("treaty_article5_domains").type == pa.string()
    t = load_results(folder)
    assert set(t.column("rules_red_model_rationality").to_pylist()) == {1.0, 3.5}
    assert set(t.column("treaty_article5_domains").to_pylist()) == {
        '["land_sea_air"]', '["land_sea_air","cyber","space"]'}
    meta = {f.name: f.metadata for f in schema}
    assert meta["rules_red_model_rationality"][b"path"] == b"rules.red_model.rationality"
    assert meta["treaty_article5_domains"][b"path"] == b"scenario.treaty.article5_domains"


def test_the_naming_rule():
    names = factor_names(["blue.isr.mq9.aircraft", "scenario.red.groups.0.ships",
                          "rules.red_model.rationality", "seed", "rules.x-y", "error"])
    assert names == {"blue.isr.mq9.aircraft": "blue_isr_mq9_aircraft",
                     "scenario.red.groups.0.ships": "red_groups_0_ships",
                     "rules.red_model.rationality": "rules_red_model_rationality",
                     "seed": "factor_seed", "rules.x-y": "rules_x_y",
                     "error": "factor_error"}


def test_every_column_is_in_the_data_dictionary_and_in_the_parquet_metadata(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    mine = json.loads(json_schema("sweep", str(folder)))
    generic = json.loads(json_schema("sweep"))
    assert mine["format"] == generic["format"] == "wargame-sweep/2"
    for table, loaded in (("runs", load_results(folder)), ("turns", load_turns(folder))):
        entries = {c["name"]: c for c in mine[table]["columns"]}
        assert list(entries) == loaded.column_names
        for f in loaded.schema:
            assert f.metadata[b"description"].decode() == entries[f.name]["description"]
            assert entries[f.name]["description"] and entries[f.name]["type"] == str(f.type)
        on_disk = pq.read_schema(next((folder / table).iterdir()))
        assert on_disk.metadata[b"wargame.table"] == table.encode()
        assert all(f.metadata and b"description" in f.metadata for f in on_disk)
    factors = {c["name"]: c["path"] for c in mine["runs"]["columns"] if "path" in c}
    assert factors == {n: f"scenario.{p}" if not p.startswith("rules.") else p
                       for n, p in manifest["columns"].items()}
    assert not any("path" in c for c in generic["runs"]["columns"])
    assert "factor_columns" in generic and "runs/" in generic["layout"]


KEYS = {"runs": {"run_id", "cell", "replication", "seed", "scenario", "blue_controller",
                 "red_controller"},
        "turns": {"run_id", "cell", "replication", "turn"}}


def test_identity_columns_are_never_null_in_the_dictionary_and_in_parquet(folder):
    mine = json.loads(json_schema("sweep", str(folder)))
    generic = json.loads(json_schema("sweep"))
    for table, loaded in (("runs", load_results(folder)), ("turns", load_turns(folder))):
        for dictionary in (mine, generic):
            entries = {c["name"]: c["nullable"] for c in dictionary[table]["columns"]}
            assert {n for n, nullable in entries.items() if nullable is False} == KEYS[table]
            assert all(v is True for n, v in entries.items() if n not in KEYS[table])
        entries = {c["name"]: c["nullable"] for c in mine[table]["columns"]}
        for part in (folder / table).iterdir():  # REQUIRED Parquet fields
            assert {f.name: f.nullable for f in pq.read_schema(part)} == entries
        assert {f.name: f.nullable for f in loaded.schema} == entries
        assert all(loaded.column(n).null_count == 0 for n in KEYS[table])


# ---- one writer ---------------------------------------------------------------------------

def test_a_folder_is_locked_against_a_second_writer(tmp_path):
    spec = spec_of()
    store, _, _ = open_store(tmp_path / "l", spec, resume=False)
    try:
        with pytest.raises(EngineError, match="in use by another sweep"):
            open_store(tmp_path / "l", spec, resume=True)
        with pytest.raises(EngineError, match="in use by another sweep"):
            execute(spec, backend="inprocess", out=tmp_path / "l", resume=True)
    finally:
        store.close()
    execute(spec, backend="inprocess", out=tmp_path / "l", resume=True)
    assert load_results(tmp_path / "l").num_rows == 24


def test_a_folder_that_is_not_a_sweep_is_refused(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("mine")
    with pytest.raises(EngineError, match="not empty and holds no sweep"):
        execute(spec_of(), backend="inprocess", out=tmp_path / "notes")
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["thesis.tex"]


def test_an_old_format_folder_is_refused_with_a_clear_message(tmp_path):
    old = tmp_path / "old"
    (old / "chunks").mkdir(parents=True)
    (old / "manifest.json").write_text(json.dumps({"format": "wargame-sweep/1", "key": "x"}))
    for call in (lambda: execute(spec_of(), backend="inprocess", out=old, resume=True),
                 lambda: load_results(old)):
        with pytest.raises(EngineError, match="holds a wargame-sweep/1 sweep; this version "
                                              "reads and writes wargame-sweep/2"):
            call()
    assert sorted(p.name for p in old.iterdir()) == ["chunks", "manifest.json"], "untouched"


# ---- damaged parts ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference():
    return execute(spec_of(), backend="inprocess")


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(engine.sweeps.runner, "batch_size", lambda *a, **k: 4)


def _written(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    execute(spec_of(), backend="inprocess", out=out, checkpoint_rows=8)
    return out


@pytest.mark.parametrize("damage", ["truncated runs", "corrupt turns", "missing turns"])
def test_a_damaged_part_is_detected_moved_aside_and_redone(tmp_path, reference, damage,
                                                          small_batches):
    out = _written(tmp_path, "d")
    table, how = {"truncated runs": ("runs", "cut"), "corrupt turns": ("turns", "flip"),
                  "missing turns": ("turns", "delete")}[damage]
    part = sorted((out / table).iterdir())[1]
    data = part.read_bytes()
    if how == "cut":
        part.write_bytes(data[: len(data) // 2])
    elif how == "flip":
        part.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    else:
        part.unlink()
    said: list[str] = []
    execute(spec_of(), backend="inprocess", out=out, resume=True, say=said.append)
    assert len(said) == 1 and "part 000001 is damaged" in said[0] and "redone" in said[0]
    assert sorted(p.name for p in (out / "damaged").iterdir()) == (
        ["runs-part-000001.0.parquet"] if how == "delete" else
        ["runs-part-000001.0.parquet", "turns-part-000001.0.parquet"])
    same(load_results(out), reference)
    turns = load_turns(out)
    assert turns.num_rows == sum(reference.column("turns_played").to_pylist())


def test_a_part_written_but_not_yet_recorded_is_adopted(tmp_path, reference, monkeypatch,
                                                        small_batches):
    """The sweep died between renaming a part into place and recording it in the manifest:
    the part is whole, so it is kept and its runs are not run again."""
    out = _written(tmp_path, "u")
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["parts"]["000002"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "turns" / "part-000099.parquet").write_bytes(b"an orphan of a killed write")
    calls = []
    real = engine.sweeps.worker.run
    monkeypatch.setattr(engine.sweeps.worker, "run",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    said: list[str] = []
    execute(spec_of(), backend="inprocess", out=out, resume=True, say=said.append)
    assert calls == [] and said == []
    assert "000002" in json.loads((out / "manifest.json").read_text())["parts"]
    assert not (out / "turns" / "part-000099.parquet").exists()
    same(load_results(out), reference)


# ---- checkpoints ----------------------------------------------------------------------------

def test_rows_reach_disk_by_time_as_well_as_by_count(tmp_path, small_batches):
    out = tmp_path / "t"
    execute(spec_of(), backend="inprocess", out=out, checkpoint_rows=10**6,
            checkpoint_seconds=1e-6)
    assert len(list((out / "runs").iterdir())) == 24 // 4, "a part per batch"
    execute(spec_of(), backend="inprocess", out=tmp_path / "n", checkpoint_rows=10**6,
            checkpoint_seconds=3600)
    assert len(list((tmp_path / "n" / "runs").iterdir())) == 1


# ---- extension ------------------------------------------------------------------------------

@pytest.mark.parametrize("seeding", ["crn", "independent"])
def test_more_replications_equal_a_sweep_that_large_from_the_start(tmp_path, seeding):
    out = tmp_path / "r"
    execute(spec_of(runs=7, seeding=seeding), backend="inprocess", out=out)
    said: list[str] = []
    execute(spec_of(runs=12, seeding=seeding), backend="inprocess", out=out, resume=True,
            say=said.append)
    assert said == [f"extending the sweep in {out}: replications 7 -> 12"]
    execute(spec_of(runs=12, seeding=seeding), backend="inprocess", out=tmp_path / "w")
    same(load_results(out), load_results(tmp_path / "w"))
    same(load_turns(out), load_turns(tmp_path / "w"))
    assert json.loads((out / "manifest.json").read_text())["replications"] == 12
    # fewer replications asked: nothing is removed, nothing runs
    execute(spec_of(runs=3, seeding=seeding), backend="inprocess", out=out, resume=True)
    assert load_results(out).num_rows == 24


@pytest.mark.parametrize("seeding", ["crn", "independent"])
def test_more_design_points_are_appended_and_equal_a_sweep_with_them_from_the_start(
        tmp_path, seeding):
    out = tmp_path / "p"
    execute(spec_of(cells=(2, 6), seeding=seeding), backend="inprocess", out=out)
    said: list[str] = []
    execute(spec_of(cells=(2, 4, 6, 8), seeding=seeding), backend="inprocess", out=out,
            resume=True, say=said.append)
    assert said == [f"extending the sweep in {out}: 2 new cells (2-3)"]
    got = load_results(out)
    m = json.loads((out / "manifest.json").read_text())
    assert [c["values"][AIRCRAFT] for c in m["spec"]["cells"]] == [2, 6, 4, 8]
    assert m["designs"] == [{"design": {"kind": "grid", "vary": {AIRCRAFT: [2, 4, 6, 8]}},
                             "cells": [2, 4]}]
    fresh = execute(spec_of(cells=(2, 4, 6, 8), seeding=seeding), backend="inprocess")

    def by_point(t: pa.Table) -> dict:
        keep = [c for c in t.column_names if c not in ("cell", "run_id")]
        return {(r["blue_isr_mq9_aircraft"], r["replication"]): {k: r[k] for k in keep}
                for r in t.to_pylist()}

    assert by_point(got) == by_point(fresh)
    assert got.schema.equals(fresh.schema, check_metadata=True)


def test_an_extension_must_keep_the_factors(tmp_path):
    out = tmp_path / "f"
    execute(spec_of(), backend="inprocess", out=out)
    other = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6],
                                                   "blue.isr.mq9.availability": [0.5]},
                       replications=12, seed=5)
    with pytest.raises(EngineError, match="an extension must vary the same factors"):
        execute(other, backend="inprocess", out=out, resume=True)


def test_schemas_without_metadata_match_the_full_ones():
    spec = spec_of()
    full, bare = run_schema(spec["factors"]), run_schema(spec["factors"], metadata=False)
    assert [(f.name, f.type, f.nullable) for f in full] == [
        (f.name, f.type, f.nullable) for f in bare]
    assert [(f.name, f.type, f.nullable) for f in turn_schema()] == [
        (f.name, f.type, f.nullable) for f in turn_schema(metadata=False)]


def test_wargame_schema_sweep_prints_the_data_dictionary(folder):
    from typer.testing import CliRunner

    from engine.cli.main import app

    res = CliRunner().invoke(app, ["schema", "sweep"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == json.loads(json_schema("sweep"))
    res = CliRunner().invoke(app, ["schema", "sweep", str(folder)])
    assert res.exit_code == 0, res.output
    columns = [c["name"] for c in json.loads(res.output)["runs"]["columns"]]
    assert "rules_red_model_rationality" in columns
