"""Red's mind: its beliefs about Blue and the picture of Blue's posture it has observed.
Writes ``World.mind`` only, and only from what Red can see (sim/kinds.py says what that is).

Red starts from what Blue's declared posture implies (sim/estimates.py): the search coverage
over its objective that the declared ISR, partners and sensors give, and the resolve a routine
turn of that posture shows. Each turn it moves each belief a share ``belief_rate`` of the way
toward what it observed: the search effort over its objective turn by turn (it watches the
aircraft there), exercises and statements, announced engagement authority, and Blue aircraft
over its own groups (it knows it is being watched).
"""

from __future__ import annotations

from engine.sim import decision, estimates
from engine.sim.forces import isr
from engine.sim.state import World
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario


def setup(w: World) -> None:
    s, r = w.scenario, w.rules
    # the declared posture's numbers are the same for every session of a game: made once
    w.mind.isr, w.mind.resolve = estimates.shared(w, "red.prior", lambda: (
        estimates.posture_coverage(s, r, s.red.objective), posture_resolve(s, r)))
    for rid, reg in sorted(s.blue.littoral.items()):
        w.mind.seen_readiness[rid] = reg.readiness


def posture_resolve(s: Scenario, r: Rules) -> float:
    """The resolve a routine turn of the declared posture shows Red: the base, exercises if the
    posture provides for them, and ISR if any is declared over Red's objective."""
    seen = r.red_model.resolve_seen
    watched = any(s.red.objective in d.zones for d in s.blue.isr.values()) or any(
        s.red.objective in p.zones for p in s.blue.partners.values())
    return min(1.0, seen.base + seen.exercise * (s.blue.c2.exercises_per_turn > 0)
               + seen.detection * watched)


def caused_outage(w: World, link: str, until: float) -> None:
    """Red's own cyber attack took a link down: it knows, until the effect should end."""
    w.mind.known_outages[link] = until


def saw_dispersal(w: World, rid: str) -> None:
    """Red saw a battery of a regiment move site: it takes the regiment to be dispersed."""
    w.mind.seen_readiness[rid] = "dispersed"


def observe(w: World) -> None:
    """The end of a turn: Red updates its beliefs from what it saw of Blue."""
    counts, model, mind = w.tally.turn, w.rules.red_model, w.mind  # this turn's (Tally.get)
    seen = model.resolve_seen
    mind.isr_seen_h = counts.get("isr_station_objective_h", 0)
    mind.isr_over_groups = counts.get("isr_seen_by_red_h", 0) > 0
    mind.authority_seen = mind.authority_seen or counts.get("authority_announced", 0) > 0
    resolve = min(1.0, seen.base + seen.exercise * bool(counts.get("exercises", 0))
                  + seen.signal * bool(counts.get("signals", 0))
                  + seen.authority * mind.authority_seen
                  + seen.detection * mind.isr_over_groups)
    coverage = isr.effort_over_objective(w, w.turn)
    mind.isr = decision.update_estimate(mind.isr, coverage, model.belief_rate)
    mind.resolve = decision.update_belief(mind.resolve, resolve, model.belief_rate)
