"""Japan's counterstrike capability (the 2023 report: Japan "acquiring counterstrike
capabilities"): long-range missiles fired from a site in the home islands at Red's forces
within range. Writes ``World.counterstrike`` only.

Counterstrike is a national decision under the right of self-defence: it needs an armed attack
that Blue knows of (``World.ladder.known_turn``, see ``escalation.blue_learns``), not Article V
and not the alliance's engagement authority. A unit fires at most one salvo per turn while it
has missiles, when its C2 ``node`` holds a track younger than one turn on a Red group whose
tracked zone lies within ``range_nm`` of its ``site`` (a zone with no distance entry to the
site is out of range): the navy first, then the group with the most ships (ties by id). It
tries at the start of each turn and whenever a track reaches its node. The salvo is Armstrong's
stochastic salvo (``adjudication.stochastic_salvo``) against the target's interceptors with the
rules' salvo table, every draw recorded (``counterstrike.salvo``, seen by both sides: Blue fired
it and Red's forces took it); its size follows ``adjudication.battery_salvo`` with every launcher
ready, the rule Red's estimate uses too (``estimates.counterstrike_losses``). Every number is
notional.
"""

from __future__ import annotations

import math
from functools import partial

from engine.sim.adjudication import battery_salvo
from engine.sim.forces import adversary, isr
from engine.sim.state import World, r6
from engine.spec.scenario import Scenario

# a track older than one turn no longer says where a group is (the shooters have no sensor)
TRACK_MAX_AGE_TURNS = 1.0


def setup(w: World) -> None:
    """Full magazines; each unit listens for tracks reaching its node."""
    for uid, u in sorted(w.scenario.blue.counterstrike.items()):
        w.counterstrike.magazines[uid] = u.magazine
        isr.listen(w, u.node, partial(engage, w, uid))


def engage_all(w: World) -> None:
    for uid in sorted(w.scenario.blue.counterstrike):
        engage(w, uid)


def engage(w: World, uid: str) -> None:
    """Fire one salvo if an armed attack is known, the unit has not fired this turn, it has
    launchers and missiles, and its node holds a fresh track on a group within range."""
    if w.ladder.known_turn is None or w.counterstrike.fired_turn.get(uid) == w.turn:
        return
    u = w.scenario.blue.counterstrike[uid]
    if u.launchers <= 0 or u.missiles_per_launcher <= 0 or w.counterstrike.magazines[uid] <= 0:
        return
    target = _target(w, uid)
    if target is not None:
        _salvo(w, uid, *target)


def _target(w: World, uid: str) -> tuple[str, str] | None:
    """(group, tracked zone) to strike: fresh tracks within range, navy first, then most ships."""
    u, groups = w.scenario.blue.counterstrike[uid], w.scenario.red.groups
    oldest = w.now - w.hours * TRACK_MAX_AGE_TURNS
    best: tuple[bool, float, str, str] | None = None
    for gid, track in sorted(w.isr.tracks[u.node].items()):
        ships = w.red.groups[gid].ships
        if ships <= 0 or track.detected_t < oldest:
            continue
        if w.distance(u.site, track.zone) > u.range_nm:
            continue
        key = (groups[gid].kind != "navy", -ships, gid, track.zone)
        if best is None or key < best:
            best = key
    return (best[2], best[3]) if best else None


def _salvo(w: World, uid: str, gid: str, zone: str) -> None:
    u, g = w.scenario.blue.counterstrike[uid], w.scenario.red.groups[gid]
    ships = w.red.groups[gid].ships
    shooters, per = battery_salvo(launchers=u.launchers, magazine=w.counterstrike.magazines[uid],
                                  ready_share=1.0, missiles_per_launcher=u.missiles_per_launcher)
    fired = shooters * per
    w.counterstrike.magazines[uid] -= fired
    w.counterstrike.fired_turn[uid] = w.turn
    draws = adversary.take_salvo(w, gid, w.rng(f"counterstrike.{uid}"), shooters=shooters,
                                 per=per, p_hit=u.p_hit)
    w.tally.add("counterstrike_missiles", fired)
    w.emit("counterstrike.salvo", uid, {
        "target": gid, "from": u.site, "zone": zone, "shooters": shooters, "missiles": fired,
        "p_hit": u.p_hit, "good_shots": draws.good_shots,
        "interceptors": g.interceptors_per_ship * math.ceil(ships),
        "p_intercept": g.p_intercept, "intercepts": draws.intercepts, "hits": draws.hits,
        "damage": [r6(d) for d in draws.damage], "ships_before": r6(ships),
        "ships_lost": r6(draws.loss), "model": "stochastic salvo (Armstrong 2005)"})


# ---- the reach, one rule for the engine and any estimate --------------------------------------

def in_range(s: Scenario, uid: str, zone: str) -> bool:
    """Whether a counterstrike unit reaches ``zone`` from its site."""
    u = s.blue.counterstrike[uid]
    return s.distance(u.site, zone) <= u.range_nm
