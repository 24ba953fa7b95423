"""``wargame replay``, ``verify``, ``fork`` and ``schema log`` as a user meets them: in process
through typer's runner, and as real processes (exit codes, pipes, a terminal driven by tmux or a
pseudo-terminal)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import load_pair
from engine.cli.main import app
from engine.errors import EngineError
from engine.io.eventlog import read_lines, run_logged, seal, unseal
from engine.io.logschema import log_json_schema
from engine.present.narrative import tell

SEED = 3
TURNS = 5
WARGAME = Path(sys.executable).parent / "wargame"
RULE = re.compile(r"─ Turn (\d+) ─")
ANSI = re.compile(r"\x1b[\[\]()][0-9;?]*[A-Za-z]?")

# situation-table rows drawn from each side's own state record
TABLE_ROWS = {"blue": ("Blue ISR tempo", "Blue readiness", "engagement authority", "tracks held"),
              "red": ("Red groups", "Red beliefs")}

runner = CliRunner()


def invoke(*args: str):
    """Run a command in process; an EngineError escapes as the result's exception."""
    return runner.invoke(app, [str(a) for a in args])


def plain_env() -> dict[str, str]:
    """The environment of a user's shell: no colour forced on or off by the test runner."""
    env = dict(os.environ)
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS",
                 "LINES"):
        env.pop(name, None)
    return env


def wargame(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(WARGAME), *map(str, args)], capture_output=True, text=True,
                          input=stdin, env=plain_env(), timeout=60)


