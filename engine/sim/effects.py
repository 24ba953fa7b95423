"""The effect registry: what each of the rules' effect names does, keyed once.

An action in the rules names an ``effect`` from a fixed vocabulary (``spec.types.Effect``);
this table maps each to the force module that carries it out, so a new mechanic is one entry
here and one function in the module that owns the state it changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from engine.sim.forces import adversary, alliance, c2, isr, littoral
from engine.sim.state import World
from engine.spec.rules import Action

Params = Mapping[str, str | None]
Handler = Callable[[World, Action, Params], None]


def _hold(w: World, action: Action, params: Params) -> None:
    """Keep the current posture: nothing changes."""


def _tempo(w: World, action: Action, params: Params) -> None:
    isr.set_tempo(w, params.get("level") or "normal")  # type: ignore[arg-type]  # menu-checked


def _harden(w: World, action: Action, params: Params) -> None:
    c2.harden(w)


EFFECTS: Mapping[str, Handler] = {
    # Blue
    "isr_tempo": _tempo,
    "littoral_posture": littoral.posture,
    "signal": alliance.signal,
    "exercise": alliance.exercise,
    "c2_harden": _harden,
    "consult": littoral.consult,
    "authorize_engagement": littoral.seek_authority,
    # Red
    "patrol": adversary.move_to_objective,
    "incursion": adversary.move_to_objective,
    "strike": adversary.move_to_objective,
    "stand_down": adversary.stand_down,
    "cyber_attack": adversary.cyber_attack,
    "counterspace_attack": adversary.counterspace_attack,
    # either
    "hold": _hold,
}


def apply(w: World, action: Action, params: Params) -> None:
    """Carry out one legal order's effect."""
    EFFECTS[action.effect](w, action, params)
