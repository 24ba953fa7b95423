"""Why two postures differ: the difference between scenarios A and B split into single changes,
each applied alone to A and run on the same seeds as A and B.

A change is one edited leaf of the scenario (a number, a flag, a choice, a reference, a list
replaced whole), or one element added or removed (a detachment, a node, a link). Labels (names,
notes, ``meta`` and ``sides``) are not changes. A change that is not a valid scenario alone
(a detachment reporting to a node that B adds) is grouped with the changes it needs: the group
with which it has fewest validation problems, until it has none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine.errors import ReferenceProblems
from engine.levers.audit import Effect, changed_runs, paired
from engine.levers.paired import Outcome, outcomes
from engine.levers.params import validation_problems
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario
from engine.sweeps.summary import wilson

LABELS = frozenset({"name", "title", "summary", "notional", "sources", "changes", "note",
                    "description", "label"})
IGNORED = ("meta", "sides")


class _Absent:
    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()  # the value of a path on the side that does not have it


@dataclass(frozen=True)
class Edit:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """Edits applied together; ``reason`` says why they are not a valid scenario, if so."""

    edits: tuple[Edit, ...]
    reason: str = ""

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(e.path for e in self.edits)


def edits(a: Any, b: Any, path: str = "") -> Iterator[Edit]:
    """The leaf differences between two JSON documents, in A's order then B's."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            sub = f"{path}.{k}" if path else str(k)
            if _label(sub):
                continue
            yield from (edits(a[k], b[k], sub) if k in b else [Edit(sub, a[k], ABSENT)])
        for k in b:
            sub = f"{path}.{k}" if path else str(k)
            if k not in a and not _label(sub):
                yield Edit(sub, ABSENT, b[k])
    elif (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
          and all(isinstance(x, dict | list) for x in [*a, *b])):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from edits(x, y, f"{path}.{i}")
    elif a != b:
        yield Edit(path, a, b)


def _label(path: str) -> bool:
    parts = path.split(".")
    return parts[0] in IGNORED or parts[-1] in LABELS


def applied(a: Scenario, changes: tuple[Edit, ...]) -> Scenario:
    """A with the edits made, validated (ValidationError when not a valid scenario)."""
    data = a.model_dump(mode="json")
    for e in changes:
        parts = e.path.split(".")
        node = data
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
        if e.after is ABSENT:
            del node[last]
        else:
            node[last] = e.after
    return Scenario.model_validate(data)


def problems(a: Scenario, rules: Rules, changes: tuple[Edit, ...]) -> list[str]:
    """Why A with these edits is not a valid scenario for the rules (none when it is)."""
    from engine.io.loading import pair_problems

    try:
        s = applied(a, changes)
    except ValidationError as e:
        return validation_problems(e)
    except ReferenceProblems as e:
        return [f"{p}: {m}" for p, m in e.problems]
    return pair_problems(s, rules)


def decompose(a: Scenario, b: Scenario, rules: Rules) -> list[Change]:
    """The changes from A to B, each a valid scenario when applied alone to A where possible."""
    groups = [[e] for e in edits(a.model_dump(mode="json"), b.model_dump(mode="json"))]
    out: list[Change] = []
    i = 0
    while i < len(groups):
        found = problems(a, rules, tuple(groups[i]))
        while found:
            best = None
            for j, other in enumerate(groups):
                if j == i:
                    continue
                trial = problems(a, rules, (*groups[i], *other))
                if len(trial) < len(found) and (best is None or len(trial) < len(best[1])):
                    best = (j, trial)
            if best is None:
                break
            j, found = best
            groups[i] += groups[j]
            del groups[j]
            if j < i:
                i -= 1
        groups[i].sort(key=lambda e: e.path)
        i += 1
    for g in groups:
        found = problems(a, rules, tuple(g))
        out.append(Change(tuple(g), "; ".join(found[:3])))
    return out


@dataclass
class ChangeEffect:
    change: Change
    held: Effect | None = None  # paired effect on P(hold) of A with the change alone
    share: float | None = None  # P(hold) of A with the change alone
    changed: int = 0  # runs in which any outcome measure differs from A's


@dataclass
class PostureDiff:
    a: str
    b: str
    runs: int
    seed: int
    a_held: int
    b_held: int
    total: Effect  # paired effect on P(hold) of B over A
    changes: list[ChangeEffect]
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "runs": self.runs, "seed": self.seed,
                "a_held_share": self.a_held / self.runs, "b_held_share": self.b_held / self.runs,
                "total": self.total.to_json(), "seconds": round(self.seconds, 1),
                "changes": [{"paths": list(c.change.paths), "reason": c.change.reason,
                             "edits": [{"path": e.path, "from": _json(e.before),
                                        "to": _json(e.after)} for e in c.change.edits],
                             "held_share": c.share, "changed_runs": c.changed,
                             "effect": c.held.to_json() if c.held else None}
                            for c in self.changes]}


