"""Red, the abstract adversary: surface groups moving between zones, incursions, cyber and
counterspace attacks, and strikes once past the armed-attack threshold."""

from __future__ import annotations

from collections.abc import Generator

from engine.sim.forces import c2, littoral
from engine.sim.state import BLUE, RED, GroupState, World, r6
from engine.spec.rules import Action

# which kinds of group each movement effect sends to the objective
MOVERS = {
    "patrol": ("coast_guard",),
    "incursion": ("coast_guard", "militia"),
    "strike": ("coast_guard", "militia", "navy"),
}


def setup(w: World) -> None:
    for gid, g in sorted(w.scenario.red.groups.items()):
        w.groups[gid] = GroupState(g.home, g.home, 0.0, float(g.ships))


def execute(w: World, action_id: str, action: Action, params: dict[str, str]) -> None:
    """Start the simpy processes that carry out one Red order."""
    effect = action.effect
    if effect in MOVERS:
        for gid, g in sorted(w.scenario.red.groups.items()):
            if g.kind in MOVERS[effect]:
                move(w, gid, w.scenario.red.objective, effect)
    elif effect == "stand_down":
        for gid, g in sorted(w.scenario.red.groups.items()):
            move(w, gid, g.home, "home")
    elif effect == "cyber_attack":
        for uid in sorted(w.scenario.red.cyber):
            w.env.process(_cyber(w, uid, params.get("link") or _cyber_target(w)))
    elif effect == "counterspace_attack":
        destructive = w.rung_level(action.signals) >= w.rung_level(
            w.rules.ladder.armed_attack_threshold)
        for uid in sorted(w.scenario.red.counterspace):
            w.env.process(_counterspace(w, uid, destructive))


def move(w: World, gid: str, dest: str, mission: str) -> None:
    """Send a group toward a zone; arrival in a Blue-claimed or disputed zone is an incursion."""
    state = w.groups[gid]
    if state.ships <= 0 or (state.dest == dest and state.mission == mission):
        return
    origin = state.dest if state.arrive_t <= w.now else state.zone
    hours = w.dist.get((origin, dest), 0.0) / w.scenario.red.groups[gid].speed_kts
    state.zone, state.dest, state.arrive_t, state.mission = origin, dest, w.now + hours, mission
    state.leg += 1
    w.emit("red.move", "red", gid, {"from": origin, "to": dest, "mission": mission,
                                    "eta_h": r6(state.arrive_t)}, RED)
    w.env.process(_arrive(w, gid, state.leg, state.arrive_t))


def _arrive(w: World, gid: str, leg: int, at: float) -> Generator:
    yield w.env.timeout(at - w.now)
    state = w.groups[gid]
    if state.leg != leg:
        return  # re-ordered on the way
    dest = state.dest
    state.zone = dest
    claimed = w.scenario.theater.zones[dest].claimed_by in ("blue", "disputed")
    if claimed and state.mission != "home":
        w.incursion_t.setdefault(gid, w.now)
        w.note("incursions")
        w.emit("red.incursion", "red", gid, {"zone": dest, "mission": state.mission}, RED)
        if state.mission == "strike" and w.scenario.red.groups[gid].kind == "navy":
            littoral.struck(w, gid)


def _cyber_target(w: World) -> str | None:
    """The link most C2 routes depend on (ties by id): the one whose loss hurts most."""
    use: dict[str, int] = {}
    for path in w.routes.values():
        for lid in path:
            use[lid] = use.get(lid, 0) + 1
    if not use:
        return None
    return max(sorted(use), key=lambda lid: use[lid])


def _cyber(w: World, uid: str, link: str | None) -> Generator:
    unit = w.scenario.red.cyber[uid]
    rng = w.rng(f"cyber.{uid}")
    yield w.env.timeout(float(rng.uniform(0, w.hours / 2)))
    if link is None:
        return
    hardened = w.links[link].hardened
    p = unit.p_success * (w.rules.adjudication.cyber.hardened_success_factor if hardened else 1)
    u = float(rng.random())
    w.emit("red.cyber.attack", "red", uid, {"link": link, "hardened": hardened, "p_success": r6(p),
                                            "draw": r6(u), "success": u < p}, RED)
    if u < p:
        w.note("cyber_hits")
        c2.degrade(w, link, unit.effect_h, f"cyber attack by {uid}")


def _counterspace(w: World, uid: str, destructive: bool) -> Generator:
    unit = w.scenario.red.counterspace[uid]
    rng = w.rng(f"counterspace.{uid}")
    yield w.env.timeout(float(rng.uniform(0, w.hours / 2)))
    u = float(rng.random())
    hit = u < unit.p_success
    w.emit("red.counterspace.attack", "red", uid, {
        "destructive": destructive, "p_success": unit.p_success, "draw": r6(u),
        "success": hit}, RED)
    if not hit:
        return
    hours = unit.effect_h * (w.rules.adjudication.destructive_space_factor if destructive else 1)
    w.space_degraded_until = max(w.space_degraded_until, w.now + hours)
    w.emit("space.degraded", "blue", uid, {"until_h": r6(w.now + hours)}, BLUE)
    for lid, link in sorted(w.scenario.blue.c2.links.items()):
        if link.via_space:
            c2.degrade(w, lid, hours, f"counterspace attack by {uid}")
