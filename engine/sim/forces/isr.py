"""ISR detachments (e.g. MQ-9s at Kanoya) as simpy processes, the search they and organic
sensors share, and Blue's picture of Red (tracks). Writes ``World.isr`` only.

One process per aircraft loops: availability, weather, maintenance and space-link checks,
launch, transit, time on station searching a zone, return and turnaround. A detachment flies
``sorties_per_aircraft`` sorties per aircraft per day at its tempo, whatever the turn length.
Search draws once per Red group present with the law of ``adjudication.search_probability``;
the same draw gives the time of detection (``adjudication.detection_time``). A group that enters
a zone while a search is under way there is searched for the rest of that window.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from engine.sim import escalation, estimates
from engine.sim.adjudication import detection_time, hazard_rate, search_probability
from engine.sim.estimates import sortie_cycle_h, upkeep
from engine.sim.forces import adversary, c2
from engine.sim.state import Track, Window, World, r6
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario
from engine.spec.types import Tempo

Relay = Callable[[str, str], bool]  # (group, zone) -> whether a partner passes the detection on


def setup(w: World) -> None:
    """Tempo, empty tracks, and one process per aircraft of every detachment in sorted order."""
    for node in w.scenario.blue.c2.nodes:
        w.isr.tracks[node] = {}
    for det_id, det in sorted(w.scenario.blue.isr.items()):
        w.isr.tempo[det_id] = "normal"
        for k in range(det.aircraft):
            w.env.process(_aircraft(w, det_id, k))


def set_tempo(w: World, level: Tempo) -> None:
    """Every detachment flies at ``level`` from its next sortie on."""
    for det in sorted(w.isr.tempo):
        w.isr.tempo[det] = level


def listen(w: World, node: str, listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever a track reaches ``node``."""
    w.isr.listeners.setdefault(node, []).append(listener)


@dataclass(frozen=True, slots=True)
class _Detachment:
    """A detachment's sortie constants, fixed by the scenario and rules: made once per game
    (every aircraft of every session reads them)."""

    legs: tuple[tuple[str, float, float, float], ...]  # (zone, transit, hazard, on station)
    cycles: dict[str, tuple[float, float]]  # tempo -> (sorties a day, hours between launches)
    p_available: float
    p_maintenance: float  # regional maintenance, if any, applied

    @staticmethod
    def of(s: Scenario, r: Rules, det_id: str) -> _Detachment:
        det = s.blue.isr[det_id]
        base_zone = s.theater.bases[det.base].zone
        legs = []
        for z in det.zones:
            transit = s.distance(base_zone, z) / det.transit_kts
            legs.append((z, transit, hazard_rate(sweep_width=det.sweep_width_nm,
                                                 speed=det.search_kts,
                                                 area=s.theater.zones[z].area_nm2),
                         max(0.0, det.endurance_h - 2 * transit)))
        rates = r.adjudication.detection.sorties_per_aircraft
        return _Detachment(tuple(legs),
                           {tempo: (rate, sortie_cycle_h(rate)) for tempo, rate in rates.items()},
                           *upkeep(s, r, det))


def _aircraft(w: World, det_id: str, k: int) -> Generator[simpy.Event, Any, None]:
    det = w.scenario.blue.isr[det_id]
    fixed = estimates.shared(w, ("isr.detachment", det_id),
                             lambda: _Detachment.of(w.scenario, w.rules, det_id))
    env = w.env
    rng = w.rng(f"isr.{det_id}.{k}")
    unit = f"{det_id}.{k + 1}"
    # the loop runs once per sortie: what it reads is bound here, once per aircraft
    legs, cycles = fixed.legs, fixed.cycles
    p_available, p_maintenance = fixed.p_available, fixed.p_maintenance
    endurance, turnaround, p_weather = det.endurance_h, det.turnaround_h, det.weather_cancel_p
    tempo, c2part, timeout, node = w.isr.tempo, w.c2, env.timeout, det.report_node
    space_penalty = w.rules.adjudication.cyber.space_isr_penalty
    # stagger aircraft over one sortie cycle, so a detachment is not all airborne at once and
    # its search is spread evenly over the turns
    first = cycles[tempo[det_id]][1]
    yield timeout(first * k / max(1, det.aircraft))
    sortie = 0
    while True:
        rate, cycle = cycles[tempo[det_id]]
        draws = rng.random(4).tolist()  # Python floats: compared below, cheaply
        p_space = space_penalty if c2part.space_degraded_until > env.now else 0.0
        reason = _cancelled(rate, p_available, p_weather, p_maintenance, p_space, draws)
        if reason:
            if rate > 0 and w.recording:
                w.emit("isr.sortie.cancel", unit, {
                    "reason": reason, "p_available": p_available, "draw": r6(draws[0]),
                    "p_weather": p_weather, "draw_weather": r6(draws[1]),
                    "p_maintenance": p_maintenance,
                    "draw_maintenance": r6(draws[2]), "p_space_loss": p_space,
                    "draw_space": r6(draws[3])})
            yield timeout(cycle)
            continue
        zone, transit, hazard, on_station = legs[sortie % len(legs)]
        sortie += 1
        if w.recording:  # the whole sortie's timeline is known at launch
            w.emit("isr.sortie.launch", unit, {
                "zone": zone, "transit_h": r6(transit), "on_station_h": r6(on_station),
                "lands_at_h": r6(env.now + 2 * transit + on_station)})
        yield timeout(transit)
        _on_station(w, unit, zone, on_station)
        yield from search(w, unit, node, zone, hazard, on_station, rng)
        # the flight home and the turnaround are one wait: nothing can happen to it meanwhile
        yield timeout(transit + max(turnaround, cycle - endurance))


