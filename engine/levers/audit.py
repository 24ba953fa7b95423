"""The lever audit: every declared parameter varied one at a time on common seeds, with its
paired effect on P(deterrence holds) and on every other outcome measure.

Verdicts, per parameter:

- DEAD: no valid variant changes any outcome measure in any run (compared exactly, seed by
  seed, with the base), and none of the parameter's declared inert conditions holds here;
- INERT: the same, but a declared inert condition holds (engine/levers/conditions.py): fine;
- WRONG-SIGN: a variant moves P(deterrence holds) against the declared direction by more than
  ``Z`` paired standard errors (Z = 3: with several hundred variants a 2-sigma rule would flag
  a dozen by chance, 3 sigma about one in a thousand);
- ERROR: a run of a variant raised (the engine's message is kept);
- SKIPPED: every variant fails validation (each one's reason is kept);
- NO-VARIANT: the field has no other value (a format tag);
- OK: otherwise.

A paired effect is the mean over seeds of (variant - base) with its standard error
sd/sqrt(n), over the seeds where both runs have the measure (a failure turn exists only when
deterrence failed).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import EngineError, Problem
from engine.levers import conditions
from engine.levers.paired import Case, Outcome, outcomes
from engine.levers.params import Invalid, Parameter, apply, parameters
from engine.levers.variants import Variant, variants
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

Z = 3.0
MEASURES = ("deterrence_held", "failure_turn", "known_turn", "article5_turn", "highest_level",
            "turns_played", "red_gains", "red_losses", "blue_losses", "incursions",
            "incursions_detected", "mean_time_to_detect_h", "detections", "c2_messages",
            "c2_mean_latency_h", "c2_delivery_rate")
ORDER = ("DEAD", "WRONG-SIGN", "ERROR", "SKIPPED", "OK", "INERT", "NO-VARIANT")
FAILING = ("DEAD", "WRONG-SIGN", "ERROR")
SIGNS = {"+": 1, "-": -1, "?": 0}


@dataclass(frozen=True)
class Effect:
    """A paired mean difference with its standard error over n seeds."""

    mean: float
    se: float
    n: int

    @property
    def z(self) -> float:
        if self.se > 0:
            return self.mean / self.se
        return 0.0 if self.mean == 0 else math.copysign(math.inf, self.mean)

    def interval(self, z: float = 1.959963984540054) -> tuple[float, float]:
        return self.mean - z * self.se, self.mean + z * self.se

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "se": self.se, "n": self.n}


def paired(base: Sequence[Outcome], other: Sequence[Outcome], measure: str) -> Effect | None:
    """The paired effect on one measure, or None when no seed has it in both runs."""
    diffs = [float(o[measure]) - float(b[measure]) for b, o in zip(base, other, strict=True)
             if b.get(measure) is not None and o.get(measure) is not None]
    if not diffs:
        return None
    sd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
    return Effect(statistics.fmean(diffs), sd / math.sqrt(len(diffs)), len(diffs))


def changed_runs(base: Sequence[Outcome], other: Sequence[Outcome]) -> int:
    """Seeds on which any outcome measure differs at all."""
    return sum(b != o for b, o in zip(base, other, strict=True))


@dataclass
class VariantResult:
    variant: Variant
    status: str = "OK"
    reason: str = ""
    changed: int = 0
    effects: dict[str, Effect] = field(default_factory=dict)

    @property
    def expected(self) -> int:
        """+1 when P(hold) should rise with this variant, -1 fall, 0 no claim."""
        return self.variant.sign * SIGNS[self.variant.parameter.direction]

    @property
    def held(self) -> Effect | None:
        return self.effects.get("deterrence_held")

    def to_json(self) -> dict[str, Any]:
        return {"value": self.variant.value, "label": self.variant.label,
                "sign": self.variant.sign, "expected": self.expected, "status": self.status,
                "reason": self.reason, "changed_runs": self.changed,
                "effects": {k: e.to_json() for k, e in self.effects.items()}}


@dataclass
class ParameterResult:
    parameter: Parameter
    status: str
    variants: list[VariantResult]
    inert: tuple[str, ...] = ()  # declared inert conditions that hold here

    def to_json(self) -> dict[str, Any]:
        p = self.parameter
        return {"path": p.path, "kind": p.kind, "value": p.value, "direction": p.direction,
                "declared": p.declared, "why": p.lever.why,
                "inert_when": list(p.lever.inert_when), "inert_holds": list(self.inert),
                "status": self.status, "variants": [v.to_json() for v in self.variants]}


@dataclass
class Audit:
    scenario: str
    rules: str
    runs: int
    seed: int
    base: list[Outcome]
    results: list[ParameterResult]
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failing(self) -> list[ParameterResult]:
        return [r for r in self.results if r.status in FAILING]

    @property
    def held_share(self) -> float:
        return sum(bool(o["deterrence_held"]) for o in self.base) / len(self.base)

    def sorted(self) -> list[ParameterResult]:
        """Results with DEAD and WRONG-SIGN first, then by path."""
        return sorted(self.results, key=lambda r: (ORDER.index(r.status), r.parameter.path))

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in ORDER if self.count(s))
        variants = sum(len(r.variants) for r in self.results)
        return (f"{self.scenario} with rules {self.rules}: {len(self.results)} parameters, "
                f"{variants} variants, {self.runs} seeds each, base P(hold) "
                f"{self.held_share:.3f}; {counts}; {self.seconds:.0f} s")

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "rules": self.rules, "runs": self.runs,
                "seed": self.seed, "z": Z, "seconds": round(self.seconds, 1),
                "base_held_share": self.held_share,
                "counts": {s: self.count(s) for s in ORDER},
                "parameters": [r.to_json() for r in self.sorted()]}


def selected(params: list[Parameter], only: Sequence[str]) -> list[Parameter]:
    """The parameters whose path starts with one of the prefixes (all when none is given)."""
    if not only:
        return params
    return [p for p in params if any(p.path == o or p.path.startswith(o.rstrip(".") + ".")
                                     for o in only)]


def audit(scenario: Scenario, rules: Rules, runs: int, seed: int = 0,
          only: Sequence[str] = (), workers: int = 1,
          progress: Callable[[int, int], None] | None = None) -> Audit:
    """Run the audit; ``progress(done, total)`` is told of the runs as they finish."""
    start = time.perf_counter()
    params = selected(parameters(scenario, rules), only)
    if only and not params:
        raise EngineError("", (Problem("levers", f"no parameter path starts with "
                                                 f"{', '.join(only)}", field="--only"),))
    cases: list[Case] = [(scenario, rules)]
    plan: list[tuple[Parameter, list[tuple[VariantResult, int | None]]]] = []
    for p in params:
        row: list[tuple[VariantResult, int | None]] = []
        for v in variants(p):
            result = VariantResult(v)
            try:
                cases.append(apply(scenario, rules, {p.path: v.value}))
                row.append((result, len(cases) - 1))
            except Invalid as e:
                result.status, result.reason = "SKIPPED", str(e)
                row.append((result, None))
        plan.append((p, row))
    total, done = len(cases) * runs, [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    rows = outcomes(cases, runs, seed, workers, tick)
    base = rows[0]
    broken = [o["error"] for o in base if "error" in o]
    if broken:
        raise EngineError(f"the base scenario itself fails to run: {broken[0]}")
    results = [_judge(scenario, rules, p, [_compare(base, rows, v, i) for v, i in row])
               for p, row in plan]
    return Audit(scenario.meta.id, rules.name, runs, seed, base, results,
                 time.perf_counter() - start)


def _compare(base: list[Outcome], rows: list[list[Outcome]], result: VariantResult,
             case: int | None) -> VariantResult:
    if case is None:
        return result
    other = rows[case]
    errors = [o["error"] for o in other if "error" in o]
    if errors:
        result.status, result.reason = "ERROR", f"{len(errors)} runs failed: {errors[0]}"
        return result
    result.changed = changed_runs(base, other)
    result.effects = {m: e for m in MEASURES if (e := paired(base, other, m)) is not None}
    held = result.held
    if held is not None and result.expected * held.z < -Z:
        result.status = "WRONG-SIGN"
    return result


def _judge(s: Scenario, r: Rules, p: Parameter, results: list[VariantResult]) -> ParameterResult:
    ran = [v for v in results if v.status != "SKIPPED"]
    if not results:
        return ParameterResult(p, "NO-VARIANT", results)
    if not ran:
        return ParameterResult(p, "SKIPPED", results)
    if any(v.status == "ERROR" for v in ran):
        return ParameterResult(p, "ERROR", results)
    if all(v.changed == 0 for v in ran):
        inert = tuple(c for c in p.lever.inert_when if conditions.holds(c, s, r, p.path))
        status = "INERT" if inert else "DEAD"
        for v in ran:
            v.status = status
        return ParameterResult(p, status, results, inert)
    if any(v.status == "WRONG-SIGN" for v in ran):
        return ParameterResult(p, "WRONG-SIGN", results)
    return ParameterResult(p, "OK", results)
