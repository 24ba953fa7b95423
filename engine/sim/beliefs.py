"""Red's mind: its beliefs about Blue and the picture of Blue's posture it has observed.
Writes ``World.mind`` only, and only from what Red can see (sim/kinds.py says what that is).

Red starts halfway between its prior and what Blue's declared posture implies, then each turn
moves its beliefs a share ``belief_rate`` of the way toward what it observed: the Blue ISR hours
over its objective (which it watches), exercises and statements, announced engagement
authority, and Blue aircraft over its own groups (it knows it is being watched).
"""

from __future__ import annotations

from engine.sim import decision
from engine.sim.state import World
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario


def setup(w: World) -> None:
    s, r = w.scenario, w.rules
    w.mind.isr = (r.red_model.prior_isr_coverage + nominal_isr_coverage(s, r)) / 2
    w.mind.resolve = r.red_model.prior_resolve
    for rid, reg in sorted(s.blue.littoral.items()):
        w.mind.seen_readiness[rid] = reg.readiness


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


def caused_outage(w: World, link: str, until: float) -> None:
    """Red's own cyber attack took a link down: it knows, until the effect should end."""
    w.mind.known_outages[link] = until


def saw_dispersal(w: World, rid: str) -> None:
    """Red saw a battery of a regiment move site: it takes the regiment to be dispersed."""
    w.mind.seen_readiness[rid] = "dispersed"


def observe(w: World) -> None:
    """The end of a turn: Red updates its beliefs from what it saw of Blue."""
    tally, model = w.tally, w.rules.red_model
    seen = model.resolve_seen
    w.mind.isr_seen_h = tally.get("isr_station_objective_h")
    w.mind.isr_over_groups = tally.get("isr_seen_by_red_h") > 0
    w.mind.authority_seen = w.mind.authority_seen or tally.get("authority_announced") > 0
    seen_isr = min(1.0, w.mind.isr_seen_h / w.hours)
    resolve = min(1.0, seen.base + seen.exercise * bool(tally.get("exercises"))
                  + seen.signal * bool(tally.get("signals"))
                  + seen.authority * w.mind.authority_seen
                  + seen.detection * w.mind.isr_over_groups)
    w.mind.isr = decision.update_belief(w.mind.isr, seen_isr, model.belief_rate)
    w.mind.resolve = decision.update_belief(w.mind.resolve, resolve, model.belief_rate)
