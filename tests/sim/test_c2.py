"""Joint HQ and C2 links (engine/sim/forces/c2.py): routes, outages and their recovery,
hardening, the space segment, messages and expected delays."""

from __future__ import annotations

import pytest

import engine
from engine.sim.adjudication import link_latency
from engine.sim.forces import c2
from engine.sim.kernel import run as play
from engine.sim.state import ListSink, r6
from engine.spec.scenario import Scenario, with_values


def _session(name: str = "alliance-2024", scenario: Scenario | None = None):
    game = engine.Game.load(name)
    if scenario is not None:
        game = engine.Game(scenario, game.rules)
    sink = ListSink()
    return game.start(seed=0, sink=sink).w, sink


def _of(sink, kind):
    return [r for r in sink if r["kind"] == kind]


def _latency(s: Scenario, path) -> float:
    return sum(s.blue.c2.links[lid].latency_h for lid in path)


def _all_paths(s: Scenario, src: str, dst: str):
    """Every simple path src -> dst, as link ids (brute force, for small networks)."""
    links = s.blue.c2.links
    out = []

    def walk(node, seen, path):
        if node == dst:
            out.append(tuple(path))
            return
        for lid, link in links.items():
            if node in (link.a, link.b):
                nxt = link.b if node == link.a else link.a
                if nxt not in seen:
                    walk(nxt, seen | {nxt}, [*path, lid])

    walk(src, {src}, [])
    return out


# ---- routes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["baseline-2022", "alliance-2023", "alliance-2024",
                                  "classroom-tutorial"])
def test_every_route_is_a_lowest_latency_path(name):
    s = engine.Game.load(name).scenario
    table = c2.routes(s)
    nodes = sorted(s.blue.c2.nodes)
    for a in nodes:
        assert table[(a, a)] == ()
        for b in nodes:
            if a == b:
                continue
            route = table[(a, b)]
            assert route in _all_paths(s, a, b), f"{a}->{b}: {route} is not a path"
            best = min(_latency(s, p) for p in _all_paths(s, a, b))
            assert _latency(s, route) == pytest.approx(best), f"{a}->{b}"


def test_known_routes_of_the_2024_posture():
    table = c2.routes(engine.Game.load("alliance-2024").scenario)
    assert table[("isr_ops", "mlr_hq")] == ("isr-usfj", "usfj-mlr")
    assert table[("mlr_hq", "indopacom")] == ("usfj-mlr", "usfj-indopacom")
    # a tie (0.75 h direct or 0.25 + 0.5 h via usfj) goes to the lower path of link ids
    assert table[("japan_hq", "mlr_hq")] == ("japan-mlr",)


def test_a_tie_is_broken_the_same_way_whatever_the_order_links_are_declared_in():
    s = engine.Game.load("alliance-2024").scenario
    tied = with_values(s, {"blue.c2.links.isr-japan.latency_h": 0.25})
    # isr_ops -> mlr_hq now ties at 1.0 h: isr-japan + japan-mlr or isr-usfj + usfj-mlr
    data = tied.model_dump(mode="json")
    data["blue"]["c2"]["links"] = dict(reversed(list(data["blue"]["c2"]["links"].items())))
    data["blue"]["c2"]["nodes"] = dict(reversed(list(data["blue"]["c2"]["nodes"].items())))
    reordered = Scenario.model_validate(data)
    assert list(reordered.blue.c2.links) != list(tied.blue.c2.links)
    a, b = c2.routes(tied), c2.routes(reordered)
    assert a == b
    assert a[("isr_ops", "mlr_hq")] == ("isr-japan", "japan-mlr")


def test_setup_copies_link_state_from_the_posture():
    w, _ = _session()
    assert w.c2.links["isr-usfj"].hardened and not w.c2.links["usfj-indopacom"].hardened
    assert w.c2.links["japan-usfj"].capacity == 8
    assert w.c2.routes == c2.routes(w.scenario)
    assert c2.degraded_links(w) == []


# ---- outages ---------------------------------------------------------------------------------