def objects(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def reseal(objs: list[dict], path: Path) -> Path:
    """Write objects as a validly chained log (header and footer sorted, records as they are)."""
    prev, out = "", []
    for i, obj in enumerate(objs):
        body = {k: v for k, v in obj.items() if k != "h"}
        line, prev = seal(prev, body, sort=i == 0 or body.get("footer") is True)
        out.append(line + "\n")
    path.write_text("".join(out), encoding="utf-8", newline="\n")
    return path


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    s, r = load_pair("classroom-tutorial")
    path = tmp_path_factory.mktemp("cli") / "tutorial.jsonl"
    run_logged(s, r, SEED, path)
    return path


@pytest.fixture(scope="module")
def records(log) -> list[dict]:
    return objects(log)[1:-1]


def told(recs) -> set[str]:
    return {line for rec in recs if (line := tell(rec)) is not None}


# ---- replay: the story and the situation tables ---------------------------------------------

def test_replay_tells_every_record_worth_telling_and_a_table_per_turn(log, records):
    result = invoke("replay", log)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "First lesson \u2013 watching the disputed islands" in out
    assert [int(n) for n in RULE.findall(out)] == list(range(1, TURNS + 1))
    for n in range(1, TURNS + 1):
        assert f"End of turn {n}" in out
    for rec in records:
        line = tell(rec)
        if line is not None and rec["kind"] != "turn.end":  # turn.end becomes the table
            assert f"{rec['t']:7.2f} h  {line}" in out
    assert out.count("Blue ISR tempo") == out.count("Red beliefs") == TURNS
    assert "Outcome: deterrence held" in out
    assert "truncated" not in out


def test_replay_routine_records_are_left_out_of_the_story(log, records):
    out = invoke("replay", log).output
    told_lines = sum(1 for r in records if tell(r) is not None and r["kind"] != "turn.end")
    story = [line for line in out.splitlines() if re.match(r"\s+\d+\.\d\d h  ", line)]
    assert len(story) == told_lines < len(records)


# ---- fog of war --------------------------------------------------------------------------------

@pytest.mark.parametrize(("side", "other"), [("blue", "red"), ("red", "blue")])
def test_a_side_never_sees_the_other_sides_records(log, records, side, other):
    out = invoke("replay", log, "--side", side).output
    mine = [r for r in records if side in r["visible_to"]]
    hidden = [r for r in records if side not in r["visible_to"]]
    assert hidden and {r["kind"] for r in hidden} >= {f"state.{other}", "orders"}
    secret = told(hidden) - told(mine)
    assert secret  # the game has told records only the other side may see
    for line in secret:
        assert line not in out, f"{side} sees {other}'s record: {line}"
    for line in told(r for r in mine if r["kind"] != "turn.end"):
        assert line in out
    for row in TABLE_ROWS[side]:
        assert out.count(row) == TURNS
    for row in TABLE_ROWS[other]:
        assert row not in out
    assert f"view: {side}" in out


def test_blue_never_sees_red_decisions_moves_or_state(log):
    out = invoke("replay", log, "--side", "blue", "--json").stdout
    kinds = {json.loads(line)["kind"] for line in out.splitlines()}
    assert kinds.isdisjoint({"red.decision", "state.red", "red.move", "red.incursion",
                             "red.cyber.attack", "red.gain", "turn.measures"})
    assert not any(k.startswith("red.") for k in kinds)
    # Blue learns of this game's cyber attempts only through its attribution draws
    assert {"isr.detect", "state.blue", "turn.end", "intel.attribution"} <= kinds
    text = invoke("replay", log, "--side", "blue").output
    assert "Red weighed" not in text and "Red orders" not in text
    assert "Red cyber attack" not in text


def test_red_never_sees_blue_detections_orders_or_state(log):
    out = invoke("replay", log, "--side", "red", "--json").stdout
    kinds = {json.loads(line)["kind"] for line in out.splitlines()}
    assert kinds.isdisjoint({"isr.detect", "state.blue", "isr.sortie.launch", "isr.search",
                             "alliance.consultation", "c2.message.delivered",
                             "intel.attribution", "red.gain", "turn.measures"})
    # Red sees Blue's public acts and the ISR aircraft over its groups or objective
    assert {"red.decision", "state.red", "turn.end", "isr.on_station", "blue.exercise"} <= kinds
    text = invoke("replay", log, "--side", "red").output
    assert "detected Red" not in text and "Blue orders" not in text


@pytest.mark.parametrize("side", ["blue", "red", "white"])
def test_json_replay_of_a_side_is_exactly_its_visible_records(log, records, side):
    result = invoke("replay", log, "--side", side, "--json")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    got = [json.loads(line) for line in lines]
    expected = [r for r in records if side == "white" or side in r["visible_to"]]
    assert got == expected
    logged = set(log.read_text(encoding="utf-8").splitlines())
    assert all(line in logged for line in lines)  # byte-identical lines, hash included


def test_unknown_side_is_refused(log):
    result = invoke("replay", log, "--side", "green")
    assert result.exit_code == 2 and "blue, red or white" in result.output


# ---- filters -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "keep"), [
    (("--turn", "2"), lambda r: r["turn"] == 2),
    (("--turns", "2-4"), lambda r: 2 <= r["turn"] <= 4),
    (("--turns", "5-5"), lambda r: r["turn"] == 5),
    (("--kind", "isr.*"), lambda r: fnmatch.fnmatchcase(r["kind"], "isr.*")),
    (("--kind", "red.*"), lambda r: r["kind"].startswith("red.")),
    (("--kind", "turn.end"), lambda r: r["kind"] == "turn.end"),
    (("--unit", "mq9.1"), lambda r: r["unit"] == "mq9.1"),
    (("--side", "red", "--kind", "isr.*"),  # Red sees only the ISR aircraft it can see
     lambda r: "red" in r["visible_to"] and r["kind"].startswith("isr.")),
    (("--side", "red", "--turns", "1-2", "--kind", "orders"),
     lambda r: "red" in r["visible_to"] and r["turn"] <= 2 and r["kind"] == "orders"),
])
def test_json_replay_emits_exactly_the_filtered_records(log, records, args, keep):
    result = invoke("replay", log, *args, "--json")
    assert result.exit_code == 0
    got = [json.loads(line) for line in result.stdout.splitlines()]
    expected = [r for r in records if keep(r)]
    assert expected and got == expected
    assert all(keep(r) for r in got)


