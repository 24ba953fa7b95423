"""Sensitivity indices from a finished sweep: Sobol' (variance-based; Saltelli 2002, Saltelli et
al. 2010) and Morris elementary effects (Morris 1991, Campolongo et al. 2007) through SALib, over
the design the sweep ran (``engine.sweeps.design.sobol_points`` / ``morris_points``).

Each design point's output is its cell's mean over the replications (P(held) for
``deterrence_held``), cells taken in index order, which is SALib's sample order. The
replications' Monte Carlo noise is part of that output, so factors with no effect show small
indices rather than exact zeros: run enough replications per point. SALib is the optional extra
``analysis``; bootstrap intervals use a fixed seed, so the same sweep gives the same indices."""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import EngineError, Problem

Source = str | Path | tuple[Any, Mapping[str, Any]]


def _bad(field: str, message: str) -> EngineError:
    return EngineError("", (Problem("analysis", message, field=field),))


@dataclass(frozen=True)
class _Design:
    """What an analysis needs of a sweep: the outputs per design point, in sample order."""

    problem: dict[str, Any]
    info: Mapping[str, Any]
    scenario: str
    cells: list[int]  # sample order
    y: np.ndarray  # the measure's mean per design point
    x: np.ndarray  # factor values per design point (Morris only; else empty)
    runs: int  # valid runs behind y


def sobol_indices(source: Source, measure: str = "deterrence_held", *,
                  scenario: str | None = None, seed: int = 1,
                  resamples: int = 100) -> dict[str, Any]:
    """First-order (S1), total (ST) and, if the design has them, second-order (S2: row i,
    column j > i; None elsewhere) Sobol' indices of ``measure`` with bootstrap 95% intervals
    (``*_conf``: half-widths), factor by factor in ``names`` order; ``source`` is a sweep
    folder or a (pyarrow Table, design info) pair; ``scenario`` picks one when the sweep ran
    several."""
    seed = _seed(seed)
    d = _design(source, measure, "sobol", scenario, with_x=False)
    sobol = _salib("sobol")
    second = _second_order(d.info, len(d.y), _dimension(d.problem))
    si = sobol.analyze(d.problem, d.y, calc_second_order=second, num_resamples=resamples,
                       conf_level=0.95, seed=seed)
    keys = ["S1", "S1_conf", "ST", "ST_conf"] + (["S2", "S2_conf"] if second else [])
    return {**_head(d, measure, "sobol"), **{k: _plain(si[k]) for k in keys}}


def morris_indices(source: Source, measure: str = "deterrence_held", *,
                   scenario: str | None = None, seed: int = 1,
                   resamples: int = 100) -> dict[str, Any]:
    """Morris screening of ``measure``: mean elementary effect (mu), mean absolute effect
    (mu_star) with its bootstrap 95% interval half-width (mu_star_conf), and their spread
    (sigma), factor by factor in ``names`` order. An effect is the change in the measure per
    step of the design grid, scaled to a whole factor range (so in the measure's units)."""
    seed = _seed(seed)
    d = _design(source, measure, "morris", scenario, with_x=True)
    morris = _salib("morris")
    levels = int(d.info.get("levels", d.info.get("num_levels", 4)))
    si = morris.analyze(d.problem, d.x, d.y, num_resamples=resamples, conf_level=0.95,
                        num_levels=levels, seed=seed)
    keys = ["mu", "mu_star", "sigma", "mu_star_conf"]
    out = {**_head(d, measure, "morris"), **{k: _plain(si[k]) for k in keys}}
    out["names"] = list(si["names"])  # factor or group names, as SALib reports them
    return out


def _head(d: _Design, measure: str, kind: str) -> dict[str, Any]:
    return {"kind": kind, "measure": measure, "scenario": d.scenario,
            "names": list(d.problem["names"]), "points": len(d.y), "runs": d.runs}


def _plain(values: Any) -> Any:
    """Indices as JSON-ready lists; undefined ones (S2 below its diagonal) as None."""
    out = np.asarray(values, dtype=float).tolist()
    if isinstance(out, list):
        return [_plain(v) if isinstance(v, list) else (None if math.isnan(v) else v)
                for v in out]
    return None if math.isnan(out) else out


def _seed(seed: int) -> int:
    # SALib's Sobol analysis treats a seed of 0 as no seed at all (global random state)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        raise _bad("seed", f"expected a positive integer seed, found {seed!r}")
    return seed


def _salib(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"SALib.analyze.{name}")
    except ImportError:
        raise _bad("SALib", "sensitivity indices need SALib, the optional extra 'analysis': "
                            "pip install 'wargame-engine[analysis]'") from None


