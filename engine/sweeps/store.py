"""A sweep's folder on disk: two Parquet tables, a manifest and a lock.

    DIR/runs/part-NNNNNN.parquet    per-run rows (one row per run)
    DIR/turns/part-NNNNNN.parquet   per-turn rows of the same runs, numbered as their runs part
    DIR/manifest.json               what the sweep is, and every part with its rows and SHA-256
    DIR/lock                        held with flock by the one process writing the folder
    DIR/tmp/, DIR/damaged/          parts being written; damaged parts moved aside

Each table folder holds nothing but its parts, so ``pandas.read_parquet``,
``pyarrow.dataset.dataset``, ``polars.scan_parquet`` and DuckDB's ``read_parquet('.../*.parquet')``
read it directly, mid-sweep or after a crash: polars reads every file under a folder, underscore
and dot names included, so nothing else may sit in a table's folder.

A part is written whole to tmp/, flushed to disk, then renamed into place (turns first, then runs:
a runs part is the commit), and the manifest, rewritten the same way, records it. On reopening, a
recorded part whose size, SHA-256 or row count differs is damaged: it is moved to damaged/ and its
runs are redone. A part on disk but not yet recorded (the sweep died between the rename and the
manifest) is adopted if it reads whole with its turns part, else moved aside.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from engine.canonical import canonical, sha256_of
from engine.sweeps.columns import SWEEP_FORMAT, run_schema, turn_schema
from engine.sweeps.errors import bad, to_stderr

RUNS, TURNS, MANIFEST, LOCK, TMP, DAMAGED = ("runs", "turns", "manifest.json", "lock", "tmp",
                                             "damaged")
LAYOUT = {RUNS, TURNS, MANIFEST, LOCK, TMP, DAMAGED, f"{MANIFEST}.tmp"}
Say = Callable[[str], None]


_bad = bad  # the one sweep problem constructor (engine/sweeps/errors.py)


_stderr = to_stderr


# ---- done runs -------------------------------------------------------------------------------

@dataclass
class Done:
    """Which replications of each cell are on disk: one byte per run, not a set of tuples."""

    by_cell: dict[int, bytearray] = field(default_factory=dict)
    count: int = 0

    def add(self, cell: int, rep: int) -> bool:
        """Mark a run; False if it was already marked."""
        seen = self.by_cell.setdefault(cell, bytearray())
        if rep >= len(seen):
            seen.extend(bytes(rep + 1 - len(seen)))
        if seen[rep]:
            return False
        seen[rep] = 1
        self.count += 1
        return True

    def __contains__(self, run: tuple[int, int]) -> bool:
        seen = self.by_cell.get(run[0])
        return seen is not None and run[1] < len(seen) and bool(seen[run[1]])

    def within(self, cells: int, replications: int) -> int:
        return sum(sum(b[:replications]) for c, b in self.by_cell.items() if c < cells)


# ---- the store -------------------------------------------------------------------------------

@dataclass
class Store:
    """An open sweep folder, locked for writing."""

    root: Path
    manifest: dict[str, Any]
    runs_schema: pa.Schema
    turns: bool
    lock_fd: int | None = None

    def write(self, runs: pa.Table, turns: pa.Table | None) -> str:
        """One part of each table, sorted by cell and replication, atomically; then the
        manifest records it."""
        order = [("cell", "ascending"), ("replication", "ascending")]
        number = f"{self._next_number():06d}"
        entry: dict[str, Any] = {}
        tmp = self.root / TMP
        tmp.mkdir(exist_ok=True)
        staged = []
        tables = [(RUNS, runs.sort_by(order).cast(self.runs_schema))]
        if self.turns and turns is not None:
            tables.insert(0, (TURNS, turns.sort_by([*order, ("turn", "ascending")])
                              .cast(turn_schema())))
        for name, table in tables:
            data = _parquet_bytes(table)
            staging = tmp / f"{name}-{number}.{os.getpid()}.parquet"
            _write_synced(staging, data)
            staged.append((staging, self.root / name / f"part-{number}.parquet"))
            entry[name] = {"rows": table.num_rows, "bytes": len(data),
                           "sha256": hashlib.sha256(data).hexdigest()}
        for staging, final in staged:  # turns first: a runs part commits the pair
            final.parent.mkdir(exist_ok=True)
            os.replace(staging, final)
            _sync_dir(final.parent)
        self.manifest["parts"][number] = entry
        self.save()
        return number

    def _next_number(self) -> int:
        taken = [int(n) for n in self.manifest["parts"]]
        taken += [int(p.stem.removeprefix("part-")) for p in _parts(self.root / RUNS)]
        return max(taken, default=-1) + 1

    def save(self) -> None:
        """Rewrite the manifest atomically."""
        path = self.root / MANIFEST
        staging = self.root / f"{MANIFEST}.tmp"
        _write_synced(staging, json.dumps(self.manifest, indent=1, sort_keys=True).encode())
        os.replace(staging, path)
        _sync_dir(self.root)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # tmp/ stays only while it holds something
            (self.root / TMP).rmdir()
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # releases the flock
            self.lock_fd = None


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue())


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


# ---- opening -----------------------------------------------------------------------------------

def lock(root: Path) -> int:
    """Hold DIR/lock for this process, or refuse: another sweep is writing the folder."""
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise _bad("--out", f"{root} is in use by another sweep (process {holder}); wait for "
                            "it to finish, or choose another --out") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def open_store(out: str | Path, spec: dict[str, Any], resume: bool,
               say: Say = _stderr) -> tuple[Store, dict[str, Any], Done]:
    """Create or reopen a sweep folder for writing: lock it, check or extend its manifest,
    check every part (damaged ones moved aside) and return what is already done. The
    returned spec is the folder's: an extension keeps the existing cells' indices."""
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise _bad("--out", f"{root}: is a file; a sweep writes its results into a folder")
    _check_folder(root)  # before the lock file is made in it
    root.mkdir(parents=True, exist_ok=True)
    fd = lock(root)
    try:
        old = _read(root / MANIFEST, "--out") if (root / MANIFEST).exists() else None
        if old is None:
            _check_folder(root)
            merged = spec
            manifest = manifest_of(spec)
        else:
            if old.get("key") != spec["key"]:
                raise _bad("--out", f"{root} holds a different sweep ("
                                    f"{_differences(old, spec)}); choose another --out or "
                                    "remove it")
            if not resume and (old.get("parts") or _parts(root / RUNS)):
                raise _bad("--out", f"{root} already holds results of this sweep; add --resume"
                                    " to continue or extend it, or choose another --out")
            merged = extend(old, spec, root, say)
            manifest = {**manifest_of(merged), "parts": old.get("parts", {}),
                        "designs": old.get("designs", [])}
            if len(merged["cells"]) > len(old["spec"]["cells"]):
                manifest["designs"] = [*manifest["designs"], {
                    "design": spec["design"],
                    "cells": [len(old["spec"]["cells"]), len(merged["cells"])]}]
        store = Store(root, manifest, run_schema(merged["factors"]), merged["turns"], fd)
        done = check_parts(store, say)
        store.save()
        return store, merged, done
    except BaseException:
        os.close(fd)
        raise


def _check_folder(root: Path) -> None:
    """A folder a sweep may write: new, empty, or a sweep of this format."""
    if (root / MANIFEST).exists():
        _read(root / MANIFEST, "--out")
        return
    strangers = sorted(p.name for p in root.iterdir() if p.name not in LAYOUT) \
        if root.is_dir() else []
    if strangers:
        raise _bad("--out", f"{root} is not empty and holds no sweep ({strangers[0]}"
                            f"{', ...' if len(strangers) > 1 else ''}); choose a new or empty "
                            "folder")


def extend(old: dict[str, Any], spec: dict[str, Any], root: Path, say: Say) -> dict[str, Any]:
    """The folder's sweep grown by ``spec``: more replications, or new cells appended (the
    existing ones keep their index). Anything else that differs is refused."""
    prior = old["spec"]
    if [(f["path"], f["type"]) for f in prior["factors"]] != \
            [(f["path"], f["type"]) for f in spec["factors"]]:
        have = ", ".join(f["path"] for f in prior["factors"]) or "none"
        given = ", ".join(f"{f['path']} ({f['type']})" for f in spec["factors"]) or "none"
        raise _bad("--out", f"{root} varies {have}; an extension must vary the same factors "
                            f"with the same types, found {given}")
    cells = [dict(c) for c in prior["cells"]]
    have_counts: dict[str, int] = {}
    for c in cells:
        have_counts[_content(c)] = have_counts.get(_content(c), 0) + 1
    added = 0
    for c in spec["cells"]:
        k = _content(c)
        if have_counts.get(k, 0):
            have_counts[k] -= 1
            continue
        cells.append({**c, "index": len(cells)})
        added += 1
    merged = {**prior, "cells": with_cell_keys(cells, prior),
              "replications": max(prior["replications"], spec["replications"])}
    if added or merged["replications"] > prior["replications"]:
        notes = []
        if added:
            notes.append(f"{added} new cells ({len(prior['cells'])}-{len(cells) - 1})")
        if merged["replications"] > prior["replications"]:
            notes.append(f"replications {prior['replications']} -> {merged['replications']}")
        say(f"extending the sweep in {root}: " + ", ".join(notes))
    return merged


def _content(cell: dict[str, Any]) -> str:
    return canonical([cell["scenario"], cell["row"]])


def with_cell_keys(cells: list[dict[str, Any]], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each cell with its content key (63 bits of SHA-256 of its scenario, its factor values
    and how many identical cells precede it): the independent seeds' spawn key, so a run's seed
    does not depend on the cell's position in the design."""
    seen: dict[str, int] = {}
    shas = [sha256_of(s) for s in spec["scenarios"]]
    out = []
    for c in cells:
        content = _content(c)
        nth = seen[content] = seen.get(content, -1) + 1
        text = canonical([shas[c["scenario"]], c["row"], nth])
        key = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1
        out.append({**c, "key": key})
    return out


