"""The escalation ladder, the armed-attack threshold, Article V and Red's score. Writes
``World.ladder`` only.

Three clocks are kept apart on purpose. The truth: Red crossed the threshold when it *ordered*
an armed attack (deterrence failed then; only the umpire and Red know). Blue's knowledge: Blue
learns of the attack when it detects a group sent to strike or when the attack's effects land;
only then do the allies decide on Article V. The public rung: it moves with Blue's own signals
and with the Red acts Blue knows of (detected, attributed, or evident from their effects).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np

from engine.sim import decision, estimates
from engine.sim.forces import littoral
from engine.sim.state import World, r6
from engine.spec.rules import Action, Rules
from engine.spec.types import Side

How = Literal["detected", "effects", "attributed"]
# the movement effects whose groups, once detected, show Blue the act (see adversary.MOVERS)
_MOVING = ("patrol", "incursion", "strike")


def setup(w: World) -> None:
    w.ladder.rung = w.ladder.highest = w.ladder.red_rung = w.rules.ladder.rungs()[0].id


def ordered_armed_attack(w: World, aid: str, action: Action) -> None:
    """Red ordered an act at or above the threshold: deterrence failed (the truth)."""
    if w.ladder.armed_attack_turn is None:
        w.ladder.armed_attack_turn = w.turn
        w.ladder.attack_action = aid
        w.emit("escalation.threshold", "ladder", {"action": aid, "domain": action.domain})


def is_armed_attack(w: World, action: Action) -> bool:
    ladder = w.rules.ladder
    return ladder.level(action.signals) >= ladder.level(ladder.armed_attack_threshold)


def on_detection(w: World, gid: str) -> None:
    """Blue found a group: if it sails to strike after the threshold, the attack is known."""
    if w.ladder.armed_attack_turn is not None and w.red.groups[gid].mission == "strike":
        blue_learns(w, "detected", "land_sea_air")


def blue_learns(w: World, how: How, domain: str = "land_sea_air") -> None:
    """Blue learns of an armed attack in ``domain``; the allies decide on Article V the first
    time an attack in a treaty domain is known, and every regiment may then fire."""
    ladder = w.ladder
    if ladder.armed_attack_turn is None or domain in ladder.known_domains:
        return
    ladder.known_domains.append(domain)
    if ladder.known_turn is None:
        ladder.known_turn = w.turn
    w.emit("alliance.armed_attack", "alliance", {"domain": domain, "how": how})
    if ladder.article5_turn is not None:
        return  # already invoked; later attacks are part of the same conflict
    covered = domain in w.scenario.treaty.article5_domains
    w.emit("alliance.article5", "alliance", {
        "domain": domain, "invoked": covered,
        "treaty_domains": list(w.scenario.treaty.article5_domains)})
    if covered:
        ladder.article5_turn = w.turn
        littoral.grant_all(w)


def adjudicate(w: World) -> None:
    """End of the turn's execution: Red's gains and attribution, then the public rung."""
    known = _score(w)
    _move_rung(w, known)


def _score(w: World) -> set[int]:
    """Red gains what it does unattributed, and a share of it when the act is attributed;
    returns the indices of this turn's acts that Blue knows of."""
    rng = w.rng("attribution")
    acts = _acts(w)
    known: set[int] = set()
    for i, key in enumerate(w.tally.actions):
        if key[0] != "red":
            known.add(i)  # Blue's own acts are signals by nature
            continue
        aid = key[1]
        action, _, armed, moved = acts[key]
        attributed, chance = _attribution(w, action, rng, moved)
        gain = gain_of(w, action)
        if action.effect == "strike":
            w.ladder.seized = True
        if gain > 0:  # an armed act cannot be denied: it earns its gain whoever knows
            _gain(w, aid, gain, attributed, chance, deniable=not armed)
        if attributed and chance["draw"] is not None and w.recording:
            w.emit("intel.attribution", "alliance", {"action": aid, "domain": action.domain,
                                                     **chance})
        if attributed and armed:
            blue_learns(w, "attributed", action.domain)  # intelligence names the attack
        if attributed or (armed and w.ladder.known_turn is not None):
            known.add(i)
    return known


def gain_of(w: World, action: Action) -> float:
    """What a Red act is worth now (decision.worth, with the ladder's seizure)."""
    return decision.worth(action, w.ladder.seized, w.rules.adjudication.holding_gain)


