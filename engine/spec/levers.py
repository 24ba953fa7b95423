"""Lever declarations: beside each numeric, boolean and categorical field of a scenario or rule
set, the direction in which raising it (or switching it on) should move P(deterrence holds),
and the named conditions under which it may be inert.

    availability: Prob = Field(description="...", json_schema_extra=lever("+", "more sorties"))

``lever`` returns what pydantic's ``Field(json_schema_extra=...)`` takes: ``{"x-lever": {...}}``
(a dict, so it composes with the tables' own ``json_schema_extra``). :func:`describe_levers`,
the models' schema hook, appends the declaration to each field's published ``description``.
``wargame levers`` (engine/levers) varies every declared field one at a time and flags a field
that changes nothing (DEAD) unless one of its inert conditions holds, and a significant change
against the declared direction (WRONG-SIGN). Directions are claims about the model's mechanics
and, like every number here, notional.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

Direction = Literal["+", "-", "?"]
DIRECTIONS: tuple[Direction, ...] = ("+", "-", "?")
KEY = "x-lever"  # the JSON Schema annotation keyword that carries a declaration

# The registry of named conditions: name -> when it holds. A declaration names them for when a
# field may change nothing (``inert_when``) and for a direction that holds only where a
# condition does (``where``). Each name has a test on a (scenario, rules) pair and a lever's
# path in engine/levers/conditions.py (a test holds the two tables to the same names).
INERT: dict[str, str] = {
    "structural": "it is structural (a label, a format tag or who plays in `wargame play`), "
                  "not a lever",
    "ordinal": "only the order of the rungs' levels is read, and a valid variant keeps it",
    "no_aircraft": "the detachment has no aircraft",
    "no_anti_ship": "the regiment has no anti-ship role (anti_ship is false)",
    "no_anti_ship_anywhere": "no littoral regiment has an anti-ship role",
    "no_blue_fire": "nothing of Blue's fires at ships (no anti-ship regiment, no counterstrike "
                    "launcher)",
    "unarmed": "the regiment cannot fire at Red's objective: it carries no missiles "
               "(missiles_per_launcher or every magazine is 0) or no site is within range",
    "no_sensor": "the regiment has no organic sensor (its sweep width or speed is 0)",
    "no_anti_ship_nor_sensor": "the regiment neither fires at ships nor has an organic sensor",
    "never_moves": "the regiment neither fires at ships nor has two sites to disperse between",
    "zone_not_searched": "no Red group goes to the zone (groups sail only between home and "
                         "the objective) or no Blue sensor searches it",
    "zone_not_objective": "the zone is not Red's objective (the only claimed zone Red enters)",
    "distance_unused": "the distance is on no route a unit uses (ISR base to its zones, Red "
                       "home to the objective, a firing site to where Red goes)",
    "link_unused": "the link is on no route a report or an order takes",
    "not_attacked": "no Red attack reaches the link: Red's cyber attacks aim at another link "
                    "and it does not go through space (or Red has no counterspace unit)",
    "node_never_degraded": "no Red attack reaches a link of the node that a report or an "
                           "order crosses (see not_attacked and link_unused)",
    "one_nation": "no report crosses between nations, so nothing is ever withheld",
    "no_cyber": "Red has no cyber unit, or Blue no C2 link",
    "no_counterspace": "Red has no counterspace unit",
    "no_outage": "no C2 link can be degraded (Red has neither cyber nor counterspace units)",
    "not_navy": "the group is not a navy: coast guard and militia are searched for and score "
                "as one group, whatever their number of ships",
    "not_fired_at": "nothing of Blue's fires at the group: Blue has no anti-ship regiment nor "
                    "counterstrike unit, or it is not a navy while a navy sails (batteries "
                    "fire at navies only, counterstrike at a navy first)",
    "spare_site_distance": "the distance joins a spare dispersal site (no battery starts "
                           "there) and a zone Red goes to: it only decides whether dispersal "
                           "may use the site, and another site in range serves as well",
    "no_red_missiles": "no Red navy group carries missiles, so Red never strikes the batteries",
    "blue_action": "the action is Blue's (gain, cost and domain are Red's values)",
    "armed_act": "the action is Red's and at or above the armed-attack threshold",
    "never_ordered": "Blue's doctrine never orders the action and no inject does",
    "red_unable": "Red's forces cannot carry the action out in this scenario",
    "first_group": "the ladder's lowest group is never entered from below",
    "tempo_unused": "the tempo is neither the starting one (normal) nor one that doctrine or "
                    "an inject sets",
    "command_unused": "the scenario's command arrangement is another",
    "readiness_unused": "no regiment starts in this readiness and neither doctrine nor an "
                        "inject orders it",
    "treaty_covers_all": "the treaty covers every domain of Red's armed acts",
    "no_exercises": "the posture provides for no joint exercises",
    "no_regiment": "the posture has no littoral regiment",
    "no_regional_maintenance": "regional maintenance is off (blue.sustainment)",
    "no_isr": "the posture has no ISR aircraft",
    "partner_idle": "the partner searches no hours",
    "no_counterstrike": "the counterstrike unit has no launchers",
}

_SIGN_WORDS = {"+": "should raise P(deterrence holds)", "-": "should lower P(deterrence holds)",
               "?": "has no sign claimed, but must change some outcome"}


@dataclass(frozen=True)
class Lever:
    """A field's declaration: direction (one, or one per table key), why, when it may be
    inert, and for a choice the order along which the direction holds."""

    direction: Direction | Mapping[str, Direction]
    why: str = ""
    inert_when: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    where: tuple[tuple[str, Direction], ...] = ()  # (condition, direction): the first that holds

    def direction_of(self, key: str | None = None) -> Direction:
        """The direction for a table key (or the field's single direction), before ``where``."""
        if isinstance(self.direction, str):
            return self.direction
        return self.direction.get(key or "", "?")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"direction": self.direction if isinstance(self.direction, str)
                               else dict(self.direction)}
        if self.why:
            out["why"] = self.why
        if self.inert_when:
            out["inert_when"] = list(self.inert_when)
        if self.order:
            out["order"] = list(self.order)
        if self.where:
            out["where"] = {c: d for c, d in self.where}
        return out


