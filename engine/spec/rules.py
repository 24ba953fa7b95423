"""Frozen models of a rule set: escalation ladder, action menus, adjudication tables, doctrine.

Rules are data: an educator changes a number here without touching Python. The kernel implements
a fixed vocabulary of action *effects*; the menu names actions, their parameters, the rung each
signals and when each is allowed. Doctrine conditions use a tiny readable language
(``"<fact> <op> <value>"``) parsed here, never evaluated as code.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from functools import cached_property, lru_cache
from typing import Annotated, Literal

from pydantic import Field, model_validator

from engine.errors import ReferenceProblems
from engine.spec.scenario import Frozen, Hours, Id, NonNegative, Positive, Prob, Text
from engine.spec.types import Command, Domain, Effect, ParamKind, Readiness, SearchLaw, Tempo

RULES_FORMAT = "wargame-rules/1"


FACTS: dict[str, str] = {
    "turn": "the current turn number",
    "rung": "the current escalation rung (compare with a rung id)",
    "red_tracks": "Red groups Blue holds a fresh track on",
    "incursions_seen": "Red incursions into claimed zones Blue detected last turn",
    "links_degraded": "C2 links currently degraded",
    "authority": "1 when engagement authority is held (Red: announced), else 0",
    "authority_requested": "1 when engagement authority is held or has been asked for, else 0",
    "article5": "1 once Article V has been invoked, else 0",
    "armed_attack": "1 once the side knows of an armed attack (Red: it ordered one; Blue: "
                    "detected or its effects landed), else 0",
    "blue_isr_seen": "hours of Blue ISR on station over Red's objective last turn",
    "red_gains": "Red's gains as the side knows them (Red: claimed; Blue: attributed)",
}
_CONDITION = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|==|!=|>|<)\s*([A-Za-z0-9_.-]+)\s*$")


class Rung(Frozen):
    """One rung of the ladder; levels must increase up the ladder."""

    id: Id
    level: Annotated[int, Field(strict=True, ge=0, le=100)]
    label: Text


class RungGroup(Frozen):
    """A named band of rungs, in the spirit of Kahn's ladder (e.g. gray-zone crisis)."""

    name: Text
    firebreak: NonNegative = Field(
        0.0, description="Cost Red weighs for entering this group from a lower one (Kahn's "
                         "firebreaks between bands of the ladder).")
    rungs: tuple[Rung, ...] = Field(min_length=1)


class Ladder(Frozen):
    groups: tuple[RungGroup, ...] = Field(min_length=2)
    armed_attack_threshold: Id = Field(description="First rung that is an armed attack.")

    def rungs(self) -> tuple[Rung, ...]:
        """All rungs, bottom to top."""
        return self._rungs

    @cached_property
    def _rungs(self) -> tuple[Rung, ...]:
        return tuple(r for g in self.groups for r in g.rungs)

    @cached_property
    def _levels(self) -> dict[str, int]:
        return {r.id: r.level for r in self._rungs}

    @cached_property
    def _groups(self) -> dict[str, int]:
        return {r.id: i for i, g in enumerate(self.groups) for r in g.rungs}

    def level(self, rung_id: str) -> int:
        """The level of a rung id."""
        return self._levels[rung_id]

    def group_index(self, rung_id: str) -> int:
        return self._groups[rung_id]

    def climb_cost(self, from_rung: str, to_rung: str) -> float:
        """Sum of the firebreaks of the groups entered going from one rung up to another."""
        lo, hi = self.group_index(from_rung), self.group_index(to_rung)
        return sum(g.firebreak for g in self.groups[lo + 1: hi + 1])


class Param(Frozen):
    """A parameter of an action: a fixed list of choices, or a kind resolved from the scenario."""

    choices: tuple[str, ...] | None = Field(None, min_length=1)
    kind: ParamKind | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Param:
        if (self.choices is None) == (self.kind is None):
            raise ValueError("give exactly one of 'choices' or 'kind'")
        if self.default is not None and self.choices and self.default not in self.choices:
            raise ValueError(f"default '{self.default}' is not one of {list(self.choices)}")
        return self


