"""Joint HQ and C2 links on simpy: routed messages, degradation and recovery, the
space segment, and intelligence sharing between nations. Writes ``World.c2`` only.

A message crosses each link of its route in turn: it waits for link capacity, may be lost
(``adjudication.link_loss_probability``), and otherwise takes a lognormal latency draw scaled by
the command arrangement (a joint force HQ shortens it) and by degradation
(``adjudication.link_latency``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from simpy.events import URGENT, Timeout

from engine.sim import estimates
from engine.sim.adjudication import (
    expected_route_delay,
    link_latency,
    link_loss_probability,
)
from engine.sim.state import LinkState, World, r6
from engine.spec.rules import C2Table, Rules
from engine.spec.scenario import Scenario

Routes = dict[tuple[str, str], tuple[str, ...]]
LOST_MESSAGE_DELAY_TURNS = 1.0  # an estimate counts a lost message as one turn late
NO_ROUTE_DELAY_TURNS = 2.0  # an estimate counts an unreachable node as two turns away


def routes(s: Scenario) -> Routes:
    """Lowest nominal-latency route (as link ids) between every pair of connected nodes."""
    adj: dict[str, list[tuple[str, str, float]]] = {n: [] for n in s.blue.c2.nodes}
    for lid in sorted(s.blue.c2.links):
        link = s.blue.c2.links[lid]
        adj[link.a].append((link.b, lid, link.latency_h))
        adj[link.b].append((link.a, lid, link.latency_h))
    table: Routes = {}
    for src in sorted(adj):
        # Dijkstra; the heap orders ties by node id then path, so routes never depend on luck
        best: dict[str, tuple[str, ...]] = {}
        heap: list[tuple[float, str, tuple[str, ...]]] = [(0.0, src, ())]
        while heap:
            cost, node, path = heapq.heappop(heap)
            if node in best:
                continue
            best[node] = path
            for nxt, lid, lat in adj[node]:
                if nxt not in best:
                    heapq.heappush(heap, (cost + lat, nxt, (*path, lid)))
        for dst, path in best.items():
            table[(src, dst)] = path
    return table


def setup(w: World) -> None:
    """Link state, the route table, and the constants every message reads."""
    game = estimates.shared(w, "c2.constants", lambda: _Constants.of(w.scenario, w.rules))
    for lid, capacity, hardened in game.links:
        w.c2.links[lid] = LinkState(capacity=capacity, hardened=hardened)
    # fixed by the scenario and rules: the game's tables, read and never written
    w.c2.loss = game.loss
    w.c2.routes = game.routes
    w.c2.plan = _Plan(w, game)


@dataclass(frozen=True, slots=True)
class _Constants:
    """What C2 derives from the scenario and rules alone, made once per game (a session's
    setup costs a Dijkstra and a table of hops otherwise): the links' declared state in id
    order, each link's P(loss) up and down and nominal latency, and the route table."""

    links: tuple[tuple[str, int, bool], ...]  # (link, capacity, hardened), in id order
    loss: dict[str, tuple[float, ...]]
    latency: dict[str, float]
    routes: Routes
    factor: float
    sigma: float
    degraded_factor: float
    nation: dict[str, str]

    @staticmethod
    def of(s: Scenario, r: Rules) -> _Constants:
        c2cfg, table = s.blue.c2, r.adjudication.c2
        add = table.degraded_loss_add
        items = sorted(c2cfg.links.items())
        return _Constants(
            links=tuple((lid, link.capacity, link.hardened) for lid, link in items),
            loss={lid: tuple(link_loss_probability(loss_p=link.loss_p, degraded=down,
                                                   degraded_add=add) for down in (False, True))
                  for lid, link in items},
            latency={lid: link.latency_h for lid, link in items},
            routes=routes(s), factor=table.command_latency_factor[c2cfg.command],
            sigma=table.latency_sigma, degraded_factor=table.degraded_latency_factor,
            nation={nid: node.nation for nid, node in c2cfg.nodes.items()})


@dataclass(slots=True)  # never changed, but not frozen: a session makes one per link
class _Hop:
    """One link of a route, with what crossing it reads."""

    lid: str
    state: LinkState
    latency_h: float
    loss: tuple[float, ...]  # P(loss) up, down


_UNBUILT: Any = object()  # a route no message of the session has taken yet