def test_turn_filters_narrate_only_those_turns(log):
    out = invoke("replay", log, "--turns", "2-4").output
    assert [int(n) for n in RULE.findall(out)] == [2, 3, 4]
    assert "End of turn 1" not in out and "End of turn 5" not in out
    out = invoke("replay", log, "--turn", "3").output
    assert [int(n) for n in RULE.findall(out)] == [3]
    assert "End of turn 3" in out


def test_kind_and_unit_filters_narrate_only_matching_records(log, records):
    out = invoke("replay", log, "--kind", "isr.*").output
    for line in told(r for r in records if r["kind"].startswith("isr.")):
        assert line in out
    assert "Escalation" not in out and "End of turn" not in out and "orders" not in out
    out = invoke("replay", log, "--unit", "mq9.1").output
    detections = [r for r in records if r["kind"] == "isr.detect"]
    for rec in detections:
        assert (tell(rec) in out) == (rec["unit"] == "mq9.1")


@pytest.mark.parametrize("bad", ["4-2", "2", "a-b", "2-", "-3"])
def test_bad_turn_ranges_are_refused(log, bad):
    result = invoke("replay", log, "--turns", bad)
    assert result.exit_code == 2 and "--turns" in result.output


# ---- real processes: pipes, exit codes, a terminal ------------------------------------------

def test_piped_replay_is_plain_text(log):
    done = wargame("replay", log)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "Turn 5" in done.stdout
    assert "Outcome: deterrence held" in done.stdout
    blue = wargame("replay", log, "--side", "blue", "--step")  # --step needs a terminal
    assert blue.returncode == 0
    assert "\x1b" not in blue.stdout and "[n]ext" not in blue.stdout
    assert [int(n) for n in RULE.findall(blue.stdout)] == list(range(1, TURNS + 1))
    assert "Red weighed" not in blue.stdout


class Tmux:
    """A command in a detached tmux session on a private server, read as its screen."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.base = ["tmux", "-L", f"wargame-test-{os.getpid()}", "-f", "/dev/null"]
        shell = " ".join(f"'{c}'" for c in command) + '; echo "EXIT=$?"; sleep 30'
        subprocess.run([*self.base, "new-session", "-d", "-s", "t", "-x", "150", "-y", "100",
                        "-c", str(cwd), shell], check=True, env=plain_env())

    def send(self, text: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "t", "-l", text], check=True)
        subprocess.run([*self.base, "send-keys", "-t", "t", "Enter"], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-p", "-t", "t"], check=True,
                              capture_output=True, text=True).stdout

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


class Pty:
    """The same through a pseudo-terminal of our own (when tmux is not installed). The screen is
    everything written since the last clear, with escape codes removed."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 100, 150, 0, 0))
        env = {**plain_env(), "TERM": "xterm"}
        self.proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                                     env=env, close_fds=True)
        os.close(slave)
        self.raw = b""

    def send(self, text: str) -> None:
        os.write(self.master, text.encode() + b"\r")

    def screen(self) -> str:
        while select.select([self.master], [], [], 0.05)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            self.raw += chunk
        text = self.raw.decode("utf-8", "replace")
        text = text[text.rfind("\x1b[2J") + 4:] if "\x1b[2J" in text else text
        if self.proc.poll() is not None:
            text += f"\nEXIT={self.proc.returncode}"
        return ANSI.sub("", text)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.master)


def wait_for(term, pattern: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = term.screen()
        if re.search(pattern, screen):
            return screen
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout} s for {pattern!r}; the screen shows:\n{screen}")


