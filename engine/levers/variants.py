"""The one-at-a-time variants of a lever.

- a number: x0.25 and x4, clipped to the field's bounds (ints rounded); a zero becomes 1 (no
  multiple of 0 differs from it);
- a probability (a float bounded by 0 and 1): p/4 and 1 - (1 - p)/4, a quarter of the way to
  each end, so 0 and 1 get a variant too;
- a flag: the other value; a choice: every other choice;
- a tuple of choices (the treaty's domains): without each one it holds, with each one it lacks.

A variant equal to the base value is dropped. Each variant carries the sign of its change (+1
when the value rises, is switched on, moves right along the declared order or gains a choice),
which the audit compares with the declared direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.levers.params import Parameter

LOW, HIGH = 0.25, 4.0


@dataclass(frozen=True)
class Variant:
    """A parameter set to another value; ``sign`` 0 when the change has no order."""

    parameter: Parameter
    value: Any
    label: str
    sign: int


def variants(p: Parameter) -> list[Variant]:
    """The parameter's variants, in a fixed order, none equal to its value."""
    made = {"bool": _flag, "int": _int, "float": _float, "choice": _choice,
            "choices": _domains}[p.kind](p)
    out, seen = [], [p.value]
    for v in made:
        if v.value not in seen:
            seen.append(v.value)
            out.append(v)
    return out


def _flag(p: Parameter) -> list[Variant]:
    return [Variant(p, not p.value, "on" if not p.value else "off", 1 if not p.value else -1)]


def _int(p: Parameter) -> list[Variant]:
    if p.value == 0:
        candidates = [(1, "1 (from 0)")]
    else:
        candidates = [(_round(p.value * LOW), "x0.25"), (_round(p.value * HIGH), "x4")]
    out = []
    for x, label in candidates:
        clipped = _clip(p, x)
        if clipped is not None:
            out.append(Variant(p, int(clipped), label, _sign(clipped - p.value)))
    return out


def _float(p: Parameter) -> list[Variant]:
    v = float(p.value)
    if p.probability:
        candidates = [(v / 4, "p/4"), (1 - (1 - v) / 4, "1-(1-p)/4")]
    elif v == 0:
        candidates = [(1.0, "1 (from 0)")]
    else:
        candidates = [(v * LOW, "x0.25"), (v * HIGH, "x4")]
    out = []
    for x, label in candidates:
        clipped = _clip(p, _tidy(x))
        if clipped is not None:
            out.append(Variant(p, float(clipped), label, _sign(clipped - v)))
    return out


def _choice(p: Parameter) -> list[Variant]:
    order = p.lever.order
    out = []
    for c in p.choices:
        sign = 0
        if c in order and p.value in order:
            sign = _sign(order.index(c) - order.index(p.value))
        out.append(Variant(p, c, c, sign))
    return out


def _domains(p: Parameter) -> list[Variant]:
    held = list(p.value)
    out = [Variant(p, [d for d in held if d != c], f"without {c}", -1) for c in held]
    out += [Variant(p, [*held, c], f"with {c}", 1) for c in p.choices if c not in held]
    return out


def _round(x: float) -> int:
    """Half up, so x0.25 of 2 is 1 and of 6 is 2 (Python's round would give 0 and 2)."""
    return math.floor(x + 0.5)


def _tidy(x: float) -> float:
    """Six significant digits: variants print and serialise as the numbers they are."""
    return float(f"{x:.6g}")


def _clip(p: Parameter, x: float) -> float | None:
    """x within the field's bounds (None when only an excluded bound would hold it)."""
    if p.hi is not None and x > p.hi:
        x = p.hi
    if p.lo is not None and x < p.lo:
        x = p.lo
    if (p.lo_open and p.lo is not None and x <= p.lo) or (
            p.hi_open and p.hi is not None and x >= p.hi):
        return None
    return x


def _sign(d: float) -> int:
    return (d > 0) - (d < 0)
