"""What Blue's declared posture implies, computed with the adjudication's own formulas: the
search coverage over a zone, the delay before a detection, and the losses Blue's anti-ship
batteries and counterstrike units would inflict. Pure functions of the scenario and rules (and
of what Red has seen, passed in): Red's starting beliefs and its estimate of Blue use them, so
every posture number reaches Red's choice through the same mechanism that adjudicates it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from engine.sim.adjudication import (
    battery_salvo,
    expected_salvo_loss,
    hazard_rate,
    search_probability,
)
from engine.sim.state import World
from engine.spec.rules import Rules
from engine.spec.scenario import IsrDetachment, Scenario
from engine.spec.types import Readiness, Tempo

T = TypeVar("T")

HOURS_PER_DAY = 24.0  # sorties_per_aircraft is a daily rate (rules: adjudication.detection)
# Red's estimate counts a detection that never comes within a turn as two turns late
UNSEEN_DELAY_TURNS = 2.0
def shared(w: World, key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` once per key for every session of a game (``World.shared``, the Game's
    table): only for values of the scenario and rules alone, which are frozen, and of the key,
    never of the state."""
    table = w.shared
    if key not in table:
        table[key] = make()
    return table[key]  # type: ignore[no-any-return]


def upkeep(s: Scenario, r: Rules, det: IsrDetachment) -> tuple[float, float]:
    """(availability, maintenance cancellation chance) of a detachment's aircraft, with regional
    maintenance (scenario ``blue.sustainment``) applied."""
    if s.blue.sustainment.regional_maintenance:
        table = r.adjudication.sustainment
        return (1 - (1 - det.availability) * table.unavailable_factor,
                det.maintenance_cancel_p * table.maintenance_cancel_factor)
    return det.availability, det.maintenance_cancel_p


def sortie_cycle_h(rate_per_day: float) -> float:
    """Hours between one aircraft's planned launches at a daily sortie rate."""
    return HOURS_PER_DAY / rate_per_day if rate_per_day > 0 else HOURS_PER_DAY


def sorties_per_day(s: Scenario, r: Rules, det: IsrDetachment, tempo: Tempo) -> float:
    """Expected sorties one aircraft flies a day: a sortie is planned every 24/rate hours; one
    that flies takes endurance + turnaround (if longer) before the next, a cancelled one waits
    for the next planned slot (the aircraft loop in sim/forces/isr.py)."""
    rate = r.adjudication.detection.sorties_per_aircraft[tempo]
    if rate <= 0:
        return 0.0
    available, maintenance = upkeep(s, r, det)
    fly = available * (1 - det.weather_cancel_p) * (1 - maintenance)
    cycle = sortie_cycle_h(rate)
    period = fly * max(det.endurance_h + det.turnaround_h, cycle) + (1 - fly) * cycle
    return HOURS_PER_DAY * fly / period


def coverage_by_source(s: Scenario, r: Rules, zone: str,
                       tempo: Tempo = "normal") -> list[tuple[str, float, float]]:
    """(report node, Koopman coverage per turn, chance a report is passed on) of each source
    the declared posture searches ``zone`` with: ISR sorties (on-station hours shared over a
    detachment's zones), partner surveillance (passed on with ``share_p``), and the organic
    sensors of batteries within range (reporting to their own HQ)."""
    area = s.theater.zones[zone].area_nm2
    hours = s.turns.hours
    out: list[tuple[str, float, float]] = []
    for _, det in sorted(s.blue.isr.items()):
        if zone not in det.zones:
            continue
        base = s.theater.bases[det.base].zone
        transit = s.distance(base, zone) / det.transit_kts
        on_station = max(0.0, det.endurance_h - 2 * transit) / len(det.zones)
        sorties = det.aircraft * sorties_per_day(s, r, det, tempo) * hours / HOURS_PER_DAY
        out.append((det.report_node, sorties * on_station * hazard_rate(
            sweep_width=det.sweep_width_nm, speed=det.search_kts, area=area), 1.0))
    for _, p in sorted(s.blue.partners.items()):
        if zone in p.zones:
            out.append((p.report_node, p.hours_per_turn * hazard_rate(
                sweep_width=p.sweep_width_nm, speed=p.search_kts, area=area), p.share_p))
    for _, reg in sorted(s.blue.littoral.items()):
        if reg.sensor_sweep_nm <= 0 or reg.sensor_kts <= 0:
            continue
        for _, bat in sorted(reg.batteries.items()):
            if bat.site != zone and s.distance(bat.site, zone) <= reg.range_nm:
                out.append((reg.hq_node, hours * hazard_rate(
                    sweep_width=reg.sensor_sweep_nm, speed=reg.sensor_kts, area=area), 1.0))
    return out


def posture_coverage(s: Scenario, r: Rules, zone: str, tempo: Tempo = "normal") -> float:
    """Koopman coverage (sum of hazard x hours) the declared posture searches over ``zone`` in
    one turn, every source together (see :func:`coverage_by_source`)."""
    return sum(cov for _, cov, _ in coverage_by_source(s, r, zone, tempo))


