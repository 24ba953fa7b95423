"""What each side knows: its facts, its observation (fog of war) and Red's estimate of Blue.

Pure functions of a World at the start of a turn's orders phase. Every value a team's
observation holds comes from its own forces, from public acts, or from what the mechanics told
it (detections, attribution, observed effects); the umpire's observation holds everything.
``engine.testing.check_information`` holds logs and observations to this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from engine.sim import decision, estimates
from engine.sim.adjudication import (
    delivery_probability,
    kill_chain_probability,
    link_loss_probability,
)
from engine.sim.forces import c2, isr
from engine.sim.state import World, r6
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario
from engine.spec.types import Readiness, Side, Team


class Lazy(Mapping[str, Any]):
    """A read-only mapping computed on first use (doctrine never reads the situation, and a
    measures-only run never reads Red's options)."""

    def __init__(self, make: Callable[[], Mapping[str, Any]]) -> None:
        self._make: Callable[[], Mapping[str, Any]] | None = make
        self._data: Mapping[str, Any] = {}

    def _get(self) -> Mapping[str, Any]:
        if self._make is not None:
            self._data, self._make = self._make(), None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


@dataclass(frozen=True)
class Observation:
    """What one side knows at the start of a turn: JSON-serialisable with :meth:`to_json`.
    ``events`` are the records of the last turn this side was allowed to see."""

    turn: int
    side: Side
    rung: str
    rung_level: int
    facts: Mapping[str, float]
    situation: Mapping[str, Any]
    estimate: decision.RedEstimate | None = None  # Red only: how it sees Blue
    events: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"turn": self.turn, "side": self.side, "rung": self.rung,
                "rung_level": self.rung_level, "facts": dict(self.facts),
                "situation": _plain(self.situation),
                "estimate": _plain(asdict(self.estimate)) if self.estimate else None,
                "events": [dict(e) for e in self.events]}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def observe(w: World, side: Side, events: tuple[Mapping[str, Any], ...] = (),
            known: Mapping[Team, dict[str, float]] | None = None) -> Observation:
    """A side's observation: facts (``known`` when already made this turn), own situation, and
    for Red its estimate of Blue."""
    if side == "white":
        facts = side_facts(w, "blue")
        situation = Lazy(lambda: {"blue": blue_situation(w), "red": red_situation(w),
                                  "truth": truth(w)})
        return Observation(w.turn, side, w.ladder.rung, w.rung_level(), facts, situation,
                           None, events)
    facts = dict(known[side]) if known is not None else side_facts(w, side)
    if side == "blue":
        situation, estimate = Lazy(lambda: blue_situation(w)), None
    else:
        situation, estimate = Lazy(lambda: red_situation(w)), red_estimate(w)
    return Observation(w.turn, side, w.ladder.rung, w.rung_level(), facts, situation,
                       estimate, events)


def side_facts(w: World, side: Team) -> dict[str, float]:
    """The numbers doctrine conditions and preconditions read (see rules.FACTS), each from
    what that side knows."""
    return _blue_facts(w) if side == "blue" else _red_facts(w)


def _blue_facts(w: World) -> dict[str, float]:
    lad, littoral, last = w.ladder, w.littoral, w.tally.last
    authority = any(littoral.authority.values())
    requested = authority or any(littoral.pending.values())
    return {
        "turn": float(w.turn),
        "rung": float(w.rung_level()),
        "red_tracks": float(isr.fresh_tracks(w)),
        "incursions_seen": float(last.get("incursions_detected", 0)),
        "links_degraded": float(len(c2.degraded_links(w))),
        "outages_seen": float(last.get("link_outages", 0)),
        "authority": float(authority),
        "authority_requested": float(requested),
        "article5": float(lad.article5_turn is not None),
        "armed_attack": float(lad.known_turn is not None),
        "blue_isr_seen": 0.0,
        "red_gains": r6(lad.attributed_gains),
    }


def _red_facts(w: World) -> dict[str, float]:
    lad, mind = w.ladder, w.mind
    return {
        "turn": float(w.turn),
        "rung": float(w.rung_level()),
        "red_tracks": 0.0,
        "incursions_seen": 0.0,
        "links_degraded": float(len(_outages(w))),
        "outages_seen": float(w.tally.last.get("cyber_hits", 0)),
        "authority": float(mind.authority_seen),
        "authority_requested": float(mind.authority_seen),
        "article5": float(lad.article5_turn is not None),
        "armed_attack": float(lad.armed_attack_turn is not None),
        "blue_isr_seen": r6(mind.isr_seen_h),
        "red_gains": r6(lad.gains_claimed),
    }


def _outages(w: World) -> list[str]:
    """The links Red knows it took down and believes still down."""
    now = w.now
    return sorted(lid for lid, until in w.mind.known_outages.items() if until > now)


