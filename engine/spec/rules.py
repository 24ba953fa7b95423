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
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from engine.errors import ReferenceProblems
from engine.spec.levers import lever
from engine.spec.scenario import (
    MAX_SORTIES_PER_DAY,
    Factor,
    Frozen,
    Hours,
    Id,
    Prob,
    Reach,
    Text,
    Word,
    set_values,
)
from engine.spec.types import (
    BLUE_EFFECTS,
    RED_EFFECTS,
    Command,
    Domain,
    Effect,
    ParamKind,
    Readiness,
    SearchLaw,
    Tempo,
)

RULES_FORMAT = "wargame-rules/1"


FACTS: dict[str, str] = {
    "turn": "the current turn number",
    "rung": "the current escalation rung (compare with a rung id)",
    "red_tracks": "Red groups Blue holds a fresh track on",
    "incursions_seen": "Red incursions into claimed zones Blue detected last turn",
    "links_degraded": "C2 links currently degraded",
    "outages_seen": "C2 link outages the side saw begin last turn (Blue: any it observed; "
                    "Red: those it caused)",
    "authority": "1 when engagement authority is held (Red: announced), else 0",
    "authority_requested": "1 when engagement authority is held or has been asked for, else 0",
    "article5": "1 once Article V has been invoked, else 0",
    "armed_attack": "1 once the side knows of an armed attack (Red: it ordered one; Blue: "
                    "detected or its effects landed), else 0",
    "blue_isr_seen": "hours of Blue ISR on station over Red's objective last turn",
    "red_gains": "Red's gains as the side knows them (Red: claimed; Blue: attributed)",
}
# limits (docs/authoring.md lists them; the JSON Schema publishes them)
Weight = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1000)]
Condition = Annotated[str, Field(min_length=1, max_length=200)]
SortieRate = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0,
                                    le=MAX_SORTIES_PER_DAY)]
DamagePerHit = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=100)]
DamageSpread = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=100)]
# exp(sigma * z) for a standard normal z stays far from overflow (z never reaches 200)
Sigma = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=3)]


def _every(keys: tuple[str, ...]) -> tuple[AfterValidator, FieldInfo]:
    """A table with one entry per value of a vocabulary: the simulation looks every value up,
    so each must be given (a structural rule: the JSON Schema requires every key too)."""

    def check(table: dict[str, float]) -> dict[str, float]:
        missing = [k for k in keys if k not in table]
        if missing:
            raise PydanticCustomError("missing_keys", "every one of {keys} must be given; "
                                      "missing: {missing}",
                                      {"keys": ", ".join(keys), "missing": ", ".join(missing)})
        return table

    return AfterValidator(check), Field(json_schema_extra={"required": list(keys)})


SortieRates = Annotated[dict[Tempo, SortieRate], *_every(get_args(Tempo))]
CommandFactors = Annotated[dict[Command, Factor], *_every(get_args(Command))]
ByReadiness = Annotated[dict[Readiness, Prob], *_every(get_args(Readiness))]


# what each effect reads from its parameters: the values a parameter of that name may take
# (a kind, or a vocabulary its choices must come from); other parameters are ignored
EFFECT_PARAMS: dict[str, dict[str, ParamKind | tuple[str, ...]]] = {
    "isr_tempo": {"level": get_args(Tempo)},
    "littoral_posture": {"readiness": get_args(Readiness)},
    "cyber_attack": {"link": "link"},
}
_CONDITION = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|==|!=|>|<)\s*([A-Za-z0-9_.-]+)\s*$")


class Rung(Frozen):
    """One rung of the ladder; levels must increase up the ladder."""

    id: Id
    level: Annotated[int, Field(strict=True, ge=0, le=100)] = Field(json_schema_extra=lever(
        "?", "orders the rungs", inert_when="ordinal"))
    label: Text


class RungGroup(Frozen):
    """A named band of rungs, in the spirit of Kahn's ladder (e.g. gray-zone crisis)."""

    name: Text
    firebreak: Weight = Field(
        0.0, json_schema_extra=lever("+", "a dearer climb into the band",
                                     inert_when="first_group"),
        description="Cost Red weighs for entering this group from a lower one (Kahn's "
                         "firebreaks between bands of the ladder).")
    rungs: tuple[Rung, ...] = Field(min_length=1, max_length=101)


