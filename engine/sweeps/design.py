"""Experimental designs for sweeps: which variants of scenario and rules (cells) to run.

A design point sets values at dotted paths: ``scenario.PATH`` into the scenario, ``rules.PATH``
into the rules, a bare ``PATH`` into the scenario (``blue.isr.mq9.aircraft``). Designs: a grid
(every combination of listed values), a Latin hypercube (McKay, Beckman and Conover 1979), a
Sobol design (Saltelli 2002's cross-sampling of a scrambled Sobol' sequence) or Morris
trajectories (Morris 1991, Campolongo et al. 2007) through SALib, or explicit points (see
``points_from``). Every random design draws from a named stream of the sweep's root seed, so a
design is reproducible from the manifest alone.

Integer ranges. An integer range lo..hi is sampled as the continuous factor x in [lo, hi + 1)
and played as min(hi, floor(x)): every integer gets an equal share, the ends included (rounding
to the nearest would give lo and hi half a share each). Sobol and Morris estimates then describe
the factor the game sees, floor(x), as a function of the sampled x; the SALib problem in the
design info records the [lo, hi + 1] bounds actually sampled.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from engine.errors import EngineError, Problem, ReferenceProblems
from engine.io.loading import pair_problems
from engine.sim.rng import stable_key
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario, cut_turns, set_values
from engine.sweeps.errors import bad
from engine.sweeps.points import (
    Point,
    Range,
    Scalar,
    Value,
    clean_point,
    is_number,
    parse_lhs,
    parse_ranges,
    parse_vary,
    points_from,
)

__all__ = ["Cell", "Point", "Scalar", "Value", "apply_point", "check_points", "design_matrix",
           "grid", "latin_hypercube", "make_design", "morris_points", "parse_lhs",
           "parse_ranges", "parse_vary", "points_from", "sobol_points", "split_path"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Cell:
    """One point of the design: a scenario (by index) and the values set on it."""

    index: int
    scenario: int
    values: dict[str, Value]


_bad = bad  # the one sweep problem constructor (engine/sweeps/errors.py)


# ---- designs ---------------------------------------------------------------------------------

def grid(vary: dict[str, list[Value]]) -> list[dict[str, Value]]:
    """Every combination of the values, paths in the order given."""
    if not vary:
        return [{}]
    paths = list(vary)
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*vary.values())]


def latin_hypercube(ranges: dict[str, Range], samples: int,
                    root: int) -> list[dict[str, Value]]:
    """``samples`` points, each range cut into equal strata hit once; int ranges give ints,
    every integer of lo..hi equally likely."""
    if samples < 1:
        raise _bad("--samples", f"expected a positive number of samples, found {samples}")
    rng = np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(root, spawn_key=(stable_key("design.lhs"),))))
    columns: dict[str, list[Value]] = {}
    for path, (lo, hi) in ranges.items():
        u = (rng.permutation(samples) + rng.random(samples)) / samples
        if _integer_range(lo, hi):
            columns[path] = [_floor_in(lo + v * (hi - lo + 1), hi) for v in u.tolist()]
        else:
            columns[path] = [round(float(v), 9) for v in lo + u * (hi - lo)]
    return [{p: columns[p][k] for p in ranges} for k in range(samples)]


def _integer_range(lo: float, hi: float) -> bool:
    return type(lo) is int and type(hi) is int


def _floor_in(x: float, hi: float) -> int:
    """The integer a sample x of [lo, hi + 1] plays as (hi + 1 itself, the closed end, is hi)."""
    return min(int(hi), math.floor(x))


def sobol_points(ranges: dict[str, Range], n: int, seed: int, *,
                 second_order: bool = False) -> tuple[list[Point], dict[str, Any]]:
    """Saltelli's design for Sobol indices: n * (d + 2) points (n * (2d + 2) with second-order
    indices) over the ranges, n a power of 2; returns the points and the JSON-ready design info
    (kind, SALib problem, n, second_order, seed, integer paths)."""
    if n < 2 or n & (n - 1):
        raise _bad("--samples", f"a Sobol design needs a power of 2 of at least 2 base samples "
                                f"(the sequence's balance needs it), found {n}")
    info = {"kind": "sobol", **_problem(ranges, "--sobol"), "n": n,
            "second_order": bool(second_order), "seed": int(seed)}
    return _points_of(design_matrix(info), info), info


def morris_points(ranges: dict[str, Range], trajectories: int, levels: int,
                  seed: int) -> tuple[list[Point], dict[str, Any]]:
    """Morris elementary-effect trajectories: trajectories * (d + 1) points on a grid of
    ``levels`` (even) values per range; returns the points and the JSON-ready design info."""
    if trajectories < 2:
        raise _bad("--samples", f"Morris screening needs at least 2 trajectories, found "
                                f"{trajectories}")
    if levels < 2 or levels % 2:
        raise _bad("--levels", f"Morris levels must be an even number of at least 2 (odd "
                               f"levels bias the sample), found {levels}")
    info = {"kind": "morris", **_problem(ranges, "--morris"), "trajectories": trajectories,
            "levels": levels, "seed": int(seed)}
    return _points_of(design_matrix(info), info), info


def design_matrix(info: Mapping[str, Any]) -> np.ndarray:
    """The SALib sample matrix (floats, before integer paths are floored) of a Sobol or Morris
    design, regenerated from its info: Morris analysis needs it as X."""
    problem = copy.deepcopy(dict(info["problem"]))  # SALib adds keys to the dict it is given
    seed = int(np.random.SeedSequence(
        int(info["seed"]), spawn_key=(stable_key(f"design.{info['kind']}"),)
    ).generate_state(1)[0])
    if info["kind"] == "sobol":
        return np.asarray(_salib("sobol").sample(
            problem, int(info["n"]), calc_second_order=bool(info["second_order"]),
            scramble=True, seed=seed))
    if info["kind"] == "morris":
        return np.asarray(_salib("morris").sample(
            problem, int(info["trajectories"]), num_levels=int(info["levels"]), seed=seed))
    raise _bad("design", f"no SALib sample for a '{info['kind']}' design")


def _problem(ranges: dict[str, Range], option: str) -> dict[str, Any]:
    if not ranges:
        raise _bad(option, f"name at least one range ({option} PATH=lo:hi)")
    bounds: list[list[float]] = []
    for path, (lo, hi) in ranges.items():
        if not (is_number(lo) and is_number(hi) and lo < hi):
            raise _bad(option, f"{path}: expected a range lo < hi, found {lo}:{hi}")
        bounds.append([lo, hi + 1] if _integer_range(lo, hi) else [float(lo), float(hi)])
    return {"problem": {"num_vars": len(ranges), "names": list(ranges), "bounds": bounds},
            "integers": [p for p, (lo, hi) in ranges.items() if _integer_range(lo, hi)]}


def _points_of(matrix: np.ndarray, info: Mapping[str, Any]) -> list[Point]:
    names, ints = info["problem"]["names"], set(info["integers"])
    bounds = info["problem"]["bounds"]
    return [{p: _floor_in(x, b[1] - 1) if p in ints else float(x)
             for p, x, b in zip(names, row, bounds, strict=True)} for row in matrix.tolist()]


def _salib(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"SALib.sample.{name}")
    except ImportError:
        raise EngineError("", (Problem("sweep", f"a {name.title()} design needs SALib: pip "
                                                "install 'wargame-engine[analysis]'",
                                       field=f"--{name}"),)) from None


def make_design(kind: str = "grid", *, vary: dict[str, list[Value]] | None = None,
                ranges: dict[str, Range] | None = None, samples: int | None = None,
                points: Any = None, levels: int = 4, second_order: bool = False,
                seed: int = 0) -> tuple[list[Point], dict[str, Any]]:
    """The points of a design and its JSON-ready info. kind: grid (vary), lhs (ranges, samples
    points), sobol (ranges, samples = base n), morris (ranges, samples = trajectories, levels)
    or points (anything points_from reads)."""
    if kind not in ("grid", "lhs", "sobol", "morris", "points"):
        raise _bad("design", f"expected grid, lhs, sobol, morris or points, found '{kind}'")
    option = {"grid": "--vary", "points": "--design"}.get(kind, f"--{kind}")
    own = {"grid": "--vary", "points": "--design"}.get(kind, "ranges")
    others = [name for name, there in (("--vary", bool(vary)), ("--design", points is not None),
                                       ("ranges", bool(ranges))) if there and name != own]
    if others:
        label = "ranges (--lhs, --sobol, --morris)" if others[0] == "ranges" else others[0]
        raise _bad(option, f"{label} cannot be combined with {option}; a sweep has one design")
    if kind == "grid":
        return grid(vary or {}), {"kind": "grid", "vary": vary or {}}
    if kind == "points":
        chosen = points_from(points)
        return chosen, {"kind": "points", "paths": list(chosen[0]), "points": len(chosen)}
    if not ranges or not samples:
        raise _bad(option, f"a {kind} design needs ranges ({option} PATH=lo:hi) and --samples")
    if kind == "lhs":
        info = {"kind": "lhs", "ranges": {k: list(v) for k, v in ranges.items()},
                "samples": samples}
        return latin_hypercube(ranges, samples, seed), info
    if kind == "sobol":
        return sobol_points(ranges, samples, seed, second_order=second_order)
    return morris_points(ranges, samples, levels, seed)


# ---- factor paths ----------------------------------------------------------------------------

def split_path(path: str) -> tuple[str, str]:
    """("scenario" or "rules", the path inside it); a bare path is a scenario path."""
    head, _, rest = path.partition(".")
    if head in ("scenario", "rules"):
        if not rest:
            raise _refuse("sweep", f"'{path}' alone names no value; write {head}.PATH, e.g. "
                                   + ("rules.red_model.rationality" if head == "rules"
                                      else "scenario.blue.isr.mq9.aircraft"))
        return head, rest
    return "scenario", path


def apply_point(scenario: Scenario, rules: Rules,
                values: Mapping[str, Value]) -> tuple[Scenario, Rules]:
    """The scenario and rules with the point's values set, each re-validated (a changed
    ``turns.count`` drops later injects, as ``with_turns`` does); EngineError names the path,
    the value, and for an unknown path the valid names at that level."""
    owner = scenario.meta.id
    parts: dict[str, dict[str, tuple[str, Value]]] = {"scenario": {}, "rules": {}}
    for path, value in clean_point(values, owner).items():
        try:
            target, inner = split_path(path)
        except EngineError as e:  # named by the scenario, as every other path error is
            raise _refuse(owner, e.problems[0].message) from None
        for other, (given, _) in parts[target].items():
            if other == inner or inner.startswith(other + ".") or other.startswith(inner + "."):
                raise _refuse(owner, f"'{given}' and '{path}' set the same field")
        parts[target][inner] = (path, value)
    new_s = _apply(scenario, parts["scenario"], owner) if parts["scenario"] else scenario
    new_r = _apply(rules, parts["rules"], f"rules {rules.name}") if parts["rules"] else rules
    return new_s, new_r


def _apply(base: M, items: dict[str, tuple[str, Value]], owner: str) -> M:
    model = type(base)
    data = base.model_dump(mode="json")
    for inner, (path, _) in items.items():
        _check_path(data, inner, path, owner, model is Scenario)
    set_values(data, {inner: copy.deepcopy(v) for inner, (_, v) in items.items()})
    count = items.get("turns.count", (None, None))[1]
    if model is Scenario and type(count) is int:  # the with_turns rule, in the same pass
        cut_turns(data, count)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise _value_error(e, items, owner) from None


def _check_path(data: dict[str, Any], inner: str, path: str, owner: str,
                in_scenario: bool) -> None:
    """Every step of the path exists and it ends at one value, or an error naming the step
    and the valid names where it failed."""
    prefix = path[: len(path) - len(inner)]
    node: Any = data
    steps = inner.split(".")
    if not all(steps):
        raise _refuse(owner, f"{path}: an empty step in the path (two dots, or a dot at an end)")
    for i, step in enumerate(steps):
        where = prefix + ".".join(steps[:i])
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, dict):
            raise _refuse(owner, f"{path}: {_unknown(step, sorted(node), where, in_scenario)}")
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        elif isinstance(node, list):
            raise _refuse(owner, f"{path}: position '{step}' is out of range at '{where}' (the "
                                 f"list has {len(node)} items, positions 0 to {len(node) - 1})")
        else:
            raise _refuse(owner, f"{path}: '{where}' holds a value ({_shown(node)}), not "
                                 "fields; the path ends there")
    if isinstance(node, dict):
        names = ", ".join(sorted(node)) or "none here"
        raise _refuse(owner, f"{path}: is a group of fields ({names}), not one value; name "
                             "one of them")


def _unknown(step: str, keys: list[str], where: str, in_scenario: bool) -> str:
    """No such field: the close matches, a hint across scenario and rules, and every name."""
    kind, other, other_kind = ("scenario", Rules, "rules") if in_scenario else (
        "rules", Scenario, "scenario")
    top = where.rstrip(".") in ("", kind)
    text = f"no field '{step}' at " + (f"the top level of the {kind}" if top else f"'{where}'")
    close = difflib.get_close_matches(step, keys, n=3, cutoff=0.6)
    if close:
        text += "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if top and step in other.model_fields:  # a rules path written bare, or the reverse
        text += f" ('{step}' is a {other_kind} field: write {other_kind}.{step}...)"
    shown = keys[:40] + ([f"... {len(keys) - 40} more"] if len(keys) > 40 else [])
    return text + f" (valid there: {', '.join(shown)})"


def _value_error(e: ValidationError, items: dict[str, tuple[str, Value]],
                 owner: str) -> EngineError:
    err = e.errors(include_url=False)[0]
    error = err.get("ctx", {}).get("error")
    found = error.problems if isinstance(error, ReferenceProblems) else [
        (".".join(str(x) for x in err["loc"]), err["msg"])]
    for where, message in found:
        for inner, (path, value) in items.items():
            if where == inner or where.startswith(inner + ".") or inner.startswith(where + "."):
                at = "" if where == inner else f" (at {where})"
                return _refuse(owner, f"{path} = {_shown(value)}: {message}{at}")
    given = ", ".join(f"{path} = {_shown(value)}" for path, value in items.values())
    why = "; ".join(f"{w}: {m}" if w else m for w, m in found)
    return _refuse(owner, f"{given}: {why}")


def _shown(value: Any) -> str:
    return json.dumps(value)[:80]


def _refuse(owner: str, message: str) -> EngineError:
    return EngineError("", (Problem(owner, message),))


def check_points(scenarios: Sequence[Scenario], rules: Rules,
                 points: Sequence[Mapping[str, Any]], option: str = "--design") -> list[Cell]:
    """Scenario-major cells; every point applied to every scenario (and the rules) and the pair
    cross-checked before any run; EngineError names the option, point, path and value."""
    clean = [clean_point(p, f"<design point {k}>") for k, p in enumerate(points, 1)]
    out: list[Cell] = []
    for si, s in enumerate(scenarios):
        for k, values in enumerate(clean, 1):
            where = f"point {k} of {len(clean)}" if values else "the base case"
            try:
                new_s, new_r = apply_point(s, rules, values)
            except EngineError as e:
                p = e.problems[0] if e.problems else Problem(s.meta.id, str(e))
                raise _bad(option, f"{p.file}: {where}: {p.message}") from None
            problems = pair_problems(new_s, new_r)
            if problems:
                raise _bad(option, f"{s.meta.id} with rules {rules.name}: {where}: "
                                   + "; ".join(problems[:3]))
            out.append(Cell(len(out), si, values))
    return out

