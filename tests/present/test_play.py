"""Classroom play through a real pseudo-terminal (pexpect): a whole hot-seat tutorial game with
wrong inputs, a kill in the middle and a resume that ends with the same log, orders files; and
the Human and Umpire controllers driven directly on a session (what they show, what they
return)."""

from __future__ import annotations

import io
import os
import signal
import sys
import textwrap
from pathlib import Path

import pexpect
import pytest
from rich.console import Console

import engine
from engine.errors import InputError
from engine.io.loading import load_orders, load_pair
from engine.io.replay import verify
from engine.present.narrative import labels_of, tell
from engine.present.play import Human, SaveAndQuit, Screen, Umpire
from engine.sim.controllers import Menu, MenuItem, default_controllers
from engine.sim.kernel import play_turn
from engine.sim.kinds import can_see

WARGAME = str(Path(sys.executable).parent / "wargame")
PROMPTS = [
    r"play the turn.*save and quit: ",          # 0 umpire
    r"only you can see the screen\. ",          # 1 hand-over
    r"Add an order by number.*: ",              # 2 menu
    r"Commit these orders.*: ",                 # 3 confirm
    r"\(1-\d+\)(?: \[Enter = [^\]]*\])?: ",     # 4 numbered choice
    r"Note read out to the teams: ",            # 5 inject note
    r"Press Enter to resume\. ",                # 6 pause
]
TURNS = 5


def turn_answers(turn: int) -> list[str]:
    """One turn's keystrokes, wrong ones included: the umpire, then Blue, then Red."""
    umpire = [""]
    if turn == 2:  # pause, a bad command, a scripted inject, a custom inject with a note
        umpire = ["p", "", "zz", "i", "1", "c", "2", "4", "Red patrol boats sighted", ""]
    blue = ["", "9", "x", "4", "5", "3", "d", "n",   # bad menu number, bad choice, then undo
            "4", "", "u", "4", "3", "6", "1", "4", "d", "y"]
    # Red's menu lists only what it can do now (no counterspace unit in the tutorial: jam_space
    # and space_attack are refused): 2 is incursion, 3 patrol; odd turns order one twice
    red = ["", "2" if turn % 2 else "3", "2", "d", "y"]
    return umpire + blue + red


def drive(child: pexpect.spawn, answers: list[str], stop_after: int | None = None) -> int:
    """Answer prompts in order; return how many answers were sent."""
    sent = 0
    for answer in answers:
        if stop_after is not None and sent == stop_after:
            return sent
        child.expect(PROMPTS, timeout=30)
        child.sendline(answer)
        sent += 1
    return sent


def spawn(args: list[str], cwd: Path) -> pexpect.spawn:
    env = {**os.environ, "TERM": "dumb", "COLUMNS": "160"}
    return pexpect.spawn(WARGAME, args, cwd=str(cwd), env=env, encoding="utf-8",
                         timeout=30, dimensions=(50, 160))