class Ladder(Frozen):
    groups: tuple[RungGroup, ...] = Field(min_length=2, max_length=20)
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

    choices: tuple[Word, ...] | None = Field(None, min_length=1, max_length=50)
    kind: ParamKind | None = Field(None, json_schema_extra=lever(
        "?", "what a parameter names", inert_when="structural"))
    default: Word | None = None

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
    effect: Effect = Field(json_schema_extra=lever("?", "what the action does",
                                                   inert_when="never_ordered"))
    signals: Id = Field(description="The ladder rung this action signals.")
    domain: Domain = Field("none", json_schema_extra=lever(
        "?", "how a Red act is seen, and whether the treaty covers it",
        inert_when=("blue_action", "red_unable")))
    params: dict[Id, Param] = Field({}, max_length=8)
    preconditions: tuple[Condition, ...] = Field((), max_length=10)
    gain: Weight = Field(0.0, description="Red's value of success (Red actions only).",
                         json_schema_extra=lever(
                             "?", "an act below the threshold may draw Red away from an "
                                  "armed one, or toward the brink",
                             inert_when=("blue_action", "red_unable"),
                             where={"armed_act": "-"}))
    cost: Weight = Field(0.0, description="Red's cost if Blue answers (Red actions only).",
                         json_schema_extra=lever(
                             "?", "a dearer act below the threshold may push Red toward "
                                  "an armed one, or away from the brink",
                             inert_when=("blue_action", "red_unable"),
                             where={"armed_act": "+"}))


class Menus(Frozen):
    blue: dict[Id, Action] = Field(min_length=1, max_length=50)
    red: dict[Id, Action] = Field(min_length=1, max_length=50)


class DetectionTable(Frozen):
    law: SearchLaw = Field("random", json_schema_extra=lever(
        "+", "exhaustive search finds more for the same effort",
        order=("random", "exhaustive")))
    attribution_p: Prob = Field(description="Chance a detected act is attributed to Red.",
                                json_schema_extra=lever(
                                    "?", "Red's cyber and space acts below the threshold "
                                         "are named: deterred, they may divert Red to "
                                         "others"))
    sorties_per_aircraft: SortieRates = Field(
        description="Sorties each aircraft flies per day at each tempo.",
        json_schema_extra=lever({"low": "+", "normal": "+", "surge": "+"}, "more sorties",
                                inert_when=("tempo_unused", "no_isr")))


class SalvoTable(Frozen):
    """Damage per hit, in units of the target's staying power (hits a ship can take)."""

    loss_per_hit: DamagePerHit = Field(json_schema_extra=lever(
        "+", "Blue's hits sink more, which Red weighs", inert_when="no_blue_fire"))
    loss_per_hit_sd: DamageSpread = Field(json_schema_extra=lever(
        "?", "the spread of damage per hit", inert_when="no_blue_fire"))


class C2Table(Frozen):
    latency_sigma: Sigma = Field(description="Lognormal spread of latency draws.",
                                 json_schema_extra=lever(
                                     "-", "the mean latency grows as exp(sigma^2 / 2)"))
    degraded_latency_factor: Factor = Field(json_schema_extra=lever(
        "-", "degraded links slower", inert_when="no_outage"))
    degraded_loss_add: Prob = Field(json_schema_extra=lever(
        "-", "degraded links lose more", inert_when="no_outage"))
    command_latency_factor: CommandFactors = Field(json_schema_extra=lever(
        {"separate": "-", "planned_joint_hq": "-", "joint_hq": "-", "joint_force_hq": "-"},
        "it multiplies latency, consultation and recovery", inert_when="command_unused"))
    harden_recovery_factor: Factor = Field(description="Multiplies recovery time if hardened.",
                                           json_schema_extra=lever(
                                               "-", "hardened links recover later",
                                               inert_when="no_outage"))