def _json(x: Any) -> Any:
    return None if x is ABSENT else x


def posture_diff(a: Scenario, b: Scenario, rules: Rules, runs: int, seed: int = 0,
                 workers: int = 1, progress: Callable[[int], None] | None = None) -> PostureDiff:
    """A, B and A with each change alone, run on the same seeds; effects relative to A."""
    start = time.perf_counter()
    changes = decompose(a, b, rules)
    cases = [(a, rules), (b, rules)]
    index: list[int | None] = []
    for c in changes:
        if c.reason:
            index.append(None)
        else:
            cases.append((applied(a, c.edits), rules))
            index.append(len(cases) - 1)
    rows = outcomes(cases, runs, seed, workers, progress)
    base = rows[0]
    total = paired(base, rows[1], "deterrence_held") or Effect(0.0, 0.0, 0)
    effects = [ChangeEffect(c, paired(base, rows[i], "deterrence_held"), _held(rows[i]) / runs,
                            changed_runs(base, rows[i]))
               if i is not None else ChangeEffect(c) for c, i in zip(changes, index, strict=True)]
    return PostureDiff(a.meta.id, b.meta.id, runs, seed, _held(base), _held(rows[1]), total,
                       effects, time.perf_counter() - start)


def _held(rows: list[Outcome]) -> int:
    return sum(bool(o.get("deterrence_held")) for o in rows)


# ---- Markdown ----------------------------------------------------------------------------------

def markdown(d: PostureDiff) -> str:
    """The comparison as a Markdown table: A, each change alone, B, and the sum of the single
    effects (what the changes do together beyond it is their interaction)."""
    lo, hi = wilson(d.a_held, d.runs)
    blo, bhi = wilson(d.b_held, d.runs)
    lines = [f"**`{d.a}` → `{d.b}`**: {d.runs} common seeds (root {d.seed}); P(hold) with its "
             "Wilson 95% interval, each effect paired seed by seed with A (mean ± 1.96 SE).",
             "",
             f"| change applied alone to `{d.a}` | from | to | P(hold) | effect on P(hold) "
             "(95% interval) |",
             "|---|---|---|---|---|",
             f"| none: `{d.a}` itself | | | {d.a_held / d.runs:.3f} ({lo:.3f}-{hi:.3f}) | |"]
    for c in d.changes:
        paths = ", ".join(f"`{p}`" for p in c.change.paths)
        before = "; ".join(brief(e.before) for e in c.change.edits)
        after = "; ".join(brief(e.after) for e in c.change.edits)
        if c.held is None or c.share is None:
            lines.append(f"| {paths} | {before} | {after} | not valid alone: "
                         f"{_cell(c.change.reason)} | |")
            continue
        lines.append(f"| {paths} | {before} | {after} | {c.share:.3f} | {effect_text(c)} |")
    tlo, thi = d.total.interval()
    singles = sum(c.held.mean for c in d.changes if c.held is not None)
    lines += [f"| all of them: `{d.b}` | | | {d.b_held / d.runs:.3f} ({blo:.3f}-{bhi:.3f}) | "
              f"{d.total.mean:+.3f} ({tlo:+.3f} to {thi:+.3f}) |",
              f"| sum of the single effects | | | | {singles:+.3f} |"]
    return "\n".join(lines) + "\n"


def effect_text(c: ChangeEffect) -> str:
    """"+0.024 (+0.006 to +0.042)", or that no run changed at all."""
    if c.held is None:
        return ""
    if c.changed == 0:
        return "+0.000 (no run changed at all)"
    lo, hi = c.held.interval()
    return f"{c.held.mean:+.3f} ({lo:+.3f} to {hi:+.3f})"


def brief(x: Any) -> str:
    if x is ABSENT:
        return "(absent)"
    if isinstance(x, dict):  # an element added or removed: its name, or what it joins
        if "name" in x:
            return _cell(str(x["name"]))
        if "a" in x and "b" in x:
            return _cell(f"{x['a']} to {x['b']}")
        scalars = [brief(v) for v in x.values() if not isinstance(v, dict | list) and v != ""]
        return _cell(" ".join(scalars[:3]))
    if isinstance(x, list):
        sep = "; " if any(isinstance(v, dict) for v in x) else ", "
        return _cell(sep.join(brief(v) for v in x) or "(none)")
    if isinstance(x, bool):
        return "true" if x else "false"
    return _cell(str(x))


def _cell(text: str, most: int = 80) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= most else text[:most - 1] + "…"