class Action(Frozen):
    """An entry on a side's action menu."""

    label: Text
    effect: Effect
    signals: Id = Field(description="The ladder rung this action signals.")
    domain: Domain = "none"
    params: dict[Id, Param] = {}
    preconditions: tuple[str, ...] = ()
    gain: NonNegative = Field(0.0, description="Red's value of success (Red actions only).")
    cost: NonNegative = Field(0.0, description="Red's cost if Blue answers (Red actions only).")


class Menus(Frozen):
    blue: dict[Id, Action] = Field(min_length=1)
    red: dict[Id, Action] = Field(min_length=1)


class DetectionTable(Frozen):
    law: SearchLaw = "random"
    attribution_p: Prob = Field(description="Chance a detected act is attributed to Red.")
    sorties_per_aircraft: dict[Tempo, NonNegative]


class SalvoTable(Frozen):
    """Damage per hit, in units of the target's staying power (hits a ship can take)."""

    loss_per_hit: Positive
    loss_per_hit_sd: NonNegative


class C2Table(Frozen):
    latency_sigma: NonNegative = Field(description="Lognormal spread of latency draws.")
    degraded_latency_factor: Positive
    degraded_loss_add: Prob
    command_latency_factor: dict[Command, Positive]
    harden_recovery_factor: Positive = Field(description="Multiplies recovery time if hardened.")


class CyberTable(Frozen):
    hardened_success_factor: Prob
    space_isr_penalty: Prob = Field(description="Share of ISR sorties lost while space degraded.")


class LittoralTable(Frozen):
    ready_share: dict[Readiness, Prob] = Field(description="Share of launchers ready to fire.")
    exposure: dict[Readiness, Prob] = Field(
        description="Red's targeting effectiveness against batteries in each readiness state.")


class StrikeTable(Frozen):
    range_nm: NonNegative = Field(description="Reach of a Red naval strike on batteries.")
    p_hit: Prob = Field(description="Chance a Red strike missile hits a battery launcher.")


class Adjudication(Frozen):
    detection: DetectionTable
    salvo: SalvoTable
    c2: C2Table
    cyber: CyberTable
    littoral: LittoralTable
    strike: StrikeTable
    attributed_gain_share: Prob = Field(
        description="Share of an action's gain Red keeps when the act is attributed to it.")
    destructive_space_factor: Positive = Field(
        description="How much longer a destructive counterspace attack lasts than jamming.")


class DoctrineRule(Frozen):
    """A readable Blue rule: when every condition holds, issue the action with its params."""

    name: Text
    when: tuple[str, ...] = ()
    do: Id
    params: dict[Id, str] = {}


class RedWeights(Frozen):
    gain: NonNegative
    cost: NonNegative
    escalation_risk: NonNegative
    credibility: NonNegative


class Observation(Frozen):
    """How Red reads Blue's resolve from one turn: a base plus what it saw Blue do."""

    base: Prob
    exercise: Prob
    signal: Prob
    authority: Prob
    detection: Prob


class RedModel(Frozen):
    """Red's expected-utility, quantal-response choice (rationality = softmax sharpness)."""

    rationality: Annotated[float, Field(strict=True, ge=0, le=50)]
    belief_rate: Prob = Field(description="How fast Red's beliefs move toward what it observes.")
    prior_isr_coverage: Prob
    prior_resolve: Prob
    weights: RedWeights
    resolve_seen: Observation
    patience: Hours = Field(72.0, description="Response delay at which Blue's answer loses half "
                                              "its deterrent value.")


class Ending(Frozen):
    """When an exercise stops before its last turn."""

    turns_after_armed_attack: Annotated[int, Field(strict=True, ge=0, le=50)] = Field(
        2, description="Turns played after Red crosses the armed-attack threshold."
    )