class CyberTable(Frozen):
    hardened_success_factor: Prob = Field(json_schema_extra=lever(
        "-", "cyber attacks on hardened links succeed more", inert_when="no_cyber"))
    space_isr_penalty: Prob = Field(
        description="Share of ISR sorties lost while space degraded.",
        json_schema_extra=lever("-", "fewer sorties while space is down",
                                inert_when="no_counterspace"))


class LittoralTable(Frozen):
    ready_share: ByReadiness = Field(
        description="Share of launchers ready to fire.",
        json_schema_extra=lever({"garrison": "+", "alert": "+", "dispersed": "+"},
                                "bigger salvos, which Red weighs",
                                inert_when=("readiness_unused", "no_anti_ship_anywhere")))
    exposure: ByReadiness = Field(
        description="Red's targeting effectiveness against batteries in each readiness state.",
        json_schema_extra=lever({"garrison": "-", "alert": "-", "dispersed": "-"},
                                "Red's strikes destroy more launchers",
                                inert_when=("readiness_unused", "no_red_missiles")))


class StrikeTable(Frozen):
    range_nm: Reach = Field(description="Reach of a Red naval strike on batteries.",
                            json_schema_extra=lever("-", "more batteries within reach",
                                                    inert_when="no_red_missiles"))
    p_hit: Prob = Field(description="Chance a Red strike missile hits a battery launcher.",
                        json_schema_extra=lever("-", "more launchers destroyed",
                                                inert_when="no_red_missiles"))


class SustainmentTable(Frozen):
    """What maintenance in the region does to ISR aircraft (scenario: blue.sustainment)."""

    maintenance_cancel_factor: Prob = Field(
        0.5, json_schema_extra=lever("-", "more maintenance cancellations",
                                     inert_when="no_regional_maintenance"),
        description="Multiplies maintenance_cancel_p when aircraft are maintained in "
                    "the region.")
    unavailable_factor: Prob = Field(
        0.5, json_schema_extra=lever("-", "fewer aircraft mission-capable",
                                     inert_when="no_regional_maintenance"),
        description="Multiplies the share of aircraft not mission-capable "
                    "(1 - availability) when aircraft are maintained in the region.")


class Adjudication(Frozen):
    detection: DetectionTable
    salvo: SalvoTable
    c2: C2Table
    cyber: CyberTable
    littoral: LittoralTable
    strike: StrikeTable
    sustainment: SustainmentTable = SustainmentTable()
    attributed_gain_share: Prob = Field(
        json_schema_extra=lever(
            "+", "only acts below the threshold gain (an armed act's gain cannot be "
                 "denied): they compete better with an armed attack"),
        description="Share of an action's gain Red keeps when the act is attributed to it.")
    holding_gain: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1000)] = Field(
        0.5, json_schema_extra=lever("-", "holding a seized objective is worth more"),
        description="Red's gain for each later turn it orders a seizure of an objective it "
                         "already took (the seizure's own gain is earned once).")
    destructive_space_factor: Factor = Field(
        json_schema_extra=lever("-", "space stays down longer after a destructive attack",
                                inert_when="no_counterspace"),
        description="How much longer a destructive counterspace attack lasts than jamming.")


class DoctrineRule(Frozen):
    """A readable Blue rule: when every condition holds, issue the action with its params."""

    name: Text
    when: tuple[Condition, ...] = Field((), max_length=10)
    do: Id
    params: dict[Id, Word] = Field({}, max_length=8)


class RedWeights(Frozen):
    gain: Weight = Field(json_schema_extra=lever("-", "Red values its gains more"))
    cost: Weight = Field(json_schema_extra=lever("+", "Red fears Blue's answer more"))
    escalation_risk: Weight = Field(json_schema_extra=lever(
        "+", "Red weighs the firebreaks it crosses more"))
    credibility: Weight = Field(json_schema_extra=lever(
        "-", "Blue's answer to an armed act outside the treaty's domains is divided by "
             "1 + credibility", inert_when="treaty_covers_all"))