def _cancelled(rate: float, p_available: float, p_weather: float, p_maintenance: float,
               p_space: float, draws: list[float]) -> str:
    """Why a sortie does not fly, or "" when it does (one draw per cause, in this order)."""
    u_avail, u_weather, u_maint, u_space = draws
    if rate == 0 or u_avail >= p_available:
        return "unavailable"
    if u_weather < p_weather:
        return "weather"
    if u_maint < p_maintenance:
        return "maintenance"
    return "space link lost" if u_space < p_space else ""


def _on_station(w: World, unit: str, zone: str, hours: float) -> None:
    """An aircraft arrives on station: Red sees it over its objective or over its groups."""
    seen = adversary.watches(w, zone)
    w.tally.add("isr_station_h", hours)
    if zone == w.scenario.red.objective:
        w.tally.add("isr_station_objective_h", hours)
    if seen:
        w.tally.add("isr_seen_by_red_h", hours)
    if w.recording:
        w.emit("isr.on_station", unit, {"zone": zone, "seen_by_red": seen})


def search(w: World, unit: str, node: str, zone: str, hazard: float, hours: float,
           rng: np.random.Generator, relay: Relay | None = None,
           ) -> Generator[simpy.Event, Any, None]:
    """Search a zone for ``hours``: draw once per Red group present or on its way, then wait
    out the window, stopping at each detection time to report it. Groups that enter the zone
    later are searched by :func:`group_entering` while the window is open. With ``relay`` (a
    partner's search) a detection reaches ``node`` only when ``relay(group, zone)`` says so."""
    env, groups = w.env, w.red.groups
    start = env.now
    if zone == w.scenario.red.objective:
        _credit_effort(w, hazard, start, hours)
    window = Window(unit, node, hazard, start + hours, rng, relay)
    open_here = w.isr.windows.setdefault(zone, [])  # the zone's list, never replaced
    open_here.append(window)
    found = []
    for gid, g in groups.items():  # in id order: adversary.setup adds them sorted
        if g.dest == zone and g.ships > 0:
            hit = _draw(w, window, zone, gid, max(start, g.arrive_t))
            if hit is not None:
                found.append((hit[0], gid, hit[1], hit[2]))
    elapsed = 0.0
    if found:
        found.sort()
        for at, gid, p, u in found:
            yield env.timeout(at - start - elapsed)
            elapsed = at - start
            if groups[gid].dest == zone:  # it may have been ordered away since the draw
                _found(w, window, gid, zone, p, u)
    yield env.timeout(max(0.0, hours - elapsed))
    open_here.remove(window)


