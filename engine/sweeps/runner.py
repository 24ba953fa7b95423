"""Monte Carlo sweeps: a design of cells times replications, run in batches on a backend, results
streamed to chunked Parquet with a manifest, resumable after any interruption.

Seeds. With common random numbers (the default) run i of *every* cell draws from
``SeedSequence(root, spawn_key=(i,))``: the same named unit meets the same weather, maintenance
and message-loss draws in every posture, so differences between cells come from the postures, not
from luck. With ``seeding="independent"`` run i of cell c draws from ``spawn_key=(c, i)``. Either
way any run can be reproduced alone, and results do not depend on worker count, batch size or
backend, because a run's numbers depend only on its seed.

Storage. ``DIR/manifest.json`` names the sweep (scenario and rules hashes, design, root seed,
engine version) and embeds its full specification; ``DIR/chunks/part-NNNNNN.parquet`` hold rows,
each written to a temporary name and renamed, so a chunk is either whole or absent. ``resume``
skips every run already in a chunk; a directory whose manifest differs is refused.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engine import __version__
from engine.canonical import canonical, sha256_of
from engine.errors import EngineError, Problem
from engine.sim.controllers import Scripted
from engine.sim.kernel import run
from engine.sim.state import MeasuresOnly
from engine.spec.order import Order
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario, with_values
from engine.sweeps.design import Cell, cells, grid, latin_hypercube

MANIFEST = "manifest.json"
SWEEP_FORMAT = "wargame-sweep/1"
CHUNK_ROWS = 5000

OUTCOME_FIELDS: list[tuple[str, pa.DataType]] = [
    ("deterrence_held", pa.bool_()), ("failure_turn", pa.int64()), ("known_turn", pa.int64()),
    ("article5_turn", pa.int64()), ("highest_rung", pa.string()),
    ("highest_level", pa.int64()), ("turns_played", pa.int64()),
    ("red_gains", pa.float64()), ("red_losses", pa.float64()), ("blue_losses", pa.float64()),
    ("incursions", pa.int64()), ("incursions_detected", pa.int64()),
    ("mean_time_to_detect_h", pa.float64()), ("detections", pa.int64()),
    ("c2_messages", pa.int64()), ("c2_mean_latency_h", pa.float64()),
    ("c2_delivery_rate", pa.float64()),
]


# ---- the specification a worker needs --------------------------------------------------------

def make_spec(scenarios: list[Scenario], rules: Rules, design: list[Cell], replications: int,
              root: int, seeding: str, blue_orders: dict[int, list[dict]] | None,
              design_info: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready description of the whole sweep; its hash names the sweep."""
    if seeding not in ("crn", "independent"):
        raise _bad("seeding", f"expected crn or independent, found '{seeding}'")
    spec = {
        "engine": __version__, "root": int(root), "seeding": seeding,
        "replications": int(replications),
        "scenarios": [s.model_dump(mode="json") for s in scenarios],
        "rules": rules.model_dump(mode="json"),
        "cells": [{"index": c.index, "scenario": c.scenario, "values": c.values}
                  for c in design],
        "blue_orders": {str(k): v for k, v in sorted((blue_orders or {}).items())} or None,
        "design": design_info,
    }
    spec["key"] = sha256_of(spec)
    return spec


def _canonical(obj: Any) -> str:
    """The one canonical JSON form (the log header hashes its scenario and rules the same way,
    so a scenario's hash in the manifest is the one in each of the sweep's logs)."""
    return canonical(obj)


def run_seed(spec: dict[str, Any], cell: int, rep: int) -> np.random.SeedSequence:
    key = (rep,) if spec["seeding"] == "crn" else (cell, rep)
    return np.random.SeedSequence(spec["root"], spawn_key=key)


def run_id(cell: int, rep: int) -> str:
    return f"{cell}-{rep}"


def parse_run_id(text: str) -> tuple[int, int]:
    cell, sep, rep = text.partition("-")
    if not (sep and cell.isdigit() and rep.isdigit()):
        raise _bad("--run", f"expected a run id CELL-REPLICATION such as 3-17, found '{text}'")
    return int(cell), int(rep)


# ---- the worker side -------------------------------------------------------------------------

# Each worker process validates a cell's scenario once per sweep, not once per run.
_MODELS: dict[tuple[str, int], tuple[Scenario, Rules, dict[str, Any]]] = {}


