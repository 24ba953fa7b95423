"""The turn loop: ``run(scenario, rules, seed, controllers, sink) -> RunResult``.

``run`` is a pure function of its arguments: it builds a fresh simpy Environment, draws only from
the run's named streams, and hands every record to the sink. Each turn has four phases:
orders (controllers see their own views), execution (simpy runs the turn's hours), adjudication
(salvos, escalation rung, Article V) and assessment (per-turn measures, state digest, end test).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import simpy

from engine.sim import decision
from engine.sim.controllers import Controller, Decision, Lazy, Order, View, default_controllers
from engine.sim.forces import adversary, c2, isr, littoral
from engine.sim.rng import Seed, Streams, describe
from engine.sim.state import BLUE, BOTH, RED, ListSink, Sink, World, r6
from engine.sim.views import (
    blue_situation,
    fresh_tracks,
    make_view,
    nominal_isr_coverage,
    red_situation,
    side_facts,
)
from engine.spec.rules import Action, Rules
from engine.spec.scenario import Scenario


@dataclass(frozen=True)
class Switch:
    """At the start of ``turn``, reseed every stream (when ``seed`` is given) and hand sides to
    new controllers: how a fork continues a game differently from a given turn."""

    turn: int
    seed: Seed | None = None
    controllers: Mapping[str, Controller] | None = None
    note: Mapping[str, Any] | None = None  # logged in the game.fork record


@dataclass(frozen=True)
class RunResult:
    """What a run produced besides its records: the outcome, its seed, and how many records it
    emitted (None for a measures-only run, which builds none)."""

    outcome: dict[str, Any]
    seed: dict[str, Any]
    records: int | None


def run(scenario: Scenario, rules: Rules, seed: Seed = 0,
        controllers: Mapping[str, Controller] | None = None,
        sink: Sink | None = None, switch: Switch | None = None) -> RunResult:
    """Play one exercise; records go to ``sink`` (kept in memory when none is given)."""
    streams = Streams(seed)
    sink = ListSink() if sink is None else sink
    players = {**default_controllers(), **(controllers or {})}
    w = _setup(scenario, rules, streams, sink)
    w.recording = getattr(sink, "wants_records", True)
    for turn in range(1, scenario.turns.count + 1):
        w.turn, w.last_turn, w.turn_log = turn, w.turn_log, {}
        if switch is not None and switch.turn == turn:
            players = _switch(w, switch, players)
        _orders_phase(w, players)
        littoral.sense(w)
        littoral.engage_all(w)
        w.env.run(until=turn * w.hours)
        _adjudicate(w)
        ended = _assess(w)
        w.close_turn()
        sink.end_turn(turn)
        if ended:
            break
    return RunResult(outcome_measures(w), describe(streams.sequence),
                     w.seq if w.recording else None)


def _switch(w: World, switch: Switch, players: dict[str, Controller]) -> dict[str, Controller]:
    if switch.seed is not None:
        w.streams.reseed(switch.seed)
    players = {**players, **(switch.controllers or {})}
    w.emit("game.fork", "white", "", {
        **(switch.note or {}), "turn": switch.turn,
        "controllers": {side: c.name for side, c in sorted(players.items())}}, BOTH)
    return players


def _setup(s: Scenario, r: Rules, streams: Streams, sink: Sink) -> World:
    w = World(s, r, simpy.Environment(), streams, sink)
    w.rung = w.highest = r.ladder.rungs()[0].id
    w.dist = {(z, z): 0.0 for z in s.theater.zones}
    for a, b, d in s.theater.distances:
        w.dist[(a, b)] = w.dist[(b, a)] = float(d)
    w.routes = c2.routes(s)
    # Red starts halfway between its prior and what Blue's declared posture implies
    w.beliefs = {"isr": (r.red_model.prior_isr_coverage + nominal_isr_coverage(s, r)) / 2,
                 "resolve": r.red_model.prior_resolve}
    c2.setup(w)
    adversary.setup(w)
    littoral.setup(w)
    isr.start(w)
    return w


# ---- orders ----------------------------------------------------------------------------------

def _orders_phase(w: World, players: Mapping[str, Controller]) -> None:
    # time stands still during the orders phase, so each side's facts are computed once
    w.facts = {side: side_facts(w, side) for side in ("blue", "red")}
    if "white" in players:
        _umpire(w, players["white"])
    # moves are simultaneous: both sides decide on views built before either's orders act
    views = {side: make_view(w, side) for side in ("blue", "red")}
    made = {}
    for side in ("blue", "red"):
        made[side] = players[side].decide(views[side], w.rules, w.rng(f"{side}.decision"))
        _log_decision(w, side, made[side].controller or players[side].name, made[side])
    for side in ("blue", "red"):
        for order in made[side].orders:
            _issue(w, side, order, source=players[side].name)
    for i, inj in enumerate(w.scenario.injects):
        if inj.turn != w.turn or i in w.fired_early:
            continue
        side = inj.side if inj.side != "white" else (
            "blue" if inj.action in w.rules.actions.blue else "red")
        w.emit("umpire.inject", "white", f"inject.{i}", {
            "side": side, "action": inj.action, "note": inj.note}, BOTH)
        _issue(w, side, Order(inj.action, {k: str(v) for k, v in inj.params.items()}),
               source="umpire")
    w.facts = {}


def _umpire(w: World, umpire: Controller) -> None:
    """The White cell's live injects: recorded as white orders so the game re-executes."""
    view = View(w.turn, "white", w.rung, (), w.facts["blue"],
                Lazy(lambda: {"blue": blue_situation(w), "red": red_situation(w)}))
    made = umpire.decide(view, w.rules, w.rng("white.decision"))
    if not made.orders:
        return
    w.emit("orders", "white", "white", {"controller": made.controller or umpire.name,
                                        "orders": [o.to_json() for o in made.orders]}, ())
    for order in made.orders:
        side = order.side if order.side in ("blue", "red") else ""
        _mark_scripted(w, order)
        w.emit("umpire.inject", "white", "umpire", {
            "side": side, "action": order.action, "note": order.note or "", "live": True}, BOTH)
        if not side:
            w.emit("orders.rejected", "white", "white", {
                "order": order.to_json(), "reason": "an inject must name side blue or red",
                "source": "umpire"}, ())
            continue
        _issue(w, side, Order(order.action, dict(order.params)), source="umpire")


