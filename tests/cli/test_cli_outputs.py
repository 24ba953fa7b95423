"""Outputs that lose nothing: no command writes over one of its inputs, nor over an existing file
without --force; every output is written beside its final name and renamed only when whole, so
a failure (a full disk, Ctrl-C, a crash) leaves the old file byte for byte and no partial file;
a closed pipe on ``wargame run``'s story stops the story, not the game nor its log; an
unwritable path is one line on stderr and exit 2."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from engine.errors import EngineError
from engine.io.eventlog import LogWriter, run_logged
from engine.io.loading import builtin_path, load_pair
from engine.io.replay import verify
from engine.spec.scenario import with_turns

WARGAME = Path(sys.executable).parent / "wargame"
TUTORIAL = builtin_path("scenarios", "classroom-tutorial")
runner = CliRunner()


def invoke(*args) -> tuple[int, str]:
    """Run a command in process: its exit code and what it said (an EngineError escapes the
    runner for main() to print; it counts as its exit code and message)."""
    result = runner.invoke(app, [str(a) for a in args])
    if isinstance(result.exception, EngineError):
        return result.exception.exit_code, str(result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def wargame(*args, cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([str(WARGAME), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=cwd, timeout=120, check=False, **kw)


def one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2 and exactly one line on stderr, ``error: ...``, no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def leftovers(folder: Path) -> list[str]:
    """Temporary files left in a folder (an output is written to .NAME.*.tmp, then renamed)."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """A three-turn game of the tutorial, its scenario and rules as files, a sweep folder."""
    from engine.sweeps.runner import build_spec, execute

    base = tmp_path_factory.mktemp("outputs")
    s, r = load_pair(TUTORIAL)
    log = base / "game.jsonl"
    run_logged(with_turns(s, 3), r, 4, log)
    scenario = base / "tutorial.yaml"
    shutil.copy(TUTORIAL, scenario)
    rules = base / "standard.yaml"
    shutil.copy(builtin_path("rules", "standard"), rules)
    sweep = base / "sweep"
    execute(build_spec(["classroom-tutorial"], replications=2, seed=1), backend="inprocess",
            out=sweep)
    return {"log": log, "scenario": scenario, "rules": rules, "sweep": sweep}


@pytest.fixture
def work(made, tmp_path) -> dict[str, Path]:
    """Fresh copies in this test's own folder (nothing a test does reaches another)."""
    copies = {}
    for key, p in made.items():
        copies[key] = tmp_path / p.name
        (shutil.copytree if p.is_dir() else shutil.copy)(p, copies[key])
    return copies