def seen_probability(coverage: float, r: Rules) -> float:
    """P(a group present for a whole turn is detected) under the rules' search law."""
    return search_probability(hazard=coverage, hours=1.0, law=r.adjudication.detection.law)


def detection_delay_h(coverage: float, turn_hours: float) -> float:
    """Mean hours to a detection at a steady coverage rate (1 / hazard for random search),
    counting no coverage at all as two turns."""
    cap = turn_hours * UNSEEN_DELAY_TURNS
    return min(cap, turn_hours / coverage) if coverage > 0 else cap


@dataclass(frozen=True)
class Shooter:
    """One Blue firing unit as the estimate sees it: what each of its salvos can fire."""

    launchers: float
    missiles_per_launcher: int
    magazine: int
    ready_share: float
    p_hit: float
    salvos: int  # how many it can fire in the conflict's turns, magazine permitting

    @functools.cached_property
    def sizes(self) -> tuple[tuple[int, int], ...]:
        """(launchers, missiles each) of each salvo it fires until its magazine or its turns
        run out, each sized as the engine sizes it (adjudication.battery_salvo): fixed by the
        unit, so sized once however often its losses are estimated."""
        out, magazine = [], self.magazine
        for _ in range(self.salvos):
            count, per = battery_salvo(launchers=self.launchers, magazine=magazine,
                                       ready_share=self.ready_share,
                                       missiles_per_launcher=self.missiles_per_launcher)
            if count == 0:
                break
            magazine -= count * per
            out.append((count, per))
        return tuple(out)


def battery_losses(s: Scenario, r: Rules, readiness: Mapping[str, Readiness], group: str,
                   ships: float, scouting: float) -> float:
    """Ships of Red group ``group`` the anti-ship batteries in range of Red's objective are
    expected to sink over the turns an armed conflict lasts, as often as displacement allows,
    each salvo needing a track (``scouting``: the chance a fresh track reaches the battery)."""
    return salvo_losses_over(s, r, group, ships, scouting, battery_shooters(s, r, readiness))


def battery_shooters(s: Scenario, r: Rules,
                     readiness: Mapping[str, Readiness]) -> tuple[Shooter, ...]:
    """The anti-ship batteries in range of Red's objective, at the regiments' ``readiness``
    (the declared one where none is given)."""
    turns = max(1, r.end.turns_after_armed_attack)
    shooters = []
    for rid, reg in sorted(s.blue.littoral.items()):
        if not reg.anti_ship:
            continue
        ready = r.adjudication.littoral.ready_share[readiness.get(rid, reg.readiness)]
        for _, bat in sorted(reg.batteries.items()):
            if s.distance(bat.site, s.red.objective) <= reg.range_nm:
                shooters.append(Shooter(
                    bat.launchers, reg.missiles_per_launcher,
                    bat.magazine + s.blue.sustainment.missile_resupply_per_turn * turns,
                    ready, reg.p_hit, max(1, math.floor(turns * s.turns.hours / reg.displace_h))))
    return tuple(shooters)


def counterstrike_losses(s: Scenario, r: Rules, group: str, ships: float,
                         scouting: float) -> float:
    """Ships of Red group ``group`` that counterstrike units are expected to sink over the turns
    an armed conflict lasts: one salvo per unit and turn, while its magazine lasts, when the
    group at Red's objective is within the unit's range and tracked (``scouting``: the chance
    a fresh track reaches the unit) (sim/forces/counterstrike.py)."""
    return salvo_losses_over(s, r, group, ships, scouting, counterstrike_shooters(s, r))


def counterstrike_shooters(s: Scenario, r: Rules) -> tuple[Shooter, ...]:
    """The counterstrike units within range of Red's objective."""
    turns = max(1, r.end.turns_after_armed_attack)
    return tuple(Shooter(u.launchers, u.missiles_per_launcher, u.magazine, 1.0, u.p_hit, turns)
                 for _, u in sorted(s.blue.counterstrike.items())
                 if s.distance(u.site, s.red.objective) <= u.range_nm)


# a pure function of numbers; an estimate's first salvo meets the whole fleet, so it repeats
# in every estimate of every run, while later ones vary with the chance of a track
_salvo_loss = functools.lru_cache(maxsize=1024)(expected_salvo_loss)


def salvo_losses_over(s: Scenario, r: Rules, group: str, ships: float, scouting: float,
                      shooters: Sequence[Shooter]) -> float:
    """Ships of ``group`` the shooters sink, salvo after salvo (:attr:`Shooter.sizes`), each
    sinking the stochastic salvo's mean against the ships still afloat, times the chance it
    has a track."""
    g, per_hit = s.red.groups[group], r.adjudication.salvo.loss_per_hit
    left = ships
    for unit in shooters:
        for count, per in unit.sizes:
            if left <= 0:
                break
            left -= scouting * _salvo_loss(
                shots=count * per, p_hit=unit.p_hit,
                interceptors=g.interceptors_per_ship * math.ceil(left),
                p_intercept=g.p_intercept, loss_per_hit=per_hit / g.staying_power, targets=left)
    return ships - max(0.0, left)
