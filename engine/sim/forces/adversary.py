"""Red, the abstract adversary: surface groups moving between zones, incursions, cyber and
counterspace attacks, and strikes once past the armed-attack threshold. Writes ``World.red``.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import numpy as np
import simpy

from engine.sim import beliefs, escalation
from engine.sim.adjudication import SalvoDraws, stochastic_salvo
from engine.sim.forces import c2, isr, littoral
from engine.sim.state import GroupState, World, r6
from engine.spec.rules import Action
from engine.spec.types import GroupKind, Mission

# which kinds of group each movement effect sends to the objective (a rule of the game: coast
# guard patrols; militia joins incursions; the navy sails only to strike)
MOVERS: Mapping[str, tuple[GroupKind, ...]] = {
    "patrol": ("coast_guard",),
    "incursion": ("coast_guard", "militia"),
    "strike": ("coast_guard", "militia", "navy"),
}
# Red's cyber and counterspace attacks land at a uniform time in the first part of the turn
ATTACK_WINDOW_SHARE = 0.5


def setup(w: World) -> None:
    for gid, g in sorted(w.scenario.red.groups.items()):
        w.red.groups[gid] = GroupState(g.home, g.home, 0.0, float(g.ships))


def unable(w: World, effect: str) -> str | None:
    """Why Red's forces cannot carry out ``effect`` now, or None when they can."""
    s = w.scenario
    if effect in MOVERS:
        kinds = MOVERS[effect]
        if not any(s.red.groups[g].kind in kinds and st.ships > 0
                   for g, st in w.red.groups.items()):
            return f"no Red group of kind {', '.join(kinds)} is left to {effect}"
    elif effect == "cyber_attack" and not s.red.cyber:
        return "the scenario gives Red no cyber unit"
    elif effect == "cyber_attack" and not s.blue.c2.links:
        return "Blue has no C2 link to attack"
    elif effect == "counterspace_attack" and not s.red.counterspace:
        return "the scenario gives Red no counterspace unit"
    return None


# ---- the effects of Red's orders -------------------------------------------------------------

