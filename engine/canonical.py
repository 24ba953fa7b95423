"""The one canonical JSON text that every hash in the engine is taken over: a log's scenario and
rules hashes, its header and footer, a sweep's key and manifest, and the per-turn state digest;
and the compact record text of log lines.

Sorted keys (records keep their insertion order), no spaces, UTF-8 text as is (no \\u escapes),
and no NaN or Infinity (ValueError), which are not JSON. It sits at the top of the package so the
simulation (which imports nothing from I/O) and the log use the same functions.

Speed. orjson encodes about ten times faster than the standard library, and its text is the
reference encoder's (``json.dumps`` with the options above) except in three places, each
detected here: numbers below 1e-4 (``1e-07`` and ``5e-05`` against orjson's ``1e-7`` and
``0.00005``), rewritten as the reference writes them and checked by parsing back; NaN and
infinities (orjson writes ``null``; the reference refuses them); and anything orjson will not
encode (non-string keys, integers past 64 bits, float subclasses such as numpy's), which the
reference encoder writes. So the bytes are the reference's, always; tests compare the two on
every golden log and on generated objects.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS
_dumps = orjson.dumps
# where orjson writes a number otherwise than float.__repr__ (which the reference writes): a
# small decimal (0.00005 for 5e-05) or a one-digit negative exponent (1e-7 for 1e-07)
_MARKERS = (b"e-", b"0.0000")
_NUMBER_HEAD = b"-.0123456789"  # what may come before a marker within one number
_DIGITS = b"0123456789"
_REFERENCE = {
    True: json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False),
    False: json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False),
}


def reference(obj: Any, sort: bool = True) -> str:
    """The standard library's text: the definition the fast path must match byte for byte."""
    return _REFERENCE[sort].encode(obj)


def encode(obj: Any, sort: bool = True, *, finite: bool = False) -> bytes:
    """UTF-8 canonical JSON of ``obj`` (keys sorted unless ``sort`` is False). ``finite=True``
    vouches that every float in obj is finite (validated models; state rounded by ``r6``,
    which refuses NaN), sparing a walk of obj when its text holds a null."""
    try:
        out = _dumps(obj, option=_SORTED) if sort else _dumps(obj)
    except TypeError:  # orjson.JSONEncodeError is one
        return reference(obj, sort).encode()
    if not finite and b"null" in out and _non_finite(obj):
        return reference(obj, sort).encode()  # the reference's ValueError
    if b"e-" in out or b"0.0000" in out:  # plain substring tests first: they cost nothing
        return _renumbered(out, obj, sort)
    return out


def _renumbered(out: bytes, obj: Any, sort: bool) -> bytes:
    """orjson's text with its small numbers rewritten as the reference writes them. A rewrite
    could also hit number-like text inside a string, so the result must parse back to obj;
    otherwise (or when obj holds what JSON turns into something else, a tuple) the reference
    writes it. A quarter of the reference's cost for the records holding a tiny probability."""
    pieces: list[bytes] = []
    last = 0
    try:
        for start, end in _number_spans(out):
            if start < last:
                raise ValueError("overlapping spans")  # not numbers orjson wrote
            pieces += (out[last:start], repr(float(out[start:end])).encode())
            last = end
    except ValueError:
        return reference(obj, sort).encode()
    if not pieces:
        return out  # "e-" or "0.0000" only inside strings
    fixed = b"".join((*pieces, out[last:]))
    try:
        same = orjson.loads(fixed) == obj
    except orjson.JSONDecodeError:
        same = False
    return fixed if same else reference(obj, sort).encode()


def _number_spans(out: bytes) -> list[tuple[int, int]]:
    """(start, end) of each run of number characters around a marker, in order (a plain find:
    a regular expression scanning every position costs ten times the encoding)."""
    spans = []
    for marker in _MARKERS:
        i = out.find(marker)
        while i >= 0:
            start, end = i, i + len(marker)
            while start > 0 and out[start - 1] in _NUMBER_HEAD:
                start -= 1
            while end < len(out) and out[end] in _DIGITS:
                end += 1
            if end > i + len(marker):  # digits after the marker: a number, or text like one
                spans.append((start, end))
            i = out.find(marker, end)
    return sorted(spans)


def canonical(obj: Any) -> str:
    """The canonical JSON text of ``obj``."""
    return encode(obj).decode()


def sha256_of(obj: Any, *, finite: bool = False) -> str:
    """sha256 (hex) of an object's canonical JSON, UTF-8 encoded."""
    return hashlib.sha256(encode(obj, finite=finite)).hexdigest()


def _non_finite(obj: Any) -> bool:
    """Whether a NaN or an infinity hides in obj (orjson would write it as null)."""
    if isinstance(obj, float):
        return not math.isfinite(obj)
    if isinstance(obj, dict):
        return any(_non_finite(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_non_finite(v) for v in obj)
    return False