def snapshot(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


# ---- an output is never an input ---------------------------------------------------------------

def _cases(w: dict[str, Path]) -> dict[str, tuple[list, Path]]:
    log, scenario, rules, sweep = w["log"], w["scenario"], w["rules"], w["sweep"]
    folder = log.parent
    (folder / "sub").mkdir(exist_ok=True)
    hard = folder / "hard.jsonl"
    if not hard.exists():
        os.link(log, hard)
    soft = folder / "soft.jsonl"
    if not soft.is_symlink():
        soft.symlink_to(log)
    chunk = sorted((sweep / "runs").glob("part-*.parquet"))[0]
    return {
        "fork onto its parent": (["fork", log, "--turn", 2, "--out", log], log),
        "fork onto its parent, spelt with ..": (
            ["fork", log, "--turn", 2, "--out", folder / "sub" / ".." / log.name], log),
        "fork onto a hard link of its parent": (
            ["fork", log, "--turn", 2, "--out", hard, "--force"], log),
        "fork onto a symbolic link to its parent": (
            ["fork", log, "--turn", 2, "--out", soft, "--force"], log),
        "report over its log": (["report", log, "--out", log, "--force"], log),
        "run over its scenario": (["run", scenario, "--out", scenario, "--force", "-q"],
                                  scenario),
        "run over its rules": (["run", scenario, "--rules", rules, "--out", rules, "-q"], rules),
        "brief over its scenario": (["brief", scenario, "--out", scenario, "--force"],
                                    scenario),
        "brief over a built-in scenario's file": (
            ["brief", "classroom-tutorial", "--out", TUTORIAL, "--force"], TUTORIAL),
        "sweep run over the manifest": (
            ["sweep", "run", sweep, "--run", "0-0", "--out", sweep / "manifest.json",
             "--force"], sweep / "manifest.json"),
        "sweep run over a chunk": (
            ["sweep", "run", sweep, "--run", "0-0", "--out", chunk, "--force"], chunk),
        "sweep start into its scenario": (
            ["sweep", scenario, "--runs", 2, "--backend", "inprocess", "--out", scenario],
            scenario),
        "sweep start into the log it replays": (
            ["sweep", "--blue-orders-from", log, "--runs", 2, "--backend", "inprocess", "--out",
             log], log),
        "play over its scenario": (
            ["play", scenario, "--blue", "doctrine", "--red", "doctrine", "--out", scenario],
            scenario),
        "serve over its scenario": (["serve", scenario, "--port", 0, "--out", scenario],
                                    scenario),
    }


CASES = ["fork onto its parent", "fork onto its parent, spelt with ..",
         "fork onto a hard link of its parent", "fork onto a symbolic link to its parent",
         "report over its log", "run over its scenario", "run over its rules",
         "brief over its scenario", "brief over a built-in scenario's file",
         "sweep run over the manifest", "sweep run over a chunk",
         "sweep start into its scenario", "sweep start into the log it replays",
         "play over its scenario", "serve over its scenario"]


@pytest.mark.parametrize("case", CASES)
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(work, case):
    args, kept = _cases(work)[case]
    before = kept.read_bytes()
    code, said = invoke(*args)
    assert code == 2, said
    assert ("is an input of this command" in said or "is part of the sweep" in said
            or "a sweep writes its results into a folder" in said), said
    assert len(said.strip().splitlines()) == 1, said
    assert kept.read_bytes() == before
    assert not leftovers(kept.parent)


def test_a_report_whose_default_name_is_its_log_is_refused(work):
    log = work["log"].rename(work["log"].with_suffix(".html"))  # a log named game.html
    before = log.read_bytes()
    code, said = invoke("report", log, "--force")
    assert code == 2 and "is an input of this command" in said
    assert log.read_bytes() == before


def test_refusals_are_one_line_without_a_traceback_from_the_installed_command(work):
    log, scenario = work["log"], work["scenario"]
    before = snapshot(log, scenario)
    one_line_error(wargame("fork", log, "--turn", "2", "--out", log), "is an input")
    one_line_error(wargame("report", log, "--out", log), "is an input")
    one_line_error(wargame("run", scenario, "--out", scenario), "is an input")
    assert snapshot(log, scenario) == before


# ---- an existing file is kept unless --force ---------------------------------------------------

def _existing(w: dict[str, Path]) -> dict[str, list]:
    log, scenario, sweep = w["log"], w["scenario"], w["sweep"]
    out = log.parent / "out"
    return {
        "run": ["run", scenario, "--turns", 2, "-q", "--out", out.with_suffix(".jsonl")],
        "fork": ["fork", log, "--turn", 2, "--seed", 3, "--out", out.with_suffix(".jsonl")],
        "brief": ["brief", scenario, "--side", "red", "--out", out.with_suffix(".md")],
        "report": ["report", log, "--out", out.with_suffix(".html")],
        "sweep run": ["sweep", "run", sweep, "--run", "0-1", "--out", out.with_suffix(".jsonl")],
    }


@pytest.mark.parametrize("command", ["run", "fork", "brief", "report", "sweep run"])
def test_an_existing_output_is_refused_without_force_and_replaced_with_it(work, command):
    args = _existing(work)[command]
    target = Path(args[-1])
    target.write_bytes(b"precious\n")
    code, said = invoke(*args)
    assert code == 2 and "already exists; add --force" in said, said
    assert target.read_bytes() == b"precious\n"
    code, said = invoke(*args, "--force")
    assert code == 0, said
    assert target.read_bytes() != b"precious\n"
    if target.suffix == ".jsonl":
        assert verify(target).ok
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o666 & ~_umask(), oct(mode)  # not the temporary file's 0600
    assert not leftovers(target.parent)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_markdown_report_keeps_an_existing_figures_folder_unless_forced(work):
    log = work["log"]
    target = log.parent / "aar.md"
    figures = log.parent / "aar_files"
    figures.mkdir()
    (figures / "mine.txt").write_text("keep")
    code, said = invoke("report", log, "--out", target)
    assert code == 2 and "aar_files: already exists" in said and not target.exists()
    assert (figures / "mine.txt").read_text() == "keep"
    code, said = invoke("report", log, "--out", target, "--force")
    assert code == 0, said
    assert target.exists() and not (figures / "mine.txt").exists()
    assert any(figures.glob("*.png"))
    assert "aar_files/" in target.read_text(encoding="utf-8")
    assert not leftovers(log.parent) and not [p for p in log.parent.iterdir()
                                              if p.name.startswith(".")]


def test_an_output_that_is_a_folder_is_refused(work):
    folder = work["log"].parent / "afolder"
    folder.mkdir()
    code, said = invoke("run", work["scenario"], "-q", "--out", folder, "--force")
    assert code == 2 and "is a folder" in said


# ---- written whole or not at all ---------------------------------------------------------------

class Boom(Exception):
    pass


def _fail_at_turn(monkeypatch, turn: int, error: BaseException) -> None:
    real = LogWriter.end_turn

    def end_turn(self, t: int) -> None:
        real(self, t)
        if t == turn:
            raise error

    monkeypatch.setattr(LogWriter, "end_turn", end_turn)


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   KeyboardInterrupt(), Boom("crash")],
                         ids=["full disk", "ctrl-c", "crash"])