def _gain(w: World, aid: str, gain: float, attributed: bool,
          chance: dict[str, float | None], deniable: bool = True) -> None:
    """Red's score for one act: all of it, or a share of it when a deniable act (one below
    the armed-attack threshold) is attributed."""
    share = w.rules.adjudication.attributed_gain_share if attributed and deniable else 1.0
    gained = gain * share
    w.ladder.red_gains += gained
    w.ladder.gains_claimed += gain
    if attributed:
        w.ladder.attributed_gains += gained
    if w.recording:  # a measures-only run builds no record data
        w.emit("red.gain", "red", {"action": aid, "attributed": attributed,
                                   "gain": r6(gained), **chance})


def _attribution(w: World, action: Action, rng: np.random.Generator,
                 moved: tuple[str, ...] | None) -> tuple[bool, dict[str, float | None]]:
    """Whether Blue attributes a Red act: cyber and space acts by a draw, movements (``moved``:
    the kinds of group the act moves) by the detection of a group of those kinds."""
    if action.domain in ("cyber", "space"):
        p = w.rules.adjudication.detection.attribution_p
        u = float(rng.random())
        return u < p, {"p_attribute": p, "draw": r6(u)}
    if moved is not None:
        groups = w.scenario.red.groups
        seen = any(groups[g].kind in moved for g in w.tally.detected)
        return seen, {"p_attribute": None, "draw": None}  # decided by detection, not a draw
    return False, {"p_attribute": None, "draw": None}


def _move_rung(w: World, known: set[int]) -> None:
    """New public rung: the highest signalled by a known act this turn, or one rung down from
    last turn's if lower."""
    rungs, index = estimates.shared(w, "rungs", lambda: _rungs(w.rules))
    acts = _acts(w)
    top = index[w.ladder.rung] - 1
    for i, key in enumerate(w.tally.actions):
        if i in known:
            top = max(top, acts[key][1])
    if w.ladder.known_turn == w.turn:  # an attack ordered earlier became evident this turn
        top = max(top, acts[("red", w.ladder.attack_action)][1])
    new = rungs[max(0, top)]
    if new != w.ladder.rung:
        w.emit("escalation.rung", "ladder", {
            "from": w.ladder.rung, "to": new, "level": w.rules.ladder.level(new)})
    w.ladder.rung = new
    if index[new] > index[w.ladder.highest]:
        w.ladder.highest = new


def _rungs(rules: Rules) -> tuple[tuple[str, ...], dict[str, int]]:
    """The ladder's rung ids bottom to top, and each one's place (rung ids are unique)."""
    rungs = tuple(x.id for x in rules.ladder.rungs())
    return rungs, {rid: i for i, rid in enumerate(rungs)}


_Act = tuple[Action, int, bool, tuple[str, ...] | None]


def _acts(w: World) -> dict[tuple[Side, str], _Act]:
    """Every action by (side, id), with the place of the rung it signals, whether it is an
    armed attack (Red's only) and, for a movement, the kinds of group it moves: fixed by the
    rules, and read for every act every turn."""
    def make() -> dict[tuple[Side, str], _Act]:
        from engine.sim.forces.adversary import MOVERS  # the one table of who moves
        _, index = estimates.shared(w, "rungs", lambda: _rungs(w.rules))
        menus = w.rules.actions
        acts: dict[tuple[Side, str], _Act] = {}
        sides: tuple[tuple[Side, Mapping[str, Action]], ...] = (
            ("blue", menus.blue), ("red", menus.red))
        for side, menu in sides:
            for aid, action in menu.items():
                armed = side == "red" and is_armed_attack(w, action)
                moved = MOVERS[action.effect] if action.effect in _MOVING else None
                acts[(side, aid)] = (action, index[action.signals], armed, moved)
        return acts
    return estimates.shared(w, "escalation.acts", make)


def record_action(w: World, side: Side, aid: str) -> None:
    """An order executed this turn (adjudicated at the turn's end); Red's own rung becomes the
    rung its act signals (its next climb is measured from there, not from Blue's signals)."""
    w.tally.actions.append((side, aid))
    if side == "red":
        w.ladder.red_rung = w.rules.actions.red[aid].signals


def ended(w: World) -> bool:
    """The exercise ends a set number of turns after an armed attack, or at the last turn."""
    attack = w.ladder.armed_attack_turn
    if attack is not None and w.turn >= attack + w.rules.end.turns_after_armed_attack:
        return True
    return w.turn >= w.scenario.turns.count