def lever(direction: Direction | Mapping[str, Direction], why: str = "", *,
          inert_when: str | Sequence[str] = (), order: Sequence[str] = (),
          where: Mapping[str, Direction] | None = None) -> dict[str, Any]:
    """The ``json_schema_extra`` of a lever field; ValueError for an unknown direction or
    condition. ``where`` maps conditions to the direction that holds where they do."""
    conditions = (inert_when,) if isinstance(inert_when, str) else tuple(inert_when)
    signs = [direction] if isinstance(direction, str) else list(direction.values())
    bad = [d for d in [*signs, *(where or {}).values()] if d not in DIRECTIONS]
    if bad:
        raise ValueError(f"direction must be one of {DIRECTIONS}, found {bad}")
    unknown = [c for c in [*conditions, *(where or {})] if c not in INERT]
    if unknown:
        raise ValueError(f"unknown condition(s) {unknown} (known: {', '.join(INERT)})")
    decl = Lever(direction if isinstance(direction, str) else dict(direction), why,
                 conditions, tuple(order), tuple((where or {}).items()))
    return {KEY: decl.to_json()}


def declaration(field: FieldInfo) -> Lever | None:
    """The lever declared on a pydantic field, or None."""
    extra = field.json_schema_extra
    raw: Any = extra.get(KEY) if isinstance(extra, dict) else None
    if not isinstance(raw, dict):
        return None
    return Lever(raw["direction"], str(raw.get("why", "")), tuple(raw.get("inert_when", ())),
                 tuple(raw.get("order", ())), tuple(raw.get("where", {}).items()))