def move_to_objective(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    """Send every group of the effect's kinds to Red's objective."""
    mission: Mission = action.effect  # type: ignore[assignment]  # a MOVERS key
    for gid, g in sorted(w.scenario.red.groups.items()):
        if g.kind in MOVERS[action.effect]:
            move(w, gid, w.scenario.red.objective, mission)


def stand_down(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    for gid, g in sorted(w.scenario.red.groups.items()):
        move(w, gid, g.home, "home")


def cyber_attack(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    target = params.get("link") or cyber_target(w)
    for uid in sorted(w.scenario.red.cyber):
        w.env.process(_cyber(w, uid, target))


def counterspace_attack(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    destructive = w.rung_level(action.signals) >= w.rung_level(
        w.rules.ladder.armed_attack_threshold)
    for uid in sorted(w.scenario.red.counterspace):
        w.env.process(_counterspace(w, uid, destructive))


# ---- movement --------------------------------------------------------------------------------

def move(w: World, gid: str, dest: str, mission: Mission) -> None:
    """Send a group toward a zone; arrival in a Blue-claimed or disputed zone is an incursion."""
    state = w.red.groups[gid]
    if state.ships <= 0 or (state.dest == dest and state.mission == mission):
        return
    arrived = state.arrive_t <= w.now
    origin = state.dest if arrived else state.zone
    if state.dest == dest and arrived:
        state.mission = mission  # a new task where it already is: not a new incursion
        w.emit("red.move", gid, {"from": dest, "to": dest, "mission": mission,
                                 "eta_h": r6(w.now)})
        return
    if dest != state.dest:
        w.red.incursion_t.pop(gid, None)  # leaving: the old incursion's clock stops
    hours = w.distance(origin, dest) / w.scenario.red.groups[gid].speed_kts
    state.zone, state.dest, state.arrive_t, state.mission = origin, dest, w.now + hours, mission
    state.leg += 1
    w.emit("red.move", gid, {"from": origin, "to": dest, "mission": mission,
                             "eta_h": r6(state.arrive_t)})
    isr.group_entering(w, gid, dest, state.arrive_t)
    w.env.process(_arrive(w, gid, state.leg, state.arrive_t))


def _arrive(w: World, gid: str, leg: int, at: float) -> Generator[simpy.Event, Any, None]:
    yield w.env.timeout(at - w.now)
    state = w.red.groups[gid]
    if state.leg != leg:
        return  # re-ordered on the way
    dest = state.dest
    state.zone = dest
    claimed = w.scenario.theater.zones[dest].claimed_by in ("blue", "disputed")
    if claimed and state.mission != "home":
        w.red.incursion_t.setdefault(gid, w.now)
        w.tally.add("incursions")
        w.emit("red.incursion", gid, {"zone": dest, "mission": state.mission})
        if state.mission == "strike" and w.scenario.red.groups[gid].kind == "navy":
            littoral.struck(w, gid)


def first_seen(w: World, gid: str) -> float | None:
    """Blue detected a group: when its current incursion began (once per incursion)."""
    return w.red.incursion_t.pop(gid, None)


def take_losses(w: World, gid: str, ships: float) -> None:
    w.red.groups[gid].ships -= ships


def take_salvo(w: World, gid: str, rng: np.random.Generator, *, shooters: int, per: int,
               p_hit: float) -> SalvoDraws:
    """A salvo at group ``gid``: Armstrong's stochastic salvo against the group's interceptors
    and staying power, its losses taken and tallied; every draw returned for the record."""
    g, table = w.scenario.red.groups[gid], w.rules.adjudication.salvo
    draws = stochastic_salvo(
        rng, shooters=shooters, missiles_per_shooter=per, p_hit=p_hit,
        targets=w.red.groups[gid].ships, interceptors_per_target=g.interceptors_per_ship,
        p_intercept=g.p_intercept, loss_per_hit=table.loss_per_hit / g.staying_power,
        loss_per_hit_sd=table.loss_per_hit_sd / g.staying_power)
    take_losses(w, gid, draws.loss)
    w.tally.add("red_losses", draws.loss)
    return draws


def watches(w: World, zone: str) -> bool:
    """Whether Red sees what flies over ``zone``: its objective, or where a group of it is."""
    if zone == w.scenario.red.objective:
        return True
    now = w.env.now
    return any(g.dest == zone and g.arrive_t <= now and g.ships > 0
               for g in w.red.groups.values())


# ---- cyber and counterspace ------------------------------------------------------------------

def cyber_target(w: World) -> str | None:
    """The link carrying the most traffic that matters (ties by id): the routes of track
    reports from every sensor's report node to the engagement authority and the regiments'
    HQs, and of authority requests and grants. Red knows the declared C2 layout."""
    use: dict[str, int] = {}
    for path in _vital_routes(w):
        for lid in path:
            use[lid] = use.get(lid, 0) + 1
    if not use:
        return None
    return max(sorted(use), key=lambda lid: use[lid])


def _vital_routes(w: World) -> list[tuple[str, ...]]:
    s = w.scenario
    c2cfg = s.blue.c2
    hqs = {r.hq_node for r in s.blue.littoral.values()}
    sinks = sorted(hqs | {c2cfg.authority_node})
    sources = sorted({d.report_node for d in s.blue.isr.values()}
                     | {p.report_node for p in s.blue.partners.values()})
    pairs = {(a, b) for a in sources for b in sinks if a != b}
    pairs |= {(h, c2cfg.authority_node) for h in hqs if h != c2cfg.authority_node}
    pairs |= {(c2cfg.authority_node, h) for h in hqs if h != c2cfg.authority_node}
    return [w.c2.routes[p] for p in sorted(pairs) if p in w.c2.routes]


def _cyber(w: World, uid: str, link: str | None) -> Generator[simpy.Event, Any, None]:
    unit = w.scenario.red.cyber[uid]
    rng = w.rng(f"cyber.{uid}")
    yield w.env.timeout(float(rng.uniform(0, w.hours * ATTACK_WINDOW_SHARE)))
    if link is None:
        return
    hardened = w.c2.links[link].hardened
    p = unit.p_success * (w.rules.adjudication.cyber.hardened_success_factor if hardened else 1)
    u = float(rng.random())
    w.emit("red.cyber.attack", uid, {"link": link, "hardened": hardened, "p_success": r6(p),
                                     "draw": r6(u), "success": u < p})
    if u < p:
        w.tally.add("cyber_hits")
        until = c2.degrade(w, link, unit.effect_h)
        beliefs.caused_outage(w, link, until)


def _counterspace(w: World, uid: str, destructive: bool) -> Generator[simpy.Event, Any, None]:
    unit = w.scenario.red.counterspace[uid]
    rng = w.rng(f"counterspace.{uid}")
    yield w.env.timeout(float(rng.uniform(0, w.hours * ATTACK_WINDOW_SHARE)))
    u = float(rng.random())
    hit = u < unit.p_success
    w.emit("red.counterspace.attack", uid, {
        "destructive": destructive, "p_success": unit.p_success, "draw": r6(u),
        "success": hit})
    if not hit:
        return
    hours = unit.effect_h * (w.rules.adjudication.destructive_space_factor if destructive else 1)
    c2.degrade_space(w, hours)
    if destructive:
        escalation.blue_learns(w, "effects", "space")  # satellites destroyed: it is evident
