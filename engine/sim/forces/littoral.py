"""The littoral regiment: batteries at island sites, readiness, displacement, organic sensors,
engagement authority over C2, and anti-ship salvos. Writes ``World.littoral`` only.

A battery fires only when (1) Blue knows of an armed attack (it was detected or its effects
landed), (2) its regiment holds engagement authority received over C2, (3) its regiment's HQ
holds a track on a Red surface group no older than ``track_max_age_h``, (4) the target's zone is
within range, and (5) it is ready.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from functools import partial
from typing import Any

import simpy

from engine.sim import beliefs, escalation, estimates
from engine.sim.adjudication import battery_salvo, hazard_rate, salvo_losses
from engine.sim.forces import adversary, c2, isr
from engine.sim.state import BatteryState, World, r6
from engine.spec.rules import Action
from engine.spec.scenario import Scenario
from engine.spec.types import Readiness

# a consultation held last turn or this one still stands when authority is requested
CONSULTATION_VALID_TURNS = 1


def setup(w: World) -> None:
    for rid, reg in sorted(w.scenario.blue.littoral.items()):
        w.littoral.readiness[rid] = reg.readiness
        w.littoral.authority[rid] = False
        w.littoral.pending[rid] = False
        for bid, bat in sorted(reg.batteries.items()):
            w.littoral.batteries[(rid, bid)] = BatteryState(bat.site, float(bat.launchers),
                                                            bat.magazine)
        isr.listen(w, reg.hq_node, partial(engage_regiment, w, rid))


# ---- the effects of Blue's orders ------------------------------------------------------------

def posture(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    level = params.get("readiness") or "alert"
    for rid in sorted(w.littoral.readiness):
        set_posture(w, rid, level)  # type: ignore[arg-type]  # checked against the menu


def consult(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    w.littoral.consulted_turn = w.turn


def seek_authority(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    for rid in sorted(w.littoral.authority):
        request_authority(w, rid)


def set_posture(w: World, rid: str, readiness: Readiness) -> None:
    """Change readiness; dispersing (from another state) moves every battery to another site
    within range of Red's objective, taking ``displace_h``."""
    old = w.littoral.readiness[rid]
    w.littoral.readiness[rid] = readiness
    if readiness == old:
        return  # already there: re-ordering a posture moves nothing
    w.emit("littoral.readiness", rid, {"from": old, "to": readiness})
    if readiness == "dispersed":
        for (r, bid), b in sorted(w.littoral.batteries.items()):
            if r == rid:
                _displace(w, rid, bid, b)


def dispersal_site(w: World, rid: str, site: str) -> str:
    """Where a battery at ``site`` disperses to: the next of the regiment's sites (in order)
    that is within range of Red's objective, or the next site when none other is."""
    reg, objective = w.scenario.blue.littoral[rid], w.scenario.red.objective
    order = [reg.sites[(reg.sites.index(site) + k) % len(reg.sites)]
             for k in range(1, len(reg.sites))]
    in_range = [z for z in order if w.distance(z, objective) <= reg.range_nm]
    return (in_range or order or [site])[0]


def _displace(w: World, rid: str, bid: str, b: BatteryState) -> None:
    reg = w.scenario.blue.littoral[rid]
    site = dispersal_site(w, rid, b.site)
    if site == b.site:
        return
    b.ready_t = w.now + reg.displace_h
    seen = adversary.watches(w, b.site) or adversary.watches(w, site)
    w.emit("littoral.displace", f"{rid}.{bid}", {
        "from": b.site, "to": site, "ready_in_h": reg.displace_h, "seen_by_red": seen})
    if seen:
        beliefs.saw_dispersal(w, rid)
    b.site = site


def grant_all(w: World) -> None:
    """Article V: every regiment holds engagement authority at once, and fires if it can."""
    for rid in sorted(w.littoral.authority):
        w.littoral.authority[rid] = True
    engage_all(w)