def _mark_scripted(w: World, order: Order) -> None:
    """A live inject that is a later scripted one fired early: it will not fire again."""
    for i, inj in enumerate(w.scenario.injects):
        if (inj.turn > w.turn and i not in w.fired_early and inj.action == order.action
                and inj.note == order.note):
            w.fired_early.add(i)
            return


def _log_decision(w: World, side: str, controller: str, made: Decision) -> None:
    if not w.recording:
        return
    data: dict[str, Any] = {"controller": controller,
                            "orders": [o.to_json() for o in made.orders]}
    if side == "blue" and made.explanation:
        data.update(_rounded(made.explanation))
    w.emit("orders", side, side, data, (side,))
    if side == "red" and made.explanation:
        w.emit("red.decision", "red", "red", _rounded(made.explanation), RED)


def _rounded(value: Any) -> Any:
    """Floats rounded for the log, through nested dicts and lists."""
    if isinstance(value, float):
        return r6(value)
    if isinstance(value, Mapping):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def order_problem(w: World, side: str, order: Order) -> str | None:
    """Why an order is not legal now, or None: unknown action, bad params, unmet precondition."""
    menu = w.rules.actions.blue if side == "blue" else w.rules.actions.red
    action = menu.get(order.action)
    if action is None:
        return f"'{order.action}' is not on {side}'s menu"
    for name, value in order.params.items():
        spec = action.params.get(name)
        if spec is None:
            return f"'{order.action}' has no parameter '{name}'"
        choices = param_choices_for(w.scenario, spec)
        if value not in choices:
            return f"{name}={value!r} is not one of {choices}"
    facts = w.facts.get(side) or side_facts(w, side)
    for cond in action.preconditions:
        if not decision.condition_holds(cond, facts, w.rules.ladder.level):
            return f"precondition '{cond}' does not hold"
    return None


def param_choices_for(s: Scenario, spec: Any) -> list[str]:
    """Legal values of an action parameter, from the rules or (for kinds) from the scenario."""
    if spec.choices:
        return list(spec.choices)
    return sorted({"zone": s.theater.zones, "red_group": s.red.groups,
                   "link": s.blue.c2.links}[spec.kind])


