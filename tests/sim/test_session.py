"""The stepwise session: the documented loop, menus, refusals, the umpire's view, rebuilding
from a log prefix, and agreement with engine.run."""

from __future__ import annotations

import json

import pytest

import engine
from engine.sim import effects, escalation
from engine.sim.controllers import BlueDoctrine, Menu, RedQuantal, as_decision
from engine.sim.session import Game, OrderRefused, _unable
from engine.sim.state import ListSink
from engine.testing import records_of


def _doctrine_loop(game: Game, seed: int) -> tuple[dict, list[dict]]:
    """Play a game through the public session loop with the doctrine controllers."""
    sink = ListSink()
    s = game.start(seed=seed, sink=sink)
    players = {"blue": BlueDoctrine(game.rules), "red": RedQuantal(game.rules)}
    while not s.over:
        for side in ("blue", "red"):
            made = as_decision(players[side](s.observation(side), s.legal_orders(side)))
            s.submit(side, made, strict=False, controller="doctrine")
        s.step()
    return s.outcome, list(sink)


@pytest.mark.parametrize("name", ["baseline-2022", "alliance-2023", "alliance-2024",
                                  "classroom-tutorial"])
def test_the_session_loop_plays_every_builtin_as_engine_run_does(name):
    game = engine.Game.load(name)
    outcome, records = _doctrine_loop(game, 3)
    assert outcome == engine.run(game.scenario, game.rules, 3).outcome
    assert records == records_of(game.scenario, game.rules, 3)


def test_a_tutorial_game_with_python_policies_logs_and_verifies(tmp_path):
    game = engine.Game.load("classroom-tutorial")

    def blue_policy(obs, menu):
        surge = obs.facts["incursions_seen"] > 0
        return [engine.Order("isr_tempo", {"level": "surge" if surge else "normal"})]

    def red_policy(obs, menu):
        pick = "incursion" if obs.turn % 2 and "incursion" in menu else "stand_down"
        return [engine.Order(pick)]

    path = tmp_path / "policies.jsonl"
    result, _ = engine.run_logged(game.scenario, game.rules, 5, path,
                                  {"blue": blue_policy, "red": red_policy})
    assert result.outcome["turns_played"] == game.scenario.turns.count
    verdict = engine.verify(path)
    assert verdict.ok, verdict
    header = json.loads(path.read_text().splitlines()[0])
    assert header["controllers"] == {"blue": "blue_policy", "red": "red_policy"}


def test_a_tutorial_stepped_through_the_session_api_logs_and_verifies(tmp_path):
    game = engine.Game.load("classroom-tutorial")
    path = tmp_path / "stepped.jsonl"
    s = game.start_logged(11, path, {"blue": "class-blue", "red": "class-red"})
    while not s.over:
        blue, red = s.observation("blue"), s.observation("red")
        level = "surge" if blue.facts["incursions_seen"] > 0 else "normal"
        s.submit("blue", [engine.Order("isr_tempo", {"level": level})], controller="class-blue",
                 rationale=f"turn {s.turn}: {level} while we watch the islands")
        menu = s.legal_orders("red")
        pick = "incursion" if red.estimate.resolve < 0.6 and "incursion" in menu else "patrol"
        s.submit("red", [engine.Order(pick)], controller="class-red")
        s.step()
    assert s.final_hash is not None and s.outcome["turns_played"] == s.turn
    verdict = engine.verify(path)
    assert verdict.ok, verdict
    lines = path.read_text().splitlines()
    assert json.loads(lines[-1])["outcome"] == s.outcome
    reasons = [json.loads(x)["data"].get("rationale") for x in lines[1:-1]
               if '"kind":"orders"' in x and '"side":"blue"' in x]
    assert reasons and all(r.startswith("turn ") for r in reasons)  # kept, and re-verified


def test_observations_are_json_and_the_umpire_sees_the_truth():
    s = engine.Game.load("alliance-2024").start(seed=1)
    for side in ("blue", "red", "white"):
        text = json.dumps(s.observation(side).to_json())
        assert json.loads(text)["side"] == side
    white = s.observation("white").to_json()["situation"]
    assert set(white) == {"blue", "red", "truth"}
    assert "truth" not in s.observation("blue").to_json()["situation"]
    assert s.observation("red").to_json()["estimate"]["resolve"] > 0


