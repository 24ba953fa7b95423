"""The one canonical JSON text that every hash in the engine is taken over: a log's scenario and
rules hashes, its header and footer, a sweep's key and manifest, and the per-turn state digest.

Sorted keys, no spaces, UTF-8 text as is (no \\u escapes), and no NaN or Infinity (ValueError),
which are not JSON. It sits at the top of the package so the simulation (which imports nothing
from I/O) and the log use the same function.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical(obj: Any) -> str:
    """The canonical JSON text of ``obj``."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def sha256_of(obj: Any) -> str:
    """sha256 (hex) of an object's canonical JSON, UTF-8 encoded."""
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()