def _issue(w: World, side: str, order: Order, source: str) -> None:
    problem = order_problem(w, side, order)
    if problem:
        w.emit("orders.rejected", side, side, {"order": order.to_json(), "reason": problem,
                                               "source": source}, (side,))
        return
    menu = w.rules.actions.blue if side == "blue" else w.rules.actions.red
    action = menu[order.action]
    params = {n: order.params.get(n, p.default) for n, p in sorted(action.params.items())}
    w.turn_log.setdefault("actions", []).append((side, order.action))
    if side == "red":
        threshold = w.rules.ladder.level(w.rules.ladder.armed_attack_threshold)
        if w.rules.ladder.level(action.signals) >= threshold:
            _armed_attack(w, order.action, action)
        adversary.execute(w, order.action, action, params)
    else:
        _blue_execute(w, action, params)


def _blue_execute(w: World, action: Action, params: Mapping[str, str | None]) -> None:
    effect = action.effect
    if effect == "isr_tempo":
        for det in sorted(w.isr_tempo):
            w.isr_tempo[det] = str(params.get("level") or "normal")
    elif effect == "littoral_posture":
        for rid in sorted(w.readiness):
            littoral.set_posture(w, rid, str(params.get("readiness") or "alert"))
    elif effect == "exercise":
        if w.scenario.blue.c2.exercises_per_turn > 0:
            w.note("exercises", w.scenario.blue.c2.exercises_per_turn)
            w.emit("blue.exercise", "blue", "alliance", {
                "count": w.scenario.blue.c2.exercises_per_turn}, BOTH)
    elif effect == "signal":
        w.note("signals")
        w.emit("blue.signal", "blue", "alliance", {}, BOTH)
    elif effect == "c2_harden":
        c2.harden(w)
        w.emit("c2.hardened", "blue", "alliance", {}, BLUE)
    elif effect == "consult":
        w.consulted_turn = w.turn
    elif effect == "authorize_engagement":
        for rid in sorted(w.authority):
            littoral.request_authority(w, rid)


# ---- adjudication and assessment -------------------------------------------------------------

def _adjudicate(w: World) -> None:
    _escalation(w)
    _red_gains(w)
    _update_beliefs(w)


def _escalation(w: World) -> None:
    """New rung: the highest signalled this turn, or one rung down from last turn's if lower."""
    rungs = [x.id for x in w.rules.ladder.rungs()]
    top = rungs.index(w.rung) - 1
    for side, aid in w.turn_log.get("actions", []):
        action = (w.rules.actions.blue if side == "blue" else w.rules.actions.red)[aid]
        top = max(top, rungs.index(action.signals))
    new = rungs[max(0, top)]
    if new != w.rung:
        w.emit("escalation.rung", "white", "ladder", {
            "from": w.rung, "to": new, "level": w.rules.ladder.level(new)}, BOTH)
    w.rung = new
    if rungs.index(new) > rungs.index(w.highest):
        w.highest = new


def _armed_attack(w: World, aid: str, action: Action) -> None:
    """Red crossed the threshold: deterrence failed; check Article V for the attack's domain."""
    if w.armed_attack_turn is None:
        w.armed_attack_turn = w.turn
        w.emit("escalation.threshold", "white", "ladder", {
            "action": aid, "domain": action.domain}, BOTH)
    covered = action.domain in w.scenario.treaty.article5_domains
    if covered and w.article5_turn is not None:
        return  # already invoked; later attacks are part of the same conflict
    w.emit("alliance.article5", "white", "alliance", {
        "domain": action.domain, "invoked": covered,
        "treaty_domains": list(w.scenario.treaty.article5_domains)}, BOTH)
    if covered and w.article5_turn is None:
        w.article5_turn = w.turn
        for rid in sorted(w.authority):
            w.authority[rid] = True
        littoral.engage_all(w)


def _red_gains(w: World) -> None:
    """Red gains what it does unattributed, and a share of it when the act is attributed."""
    detected = w.turn_log.get("detected_groups", set())
    rng = w.rng("attribution")
    for side, aid in w.turn_log.get("actions", []):
        action = w.rules.actions.red.get(aid) if side == "red" else None
        if action is None or action.gain <= 0:
            continue
        if action.domain in ("cyber", "space"):
            p = w.rules.adjudication.detection.attribution_p
            u = float(rng.random())
            attributed = u < p
            chance = {"p_attribute": p, "draw": r6(u)}
        else:
            movers = adversary.MOVERS.get(action.effect, ())
            attributed = any(w.scenario.red.groups[g].kind in movers for g in sorted(detected))
            chance = {}
        gained = action.gain * (w.rules.adjudication.attributed_gain_share if attributed else 1.0)
        w.red_gains += gained
        w.emit("red.gain", "red", "red", {"action": aid, "attributed": attributed,
                                          "gain": r6(gained), **chance}, BOTH)


