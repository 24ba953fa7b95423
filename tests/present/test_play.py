"""Classroom play through a real pseudo-terminal (pexpect): a whole hot-seat tutorial game with
wrong inputs and typed rationales; kills (SIGKILL) and resumes, again and again, that end with
the same log; Ctrl-C; the hand-over that clears the scroll-back; logs that do not re-execute;
orders files; and the Human and Umpire controllers driven directly on a session (what they
show, what they return)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pexpect
import pytest
from rich.console import Console

import engine
from engine.errors import InputError
from engine.io.eventlog import chain, unseal
from engine.io.loading import load_orders, load_pair
from engine.io.replay import verify
from engine.present import play as play_module
from engine.present.narrative import labels_of, tell
from engine.present.play import (
    CLEAR_ALL,
    Human,
    SaveAndQuit,
    Screen,
    Umpire,
    complete_turns,
    last_complete_turn,
    resume,
    temp_path,
)
from engine.sim.controllers import Decision, Menu, MenuItem, default_controllers
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
    r"for the debrief \(Enter to skip\): ",      # 7 rationale
]
TURNS = 5


def turn_answers(turn: int) -> list[str]:
    """One turn's keystrokes, wrong ones included: the umpire, then Blue, then Red."""
    umpire = [""]
    if turn == 2:  # pause, a bad command, a scripted inject, a custom inject with a note
        umpire = ["p", "", "zz", "i", "1", "c", "2", "4", "Red patrol boats sighted", ""]
    # a bad menu number, a bad choice, a first rationale, no: start again; then undo; the
    # rationale given with the committed orders is the one recorded
    blue = ["", "9", "x", "4", "5", "3", "d", DISCARDED, "n",
            "4", "", "u", "4", "3", "6", "1", "4", "d", blue_reasons(turn), "y"]
    # Red's menu lists only what it can do now (no counterspace unit in the tutorial: jam_space
    # and space_attack are refused): 2 is incursion, 3 patrol; odd turns order one twice; Red
    # gives no reasons
    red = ["", "2" if turn % 2 else "3", "2", "d", "", "y"]
    return umpire + blue + red


DISCARDED = "a first thought, dropped when the team starts again"


def blue_reasons(turn: int) -> str:
    return f"Turn {turn}: keep eyes on the flotilla, surveillance d'abord"


def start_of(turn: int) -> int:
    """How many answers the turns before ``turn`` take."""
    return sum(len(turn_answers(t)) for t in range(1, turn))


def answers_from(turn: int) -> list[str]:
    return whole_game()[start_of(turn):]


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


def spawn(args: list[str], cwd: Path, term: str = "dumb") -> pexpect.spawn:
    env = {**os.environ, "TERM": term, "COLUMNS": "160"}
    child = pexpect.spawn(WARGAME, args, cwd=str(cwd), env=env, encoding="utf-8",
                          timeout=30, dimensions=(50, 160))
    child.logfile_read = io.StringIO()  # everything the terminal received
    return child


def seen(child: pexpect.spawn) -> str:
    return child.logfile_read.getvalue()