def test_an_outage_lasts_the_attack_or_the_slower_nodes_recovery_whichever_is_sooner():
    w, sink = _session()  # joint_force_hq: recovery x 0.7
    # usfj (8 h) - indopacom (12 h), not hardened: at most 12 * 0.7 = 8.4 h
    assert c2.degrade(w, "usfj-indopacom", 24.0) == pytest.approx(8.4)
    assert c2.degrade(w, "isr-japan", 24.0) == pytest.approx(12 * 0.7 * 0.5)  # hardened
    assert c2.degrade(w, "japan-mlr", 2.0) == pytest.approx(2.0)  # the attack is shorter
    assert [r["data"]["until_h"] for r in _of(sink, "c2.link.degraded")] == pytest.approx(
        [8.4, 4.2, 2.0])
    assert [r["unit"] for r in _of(sink, "c2.link.degraded")] == [
        "usfj-indopacom", "isr-japan", "japan-mlr"]
    assert c2.degraded_links(w) == ["isr-japan", "japan-mlr", "usfj-indopacom"]


def test_a_degraded_link_is_restored_when_its_outage_ends():
    w, sink = _session()
    until = c2.degrade(w, "usfj-indopacom", 5.0)
    w.env.run(until=until - 0.01)
    assert w.link_degraded("usfj-indopacom") and not _of(sink, "c2.link.restored")
    w.env.run(until=until + 0.01)
    [restored] = _of(sink, "c2.link.restored")
    assert restored["unit"] == "usfj-indopacom" and restored["t"] == pytest.approx(until)
    assert not w.link_degraded("usfj-indopacom") and c2.degraded_links(w) == []


def test_a_longer_second_outage_supersedes_the_first_and_is_restored_once():
    w, sink = _session()
    c2.degrade(w, "usfj-indopacom", 2.0)
    w.env.run(until=1.0)
    until = c2.degrade(w, "usfj-indopacom", 5.0)
    assert until == pytest.approx(6.0)
    w.env.run(until=3.0)
    assert w.link_degraded("usfj-indopacom"), "the first outage's end does not restore it"
    w.env.run(until=10.0)
    assert [r["t"] for r in _of(sink, "c2.link.restored")] == pytest.approx([6.0])


def test_a_shorter_second_outage_does_not_cut_the_first_short():
    w, _ = _session()
    first = c2.degrade(w, "usfj-indopacom", 6.0)
    c2.degrade(w, "usfj-indopacom", 1.0)
    assert w.c2.links["usfj-indopacom"].degraded_until == pytest.approx(first)


def test_hardening_halves_the_rest_of_an_outage_and_later_ones():
    w, sink = _session()
    until = c2.degrade(w, "usfj-indopacom", 24.0)  # 8.4 h
    w.env.run(until=2.0)
    c2.harden(w)
    assert all(state.hardened for state in w.c2.links.values())
    assert _of(sink, "c2.hardened")[0]["unit"] == "alliance"
    sooner = 2.0 + (until - 2.0) * 0.5
    assert w.c2.links["usfj-indopacom"].degraded_until == pytest.approx(sooner)
    w.env.run(until=until + 1)
    assert [r["t"] for r in _of(sink, "c2.link.restored")] == pytest.approx([sooner])
    assert c2.degrade(w, "usfj-indopacom", 24.0) - w.now == pytest.approx(8.4 * 0.5)


def test_losing_space_degrades_only_the_links_through_space():
    w, sink = _session()
    c2.degrade_space(w, 3.0)
    assert w.c2.space_degraded_until == pytest.approx(3.0)
    [space] = _of(sink, "space.degraded")
    assert space["unit"] == "space" and space["data"] == {"until_h": 3.0}
    via = sorted(lid for lid, link in w.scenario.blue.c2.links.items() if link.via_space)
    assert via == ["japan-mlr", "usfj-indopacom"]
    assert c2.degraded_links(w) == via


# ---- messages --------------------------------------------------------------------------------

def test_a_message_without_a_route_is_lost_at_once():
    w, sink = _session()
    c2.send(w, "usfj", "nowhere", "track", {"group": "navy"})
    w.env.run(until=0.5)
    [lost] = _of(sink, "c2.message.lost")
    assert lost["data"] == {"what": "track", "to": "nowhere", "link": None,
                            "reason": "no route", "p_loss": 1.0, "draw": None}
    assert w.tally.get("c2_sent") == 1 and w.tally.get("c2_delivered") == 0


