"""A sweep's specification: the JSON-ready description of what every run is (scenarios, rules,
design cells with their factor columns, controllers, seeding), whose identity part is hashed
into the sweep's key. Workers rebuild each cell's models from it alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine import __version__
from engine.canonical import canonical, sha256_of
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario
from engine.sweeps.columns import SWEEP_FORMAT, canonical_path, factor_names, value_type
from engine.sweeps.errors import bad
from engine.sweeps.store import with_cell_keys

_bad = bad  # the one sweep problem constructor (engine/sweeps/errors.py)


def build_spec(scenarios: Any, *, vary: dict[str, list] | None = None, design: Any = "grid",
               ranges: dict[str, tuple[float, float]] | None = None,
               samples: int | None = None, levels: int = 4, replications: int, seed: int,
               seeding: str = "crn", rules: Any = None,
               controllers: Mapping[str, Any] | None = None,
               blue_orders: dict[int, list[dict]] | None = None,
               recorded_turns: int | None = None, after_recorded: str = "stop",
               turns: bool = True) -> dict[str, Any]:
    """Load scenarios, build and check the design, and return the sweep's specification.
    ``design``: grid, lhs, sobol or morris, or explicit points (a DataFrame, an Arrow table, a
    list of dicts, or a .csv/.parquet path)."""
    from engine.io.loading import load_pair, load_rules, load_scenario
    from engine.sweeps.design import check_points, make_design

    if replications < 1:
        raise _bad("--runs", f"expected at least one replication, found {replications}")
    if seeding not in ("crn", "independent"):
        raise _bad("seeding", f"expected crn or independent, found '{seeding}'")
    items = scenarios if isinstance(scenarios, list | tuple) else [scenarios]
    if not items:
        raise _bad("SCENARIO", "name at least one scenario")
    if isinstance(rules, Rules):
        models = [s if isinstance(s, Scenario) else load_scenario(s) for s in items]
        rule_set = rules
    else:
        models = [s if isinstance(s, Scenario) else load_pair(s, rules)[0] for s in items]
        rule_set = load_rules(rules or models[0].rules)
    kind = design if isinstance(design, str) and design in KINDS else "points"
    points, info = make_design(kind, vary=vary, ranges=ranges, samples=samples, levels=levels,
                               points=None if kind != "points" else design, seed=seed)
    option = {"grid": "--vary", "points": "--design"}.get(kind, f"--{kind}")
    cells = check_points(models, rule_set, points, option)
    doc = controllers_doc(controllers, blue_orders, recorded_turns, after_recorded)
    spec: dict[str, Any] = {
        "format": SWEEP_FORMAT, "engine": __version__, "root": int(seed), "seeding": seeding,
        "scenarios": [s.model_dump(mode="json") for s in models],
        "rules": rule_set.model_dump(mode="json"), "controllers": doc,
        "blue_orders": {str(k): v for k, v in sorted(blue_orders.items())}
        if blue_orders is not None else None,
        "turns": bool(turns), "design": info, "replications": int(replications),
    }
    spec["key"] = sha256_of({k: spec[k] for k in IDENTITY})
    spec["factors"], rows = factor_columns(spec, [c.values for c in cells])
    spec["cells"] = with_cell_keys([{"index": c.index, "scenario": c.scenario, "values": c.values,
                                     "row": row} for c, row in zip(cells, rows, strict=True)],
                                   spec)
    return spec


KINDS = ("grid", "lhs", "sobol", "morris")
# what a run of cell c, replication i means: a folder holding another of these is another sweep
IDENTITY = ("format", "engine", "root", "seeding", "scenarios", "rules", "controllers",
            "blue_orders", "turns")


def factor_columns(spec: dict[str, Any], points: list[Mapping[str, Any]]
                   ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The factor columns ({"name", "path", "type"}) and each cell's typed column values (a
    path a point leaves out has the base model's value there)."""
    paths: dict[str, str] = {}  # canonical path -> the first spelling seen
    for p in points:
        for path in p:
            paths.setdefault(canonical_path(path), path)
    names = factor_names(paths.values())
    bases = {full: _value_at(spec, full) for full in paths}
    factors = []
    for full, path in paths.items():
        values = [v for p in points for k, v in p.items() if canonical_path(k) == full]
        factors.append({"name": names[path], "path": path,
                        "type": value_type(bases[full], values)})
    rows = []
    for p in points:
        given = {canonical_path(k): v for k, v in p.items()}
        rows.append({f["name"]: _typed(given.get(canonical_path(f["path"]),
                                                 bases[canonical_path(f["path"])]), f["type"])
                     for f in factors})
    return factors, rows


def _value_at(spec: dict[str, Any], full: str) -> Any:
    """The value at a full path in the first scenario or the rules (None if absent)."""
    head, _, inner = full.partition(".")
    node: Any = spec["scenarios"][0] if head == "scenario" else spec["rules"]
    for step in inner.split("."):
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node


def _typed(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "json":
        return canonical(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value if kind == "bool" else str(value)


def controllers_doc(controllers: Mapping[str, Any] | None,
                    blue_orders: dict[int, list[dict]] | None, recorded_turns: int | None,
                    after_recorded: str) -> dict[str, dict[str, Any]]:
    """Who plays each side, JSON-ready (names and where a Python policy is defined)."""
    from engine.sim.controllers import name_of

    doc: dict[str, dict[str, Any]] = {s: {"kind": "doctrine", "name": "doctrine"}
                                      for s in ("blue", "red")}
    for side, c in (controllers or {}).items():
        if side not in doc:
            raise _bad("controllers", f"expected a side blue or red, found '{side}'")
        if not callable(c):
            raise _bad("controllers", f"controllers['{side}']: expected a callable (observation,"
                                      f" menu) -> orders, found {type(c).__name__}")
        target = c if isinstance(c, type) or hasattr(c, "__qualname__") else type(c)
        doc[side] = {"kind": "python", "name": name_of(c),
                     "ref": f"{target.__module__}:{target.__qualname__}"}
    if blue_orders is not None:
        if after_recorded not in ("stop", "doctrine"):
            raise _bad("--after-recorded", f"expected stop or doctrine, found "
                                           f"'{after_recorded}'")
        if doc["blue"]["kind"] == "python":
            raise _bad("controllers", "Blue cannot both replay recorded orders and be played "
                                      "by a Python policy")
        doc["blue"] = {"kind": "recorded", "after": after_recorded, "turns": recorded_turns,
                       "name": "recorded" if after_recorded == "stop"
                       else "recorded-then-doctrine"}
    return doc


def policy_blob(spec: dict[str, Any], controllers: Mapping[str, Any] | None) -> bytes | None:
    """The sweep's Python policies pickled for the workers (cloudpickle: a policy defined in a
    notebook or script travels by value); they must match the specification's names."""
    wanted = {s: d["name"] for s, d in spec["controllers"].items() if d["kind"] == "python"}
    from engine.sim.controllers import name_of

    given = {s: name_of(c) for s, c in (controllers or {}).items()}
    if given != wanted:
        raise _bad("controllers", f"this sweep is played by Python policies {wanted or 'none'}; "
                                  f"given {given or 'none'}")
    if not controllers:
        return None
    import cloudpickle

    try:
        return bytes(cloudpickle.dumps(dict(controllers)))
    except Exception as e:
        raise _bad("controllers", f"a policy cannot be sent to worker processes: {e}") from None