def _second_order(info: Mapping[str, Any], points: int, dim: int) -> bool:
    """Whether a Saltelli design has the extra blocks for second-order indices (N (2D + 2)
    points with them, N (D + 2) without): as the design info records (``second_order``), else
    SALib's default (with them) unless the size rules that out. The size alone cannot tell:
    256 x 5 points are also 160 x 8."""
    recorded = info.get("second_order", info.get("calc_second_order"))
    second = bool(recorded) if recorded is not None else points % (2 * dim + 2) == 0
    block = 2 * dim + 2 if second else dim + 2
    expected = int(info["n"]) * block if "n" in info else None
    if points == expected or (expected is None and points % block == 0):
        return second
    terms = f"{'with' if second else 'without'} second-order terms "
    if expected is not None:
        says = f"{terms}has {expected} points"
    elif recorded is not None:
        says = f"{terms}has a multiple of {block} points"
    else:
        says = f"has a multiple of {2 * dim + 2} (with second-order terms) or {dim + 2} points"
    raise _bad("design", f"a Sobol design over {dim} factors {says}; this sweep has {points} "
                         "with runs (finish it with --resume)")


# ---- reading a sweep ------------------------------------------------------------------------

def _design(source: Source, measure: str, kind: str, scenario: str | None,
            with_x: bool) -> _Design:
    table, info, expected = _open(source)
    if info.get("kind") != kind:
        raise _bad("design", f"{kind.capitalize()} indices need a {kind} design (engine.sweeps"
                             f".design.{kind}_points); this sweep's design is "
                             f"'{info.get('kind')}'")
    problem = _problem(info)
    for col in ("cell", "scenario", measure):
        if col not in table.column_names:
            raise _bad("measure" if col == measure else "table", _no_column(table, col))
    sid, cells = _cells(table, expected, scenario)
    y, runs = point_means(table, measure, cells)
    if not np.ptp(y) > 0:
        raise _bad("measure", f"{measure} is {y[0]:g} at every design point of {sid}: it does "
                              "not vary, so no factor explains any of its variance")
    if kind == "morris":
        _check_morris(info, problem, len(cells))
    x = _morris_inputs(info, table, problem["names"], cells) if with_x else np.empty((0, 0))
    return _Design(problem, info, sid, cells, y, x, runs)


def _open(source: Source) -> tuple[pa.Table, Mapping[str, Any], dict[int, str] | None]:
    """(rows, design info, expected cell -> scenario id, when the sweep says)."""
    if isinstance(source, tuple):
        table, info = source
        if not isinstance(table, pa.Table) or not isinstance(info, Mapping):
            raise _bad("source", "expected a sweep folder or a (pyarrow Table, design info "
                                 "dict) pair")
        return table, info, None
    read_manifest, load_results = _store()
    manifest = read_manifest(source)
    spec = manifest.get("spec", manifest)
    info = manifest.get("design") or spec.get("design") or {}
    ids = [s["meta"]["id"] for s in spec["scenarios"]]
    expected = {c["index"]: ids[c["scenario"]] for c in spec["cells"]}
    return load_results(source), info, expected


def _store() -> tuple[Any, Any]:
    """The sweep store's readers (engine.sweeps.store, or the runner before the move)."""
    try:
        store = importlib.import_module("engine.sweeps.store")
        return store.read_manifest, store.load_results
    except (ImportError, AttributeError):
        from engine.sweeps.runner import load_results, read_manifest
        return read_manifest, load_results


def _problem(info: Mapping[str, Any]) -> dict[str, Any]:
    raw = info.get("problem")
    if not isinstance(raw, Mapping) or not raw.get("names") or not raw.get("bounds"):
        raise _bad("design", "the design info has no SALib problem (names and bounds)")
    names, bounds = list(raw["names"]), [list(b) for b in raw["bounds"]]
    if len(names) != len(bounds):
        raise _bad("design", f"the SALib problem has {len(names)} names and {len(bounds)} "
                             "bounds")
    problem = {**raw, "num_vars": len(names), "names": names, "bounds": bounds}
    if problem.get("groups") is None:
        problem.pop("groups", None)
    return problem


def _no_column(table: pa.Table, col: str) -> str:
    numeric = [f.name for f in table.schema
               if pa.types.is_boolean(f.type) or pa.types.is_integer(f.type)
               or pa.types.is_floating(f.type)]
    return f"the results have no column '{col}'; numeric columns: {', '.join(numeric)}"


def _cells(table: pa.Table, expected: dict[int, str] | None,
           scenario: str | None) -> tuple[str, list[int]]:
    """The chosen scenario and its cells in index (sample) order; every cell must have runs."""
    pairs = pa.table({"cell": table["cell"], "scenario": table["scenario"]})
    seen = {(int(c), str(s)) for c, s in zip(*_distinct(pairs), strict=True)}
    owner = expected if expected is not None else dict(seen)
    ids = list(dict.fromkeys(owner[c] for c in sorted(owner)))
    if scenario is None:
        if len(ids) != 1:
            raise _bad("scenario", f"the sweep ran {len(ids)} scenarios ({', '.join(ids)}); "
                                   "name one (scenario=...)")
        scenario = ids[0]
    elif scenario not in ids:
        raise _bad("scenario", f"no scenario '{scenario}' in the sweep; it ran "
                               f"{', '.join(ids)}")
    cells = sorted(c for c, s in owner.items() if s == scenario)
    have = {c for c, _ in seen}
    missing = [c for c in cells if c not in have]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise _bad("design", f"{len(missing)} design points of {scenario} have no runs (cells "
                             f"{shown}); finish the sweep with --resume")
    return scenario, cells


