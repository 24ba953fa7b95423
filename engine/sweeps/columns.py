"""The columns of a sweep's two tables and their data dictionary.

Column names need no quoting in pandas, polars, SQL or R. A factor column is its dotted path with
a leading ``scenario.`` dropped and every character outside ``[A-Za-z0-9_]`` replaced by ``_``
(``blue.isr.mq9.aircraft`` -> ``blue_isr_mq9_aircraft``, ``rules.red_model.rationality`` ->
``rules_red_model_rationality``); a name that clashes with another column gets the prefix
``factor_``. Types are stable: integers stay int64 (null where missing, never float), a factor's
type is the type of the field it sets, and list-valued factors are canonical JSON strings.

Every Parquet field carries metadata (``description``, ``unit``, and ``path`` for a factor), and
``data_dictionary`` gives the same as JSON (``wargame schema sweep``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

SWEEP_FORMAT = "wargame-sweep/2"

Field = tuple[str, pa.DataType, str, str]  # name, type, unit, description

IDENTITY: list[Field] = [
    ("run_id", pa.string(), "", "the run's id CELL-REPLICATION, as `wargame sweep run --run` "
                                "takes it"),
    ("cell", pa.int64(), "", "design cell (0-based): a scenario with the factor values set"),
    ("replication", pa.int64(), "", "replication within the cell (0-based)"),
    ("seed", pa.int64(), "", "the run's seed: `engine.run(scenario, rules, seed)` or `wargame "
                             "run --seed` with the cell's scenario and rules replays it; with "
                             "common random numbers replication i has the same seed in every "
                             "cell"),
    ("scenario", pa.string(), "", "the scenario's id (meta.id)"),
    ("blue_controller", pa.string(), "", "who played Blue: doctrine, recorded (a game's "
                                         "orders, then nothing), recorded-then-doctrine, or a "
                                         "Python policy's name"),
    ("red_controller", pa.string(), "", "who played Red: doctrine or a Python policy's name"),
    ("blue_scripted_turns", pa.int64(), "turns", "turns of a recorded game whose Blue orders "
                                                 "Blue replayed (null: Blue was not scripted)"),
]

OUTCOMES: list[Field] = [
    ("deterrence_held", pa.bool_(), "", "true when Red never ordered an armed attack"),
    ("failure_turn", pa.int64(), "turn", "turn Red ordered the armed attack (null: never)"),
    ("known_turn", pa.int64(), "turn", "turn Blue learned of the armed attack (null: never)"),
    ("article5_turn", pa.int64(), "turn", "turn Article V was invoked (null: never)"),
    ("highest_rung", pa.string(), "", "highest escalation rung reached"),
    ("highest_level", pa.int64(), "level", "level of the highest rung (the rules' ladder)"),
    ("turns_played", pa.int64(), "turns", "turns played: a run ends a fixed number of turns "
                                          "after an armed attack, so measures summed over a "
                                          "run cover this many turns"),
    ("red_gains", pa.float64(), "notional gain", "Red's gains summed over the turns played"),
    ("red_losses", pa.float64(), "ships", "Red navy ships sunk, over the turns played"),
    ("blue_losses", pa.float64(), "launchers", "Blue launchers lost, over the turns played"),
    ("incursions", pa.int64(), "incursions", "Red incursions over the turns played"),
    ("incursions_detected", pa.int64(), "incursions", "incursions Blue detected"),
    ("mean_time_to_detect_h", pa.float64(), "hours", "mean hours from an incursion to its "
                                                     "first detection, over detected incursions "
                                                     "only (null: none detected)"),
    ("detections", pa.int64(), "detections", "sensor detections over the turns played"),
    ("c2_messages", pa.int64(), "messages", "command-and-control messages sent"),
    ("c2_mean_latency_h", pa.float64(), "hours", "mean delivery latency of delivered messages "
                                                 "(null: none delivered)"),
    ("c2_delivery_rate", pa.float64(), "share", "messages delivered / sent (null: none sent)"),
]

TAIL: list[Field] = [
    ("error", pa.string(), "", "null, or the exception the run raised (its measures are then "
                               "null)"),
]

TURNS: list[Field] = [
    ("run_id", pa.string(), "", "the run's id CELL-REPLICATION (joins the runs table)"),
    ("cell", pa.int64(), "", "design cell"),
    ("replication", pa.int64(), "", "replication within the cell"),
    ("turn", pa.int64(), "turn", "turn number (1-based), one row per turn played"),
    ("rung", pa.string(), "", "escalation rung at the turn's end"),
    ("level", pa.int64(), "level", "level of that rung"),
    ("detections", pa.int64(), "detections", "sensor detections during this turn"),
    ("c2_available", pa.float64(), "share", "share of C2 links up at the turn's end"),
    ("red_action", pa.string(), "", "Red's first order's action this turn (empty: none)"),
    ("red_action_p", pa.float64(), "probability", "probability Red's quantal-response choice "
                                                  "gave that action (null for doctrine rules, "
                                                  "scripted or Python controllers)"),
    ("blue_actions", pa.string(), "", "Blue's executed actions this turn, joined by '+'"),
]

# identity columns every row has (a run's or a turn's key and who played it): not nullable, in
# the Arrow and Parquet schemas (REQUIRED fields) and in the data dictionary alike
NEVER_NULL = frozenset({"run_id", "cell", "replication", "seed", "scenario", "blue_controller",
                        "red_controller", "turn"})

OUTCOME_FIELDS: list[tuple[str, pa.DataType]] = [(n, t) for n, t, _, _ in OUTCOMES]
FIXED = {n for n, *_ in IDENTITY + OUTCOMES + TAIL}


def canonical_path(path: str) -> str:
    """The full dotted path: a bare path is a scenario path."""
    return path if path.startswith(("scenario.", "rules.")) else f"scenario.{path}"


def factor_names(paths: Iterable[str]) -> dict[str, str]:
    """Column name of each factor path (THE RULE in the module docstring), unique."""
    out: dict[str, str] = {}
    taken = set(FIXED)
    for path in paths:
        full = canonical_path(path)
        name = re.sub(r"[^A-Za-z0-9_]", "_", full.removeprefix("scenario."))
        if name in taken or not name or name[0].isdigit():
            name = f"factor_{name}"
        while name in taken:  # two paths that only differ in punctuation
            name += "_"
        taken.add(name)
        out[path] = name
    return out


def _field(name: str, kind: pa.DataType, unit: str, text: str,
           path: str | None = None) -> pa.Field:
    meta = {"description": text, "unit": unit}
    if path is not None:
        meta["path"] = path
    return pa.field(name, kind, nullable=_nullable(name, path), metadata=meta)


def _nullable(name: str, path: str | None) -> bool:
    return path is not None or name not in NEVER_NULL  # a factor column is never an identity


ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
               "str": pa.string(), "json": pa.string()}


def run_columns(factors: Sequence[Mapping[str, str]]) -> list[str]:
    """The runs table's column names, in order."""
    return ([n for n, *_ in IDENTITY] + [f["name"] for f in factors]
            + [n for n, *_ in OUTCOMES + TAIL])


