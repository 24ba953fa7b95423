"""ISR detachments (e.g. MQ-9s at Kanoya) as simpy processes, and the random-search detection
they and organic sensors share.

One process per aircraft loops: availability, weather and maintenance checks, launch, transit,
time on station searching a zone, return and turnaround. Search uses the Koopman random-search
hazard h = W·v/A per hour against each Red group present: one uniform draw u decides detection
(u < 1 - exp(-h·T)) and, by inverting the same law, when it happens (t = -ln(1-u)/h). Under the
rules' "exhaustive" law the chance is min(1, h·T) and the time u/h.
"""

from __future__ import annotations

import math
from collections.abc import Generator

from engine.sim.adjudication import hazard_rate
from engine.sim.forces import c2
from engine.sim.state import BLUE, BOTH, Track, World, r6


def start(w: World) -> None:
    """One process per aircraft of every detachment, in sorted order."""
    for det_id, det in sorted(w.scenario.blue.isr.items()):
        w.isr_tempo[det_id] = "normal"
        for k in range(det.aircraft):
            w.env.process(_aircraft(w, det_id, k))


def _aircraft(w: World, det_id: str, k: int) -> Generator:
    det = w.scenario.blue.isr[det_id]
    s, table, env = w.scenario, w.rules.adjudication, w.env
    rng = w.rng(f"isr.{det_id}.{k}")
    base_zone = s.theater.bases[det.base].zone
    unit = f"{det_id}.{k + 1}"
    # per-zone constants, computed once: transit time, time on station, search hazard
    legs = {z: (w.dist[(base_zone, z)] / det.transit_kts,
                hazard_rate(sweep_width=det.sweep_width_nm, speed=det.search_kts,
                            area=s.theater.zones[z].area_nm2)) for z in det.zones}
    sorties_per = table.detection.sorties_per_aircraft
    objective = s.red.objective
    # stagger aircraft over the day so a detachment is not all airborne at once
    yield env.timeout(w.hours * k / max(1, det.aircraft))
    sortie = 0
    while True:
        rate = sorties_per[w.isr_tempo[det_id]]
        cycle = w.hours / rate if rate > 0 else w.hours
        u_avail, u_weather, u_maint, u_space = rng.random(4)
        p_space = table.cyber.space_isr_penalty if w.space_degraded_until > env.now else 0.0
        reason = ("unavailable" if rate == 0 or u_avail >= det.availability else
                  "weather" if u_weather < det.weather_cancel_p else
                  "maintenance" if u_maint < det.maintenance_cancel_p else
                  "space link lost" if u_space < p_space else "")
        if reason:
            if rate > 0 and w.recording:
                w.emit("isr.sortie.cancel", "blue", unit, {
                    "reason": reason, "p_available": det.availability, "draw": r6(u_avail),
                    "p_weather": det.weather_cancel_p, "draw_weather": r6(u_weather)}, BLUE)
            yield env.timeout(cycle)
            continue
        zone = det.zones[sortie % len(det.zones)]
        sortie += 1
        transit, hazard = legs[zone]
        on_station = max(0.0, det.endurance_h - 2 * transit)
        if w.recording:  # the whole sortie's timeline is known at launch
            w.emit("isr.sortie.launch", "blue", unit, {
                "zone": zone, "transit_h": r6(transit), "on_station_h": r6(on_station),
                "lands_at_h": r6(env.now + 2 * transit + on_station)}, BLUE)
        yield env.timeout(transit)
        if w.recording:
            w.emit("isr.on_station", "blue", unit, {"zone": zone}, BOTH)
        w.note("isr_station_h", on_station)
        if zone == objective:
            w.note("isr_station_objective_h", on_station)
        yield from search(w, unit, det.report_node, zone, hazard, on_station, rng)
        # the flight home and the turnaround are one wait: nothing can happen to it meanwhile
        yield env.timeout(transit + max(det.turnaround_h, cycle - det.endurance_h))


def search(w: World, unit: str, node: str, zone: str, hazard: float,
           hours: float, rng) -> Generator:
    """Search a zone for `hours`: draw once per Red group present, then wait out the window,
    stopping at each detection time to report it."""
    start = w.env.now
    found: list[tuple[float, str]] = []
    for gid, g in sorted(w.groups.items()):
        if g.dest != zone or g.ships <= 0:
            continue
        begin = max(start, g.arrive_t)
        exposure = start + hours - begin
        if exposure <= 0:
            continue
        exhaustive = w.rules.adjudication.detection.law == "exhaustive"
        p = min(1.0, hazard * exposure) if exhaustive else 1 - math.exp(-hazard * exposure)
        u = rng.random()
        hit = u < p
        if w.recording:
            w.emit("isr.search", "blue", unit, {
                "zone": zone, "group": gid, "hazard_per_h": r6(hazard), "hours": r6(exposure),
                "p_detect": r6(p), "draw": r6(u), "detected": hit}, BLUE)
        if hit:  # when: the same draw through the inverse of the law's time distribution
            when = u / hazard if exhaustive else -math.log1p(-u) / hazard
            found.append((begin - start + when, gid))
    if not found:
        yield w.env.timeout(hours)
        return
    elapsed = 0.0
    for offset, gid in sorted(found):
        yield w.env.timeout(offset - elapsed)
        elapsed = offset
        if w.groups[gid].dest == zone:  # it may have been ordered away since the draw
            detect(w, unit, node, gid, zone)
    yield w.env.timeout(max(0.0, hours - elapsed))


def detect(w: World, unit: str, node: str, gid: str, zone: str) -> None:
    """A detection: record it, note time-to-detection, and send the track report over C2."""
    w.note("detections")
    first = w.incursion_t.pop(gid, None)
    if first is not None:
        w.note("detect_delay_h", w.now - first)
        w.note("incursions_detected")
    if w.recording:
        data = {"group": gid, "zone": zone}
        if first is not None:
            data["since_incursion_h"] = r6(w.now - first)
        w.emit("isr.detect", "blue", unit, data, BLUE)
    w.turn_log.setdefault("detected_groups", set()).add(gid)
    t = w.now
    w.tracks[node][gid] = Track(zone, t)
    _notify(w, node)
    for dst in report_destinations(w, node):
        share_ok = _shared(w, node, dst)
        if share_ok:
            c2.send(w, node, dst, "track", {"group": gid, "zone": zone},
                    _store_track(w, dst, gid, zone, t))


def report_destinations(w: World, node: str) -> list[str]:
    """Track reports go to the engagement authority and to every littoral regiment's HQ."""
    c2cfg = w.scenario.blue.c2
    dsts = {c2cfg.authority_node} | {r.hq_node for r in w.scenario.blue.littoral.values()}
    return sorted(dsts - {node})


def _shared(w: World, src: str, dst: str) -> bool:
    """A report crossing between nations is shared with the intelligence-sharing probability."""
    nodes = w.scenario.blue.c2.nodes
    if nodes[src].nation == nodes[dst].nation:
        return True
    p = w.scenario.blue.c2.intel_sharing
    u = float(w.rng(f"c2.share.{src}").random())
    if u >= p:
        w.emit("c2.share.withheld", "blue", src, {"to": dst, "p_share": p, "draw": r6(u)}, BLUE)
        return False
    return True


def _store_track(w: World, node: str, gid: str, zone: str, t: float):
    def store(_latency: float) -> None:
        old = w.tracks[node].get(gid)
        if old is None or old.detected_t <= t:
            w.tracks[node][gid] = Track(zone, t)
            _notify(w, node)
    return store


def _notify(w: World, node: str) -> None:
    for listener in w.track_listeners.get(node, ()):
        listener()
