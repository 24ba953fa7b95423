"""The classroom room in-process: submissions refused and replaced, a turn that waits for both
teams unless the umpire forces it, forced orders in the log, injects, the timer, the version
the pages follow, and resuming a log (the same game after it, or a clear refusal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.classroom.room import MAX_ORDERS, MAX_RATIONALE, Room, Timer
from engine.errors import EngineError
from engine.game import Game
from engine.io.eventlog import run_logged, seal
from engine.io.replay import verify
from engine.sim.controllers import RedQuantal
from engine.spec.order import Order

SURGE = Order("isr_tempo", {"level": "surge"})
PATROL = Order("patrol", {})


@pytest.fixture(scope="module")
def game() -> Game:
    return Game.load("classroom-tutorial")


def records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()[1:]]


def of_kind(log: Path, kind: str, turn: int | None = None) -> list[dict[str, Any]]:
    return [r for r in records(log)
            if r.get("kind") == kind and (turn is None or r["turn"] == turn)]


def both(room: Room, turn: int) -> None:
    """A quiet turn: Blue surges its ISR, Red patrols."""
    assert room.submit("blue", [SURGE], f"blue {turn}") == []
    assert room.submit("red", [PATROL], f"red {turn}") == []
    assert room.advance() == []


def test_submit_refuse_and_resubmit(game: Game, tmp_path: Path) -> None:
    room = Room.start(game, 0, tmp_path / "g.jsonl")
    assert room.submit("blue", [SURGE], "watch the strait") == []
    assert room.pending["blue"].orders == (SURGE,)
    # a bad parameter, an action of the other side, an action refused now: each named
    bad = room.submit("blue", [Order("isr_tempo", {"level": "maximum"}), PATROL,
                               Order("authorize_engagement", {})], "x")
    assert bad[0].startswith("isr_tempo: level='maximum' is not one of ['low'")
    assert bad[1] == "patrol: 'patrol' is not on blue's menu"
    assert bad[2].startswith("authorize_engagement: precondition")
    assert room.pending["blue"].orders == (SURGE,)  # the refused one replaced nothing
    assert room.pending["blue"].rationale == "watch the strait"
    assert room.submit("blue", [SURGE] * (MAX_ORDERS + 1), "") == [
        f"at most {MAX_ORDERS} orders a turn"]
    # a lone surrogate cannot be written to the log: refused now, not when the turn is played
    assert room.submit("blue", [SURGE], "a\ud800b") == ["the rationale is not valid text"]
    assert room.inject(Order("patrol", {}, "red", "\udfff")) == ["the note is not valid text"]
    # resubmitting replaces: the last accepted submission is the one played
    assert room.submit("blue", [Order("hold", {})], "y" * (MAX_RATIONALE + 50)) == []
    assert room.pending["blue"].orders == (Order("hold", {}),)
    assert len(room.pending["blue"].rationale) == MAX_RATIONALE
    assert "red" not in room.pending
    assert room.submit("red", [PATROL], "quiet") == []
    assert room.advance() == []
    blue, red = of_kind(tmp_path / "g.jsonl", "orders", 1)
    assert blue["data"]["orders"] == [{"action": "hold", "params": {}}]
    assert blue["data"]["rationale"] == "y" * MAX_RATIONALE
    assert red["data"] == {"controller": "browser", "orders": [{"action": "patrol",
                                                                 "params": {}}],
                           "rationale": "quiet"}


def test_advance_waits_for_both_teams_unless_forced(game: Game, tmp_path: Path) -> None:
    room = Room.start(game, 0, tmp_path / "g.jsonl")
    assert room.advance() == ["waiting for blue, red; force the turn with doctrine or hold"]
    room.submit("blue", [SURGE], "")
    assert room.advance("wait") == ["waiting for red; force the turn with doctrine or hold"]
    assert room.advance("whenever") == ["late must be wait, doctrine or hold, not 'whenever'"]
    assert room.session.turn == 1 and room.pending["blue"].orders == (SURGE,)
    assert of_kind(tmp_path / "g.jsonl", "orders") == []
    room.submit("red", [PATROL], "")
    assert room.advance() == []
    assert room.session.turn == 2 and room.pending == {}


def test_forced_orders_are_recorded_and_the_log_verifies(game: Game, tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    room = Room.start(game, 0, log)
    both(room, 1)
    # turn 2: Red is late and the umpire lets its doctrine decide
    room.submit("blue", [SURGE], "b")
    expected = RedQuantal(game.rules)(room.session.observation("red"),
                                      room.session.legal_orders("red")).orders
    assert room.advance("doctrine") == []
    red = of_kind(log, "orders", 2)[1]
    assert red["side"] == "red" and red["data"]["controller"] == "umpire:doctrine"
    assert red["data"]["orders"] == [o.to_json() for o in expected]
    assert "rationale" not in red["data"]
    # turn 3: both late, the umpire makes them hold
    assert room.advance("hold") == []
    held = of_kind(log, "orders", 3)
    assert [(r["side"], r["data"]["controller"], r["data"]["orders"]) for r in held] == [
        ("blue", "umpire:hold", []), ("red", "umpire:hold", [])]
    both(room, 4)
    both(room, 5)
    assert room.session.over
    assert room.advance() == ["the game is over"]
    assert room.submit("blue", [SURGE], "") == ["the game is over"]
    verdict = verify(log)
    assert verdict.ok, verdict.message
    assert verdict.turns == 5


def test_custom_inject_is_checked_and_recorded(game: Game, tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    room = Room.start(game, 0, log)
    assert room.inject(Order("patrol", {}, None, "who?")) == [
        "an inject must name side blue or red"]
    assert room.inject(Order("patrol", {}, "blue", "")) == [
        "patrol: 'patrol' is not on blue's menu"]
    assert room.inject(Order("isr_tempo", {"level": "max"}, "blue", ""))[0].startswith(
        "isr_tempo: level='max' is not one of")
    assert room.injects == []
    note = "Umpire: a fishing fleet crowds the strait"
    assert room.inject(Order("patrol", {}, "red", note)) == []
    assert [o.to_json() for o in room.injects] == [
        {"action": "patrol", "params": {}, "side": "red", "note": note}]
    both(room, 1)
    assert room.injects == []
    white = of_kind(log, "orders", 1)[0]
    assert white["side"] == "white" and white["data"]["controller"] == "umpire"
    injected = of_kind(log, "umpire.inject", 1)
    assert [(r["data"]["side"], r["data"]["action"], r["data"]["note"], r["data"].get("live"))
            for r in injected] == [("red", "patrol", note, True)]
    # the team it is forced on sees it, the other does not
    assert injected[0]["visible_to"] == ["red"]
    both(room, 2)
    both(room, 3)
    both(room, 4)
    both(room, 5)
    assert verify(log).ok


def test_scripted_inject_fired_early_does_not_fire_again(game: Game, tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    room = Room.start(game, 0, log)
    assert [i["turn"] for i in room.scripted_injects()] == [2]  # the tutorial's one inject
    assert room.scripted_injects()[0]["done"] is False
    assert room.fire_scripted(7) == ["no scripted inject 7"]
    assert room.fire_scripted(0) == []
    assert room.fire_scripted(0) == ["scripted inject 0 is already set to fire this turn"]
    assert len(room.injects) == 1
    both(room, 1)
    assert room.scripted_injects()[0]["done"] is True
    assert room.fire_scripted(0) == ["scripted inject 0 has already fired"]
    fired = of_kind(log, "umpire.inject", 1)
    assert len(fired) == 1 and fired[0]["data"]["action"] == "incursion"
    both(room, 2)
    assert of_kind(log, "umpire.inject", 2) == []  # not again at its own turn
    for turn in (3, 4, 5):
        both(room, turn)
    assert verify(log).ok


def test_scripted_inject_fires_at_its_turn_when_not_fired_early(game: Game,
                                                                tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    room = Room.start(game, 0, log)
    both(room, 1)
    assert room.fire_scripted(0) == ["scripted inject 0 fires this turn anyway"]
    both(room, 2)
    fired = of_kind(log, "umpire.inject", 2)
    assert [r["unit"] for r in fired] == ["inject.0"]
    assert room.scripted_injects()[0]["done"] is True


def test_timer_set_pause_resume() -> None:
    now = [1000.0]
    timer = Timer(clock=lambda: now[0])
    assert timer.to_json() == {"seconds_left": 0.0, "running": False}
    timer.set(600)
    now[0] += 100
    assert timer.to_json() == {"seconds_left": 600.0, "running": False}  # set, not started
    timer.resume()
    now[0] += 90.5
    assert timer.to_json() == {"seconds_left": 509.5, "running": True}
    timer.resume()  # resuming a running timer does not restart it
    now[0] += 9.5
    assert timer.remaining() == 500.0
    timer.pause()
    now[0] += 1000
    assert timer.to_json() == {"seconds_left": 500.0, "running": False}
    timer.resume()
    now[0] += 800
    assert timer.to_json() == {"seconds_left": 0.0, "running": True}  # never below zero
    timer.set(60)
    assert timer.to_json() == {"seconds_left": 60.0, "running": False}


def test_changes_bump_the_version_and_wake_listeners(game: Game, tmp_path: Path) -> None:
    room = Room.start(game, 0, tmp_path / "g.jsonl")
    woken: list[int] = []
    room.listeners.append(lambda: woken.append(room.version))
    assert room.version == 0
    room.changed()
    assert room.version == 1 and woken == [1]
    room.submit("blue", [SURGE], "")
    assert room.version == 2
    room.submit("blue", [PATROL], "")  # refused: nothing changed
    assert room.version == 2
    room.inject(Order("patrol", {}, "red", ""))
    room.advance()  # waiting for red: nothing changed
    assert room.version == 3
    room.submit("red", [PATROL], "")
    room.advance()
    assert room.version == 5 and woken == [1, 2, 3, 4, 5]


# ---- resuming ------------------------------------------------------------------------------

def play_until(game: Game, log: Path, turns: int, pages: bool) -> Room:
    """Turns 1..turns with Red submitting no orders on turns 1 and 2 (so nothing in the turn
    itself asks for Red's menu); ``pages``: the teams' pages ask for their menus each turn."""
    room = Room.start(game, 0, log)
    for turn in range(1, turns + 1):
        if pages:
            room.session.legal_orders("blue"), room.session.legal_orders("red")
        room.submit("blue", [SURGE], f"b{turn}")
        room.submit("red", [] if turn <= 2 else [PATROL], f"r{turn}")
        assert room.advance() == []
    return room


def test_resume_continues_the_same_game(game: Game, tmp_path: Path) -> None:
    whole = play_until(game, tmp_path / "whole.jsonl", 2, pages=True)
    cut = play_until(game, tmp_path / "cut.jsonl", 2, pages=False)
    cut.writer.abort()  # the server dies between turns
    resumed = Room.resume(tmp_path / "cut.jsonl")
    assert resumed.session.turn == 3
    assert not (tmp_path / ".cut.jsonl.resuming").exists()
    # the late Red's doctrine decides with the same draw, page open or not, resumed or not
    assert resumed.session.legal_orders("red").draw == whole.session.legal_orders("red").draw
    for room in (whole, resumed):
        room.submit("blue", [SURGE], "b3")
        assert room.advance("doctrine") == []
        both(room, 4)
        both(room, 5)
    assert (tmp_path / "cut.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert verify(tmp_path / "cut.jsonl").ok


def test_resume_twice_keeps_every_turn(game: Game, tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    room = Room.start(game, 0, log)
    both(room, 1)
    room.submit("blue", [SURGE], "lost when the server dies")
    room.writer.abort()
    room = Room.resume(log)
    assert room.session.turn == 2 and room.pending == {}
    both(room, 2)
    room.writer.abort()
    room = Room.resume(log)
    assert room.session.turn == 3
    assert [r["data"]["rationale"] for r in of_kind(log, "orders")] == [
        "blue 1", "red 1", "blue 2", "red 2"]
    for turn in (3, 4, 5):
        both(room, turn)
    reference = Room.start(game, 0, tmp_path / "ref.jsonl")
    for turn in range(1, 6):
        both(reference, turn)
    assert log.read_bytes() == (tmp_path / "ref.jsonl").read_bytes()


def test_resume_closes_a_game_whose_footer_was_not_written(game: Game,
                                                           tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    room = Room.start(game, 0, log)
    for turn in range(1, 5):
        both(room, turn)
    room.writer.close = lambda outcome, turns: ""  # type: ignore[method-assign]
    both(room, 5)  # the last turn is flushed; the server dies before the footer
    assert room.session.over and not verify(log).ok
    resumed = Room.resume(log)
    assert resumed.session.over
    assert verify(log).ok
    with pytest.raises(EngineError, match="this game is finished"):
        Room.resume(log)


def cut_game(game: Game, log: Path, turns: int = 2) -> bytes:
    room = Room.start(game, 0, log)
    for turn in range(1, turns + 1):
        both(room, turn)
    room.writer.abort()
    return log.read_bytes()


def test_resume_refuses_an_edited_line_and_leaves_the_log(game: Game, tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    lines = cut_game(game, log).decode().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, start=1) if '"rationale":"red 1"' in line)
    lines[number - 1] = lines[number - 1].replace("red 1", "red 9")
    edited = "".join(lines).encode()
    log.write_bytes(edited)
    with pytest.raises(EngineError, match=f"broken hash chain at line {number}.*left as it was"):
        Room.resume(log)
    assert log.read_bytes() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.jsonl"]


def test_resume_refuses_a_resealed_edit_and_leaves_the_log(game: Game, tmp_path: Path) -> None:
    """An edit whose hash chain was recomputed passes the chain check; re-executing the game
    finds it."""
    log = tmp_path / "g.jsonl"
    lines = cut_game(game, log).decode().splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if '"kind":"turn.end"' in line)
    prev, out = "", []
    for i, line in enumerate(lines, start=1):
        obj = json.loads(line)
        del obj["h"]
        if i == number:  # turn 1 ends on a rung the game did not reach
            obj["data"]["rung"] = "armed_conflict"
        line, prev = seal(prev, obj, sort=i == 1)
        out.append(line + "\n")
    edited = "".join(out).encode()
    log.write_bytes(edited)
    assert "broken" not in verify(log).message  # the chain holds: only re-execution sees it
    with pytest.raises(EngineError, match=f"line {number} differs.*left as it was"):
        Room.resume(log)
    assert log.read_bytes() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.jsonl"]


def test_resume_refuses_a_game_not_served_to_a_classroom(game: Game, tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    run_logged(game.scenario, game.rules, 0, log)
    text = log.read_bytes()
    cut = b"".join(text.splitlines(keepends=True)[:40])
    log.write_bytes(cut)
    with pytest.raises(EngineError, match="not a game served to a classroom"):
        Room.resume(log)
    assert log.read_bytes() == cut


def test_start_refuses_an_existing_log(game: Game, tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    log.write_text("keep me\n")
    with pytest.raises(EngineError, match="already exists"):
        Room.start(game, 0, log)
    assert log.read_text() == "keep me\n"
