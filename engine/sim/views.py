"""What each side knows: its facts, its view (fog of war) and Red's estimate of Blue.

Pure functions of a World at the start of a turn's orders phase; the kernel builds the views,
controllers read them. Red's estimate joins its beliefs with what Blue's declared posture
implies (response delay through consultation and C2, expected losses to anti-ship batteries).
"""

from __future__ import annotations

from typing import Any

from engine.sim import decision
from engine.sim.adjudication import kill_chain_probability, salvo_losses
from engine.sim.controllers import Lazy, View
from engine.sim.forces import c2
from engine.sim.state import World, r6
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario


def nominal_isr_coverage(s: Scenario, r: Rules) -> float:
    """Expected share of a turn with Blue ISR on station over Red's objective, from the posture
    alone (what Red can infer from Blue's public decisions before it sees a sortie)."""
    hours = 0.0
    rate = r.adjudication.detection.sorties_per_aircraft["normal"]
    for det in s.blue.isr.values():
        if s.red.objective not in det.zones:
            continue
        base = s.theater.bases[det.base].zone
        transit = s.distance(base, s.red.objective) / det.transit_kts
        flown = det.aircraft * det.availability * (1 - det.weather_cancel_p) * (
            1 - det.maintenance_cancel_p) * rate * (s.turns.hours / 24)
        hours += flown * max(0.0, det.endurance_h - 2 * transit) / len(det.zones)
    return min(1.0, hours / s.turns.hours)


def side_facts(w: World, side: str) -> dict[str, float]:
    """The numbers doctrine conditions and preconditions read (see rules.FACTS)."""
    last = w.last_turn
    return {
        "turn": float(w.turn),
        "rung": float(w.rung_level()),
        "red_tracks": float(fresh_tracks(w)) if side == "blue" else 0.0,
        "incursions_seen": float(last.get("incursions_detected", 0)) if side == "blue" else 0.0,
        "links_degraded": float(c2.degraded_count(w)) if side == "blue" else 0.0,
        "authority": float(any(w.authority.values())),
        "authority_requested": float(any(w.authority.values())
                                     or any(w.authority_pending.values())),
        "article5": float(w.article5_turn is not None),
        "armed_attack": float(w.armed_attack_turn is not None),
        "blue_isr_seen": float(last.get("isr_station_objective_h", 0.0)) if side == "red" else 0,
        "red_gains": r6(w.red_gains),
    }


def fresh_tracks(w: World) -> int:
    oldest = w.env.now - w.hours
    return len({g for node in w.tracks.values() for g, t in node.items()
                if t.detected_t >= oldest})


def make_view(w: World, side: str) -> View:
    """A side's view: its facts, legal menu and own situation (never the other side's)."""
    facts = w.facts.get(side) or side_facts(w, side)
    menu_src = w.rules.actions.blue if side == "blue" else w.rules.actions.red
    menu = tuple(a for a, act in sorted(menu_src.items())
                 if all(decision.condition_holds(c, facts, w.rules.ladder.level)
                        for c in act.preconditions))
    situation = Lazy(lambda: blue_situation(w) if side == "blue" else red_situation(w))
    estimate = red_estimate(w) if side == "red" else None
    return View(w.turn, side, w.rung, menu, facts, situation, estimate)


def blue_situation(w: World) -> dict[str, Any]:
    return {
        "isr_tempo": dict(w.isr_tempo), "readiness": dict(w.readiness),
        "authority": dict(w.authority),
        "batteries": {f"{r}.{b}": {"site": s.site, "launchers": r6(s.launchers),
                                   "magazine": s.magazine}
                      for (r, b), s in sorted(w.batteries.items())},
        "links_degraded": sorted(lid for lid in w.links if w.link_degraded(lid)),
        "tracks": {g: {"zone": t.zone, "age_h": r6(w.now - t.detected_t)}
                   for node in sorted(w.tracks) for g, t in sorted(w.tracks[node].items())},
    }