def _update_beliefs(w: World) -> None:
    """Red watches Blue: ISR over its objective, exercises, signals and granted authority."""
    log, rate, seen = w.turn_log, w.rules.red_model.belief_rate, w.rules.red_model.resolve_seen
    seen_isr = min(1.0, log.get("isr_station_objective_h", 0.0) / w.hours)
    resolve = min(1.0, seen.base + seen.exercise * bool(log.get("exercises"))
                  + seen.signal * bool(log.get("signals"))
                  + seen.authority * any(w.authority.values())
                  + seen.detection * bool(log.get("detected_groups")))
    w.beliefs["isr"] = decision.update_belief(w.beliefs["isr"], seen_isr, rate)
    w.beliefs["resolve"] = decision.update_belief(w.beliefs["resolve"], resolve, rate)


def _assess(w: World) -> bool:
    """Emit the turn's measures and state digest; return True when the exercise ends."""
    if w.recording:
        log = w.turn_log
        blue = {"detections": log.get("detections", 0),
                "c2_delivered": log.get("c2_delivered", 0), "c2_sent": log.get("c2_sent", 0)}
        red = {"incursions": log.get("incursions", 0)}
        w.emit("state.blue", "blue", "blue", _rounded({**blue_situation(w), **blue}), BLUE)
        w.emit("state.red", "red", "red", _rounded({**red_situation(w), **red}), RED)
        # the umpire's view of the turn: every measure, seen by neither team
        w.emit("turn.measures", "white", "", _rounded({
            **blue, **red, "tracks": fresh_tracks(w), "links_degraded": c2.degraded_count(w),
            "beliefs": w.beliefs}), ())
        public = {"rung": w.rung, "red_losses": r6(log.get("red_losses", 0.0)),
                  "blue_losses": r6(log.get("blue_losses", 0.0))}
        if getattr(w.sink, "wants_digest", True):
            public["digest"] = digest(w)
        w.emit("turn.end", "white", "", public, BOTH)
    ended = w.armed_attack_turn is not None and (
        w.turn >= w.armed_attack_turn + w.rules.end.turns_after_armed_attack)
    return ended or w.turn >= w.scenario.turns.count


def digest(w: World) -> str:
    """A short hash of the whole mutable state: replays must reach the same digest each turn."""
    state = {
        "rung": w.rung, "beliefs": w.beliefs, "gains": r6(w.red_gains),
        "groups": {g: [s.zone, s.dest, r6(s.arrive_t), r6(s.ships), s.mission, s.leg]
                   for g, s in w.groups.items()},
        "batteries": {f"{r}.{b}": [s.site, r6(s.launchers), s.magazine, r6(s.ready_t)]
                      for (r, b), s in w.batteries.items()},
        "links": {lid: [r6(s.degraded_until), s.hardened] for lid, s in w.links.items()},
        "tracks": {n: {g: [t.zone, r6(t.detected_t)] for g, t in tr.items()}
                   for n, tr in w.tracks.items()},
        "authority": w.authority, "tempo": w.isr_tempo, "readiness": w.readiness,
        "fired_early": sorted(w.fired_early),
    }
    text = json.dumps(state, sort_keys=True, separators=(",", ":"), default=r6)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def outcome_measures(w: World) -> dict[str, Any]:
    """The run's outcome: the footer of its log and one row of a sweep."""
    tot = w.totals
    delays = tot.get("incursions_detected", 0)
    sent = tot.get("c2_sent", 0)
    return {
        "deterrence_held": w.armed_attack_turn is None,
        "failure_turn": w.armed_attack_turn,
        "article5_turn": w.article5_turn,
        "highest_rung": w.highest,
        "highest_level": w.rules.ladder.level(w.highest),
        "turns_played": w.turn,
        "red_gains": r6(w.red_gains),
        "red_losses": r6(tot.get("red_losses", 0.0)),
        "blue_losses": r6(tot.get("blue_losses", 0.0)),
        "incursions": tot.get("incursions", 0),
        "incursions_detected": delays,
        "mean_time_to_detect_h": r6(tot["detect_delay_h"] / delays) if delays else None,
        "detections": tot.get("detections", 0),
        "c2_messages": sent,
        "c2_mean_latency_h": (r6(tot["c2_latency"] / tot["c2_delivered"])
                              if tot.get("c2_delivered") else None),
        "c2_delivery_rate": r6(tot.get("c2_delivered", 0) / sent) if sent else None,
    }
