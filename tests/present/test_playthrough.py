"""The readable golden playthroughs (tests/golden/*.txt) and the formatter that writes them."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest

from engine.present.playthrough import golden_text_path, main, playthrough, playthrough_of
from engine.testing import golden_cases

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.mark.parametrize(("name", "seed"), golden_cases())
def test_golden_playthrough_matches_a_fresh_run(name: str, seed: int) -> None:
    path = golden_text_path(GOLDEN, name, seed)
    assert path.exists(), f"{path} is missing: run `make golden` and review the diff"
    committed, fresh = path.read_text(encoding="utf-8"), playthrough_of(name, seed)
    if fresh != committed:
        diff = "".join(difflib.unified_diff(
            committed.splitlines(keepends=True), fresh.splitlines(keepends=True),
            fromfile=str(path), tofile=f"fresh run of {name} seed {seed}"))
        pytest.fail(f"the playthrough of {name} seed {seed} changed; run `make golden` and "
                    f"review the diff:\n{diff}", pytrace=False)


def test_golden_playthroughs_stay_a_few_kilobytes() -> None:
    for name, seed in golden_cases():
        size = golden_text_path(GOLDEN, name, seed).stat().st_size
        assert 1_000 < size < 20_000, f"{name} seed {seed}: {size} bytes"


# ---- the formatter on small hand-made games ----------------------------------------------

def rec(kind: str, turn: int = 1, t: float = 0.0, side: str = "blue", unit: str = "",
        **data: Any) -> dict[str, Any]:
    return {"seq": 0, "turn": turn, "t": t, "kind": kind, "side": side, "unit": unit,
            "data": data, "visible_to": []}


def orders(side: str, *actions: tuple[str, dict[str, Any]], turn: int = 1) -> dict[str, Any]:
    return rec("orders", turn, side=side, unit=side, controller="doctrine",
               orders=[{"action": a, "params": p} for a, p in actions])


def turn_lines(text: str, turn: int) -> list[str]:
    block = text.split(f"== turn {turn} ")[1].split("\n\n")[0]
    return block.splitlines()[1:]


def test_a_detection_shows_the_search_draw_that_decided_it() -> None:
    text = playthrough([
        rec("isr.search", t=4.0, unit="mq9.2", zone="senkaku", group="g_cg1", law="random",
            hazard_per_h=0.1, hours=5.0, p_detect=0.41, draw=0.12, detected=True),
        rec("isr.detect", t=14.0, unit="mq9.2", group="g_cg1", zone="senkaku"),
    ])
    assert "  t=14.0h detect g_cg1 in senkaku by mq9.2 (p=0.41 draw=0.12)" in text.splitlines()


def test_a_draw_voided_by_a_move_is_not_paired_with_a_later_detection() -> None:
    search = {"zone": "senkaku", "group": "g", "law": "random", "hazard_per_h": 0.1,
              "hours": 5.0, "detected": True}
    text = playthrough([
        rec("isr.search", t=1.0, unit="u", p_detect=0.5, draw=0.1, **search),
        rec("red.move", t=2.0, side="red", unit="g", to="home", mission="home", eta_h=9.0,
            **{"from": "senkaku"}),
        rec("red.move", t=3.0, side="red", unit="g", to="senkaku", mission="patrol", eta_h=9.0,
            **{"from": "home"}),
        rec("isr.search", t=9.0, unit="u", p_detect=0.7, draw=0.3, **search),
        rec("isr.detect", t=10.0, unit="u", group="g", zone="senkaku"),
    ])
    assert "detect g in senkaku by u (p=0.7 draw=0.3)" in text
    assert "draw=0.1" not in text


def test_routine_kinds_are_counted_not_listed() -> None:
    text = playthrough([
        *[rec("isr.sortie.launch", t=1.0 + i, unit=f"mq9.{i}", zone="z") for i in range(3)],
        rec("isr.on_station", t=2.0, unit="mq9.0", zone="z", seen_by_red=True),
        rec("isr.sortie.cancel", t=3.0, unit="mq9.4", reason="weather"),
        rec("isr.search", t=2.0, unit="mq9.0", zone="z", group="g", p_detect=0.3, draw=0.8,
            detected=False),
        *[rec("c2.message.delivered", t=5.0, unit="hq", what="track") for _ in range(2)],
        rec("c2.message.lost", t=6.0, unit="hq", what="track", p_loss=0.1, draw=0.05),
        rec("state.blue", t=24.0, detections=0),
        rec("turn.measures", t=24.0, side="white", detections=0),
    ])
    lines = turn_lines(text, 1)
    assert lines[2:] == ["  isr: 3 sorties (1 seen by red), 1 cancelled (weather 1), 1 search; "
                         "c2: 2 delivered, 1 lost"]
    for kind in ("isr.sortie.launch", "isr.on_station", "c2.message", "state.blue", "measures"):
        assert kind not in text


def test_re_detections_are_counted_until_the_group_moves() -> None:
    text = playthrough([
        rec("isr.detect", t=1.0, unit="a", group="g", zone="z"),
        rec("isr.detect", t=2.0, unit="b", group="g", zone="z"),
        rec("isr.detect", t=30.0, turn=2, unit="a", group="g", zone="z"),
        rec("red.move", t=31.0, turn=2, side="red", unit="g", to="z", mission="patrol",
            eta_h=31.0, **{"from": "z"}),
        rec("isr.detect", t=32.0, turn=2, unit="b", group="g", zone="z"),
    ])
    detections = [ln for ln in text.splitlines() if " detect g " in ln]
    assert detections == ["  t=1.0h detect g in z by a", "  t=32.0h detect g in z by b"]
    assert turn_lines(text, 1)[-1] == "  isr: 2 detections"
    assert turn_lines(text, 2)[-1] == "  isr: 2 detections"


def test_a_turn_with_no_orders_says_hold() -> None:
    text = playthrough([orders("blue"), rec("turn.end", t=24.0, side="white", rung="routine")])
    assert turn_lines(text, 1)[:2] == ["blue [doctrine]: hold", "red: hold"]


def test_orders_with_params_red_draw_and_a_refusal() -> None:
    text = playthrough([
        orders("blue", ("isr_tempo", {"level": "surge"}), ("move", {"to": "x", "n": 2}),
               ("joint_exercise", {})),
        orders("red", ("patrol", {})),
        rec("red.decision", side="red", unit="red", draw=0.5812, choice="patrol",
            options={"patrol": {"p": 0.2734}, "seize": {"p": 0.1}}),
        rec("orders.rejected", unit="blue", reason="no such battery",
            order={"action": "fire", "params": {}}, source="api"),
    ])
    blue, red = turn_lines(text, 1)[:2]
    assert blue == ("blue [doctrine]: isr_tempo=surge, move(n=2, to=x), joint_exercise; "
                    "REFUSED fire [api]: no such battery")
    assert red == "red [doctrine]: patrol  (p=0.273 draw=0.581)"


def test_repeated_long_orders_point_back_to_where_they_were_written() -> None:
    long = (("isr_tempo", {"level": "normal"}), ("joint_exercise", {}), ("signal_resolve", {}))
    text = playthrough([orders("blue", *long, turn=1), orders("blue", *long, turn=2),
                        orders("blue", *long, turn=3), orders("red", ("patrol", {}), turn=3)])
    assert turn_lines(text, 2)[0] == "blue: same as turn 1"
    assert turn_lines(text, 3)[:2] == ["blue: same as turn 1", "red [doctrine]: patrol"]


def test_the_rung_header_follows_the_ladder() -> None:
    text = playthrough([
        rec("escalation.rung", t=24.0, side="white", unit="ladder", to="coercion", level=3,
            **{"from": "routine"}),
        rec("turn.end", t=24.0, side="white", rung="coercion", red_losses=0.0, blue_losses=0.0),
        rec("turn.end", turn=2, t=48.0, side="white", rung="coercion", red_losses=1.5,
            blue_losses=0.0),
    ])
    assert "== turn 1  rung routine ==" in text
    assert "  t=24.0h rung routine -> coercion (level 3)" in text
    assert "== turn 2  rung coercion ==" in text
    assert "  losses this turn: red 1.5 ships, blue 0 launchers" in turn_lines(text, 2)


def test_a_link_restored_on_schedule_is_not_listed_but_an_early_one_is() -> None:
    text = playthrough([
        rec("c2.link.degraded", t=10.0, unit="l1", until_h=20.0),
        rec("c2.link.degraded", t=10.0, unit="l2", until_h=20.0),
        rec("c2.link.restored", t=20.0, unit="l1"),
        rec("c2.link.restored", t=12.5, unit="l2"),
    ])
    assert "link l1 restored" not in text
    assert "  t=12.5h link l2 restored" in text


def test_draws_of_attacks_and_attributions_are_shown() -> None:
    text = playthrough([
        rec("red.cyber.attack", t=3.0, side="red", unit="apt", link="l1", hardened=False,
            p_success=0.6, draw=0.1058, success=True),
        rec("red.gain", t=24.0, side="red", unit="red", action="cyber_disrupt", attributed=False,
            gain=0.15, p_attribute=0.9, draw=0.95),
        rec("red.gain", t=24.0, side="red", unit="red", action="patrol", attributed=True,
            gain=0.075, p_attribute=None, draw=None),
    ])
    assert "red cyber attack on l1: success (p=0.6 draw=0.106)" in text
    assert "red gain 0.15 (cyber_disrupt, not attributed, p=0.9 draw=0.95)" in text
    assert "red gain 0.075 (patrol, attributed)\n" in text


def test_unknown_kinds_get_a_generic_line_and_missing_fields_a_question_mark() -> None:
    text = playthrough([
        rec("weather.front", t=5.0, side="white", unit="sky", wind=12.3456, zones=["a", "b"]),
        rec("red.move", t=6.0, side="red", unit="navy"),
    ])
    assert '  t=5.0h weather.front sky wind=12.346 zones=["a","b"]' in text
    assert "  t=6.0h navy sails ? -> ? (?, eta t=?h)" in text


def test_a_malformed_record_is_an_error_not_a_silent_gap() -> None:
    with pytest.raises(ValueError, match=r"record 1 .*no 'kind'"):
        playthrough([orders("blue"), {"seq": 7, "turn": 1, "data": {}}])
    with pytest.raises(ValueError, match="not a mapping"):
        playthrough([rec("orders", controller="x", orders=[]), "orders"])


def test_the_outcome_ends_the_text() -> None:
    held = playthrough([], {"deterrence_held": True, "failure_turn": None, "known_turn": None,
                            "highest_rung": "routine", "highest_level": 0, "turns_played": 3,
                            "red_gains": 0.5, "c2_delivery_rate": 0.875, "new_measure": 7})
    assert held.splitlines()[-6:] == [
        "== outcome ==",
        "deterrence held; highest rung routine (level 0) after 3 turns",
        "red gains 0.5; losses: red ? ships, blue ? launchers",
        "incursions ? (? detected, mean ?h to detect); detections ?",
        "c2: ? messages, 87.5% delivered, mean latency ?h",
        "new_measure: 7"]
    failed = playthrough([], {"deterrence_held": False, "failure_turn": 3, "known_turn": None,
                              "article5_turn": None})
    assert "deterrence FAILED on turn 3; blue never knew; no Article V;" in failed


def test_regenerate_writes_one_file_per_golden_case(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regenerate", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"{n}-seed{s}.txt" for n, s in golden_cases())
    assert capsys.readouterr().out.count("wrote ") == len(written)
    assert main(["oops"]) == 2