class Rules(Frozen):
    """A complete rule set, validated including every reference between its parts."""

    format: Literal["wargame-rules/1"]
    name: Id
    description: Text
    ladder: Ladder
    actions: Menus
    adjudication: Adjudication
    doctrine: dict[Literal["blue"], tuple[DoctrineRule, ...]]
    red_model: RedModel
    end: Ending = Ending()

    @model_validator(mode="after")
    def _references_resolve(self) -> Rules:
        problems = reference_problems(self)
        if problems:
            raise ReferenceProblems(problems)
        return self

    def rung_level(self, rung_id: str) -> int:
        return self.ladder.level(rung_id)


@lru_cache(maxsize=1024)
def parse_condition(text: str) -> tuple[str, str, str]:
    """Split ``"fact op value"``; raise ValueError naming what is wrong."""
    m = _CONDITION.match(text)
    if not m:
        raise ValueError(f"condition '{text}' is not of the form '<fact> <op> <value>', "
                         f"e.g. 'rung >= gray_zone_presence'")
    fact, op, value = m.groups()
    if fact not in FACTS:
        raise ValueError(f"unknown fact '{fact}' in condition '{text}' "
                         f"(known: {', '.join(sorted(FACTS))})")
    return fact, op, value


def reference_problems(r: Rules) -> list[tuple[str, str]]:
    """Ladder order, threshold, rung references, conditions and doctrine actions."""
    out: list[tuple[str, str]] = []
    rungs = r.ladder.rungs()
    ids = [x.id for x in rungs]
    levels = [x.level for x in rungs]
    for i, (lo, hi) in enumerate(itertools.pairwise(levels)):
        if hi <= lo:
            out.append(("ladder.groups", f"rung '{ids[i + 1]}' (level {hi}) must be above "
                                         f"'{ids[i]}' (level {lo})"))
    for rid in sorted({x for x in ids if ids.count(x) > 1}):
        out.append(("ladder.groups", f"rung id '{rid}' appears more than once"))
    if r.ladder.armed_attack_threshold not in ids:
        out.append(("ladder.armed_attack_threshold",
                    f"unknown rung '{r.ladder.armed_attack_threshold}'"))
    for side, menu in (("blue", r.actions.blue), ("red", r.actions.red)):
        for k, a in menu.items():
            if a.signals not in ids:
                out.append((f"actions.{side}.{k}.signals", f"unknown rung '{a.signals}' "
                                                           f"(known: {', '.join(ids)})"))
            for i, c in enumerate(a.preconditions):
                out.extend(_condition_problems(f"actions.{side}.{k}.preconditions.{i}", c, ids))
    for i, rule in enumerate(r.doctrine.get("blue", ())):
        base = f"doctrine.blue.{i}"
        for j, c in enumerate(rule.when):
            out.extend(_condition_problems(f"{base}.when.{j}", c, ids))
        action = r.actions.blue.get(rule.do)
        if action is None:
            out.append((f"{base}.do", f"unknown Blue action '{rule.do}' "
                                      f"(known: {', '.join(sorted(r.actions.blue))})"))
            continue
        out.extend((f"{base}.params.{p}", m)
                   for p, m in param_problems(rule.do, action, rule.params))
    return out


def param_problems(action_id: str, action: Action,
                   params: Mapping[str, object]) -> list[tuple[str, str]]:
    """(parameter, message) for each parameter the action lacks or whose value is not one of
    its choices (scenario-kind parameters are checked against the scenario at run time)."""
    out = []
    for name, value in params.items():
        spec = action.params.get(name)
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if spec is None:
            known = ", ".join(sorted(action.params)) or "none"
            out.append((name, f"action '{action_id}' has no parameter '{name}' "
                              f"(its parameters: {known})"))
        elif spec.choices and text not in spec.choices:
            out.append((name, f"expected one of {list(spec.choices)}, found {value!r}"))
    return out


def _condition_problems(path: str, text: str, rung_ids: list[str]) -> list[tuple[str, str]]:
    try:
        fact, _, value = parse_condition(text)
    except ValueError as e:
        return [(path, str(e))]
    if fact == "rung" and value not in rung_ids:
        return [(path, f"unknown rung '{value}' (known: {', '.join(rung_ids)})")]
    if fact != "rung" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return [(path, f"expected a number after '{fact}', found '{value}'")]
    return []

