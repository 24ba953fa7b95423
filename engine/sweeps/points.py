"""Explicit design points: a table of values, one row per point, one column per dotted path.

A design comes from a pandas DataFrame, a pyarrow Table (or anything speaking the Arrow stream
protocol: polars, DuckDB), a list of dicts, or a ``.csv`` / ``.parquet`` file. Every value ends as
plain JSON data: a number, a word, true/false, or a flat list of those (a list-valued field such
as ``treaty.article5_domains``). CSV cells are read as YAML 1.2 core scalars or flow lists
(``4``, ``0.5``, ``true``, ``cyber``, ``[land_sea_air, cyber]``) by the same bounded loader as
scenario files, never evaluated; an empty cell is an error, not a default.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import EngineError, InputError, Problem
from engine.io.loading import read_file, read_yaml

Scalar = int | float | str | bool
Value = Scalar | list[Scalar]
Point = dict[str, Value]
Range = tuple[float, float]

# A design file may be far larger than a scenario (100,000 points of a dozen factors is ~10 MB);
# the bound keeps a mistaken argument (a multi-GB log) from being read whole.
MAX_DESIGN_BYTES = 64_000_000
KINDS = "a number, a word, true/false, or a flat list of those"


def clean_value(value: Any) -> Value:
    """The value as plain JSON data (numpy and Arrow scalars unwrapped); ValueError names what
    is wrong: missing (None, NaN), not finite, or not a number, word, flag or flat list."""
    value = _plain(value)
    if isinstance(value, list):
        return [_clean_scalar(_plain(v), in_list=True) for v in value]
    return _clean_scalar(value, in_list=False)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | tuple):
        return [v.item() if isinstance(v, np.generic) else v for v in value]
    return value


def _clean_scalar(value: Any, in_list: bool) -> Scalar:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError("missing value" + (" inside the list" if in_list else ""))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    if isinstance(value, bool | int | float | str):
        return value
    found = "a list inside a list" if isinstance(value, list) else type(value).__name__
    raise ValueError(f"expected {KINDS}; found {found}")


def clean_point(point: Any, where: str) -> Point:
    """One design point checked: a mapping of path strings to clean values."""
    if not isinstance(point, Mapping):
        raise _problem(where, f"expected a mapping of paths to values, found "
                              f"{type(point).__name__}")
    out: Point = {}
    for key, value in point.items():
        if not isinstance(key, str) or not key:
            raise _problem(where, f"a path must be non-empty text, found {key!r}")
        try:
            out[key] = clean_value(value)
        except ValueError as e:
            raise _problem(where, str(e), field=key) from None
    return out


def parse_value(text: str, name: str) -> Value:
    """One value written as YAML (scalar or flow list); ValueError says why it is refused."""
    if not text.strip():
        raise ValueError("empty value; every cell of a design needs a value")
    try:
        data = read_yaml(text, name).data
    except InputError as e:  # the bounded loader: syntax, alias bombs, unknown tags
        raise ValueError(e.problems[0].message if e.problems else str(e)) from None
    return clean_value(data)


# ---- options ---------------------------------------------------------------------------------

def parse_vary(items: list[str]) -> dict[str, list[Value]]:
    """``PATH=v1,v2,...`` options into a mapping; values read as YAML scalars (2, 0.5, true) or
    flow lists for list-valued fields (``treaty.article5_domains=[land_sea_air],[cyber]``)."""
    out: dict[str, list[Value]] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip() or not raw.strip():
            raise _option_error("--vary", f"expected PATH=v1,v2,... found '{item}'")
        empty = _empty_value(raw)
        if empty:
            raise _option_error("--vary", f"expected PATH=v1,v2,... found '{item}': {empty}")
        try:  # the values, bracketed, are one YAML flow list: [2, 4] or [[a], [a, b]]
            out[path.strip()] = [clean_value(v) for v in read_yaml(f"[{raw}]", "--vary").data]
        except (InputError, ValueError) as e:
            why = e.problems[0].message if isinstance(e, InputError) and e.problems else e
            raise _option_error("--vary", f"expected PATH=v1,v2,... found '{item}': "
                                          f"{why}") from None
    return out


def _empty_value(raw: str) -> str | None:
    """Where a comma-separated list of values has an empty one, in words (commas inside
    brackets or quotes separate nothing here); None when every value is there."""
    pieces, depth, quote, start, last = [], 0, "", 0, ","
    for k, ch in enumerate(raw):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"" and last in ",[{":  # a quote opens only a value (O'Brien is a word)
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            pieces.append(raw[start:k])
            start = k + 1
        last = ch if not ch.isspace() else last
    pieces.append(raw[start:])
    blank = [k for k, piece in enumerate(pieces) if not piece.strip()]
    if not blank:
        return None
    if blank[0] == 0:
        return "empty value before the first comma"
    if blank[0] == len(pieces) - 1:
        return "empty value after the last comma"
    return "empty value between commas"


def parse_ranges(items: list[str], option: str = "--lhs") -> dict[str, Range]:
    """``PATH=lo:hi`` options into ranges (ints when both ends are integers)."""
    out: dict[str, Range] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        lo, colon, hi = raw.partition(":")
        lo_v, hi_v = _range_end(lo), _range_end(hi)
        if not (sep and path.strip() and colon and lo_v is not None and hi_v is not None
                and lo_v <= hi_v):
            raise _option_error(option, "expected PATH=lo:hi with numbers lo <= hi, found "
                                        f"'{item}'")
        out[path.strip()] = (lo_v, hi_v)
    return out


def parse_lhs(items: list[str]) -> dict[str, Range]:
    """``--lhs PATH=lo:hi`` options (see parse_ranges)."""
    return parse_ranges(items, "--lhs")


def _range_end(text: str) -> int | float | None:
    """One end of a range: a finite number written as YAML, else None."""
    if ":" in text or not text.strip():
        return None
    try:
        value = clean_value(read_yaml(text, "range").data)
    except (InputError, ValueError):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def is_number(v: Any) -> bool:
    """A number, not a flag (bool is an int in Python)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def _option_error(option: str, message: str) -> EngineError:
    return EngineError("", (Problem("sweep", message, field=option),))


