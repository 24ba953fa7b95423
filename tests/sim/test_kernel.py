"""The kernel: record shape, the turn loop's phases, Article V, authority, purity."""

from __future__ import annotations

import os

import pytest

from engine import load_pair
from engine.sim.controllers import Callback, Order
from engine.sim.kernel import game_of, run
from engine.sim.state import ListSink
from engine.spec.scenario import with_turns

FIELDS = {"seq", "turn", "t", "kind", "side", "unit", "data", "visible_to"}


def play(name: str, seed: int = 0, turns: int | None = None, **controllers):
    s, r = load_pair(name)
    if turns:
        s = with_turns(s, turns)
    sink = ListSink()
    result = run(s, r, seed, controllers or None, sink)
    return result, list(sink)


def red_plays(*actions: str) -> Callback:
    """Red orders the given actions on turns 1, 2, ... then stands down."""
    def decide(obs):
        i = obs.turn - 1
        return [Order(actions[i] if i < len(actions) else "stand_down")]
    return Callback(decide, name="test")


def test_records_have_the_log_fields_and_ordered_seq_and_time():
    result, recs = play("alliance-2024")
    assert recs and all(set(r) == FIELDS for r in recs)
    assert [r["seq"] for r in recs] == list(range(len(recs)))
    times = [r["t"] for r in recs]
    assert times == sorted(times), "records must be emitted in simulated-time order"
    assert all(set(r["visible_to"]) <= {"blue", "red"} for r in recs)
    assert result.records == len(recs)


def test_every_turn_has_orders_from_both_sides_and_a_digest():
    result, recs = play("classroom-tutorial")
    turns = result.outcome["turns_played"]
    for t in range(1, turns + 1):
        sides = {r["side"] for r in recs if r["kind"] == "orders" and r["turn"] == t}
        assert sides == {"blue", "red"}
        ends = [r for r in recs if r["kind"] == "turn.end" and r["turn"] == t]
        assert len(ends) == 1 and len(ends[0]["data"]["digest"]) == 16


def test_orders_are_visible_only_to_their_side():
    _, recs = play("classroom-tutorial")
    for r in recs:
        if r["kind"] in ("orders", "red.decision"):
            assert r["visible_to"] == [r["side"]]


def test_chance_records_show_probability_and_draw():
    _, recs = play("alliance-2024", turns=5)
    searches = [r for r in recs if r["kind"] == "isr.search"]
    assert searches
    for r in searches:
        d = r["data"]
        assert 0 <= d["p_detect"] <= 1 and 0 <= d["draw"] < 1
        assert d["detected"] == (d["draw"] < d["p_detect"])
    decisions = [r for r in recs if r["kind"] == "red.decision"]
    for r in decisions:
        probs = [o["p"] for o in r["data"]["options"].values()]
        assert sum(probs) == pytest.approx(1, abs=1e-5)


def test_armed_attack_on_land_sea_air_invokes_article5_and_ends_two_turns_later():
    result, recs = play("alliance-2024", red=red_plays("seize"))
    o = result.outcome
    assert not o["deterrence_held"] and o["failure_turn"] == 1
    assert o["article5_turn"] == 1
    assert o["turns_played"] == 3  # rules: end.turns_after_armed_attack = 2
    art5 = [r for r in recs if r["kind"] == "alliance.article5"]
    assert art5 and art5[0]["data"]["invoked"] is True


@pytest.mark.parametrize(("scenario", "invoked"), [("baseline-2022", False),
                                                   ("alliance-2023", True)])
def test_an_attack_in_space_triggers_article5_only_where_the_treaty_covers_space(
        scenario, invoked):
    result, recs = play(scenario, red=red_plays("space_attack"))
    art5 = [r for r in recs if r["kind"] == "alliance.article5"]
    assert art5[0]["data"]["invoked"] is invoked
    assert result.outcome["deterrence_held"] is False
    assert (result.outcome["article5_turn"] is not None) is invoked