def cell_models(spec: dict[str, Any], cell: int) -> tuple[Scenario, Rules, dict[str, Any]]:
    """The cell's scenario and rules, and its controllers, built once per worker."""
    key = (spec["key"], cell)
    if key not in _MODELS:
        c = spec["cells"][cell]
        base = Scenario.model_validate(spec["scenarios"][c["scenario"]])
        controllers = {}
        if spec.get("blue_orders"):
            orders = {int(t): [Order.from_json(o) for o in v]
                      for t, v in spec["blue_orders"].items()}
            controllers["blue"] = Scripted(orders, name="recorded")
        _MODELS[key] = (with_values(base, c["values"]), Rules.model_validate(spec["rules"]),
                        controllers)
    return _MODELS[key]


def run_batch(spec_json: str, items: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Run (cell, replication) pairs; a run that raises records its error and the batch goes
    on."""
    spec = json.loads(spec_json)
    rows = []
    for cell, rep in items:
        s, r, controllers = cell_models(spec, cell)
        row = base_row(spec, cell, rep)
        try:
            row.update(run(s, r, run_seed(spec, cell, rep), controllers or None,
                           MeasuresOnly()).outcome)
        except Exception as e:
            row["error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    return rows


def base_row(spec: dict[str, Any], cell: int, rep: int) -> dict[str, Any]:
    c = spec["cells"][cell]
    scenario = spec["scenarios"][c["scenario"]]["meta"]["id"]
    return {"run_id": run_id(cell, rep), "cell": cell, "replication": rep,
            "scenario": scenario, **{f"p:{k}": v for k, v in c["values"].items()},
            "error": None}


def row_schema(spec: dict[str, Any]) -> pa.Schema:
    """Columns: ids, one per varied path (``p:PATH``), the outcome measures, and any error."""
    fields = [("run_id", pa.string()), ("cell", pa.int64()), ("replication", pa.int64()),
              ("scenario", pa.string())]
    for path in sorted({p for c in spec["cells"] for p in c["values"]}):
        values = [c["values"][path] for c in spec["cells"] if path in c["values"]]
        fields.append((f"p:{path}", _arrow_type(values)))
    fields += [*OUTCOME_FIELDS, ("error", pa.string())]
    return pa.schema(fields)


def _arrow_type(values: list[Any]) -> pa.DataType:
    if all(isinstance(v, bool) for v in values):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pa.float64()
    return pa.string()


# ---- storage ---------------------------------------------------------------------------------

@dataclass
class Store:
    """A sweep directory: manifest plus atomically written chunks."""

    root: Path
    schema: pa.Schema

    @property
    def chunks(self) -> Path:
        return self.root / "chunks"

    def chunk_files(self) -> list[Path]:
        return sorted(self.chunks.glob("part-*.parquet")) if self.chunks.exists() else []

    def done(self) -> set[tuple[int, int]]:
        """(cell, replication) of every run already on disk."""
        seen: set[tuple[int, int]] = set()
        for f in self.chunk_files():
            t = pq.read_table(f, columns=["cell", "replication"])
            seen.update(zip(t.column("cell").to_pylist(), t.column("replication").to_pylist(),
                            strict=True))
        return seen

    def write(self, rows: list[dict[str, Any]]) -> Path:
        """Write one chunk: sorted rows to a temporary file, then an atomic rename."""
        self.chunks.mkdir(parents=True, exist_ok=True)
        rows = sorted(rows, key=lambda r: (r["cell"], r["replication"]))
        table = pa.Table.from_pylist(rows, self.schema)
        number = len(self.chunk_files())
        final = self.chunks / f"part-{number:06d}.parquet"
        while final.exists():
            number += 1
            final = self.chunks / f"part-{number:06d}.parquet"
        tmp = self.chunks / f".{final.name}.{os.getpid()}.tmp"
        pq.write_table(table, tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        return final


def prepare_store(out: Path, spec: dict[str, Any], resume: bool) -> Store:
    """Create or reopen a sweep directory, refusing one that holds a different sweep."""
    store = Store(Path(out), row_schema(spec))
    manifest_path = store.root / MANIFEST
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text())
        except (OSError, json.JSONDecodeError):
            raise _bad("--out", f"{manifest_path} is not a readable sweep manifest") from None
        if old.get("key") != spec["key"]:
            raise _bad("--out", f"{out} holds a different sweep ({_differences(old, spec)}); "
                                "choose another --out or remove it")
        if not resume and store.chunk_files():
            raise _bad("--out", f"{out} already holds results of this sweep; add --resume to "
                                "continue it, or choose another --out")
    else:
        store.root.mkdir(parents=True, exist_ok=True)
        _write_manifest(manifest_path, spec)
    for stale in store.chunks.glob(".*.tmp") if store.chunks.exists() else ():
        stale.unlink()  # a chunk being written when the sweep was killed
    return store


def _differences(old: dict[str, Any], spec: dict[str, Any]) -> str:
    m = manifest_of(spec)
    keys = [k for k in ("scenarios", "rules_sha256", "design", "root_seed", "replications",
                        "seeding", "engine") if old.get(k) != m.get(k)]
    return "differs in " + ", ".join(keys) if keys else "a different specification"


def manifest_of(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": SWEEP_FORMAT, "key": spec["key"], "engine": spec["engine"],
        "scenarios": [{"id": s["meta"]["id"], "sha256": _sha(s)} for s in spec["scenarios"]],
        "rules_sha256": _sha(spec["rules"]), "design": spec["design"],
        "root_seed": spec["root"], "replications": spec["replications"],
        "seeding": spec["seeding"], "cells": len(spec["cells"]), "spec": spec,
    }


def _sha(obj: Any) -> str:
    return sha256_of(obj)


def _write_manifest(path: Path, spec: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest_of(spec), indent=1, sort_keys=True))
    os.replace(tmp, path)


def read_manifest(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        m = json.loads(path.read_text())
    except FileNotFoundError:
        raise _bad("DIR", f"{folder} is not a sweep directory (no {MANIFEST})") from None
    except (OSError, json.JSONDecodeError) as e:
        raise _bad("DIR", f"{path}: cannot read the manifest ({e})") from None
    if m.get("format") != SWEEP_FORMAT:
        raise _bad("DIR", f"{path}: not a {SWEEP_FORMAT} manifest")
    return m


def load_results(folder: str | Path) -> pa.Table:
    """Every row on disk, sorted by cell and replication (the canonical order)."""
    m = read_manifest(folder)
    store = Store(Path(folder), row_schema(m["spec"]))
    tables = [pq.read_table(f) for f in store.chunk_files()]
    table = pa.concat_tables(tables) if tables else store.schema.empty_table()
    return table.sort_by([("cell", "ascending"), ("replication", "ascending")])


# ---- execution -------------------------------------------------------------------------------

def plan(spec: dict[str, Any], done: set[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Runs still to do, replication-major so a partial sweep covers every cell evenly;
    generated lazily, so a million-run sweep holds no list of them."""
    for i in range(spec["replications"]):
        for c in spec["cells"]:
            if (c["index"], i) not in done:
                yield c["index"], i


def batch_size(spec_json: str, probe: list[tuple[int, int]], target_s: float = 0.4) -> int:
    """Runs per batch for about target_s of work, timed on a few runs here (results do not
    depend on it)."""
    if not probe:
        return 1
    start = time.perf_counter()
    run_batch(spec_json, probe)
    per_run = max(1e-4, (time.perf_counter() - start) / len(probe))
    return int(min(500, max(1, round(target_s / per_run))))


def batches(todo: Iterable[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    it = iter(todo)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _bad(field: str, message: str) -> EngineError:
    return EngineError("", (Problem("sweep", message, field=field),))


# ---- the coordinator -------------------------------------------------------------------------

def build_spec(scenarios: Any, *, vary: dict[str, list] | None = None, design: str = "grid",
               ranges: dict[str, tuple[float, float]] | None = None,
               samples: int | None = None, replications: int, seed: int,
               seeding: str = "crn", rules: Any = None,
               blue_orders: dict[int, list[dict]] | None = None) -> dict[str, Any]:
    """Load scenarios, build the design and return the sweep's specification."""
    from engine.io.loading import load_pair, load_rules

    if replications < 1:
        raise _bad("--runs", f"expected at least one replication, found {replications}")
    items = scenarios if isinstance(scenarios, list | tuple) else [scenarios]
    models = [s if isinstance(s, Scenario) else load_pair(s, rules)[0] for s in items]
    if not models:
        raise _bad("SCENARIO", "name at least one scenario")
    rule_set = rules if isinstance(rules, Rules) else load_rules(rules or models[0].rules)
    info: dict[str, object]
    if design == "grid":
        points, info = grid(vary or {}), {"kind": "grid", "vary": vary or {}}
    elif design == "lhs":
        if vary:  # a grid over a hypercube is not a design this engine builds
            raise _bad("--vary", "--vary (a grid) cannot be combined with --lhs (a Latin "
                                 "hypercube); give the ranges with --lhs only")
        if not ranges or not samples:
            raise _bad("--lhs", "a Latin hypercube needs ranges (--lhs PATH=lo:hi) and "
                                "--samples")
        points = latin_hypercube(ranges, samples, seed)
        info = {"kind": "lhs", "ranges": {k: list(v) for k, v in ranges.items()},
                "samples": samples}
    else:
        raise _bad("design", f"expected grid or lhs, found '{design}'")
    option = "--lhs" if design == "lhs" else "--vary"
    return make_spec(models, rule_set, cells(models, points, option), replications, seed,
                     seeding, blue_orders, info)


def execute(spec: dict[str, Any], *, backend: str = "process", workers: int | None = None,
            scheduler: str | None = None, out: str | Path | None = None,
            resume: bool = False, progress: Any = None) -> pa.Table | None:
    """Run a sweep. With ``out``, rows stream to disk and nothing is kept in memory (returns
    None); without, the rows are returned as a table. Rows go to disk in chunks of about
    ``CHUNK_ROWS`` rows; the environment variable ``WARGAME_SWEEP_CHUNK_ROWS`` overrides that
    (smaller chunks for tests of interruption; results do not depend on it)."""
    from engine.sweeps.backends import BACKENDS

    if backend not in BACKENDS:
        raise _bad("--backend", f"expected one of {', '.join(BACKENDS)}, found '{backend}'")
    chunk_rows = _chunk_rows()
    store = prepare_store(Path(out), spec, resume) if out is not None else None
    done = store.done() if store else set()
    total = spec["replications"] * len(spec["cells"])
    on_disk = sum(1 for c, i in done if c < len(spec["cells"]) and i < spec["replications"])
    todo = plan(spec, done)
    spec_json = _canonical(spec)
    if progress is not None:
        progress.start(total - on_disk, on_disk)
    probe = list(itertools.islice(plan(spec, done), 3))
    size = batch_size(spec_json, probe)
    kept: list[dict[str, Any]] = []
    buffer: list[dict[str, Any]] = []
    for rows in BACKENDS[backend](spec_json, batches(todo, size), workers, scheduler):
        if progress is not None:
            progress.advance(len(rows))
        if store is None:
            kept.extend(rows)
            continue
        buffer.extend(rows)
        if len(buffer) >= chunk_rows:
            store.write(buffer)
            buffer = []
    if store is not None:
        if buffer:
            store.write(buffer)
        return None
    kept.sort(key=lambda r: (r["cell"], r["replication"]))
    return pa.Table.from_pylist(kept, row_schema(spec))


def _chunk_rows() -> int:
    raw = os.environ.get("WARGAME_SWEEP_CHUNK_ROWS", "").strip()
    if not raw:
        return CHUNK_ROWS
    if not raw.isdigit() or int(raw) < 1:
        raise _bad("WARGAME_SWEEP_CHUNK_ROWS", f"expected a positive integer, found '{raw}'")
    return int(raw)


def sweep(scenario: Any, *, vary: dict[str, list] | None = None, design: str = "grid",
          ranges: dict[str, tuple[float, float]] | None = None, samples: int | None = None,
          replications: int, seed: int = 0, backend: str = "process",
          workers: int | None = None, scheduler: str | None = None,
          out: str | Path | None = None, resume: bool = False, progress: bool = True,
          seeding: str = "crn", rules: Any = None) -> pa.Table:
    """Run a Monte Carlo sweep and return its results table (one row per run, sorted by cell
    and replication); with ``out`` the rows are also on disk, chunked and resumable."""
    from engine.sweeps.progress import RichProgress

    spec = build_spec(scenario, vary=vary, design=design, ranges=ranges, samples=samples,
                      replications=replications, seed=seed, seeding=seeding, rules=rules)
    bar = RichProgress() if progress else None
    try:
        table = execute(spec, backend=backend, workers=workers, scheduler=scheduler, out=out,
                        resume=resume, progress=bar)
    finally:
        if bar is not None:
            bar.stop()
    return load_results(out) if out is not None else table


def regenerate_run(folder: str | Path, rid: str, log: str | Path) -> Any:
    """Write the full event log of one run of a sweep (identical seed, cell and controllers)."""
    from engine.io.eventlog import run_logged

    spec = read_manifest(folder)["spec"]
    cell, rep = parse_run_id(rid)
    if not (0 <= cell < len(spec["cells"]) and 0 <= rep < spec["replications"]):
        raise _bad("--run", f"run {rid} is not in this sweep ({len(spec['cells'])} cells x "
                            f"{spec['replications']} replications)")
    s, r, controllers = cell_models(spec, cell)
    return run_logged(s, r, run_seed(spec, cell, rep), log, controllers or None)