# ---- reading a design ------------------------------------------------------------------------

def points_from(obj: Any) -> list[Point]:
    """Design points from a DataFrame, an Arrow table, a list of dicts or a .csv/.parquet
    path, in row order (a DataFrame's index is ignored: rows are counted from 1); InputError
    names the file or source, the line or row, and the column."""
    if isinstance(obj, str | os.PathLike):
        return _from_file(Path(obj))
    if hasattr(obj, "iloc") and hasattr(obj, "columns"):  # pandas, duck-typed: no import
        return _from_pandas(obj)
    if isinstance(obj, pa.Table):
        return _from_arrow(obj, "<table>")
    if hasattr(obj, "__arrow_c_stream__"):  # polars, DuckDB relations, Arrow readers
        try:
            table = pa.table(obj)
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise _problem("<design>", f"cannot read it as an Arrow table: {e}") from None
        return _from_arrow(table, "<table>")
    if isinstance(obj, Sequence) and not isinstance(obj, bytes | bytearray):
        return _from_records(obj)
    raise _problem("<design>", "expected a pandas DataFrame, a pyarrow Table, a list of dicts "
                               f"or a .csv/.parquet path; found {type(obj).__name__}")


def _from_file(path: Path) -> list[Point]:
    kind = path.suffix.lower()
    if kind not in (".csv", ".parquet", ".pq"):
        raise _problem(str(path), "expected a .csv or .parquet design file (one column per "
                                  "path, one row per point)")
    if path.is_dir():
        raise _problem(str(path), "is a directory; expected a .csv or .parquet design file")
    raw, name = read_file(path, MAX_DESIGN_BYTES)
    if kind == ".csv":
        return _from_csv(raw, name)
    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError, ValueError) as e:
        raise _problem(name, f"not a readable Parquet file: {e}") from None
    return _from_arrow(table, name)