def _credit_effort(w: World, hazard: float, start: float, hours: float) -> None:
    """Credit a search over the objective to each turn it covers, by the hours of that turn
    it lasts: what Red, watching its objective, sees of Blue's search effort turn by turn."""
    length = w.hours
    turn = int(start // length) + 1
    end = start + hours
    while start < end:
        upto = min(end, turn * length)
        effort = w.isr.objective_effort
        effort[turn] = effort.get(turn, 0.0) + hazard * (upto - start)
        start, turn = upto, turn + 1


def effort_over_objective(w: World, turn: int) -> float:
    """Koopman coverage searched over Red's objective during ``turn`` (sum of hazard x hours)."""
    return w.isr.objective_effort.get(turn, 0.0)


def group_entering(w: World, gid: str, zone: str, arrive_t: float) -> None:
    """A Red group was ordered into ``zone``: every search open there draws for it over the
    part of its window after the group arrives."""
    for window in list(w.isr.windows.get(zone, ())):
        hit = _draw(w, window, zone, gid, max(w.now, arrive_t))
        if hit is not None:
            w.env.process(_late_detection(w, window, gid, zone, hit))


def _draw(w: World, window: Window, zone: str, gid: str,
          begin: float) -> tuple[float, float, float] | None:
    """One search draw against one group from ``begin`` to the window's end: the time of the
    detection with the probability and draw that decided it, or None. The search record is
    the umpire's (a miss would tell Blue where an unseen group is going); Blue sees the draw
    in its detection."""
    exposure = window.end - begin
    if exposure <= 0:
        return None
    law = w.rules.adjudication.detection.law
    p = search_probability(hazard=window.hazard, hours=exposure, law=law)
    u = float(window.rng.random())
    hit = u < p
    if w.recording:
        w.emit("isr.search", window.unit, {
            "zone": zone, "group": gid, "law": law, "hazard_per_h": r6(window.hazard),
            "hours": r6(exposure), "p_detect": r6(p), "draw": r6(u), "detected": hit})
    if not hit:
        return None
    return begin + detection_time(draw=u, hazard=window.hazard, law=law), p, u


def _late_detection(w: World, window: Window, gid: str, zone: str,
                    at: tuple[float, float, float]) -> Generator[simpy.Event, Any, None]:
    yield w.env.timeout(at[0] - w.now)
    if w.red.groups[gid].dest == zone:
        _found(w, window, gid, zone, at[1], at[2])


def _found(w: World, window: Window, gid: str, zone: str, p: float, u: float) -> None:
    """A search found a group: Blue's own sensors report it; a partner passes it on or not."""
    if window.relay is None or window.relay(gid, zone):
        detect(w, window.unit, window.node, gid, zone, p, u)


def detect(w: World, unit: str, node: str, gid: str, zone: str, p: float, u: float) -> None:
    """A detection: record it, tell Red's incursion clock, and send the track report."""
    w.tally.add("detections")
    since = adversary.first_seen(w, gid)
    if since is not None:
        w.tally.add("detect_delay_h", w.now - since)
        w.tally.add("incursions_detected")
    if w.recording:
        w.emit("isr.detect", unit, {"group": gid, "zone": zone, "p_detect": r6(p),
                                    "draw": r6(u)})
    w.tally.detected.add(gid)
    escalation.on_detection(w, gid)
    t = w.now
    _store(w, node, gid, zone, t)
    for dst in report_destinations(w, node):
        if c2.shared(w, node, dst):
            def deliver(_lat: float, dst: str = dst) -> None:
                _store(w, dst, gid, zone, t)

            c2.send(w, node, dst, "track", {"group": gid, "zone": zone}, deliver)


def report_destinations(w: World, node: str) -> tuple[str, ...]:
    """Track reports go to the engagement authority, to every littoral regiment's HQ and to
    every counterstrike unit's node (the shooters need the track)."""
    # fixed by the scenario, and asked at every detection: worked out once per game
    return estimates.shared(w, "isr.report_destinations",
                            lambda: _destinations(w.scenario))[node]


def _destinations(s: Scenario) -> dict[str, tuple[str, ...]]:
    blue = s.blue
    dsts = ({blue.c2.authority_node} | {r.hq_node for r in blue.littoral.values()}
            | {u.node for u in blue.counterstrike.values()})
    return {node: tuple(sorted(dsts - {node})) for node in blue.c2.nodes}


def _store(w: World, node: str, gid: str, zone: str, t: float) -> None:
    """Keep the newer of two reports on a group at a node, and tell the node's listeners."""
    tracks = w.isr.tracks[node]
    old = tracks.get(gid)
    if old is None or old.detected_t <= t:
        tracks[gid] = Track(zone, t)
        for listener in w.isr.listeners.get(node, ()):
            listener()


def fresh_tracks(w: World) -> int:
    """Red groups on which some Blue node holds a track younger than one turn."""
    oldest = w.now - w.hours
    return len({g for node in w.isr.tracks.values() for g, t in node.items()
                if t.detected_t >= oldest})