def wargame_verify(log: Path) -> subprocess.CompletedProcess:
    return subprocess.run([WARGAME, "verify", str(log)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=60)


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


def test_typed_rationales_are_in_the_orders_records(uninterrupted):
    orders = [r for r in map(json.loads, uninterrupted.read_text().splitlines()[1:-1])
              if r["kind"] == "orders"]
    blue = {r["turn"]: r["data"] for r in orders if r["side"] == "blue"}
    red = [r["data"] for r in orders if r["side"] == "red"]
    assert {t: d.get("rationale") for t, d in blue.items()} == {
        t: blue_reasons(t) for t in range(1, TURNS + 1)}
    assert all("rationale" not in d for d in red)  # Enter skips it: no empty rationale
    assert DISCARDED not in uninterrupted.read_text()  # the orders were started again


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


def kill(child: pexpect.spawn) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.close()


def test_killed_and_resumed_again_and_again_the_log_loses_nothing(tmp_path, uninterrupted):
    """Killed in turn 3; resumed and killed in turn 3 again (before any new turn is complete);
    resumed and killed in turn 4, then in turn 5; resumed a last time and finished: the same
    log, byte for byte, as the game played without a break, always at the same path."""
    log = tmp_path / "b.jsonl"
    child = spawn(["play", "classroom-tutorial", "--blue", "human", "--red", "human",
                   "--out", str(log)], tmp_path)
    # in the middle of Red's orders for turn 3
    drive(child, whole_game(), stop_after=start_of(4) - 3)
    kill(child)
    assert last_complete_turn(log) == 2 and '"footer":true' not in log.read_text()
    first = log.read_bytes()
    assert first == uninterrupted.read_bytes()[:complete_turns(log)[1]]
    # resumed, then killed in Blue's orders for turn 3: the log is left exactly as it was
    resumed = spawn(["play", "--resume", str(log)], tmp_path)
    resumed.expect("play goes on at turn 3")
    drive(resumed, answers_from(3), stop_after=12)
    kill(resumed)
    assert log.read_bytes() == first
    # resumed (over the copy the killed resume left), killed after turn 3, in Blue's turn 4;
    # then after turn 4, in Blue's turn 5
    for turn, stop in ((3, len(turn_answers(3)) + 8), (4, len(turn_answers(4)) + 2)):
        resumed = spawn(["play", "--resume", str(log)], tmp_path)
        resumed.expect(f"play goes on at turn {turn}")
        drive(resumed, answers_from(turn), stop_after=stop)
        resumed.expect(PROMPTS)  # the next turn has begun: its predecessor is complete
        kill(resumed)
        assert last_complete_turn(log) == turn
        assert log.read_bytes() == uninterrupted.read_bytes()[:complete_turns(log)[1]]
        assert f"truncated after turn {turn}" in verify(log).message
    resumed = spawn(["play", "--resume", str(log)], tmp_path)
    resumed.expect("replaying turns 1-4 from the log, play goes on at turn 5")
    drive(resumed, answers_from(5))
    resumed.expect("Debrief with", timeout=30)
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0, seen(resumed)
    assert log.read_bytes() == uninterrupted.read_bytes()
    checked = wargame_verify(log)
    assert checked.returncode == 0 and "verified" in checked.stdout, checked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.jsonl"]  # no copy left beside it


def test_ctrl_c_says_how_to_resume(tmp_path, uninterrupted):
    log = tmp_path / "c.jsonl"
    child = spawn(["play", "classroom-tutorial", "--blue", "human", "--red", "human",
                   "--out", str(log)], tmp_path)
    drive(child, whole_game(), stop_after=start_of(2) + 6)  # in the middle of turn 2
    child.expect(PROMPTS)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    out = seen(child)
    assert child.exitstatus == 130, out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out
    assert f"The log {log} holds every complete turn (turns 1-1)" in out
    assert f"Continue with: wargame play --resume {log}" in out
    checked = wargame_verify(log)  # intact, cut after turn 1: today's contract is exit 1
    assert checked.returncode == 1, checked
    assert "truncated after turn 1: no footer" in checked.stdout, checked
    assert log.read_bytes() == uninterrupted.read_bytes()[:complete_turns(log)[1]]
    resumed = spawn(["play", "--resume", str(log)], tmp_path)
    drive(resumed, answers_from(2))
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0
    assert log.read_bytes() == uninterrupted.read_bytes()


def reseal(bodies: list[str]) -> str:
    """Lines with a valid hash chain for these bodies (a log edited by someone who knows how)."""
    prev, out = "", []
    for body in bodies:
        prev = chain(prev, body)
        out.append(f'{body[:-1]},"h":"{prev}"}}\n')
    return "".join(out)


def edit_order(bodies: list[str]) -> list[str]:
    """Blue's first orders changed (the chain re-made): the game no longer re-executes."""
    i = next(i for i, b in enumerate(bodies) if '"kind":"orders","side":"blue"' in b)
    assert '"level":"surge"' in bodies[i]
    return [*bodies[:i], bodies[i].replace('"level":"surge"', '"level":"low"'), *bodies[i + 1:]]


def respace_header(bodies: list[str]) -> list[str]:
    """The header written with spaces (same content, chain re-made): not byte-identical."""
    return [json.dumps(json.loads(bodies[0]), sort_keys=True), *bodies[1:]]


def start_line_of_turn(log: Path, turn: int) -> int:
    """The index of the first line of ``turn`` (lines counted from 0, the header)."""
    return next(i for i, line in enumerate(log.read_text().splitlines()[1:], start=1)
                if json.loads(line).get("turn") == turn)


@pytest.mark.parametrize(("edit", "cut"), [(edit_order, 3), (respace_header, 3),
                                           (respace_header, 1)])
def test_a_log_that_does_not_re_execute_is_refused_and_left_as_it_was(tmp_path, uninterrupted,
                                                                      edit, cut):
    lines = uninterrupted.read_text().splitlines()[:start_line_of_turn(uninterrupted, cut)]
    log = tmp_path / "d.jsonl"
    log.write_text(reseal(edit([(unseal(line) or ("", ""))[0] for line in lines])))
    before = log.read_bytes()
    found = verify(log).message
    if edit is respace_header:  # the reader sees at once the header is not as the engine writes
        assert "line 1: the line is not written as the engine writes it" in found
    else:
        assert f"truncated after turn {cut - 1}" in found  # the chain holds
    child = spawn(["play", "--resume", str(log)], tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    out = seen(child)
    assert child.exitstatus == 2, out
    assert ("cannot resume: line 1: the line is not written as the engine writes it" in out
            if edit is respace_header else
            "cannot resume: the game does not re-execute as logged" in out)
    assert "Traceback" not in out
    assert log.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.jsonl"]


def test_a_game_cut_in_its_first_turn_resumes_from_its_header(tmp_path, uninterrupted):
    log = tmp_path / "f.jsonl"
    log.write_text(uninterrupted.read_text().splitlines(keepends=True)[0])
    resumed = spawn(["play", "--resume", str(log)], tmp_path)
    resumed.expect("play goes on at turn 1")
    drive(resumed, whole_game())
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0, seen(resumed)
    assert log.read_bytes() == uninterrupted.read_bytes()


def test_a_fuller_copy_beside_the_log_is_not_overwritten(tmp_path, uninterrupted):
    """If the resumed game's copy holds more complete turns than the log (a crash in the
    instant between writing a turn and renaming), resuming refuses rather than overwrite it."""
    text = uninterrupted.read_text().splitlines(keepends=True)
    log, copy = tmp_path / "e.jsonl", tmp_path / ".e.jsonl.resume"
    log.write_text("".join(text[:start_line_of_turn(uninterrupted, 2)]))
    copy.write_text("".join(text[:start_line_of_turn(uninterrupted, 4)]))
    kept = copy.read_bytes()
    child = spawn(["play", "--resume", str(log)], tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "holds turns 1-3, more than" in seen(child) and "mv " in seen(child)
    assert copy.read_bytes() == kept


def hold(obs, menu) -> Decision:
    return Decision(())


def test_resume_saved_again_or_interrupted_at_the_worst_instant(tmp_path, uninterrupted,
                                                                 monkeypatch):
    lines = uninterrupted.read_text().splitlines(keepends=True)
    log = tmp_path / "g.jsonl"
    log.write_text("".join(lines[:start_line_of_turn(uninterrupted, 3)]))
    before = log.read_bytes()

    def save(side):
        def quit_now(obs, menu):
            raise SaveAndQuit()
        return quit_now

    assert resume(log, save) == (None, 3)  # saved before a new turn: the log as it was
    assert log.read_bytes() == before and not temp_path(log).exists()
    # interrupted after turn 3 is written to the copy, before the rename: the copy, which
    # holds one complete turn more, still takes the log's place
    real, renames = os.replace, []

    def interrupted(src, dst):
        renames.append(Path(dst))
        if len(renames) == 1:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(play_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        resume(log, lambda side: hold)
    assert renames == [log, log]
    assert last_complete_turn(log) == 3 and not temp_path(log).exists()
    assert log.read_bytes().startswith(before)
    assert "truncated after turn 3" in verify(log).message


def test_the_hand_over_clears_the_scroll_back(tmp_path):
    log = tmp_path / "h.jsonl"
    child = spawn(["play", "--blue", "human", "--red", "human", "--no-umpire", "--out",
                   str(log)], tmp_path, term="xterm-256color")
    drive(child, ["", "4", "3", "d", "the secret of the blue team", "y"])
    child.expect(PROMPTS[1])  # Red's hand-over
    out = seen(child)
    assert out.count(CLEAR_ALL) == 3  # Blue's hand-over, after Blue's orders, Red's hand-over
    before, after = out.rsplit(CLEAR_ALL, 1)
    assert "BLUE orders for turn 1" in before and "the secret of the blue team" in before
    assert "BLUE" not in after and "secret" not in after  # not on screen, not in scroll-back
    assert "RED team: press Enter" in after
    child.terminate(force=True)


def test_save_and_quit_then_resume(tmp_path):
    log = tmp_path / "s.jsonl"
    child = spawn(["play", "--red", "doctrine", "--out", str(log)], tmp_path)
    child.expect(PROMPTS[0])
    child.sendline("")
    for answer in ["", "3", "d", "", "y"]:
        child.expect(PROMPTS)
        child.sendline(answer)
    child.expect(PROMPTS[0])
    child.sendline("s")
    child.expect(re.escape(f"Continue with: wargame play --resume {log}"))
    child.expect(pexpect.EOF)
    assert not verify(log).ok and "truncated after turn 1" in verify(log).message
    resumed = spawn(["play", "--resume", str(log)], tmp_path)
    for _ in range(TURNS - 1):
        for answer in ["", "", "3", "d", "", "y"]:
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
    # isr_tempo, level surge, with reasons typed with a tab and an arrow key's escape code
    screen, out, prompts = keyboard(["", str(tempo), "3", "d",
                                     " Find the\tflotilla \x1b[A early ", "y"])
    human = Human("blue", screen, game.scenario, game.rules)
    made = human(obs, menu)
    assert [(o.action, o.params) for o in made.orders] == [("isr_tempo", {"level": "surge"})]
    assert made.rationale == "Find the flotilla [A early"  # one clean line
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
    screen, out, _ = keyboard(["", "d", "", "y"])
    made = Human("red", screen, game.scenario, game.rules)(session.observation("red"), menu)
    assert made.orders == () and made.rationale is None
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
    screen, _, prompts = keyboard(["", "1", "", "d", "", "y"])
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


def test_a_rationale_goes_into_the_orders_record(after_one_turn):
    game, session = after_one_turn
    screen, out, _ = keyboard(["", "d", "hold back: let them show their hand", "y"])
    made = Human("blue", screen, game.scenario, game.rules)(session.observation("blue"),
                                                           session.legal_orders("blue"))
    assert "because: hold back: let them show their hand" in out.getvalue()
    session.submit("blue", made, controller="human")
    session.submit("red", [])
    session.step()
    [logged] = [r for r in session.sink if r["kind"] == "orders" and r["side"] == "blue"
                and r["turn"] == 2]
    assert logged["data"]["rationale"] == "hold back: let them show their hand"


@pytest.mark.parametrize(("terminal", "term", "written"), [
    (True, "xterm-256color", CLEAR_ALL),   # screen, home, scroll-back
    (True, "dumb", "\n" * 30),            # no escape codes: a screenful of blank lines
    (False, "xterm-256color", ""),         # a file or a pipe: nothing
])
def test_clearing_the_screen_and_the_scroll_back(terminal, term, written):
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, height=30, width=80,
                      _environ={"TERM": term})
    Screen(console).clear()
    assert out.getvalue() == written