def resupply(w: World) -> None:
    """Co-production (``blue.sustainment``, the 2024 report): at each turn's start every
    anti-ship battery's magazine gains ``missile_resupply_per_turn``, up to its starting load."""
    n = w.scenario.blue.sustainment.missile_resupply_per_turn
    if n <= 0:
        return
    for (rid, bid), b in sorted(w.littoral.batteries.items()):
        reg = w.scenario.blue.littoral[rid]
        added = min(n, reg.batteries[bid].magazine - b.magazine)
        if reg.anti_ship and added > 0:
            b.magazine += added
            w.emit("littoral.resupply", f"{rid}.{bid}", {"added": added, "magazine": b.magazine})


# ---- sensing ---------------------------------------------------------------------------------

def sense(w: World) -> None:
    """Organic sensors: each battery searches, this turn, the zones within range of its site
    that a Red group is in or heading for (empty zones cost nothing)."""
    reach = estimates.shared(w, "littoral.sensors", partial(_sensor_reach, w.scenario))
    targets = sorted({g.dest for g in w.red.groups.values() if g.ships > 0})
    for (rid, bid), b in sorted(w.littoral.batteries.items()):
        if rid not in reach or b.launchers <= 0:
            continue
        node, hazards = reach[rid][0], reach[rid][1][b.site]
        for zone in targets:
            hazard = hazards.get(zone)
            if hazard is not None:
                w.env.process(_sensor(w, f"{rid}.{bid}", node, zone, hazard))


def _sensor_reach(s: Scenario) -> dict[str, tuple[str, dict[str, dict[str, float]]]]:
    """Per regiment with organic sensors: its HQ node and, per site a battery may stand at,
    the hazard over each other zone within range. Fixed by the scenario: worked out once per
    game rather than every turn."""
    out = {}
    for rid, reg in s.blue.littoral.items():
        if reg.sensor_sweep_nm <= 0 or reg.sensor_kts <= 0:
            continue
        hazard = {z: hazard_rate(sweep_width=reg.sensor_sweep_nm, speed=reg.sensor_kts,
                                 area=zone.area_nm2) for z, zone in s.theater.zones.items()}
        out[rid] = (reg.hq_node, {site: {z: h for z, h in hazard.items()
                                         if z != site and s.distance(site, z) <= reg.range_nm}
                                  for site in s.theater.zones})
    return out


def _sensor(w: World, unit: str, node: str, zone: str,
            hazard: float) -> Generator[simpy.Event, Any, None]:
    rng = w.rng(f"sensor.{unit}")
    yield from isr.search(w, unit, node, zone, hazard, w.hours, rng)


# ---- engagement authority --------------------------------------------------------------------

def request_authority(w: World, rid: str) -> None:
    """Ask for engagement authority: request over C2, alliance consultation, grant over C2."""
    if w.littoral.authority[rid] or w.littoral.pending[rid]:
        return
    w.littoral.pending[rid] = True
    w.env.process(_authority(w, rid))


def _authority(w: World, rid: str) -> Generator[simpy.Event, Any, None]:
    c2cfg, table = w.scenario.blue.c2, w.rules.adjudication.c2
    hq, auth = w.scenario.blue.littoral[rid].hq_node, c2cfg.authority_node
    arrived = w.env.event()
    c2.send(w, hq, auth, "authority.request", {"regiment": rid},
            lambda _lat: arrived.succeed())
    outcome = yield arrived | w.env.timeout(w.hours)
    if arrived not in outcome:
        w.littoral.pending[rid] = False
        return
    fresh = w.turn - w.littoral.consulted_turn <= CONSULTATION_VALID_TURNS
    consult_h = 0.0 if fresh else (
        c2cfg.consultation_h * table.command_latency_factor[c2cfg.command])
    w.emit("alliance.consultation", auth, {"regiment": rid, "hours": r6(consult_h)})
    yield w.env.timeout(consult_h)
    w.littoral.consulted_turn = w.turn

    def grant(_lat: float) -> None:
        if w.littoral.authority[rid]:
            return  # Article V granted it meanwhile
        w.littoral.authority[rid] = True
        w.tally.add("authority_announced")
        w.emit("c2.authority.granted", rid, {"by": auth, "regiment": rid})
        engage_regiment(w, rid)

    c2.send(w, auth, hq, "authority.grant", {"regiment": rid}, grant)
    yield w.env.timeout(w.hours)  # a grant lost on the way may be asked for again next turn
    w.littoral.pending[rid] = False


# ---- salvos ----------------------------------------------------------------------------------