def test_a_delivered_message_crosses_its_route_and_calls_back_with_its_latency():
    w, sink = _session()
    got = []
    c2.send(w, "isr_ops", "mlr_hq", "track", {"group": "navy"}, got.append)
    w.env.run(until=48.0)
    [rec] = _of(sink, "c2.message.delivered")  # seed 0: not lost
    assert rec["data"]["route"] == ["isr-usfj", "usfj-mlr"] and rec["data"]["group"] == "navy"
    assert got == [pytest.approx(rec["data"]["latency_h"], abs=1e-6)]
    assert rec["t"] == pytest.approx(rec["data"]["latency_h"], abs=1e-6)


def test_a_message_lost_on_a_link_records_the_draw_that_lost_it():
    s = with_values(engine.Game.load("alliance-2024").scenario,
                    {"blue.c2.links.isr-usfj.loss_p": 1.0})
    w, sink = _session(scenario=s)
    got = []
    c2.send(w, "isr_ops", "mlr_hq", "track", {"group": "navy"}, got.append)
    w.env.run(until=48.0)
    [lost] = _of(sink, "c2.message.lost")
    assert lost["data"]["link"] == "isr-usfj" and lost["data"]["reason"] == "lost"
    assert lost["data"]["draw"] < lost["data"]["p_loss"] == 1.0
    assert got == [] and not _of(sink, "c2.message.delivered")
    assert w.c2.links["isr-usfj"].in_use == 0, "a lost message frees its channel"


def test_a_full_link_makes_a_message_wait_for_a_channel():
    s = with_values(engine.Game.load("alliance-2024").scenario,
                    {"blue.c2.links.usfj-mlr.capacity": 1,
                     "blue.c2.links.usfj-mlr.loss_p": 0.0})
    w, sink = _session(scenario=s)
    times = []
    for _ in range(3):
        c2.send(w, "usfj", "mlr_hq", "ping", {}, times.append)
    w.env.run(until=48.0)
    assert len(times) == 3
    arrivals = sorted(r["t"] for r in _of(sink, "c2.message.delivered"))
    # one channel: each message leaves only when the one before it has arrived
    assert times == sorted(times) and times[0] < times[1] < times[2]
    assert arrivals == pytest.approx(times, abs=1e-5)
    assert w.c2.links["usfj-mlr"].in_use == 0 and not w.c2.links["usfj-mlr"].waiting


def test_a_message_to_its_own_node_arrives_at_once():
    w, sink = _session()
    got = []
    c2.send(w, "usfj", "usfj", "ping", {}, got.append)
    w.env.run(until=0.5)
    [rec] = _of(sink, "c2.message.delivered")
    assert got == [0.0] and rec["data"]["route"] == [] and rec["t"] == 0.0


def _process_send(w, src, dst, what, payload, on_delivery=None):
    """The reference: each message a simpy process, as c2 carried messages before its
    callbacks (the same events, draws and records, at the same times and in the same order)."""
    w.env.process(_process_carry(w, w.c2.routes.get((src, dst)), src, dst, what, payload,
                                 on_delivery))