def test_batteries_fire_only_after_an_armed_attack_with_authority():
    _, quiet = play("alliance-2024", red=red_plays("incursion", "incursion", "incursion"),
                    turns=3)
    assert not [r for r in quiet if r["kind"] == "engagement.salvo"]
    salvos = []
    for seed in range(10):
        _, recs = play("alliance-2024", seed=seed, red=red_plays("patrol", "seize"))
        granted = [r["seq"] for r in recs if r["kind"] in ("c2.authority.granted",
                                                          "alliance.article5")]
        for r in recs:
            if r["kind"] == "engagement.salvo":
                assert granted and min(granted) < r["seq"]
                salvos.append(r)
    assert salvos, "over ten seeds some battery should engage the Red navy"


def test_the_baseline_artillery_regiment_never_fires_at_ships():
    for seed in range(5):
        _, recs = play("baseline-2022", seed=seed, red=red_plays("seize"))
        assert not [r for r in recs if r["kind"] == "engagement.salvo"]


def test_illegal_orders_are_refused_and_recorded():
    def blue(view):
        return [Order("no_such_action"), Order("authorize_engagement"),
                Order("isr_tempo", {"level": "ludicrous"})]
    _, recs = play("classroom-tutorial", turns=1, blue=Callback(blue))
    reasons = [r["data"]["reason"] for r in recs if r["kind"] == "orders.rejected"]
    assert len(reasons) == 3
    assert "not on blue's menu" in reasons[0]
    assert "precondition" in reasons[1]
    assert "ludicrous" in reasons[2]


def test_views_hold_only_own_side_information():
    seen = {}

    def spy(side):
        def decide(view):
            seen.setdefault(side, []).append(view)
            return []
        return decide

    play("classroom-tutorial", turns=2, blue=Callback(spy("blue")), red=Callback(spy("red")))
    blue, red = seen["blue"][-1], seen["red"][-1]
    assert "groups" not in blue.situation and "beliefs" not in blue.situation
    assert "batteries" not in red.situation and "tracks" not in red.situation
    assert blue.estimate is None and red.estimate is not None


def test_run_is_pure_no_files_and_no_shared_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = play("classroom-tutorial", seed=3)
    play("alliance-2023", seed=9)  # anything in between must not leak into the next run
    b = play("classroom-tutorial", seed=3)
    assert a[1] == b[1] and a[0].outcome == b[0].outcome
    assert os.listdir(tmp_path) == []


def test_runs_of_one_pair_share_one_game_and_a_new_pair_gets_its_own():
    s, r = load_pair("classroom-tutorial")
    game = game_of(s, r)
    assert game_of(s, r) is game and game.scenario is s and game.rules is r
    other = with_turns(s, 3)  # an equal-looking but new object is another game
    assert game_of(other, r) is not game and game_of(other, r).scenario is other


def test_a_run_is_the_same_whichever_runs_shared_its_game_before():
    s, r = load_pair("alliance-2024")
    fresh = [play("alliance-2024", seed)[1] for seed in (4, 1)]  # new pairs: cold caches
    for seed in range(3):
        run(s, r, seed, sink=MeasuresOnly())  # warm the pair's game with other seeds
    warm = []
    for seed in (4, 1):
        sink = ListSink()
        run(s, r, seed, sink=sink)
        warm.append(list(sink))
    assert warm == fresh


def test_rejects_a_bad_seed():
    s, r = load_pair("classroom-tutorial")
    for bad in (-1, 1.5, "7", True):
        with pytest.raises(ValueError, match="seed"):
            run(s, r, bad)


class MeasuresOnly:
    wants_records = False
    wants_digest = False

    def emit(self, record):
        raise AssertionError("a measures-only sink must receive no records")

    def end_turn(self, turn):
        return None