def red_situation(w: World) -> dict[str, Any]:
    return {"groups": {g: {"zone": s.dest, "ships": r6(s.ships), "mission": s.mission}
                       for g, s in sorted(w.groups.items())},
            "beliefs": {k: r6(v) for k, v in sorted(w.beliefs.items())}}


def red_estimate(w: World) -> decision.RedEstimate:
    """Red's estimate of Blue: its beliefs plus what Blue's public posture implies."""
    s, r = w.scenario, w.rules
    return decision.RedEstimate(
        isr_coverage=w.beliefs["isr"], resolve=w.beliefs["resolve"],
        attribution_p=r.adjudication.detection.attribution_p,
        response_delay_h=_response_delay(w), patience_h=r.red_model.patience,
        covered_domains=s.treaty.article5_domains,
        expected_loss_share=_expected_loss_share(w), rung_level=w.rung_level(),
        threshold_level=r.ladder.level(r.ladder.armed_attack_threshold))


def _response_delay(w: World) -> float:
    """Hours from Red's act to Blue's answer: consultation (unless authority is held) plus C2."""
    s, table = w.scenario, w.rules.adjudication.c2
    c2cfg = s.blue.c2
    hq = next((reg.hq_node for _, reg in sorted(s.blue.littoral.items())), c2cfg.authority_node)
    degraded = {lid for lid in w.links if w.link_degraded(lid)}
    there = c2.expected_delay(s, table, w.routes, hq, c2cfg.authority_node, w.hours, degraded)
    back = c2.expected_delay(s, table, w.routes, c2cfg.authority_node, hq, w.hours, degraded)
    if any(w.authority.values()):
        return back
    return there + c2cfg.consultation_h * table.command_latency_factor[c2cfg.command] + back


def _expected_loss_share(w: World) -> float:
    """Hughes-model share of Red's navy lost to the anti-ship batteries in range of its goal."""
    s = w.scenario
    navy = [(gid, g) for gid, g in sorted(s.red.groups.items()) if g.kind == "navy"]
    ships = sum(w.groups[gid].ships for gid, _ in navy)
    if not navy or ships <= 0:
        return 0.0
    g = navy[0][1]
    shooters, offense = 0.0, 0.0
    for (rid, _), b in sorted(w.batteries.items()):
        reg = s.blue.littoral[rid]
        if reg.anti_ship and w.dist.get((b.site, s.red.objective), 1e9) <= reg.range_nm:
            shooters += b.launchers * w.rules.adjudication.littoral.ready_share[w.readiness[rid]]
            offense = reg.missiles_per_launcher * reg.p_hit
    # Hughes' scouting term is the kill chain short of the hit: Blue must find Red (its ISR, as
    # Red believes it) and pass the track to the batteries (the route's delivery chance)
    scouting = kill_chain_probability(p_detect=w.beliefs["isr"], p_communicate=_delivery(w),
                                      p_hit=1.0)
    lost = salvo_losses(shooters=shooters, offense=offense, targets=ships,
                        defense=g.interceptors_per_ship * g.p_intercept,
                        staying_power=g.staying_power, scouting=scouting)
    return lost / ships


def _delivery(w: World) -> float:
    """Chance a track report reaches the first littoral regiment's HQ from its ISR."""
    s = w.scenario
    reg = next((r for _, r in sorted(s.blue.littoral.items())), None)
    det = next((d for _, d in sorted(s.blue.isr.items())), None)
    if reg is None or det is None:
        return 1.0
    route = w.routes.get((det.report_node, reg.hq_node))
    if route is None:
        return 0.0
    table, p = w.rules.adjudication.c2, 1.0
    for lid in route:
        loss = s.blue.c2.links[lid].loss_p + (table.degraded_loss_add
                                              if w.link_degraded(lid) else 0.0)
        p *= 1 - min(1.0, loss)
    return p
