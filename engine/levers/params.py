"""Every lever of a (scenario, rules) pair: its dotted path, current value, bounds and declared
direction; and a pair with some of them set to other values, revalidated.

Paths are the ones ``engine.spec.scenario.with_values`` takes (``blue.isr.mq9.aircraft``,
``theater.distances.3.2``); a rules path carries the prefix ``rules.``
(``rules.red_model.weights.gain``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, get_args

import annotated_types as at
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from engine.errors import ReferenceProblems
from engine.spec import rules as rules_spec
from engine.spec.levers import Direction, Kind, Lever, declaration, lever_kind, scalar_kind, unwrap
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario, with_values

RULES = "rules."
UNDECLARED = Lever("?", "not declared in the schema")


@dataclass(frozen=True)
class Parameter:
    """One lever: a scalar (or a table entry, a number in a row) or a tuple of choices."""

    path: str
    kind: Kind
    value: Any
    lever: Lever
    key: str | None = None  # the table key, for a per-key direction
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # the bound itself is not allowed
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    declared: bool = True
    signed: Direction | None = None  # the direction a ``where`` condition gives here, if any

    @property
    def direction(self) -> Direction:
        return self.signed or self.lever.direction_of(self.key)

    @property
    def in_rules(self) -> bool:
        return self.path.startswith(RULES)

    @property
    def probability(self) -> bool:
        """A float bounded by 0 and 1 inclusive (varied toward 0 and toward 1)."""
        return (self.kind == "float" and self.lo == 0 and self.hi == 1
                and not (self.lo_open or self.hi_open))


@dataclass(frozen=True)
class _Bounds:
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    notes: list[Any] = field(default_factory=list)


def parameters(scenario: Scenario, rules: Rules) -> list[Parameter]:
    """Every lever of the scenario, then of the rules, in field order, each with the direction
    its declaration gives at its place (``where``)."""
    from engine.levers.conditions import holds

    out = []
    for p in [*_walk(scenario, ""), *_walk(rules, RULES)]:
        signed = next((d for c, d in p.lever.where if holds(c, scenario, rules, p.path)), None)
        out.append(replace(p, signed=signed) if signed else p)
    return out


def _walk(model: BaseModel, prefix: str) -> Iterator[Parameter]:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{prefix}{name}"
        kind = lever_kind(info.annotation)
        if kind is None:
            yield from _inside(value, path)
            continue
        decl = declaration(info)
        lever = decl or UNDECLARED
        yield from _leaves(path, kind, value, info, lever, decl is not None)


def _inside(value: Any, path: str) -> Iterator[Parameter]:
    """The levers of the models a non-lever field holds (directly, in dicts or in tuples)."""
    if isinstance(value, BaseModel):
        yield from _walk(value, f"{path}.")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _inside(v, f"{path}.{k}")
    elif isinstance(value, tuple | list):
        for i, v in enumerate(value):
            yield from _inside(v, f"{path}.{i}")


def _leaves(path: str, kind: Kind, value: Any, info: FieldInfo, lever: Lever,
            declared: bool) -> Iterator[Parameter]:
    tp = unwrap(info.annotation)
    if kind == "table":
        value_type = get_args(tp)[1]
        sub = scalar_kind(value_type)
        assert sub is not None  # lever_kind said so
        for k, v in value.items():
            yield _scalar(f"{path}.{k}", sub, v, value_type, [], lever, declared, key=str(k))
    elif kind == "rows":
        columns = get_args(unwrap(get_args(tp)[0]))
        for i, row in enumerate(value):
            for j, (col, x) in enumerate(zip(columns, row, strict=True)):
                sub = scalar_kind(col)
                if sub in ("int", "float"):
                    yield _scalar(f"{path}.{i}.{j}", sub, x, col, [], lever, declared)
    elif kind == "choices":
        item = unwrap(get_args(tp)[0])
        yield Parameter(path, kind, list(value), lever, choices=tuple(get_args(item)),
                        declared=declared)
    else:
        yield _scalar(path, kind, value, info.annotation, list(info.metadata), lever, declared)


def _scalar(path: str, kind: Kind, value: Any, tp: Any, metadata: list[Any], lever: Lever,
            declared: bool, key: str | None = None) -> Parameter:
    b = _bounds([*metadata, *_annotated(tp)])
    choices = tuple(get_args(unwrap(tp))) if kind == "choice" else ()
    return Parameter(path, kind, value, lever, key, b.lo, b.hi, b.lo_open, b.hi_open, choices,
                     declared)


def _annotated(tp: Any) -> list[Any]:
    """The metadata of every Annotated layer of a type."""
    out: list[Any] = []
    while hasattr(tp, "__metadata__"):
        out.extend(tp.__metadata__)
        tp = tp.__origin__
    return out


def _bounds(items: list[Any]) -> _Bounds:
    lo = hi = None
    lo_open = hi_open = False
    todo = list(items)
    while todo:
        m = todo.pop(0)
        if isinstance(m, FieldInfo):
            todo.extend(m.metadata)
        elif isinstance(m, at.Ge):
            lo, lo_open = float(m.ge), False  # type: ignore[arg-type]
        elif isinstance(m, at.Gt):
            lo, lo_open = float(m.gt), True  # type: ignore[arg-type]
        elif isinstance(m, at.Le):
            hi, hi_open = float(m.le), False  # type: ignore[arg-type]
        elif isinstance(m, at.Lt):
            hi, hi_open = float(m.lt), True  # type: ignore[arg-type]
    return _Bounds(lo, hi, lo_open, hi_open)


# ---- applying values ---------------------------------------------------------------------------

class Invalid(ValueError):
    """Values that make the scenario or the rules invalid (the reason is the message)."""


def apply(scenario: Scenario, rules: Rules,
          values: Mapping[str, Any]) -> tuple[Scenario, Rules]:
    """The pair with values set at lever paths, revalidated, each against the other;
    :class:`Invalid` says why not."""
    from engine.io.loading import pair_problems

    s_values = {p: v for p, v in values.items() if not p.startswith(RULES)}
    r_values = {p[len(RULES):]: v for p, v in values.items() if p.startswith(RULES)}
    try:
        s = with_values(scenario, s_values) if s_values else scenario
        r = rules_spec.with_values(rules, r_values) if r_values else rules
    except ValidationError as e:
        raise Invalid(validation_reason(e)) from None
    except ReferenceProblems as e:
        raise Invalid("; ".join(f"{p}: {m}" for p, m in e.problems)) from None
    problems = pair_problems(s, r)
    if problems:
        raise Invalid("; ".join(problems[:3]))
    return s, r


def validation_reason(e: ValidationError) -> str:
    """A pydantic error in one line: its first problems' places and messages."""
    return "; ".join(validation_problems(e)[:3])


def validation_problems(e: ValidationError) -> list[str]:
    """Each problem of a pydantic error as "place: message", references spelt out."""
    out: list[str] = []
    for err in e.errors(include_url=False):
        inner = err.get("ctx", {}).get("error")
        if isinstance(inner, ReferenceProblems):
            out.extend(f"{p}: {m}" for p, m in inner.problems)
            continue
        where = ".".join(str(x) for x in err["loc"])
        out.append(f"{where}: {err['msg']}" if where else err["msg"])
    return out