def test_a_run_that_fails_midway_leaves_the_old_log_byte_for_byte(work, monkeypatch, error):
    scenario = work["scenario"]
    out = scenario.parent / "game-out.jsonl"
    shutil.copy(work["log"], out)
    before = out.read_bytes()
    _fail_at_turn(monkeypatch, 2, error)
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--force", "-q"])
    assert result.exit_code != 0
    if isinstance(error, OSError):
        assert isinstance(result.exception, EngineError)
        assert str(result.exception) == f"{out}: cannot write: No space left on device"
    assert out.read_bytes() == before
    assert not leftovers(out.parent)


def test_a_run_that_fails_midway_leaves_no_partial_log(work, monkeypatch):
    scenario = work["scenario"]
    out = scenario.parent / "new.jsonl"
    _fail_at_turn(monkeypatch, 2, KeyboardInterrupt())
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "-q"])
    assert result.exit_code != 0
    assert not out.exists() and not leftovers(out.parent)


def test_a_fork_that_fails_midway_leaves_the_old_file(work, monkeypatch):
    log = work["log"]
    out = log.parent / "fork.jsonl"
    out.write_bytes(b"an older fork\n")
    _fail_at_turn(monkeypatch, 3, OSError(errno.ENOSPC, "No space left on device"))
    code, said = invoke("fork", log, "--turn", 2, "--seed", 1, "--out", out, "--force")
    assert code == 2 and "No space left on device" in said
    assert out.read_bytes() == b"an older fork\n" and not leftovers(out.parent)