def engage_all(w: World) -> None:
    for rid in sorted(w.scenario.blue.littoral):
        engage_regiment(w, rid)


def engage_regiment(w: World, rid: str) -> None:
    """Every battery of a regiment that may and can shoot fires one salvo, then displaces."""
    if w.ladder.known_turn is None or not w.littoral.authority[rid]:
        return
    reg = w.scenario.blue.littoral[rid]
    if not reg.anti_ship:
        return
    for (r, bid), b in sorted(w.littoral.batteries.items()):
        if r != rid or b.magazine <= 0 or b.launchers <= 0 or b.ready_t > w.now:
            continue
        target = _target(w, rid, b.site)
        if target is not None:
            _salvo(w, rid, bid, b, target)


def _salvo(w: World, rid: str, bid: str, b: BatteryState, target: str) -> None:
    """One battery's salvo at one group (Armstrong's stochastic salvo), every draw recorded."""
    reg, g = w.scenario.blue.littoral[rid], w.scenario.red.groups[target]
    ships = w.red.groups[target].ships
    ready = w.rules.adjudication.littoral.ready_share[w.littoral.readiness[rid]]
    shooters, per = battery_salvo(launchers=b.launchers, magazine=b.magazine, ready_share=ready,
                                  missiles_per_launcher=reg.missiles_per_launcher)
    if shooters == 0:
        return
    fired = shooters * per
    b.magazine -= fired
    draws = adversary.take_salvo(w, target, w.rng(f"salvo.{rid}.{bid}"), shooters=shooters,
                                 per=per, p_hit=reg.p_hit)
    b.ready_t = w.now + reg.displace_h  # shoot and scoot: it must move before firing again
    w.emit("engagement.salvo", f"{rid}.{bid}", {
        "target": target, "shooters": shooters, "missiles": fired, "p_hit": reg.p_hit,
        "good_shots": draws.good_shots,
        "interceptors": g.interceptors_per_ship * math.ceil(ships),
        "p_intercept": g.p_intercept, "intercepts": draws.intercepts,
        "hits": draws.hits, "damage": [r6(d) for d in draws.damage],
        "ships_before": r6(ships), "ships_lost": r6(draws.loss),
        "model": "stochastic salvo (Armstrong 2005)"})


def _target(w: World, rid: str, site: str) -> str | None:
    """The Red navy group with the freshest track at the regiment's HQ, within range."""
    reg = w.scenario.blue.littoral[rid]
    best: tuple[str, float] | None = None
    for gid, track in sorted(w.isr.tracks[reg.hq_node].items()):
        g = w.scenario.red.groups[gid]
        if g.kind != "navy" or w.red.groups[gid].ships <= 0:
            continue
        if w.now - track.detected_t > reg.track_max_age_h:
            continue
        if w.distance(site, track.zone) > reg.range_nm:
            continue
        if best is None or track.detected_t > best[1]:
            best = (gid, track.detected_t)
    return best[0] if best else None


def struck(w: World, gid: str) -> None:
    """A Red naval strike, its salvo split evenly over the batteries in range of its zone
    (Hughes salvo, expected value). Its effects landing tell Blue of the armed attack."""
    g, state = w.scenario.red.groups[gid], w.red.groups[gid]
    table = w.rules.adjudication
    targets = [(key, b) for key, b in sorted(w.littoral.batteries.items()) if b.launchers > 0
               and w.distance(b.site, state.dest) <= table.strike.range_nm]
    for (rid, bid), b in targets:
        bat = w.scenario.blue.littoral[rid].batteries[bid]
        exposure = table.littoral.exposure[w.littoral.readiness[rid]]
        lost = salvo_losses(shooters=state.ships / len(targets),
                            offense=g.missiles_per_ship * table.strike.p_hit,
                            targets=b.launchers, defense=0.0, staying_power=1.0,
                            scouting=exposure)
        b.launchers -= lost
        w.tally.add("blue_losses", lost)
        w.emit("engagement.strike", gid, {
            "target": f"{rid}.{bid}", "launchers_before": r6(b.launchers + lost),
            "launchers_lost": r6(lost), "of": bat.launchers,
            "scouting": exposure, "model": "Hughes salvo (1995)"})
    escalation.blue_learns(w, "effects")