class Observation(Frozen):
    """How Red reads Blue's resolve from one turn: a base plus what it saw Blue do."""

    base: Prob = Field(json_schema_extra=lever("+", "Red reads more resolve every turn"))
    exercise: Prob = Field(json_schema_extra=lever(
        "+", "Red reads more resolve from an exercise", inert_when="no_exercises"))
    signal: Prob = Field(json_schema_extra=lever(
        "+", "Red reads more resolve from a statement"))
    authority: Prob = Field(json_schema_extra=lever(
        "+", "Red reads more resolve from announced authority", inert_when="no_regiment"))
    detection: Prob = Field(json_schema_extra=lever(
        "+", "Red reads more resolve from being watched", inert_when="no_isr"))


class RedModel(Frozen):
    """Red's expected-utility, quantal-response choice (rationality = softmax sharpness)."""

    rationality: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=50)] = Field(
        json_schema_extra=lever("?", "sharper choices: the sign depends on what is best"))
    belief_rate: Prob = Field(description="How fast Red's beliefs move toward what it observes.",
                              json_schema_extra=lever(
                                  "?", "the sign depends on what Red observes"))
    weights: RedWeights
    resolve_seen: Observation
    patience: Hours = Field(72.0, json_schema_extra=lever(
        "+", "a slow answer still deters"),
                            description="Response delay at which Blue's answer loses half "
                                              "its deterrent value.")


class Ending(Frozen):
    """When an exercise stops before its last turn."""

    turns_after_armed_attack: Annotated[int, Field(strict=True, ge=0, le=50)] = Field(
        2, json_schema_extra=lever("+", "Red expects the losses of a longer conflict"),
        description="Turns played after Red crosses the armed-attack threshold."
    )


class Rules(Frozen):
    """A complete rule set, validated including every reference between its parts."""

    format: Literal["wargame-rules/1"] = Field(json_schema_extra=lever(
        "?", "the format tag", inert_when="structural"))
    name: Id
    description: Text
    ladder: Ladder
    actions: Menus
    adjudication: Adjudication
    doctrine: dict[Literal["blue"], Annotated[tuple[DoctrineRule, ...], Field(max_length=100)]]
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


def with_values(r: Rules, values: Mapping[str, object]) -> Rules:
    """A copy of a rule set with values set at dotted paths (``red_model.rationality``),
    re-validated; KeyError names a path that does not exist."""
    return Rules.model_validate(set_values(r.model_dump(mode="json"), values))


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
            out.extend(_effect_problems(f"actions.{side}.{k}", side, a))
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


def _effect_problems(path: str, side: str, a: Action) -> list[tuple[str, str]]:
    """A side's actions carry that side's effects, and the parameters an effect reads can only
    take values it knows."""
    allowed = BLUE_EFFECTS if side == "blue" else RED_EFFECTS
    if a.effect not in allowed:
        return [(f"{path}.effect", f"'{a.effect}' is not an effect {side} can order "
                                   f"(its effects: {', '.join(allowed)})")]
    out: list[tuple[str, str]] = []
    for name, want in EFFECT_PARAMS.get(a.effect, {}).items():
        spec = a.params.get(name)
        if spec is None:
            continue
        where = f"{path}.params.{name}"
        if isinstance(want, str):  # a kind resolved from the scenario
            if spec.kind not in (None, want):
                out.append((f"{where}.kind", f"effect '{a.effect}' reads '{name}' as a {want} "
                                             f"id; give kind: {want}"))
            continue
        if spec.kind is not None:
            out.append((f"{where}.kind", f"effect '{a.effect}' reads '{name}' as one of "
                                         f"{list(want)}; give choices, not a kind"))
        for i, choice in enumerate(spec.choices or ()):
            if choice not in want:
                out.append((f"{where}.choices.{i}", f"effect '{a.effect}' knows no {name} "
                                                    f"'{choice}' (known: {', '.join(want)})"))
        if spec.default is not None and spec.default not in want:
            out.append((f"{where}.default", f"effect '{a.effect}' knows no {name} "
                                            f"'{spec.default}' (known: {', '.join(want)})"))
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

