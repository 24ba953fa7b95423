"""The littoral regiment: batteries at island sites, readiness, displacement, organic sensors,
engagement authority over C2, and anti-ship salvos.

A battery fires only when (1) Red has crossed the armed-attack threshold, (2) its regiment holds
engagement authority received over C2, (3) its regiment's HQ holds a track on a Red surface group
no older than ``track_max_age_h``, (4) the target's zone is within range, and (5) it is ready.
"""

from __future__ import annotations

from collections.abc import Generator

from engine.sim.adjudication import hazard_rate, salvo_losses, stochastic_salvo_losses
from engine.sim.forces import c2, isr
from engine.sim.state import BLUE, BOTH, BatteryState, World, r6


def setup(w: World) -> None:
    for rid, reg in sorted(w.scenario.blue.littoral.items()):
        w.readiness[rid] = reg.readiness
        w.authority[rid] = False
        w.authority_pending[rid] = False
        for bid, bat in sorted(reg.batteries.items()):
            w.batteries[(rid, bid)] = BatteryState(bat.site, float(bat.launchers), bat.magazine)
        w.track_listeners.setdefault(reg.hq_node, []).append(
            lambda rid=rid: engage_regiment(w, rid))


def set_posture(w: World, rid: str, readiness: str) -> None:
    """Change readiness; dispersing moves every battery to the next site, taking time."""
    old = w.readiness[rid]
    w.readiness[rid] = readiness
    if readiness != old:
        w.emit("littoral.readiness", "blue", rid, {"from": old, "to": readiness}, BLUE)
    if readiness == "dispersed":
        reg = w.scenario.blue.littoral[rid]
        for (r, bid), b in sorted(w.batteries.items()):
            if r != rid or len(reg.sites) < 2:
                continue
            site = reg.sites[(reg.sites.index(b.site) + 1) % len(reg.sites)]
            b.ready_t = w.now + reg.displace_h
            w.emit("littoral.displace", "blue", f"{rid}.{bid}",
                   {"from": b.site, "to": site, "ready_in_h": reg.displace_h}, BLUE)
            b.site = site


def sense(w: World) -> None:
    """Organic sensors: each battery searches, this turn, the zones within range of its site
    that a Red group is in or heading for (empty zones cost nothing)."""
    s = w.scenario
    targets = sorted({g.dest for g in w.groups.values() if g.ships > 0})
    for (rid, bid), b in sorted(w.batteries.items()):
        reg = s.blue.littoral[rid]
        if reg.sensor_sweep_nm <= 0 or reg.sensor_kts <= 0 or b.launchers <= 0:
            continue
        for zone in targets:
            d = w.dist.get((b.site, zone))
            if zone == b.site or d is None or d > reg.range_nm:
                continue
            hazard = hazard_rate(sweep_width=reg.sensor_sweep_nm, speed=reg.sensor_kts,
                                 area=s.theater.zones[zone].area_nm2)
            w.env.process(_sensor(w, f"{rid}.{bid}", reg.hq_node, zone, hazard))


def _sensor(w: World, unit: str, node: str, zone: str, hazard: float) -> Generator:
    rng = w.rng(f"sensor.{unit}")
    yield from isr.search(w, unit, node, zone, hazard, w.hours, rng)


def request_authority(w: World, rid: str) -> None:
    """Ask for engagement authority: request over C2, alliance consultation, grant over C2."""
    if w.authority[rid] or w.authority_pending[rid]:
        return
    w.authority_pending[rid] = True
    w.env.process(_authority(w, rid))


def _authority(w: World, rid: str) -> Generator:
    c2cfg, table = w.scenario.blue.c2, w.rules.adjudication.c2
    hq, auth = w.scenario.blue.littoral[rid].hq_node, c2cfg.authority_node
    arrived = w.env.event()
    c2.send(w, hq, auth, "authority.request", {"regiment": rid},
            lambda _lat: arrived.succeed())
    outcome = yield arrived | w.env.timeout(w.hours)
    if arrived not in outcome:
        w.authority_pending[rid] = False
        return
    consult = 0.0 if w.turn - w.consulted_turn <= 1 else (
        c2cfg.consultation_h * table.command_latency_factor[c2cfg.command])
    w.emit("alliance.consultation", "blue", auth, {"regiment": rid, "hours": r6(consult)}, BLUE)
    yield w.env.timeout(consult)
    w.consulted_turn = w.turn

    def grant(_lat: float) -> None:
        w.authority[rid] = True
        w.emit("c2.authority.granted", "blue", rid, {"by": auth}, BLUE)
        engage_regiment(w, rid)

    c2.send(w, auth, hq, "authority.grant", {"regiment": rid}, grant)
    yield w.env.timeout(w.hours)  # a grant lost on the way may be asked for again next turn
    w.authority_pending[rid] = False


