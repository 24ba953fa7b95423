"""The alliance's public acts: joint exercises and statements of resolve. Both are seen by
Red (sim/kinds.py) and feed its belief in Blue's resolve (sim/beliefs.py)."""

from __future__ import annotations

from collections.abc import Mapping

from engine.sim.state import World
from engine.spec.rules import Action


def exercise(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    """A joint exercise, when the posture provides for them (``exercises_per_turn``)."""
    count = w.scenario.blue.c2.exercises_per_turn
    if count > 0:
        w.tally.add("exercises", count)
        w.emit("blue.exercise", "alliance", {"count": count})


def signal(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    """A public statement of the alliance's resolve."""
    w.tally.add("signals")
    w.emit("blue.signal", "alliance", {})


def unable(w: World, effect: str) -> str | None:
    """Why Blue's posture cannot carry out ``effect``, or None when it can."""
    blue = w.scenario.blue
    if effect == "exercise" and blue.c2.exercises_per_turn <= 0:
        return "the posture provides for no joint exercises"
    if effect in ("littoral_posture", "authorize_engagement", "consult") and not blue.littoral:
        return "the posture has no littoral regiment"
    if effect == "isr_tempo" and not blue.isr:
        return "the posture has no ISR detachment"
    if effect == "c2_harden" and all(state.hardened for state in w.c2.links.values()):
        return "every C2 link is already hardened"
    return None
