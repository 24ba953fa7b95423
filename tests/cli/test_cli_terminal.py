"""The command line as a terminal meets it: user text (titles, notes, zone names, orders files,
log contents) never acts on the terminal nor on rich's markup, it is shown escaped; fixed-value
options list their choices in --help, complete in the shell and are refused in the engine's
words; ``wargame --version``; and ``wargame --help`` imports none of the heavy libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import engine
from engine.cli.main import app
from engine.errors import EngineError
from engine.io.eventlog import read_lines
from engine.io.loading import builtin_path
from engine.present.narrative import printable, shown

WARGAME = Path(sys.executable).parent / "wargame"
runner = CliRunner()

# in YAML's double-quoted escapes: clear the screen and go home, a right-to-left override, rich
# markup that closes a tag never opened and one that opens a colour, a C1 control (CSI), a
# bidi isolate
HOSTILE_YAML = r"\e[2J\e[H\u202e[/bold] [red]\x9b\u2066"
HOSTILE = "\x1b[2J\x1b[H\u202e[/bold] [red]\x9b\u2066"
SHOWN = r"\x1b[2J\x1b[H\u202e[/bold] [red]\x9b\u2066"
RAW = ("\x1b", "\u202e", "\u2066", "\x9b")  # none of these may reach the terminal


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    return {**base, "PYTHONIOENCODING": "utf-8", "COLUMNS": "400", **extra}


def wargame(*args, stdin=subprocess.DEVNULL, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(WARGAME), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=env(), stdin=stdin, timeout=120, check=False,
                          **kw)


def clean(text: str) -> bool:
    return not any(c in text for c in RAW)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """The tutorial with hostile text in its title, notional line, a zone's name and the
    umpire's scripted inject note."""
    src = builtin_path("scenarios", "classroom-tutorial").read_text(encoding="utf-8")
    for old, new in [
        ("title: First lesson \u2013 watching the disputed islands",
         f'title: "Title {HOSTILE_YAML} end"'),
        ("notional: All capability", f'notional: "Notional {HOSTILE_YAML}" # All capability'),
        ('note: "Umpire: Red coast guard ships enter the waters around the disputed islands."',
         f'note: "Note {HOSTILE_YAML}"'),
        ("kyushu: {name: Kyushu,", f'kyushu: {{name: "Kyushu {HOSTILE_YAML}",'),
    ]:
        assert old in src
        src = src.replace(old, new, 1)
    path = tmp_path_factory.mktemp("hostile") / "hostile.yaml"
    path.write_text(src, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_run(hostile) -> tuple[Path, subprocess.CompletedProcess]:
    log = hostile.parent / "hostile.jsonl"
    done = wargame("run", hostile, "--out", log)
    return log, done


# ---- the one helper ----------------------------------------------------------------------------

def test_printable_escapes_every_control_and_bidi_character_and_keeps_the_rest():
    unsafe = ([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0), 0x200E, 0x200F,
               *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
    for c in unsafe:
        out = printable(chr(c))
        assert out == (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"), hex(c)
        assert out.isprintable()
    kept = "line one\n\tline two \u2013 é 日本 [bold] \\x1b already escaped"
    assert printable(kept) == kept
    assert printable(printable(HOSTILE)) == printable(HOSTILE) == SHOWN


def test_printable_json_keeps_the_meaning_of_a_json_text():
    value = {"title": HOSTILE + "".join(chr(c) for c in range(0x80, 0xA0)) + "\\\u202e"}
    text = json.dumps(value, ensure_ascii=False)
    escaped = printable(text, json=True)
    assert clean(escaped) and json.loads(escaped) == value


def test_shown_is_printed_by_rich_as_typed():
    console = Console(record=True, width=400, force_terminal=True, color_system="truecolor")
    console.print(f"[bold]{shown(HOSTILE)}[/bold]")  # [/bold] inside would crash unescaped
    assert console.export_text().rstrip("\n") == SHOWN


# ---- hostile scenarios -------------------------------------------------------------------------

def test_run_shows_hostile_text_escaped(hostile_run):
    log, done = hostile_run
    assert done.returncode == 0, done.stderr
    assert clean(done.stdout) and clean(done.stderr)
    assert f"Title {SHOWN} end" in done.stdout
    assert f"Notional {SHOWN}" in done.stdout
    assert f"Umpire inject: Note {SHOWN}" in done.stdout
    header = next(read_lines(log)).obj
    assert header["scenario"]["meta"]["title"] == f"Title {HOSTILE} end"  # the log keeps it


def test_replay_shows_hostile_log_contents_escaped(hostile_run):
    log, _ = hostile_run
    result = runner.invoke(app, ["replay", str(log)], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert clean(result.output)
    assert f"Title {SHOWN} end" in result.output and f"Note {SHOWN}" in result.output
    as_json = runner.invoke(app, ["replay", str(log), "--json"])
    assert as_json.exit_code == 0 and clean(as_json.stdout)
    logged = [line.obj for line in read_lines(log)][1:-1]
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == logged
    assert any(f"Note {HOSTILE}" in texts(r) for r in logged)  # what was escaped is in the log


def texts(obj) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(obj, str):
        return [obj]
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else ()
    return [t for x in items for t in texts(x)]


def test_replay_in_a_subprocess_does_not_clear_the_screen(hostile_run):
    log, _ = hostile_run
    done = wargame("replay", log, "--side", "white")
    assert done.returncode == 0, done.stderr
    assert clean(done.stdout) and f"Title {SHOWN} end" in done.stdout


def test_brief_shows_hostile_text_escaped_on_stdout_and_in_markdown(hostile, tmp_path):
    done = wargame("brief", hostile, "--side", "white")
    assert done.returncode == 0, done.stderr
    assert clean(done.stdout)
    assert "\\x1b" in done.stdout and "\\u202e" in done.stdout
    out = tmp_path / "brief.md"
    done = wargame("brief", hostile, "--out", out)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert clean(text) and "\\u202e" in text and "Kyushu" in text


def test_play_first_screen_shows_hostile_text_escaped(hostile, tmp_path):
    """The umpire's first prompt meets the end of input: the game is saved, after the first
    screen (title, notional line) was shown."""
    log = tmp_path / "play.jsonl"
    done = wargame("play", hostile, "--blue", "doctrine", "--red", "doctrine", "--out", log)
    assert done.returncode == 0, done.stderr
    assert clean(done.stdout) and clean(done.stderr)
    assert f"Title {SHOWN} end" in done.stdout and f"Notional {SHOWN}" in done.stdout
    assert "Game saved" in done.stdout


def test_play_on_a_terminal_does_not_clear_it(hostile, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    log = tmp_path / "tty.jsonl"
    child = pexpect.spawn(str(WARGAME), ["play", str(hostile), "--blue", "doctrine", "--red",
                                         "doctrine", "--out", str(log)],
                          env=env(TERM="xterm-256color", COLUMNS="200"), encoding="utf-8",
                          timeout=60, dimensions=(50, 200))
    child.expect("save and quit: ")
    seen = child.before
    child.sendeof()
    child.expect(pexpect.EOF)
    assert "\x1b[2J" not in seen and "\u202e" not in seen and "\u2066" not in seen
    assert "\\x1b[2J\\x1b[H\\u202e[/bold] [red]\\x9b\\u2066" in seen
    child.close()
    assert child.exitstatus == 0


def test_validate_errors_show_hostile_keys_escaped(tmp_path):
    bad = tmp_path / "bad.yaml"
    src = builtin_path("scenarios", "classroom-tutorial").read_text(encoding="utf-8")
    bad.write_text(src.replace("meta:\n", f'meta:\n  "k{HOSTILE_YAML}": 1\n', 1),
                   encoding="utf-8")
    done = wargame("validate", bad)
    assert done.returncode == 2
    assert clean(done.stderr) and "\\x1b[2J" in done.stderr and "[/bold]" in done.stderr


def test_a_hostile_orders_file_is_refused_with_its_text_escaped(tmp_path):
    orders = tmp_path / "orders.yaml"
    orders.write_text("format: wargame-orders/1\nside: blue\nturns:\n  - turn: 1\n"
                      f'    orders:\n      - action: "x{HOSTILE_YAML}"\n', encoding="utf-8")
    done = wargame("play", "classroom-tutorial", "--blue-orders", orders, "--red", "doctrine",
                   "--no-umpire", "--out", tmp_path / "g.jsonl")
    assert done.returncode == 2, done.stdout
    assert clean(done.stderr) and "Traceback" not in done.stderr
    assert str(orders) in done.stderr


# ---- conventions: --version, choices, completion -----------------------------------------------

def test_version():
    assert wargame("--version").stdout == f"wargame {engine.__version__}\n"
    done = subprocess.run([sys.executable, "-m", "engine", "--version"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout == f"wargame {engine.__version__}\n"


CHOICES = [
    (["replay"], "--side", "blue|red|white"),
    (["brief"], "--side", "blue|red|white"),
    (["brief"], "--format", "md|html"),
    (["report"], "--format", "html|md"),
    (["fork"], "--blue", "doctrine|recorded"),
    (["fork"], "--red", "doctrine|recorded"),
    (["play"], "--blue", "human|doctrine"),
    (["play"], "--red", "human|doctrine"),
    (["sweep", "start"], "--backend", "inprocess|process|dask"),
    (["sweep", "start"], "--compare", "first|all"),
    (["sweep", "start"], "--after-recorded", "stop|doctrine"),
    (["sweep", "summary"], "--compare", "first|all"),
    (["schema"], "kind", "scenario|rules|log|sweep"),
]


@pytest.mark.parametrize(("command", "option", "choices"), CHOICES,
                         ids=[f"{' '.join(c)} {o}" for c, o, _ in CHOICES])
def test_help_lists_the_choices(command, option, choices):
    result = runner.invoke(app, [*command, "--help"], terminal_width=250, env={"COLUMNS": "250"})
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines()
                if option in line and ("--" in option or choices in line))
    assert choices in line, line


@pytest.mark.parametrize(("args", "message"), [
    (["replay", "x.jsonl", "--side", "green"], "--side: expected blue, red or white, found "
                                                "'green'"),
    (["brief", "--side=purple"], "--side: expected blue, red or white, found 'purple'"),
    (["brief", "--format", "pdf"], "--format: expected md or html, found 'pdf'"),
    (["report", "x.jsonl", "--format", "pdf"], "--format: expected html or md, found 'pdf'"),
    (["fork", "x.jsonl", "--turn", "2", "--red", "oracle"],
     "unknown controller 'oracle' for --red; expected doctrine or recorded"),
    (["play", "--blue", "robot"], "--blue: expected human or doctrine, found 'robot'"),
    (["sweep", "classroom-tutorial", "--backend", "slurm"],
     "--backend: expected one of inprocess, process, dask, found 'slurm'"),
    (["sweep", "classroom-tutorial", "--compare", "some"],
     "--compare: expected first or all, found 'some'"),
    (["sweep", "summary", "runs/x", "--compare", "pairs"],
     "--compare: expected first or all, found 'pairs'"),
    (["sweep", "classroom-tutorial", "--after-recorded", "never"],
     "--after-recorded: expected stop or doctrine, found 'never'"),
    (["schema", "battle"],
     "unknown schema 'battle'; expected scenario, rules, log or sweep"),
])
def test_a_wrong_choice_is_refused_in_the_engines_words(args, message):
    result = runner.invoke(app, args, terminal_width=200)
    assert not isinstance(result.exception, EngineError)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {message}"
    assert result.stdout == ""


def test_shell_completion_offers_the_choices(tmp_path):
    script = wargame("--show-completion", "bash")
    assert script.returncode == 0 and "_WARGAME_COMPLETE" in script.stdout
    for words, cword, expected in [
        ("wargame replay x.jsonl --side ", 4, ["blue", "red", "white"]),
        ("wargame sweep start --backend ", 4, ["inprocess", "process", "dask"]),
        ("wargame rep", 1, ["replay", "report"]),
    ]:
        done = subprocess.run([str(WARGAME)], capture_output=True, text=True, timeout=60,
                              check=False, env=env(_WARGAME_COMPLETE="complete_bash",
                                                   COMP_WORDS=words, COMP_CWORD=str(cword)))
        assert done.stdout.split() == expected, (words, done.stdout, done.stderr)
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run([str(WARGAME), "--install-completion", "bash"], capture_output=True,
                          text=True, timeout=60, check=False,
                          env=env(HOME=str(home), SHELL="/bin/bash"))
    assert done.returncode == 0, done.stderr
    installed = "".join(p.read_text() for p in home.rglob("*") if p.is_file())
    assert "_WARGAME_COMPLETE" in installed or "wargame" in installed


# ---- start-up ----------------------------------------------------------------------------------

HEAVY = ("dask", "distributed", "pyarrow", "matplotlib", "numpy", "simpy", "starlette",
         "uvicorn", "pandas")


@pytest.mark.parametrize("command", [[sys.executable, "-m", "engine", "--help"],
                                     [str(WARGAME), "--help"]], ids=["python -m", "wargame"])
def test_help_imports_none_of_the_heavy_libraries(command):
    done = subprocess.run([command[0], "-X", "importtime", *command[1:]]
                          if command[0] == sys.executable else command,
                          capture_output=True, text=True, timeout=60, check=False,
                          env=env(PYTHONPROFILEIMPORTTIME="1"))
    assert done.returncode == 0, done.stderr
    assert "run" in done.stdout and "sweep" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert len(imported) > 50  # the measurement itself worked
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == [], heavy


def test_serve_announces_a_hostile_title_escaped(hostile, tmp_path):
    proc = subprocess.Popen([str(WARGAME), "serve", str(hostile), "--port", "0", "--out",
                             str(tmp_path / "served.jsonl")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env())
    try:
        lines = []
        while not lines or not lines[-1].startswith("Stop with Ctrl-C"):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    said = "".join(lines)
    assert clean(said) and f"Serving Title {SHOWN} end" in said