def _distinct(t: pa.Table) -> tuple[list[Any], list[Any]]:
    g = t.group_by(["cell", "scenario"]).aggregate([])
    return g["cell"].to_pylist(), g["scenario"].to_pylist()


def point_means(table: pa.Table, measure: str, cells: list[int]) -> tuple[np.ndarray, int]:
    """The measure's mean over each cell's valid runs (a boolean's share), in ``cells`` order,
    and the number of runs behind them; runs with an error or no value are left out."""
    field = table.schema.field(measure)
    if not (pa.types.is_boolean(field.type) or pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)):
        raise _bad("measure", f"'{measure}' is not a number or a yes/no column "
                              f"({field.type})")
    values = pc.cast(table[measure], pa.float64()).to_numpy(zero_copy_only=False)
    cell = pc.cast(table["cell"], pa.int64()).to_numpy(zero_copy_only=False)
    ok = ~np.isnan(values)
    if "error" in table.column_names and not pa.types.is_null(table.schema.field("error").type):
        err = table["error"]
        ok &= ~(pc.fill_null(pc.not_equal(err, ""), False).to_numpy(zero_copy_only=False))
    size = max(max(cells), int(cell.max(initial=0))) + 1
    sums = np.bincount(cell[ok], weights=values[ok], minlength=size)
    counts = np.bincount(cell[ok], minlength=size)
    idx = np.asarray(cells)
    empty = idx[counts[idx] == 0]
    if empty.size:
        raise _bad("measure", f"{measure} has no value at design points (cells) "
                              f"{', '.join(map(str, empty[:10].tolist()))}: every run there "
                              "raised an error or left it empty")
    return sums[idx] / counts[idx], int(counts[idx].sum())


def column_candidates(path: str) -> list[str]:
    """Names a factor's column may have: the path itself, the store's rule (leading
    ``scenario.`` dropped, other characters outside [A-Za-z0-9_] as ``_``, maybe prefixed
    ``factor_``), and the older ``p:PATH``."""
    bare = path.removeprefix("scenario.")
    rule = re.sub(r"[^A-Za-z0-9_]", "_", bare)
    return list(dict.fromkeys([path, rule, f"factor_{rule}", f"p:{bare}", f"p:{path}"]))


def _path_of(f: pa.Field) -> str:
    """The factor path a column's Parquet metadata records ('' for other columns)."""
    return (f.metadata or {}).get(b"path", b"").decode()


def _factor_values(table: pa.Table, names: list[str], cells: list[int]) -> np.ndarray:
    """Each design point's factor values (from its first row), in sample order."""
    cell = pc.cast(table["cell"], pa.int64()).to_numpy(zero_copy_only=False)
    first = {int(c): int(i) for c, i in zip(*np.unique(cell, return_index=True), strict=True)}
    rows = [first[c] for c in cells]
    columns = []
    by_path = {_path_of(f): f.name for f in table.schema if _path_of(f)}
    for name in names:
        col = by_path.get(name) or by_path.get(f"scenario.{name}") or next(
            (c for c in column_candidates(name) if c in table.column_names), None)
        if col is None:
            raise _bad("design", f"no column for factor {name} in the results (looked for "
                                 f"{', '.join(column_candidates(name))})")
        try:
            columns.append(pc.cast(pc.take(table[col], pa.array(rows)), pa.float64())
                           .to_numpy(zero_copy_only=False))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _bad("design", f"factor {name} ({col}) is not numeric; a Morris design "
                                 "varies numbers") from None
    return np.column_stack(columns)


def _dimension(problem: Mapping[str, Any]) -> int:
    """Factors, or groups of factors when the problem groups them."""
    groups = problem.get("groups")
    return len(set(groups)) if groups else len(problem["names"])


def _check_morris(info: Mapping[str, Any], problem: Mapping[str, Any], points: int) -> None:
    size = _dimension(problem) + 1
    expected = int(info["trajectories"]) * size if "trajectories" in info else None
    if points % size or (expected is not None and points != expected):
        raise _bad("design", f"a Morris design over {size - 1} factors has "
                             f"{expected or f'trajectories of {size}'} points; this sweep has "
                             f"{points} with runs (finish it with --resume)")


def _morris_inputs(info: Mapping[str, Any], table: pa.Table, names: list[str],
                   cells: list[int]) -> np.ndarray:
    """The design's SALib matrix, regenerated from its info (engine.sweeps.design
    .design_matrix) when it records its seed, else the factor columns. The matrix is better:
    an integer factor's column holds the floored value, and a step that floors to no change
    would hide which factor a trajectory moved."""
    if "seed" in info:
        try:
            from engine.sweeps.design import design_matrix
        except ImportError:
            pass
        else:
            x = np.asarray(design_matrix(info), dtype=float)
            if x.shape == (len(cells), len(names)):
                return x
    return _factor_values(table, names, cells)