class _Plan:
    """A session's C2 constants, looked up once per session rather than once per message:
    the game's constants, each route as its hops (built when a message first takes it: a
    session uses a few of the routes), and each node's streams (fetched on first use: a
    stream costs microseconds to create)."""

    __slots__ = ("degraded_factor", "factor", "game", "hops", "nation", "routes",
                 "share_streams", "sigma", "streams")

    def __init__(self, w: World, game: _Constants) -> None:
        self.game = game
        self.hops = {lid: _Hop(lid, w.c2.links[lid], game.latency[lid], game.loss[lid])
                     for lid, _, _ in game.links}
        self.routes: dict[tuple[str, str], tuple[_Hop, ...] | None] = {}
        self.factor, self.sigma = game.factor, game.sigma
        self.degraded_factor = game.degraded_factor
        self.nation = game.nation
        self.streams: dict[str, np.random.Generator] = {}  # node -> its messages' stream
        self.share_streams: dict[str, np.random.Generator] = {}  # node -> its sharing draws

    def route(self, src: str, dst: str) -> tuple[_Hop, ...] | None:
        """The hops from src to dst, None when no route joins them."""
        links = self.game.routes.get((src, dst))
        hops = None if links is None else tuple(self.hops[lid] for lid in links)
        self.routes[(src, dst)] = hops
        return hops


def send(w: World, src: str, dst: str, what: str, payload: dict[str, Any],
         on_delivery: Callable[[float], object] | None = None) -> None:
    """Start a message from node src to node dst; on_delivery(latency) runs when it arrives
    (what it returns is ignored)."""
    plan: _Plan = w.c2.plan  # made by setup(w), before any message
    route = plan.routes.get((src, dst), _UNBUILT)
    if route is _UNBUILT:
        route = plan.route(src, dst)
    _Now(w.env, _Message(w, plan, route, src, dst, what, payload, on_delivery).begin)


class _Now(simpy.Event):
    """An event processed at once, before the timeouts due now: where simpy starts a process
    (its urgent Initialize event), so a message starts exactly when a process would."""

    def __init__(self, env: simpy.Environment, callback: Callable[[simpy.Event], None]) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, URGENT)


class _Message:
    """A message on its way. Its steps are callbacks on the simpy events it waits for rather
    than a simpy process: a process per message (its start, generator and end event) cost more
    than the message's own work, and the events it waits for are the same."""

    __slots__ = ("draws", "dst", "hop", "hops", "on_delivery", "payload", "plan", "rng",
                 "routed", "src", "start", "w", "what")

    def __init__(self, w: World, plan: _Plan, route: tuple[_Hop, ...] | None, src: str,
                 dst: str, what: str, payload: dict[str, Any],
                 on_delivery: Callable[[float], object] | None) -> None:
        self.w, self.plan, self.src, self.dst = w, plan, src, dst
        self.what, self.payload, self.on_delivery = what, payload, on_delivery
        self.routed, self.hops = route is not None, route or ()
        self.hop = 0  # the index in hops of the link it is on or waiting for
        self.start = 0.0
        self.draws: list[float] = []  # each hop's latency draw z, for the record

    def begin(self, _: simpy.Event) -> None:
        w = self.w
        self.start = w.now
        w.tally.add("c2_sent")
        if not self.routed:
            w.emit("c2.message.lost", self.src, {
                "what": self.what, "to": self.dst, "link": None, "reason": "no route",
                "p_loss": 1.0, "draw": None})
            return
        rng = self.plan.streams.get(self.src)
        if rng is None:
            rng = self.plan.streams[self.src] = w.rng(f"c2.{self.src}")
        self.rng = rng
        _carry(self)

    def cross(self, _: simpy.Event | None = None) -> None:
        """The message holds a channel of its link: it is lost, or it crosses."""
        w, hop, plan = self.w, self.hops[self.hop], self.plan
        env = w.env
        degraded = hop.state.degraded_until > env.now
        loss = hop.loss[degraded]
        u_loss, z = float(self.rng.random()), float(self.rng.standard_normal())
        self.draws.append(z)
        if u_loss < loss:
            _release(hop.state)
            w.tally.add("c2_lost")
            w.emit("c2.message.lost", self.src, {
                "what": self.what, "to": self.dst, "link": hop.lid, "reason": "lost",
                "p_loss": r6(loss), "draw": r6(u_loss)})
            return
        Timeout(env, link_latency(
            latency_h=hop.latency_h, command_factor=plan.factor, sigma=plan.sigma, z=z,
            degraded_factor=plan.degraded_factor if degraded else 1.0),
        ).callbacks.append(self.crossed)

    def crossed(self, _: simpy.Event) -> None:
        _release(self.hops[self.hop].state)
        self.hop += 1
        _carry(self)

    def deliver(self) -> None:
        w = self.w
        took = w.env.now - self.start
        w.tally.add("c2_delivered")
        w.tally.add("c2_latency", took)
        if w.recording:
            w.emit("c2.message.delivered", self.dst, {
                "what": self.what, "from": self.src, "route": [hop.lid for hop in self.hops],
                "latency_h": r6(took), "latency_z": [r6(z) for z in self.draws],
                **self.payload})
        if self.on_delivery is not None:
            self.on_delivery(took)