def test_an_illegal_order_is_refused_with_a_reason_and_nothing_is_taken():
    s = engine.Game.load("alliance-2024").start(seed=1)
    with pytest.raises(OrderRefused) as caught:
        s.submit("blue", [engine.Order("isr_tempo", {"level": "surge"}),
                          engine.Order("isr_tempo", {"level": "frantic"}),
                          engine.Order("authorize_engagement")])
    reasons = caught.value.reasons
    assert any("frantic" in r for r in reasons)
    assert any("precondition 'rung >= gray_zone_coercion'" in r for r in reasons)
    assert not s.submitted("blue")
    with pytest.raises(OrderRefused, match="not on red's menu"):
        s.submit("red", [engine.Order("isr_tempo")])


def test_reds_menu_offers_only_what_its_forces_can_do():
    tutorial = engine.Game.load("classroom-tutorial")  # no counterspace unit
    menu = tutorial.start(seed=0).legal_orders("red")
    space = [a for a, act in tutorial.rules.actions.red.items()
             if act.effect == "counterspace_attack"]
    assert space and not set(space) & set(menu.actions)
    assert all("no counterspace unit" in menu.refused[a] for a in space)
    full = engine.Game.load("alliance-2024").start(seed=0).legal_orders("red")
    assert set(space) <= set(full.actions)


def test_blues_menu_offers_no_order_that_would_do_nothing():
    base = engine.Game.load("baseline-2022").start(seed=0).legal_orders("blue")
    assert "joint_exercise" not in base and "exercises" in base.refused["joint_exercise"]
    game = engine.Game.load("alliance-2024")
    hardened = game.scenario.model_copy(update={"blue": game.scenario.blue.model_copy(
        update={"c2": game.scenario.blue.c2.model_copy(update={"links": {
            lid: link.model_copy(update={"hardened": True})
            for lid, link in game.scenario.blue.c2.links.items()}})})})
    menu = engine.Game(hardened, game.rules).start(seed=0).legal_orders("blue")
    assert "harden_c2" not in menu and "already hardened" in menu.refused["harden_c2"]
    assert "harden_c2" in game.start(seed=0).legal_orders("blue")


def test_blues_doctrine_consults_the_allies_before_seeking_authority():
    game = engine.Game.load("alliance-2023")
    orders = {rule.do for rule in game.rules.doctrine["blue"]}
    assert "consult" in orders
    seen = 0
    for seed in range(10):
        s = game.start(seed=seed)
        players = {"blue": BlueDoctrine(game.rules), "red": RedQuantal(game.rules)}
        consulted = requested = None
        while not s.over and requested is None:
            made = as_decision(players["blue"](s.observation("blue"), s.legal_orders("blue")))
            actions = {o.action for o in made.orders}
            if "consult" in actions and consulted is None:
                consulted = s.turn
            if "authorize_engagement" in actions:
                requested = s.turn
            s.submit("blue", made, strict=False)
            s.submit("red", as_decision(players["red"](s.observation("red"),
                                                       s.legal_orders("red"))), strict=False)
            s.step()
        if requested is not None:
            seen += 1
            assert consulted is not None and consulted <= requested, seed
    assert seen >= 3, "authority is sought in most games"


def test_the_menu_draw_is_fixed_for_the_turn_and_params_list_choices():
    s = engine.Game.load("alliance-2024").start(seed=4)
    a, b = s.legal_orders("red"), s.legal_orders("red")
    assert a.draw == b.draw and 0 <= a.draw < 1
    tempo = next(i for i in s.legal_orders("blue").items if i.action == "isr_tempo")
    assert tempo.params["level"] == ("low", "normal", "surge")


def _menu_afresh(s, side: str) -> Menu:
    """A side's menu made the plain way: every entry's refusal checked in menu order."""
    items, refused = [], {}
    for item, action, live, conditions in s.game.menu_checks[side]:
        why = s._fixed[side].get(item.action)
        if why is None and live:
            why = _unable(s.w, side, action.effect) or next(
                (f"precondition '{c.text}' does not hold" for c in conditions
                 if not c.holds(s._facts[side])), None)
        if why:
            refused[item.action] = why
        else:
            items.append(item)
    return Menu(side, s.turn, tuple(items), s._draws[side], refused)


