"""Joint HQ and C2 links as simpy processes: routed messages, degradation and recovery, the
space segment, and intelligence sharing between nations. Writes ``World.c2`` only.

A message crosses each link of its route in turn: it waits for link capacity, may be lost
(``adjudication.link_loss_probability``), and otherwise takes a lognormal latency draw scaled by
the command arrangement (a joint force HQ shortens it) and by degradation
(``adjudication.link_latency``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from typing import Any

import simpy

from engine.sim.adjudication import (
    expected_route_delay,
    link_latency,
    link_loss_probability,
)
from engine.sim.state import LinkState, World, r6
from engine.spec.rules import C2Table
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
    """Link state and the route table."""
    add = w.rules.adjudication.c2.degraded_loss_add
    for lid, link in sorted(w.scenario.blue.c2.links.items()):
        w.c2.links[lid] = LinkState(capacity=link.capacity, hardened=link.hardened)
        w.c2.loss[lid] = tuple(link_loss_probability(loss_p=link.loss_p, degraded=down,
                                                     degraded_add=add) for down in (False, True))
    w.c2.routes = routes(w.scenario)


def send(w: World, src: str, dst: str, what: str, payload: dict[str, Any],
         on_delivery: Callable[[float], object] | None = None) -> None:
    """Start a message from node src to node dst; on_delivery(latency) runs when it arrives
    (what it returns is ignored)."""
    w.env.process(_carry(w, w.c2.routes.get((src, dst)), src, dst, what, payload, on_delivery))


def _carry(w: World, route: tuple[str, ...] | None, src: str, dst: str, what: str,
           payload: dict[str, Any], on_delivery: Callable[[float], object] | None,
           ) -> Generator[simpy.Event, Any, None]:
    start = w.now
    w.tally.add("c2_sent")
    if route is None:
        w.emit("c2.message.lost", src, {"what": what, "to": dst, "link": None,
                                        "reason": "no route", "p_loss": 1.0, "draw": None})
        return
    c2cfg, table = w.scenario.blue.c2, w.rules.adjudication.c2
    factor = table.command_latency_factor[c2cfg.command]
    rng = w.rng(f"c2.{src}")
    env = w.env
    draws: list[float] = []  # each hop's latency draw z, for the record
    for lid in route:
        link, state = c2cfg.links[lid], w.c2.links[lid]
        if state.in_use >= state.capacity:
            turn = env.event()
            state.waiting.append(turn)
            yield turn  # the finishing message hands its channel straight to us
        else:
            state.in_use += 1
        degraded = state.degraded_until > env.now
        loss = w.c2.loss[lid][degraded]
        u_loss, z = float(rng.random()), float(rng.standard_normal())
        draws.append(z)
        if u_loss < loss:
            _release(state)
            w.tally.add("c2_lost")
            w.emit("c2.message.lost", src, {
                "what": what, "to": dst, "link": lid, "reason": "lost",
                "p_loss": r6(loss), "draw": r6(u_loss)})
            return
        yield env.timeout(link_latency(
            latency_h=link.latency_h, command_factor=factor, sigma=table.latency_sigma, z=z,
            degraded_factor=table.degraded_latency_factor if degraded else 1.0))
        _release(state)
    took = env.now - start
    w.tally.add("c2_delivered")
    w.tally.add("c2_latency", took)
    if w.recording:
        w.emit("c2.message.delivered", dst, {
            "what": what, "from": src, "route": list(route), "latency_h": r6(took),
            "latency_z": [r6(z) for z in draws], **payload})
    if on_delivery is not None:
        on_delivery(took)


def _release(state: LinkState) -> None:
    if state.waiting:
        state.waiting.popleft().succeed()
    else:
        state.in_use -= 1


def shared(w: World, src: str, dst: str) -> bool:
    """A report crossing between nations is shared with the intelligence-sharing probability."""
    nodes = w.scenario.blue.c2.nodes
    if nodes[src].nation == nodes[dst].nation:
        return True
    p = w.scenario.blue.c2.intel_sharing
    u = float(w.rng(f"c2.share.{src}").random())
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
    return [lid for lid in sorted(w.c2.links) if w.link_degraded(lid)]


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