@pytest.mark.parametrize("driver", ["tmux", "pty"])
def test_step_mode_on_a_terminal_goes_next_back_to_a_turn_and_quits(log, tmp_path, driver):
    if driver == "tmux" and shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (the pty driver covers the same steps)")
    term = (Tmux if driver == "tmux" else Pty)(
        [str(WARGAME), "replay", str(log), "--step", "--side", "blue"], tmp_path)
    try:
        prompt = r"turn {} of 5: \[n\]ext \[b\]ack \[g N\] \[q\]uit"
        screen = wait_for(term, prompt.format(1))
        assert "Turn 1" in screen and "Red weighed" not in screen
        term.send("n")
        screen = wait_for(term, prompt.format(2))
        assert "End of turn 2" in screen and "End of turn 1" not in screen
        term.send("b")
        screen = wait_for(term, prompt.format(1))
        assert "End of turn 1" in screen and "End of turn 2" not in screen
        term.send("g 3")
        screen = wait_for(term, prompt.format(3))
        assert "End of turn 3" in screen and "Red groups" not in screen
        term.send("g 42")  # no such turn: stay
        wait_for(term, prompt.format(3))
        term.send("q")
        wait_for(term, r"EXIT=0")
    finally:
        term.close()


# ---- verify ------------------------------------------------------------------------------------

def test_verify_ok(log, records):
    result = invoke("verify", log)
    assert result.exit_code == 0
    assert result.output.strip() == f"verified: {len(records)} records, {TURNS} turns"


def test_verify_names_the_divergent_line_with_what_was_logged_and_re_executed(log, tmp_path):
    objs = objects(log)
    i = next(n for n, o in enumerate(objs) if o.get("kind") == "isr.detect")
    original = unseal(log.read_text(encoding="utf-8").splitlines()[i])[0]
    objs[i]["data"]["zone"] = "atlantis"
    bad = reseal(objs, tmp_path / "resealed.jsonl")
    done = wargame("verify", bad)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"diverged at line {i + 1}" in done.stdout
    logged = re.search(r"logged:\s+(.*)", done.stdout).group(1)
    again = re.search(r"re-executed:\s+(.*)", done.stdout).group(1)
    assert "atlantis" in logged and "atlantis" not in again
    assert again == original[:300]
    assert "Traceback" not in done.stderr


def test_verify_names_the_first_broken_link(log, tmp_path):
    data = bytearray(log.read_bytes())
    line = 60
    start = [n for n, b in enumerate(data) if b == ord("\n")][line - 2] + 1  # line 60 begins
    at = data.index(b'"t":', start) + 4  # a digit of the record's time: still JSON, chain broken
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    bad = tmp_path / "edited.jsonl"
    bad.write_bytes(bytes(data))
    result = invoke("verify", bad)
    assert result.exit_code == 1
    assert f"broken hash chain at line {line}" in result.output


@pytest.mark.parametrize(("field", "value", "says"), [
    ("version", 1, "log format version 1 (written by engine"),  # before the information model
    ("version", 3, "reads only version 2"),
    ("engine", "9.9.0", "written by engine 9.9.0"),
])
def test_verify_refuses_unknown_versions_with_exit_2_and_no_traceback(log, tmp_path, field,
                                                                      value, says):
    objs = objects(log)
    objs[0][field] = value
    bad = reseal(objs, tmp_path / "foreign.jsonl")
    for command in ("verify", "replay", "fork") if field == "version" else ("verify",):
        args = [command, bad] + (["--turn", "2"] if command == "fork" else [])
        done = wargame(*args)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert says in done.stderr and done.stderr.startswith("error:")
        assert "Traceback" not in done.stderr
    result = invoke("verify", bad)  # in process the error escapes for main() to map
    assert isinstance(result.exception, EngineError) and says in str(result.exception)


def test_verify_of_a_missing_file_is_exit_2(tmp_path):
    done = wargame("verify", tmp_path / "nothing.jsonl")
    assert done.returncode == 2 and "cannot read" in done.stderr
    assert "Traceback" not in done.stderr