def _carry(m: _Message) -> None:
    """The message moves on to the next link of its route, taking a free channel or waiting
    for the message ahead of it to hand its channel over; past the last link it is delivered."""
    if m.hop == len(m.hops):
        m.deliver()
        return
    state = m.hops[m.hop].state
    if state.in_use >= state.capacity:
        turn = simpy.Event(m.w.env)
        state.waiting.append(turn)
        turn.callbacks.append(m.cross)  # the finishing message hands its channel to us
    else:
        state.in_use += 1
        m.cross()


def _release(state: LinkState) -> None:
    if state.waiting:
        state.waiting.popleft().succeed()
    else:
        state.in_use -= 1


def shared(w: World, src: str, dst: str) -> bool:
    """A report crossing between nations is shared with the intelligence-sharing probability."""
    plan: _Plan = w.c2.plan  # made by setup(w), before any message
    if plan.nation[src] == plan.nation[dst]:
        return True
    p = w.scenario.blue.c2.intel_sharing
    rng = plan.share_streams.get(src)
    if rng is None:
        rng = plan.share_streams[src] = w.rng(f"c2.share.{src}")
    u = float(rng.random())
    if u >= p:
        w.emit("c2.share.withheld", src, {"to": dst, "p_share": p, "draw": r6(u)})
        return False
    return True


def degrade(w: World, lid: str, hours: float) -> float:
    """Degrade a link for a time (a cyber or counterspace effect) and schedule its recovery;
    return when it ends. The outage lasts the attack's effect or until the slower end node
    recovers, whichever is sooner; a joint command recovers faster, hardening faster still."""
    state, c2cfg = w.c2.links[lid], w.scenario.blue.c2
    table = w.rules.adjudication.c2
    link = c2cfg.links[lid]
    recovery = max(c2cfg.nodes[link.a].recovery_h, c2cfg.nodes[link.b].recovery_h)
    hours = min(hours, recovery * table.command_latency_factor[c2cfg.command])
    if state.hardened:
        hours *= table.harden_recovery_factor
    until = w.now + hours
    state.degraded_until = max(state.degraded_until, until)
    w.tally.add("link_outages")
    w.emit("c2.link.degraded", lid, {"until_h": r6(until)})
    w.env.process(_recover(w, lid, until))
    return until


def degrade_space(w: World, hours: float) -> None:
    """Space links are lost for ``hours``: ISR sorties may lose their link, and every C2 link
    that goes through space is degraded."""
    until = w.now + hours
    w.c2.space_degraded_until = max(w.c2.space_degraded_until, until)
    w.emit("space.degraded", "space", {"until_h": r6(until)})
    for lid, link in sorted(w.scenario.blue.c2.links.items()):
        if link.via_space:
            degrade(w, lid, hours)


def _recover(w: World, lid: str, until: float) -> Generator[simpy.Event, Any, None]:
    yield w.env.timeout(until - w.now)
    if w.c2.links[lid].degraded_until == until:  # a later attack or hardening superseded it
        w.emit("c2.link.restored", lid, {})


def harden(w: World) -> None:
    """Blue hardens every link: later attacks succeed less, current outages end sooner."""
    factor = w.rules.adjudication.c2.harden_recovery_factor
    for lid in sorted(w.c2.links):
        state = w.c2.links[lid]
        if state.degraded_until > w.now:
            state.degraded_until = w.now + (state.degraded_until - w.now) * factor
            w.env.process(_recover(w, lid, state.degraded_until))
        state.hardened = True
    w.emit("c2.hardened", "alliance", {})


def degraded_links(w: World) -> list[str]:
    """The links degraded now, in id order."""
    now, links = w.env.now, w.c2.links
    return [lid for lid in sorted(links) if links[lid].degraded_until > now]


def expected_delay(s: Scenario, table: C2Table, route_table: Routes, src: str, dst: str,
                   turn_hours: float, degraded: frozenset[str] | set[str] = frozenset()) -> float:
    """Mean hours for a message src -> dst (adjudication.expected_route_delay), counting a lost
    message as one turn late and an unreachable node as two turns away."""
    route = route_table.get((src, dst))
    if route is None:
        return turn_hours * NO_ROUTE_DELAY_TURNS
    links = []
    for lid in route:
        link, down = s.blue.c2.links[lid], lid in degraded
        latency = link.latency_h * (table.degraded_latency_factor if down else 1.0)
        links.append((latency, link_loss_probability(
            loss_p=link.loss_p, degraded=down, degraded_add=table.degraded_loss_add)))
    return expected_route_delay(links=links,
                                command_factor=table.command_latency_factor[s.blue.c2.command],
                                sigma=table.latency_sigma,
                                lost_delay_h=turn_hours * LOST_MESSAGE_DELAY_TURNS)