@pytest.mark.parametrize("name", ["alliance-2023", "classroom-tutorial"])
def test_menus_made_from_kept_item_sets_equal_menus_made_afresh(name):
    game = engine.Game.load(name)
    players = {"blue": BlueDoctrine(game.rules), "red": RedQuantal(game.rules)}
    for seed in range(4):
        s = game.start(seed=seed)
        while not s.over:
            for side in ("blue", "red"):
                menu, fresh = s.legal_orders(side), _menu_afresh(s, side)
                assert menu == fresh and menu.actions == fresh.actions
                assert list(menu.refused.items()) == list(fresh.refused.items())
                assert all(a in menu for a in fresh.actions)
                s.submit(side, as_decision(players[side](s.observation(side), menu)),
                         strict=False)
            s.step()


def test_the_games_issue_plans_and_injects_agree_with_the_rules_and_scenario():
    game = engine.Game.load("alliance-2024")
    w = game.start(seed=0).w
    for side in ("blue", "red"):
        for aid, plan in game.issue_plans[side].items():
            assert plan.action is game.action_defaults[side][aid][0]
            assert plan.effect is effects.EFFECTS[plan.action.effect]
            assert plan.armed == (side == "red" and escalation.is_armed_attack(w, plan.action))
    listed = sorted((turn, i) for turn, injects in game.injects_by_turn.items()
                    for i, _, _ in injects)
    assert listed == sorted((inj.turn, i) for i, inj in enumerate(game.scenario.injects))
    assert listed, "the scenario scripts injects"


def test_a_session_rebuilt_from_a_log_prefix_continues_identically():
    game = engine.Game.load("alliance-2023")
    full = ListSink()
    s = game.start(seed=13, sink=full)
    orders: dict[int, dict] = {}
    players = {"blue": BlueDoctrine(game.rules), "red": RedQuantal(game.rules)}
    while not s.over:
        for side in ("blue", "red"):
            made = as_decision(players[side](s.observation(side), s.legal_orders(side)))
            orders.setdefault(s.turn, {})[side] = made.orders
            s.submit(side, made, strict=False)
        s.step()
    rebuilt = game.replay(13, orders, upto=3)
    assert rebuilt.turn == 4
    digests = [r["data"]["digest"] for r in full if r["kind"] == "turn.end"]
    mine = [r["data"]["digest"] for r in rebuilt.sink if r["kind"] == "turn.end"]  # type: ignore[attr-defined]
    assert mine == digests[:3]
    while not rebuilt.over:
        for side in ("blue", "red"):
            rebuilt.submit(side, orders[rebuilt.turn][side], strict=False)
        rebuilt.step()
    assert rebuilt.outcome == s.outcome


def test_a_finished_session_refuses_more_turns():
    s = engine.Game.load("classroom-tutorial").start(seed=0)
    while not s.over:
        s.step()
    with pytest.raises(engine.EngineError, match="over"):
        s.step()


def test_turn_series_rows_agree_with_the_log_and_outcome() -> None:
    """A TurnSeries run gives one row per turn played whose counts add up to the outcome, and
    whose Red choice is the order the full log records, with the probability Red's quantal
    controller gave it in the logged explanation."""
    from engine import load_pair
    from engine.sim.kernel import run
    from engine.sim.state import ListSink, TurnSeries

    s, r = load_pair("alliance-2023")
    for seed in (1, 5, 9):
        series, log = TurnSeries(), ListSink()
        outcome = run(s, r, seed, sink=series).outcome
        assert outcome == run(s, r, seed, sink=log).outcome
        rows = series.rows
        assert [row["turn"] for row in rows] == list(range(1, outcome["turns_played"] + 1))
        assert sum(row["detections"] for row in rows) == outcome["detections"]
        red = {rec["turn"]: rec for rec in log if rec["kind"] == "red.decision"}
        orders = {rec["turn"]: rec["data"]["orders"] for rec in log
                  if rec["kind"] == "orders" and rec["unit"] == "red"}
        ends = {rec["turn"]: rec["data"]["rung"] for rec in log if rec["kind"] == "turn.end"}
        for row in rows:
            t = row["turn"]
            assert row["red_action"] == (orders[t][0]["action"] if orders[t] else "")
            assert row["red_action_p"] == pytest.approx(
                red[t]["data"]["options"][row["red_action"]]["p"], abs=1e-6)
            assert row["rung"] == ends[t]
            assert 0.0 <= row["c2_available"] <= 1.0