# ---- fork --------------------------------------------------------------------------------------

def test_fork_then_replay_and_verify_it(log, records, tmp_path):
    out = tmp_path / "fork.jsonl"
    done = wargame("fork", log, "--turn", "3", "--seed", "9", "--out", out)
    assert done.returncode == 0, done.stderr
    said = "".join(done.stdout.split())  # rich wraps long lines on a pipe
    assert "".join(f"forked {log} at turn 3 -> {out}".split()) in said
    forked = objects(out)
    strip = lambda r: {k: v for k, v in r.items() if k != "h"}  # noqa: E731
    assert [strip(r) for r in forked[1:-1] if r["turn"] < 3] == [
        strip(r) for r in records if r["turn"] < 3]
    assert [strip(r) for r in forked[1:-1] if r["turn"] >= 3] != [
        strip(r) for r in records if r["turn"] >= 3]
    replay = invoke("replay", out).output
    assert "forked at turn 3" in replay and "seed 9" in replay
    check = invoke("verify", out)
    assert check.exit_code == 0 and check.output.startswith("verified:")


def test_fork_with_controllers_and_the_default_path(log, tmp_path):
    parent = tmp_path / "parent.jsonl"
    parent.write_bytes(log.read_bytes())
    result = invoke("fork", parent, "--turn", "2", "--seed", "5", "--blue", "recorded",
                    "--red", "doctrine")
    assert result.exit_code == 0, result.output
    out = tmp_path / "parent-fork2-seed5.jsonl"
    header = next(read_lines(out)).obj
    assert header["parent"]["fork_turn"] == 2
    assert header["parent"]["controllers"] == {"blue": "recorded", "red": "doctrine"}
    assert invoke("verify", out).exit_code == 0
    assert "forked at turn 2" in invoke("replay", out).output


def test_fork_refuses_an_unknown_controller_and_a_bad_turn(log, tmp_path):
    done = wargame("fork", log, "--turn", "2", "--red", "oracle", "--out", tmp_path / "x.jsonl")
    assert done.returncode == 2 and "unknown controller 'oracle'" in done.stderr
    result = invoke("fork", log, "--turn", "9", "--out", tmp_path / "y.jsonl")
    assert isinstance(result.exception, EngineError) and "turns 1-5" in str(result.exception)


# ---- schema ------------------------------------------------------------------------------------

def test_schema_log_prints_the_json_schema(tmp_path):
    result = invoke("schema", "log")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == json.loads(json.dumps(log_json_schema()))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"Header", "Record", "Footer"} <= set(schema["$defs"])
    assert set(schema["$defs"]["Record"]["required"]) == {
        "seq", "turn", "t", "kind", "side", "unit", "data", "visible_to", "h"}


def test_schema_log_validates_every_line_of_a_log(log):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(invoke("schema", "log").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    for line in log.read_text(encoding="utf-8").splitlines():
        validator.validate(json.loads(line))


def test_replay_and_report_say_first_when_a_chain_is_broken(log, tmp_path):
    data = bytearray(log.read_bytes())
    start = [n for n, b in enumerate(data) if b == ord("\n")][40] + 1  # line 42 begins
    at = data.index(b'"t":', start) + 4
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    bad = tmp_path / "edited.jsonl"
    bad.write_bytes(bytes(data))
    shown = invoke("replay", bad)
    assert "warning:" in shown.output and "broken hash chain at line 42" in shown.output
    first = shown.output.index("warning:")
    assert first < shown.output.index("Turn 1") if "Turn 1" in shown.output else True
    report = tmp_path / "edited.html"
    made = invoke("report", bad, "--out", report)
    assert made.exit_code == 0, made.output
    html = report.read_text(encoding="utf-8")
    assert "fails its integrity check" in html
    assert html.index("fails its integrity check") < html.index("<h2>")