def engage_all(w: World) -> None:
    for rid in sorted(w.scenario.blue.littoral):
        engage_regiment(w, rid)


def engage_regiment(w: World, rid: str) -> None:
    """Every battery of a regiment that may and can shoot fires one salvo, then displaces."""
    if w.armed_attack_turn is None or not w.authority[rid]:
        return
    s, table = w.scenario, w.rules.adjudication.salvo
    reg = s.blue.littoral[rid]
    if not reg.anti_ship:
        return
    for (r, bid), b in sorted(w.batteries.items()):
        if r != rid or b.magazine <= 0 or b.launchers <= 0 or b.ready_t > w.now:
            continue
        target = _target(w, rid, b.site)
        if target is None:
            continue
        g = s.red.groups[target]
        state = w.groups[target]
        ready = w.rules.adjudication.littoral.ready_share[w.readiness[rid]]
        shooters = max(1, int(b.launchers * ready))
        per = min(reg.missiles_per_launcher, b.magazine // shooters or 1)
        fired = min(b.magazine, shooters * per)
        b.magazine -= fired
        rng = w.rng(f"salvo.{rid}.{bid}")
        lost = stochastic_salvo_losses(
            rng, shooters=shooters, missiles_per_shooter=per, p_hit=reg.p_hit,
            targets=state.ships, interceptors_per_target=g.interceptors_per_ship,
            p_intercept=g.p_intercept, loss_per_hit=table.loss_per_hit / g.staying_power,
            loss_per_hit_sd=table.loss_per_hit_sd / g.staying_power)
        state.ships -= lost
        b.ready_t = w.now + reg.displace_h  # shoot and scoot: it must move before firing again
        w.note("red_losses", lost)
        w.emit("engagement.salvo", "blue", f"{rid}.{bid}", {
            "target": target, "missiles": fired, "p_hit": reg.p_hit,
            "p_intercept": g.p_intercept, "ships_before": r6(state.ships + lost),
            "ships_lost": r6(lost), "model": "stochastic salvo (Armstrong 2005)"}, BOTH)


def _target(w: World, rid: str, site: str) -> str | None:
    """The Red navy group with the freshest track at the regiment's HQ, within range."""
    reg = w.scenario.blue.littoral[rid]
    best = None
    for gid, track in sorted(w.tracks[reg.hq_node].items()):
        g = w.scenario.red.groups[gid]
        if g.kind != "navy" or w.groups[gid].ships <= 0:
            continue
        if w.now - track.detected_t > reg.track_max_age_h:
            continue
        if w.dist.get((site, track.zone), 1e9) > reg.range_nm:
            continue
        if best is None or track.detected_t > best[1]:
            best = (gid, track.detected_t)
    return best[0] if best else None


def struck(w: World, gid: str) -> None:
    """A Red naval strike, its salvo split evenly over the batteries in range of its zone
    (Hughes salvo, expected value)."""
    g, state = w.scenario.red.groups[gid], w.groups[gid]
    table = w.rules.adjudication
    targets = [(key, b) for key, b in sorted(w.batteries.items()) if b.launchers > 0
               and w.dist.get((b.site, state.dest), 1e9) <= table.strike.range_nm]
    for (rid, bid), b in targets:
        bat = w.scenario.blue.littoral[rid].batteries[bid]
        exposure = table.littoral.exposure[w.readiness[rid]]
        lost = salvo_losses(shooters=state.ships / len(targets),
                            offense=g.missiles_per_ship * table.strike.p_hit,
                            targets=b.launchers, defense=0.0, staying_power=1.0,
                            scouting=exposure)
        b.launchers -= lost
        w.note("blue_losses", lost)
        w.emit("engagement.strike", "red", gid, {
            "target": f"{rid}.{bid}", "launchers_before": r6(b.launchers + lost),
            "launchers_lost": r6(lost), "of": bat.launchers,
            "scouting": exposure, "model": "Hughes salvo (1995)"}, BOTH)