def whole_game() -> list[str]:
    return [a for t in range(1, TURNS + 1) for a in turn_answers(t)]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("play")
    log = folder / "a.jsonl"
    child = spawn(["play", "classroom-tutorial", "--blue", "human", "--red", "human",
                   "--out", str(log)], folder)
    drive(child, whole_game())
    child.expect("Debrief with", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return log


def test_a_whole_hot_seat_game_with_wrong_inputs(uninterrupted):
    text = uninterrupted.read_text()
    assert '"kind":"umpire.inject"' in text and '"live":true' in text
    assert '"controller":"human"' in text
    verdict = verify(uninterrupted)
    assert verdict.ok and verdict.turns == TURNS, verdict


def test_wrong_inputs_are_explained_and_asked_again(tmp_path):
    log = tmp_path / "w.jsonl"
    child = spawn(["play", "--no-umpire", "--out", str(log)], tmp_path)
    child.expect(PROMPTS[1])
    child.sendline("")
    child.expect(PROMPTS[2])
    child.sendline("42")
    child.expect("is not understood: type a number from 1 to")
    child.expect(PROMPTS[2])
    child.sendline("4")
    child.expect(PROMPTS[4])
    child.sendline("seven")
    child.expect("is not a choice")
    child.terminate(force=True)


def test_a_killed_game_resumes_to_the_same_log(tmp_path, uninterrupted):
    log = tmp_path / "b.jsonl"
    child = spawn(["play", "classroom-tutorial", "--blue", "human", "--red", "human",
                   "--out", str(log)], tmp_path)
    done = sum(len(turn_answers(t)) for t in (1, 2))
    part = len(turn_answers(3)) - 3  # in the middle of Red's orders for turn 3
    drive(child, whole_game(), stop_after=done + part)
    os.kill(child.pid, signal.SIGKILL)
    child.close()
    assert '"footer":true' not in log.read_text()
    resumed = spawn(["play", "--resume", str(log)], tmp_path)
    drive(resumed, [a for t in range(3, TURNS + 1) for a in turn_answers(t)])
    resumed.expect("Debrief with", timeout=30)
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0
    assert log.read_bytes() == uninterrupted.read_bytes()


def test_save_and_quit_then_resume(tmp_path):
    log = tmp_path / "s.jsonl"
    child = spawn(["play", "--red", "doctrine", "--out", str(log)], tmp_path)
    child.expect(PROMPTS[0])
    child.sendline("")
    for answer in ["", "3", "d", "y"]:
        child.expect(PROMPTS)
        child.sendline(answer)
    child.expect(PROMPTS[0])
    child.sendline("s")
    child.expect("Continue with: wargame play --resume")
    child.expect(pexpect.EOF)
    assert not verify(log).ok and "truncated after turn 1" in verify(log).message
    resumed = spawn(["play", "--resume", str(log)], tmp_path)
    for _ in range(TURNS - 1):
        for answer in ["", "", "3", "d", "y"]:
            resumed.expect(PROMPTS)
            resumed.sendline(answer)
    resumed.expect(pexpect.EOF)
    assert verify(log).ok


ORDERS = textwrap.dedent("""\
    format: wargame-orders/1
    side: blue
    turns:
      - turn: 1
        orders:
          - action: isr_tempo
            params: {level: surge}
      - turn: 2
        orders:
          - action: joint_exercise
    """)


def test_orders_files_play_without_a_keyboard(tmp_path):
    path = tmp_path / "blue.yaml"
    path.write_text(ORDERS)
    log = tmp_path / "o.jsonl"
    child = spawn(["play", "--blue-orders", str(path), "--no-umpire", "--out", str(log)],
                  tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert '"controller":"orders"' in log.read_text()
    assert verify(log).ok


@pytest.mark.parametrize(("change", "line", "words"), [
    ("level: surge", 7, "expected one of ['low', 'normal', 'surge']"),
    ("action: joint_exercise", 10, "not on blue's menu"),
    ("turn: 2", 8, "is after the last turn"),
    ("side: blue", 2, "this file holds red's orders"),
])
def test_bad_orders_files_name_file_line_and_field(tmp_path, change, line, words):
    bad = {"level: surge": "level: ludicrous", "action: joint_exercise": "action: nuke",
           "turn: 2": "turn: 99", "side: blue": "side: red"}[change]
    path = tmp_path / "bad.yaml"
    path.write_text(ORDERS.replace(change, bad))
    s, r = load_pair("classroom-tutorial")
    with pytest.raises(InputError) as err:
        load_orders(path, "blue", r, s.turns.count)
    text = str(err.value)
    assert f"bad.yaml:{line}:" in text and words in text


def test_a_bad_orders_file_exits_2_without_a_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(ORDERS.replace("isr_tempo", "isr_tempo_typo"))
    child = spawn(["play", "--blue-orders", str(path), "--no-umpire", "--out",
                   str(tmp_path / "x.jsonl")], tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "bad.yaml:" in child.before and "Traceback" not in child.before


# ---- the controllers on a session, without a terminal ----------------------------------------

def keyboard(answers: list[str]) -> tuple[Screen, io.StringIO, list[str]]:
    """A screen whose keyboard types ``answers`` in order; returns it, its output, the prompts."""
    out, prompts, typed = io.StringIO(), [], iter(answers)

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    return Screen(Console(file=out, width=200, highlight=False), ask), out, prompts


@pytest.fixture
def after_one_turn():
    """The tutorial after one turn of doctrine, with every record of the session."""
    game = engine.Game.load("classroom-tutorial")
    session = game.start(seed=0)
    play_turn(session, default_controllers(game.rules))
    return game, session


def test_human_sees_its_own_records_and_orders_from_its_menu(after_one_turn):
    game, session = after_one_turn
    obs, menu = session.observation("blue"), session.legal_orders("blue")
    record = list(session.sink)
    last = [r for r in record if r["turn"] == 1]
    # the observation's records are exactly last turn's that the kinds let Blue see
    assert list(obs.events) == [r for r in last if can_see("blue", r)]
    assert all("blue" in r["visible_to"] for r in obs.events)
    assert {r["kind"] for r in last} - {r["kind"] for r in obs.events} >= {
        "red.decision", "state.red", "turn.measures"}
    tempo = menu.actions.index("isr_tempo") + 1
    screen, out, prompts = keyboard(["", str(tempo), "3", "d", "y"])  # isr_tempo, level surge
    human = Human("blue", screen, game.scenario, game.rules)
    made = human(obs, menu)
    assert [(o.action, o.params) for o in made.orders] == [("isr_tempo", {"level": "surge"})]
    session.submit("blue", made)  # strict: the human's orders are legal
    shown = out.getvalue()
    told = [line for r in obs.events if (line := tell(r, labels_of(game.rules)))]
    assert told and all(line in shown for line in told)
    mine = [line for r in last if not can_see("blue", r) if (line := tell(r))]
    assert mine and not any(line in shown for line in mine)  # Red's orders, its decision
    assert "Red orders" not in shown and "Red weighed" not in shown
    assert f"turn {obs.turn} of {game.scenario.turns.count}" in shown
    assert "  level (1-3) [Enter = normal]: " in prompts  # the item's choices and default


def test_human_is_told_why_actions_are_not_available(after_one_turn):
    game, session = after_one_turn
    menu = session.legal_orders("red")
    assert menu.refused == {"jam_space": "the scenario gives Red no counterspace unit",
                            "space_attack": "the scenario gives Red no counterspace unit"}
    screen, out, _ = keyboard(["", "d", "y"])
    made = Human("red", screen, game.scenario, game.rules)(session.observation("red"), menu)
    assert made.orders == ()
    shown = out.getvalue()
    assert "Not available now:" in shown
    assert "jam_space: the scenario gives Red no counterspace unit" in shown
    numbered = [line.split(".", 1)[1].strip().split(":")[0] for line in shown.splitlines()
                if line.strip()[:1].isdigit()]
    assert numbered[:len(menu.items)] == list(menu.actions)  # refused ones are not numbered


def test_human_offers_item_choices_not_the_rules(after_one_turn):
    """A menu item carries its parameters' choices: the human offers those."""
    game, session = after_one_turn
    obs = session.observation("blue")
    menu = Menu("blue", obs.turn, (MenuItem("littoral_posture", "Set readiness", "signalling",
                                            {"readiness": ("alert", "dispersed")},
                                            {"readiness": "dispersed"}),), 0.5, {})
    screen, _, prompts = keyboard(["", "1", "", "d", "y"])
    made = Human("blue", screen, game.scenario, game.rules, handover=True)(obs, menu)
    assert [(o.action, o.params) for o in made.orders] == [
        ("littoral_posture", {"readiness": "dispersed"})]
    assert "  readiness (1-2) [Enter = dispersed]: " in prompts


def test_umpire_views_both_sides_and_forces_a_custom_inject(after_one_turn):
    game, session = after_one_turn
    obs, menu = session.observation("white"), session.legal_orders("white")
    red = sorted(game.rules.actions.red)
    answers = ["v", "c", "2", str(red.index("stand_down") + 1), "Red is told to go home", ""]
    screen, out, _ = keyboard(answers)
    made = Umpire(screen, game.scenario, game.rules)(obs, menu)
    assert [(o.action, o.side, o.note) for o in made.orders] == [
        ("stand_down", "red", "Red is told to go home")]
    shown = out.getvalue()
    for row in ("blue: isr tempo", "red: groups", "red: beliefs", "truth: armed attack turn",
                "truth: red gains"):
        assert row in shown, row
    session.submit("white", made)
    session.submit("blue", [])
    session.submit("red", [])
    session.step()
    forced = [r for r in session.sink if r["kind"] == "umpire.inject" and r["turn"] == 2]
    assert forced and forced[0]["visible_to"] == ["red"]  # told to the side it is forced on


def test_umpire_save_and_quit_raises(after_one_turn):
    game, session = after_one_turn
    screen, _, _ = keyboard(["zz", "s"])
    with pytest.raises(SaveAndQuit):
        Umpire(screen, game.scenario, game.rules)(session.observation("white"),
                                                  session.legal_orders("white"))