@pytest.mark.parametrize("name", ["baseline-2022", "alliance-2023", "alliance-2024"])
def test_a_measures_only_run_reaches_the_same_outcome_as_a_recorded_one(name):
    s, r = load_pair(name)
    for seed in range(15):
        recorded = run(s, r, seed, sink=ListSink())
        bare = run(s, r, seed, sink=MeasuresOnly())
        assert bare.outcome == recorded.outcome
        assert bare.records is None and recorded.records > 0


def test_a_scripted_inject_fired_early_by_the_umpire_does_not_fire_again():
    s, _ = load_pair("alliance-2024")  # scripted: turn 3 joint_exercise, turn 8 cyber_disrupt
    later = s.injects[1]

    def umpire(view):
        return [Order(later.action, {}, later.side, later.note)] if view.turn == 2 else []

    _, recs = play("alliance-2024", turns=10, white=Callback(umpire, name="umpire"))
    fired = [(x["turn"], x["data"].get("live", False)) for x in recs
             if x["kind"] == "umpire.inject" and x["data"]["note"] == later.note]
    assert fired == [(2, True)]


def test_the_rules_detection_law_is_the_one_searches_use():
    from engine.spec.rules import Rules

    s, r = load_pair("classroom-tutorial")
    data = r.model_dump(mode="json")
    data["adjudication"]["detection"]["law"] = "exhaustive"
    exhaustive = Rules.model_validate(data)
    sink = ListSink()
    run(s, exhaustive, 0, sink=sink)
    searches = [x["data"] for x in sink if x["kind"] == "isr.search"]
    assert searches
    for d in searches:
        assert d["p_detect"] == pytest.approx(min(1.0, d["hazard_per_h"] * d["hours"]), abs=2e-6)


def test_outages_end_when_the_slower_node_recovers_under_the_command_arrangement():
    def cyber_every_turn(view):
        return [Order("cyber_disrupt")]

    durations = {}
    for name in ("baseline-2022", "alliance-2024"):
        _, recs = play(name, turns=6, red=Callback(cyber_every_turn))
        s, r = load_pair(name)
        c2cfg = s.blue.c2
        factor = r.adjudication.c2.command_latency_factor[c2cfg.command]
        for x in recs:
            if x["kind"] == "c2.link.degraded":
                link = c2cfg.links[x["unit"]]
                cap = max(c2cfg.nodes[link.a].recovery_h, c2cfg.nodes[link.b].recovery_h)
                assert x["data"]["until_h"] - x["t"] <= cap * factor + 1e-6
                durations.setdefault(name, []).append(x["data"]["until_h"] - x["t"])
    assert max(durations["alliance-2024"]) < max(durations["baseline-2022"])


def _red_reads(blue_orders_turn_2: list[Order], read) -> list[float]:
    """What Red's estimate (``read``) says on turns 1-3 when Blue gives orders on turn 2."""
    seen = []

    def red(obs):
        seen.append(read(obs.estimate))
        return []

    def blue(obs):
        return blue_orders_turn_2 if obs.turn == 2 else []

    play("alliance-2024", turns=3, blue=Callback(blue), red=Callback(red))
    return seen


def test_moves_are_simultaneous_red_does_not_see_blue_orders_of_the_same_turn():
    def resolve(est):
        return est.resolve

    quiet = _red_reads([], resolve)
    signalled = _red_reads([Order("signal_resolve")], resolve)
    # a public statement raises Red's belief in Blue's resolve from turn 3, not on turn 2
    assert signalled[:2] == quiet[:2] and signalled[2] > quiet[2]


def test_red_does_not_see_blue_readiness_it_has_not_observed():
    def losses(est):
        return est.naval_loss_share

    quiet = _red_reads([], losses)
    garrison = _red_reads([Order("littoral_posture", {"readiness": "garrison"})], losses)
    # going to garrison is not a public act: Red's estimate of its losses does not move
    assert garrison == quiet