def _process_carry(w, route, src, dst, what, payload, on_delivery):
    start = w.now
    w.tally.add("c2_sent")
    if route is None:
        w.emit("c2.message.lost", src, {"what": what, "to": dst, "link": None,
                                        "reason": "no route", "p_loss": 1.0, "draw": None})
        return
    c2cfg, table = w.scenario.blue.c2, w.rules.adjudication.c2
    factor = table.command_latency_factor[c2cfg.command]
    rng, env, draws = w.rng(f"c2.{src}"), w.env, []
    for lid in route:
        link, state = c2cfg.links[lid], w.c2.links[lid]
        if state.in_use >= state.capacity:
            turn = env.event()
            state.waiting.append(turn)
            yield turn
        else:
            state.in_use += 1
        degraded = state.degraded_until > env.now
        loss = w.c2.loss[lid][degraded]
        u_loss, z = float(rng.random()), float(rng.standard_normal())
        draws.append(z)
        if u_loss < loss:
            c2._release(state)
            w.tally.add("c2_lost")
            w.emit("c2.message.lost", src, {"what": what, "to": dst, "link": lid,
                                            "reason": "lost", "p_loss": r6(loss),
                                            "draw": r6(u_loss)})
            return
        yield env.timeout(link_latency(
            latency_h=link.latency_h, command_factor=factor, sigma=table.latency_sigma, z=z,
            degraded_factor=table.degraded_latency_factor if degraded else 1.0))
        c2._release(state)
    took = env.now - start
    w.tally.add("c2_delivered")
    w.tally.add("c2_latency", took)
    w.emit("c2.message.delivered", dst, {
        "what": what, "from": src, "route": list(route), "latency_h": r6(took),
        "latency_z": [r6(z) for z in draws], **payload})
    if on_delivery is not None:
        on_delivery(took)


@pytest.mark.parametrize(("name", "seed"), [("alliance-2024", 0), ("alliance-2024", 3),
                                            ("baseline-2022", 1), ("alliance-2023", 2)])
def test_messages_as_callbacks_play_exactly_as_messages_as_processes(name, seed, monkeypatch):
    game = engine.Game.load(name)
    fast = ListSink()
    fast_outcome = play(game.scenario, game.rules, seed, sink=fast).outcome
    monkeypatch.setattr(c2, "send", _process_send)
    slow = ListSink()
    slow_outcome = play(game.scenario, game.rules, seed, sink=slow).outcome
    assert any(r["kind"] == "c2.message.delivered" for r in fast)
    assert list(fast) == list(slow) and fast_outcome == slow_outcome


def test_reports_between_nations_are_shared_with_the_posture_probability():
    w, sink = _session()
    assert c2.shared(w, "usfj", "mlr_hq"), "one nation: always shared"
    outcomes = [c2.shared(w, "japan_hq", "usfj") for _ in range(400)]
    share = sum(outcomes) / len(outcomes)
    assert share == pytest.approx(w.scenario.blue.c2.intel_sharing, abs=0.05)
    withheld = _of(sink, "c2.share.withheld")
    assert len(withheld) == outcomes.count(False)
    assert all(r["data"]["draw"] >= r["data"]["p_share"] for r in withheld)


# ---- expected delay --------------------------------------------------------------------------

def test_an_unreachable_node_is_two_turns_away():
    w, _ = _session()
    table = w.rules.adjudication.c2
    assert c2.expected_delay(w.scenario, table, {}, "usfj", "mlr_hq", 24.0) == 48.0
    assert c2.expected_delay(w.scenario, table, {}, "usfj", "mlr_hq", 6.0) == 12.0
    assert c2.NO_ROUTE_DELAY_TURNS == 2.0


def test_expected_delay_sums_lognormal_means_and_counts_a_lost_message_a_turn_late():
    w, _ = _session()
    s, table = w.scenario, w.rules.adjudication.c2
    got = c2.expected_delay(s, table, w.c2.routes, "isr_ops", "mlr_hq", 24.0)
    mean = 2.718281828 ** (table.latency_sigma ** 2 / 2)
    hours = (0.5 + 0.5) * 0.7 * mean
    through = (1 - 0.02) * (1 - 0.03)
    assert got == pytest.approx(hours + (1 - through) * 24.0, rel=1e-6)
    assert c2.expected_delay(s, table, w.c2.routes, "usfj", "usfj", 24.0) == 0.0


def test_a_degraded_link_on_the_route_lengthens_the_expected_delay():
    w, _ = _session()
    s, table = w.scenario, w.rules.adjudication.c2
    clear = c2.expected_delay(s, table, w.c2.routes, "isr_ops", "mlr_hq", 24.0)
    down = c2.expected_delay(s, table, w.c2.routes, "isr_ops", "mlr_hq", 24.0, {"usfj-mlr"})
    off_route = c2.expected_delay(s, table, w.c2.routes, "isr_ops", "mlr_hq", 24.0,
                                  {"japan-mlr"})
    assert down > clear and off_route == clear