def run_schema(factors: Sequence[Mapping[str, str]], metadata: bool = True) -> pa.Schema:
    """The runs table: identity, one column per factor ({"name", "path", "type"}), outcomes,
    error. Without metadata for what workers send (the store adds it when writing)."""
    fields = [_field(*f) for f in IDENTITY]
    fields += [_field(f["name"], ARROW_TYPES[f["type"]], "",
                      _factor_text(f["type"]), canonical_path(f["path"])) for f in factors]
    fields += [_field(*f) for f in OUTCOMES + TAIL]
    schema = pa.schema(fields)
    if not metadata:
        return _bare(schema)
    return _table_metadata(schema, "runs")


def _bare(schema: pa.Schema) -> pa.Schema:
    """The schema without any metadata: names, types and nullability only."""
    return pa.schema([pa.field(f.name, f.type, nullable=f.nullable) for f in schema])


def turn_schema(metadata: bool = True) -> pa.Schema:
    """The per-turn table, keyed by (cell, replication, turn)."""
    schema = pa.schema([_field(*f) for f in TURNS])
    return _table_metadata(schema, "turns") if metadata else _bare(schema)


# pandas reads an integer column with nulls as float64, and a boolean one as object, unless the
# file's pandas metadata names its extension dtype: then Int64 and boolean, as they are here
_PANDAS_DTYPES = {pa.int64(): ("int64", "Int64"), pa.bool_(): ("bool", "boolean")}


