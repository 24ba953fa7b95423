"""Regional partners' surveillance (engine/sim/forces/partners.py): searches only where Red is,
its effort spread over the turn, detections passed on with share_p (a recorded draw) and then
ordinary Blue detections; Red's estimate (sim/estimates.py) agrees with the simulation; it
raises detections."""

from __future__ import annotations

import math

import pytest

import engine
from engine.sim import estimates
from engine.sim.forces import partners
from engine.sim.kernel import run
from engine.sim.state import ListSink
from engine.spec.order import Order
from engine.testing import check_twin_runs

GAME = engine.Game.load("alliance-2023")  # australia: 1 h a turn over the objective, share 0.5
ZONE = "disputed_islands"


def _with_partner(s, **changes):
    """``s`` with alliance-2023's Australian partner, changed as given."""
    p = GAME.scenario.blue.partners["australia"].model_copy(update=changes)
    return s.model_copy(update={"blue": s.blue.model_copy(update={"partners": {"australia": p}})})


def _without_partners(s):
    return s.model_copy(update={"blue": s.blue.model_copy(update={"partners": {}})})


def _one_turn(seed: int, scenario=GAME.scenario):
    """A turn of partner search with the coast guard sitting at the objective all along."""
    sink = ListSink()
    w = engine.Game(scenario, GAME.rules).start(seed=seed, sink=sink).w
    g = w.red.groups["coast_guard"]
    g.zone = g.dest = ZONE
    partners.sense(w)
    w.env.run(until=w.hours)
    return w, [r for r in sink if r["unit"] == "australia"]


def _kinds(recs, kind):
    return [r for r in recs if r["kind"] == kind]


def test_no_search_where_no_red_group_is():
    sink = ListSink()
    w = GAME.start(seed=0, sink=sink).w
    partners.sense(w)
    w.env.run(until=w.hours)
    assert not [r for r in sink if r["unit"] == "australia"]


def test_the_search_spreads_its_hours_over_the_turn():
    s = GAME.scenario
    _, recs = _one_turn(0)
    (search,) = _kinds(recs, "isr.search")
    p = s.blue.partners["australia"]
    hazard = p.sweep_width_nm * p.search_kts / s.theater.zones[ZONE].area_nm2
    assert search["data"]["hazard_per_h"] == pytest.approx(hazard * 1 / 24, rel=1e-5)
    assert search["data"]["hours"] == pytest.approx(24.0)
    # the same coverage as one hour of search at once
    assert search["data"]["p_detect"] == pytest.approx(-math.expm1(-hazard), rel=1e-5)


@pytest.mark.parametrize("seed", range(12))
def test_a_detection_reaches_the_alliance_only_when_the_partner_shares_it(seed):
    w, recs = _one_turn(seed)
    found = [r for r in _kinds(recs, "isr.search") if r["data"]["detected"]]
    shares = _kinds(recs, "partner.share")
    assert len(shares) == len(found)
    for share in shares:
        d = share["data"]
        assert d["shared"] == (d["draw"] < d["p_share"] == 0.5)
        assert share["visible_to"] == []  # the umpire's: a withheld report never reaches Blue
    detects = _kinds(recs, "isr.detect")
    assert len(detects) == sum(s["data"]["shared"] for s in shares)
    assert ("coast_guard" in w.isr.tracks["usfj"]) == bool(detects)


def test_share_p_decides_whether_detections_count_for_blue():
    always = _with_partner(GAME.scenario, share_p=1.0, hours_per_turn=6.0)
    never = _with_partner(GAME.scenario, share_p=0.0, hours_per_turn=6.0)
    for seed in range(5):
        w, recs = _one_turn(seed, always)
        assert _kinds(recs, "isr.detect") and w.tally.get("detections") >= 1
        assert "coast_guard" in w.isr.tracks["usfj"]
        w, recs = _one_turn(seed, never)
        assert _kinds(recs, "partner.share") and not _kinds(recs, "isr.detect")


def _partner_p(s, pid: str, zone: str = ZONE) -> float:
    """Red's estimate (sim/estimates.py) that partner ``pid`` finds and passes on a group
    spending the turn in ``zone``."""
    p = s.blue.partners[pid]
    (cov,) = [c for node, c, share in estimates.coverage_by_source(s, GAME.rules, zone)
              if node == p.report_node and share == p.share_p]
    return estimates.seen_probability(cov, GAME.rules) * p.share_p


def test_reds_estimate_agrees_with_the_simulation():
    expected = _partner_p(GAME.scenario, "australia")
    n = 400
    hits = sum(bool(_kinds(_one_turn(seed)[1], "isr.detect")) for seed in range(n))
    sd = math.sqrt(expected * (1 - expected) / n)
    assert 0.1 < expected < 0.9
    assert hits / n == pytest.approx(expected, abs=4 * sd)


def test_more_partner_hours_or_sharing_mean_more_detections():
    counts = {}
    for tag, s in (("base", GAME.scenario),
                   ("hours", _with_partner(GAME.scenario, hours_per_turn=3.0)),
                   ("share", _with_partner(GAME.scenario, share_p=1.0))):
        counts[tag] = sum(bool(_kinds(_one_turn(seed, s)[1], "isr.detect"))
                          for seed in range(150))
    assert counts["hours"] > counts["base"] and counts["share"] > counts["base"]


def _patrol(obs, menu):
    return [Order("patrol")] if any(i.action == "patrol" for i in menu.items) else []


def test_partner_isr_raises_blues_detections_over_seeds():
    """The baseline has no MQ-9s: an Australian partner adds detections of Red's patrols."""
    base = engine.Game.load("baseline-2022")
    helped = _with_partner(base.scenario, hours_per_turn=2.0)
    totals = {"without": 0.0, "with": 0.0, "delay_without": 0.0, "delay_with": 0.0}
    for seed in range(15):
        for tag, s in (("without", base.scenario), ("with", helped)):
            out = run(s, base.rules, seed, controllers={"red": _patrol}).outcome
            totals[tag] += out["detections"]
            totals[f"delay_{tag}"] += out["mean_time_to_detect_h"]  # every patrol is found
    assert totals["with"] > totals["without"] * 1.2
    assert totals["delay_with"] < totals["delay_without"]


def test_runs_with_partners_are_deterministic():
    check_twin_runs(GAME.scenario, GAME.rules, 4)
    assert _without_partners(GAME.scenario).blue.partners == {}
