"""The one canonical JSON text that every hash in the engine is taken over: a log's scenario and
rules hashes, its header and footer, a sweep's key and manifest, and the per-turn state digest;
and the compact record text of log lines.

Sorted keys (records keep their insertion order), no spaces, UTF-8 text as is (no \\u escapes),
and no NaN or Infinity (ValueError), which are not JSON. It sits at the top of the package so the
simulation (which imports nothing from I/O) and the log use the same functions.

Speed. orjson encodes about ten times faster than the standard library, and its text is the
reference encoder's (``json.dumps`` with the options above) except in three places, each
detected here and handed to the reference encoder: numbers below 1e-4 (``1e-07`` and
``5e-05`` against orjson's ``1e-7`` and ``0.00005``), NaN and infinities (orjson writes ``null``;
the reference refuses them), and anything orjson will not encode (non-string keys, integers past
64 bits, float subclasses such as numpy's). So the bytes are the reference's, always; tests
compare the two on every golden log and on generated objects.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS
_dumps = orjson.dumps
# numbers the two write differently: 1e-7 (the reference: 1e-07), and 0.00005 (the reference
# switches to an exponent below 1e-4: 5e-05); a string holding such text only costs a slow path
_SHORT_EXPONENT = re.compile(rb"e-\d(?!\d)")
_SMALL_DECIMAL = re.compile(rb"(?<![0-9])0\.0000")
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
        out = orjson.dumps(obj, option=_SORTED if sort else 0)
    except (orjson.JSONEncodeError, TypeError):
        return reference(obj, sort).encode()
    # plain substring tests first, then one simple pattern each (an alternation of the two
    # scans twenty times slower): a check must not cost more than the encoding itself
    if ((b"e-" in out and _SHORT_EXPONENT.search(out))
            or (b"0.0000" in out and _SMALL_DECIMAL.search(out))
            or (not finite and b"null" in out and _non_finite(obj))):
        return reference(obj, sort).encode()  # the reference's digits, or its ValueError
    return out


def encode_unsorted(obj: Any) -> bytes:
    """``encode(obj, sort=False)`` by the shortest path: a log writes one per record. Text with
    none of the three markers a difference needs (a short exponent, a small decimal, a null)
    is orjson's as it stands; any other takes the checks of :func:`encode`."""
    try:
        out = _dumps(obj)
    except TypeError:  # orjson.JSONEncodeError is one
        return reference(obj, False).encode()
    if b"e-" in out or b"0.0000" in out or b"null" in out:
        return encode(obj, False)
    return out


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