def _from_csv(raw: bytes, name: str) -> list[Point]:
    try:
        text = raw.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not part of a path
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise _problem(name, f"not UTF-8 text: byte 0x{raw[e.start]:02x} cannot be decoded",
                       line=line) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    points: list[Point] = []
    last = 0
    try:
        for fields in reader:
            line, last = last + 1, reader.line_num  # a quoted cell may span lines: its first
            if not fields:
                continue  # a blank line
            if header is None:
                header = _columns([f.strip() for f in fields], name, line)
                continue
            if len(fields) != len(header):
                hint = " (a list holding commas needs quotes: \"[a, b]\")" if any(
                    f.lstrip().startswith("[") for f in fields) else ""
                raise _problem(name, f"{len(fields)} values where the header has "
                                     f"{len(header)} columns{hint}", line=line)
            points.append({h: _cell(f, name, line, k, h)
                           for k, (h, f) in enumerate(zip(header, fields, strict=True), 1)})
    except csv.Error as e:
        raise _problem(name, f"CSV syntax error: {e}", line=reader.line_num) from None
    if header is None:
        raise _problem(name, "file is empty; expected a header row of paths, then one row per "
                             "design point")
    return _nonempty(points, name)


def _cell(text: str, name: str, line: int, column: int, path: str) -> Value:
    try:
        return parse_value(text, name)
    except ValueError as e:
        raise _problem(name, f"{e} (column {column})", line=line, field=path) from None


def _columns(names: list[Any], source: str, line: int | None = None) -> list[str]:
    """Column names checked: non-empty text, each once."""
    seen: dict[str, int] = {}
    for k, n in enumerate(names, 1):
        if not isinstance(n, str):
            raise _problem(source, f"column {k}: a column's name must be a dotted path (text), "
                                   f"found {n!r}", line=line)
        if not n.strip():
            raise _problem(source, f"column {k} has no name; every column names a path such "
                                   "as blue.isr.mq9.aircraft", line=line)
        if n in seen:
            raise _problem(source, f"column {k} repeats the path '{n}' of column {seen[n]}",
                           line=line)
        seen[n] = k
    if not names:
        raise _problem(source, "the design has no columns", line=line)
    return list(names)


def _from_pandas(df: Any) -> list[Point]:
    header = _columns(list(df.columns), "<DataFrame>")
    columns = [df.iloc[:, k].tolist() for k in range(len(header))]
    # pd.NA and NaT are not floats: the frame's own test finds every kind of missing value
    missing = [df.iloc[:, k].isna().tolist() for k in range(len(header))]
    return _from_columns(header, columns, missing, "<DataFrame>")


def _from_arrow(table: pa.Table, source: str) -> list[Point]:
    header = _columns(table.column_names, source)
    columns = [table.column(k).to_pylist() for k in range(len(header))]
    return _from_columns(header, columns, None, source)


def _from_columns(header: list[str], columns: list[list[Any]],
                  missing: list[list[bool]] | None, source: str) -> list[Point]:
    rows = len(columns[0]) if columns else 0
    points: list[Point] = [{} for _ in range(rows)]
    for k, (path, values) in enumerate(zip(header, columns, strict=True)):
        for row, value in enumerate(values):
            try:
                if missing is not None and missing[k][row] is True:
                    raise ValueError("missing value")
                points[row][path] = clean_value(value)
            except ValueError as e:
                raise _problem(source, f"row {row + 1}: {e}", field=path) from None
    return _nonempty(points, source)


def _from_records(rows: Sequence[Any]) -> list[Point]:
    points = [clean_point(p, f"<design point {k}>") for k, p in enumerate(rows, 1)]
    points = _nonempty(points, "<design>")
    paths = list(points[0])
    if not paths:
        raise _problem("<design>", "the design points set no path")
    for k, p in enumerate(points, 1):
        if set(p) != set(paths):
            differences = [f"{word} {', '.join(sorted(keys))}" for word, keys in
                           (("adds", set(p) - set(paths)), ("lacks", set(paths) - set(p)))
                           if keys]
            raise _problem(f"<design point {k}>", "every point must set the same paths as the "
                           "first (a design is a table); this one " + " and ".join(differences))
    return points


def _nonempty(points: list[Point], source: str) -> list[Point]:
    if not points:
        raise _problem(source, "the design has no points (no rows below the header)")
    return points


def _problem(source: str, message: str, *, line: int | None = None,
             field: str = "") -> InputError:
    return InputError("", (Problem(source, message, line=line, field=field),))