def blue_situation(w: World) -> dict[str, Any]:
    return {
        "isr_tempo": dict(w.isr.tempo), "readiness": dict(w.littoral.readiness),
        "authority": dict(w.littoral.authority),
        "batteries": {f"{r}.{b}": {"site": s.site, "launchers": r6(s.launchers),
                                   "magazine": s.magazine}
                      for (r, b), s in sorted(w.littoral.batteries.items())},
        "links_degraded": c2.degraded_links(w),
        "tracks": _freshest_tracks(w),
        "armed_attack_known": w.ladder.known_turn is not None,
    }


def _freshest_tracks(w: World) -> dict[str, dict[str, Any]]:
    """Blue's freshest report on each Red group, whichever node holds it."""
    best: dict[str, Any] = {}
    for node in sorted(w.isr.tracks):
        for g, t in sorted(w.isr.tracks[node].items()):
            if g not in best or t.detected_t > best[g].detected_t:
                best[g] = t
    return {g: {"zone": t.zone, "age_h": r6(w.now - t.detected_t)}
            for g, t in sorted(best.items())}


def red_situation(w: World) -> dict[str, Any]:
    m = w.mind
    return {"groups": {g: {"zone": s.dest, "ships": r6(s.ships), "mission": s.mission}
                       for g, s in sorted(w.red.groups.items())},
            "beliefs": {"isr": r6(m.isr), "resolve": r6(m.resolve)},
            "seen": {"readiness": dict(m.seen_readiness), "links_down": _outages(w),
                     "authority": m.authority_seen, "isr_over_objective_h": r6(m.isr_seen_h)}}


def truth(w: World) -> dict[str, Any]:
    """What only the umpire sees: the threshold's truth and Red's real score."""
    lad = w.ladder
    return {"armed_attack_turn": lad.armed_attack_turn, "known_turn": lad.known_turn,
            "article5_turn": lad.article5_turn, "red_gains": r6(lad.red_gains)}


@dataclass(frozen=True, slots=True)
class _RedFixed:
    """The terms of Red's estimate that the scenario and rules fix (made once per game)."""

    attribution_p: float
    patience_h: float
    covered_domains: tuple[str, ...]
    gain_share: float
    holding_gain: float
    threshold_level: int
    hours: float  # of a turn
    navy: tuple[str, ...]  # Red's naval groups, by id
    strikers: tuple[estimates.Shooter, ...]  # the counterstrike units in range


def _red_fixed(s: Scenario, r: Rules) -> _RedFixed:
    adj = r.adjudication
    return _RedFixed(
        attribution_p=adj.detection.attribution_p, patience_h=r.red_model.patience,
        covered_domains=s.treaty.article5_domains, gain_share=adj.attributed_gain_share,
        holding_gain=adj.holding_gain,
        threshold_level=r.ladder.level(r.ladder.armed_attack_threshold),
        hours=float(s.turns.hours),
        navy=tuple(gid for gid, g in sorted(s.red.groups.items()) if g.kind == "navy"),
        strikers=estimates.counterstrike_shooters(s, r))


_NOTHING_DOWN: frozenset[str] = frozenset()


def red_estimate(w: World) -> decision.RedEstimate:
    """Red's estimate of Blue: its beliefs plus what Blue's declared posture and the acts Red
    has seen imply, with the adjudication's formulas (sim/estimates.py)."""
    s, r, mind = w.scenario, w.rules, w.mind
    fixed: _RedFixed = estimates.shared(w, "red.fixed", lambda: _red_fixed(s, r))
    outages = mind.known_outages
    down = frozenset(_outages(w)) if outages else _NOTHING_DOWN
    p_seen = estimates.seen_probability(mind.isr, r)
    naval, punish = _expected_losses(w, p_seen, down, fixed)
    return decision.RedEstimate(
        p_seen=p_seen, resolve=mind.resolve, attribution_p=fixed.attribution_p,
        response_delay_h=_response_delay(w, down, fixed.hours),
        patience_h=fixed.patience_h, covered_domains=fixed.covered_domains,
        naval_loss_share=naval, punish_share=punish, gain_share=fixed.gain_share,
        holding_gain=fixed.holding_gain, seized=w.ladder.seized, red_rung=w.ladder.red_rung,
        threshold_level=fixed.threshold_level)


def _response_delay(w: World, down: frozenset[str], hours: float) -> float:
    """Hours from Red's act to Blue's answer: the wait for a detection at the coverage Red
    believes in, consultation (unless authority was announced) and C2 there and back, over
    the links Red knows are (``down``) or believes are up."""
    seen = w.mind.authority_seen
    c2_h = estimates.shared(w, ("response_delay", down, seen),
                            lambda: _delay_over(w, down, seen))
    return estimates.detection_delay_h(w.mind.isr, hours) + c2_h