def test_a_brief_or_report_that_fails_midway_leaves_the_old_file(work, monkeypatch):
    import engine.present.report as report

    folder = work["log"].parent
    brief, aar = folder / "brief.md", folder / "aar.html"
    brief.write_text("old brief")
    aar.write_text("old report")

    def half_then_full(self, text, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as fh:
            fh.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(Path, "write_text", half_then_full)
        code, said = invoke("brief", work["scenario"], "--out", brief, "--force")
    assert code == 2 and said.count("No space left on device") == 1
    monkeypatch.setattr(report, "to_html", lambda doc: (_ for _ in ()).throw(Boom("crash")))
    result = runner.invoke(app, ["report", str(work["log"]), "--out", str(aar), "--force"])
    assert isinstance(result.exception, Boom)
    assert brief.read_text() == "old brief" and aar.read_text() == "old report"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


# ---- unwritable places and full disks ----------------------------------------------------------

@pytest.fixture
def unwritable(tmp_path) -> Path:
    """A folder this process cannot create files in: a read-only folder, or (as root, whom
    permissions do not stop) a folder of a read-only system tree."""
    ro = tmp_path / "readonly"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        (ro / "probe").touch()
    except OSError:
        yield ro
        ro.chmod(0o755)
        return
    (ro / "probe").unlink()
    ro.chmod(0o755)
    for candidate in (Path("/sys/wargame-test"), Path("/proc/wargame-test")):
        try:
            candidate.mkdir()
        except OSError:
            yield candidate
            return
        candidate.rmdir()
    pytest.skip("no unwritable folder here (root on a writable system)")


def test_an_unwritable_out_is_one_line_and_exit_2_for_every_command(work, unwritable, tmp_path):
    log, scenario, sweep = work["log"], work["scenario"], work["sweep"]
    under_a_file = scenario / "x.jsonl"  # a path through a regular file
    for args, target in [
        (["run", scenario, "--turns", "2", "-q"], unwritable / "r.jsonl"),
        (["run", scenario, "--turns", "2", "-q"], under_a_file),
        (["fork", log, "--turn", "2"], unwritable / "f.jsonl"),
        (["brief", scenario], unwritable / "b.md"),
        (["report", log], unwritable / "a.html"),
        (["sweep", "run", sweep, "--run", "0-1"], unwritable / "s.jsonl"),
        (["sweep", scenario, "--runs", "2", "--backend", "inprocess"], unwritable / "sweep"),
        (["play", scenario, "--blue", "doctrine", "--red", "doctrine", "--no-umpire"],
         unwritable / "p.jsonl"),
    ]:
        done = wargame(*args, "--out", target, cwd=tmp_path)
        one_line_error(done, str(target), "cannot write")
        assert "Traceback" not in done.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_standard_output_is_one_line_and_a_run_still_writes_its_log(work, tmp_path):
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(WARGAME), "brief", str(work["scenario"])], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
        log = tmp_path / "full.jsonl"
        done = subprocess.run([str(WARGAME), "run", str(work["scenario"]), "--out", str(log)],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                              check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "standard output: cannot write" in done.stderr and "complete" in done.stderr
    assert verify(log).ok


# ---- wargame run | head -3 ---------------------------------------------------------------------

F_SETPIPE_SZ = 1031  # Linux


def test_a_closed_pipe_stops_the_story_not_the_game(work, tmp_path):
    """A real pipe, made as small as Linux allows (one page): the story (about 6 kB) cannot fit
    in it, so once the reader has read three lines and closed its end, the game's next
    write meets the closed pipe, whatever the timing."""
    log = tmp_path / "piped.jsonl"
    read, write = os.pipe()
    try:
        import fcntl
        fcntl.fcntl(write, F_SETPIPE_SZ, 4096)
    except (ImportError, OSError):
        pass
    proc = subprocess.Popen([str(WARGAME), "run", str(work["scenario"]), "--out", str(log)],
                            stdout=write, stderr=subprocess.PIPE, text=True)
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        lines = [reader.readline() for _ in range(3)]
    _, err = proc.communicate(timeout=120)
    assert all(lines) and b"First lesson" in lines[0]
    assert proc.returncode == 0, err
    assert err == "", err  # no traceback, no "Exception ignored"
    verdict = verify(log)
    assert verdict.ok and verdict.turns == 5, verdict.message


def test_wargame_run_piped_into_head(work, tmp_path):
    log = tmp_path / "head.jsonl"
    done = subprocess.run(["bash", "-o", "pipefail", "-c",
                           f"'{WARGAME}' run '{work['scenario']}' --out '{log}' | head -3"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3 and done.stderr == ""
    verdict = verify(log)
    assert verdict.ok and verdict.turns == 5, verdict.message