def _table_metadata(schema: pa.Schema, table: str) -> pa.Schema:
    columns = [{"name": f.name, "field_name": f.name, "pandas_type": _PANDAS_DTYPES[f.type][0],
                "numpy_type": _PANDAS_DTYPES[f.type][1], "metadata": None}
               for f in schema if f.type in _PANDAS_DTYPES]
    pandas = {"index_columns": [], "column_indexes": [], "columns": columns,
              "creator": {"library": "pyarrow", "version": pa.__version__},
              "pandas_version": "2.1.0"}
    return schema.with_metadata({"wargame.format": SWEEP_FORMAT, "wargame.table": table,
                                 "pandas": json.dumps(pandas)})


def _factor_text(kind: str) -> str:
    if kind == "json":
        return "factor: the value set at the path, a list as canonical JSON text"
    return "factor: the value set at the path in this cell"


def value_type(base: Any, values: Iterable[Any]) -> str:
    """A factor's column type: the type of the field it sets (its value in the base model),
    else what its values share; lists are JSON text."""
    for v in (base, *values):
        if isinstance(v, list | dict):
            return "json"
    if isinstance(base, bool):
        return "bool"
    if isinstance(base, float):
        return "float"
    if isinstance(base, int):
        return "int" if all(_is_int(v) for v in values) else "float"
    vals = list(values)
    if vals and all(isinstance(v, bool) for v in vals):
        return "bool"
    if vals and all(_is_int(v) for v in vals):
        return "int"
    if vals and all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
        return "float"
    return "str"


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer())


def data_dictionary(factors: Sequence[Mapping[str, str]] | None = None) -> dict[str, Any]:
    """The two tables' columns, types, units and meanings, JSON-ready; with a sweep's factors,
    its factor columns too (else the rule that names them)."""
    def table(schema: pa.Schema) -> list[dict[str, Any]]:
        out = []
        for f in schema:
            meta = {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
            out.append({"name": f.name, "type": str(f.type), "nullable": f.nullable, **meta})
        return out

    return {
        "format": SWEEP_FORMAT,
        "layout": {
            "runs/": "the per-run table, one row per run: Parquet parts part-NNNNNN.parquet; "
                     "read the folder with pandas.read_parquet, pyarrow.dataset.dataset, "
                     "polars.scan_parquet, or DuckDB read_parquet('DIR/runs/*.parquet')",
            "turns/": "the per-turn table, one row per turn played, parts numbered as the "
                      "runs parts they belong to",
            "manifest.json": "what the sweep is: scenarios, rules, design, seeds, controllers, "
                             "replications, its parts with row counts and SHA-256",
            "lock": "held (flock) by the sweep writing the folder",
        },
        "factor_columns": "one column per factor path: the path without a leading "
                          "'scenario.', each character outside [A-Za-z0-9_] replaced by '_', "
                          "prefixed 'factor_' on a clash; its field metadata gives the path",
        "runs": {"key": ["cell", "replication"], "columns": table(run_schema(factors or []))},
        "turns": {"key": ["cell", "replication", "turn"], "columns": table(turn_schema())},
    }
