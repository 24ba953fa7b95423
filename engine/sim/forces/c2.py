"""Joint HQ and C2 links as simpy processes: routed messages, degradation and recovery.

A message crosses each link of its route in turn: it waits for link capacity (a simpy Resource),
may be lost (the link's loss probability, raised while degraded), and otherwise takes a lognormal
latency draw scaled by the command arrangement (a joint force HQ shortens it) and by degradation.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Generator
from typing import Any

from engine.sim.state import BLUE, LinkState, World, r6
from engine.spec.scenario import Scenario


def routes(s: Scenario) -> dict[tuple[str, str], tuple[str, ...]]:
    """Lowest nominal-latency route (as link ids) between every pair of connected nodes."""
    adj: dict[str, list[tuple[str, str, float]]] = {n: [] for n in s.blue.c2.nodes}
    for lid in sorted(s.blue.c2.links):
        link = s.blue.c2.links[lid]
        adj[link.a].append((link.b, lid, link.latency_h))
        adj[link.b].append((link.a, lid, link.latency_h))
    table: dict[tuple[str, str], tuple[str, ...]] = {}
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
    """Create link state and capacity resources."""
    for lid, link in sorted(w.scenario.blue.c2.links.items()):
        w.links[lid] = LinkState(capacity=link.capacity, hardened=link.hardened)
    for node in w.scenario.blue.c2.nodes:
        w.tracks[node] = {}


def send(w: World, src: str, dst: str, what: str, payload: dict[str, Any],
         on_delivery: Callable[[float], None] | None = None) -> None:
    """Start a message from node src to node dst; on_delivery(latency) runs when it arrives."""
    w.env.process(_carry(w, w.routes.get((src, dst)), src, dst, what, payload, on_delivery))


def _carry(w: World, route: tuple[str, ...] | None, src: str, dst: str, what: str,
           payload: dict, on_delivery: Callable[[float], None] | None) -> Generator:
    start = w.now
    w.note("c2_sent")
    if route is None:
        w.emit("c2.message.lost", "blue", src, {"what": what, "to": dst, "reason": "no route"},
               BLUE)
        return
    c2, table = w.scenario.blue.c2, w.rules.adjudication.c2
    factor = table.command_latency_factor[c2.command]
    rng = w.rng(f"c2.{src}")
    env = w.env
    for lid in route:
        link, state = c2.links[lid], w.links[lid]
        if state.in_use >= state.capacity:
            turn = env.event()
            state.waiting.append(turn)
            yield turn  # the finishing message hands its channel straight to us
        else:
            state.in_use += 1
        degraded = state.degraded_until > env.now
        loss = min(1.0, link.loss_p + (table.degraded_loss_add if degraded else 0.0))
        u_loss, z = rng.random(), rng.standard_normal()
        if u_loss < loss:
            _release(state)
            w.note("c2_lost")
            w.emit("c2.message.lost", "blue", src, {
                "what": what, "to": dst, "link": lid, "degraded": degraded,
                "p_loss": r6(loss), "draw": r6(u_loss)}, BLUE)
            return
        latency = link.latency_h * factor * math.exp(table.latency_sigma * z)
        if degraded:
            latency *= table.degraded_latency_factor
        yield env.timeout(latency)
        _release(state)
    took = env.now - start
    w.note("c2_delivered")
    w.note("c2_latency", took)
    if w.recording:
        w.emit("c2.message.delivered", "blue", dst, {
            "what": what, "from": src, "route": list(route), "latency_h": r6(took), **payload},
            BLUE)
    if on_delivery is not None:
        on_delivery(took)


def _release(state: LinkState) -> None:
    if state.waiting:
        state.waiting.popleft().succeed()
    else:
        state.in_use -= 1


def degrade(w: World, lid: str, hours: float, cause: str) -> None:
    """Degrade a link for a time (a cyber or counterspace effect) and schedule its recovery.
    The outage lasts the attack's effect or until the slower end node recovers, whichever is
    sooner; a joint command recovers faster (command factor), hardening faster still."""
    state, c2cfg = w.links[lid], w.scenario.blue.c2
    table = w.rules.adjudication.c2
    link = c2cfg.links[lid]
    recovery = max(c2cfg.nodes[link.a].recovery_h, c2cfg.nodes[link.b].recovery_h)
    hours = min(hours, recovery * table.command_latency_factor[c2cfg.command])
    if state.hardened:
        hours *= table.harden_recovery_factor
    until = w.now + hours
    state.degraded_until = max(state.degraded_until, until)
    w.emit("c2.link.degraded", "blue", lid, {"cause": cause, "until_h": r6(until)}, BLUE)
    w.env.process(_recover(w, lid, until))


def _recover(w: World, lid: str, until: float) -> Generator:
    yield w.env.timeout(until - w.now)
    if w.links[lid].degraded_until == until:  # a later attack or hardening superseded this one
        w.emit("c2.link.restored", "blue", lid, {}, BLUE)


def harden(w: World) -> None:
    """Blue hardens every link: later attacks succeed less, current outages end sooner."""
    factor = w.rules.adjudication.c2.harden_recovery_factor
    for lid in sorted(w.links):
        state = w.links[lid]
        if state.degraded_until > w.now:
            state.degraded_until = w.now + (state.degraded_until - w.now) * factor
            w.env.process(_recover(w, lid, state.degraded_until))
        state.hardened = True


def degraded_count(w: World) -> int:
    return sum(1 for lid in w.links if w.link_degraded(lid))


def expected_delay(s: Scenario, table: Any, route_table: dict, src: str, dst: str,
                   turn_hours: float, degraded: frozenset[str] | set[str] = frozenset()) -> float:
    """Mean hours for a message src -> dst, counting a lost message as one turn's delay."""
    route = route_table.get((src, dst))
    if route is None:
        return turn_hours * 2
    factor = table.command_latency_factor[s.blue.c2.command]
    mean_lognormal = math.exp(table.latency_sigma**2 / 2)
    hours, p_through = 0.0, 1.0
    for lid in route:
        link, down = s.blue.c2.links[lid], lid in degraded
        hours += link.latency_h * factor * mean_lognormal * (
            table.degraded_latency_factor if down else 1.0)
        p_through *= 1 - min(1.0, link.loss_p + (table.degraded_loss_add if down else 0.0))
    return hours + (1 - p_through) * turn_hours