def _delay_over(w: World, down: frozenset[str], authority_seen: bool) -> float:
    s, table = w.scenario, w.rules.adjudication.c2
    c2cfg = s.blue.c2
    hq = next((reg.hq_node for _, reg in sorted(s.blue.littoral.items())), c2cfg.authority_node)
    there = c2.expected_delay(s, table, w.c2.routes, hq, c2cfg.authority_node, w.hours, down)
    back = c2.expected_delay(s, table, w.c2.routes, c2cfg.authority_node, hq, w.hours, down)
    if authority_seen:
        return back
    return there + c2cfg.consultation_h * table.command_latency_factor[c2cfg.command] + back


_LOSSES_KEPT = 256  # exact estimates kept per game: a run's first turns repeat in every run


def _expected_losses(w: World, p_seen: float, down: frozenset[str],
                     fixed: _RedFixed) -> tuple[float, float]:
    """Shares of Red's navy it expects to lose if Blue answers: to the batteries in range of its
    objective (at the readiness it has seen, each salvo needing a track: Blue's coverage as Red
    believes it, ``p_seen``, and the report's way to the batteries over the links Red knows
    are ``down``) and to counterstrike."""
    navy = fixed.navy
    groups = w.red.groups
    fleet = tuple(groups[gid].ships for gid in navy)
    ships = sum(fleet)
    if ships <= 0:
        return 0.0, 0.0
    seen = tuple(sorted(w.mind.seen_readiness.items()))
    batteries, strikers = _shooters(w, seen), fixed.strikers
    if not batteries and not strikers:
        return 0.0, 0.0  # nothing in range sinks a ship: exactly what the sums below give
    scouting = kill_chain_probability(
        p_detect=p_seen,
        p_communicate=estimates.shared(w, ("delivery", down), lambda: _delivery(w, down)),
        p_hit=1.0)
    # the session memo's keys are rounded (a turn's estimate reuses the first one made in the
    # session for nearly the same inputs); beneath it, exact values are kept for the game
    near = (round(scouting, 6), round(ships, 6))
    naval = w.memo(("naval", seen, *near), lambda: _losses(
        w, ("naval", seen, fleet, scouting), batteries, navy, fleet, scouting))
    punish = w.memo(("punish", *near), lambda: _losses(
        w, ("punish", fleet, scouting), strikers, navy, fleet, scouting))
    return naval / ships, punish / ships


def _shooters(w: World, seen: tuple[tuple[str, Readiness], ...]) -> tuple[estimates.Shooter, ...]:
    """The batteries in range at the readiness Red has ``seen``: fixed by the scenario, the
    rules and ``seen``, so made once for the game (the counterstrike units are in
    _RedFixed)."""
    s, r = w.scenario, w.rules
    return estimates.shared(w, ("batteries", seen),
                            lambda: estimates.battery_shooters(s, r, dict(seen)))


def _losses(w: World, key: tuple[Any, ...], shooters: tuple[estimates.Shooter, ...],
            navy: tuple[str, ...], fleet: tuple[float, ...], scouting: float) -> float:
    """The ships of Red's navy the shooters are expected to sink (estimates.salvo_losses_over),
    kept by exact inputs for every session of the game while there is room: a run's first
    estimates are the same in every run."""
    kept: dict[tuple[Any, ...], float] = estimates.shared(w, "losses", dict)
    value = kept.get(key)
    if value is None:
        s, r = w.scenario, w.rules
        value = sum(estimates.salvo_losses_over(s, r, gid, n, scouting, shooters)
                    for gid, n in zip(navy, fleet, strict=True))
        if len(kept) < _LOSSES_KEPT:
            kept[key] = value
    return value


def _delivery(w: World, down: frozenset[str]) -> float:
    """Chance a track report on Red's objective reaches the littoral regiments' HQ, averaged
    over the declared sources by their coverage: the source passes it on, each link of the
    route carries it (over the links Red believes are up or down), and it crosses between
    nations with the alliance's intelligence-sharing chance (c2.shared)."""
    s = w.scenario
    hqs = sorted({r.hq_node for r in s.blue.littoral.values()})
    sources = estimates.coverage_by_source(s, w.rules, s.red.objective)
    total = sum(cov for _, cov, _ in sources)
    if not hqs or total <= 0:
        return 1.0
    add = w.rules.adjudication.c2.degraded_loss_add
    nodes, sharing = s.blue.c2.nodes, s.blue.c2.intel_sharing
    reach = 0.0
    for node, cov, passed in sources:
        for hq in hqs:
            route = w.c2.routes.get((node, hq))
            if route is None:
                continue
            crossing = sharing if nodes[node].nation != nodes[hq].nation else 1.0
            reach += cov / len(hqs) * passed * crossing * delivery_probability(losses=[
                link_loss_probability(loss_p=s.blue.c2.links[lid].loss_p,
                                      degraded=lid in down, degraded_add=add)
                for lid in route])
    return reach / total
