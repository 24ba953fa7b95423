"""A log's records as a pyarrow Table, for notebooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.io.replay import read_log


def log_table(path: str | Path, batch: int = 50_000) -> Any:
    """The log's records as a pyarrow Table (data kept as a JSON string column)."""
    import pyarrow as pa

    schema = pa.schema([("seq", pa.int64()), ("turn", pa.int64()), ("t", pa.float64()),
                        ("kind", pa.string()), ("side", pa.string()), ("unit", pa.string()),
                        ("visible_to", pa.list_(pa.string())), ("data", pa.string())])
    batches, rows = [], []
    for rec in read_log(path).records():
        rows.append({**{k: rec[k] for k in schema.names if k != "data"},
                     "data": json.dumps(rec["data"], sort_keys=True)})
        if len(rows) >= batch:
            batches.append(pa.RecordBatch.from_pylist(rows, schema))
            rows = []
    if rows or not batches:
        batches.append(pa.RecordBatch.from_pylist(rows, schema))
    return pa.Table.from_batches(batches, schema)
