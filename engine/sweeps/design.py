"""Experimental designs for sweeps: which scenario variants (cells) to run.

A cell is one scenario with values set at dotted paths (``blue.isr.mq9.aircraft``). A grid takes
every combination of the listed values; a Latin hypercube draws ``samples`` points over ranges,
one per stratum of each range (McKay, Beckman and Conover 1979), from a stream of the sweep's
root seed so the design itself is reproducible.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from engine.errors import EngineError, Problem
from engine.sim.rng import stable_key
from engine.spec.scenario import Scenario, with_values

Value = int | float | str | bool


@dataclass(frozen=True)
class Cell:
    """One point of the design: a scenario (by index) and the values set on it."""

    index: int
    scenario: int
    values: dict[str, Value]


def parse_vary(items: list[str]) -> dict[str, list[Value]]:
    """``PATH=v1,v2,...`` options into a mapping; values read as YAML scalars (2, 0.5, true)."""
    out: dict[str, list[Value]] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        if not sep or not path or not raw:
            raise _bad("--vary", f"expected PATH=v1,v2,... found '{item}'")
        out[path.strip()] = [_scalar(v) for v in raw.split(",")]
    return out


def parse_lhs(items: list[str]) -> dict[str, tuple[float, float]]:
    """``PATH=lo:hi`` options into ranges."""
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        lo, colon, hi = raw.partition(":")
        lo_v: int | float | str | None
        hi_v: int | float | str | None
        try:
            lo_v, hi_v = _scalar(lo), _scalar(hi)
        except EngineError:
            lo_v = hi_v = None
        if not (sep and colon and ":" not in hi and isinstance(lo_v, int | float)
                and isinstance(hi_v, int | float) and lo_v <= hi_v):
            raise _bad("--lhs", f"expected PATH=lo:hi with numbers lo <= hi, found '{item}'")
        out[path.strip()] = (lo_v, hi_v)
    return out


def _scalar(text: str) -> Value:
    try:
        value = yaml.safe_load(text.strip())
    except yaml.YAMLError:
        value = None
    if not isinstance(value, int | float | str | bool):
        raise _bad("value", f"expected a number, word or true/false, found '{text}'")
    return value


def _bad(field: str, message: str) -> EngineError:
    return EngineError("", (Problem("sweep", message, field=field),))


def grid(vary: dict[str, list[Value]]) -> list[dict[str, Value]]:
    """Every combination of the values, paths in the order given."""
    if not vary:
        return [{}]
    paths = list(vary)
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*vary.values())]


def latin_hypercube(ranges: dict[str, tuple[float, float]], samples: int,
                    root: int) -> list[dict[str, Value]]:
    """``samples`` points, each range cut into equal strata hit once; int ranges give ints."""
    if samples < 1:
        raise _bad("--samples", f"expected a positive number of samples, found {samples}")
    rng = np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(root, spawn_key=(stable_key("design.lhs"),))))
    columns = {}
    for path, (lo, hi) in ranges.items():
        u = (rng.permutation(samples) + rng.random(samples)) / samples
        x = lo + u * (hi - lo)
        if isinstance(lo, int) and isinstance(hi, int):
            columns[path] = [round(v) for v in x.tolist()]
        else:
            columns[path] = [round(float(v), 9) for v in x]
    return [{p: columns[p][k] for p in ranges} for k in range(samples)]


def cells(scenarios: list[Scenario], points: list[dict[str, Value]],
          option: str = "--vary") -> list[Cell]:
    """Scenario-major list of cells; every point is checked against every scenario."""
    out: list[Cell] = []
    for si, s in enumerate(scenarios):
        for values in points:
            check_values(s, values, option)
            out.append(Cell(len(out), si, values))
    return out


def check_values(s: Scenario, values: dict[str, Any], option: str = "--vary") -> Scenario:
    """The scenario with the values set, or an error naming the bad path or value."""
    try:
        return with_values(s, values)
    except KeyError as e:
        raise _bad(option, f"{s.meta.id}: {e.args[0]} (paths are dotted scenario paths "
                             "such as blue.isr.mq9.aircraft)") from None
    except IndexError:  # a list position past the end (blue.isr.mq9.zones.7)
        raise _bad(option, f"{s.meta.id}: {values}: a list index in the path is out of "
                             "range") from None
    except (ValidationError, ValueError) as e:
        first = e.errors()[0] if isinstance(e, ValidationError) else {"msg": str(e), "loc": ()}
        where = ".".join(str(x) for x in first["loc"])
        raise _bad(option, f"{s.meta.id}: {values}: {where}: {first['msg']}") from None