def describe_levers(schema: dict[str, Any], cls: type[Any]) -> None:
    """Model schema hook: append each property's lever declaration to its description."""
    for prop in schema.get("properties", {}).values():
        raw = prop.get(KEY)
        if isinstance(raw, dict):
            text = lever_text(raw, prop)
            prop["description"] = f"{prop['description']} {text}" if prop.get(
                "description") else text


def lever_text(raw: Mapping[str, Any], prop: Mapping[str, Any]) -> str:
    """One or two sentences saying what a declaration claims, for a schema description."""
    direction = raw["direction"]
    if isinstance(direction, Mapping):
        signs = ", ".join(f"{k} {d}" for k, d in direction.items())
        claims = "; ".join(f"raising a value marked {d} {_SIGN_WORDS[d]}"
                           for d in DIRECTIONS if d in direction.values())
        text = f"Lever, per key ({signs}): {claims}."
    elif raw.get("order"):
        text = (f"Lever ({direction}): moving along {' < '.join(raw['order'])} "
                f"{_SIGN_WORDS[direction]}.")
    else:
        what = ("switching it on" if prop.get("type") == "boolean"
                else "adding a domain" if prop.get("type") == "array"
                else "another choice" if "enum" in prop or "const" in prop
                else "raising it")
        text = f"Lever ({direction}): {what} {_SIGN_WORDS[direction]}." if direction != "?" \
            else f"Lever (?): {_SIGN_WORDS['?']}."
    for c, d in raw.get("where", {}).items():
        text += f" Where {INERT[c]}: ({d}) raising it {_SIGN_WORDS[d]}."
    if raw.get("why"):
        text += f" Why: {raw['why']}."
    if raw.get("inert_when"):
        text += " May be inert when " + "; or ".join(INERT[c] for c in raw["inert_when"]) + "."
    return text


# ---- which fields are levers -----------------------------------------------------------------

Kind = Literal["bool", "int", "float", "choice", "choices", "table", "rows"]
SCALARS = ("bool", "int", "float", "choice")


def unwrap(tp: Any) -> Any:
    """A type without Annotated metadata and without an ``| None``."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        rest = [a for a in get_args(tp) if a is not type(None)]
        if len(rest) == 1:
            return unwrap(rest[0])
    return tp


def scalar_kind(tp: Any) -> Kind | None:
    """bool, int, float or choice (a Literal), or None for text, unions and containers."""
    tp = unwrap(tp)
    if get_origin(tp) is Literal:
        return "choice"
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    return "float" if tp is float else None


def lever_kind(tp: Any) -> Kind | None:
    """The kind of a field's type if it is a lever (a scalar, a table of scalars, a tuple of
    choices, rows with numbers in them), else None (text, ids, models and their containers)."""
    kind = scalar_kind(tp)
    if kind is not None:
        return kind
    tp = unwrap(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin is dict and scalar_kind(args[1]) is not None:
        return "table"
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = unwrap(args[0])
        if get_origin(item) is Literal:
            return "choices"
        if get_origin(item) is tuple and any(
                scalar_kind(a) in ("int", "float") for a in get_args(item)):
            return "rows"
    return None


def submodels(tp: Any) -> Iterator[type[BaseModel]]:
    """The models a field's type holds (itself, or in dicts and tuples, at any depth)."""
    tp = unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp
        return
    for arg in get_args(tp):
        if arg is not Ellipsis:
            yield from submodels(arg)


def lever_fields(root: type[BaseModel]) -> Iterator[tuple[type[BaseModel], str, FieldInfo,
                                                          Kind]]:
    """Every lever field of a model and of every model it holds, each class once."""
    seen: set[type[BaseModel]] = set()
    todo = [root]
    while todo:
        model = todo.pop(0)
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            kind = lever_kind(field.annotation)
            if kind is not None:
                yield model, name, field, kind
            else:
                todo.extend(submodels(field.annotation))


def undeclared(root: type[BaseModel]) -> list[str]:
    """``Model.field`` of every lever field that has no declaration (should be none)."""
    return [f"{m.__name__}.{n}" for m, n, f, _ in lever_fields(root) if declaration(f) is None]
