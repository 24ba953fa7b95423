"""Regional partners' surveillance: the 2023 report's deepened cooperation with the Republic of
Korea, Australia and India, and the 2024 report's Quad. Writes no state of its own: searches
go through ``isr.search`` (which owns ``World.isr``).

Each turn every partner searches each of its zones that a Red group is in or heading for (an
empty zone costs nothing, as for the batteries' organic sensors). Its ``hours_per_turn`` of
search are spread over the whole turn: hazard ``W v / A`` (``adjudication.hazard_rate``) times
``hours_per_turn / turn hours`` over a window of the turn, the same Koopman coverage
``W v h / A`` as ``hours_per_turn`` of search at once, but a group arriving mid-turn is still
searched for the rest of it. A partner is not in the alliance's chain of command: a detection
reaches the alliance's ``report_node`` only with probability ``share_p`` (a recorded draw,
record ``partner.share``, the umpire's), and from there it is a track report like any other
(``isr.detect``: it counts as a Blue detection and crosses nations by ``c2.intel_sharing``).
Red's estimate of it is ``estimates.coverage_by_source``: coverage ``W v h / A``, passed on with
``share_p``.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from typing import Any

import simpy

from engine.sim import estimates
from engine.sim.adjudication import hazard_rate
from engine.sim.forces import isr
from engine.sim.state import World, r6
from engine.spec.scenario import Scenario


def sense(w: World) -> None:
    """Start this turn's partner searches over the zones Red groups are in or heading for."""
    occupied = {g.dest for g in w.red.groups.values() if g.ships > 0}
    for pid, zones in estimates.shared(w, "partners.searches", partial(_searches, w.scenario)):
        for zone, hazard in zones:
            if zone in occupied:
                w.env.process(_search(w, pid, zone, hazard))


def _searches(s: Scenario) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    """Each searching partner (in id order) with its zones (in order) and its hazard over
    each: fixed by the scenario, so worked out once per game rather than every turn."""
    return tuple((pid, tuple((zone, turn_hazard(s, pid, zone)) for zone in sorted(set(p.zones))))
                 for pid, p in sorted(s.blue.partners.items()) if p.hours_per_turn > 0)


def turn_hazard(s: Scenario, pid: str, zone: str) -> float:
    """A partner's hazard per hour over ``zone`` when its hours are spread over the turn."""
    p = s.blue.partners[pid]
    hazard = hazard_rate(sweep_width=p.sweep_width_nm, speed=p.search_kts,
                         area=s.theater.zones[zone].area_nm2)
    return hazard * p.hours_per_turn / s.turns.hours


def _search(w: World, pid: str, zone: str, hazard: float) -> Generator[simpy.Event, Any, None]:
    p = w.scenario.blue.partners[pid]
    rng = w.rng(f"partner.{pid}.{zone}")
    yield from isr.search(w, pid, p.report_node, zone, hazard, w.hours, rng,
                          relay=partial(_relay, w, pid))


def _relay(w: World, pid: str, gid: str, zone: str) -> bool:
    """Whether the partner passes a detection to the alliance: one recorded draw."""
    p_share = w.scenario.blue.partners[pid].share_p
    u = float(w.rng(f"partner.share.{pid}").random())
    shared = u < p_share
    w.emit("partner.share", pid, {"group": gid, "zone": zone, "p_share": p_share,
                                  "draw": r6(u), "shared": shared})
    return shared