def _differences(old: dict[str, Any], spec: dict[str, Any]) -> str:
    m = manifest_of(spec)
    keys = [k for k in ("scenarios", "rules_sha256", "root_seed", "seeding", "controllers",
                        "turns_table", "engine") if old.get(k) != m.get(k)]
    return "differs in " + ", ".join(keys) if keys else "a different specification"


def manifest_of(spec: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a sweep (its parts are added as they are written)."""
    return {
        "format": SWEEP_FORMAT, "key": spec["key"], "engine": spec["engine"],
        "scenarios": [{"id": s["meta"]["id"], "sha256": sha256_of(s)}
                      for s in spec["scenarios"]],
        "rules_sha256": sha256_of(spec["rules"]), "design": spec["design"],
        "root_seed": spec["root"], "replications": spec["replications"],
        "seeding": spec["seeding"], "seed": SEED_TEXT[spec["seeding"]],
        "cells": len(spec["cells"]), "controllers": spec["controllers"],
        "turns_table": spec["turns"], "parts": {}, "designs": [],
        "columns": {f["name"]: f["path"] for f in spec["factors"]}, "spec": spec,
    }


SEED_TEXT = {
    "crn": "seed = SeedSequence(root_seed, spawn_key=(replication,)).generate_state(1, "
           "uint64)[0] >> 1: replication i has the same seed in every cell (common random "
           "numbers)",
    "independent": "seed = SeedSequence(root_seed, spawn_key=(cell key, replication))"
                   ".generate_state(1, uint64)[0] >> 1, the cell key in spec.cells[].key "
                   "(from the cell's content, so an extension changes no existing run)",
}


def check_parts(store: Store, say: Say) -> Done:
    """Every part checked against the manifest; damaged or unrecorded-and-broken parts moved
    to damaged/ (said on stderr), leftovers of a killed write removed; the runs on disk."""
    root, parts = store.root, store.manifest["parts"]
    for stale in (root / TMP).glob("*") if (root / TMP).is_dir() else ():
        stale.unlink()  # a part being written when the sweep was killed
    done = Done()
    runs_on_disk = {p.stem.removeprefix("part-"): p for p in _parts(root / RUNS)}
    for number in sorted(set(parts) | set(runs_on_disk)):
        why = _damage(store, number, parts.get(number))
        if why is None:
            why = _mark(done, root / RUNS / f"part-{number}.parquet")
        if why is not None:
            _quarantine(root, number, why, say)
            parts.pop(number, None)
    for orphan in _parts(root / TURNS):  # a turns part whose runs part never landed
        if orphan.stem.removeprefix("part-") not in parts:
            orphan.unlink()
    return done


def _damage(store: Store, number: str, entry: dict[str, Any] | None) -> str | None:
    """Why a part cannot be trusted, or None; an unrecorded whole part is recorded."""
    names = [RUNS, TURNS] if store.turns else [RUNS]
    found: dict[str, Any] = {}
    for name in names:
        path = store.root / name / f"part-{number}.parquet"
        if not path.exists():
            return f"its {name} part is missing"
        data = path.read_bytes()
        want = (entry or {}).get(name)
        if want is not None:
            if len(data) != want["bytes"] or hashlib.sha256(data).hexdigest() != want["sha256"]:
                return (f"its {name} part of {len(data)} bytes does not match the "
                        f"{want['bytes']} bytes and SHA-256 recorded")
            continue  # the very bytes written
        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError) as e:
            return f"its {name} part does not read as Parquet ({e})"
        found[name] = {"rows": table.num_rows, "bytes": len(data),
                       "sha256": hashlib.sha256(data).hexdigest()}
    if entry is None:
        store.manifest["parts"][number] = found
    return None


def _mark(done: Done, path: Path) -> str | None:
    t = pq.read_table(path, columns=["cell", "replication"])
    for cell, rep in zip(t.column("cell").to_pylist(), t.column("replication").to_pylist(),
                         strict=True):
        if not done.add(cell, rep):
            return f"run {cell}-{rep} is also in an earlier part"
    return None


def _quarantine(root: Path, number: str, why: str, say: Say) -> None:
    target = root / DAMAGED
    target.mkdir(exist_ok=True)
    for name in (RUNS, TURNS):
        path = root / name / f"part-{number}.parquet"
        if path.exists():
            k = 0
            while (dest := target / f"{name}-part-{number}.{k}.parquet").exists():
                k += 1
            os.replace(path, dest)
    say(f"{root}: part {number} is damaged ({why}); moved to {target}, its runs will be "
        "redone")


# ---- reading ---------------------------------------------------------------------------------

def _read(path: Path, option: str) -> dict[str, Any]:
    try:
        m = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        raise _bad(option, f"{path} is not a readable sweep manifest") from None
    if not isinstance(m, dict):
        raise _bad(option, f"{path} is not a readable sweep manifest")
    if m.get("format") != SWEEP_FORMAT:
        found = m.get("format", "no format")
        raise _bad(option, f"{path.parent} holds a {found} sweep; this version reads and "
                           f"writes {SWEEP_FORMAT} (a new layout: runs/ and turns/ tables): "
                           "rerun the sweep into a new folder")
    return m


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """A sweep folder's manifest, or an error saying why there is none."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise _bad("DIR", f"{folder} is not a sweep directory (no {MANIFEST})")
    return _read(path, "DIR")


def load_results(folder: str | Path) -> pa.Table:
    """Every run on disk, sorted by cell and replication (the canonical order)."""
    m = read_manifest(folder)
    return _load(Path(folder) / RUNS, run_schema(m["spec"]["factors"]))


def load_turns(folder: str | Path) -> pa.Table:
    """Every per-turn row on disk, sorted by cell, replication and turn."""
    read_manifest(folder)
    return _load(Path(folder) / TURNS, turn_schema(), ("turn",))


def _load(folder: Path, schema: pa.Schema, extra: tuple[str, ...] = ()) -> pa.Table:
    tables = [pq.read_table(f) for f in _parts(folder)]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return table.sort_by([(k, "ascending") for k in ("cell", "replication", *extra)])


def iter_rows(folder: str | Path, columns: list[str] | None = None,
              batch_rows: int = 10_000) -> Iterator[dict[str, Any]]:
    """The runs rows part by part, a batch at a time (flat memory for any size)."""
    for f in _parts(Path(folder) / RUNS):
        for batch in pq.ParquetFile(f).iter_batches(batch_size=batch_rows, columns=columns):
            yield from batch.to_pylist()
