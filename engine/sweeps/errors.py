"""How the sweep modules refuse input and speak: one problem constructor, one stderr line."""

from __future__ import annotations

import sys

from engine.errors import EngineError, Problem


def bad(field: str, message: str, source: str = "sweep") -> EngineError:
    """An EngineError naming the option or field that is wrong (the CLI prints it, exit 2)."""
    return EngineError("", (Problem(source, message, field=field),))


def to_stderr(text: str) -> None:
    """One line to stderr, flushed: progress notes and resume hints."""
    print(text, file=sys.stderr, flush=True)
