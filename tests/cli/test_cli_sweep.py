"""``wargame sweep`` in real subprocesses: bad paths, values and option formats exit 2 with a
clear message and no traceback; sweeps equal the API's; ``sweep run`` regenerates a run's log
that ``wargame verify`` accepts; ``--blue-orders-from`` replays a game's Blue orders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from engine import EngineError
from engine.cli.main import app
from engine.cli.sweep import default_name
from engine.io.replay import read_log, scan
from engine.sweeps.runner import OUTCOME_FIELDS, build_spec, execute, load_results, regenerate_run

WARGAME = Path(sys.executable).parent / "wargame"
AIRCRAFT = "blue.isr.mq9.aircraft"
MEASURES = [name for name, _ in OUTCOME_FIELDS]


def run_wargame(*args, cwd: Path | None = None, env: dict | None = None,
                timeout: float = 180) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200", **(env or {})}
    return subprocess.run([str(WARGAME), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=full_env, cwd=cwd, timeout=timeout,
                          check=False)


def assert_same(a, b) -> None:
    key = [("cell", "ascending"), ("replication", "ascending")]
    assert a.sort_by(key).equals(b.sort_by(key))


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_sweep")


@pytest.fixture(scope="module")
def tutorial(work) -> tuple[Path, subprocess.CompletedProcess]:
    """A sweep made by the command: 2 cells x 6 runs on two worker processes."""
    out = work / "tutorial"
    res = run_wargame("sweep", "classroom-tutorial", "--vary", f"{AIRCRAFT}=2,6", "--runs", 6,
                      "--seed", 7, "--workers", 2, "--out", out)
    assert res.returncode == 0, res.stderr
    return out, res


@pytest.fixture(scope="module")
def game(work) -> Path:
    """One logged game of the tutorial, played by doctrine."""
    log = work / "game.jsonl"
    res = run_wargame("run", "classroom-tutorial", "--seed", 5, "--out", log, "--quiet")
    assert res.returncode == 0, res.stderr
    return log


# ---- bad input: exit 2, a clear message, no traceback ----------------------------------------

SWEEP = ["sweep", "classroom-tutorial", "--runs", "2"]
BAD: dict[str, tuple[list[str], str]] = {
    "unknown path": ([*SWEEP, "--vary", "blue.nope=1,2"], "no field 'nope'"),
    "path past a list's end": ([*SWEEP, "--vary", "blue.isr.mq9.zones.7=ecs_central"],
                               "out of range"),
    "value of the wrong type": ([*SWEEP, "--vary", f"{AIRCRAFT}=2,many"],
                                "valid integer"),
    "value out of bounds": ([*SWEEP, "--vary", "blue.isr.mq9.availability=0.5,1.5"],
                            "less than or equal to 1"),
    "vary without values": ([*SWEEP, "--vary", AIRCRAFT], "expected PATH=v1,v2"),
    "vary with an empty value": ([*SWEEP, "--vary", f"{AIRCRAFT}=1,,2"],
                                 f"found '{AIRCRAFT}=1,,2': empty value between commas"),
    "vary with a trailing comma": ([*SWEEP, "--vary", f"{AIRCRAFT}=1,2,"],
                                   "empty value after the last comma"),
    "half-width zero": ([*SWEEP, "--until-halfwidth", "0"],
                        "sweep: --until-halfwidth: expected a half-width between 0 and 0.5"),
    "half-width negative": ([*SWEEP, "--until-halfwidth", "-1"],
                            "Invalid value for '--until-halfwidth'"),
    "max-runs without a half-width": ([*SWEEP, "--max-runs", "50"],
                                      "sweep: --max-runs: caps the rounds of "
                                      "--until-halfwidth"),
    "after-recorded without recorded orders": ([*SWEEP, "--after-recorded", "doctrine"],
                                               "sweep: --after-recorded: says what Blue does "
                                               "after a recorded game's last turn"),
    "lhs reversed": ([*SWEEP, "--lhs", f"{AIRCRAFT}=8:1", "--samples", "3"], "lo <= hi"),
    "lhs with a dash": ([*SWEEP, "--lhs", f"{AIRCRAFT}=1-8", "--samples", "3"],
                        "PATH=lo:hi"),
    "lhs with three numbers": ([*SWEEP, "--lhs", f"{AIRCRAFT}=1:2:3", "--samples", "3"],
                               "PATH=lo:hi"),
    "lhs without samples": ([*SWEEP, "--lhs", f"{AIRCRAFT}=1:8"], "--samples"),
    "lhs unknown path": ([*SWEEP, "--lhs", "red.nope=1:8", "--samples", "2"],
                         "no field 'nope'"),
    "lhs value out of bounds": ([*SWEEP, "--lhs", "blue.isr.mq9.availability=0.5:3",
                                 "--samples", "4"], "less than or equal to 1"),
    "lhs and vary together": ([*SWEEP, "--lhs", f"{AIRCRAFT}=1:8", "--samples", "3",
                               "--vary", "blue.isr.mq9.availability=0.5"],
                              "cannot be combined"),
    "zero samples": ([*SWEEP, "--lhs", f"{AIRCRAFT}=1:8", "--samples", "0"],
                     "Invalid value for '--samples'"),
    "zero runs": (["sweep", "classroom-tutorial", "--runs", "0"],
                  "Invalid value for '--runs'"),
    "unknown backend": ([*SWEEP, "--backend", "slurm"], "expected one of inprocess"),
    "scheduler address without port": ([*SWEEP, "--scheduler", "nohost"], "--scheduler"),
    "scheduler nobody listens on": ([*SWEEP, "--scheduler", "tcp://127.0.0.1:9"],
                                    "cannot use Dask scheduler"),
    "unknown scenario": (["sweep", "no-such-scenario", "--runs", "2"],
                         "no such file or built-in scenario"),
    "no scenario": (["sweep", "--runs", "2"], "name at least one scenario"),
    "orders from a missing log": ([*SWEEP, "--blue-orders-from", "missing.jsonl"],
                                  "cannot read"),
    "orders from a file that is not a log": ([*SWEEP, "--blue-orders-from", "not-a-log.txt"],
                                             "not a readable log"),
    "orders from an edited log": ([*SWEEP, "--blue-orders-from", "edited.jsonl"],
                                  "broken hash chain"),
    "orders from a cut log": ([*SWEEP, "--blue-orders-from", "cut.jsonl"], "truncated"),
    "summary of a non-sweep": (["sweep", "summary", "."], "not a sweep directory"),
    "run id malformed": (["sweep", "run", "{tutorial}", "--run", "three", "--out", "x.jsonl"],
                         "expected a run id CELL-REPLICATION"),
    "run id outside the sweep": (["sweep", "run", "{tutorial}", "--run", "2-0", "--out",
                                  "x.jsonl"], "is not in this sweep"),
    "another sweep's directory": (["sweep", "classroom-tutorial", "--vary", f"{AIRCRAFT}=2,6",
                                   "--runs", "6", "--seed", "8", "--out", "{tutorial}",
                                   "--resume"], "holds a different sweep"),
    "a rerun without --resume": (["sweep", "classroom-tutorial", "--vary", f"{AIRCRAFT}=2,6",
                                  "--runs", "6", "--seed", "7", "--out", "{tutorial}"],
                                 "add --resume"),
}


# these also run as real subprocesses (start-up costs about a second each); all run in-process
SUBPROCESS = ["unknown path", "path past a list's end", "value of the wrong type",
              "vary without values", "lhs reversed", "lhs with three numbers",
              "lhs without samples", "zero runs", "unknown backend", "half-width zero",
              "max-runs without a half-width", "after-recorded without recorded orders",
              "scheduler nobody listens on", "unknown scenario", "orders from an edited log",
              "run id outside the sweep", "another sweep's directory",
              "a rerun without --resume"]


@pytest.fixture(scope="module")
def bad_case(tutorial, game, work):
    """A fresh working directory (with the bad logs in it) and the arguments of a case."""
    folder, _ = tutorial
    lines = game.read_text().splitlines(keepends=True)
    files = {
        "not-a-log.txt": "hello\n",
        "edited.jsonl": "".join(lines[:3]) + lines[3].replace('"turn":1', '"turn":2', 1)
        + "".join(lines[4:]),
        "cut.jsonl": "".join(lines[: len(lines) // 2]),
    }

    def make(name: str, where: str) -> tuple[Path, list[str]]:
        cwd = work / where / name.replace(" ", "-").replace("'", "")
        cwd.mkdir(parents=True)
        for f, text in files.items():
            (cwd / f).write_text(text)
        args = [a.replace("{tutorial}", str(folder)) for a in BAD[name][0]]
        if args[:2] not in (["sweep", "summary"], ["sweep", "run"]) and "--out" not in args:
            args += ["--out", "out"]
        return cwd, args

    return make


@pytest.fixture(scope="module")
def bad_results(bad_case) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """The subprocess cases, run a few at a time."""
    env = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}

    def one(name: str):
        cwd, args = bad_case(name, "subprocess")
        return cwd, run_wargame(*args, cwd=cwd, env=env, timeout=120)

    # cases on the shared tutorial folder take its lock in turn: run together, one would be
    # refused as "in use by another sweep" before it reached the problem it is about
    shared = [n for n in SUBPROCESS if any("{tutorial}" in a for a in BAD[n][0])]
    alone = [n for n in SUBPROCESS if n not in shared]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(alone, pool.map(one, alone), strict=True))
    return {**results, **{name: one(name) for name in shared}}


@pytest.mark.parametrize("name", SUBPROCESS)
def test_bad_input_exits_2_with_a_clear_message(bad_results, name):
    cwd, res = bad_results[name]
    words = BAD[name][1]
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert words in res.stderr, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert not (cwd / "runs").exists(), "a refused sweep must not write a default directory"


@pytest.mark.parametrize("name", [n for n in BAD if n != "scheduler nobody listens on"])
def test_bad_input_is_refused_in_process_too(bad_case, monkeypatch, name):
    """The same cases through typer's runner, errors mapped to exit codes as ``main`` does."""
    cwd, args = bad_case(name, "in-process")
    monkeypatch.chdir(cwd)
    res = CliRunner().invoke(app, args)
    if isinstance(res.exception, EngineError):
        code, text = res.exception.exit_code, str(res.exception)
    else:
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
        code, text = res.exit_code, res.output
    assert code == 2, text
    assert BAD[name][1] in text


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_bad_half_width_writes_nothing_at_all(tmp_path, value):
    """Without --out the sweep would write runs/sweep-HASH: a refused target must not."""
    res = run_wargame("sweep", "classroom-tutorial", "--runs", 2, "--until-halfwidth", value,
                      cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "--until-halfwidth" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_worker_killed_mid_sweep_is_one_line_and_exit_2(tmp_path):
    """A pool worker SIGKILLed (as the kernel's OOM killer would): the parts written stay, the
    command says what happened in one line, exit 2, no traceback."""
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "k"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200",
           "WARGAME_SWEEP_CHUNK_ROWS": "5"}
    proc = subprocess.Popen([str(WARGAME), "sweep", "classroom-tutorial", "--runs", "3000",
                             "--workers", "2", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)
    try:
        deadline = time.monotonic() + 120
        while not list((out / "runs").glob("part-*.parquet")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        workers = [p for p in psutil.Process(proc.pid).children()
                   if "spawn_main" in " ".join(p.cmdline())]
        workers[0].kill()
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr + stdout
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(
        "error: sweep: --backend process: a worker process died"), stderr
    assert 0 < load_results(out).num_rows < 3000


def test_refused_runs_leave_the_existing_sweep_untouched(bad_results, tutorial):
    folder, _ = tutorial
    spec = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=6, seed=7)
    assert json.loads((folder / "manifest.json").read_text())["key"] == spec["key"]
    assert load_results(folder).num_rows == 12


# ---- sweeps from the command line -----------------------------------------------------------

def test_the_command_equals_the_api(tutorial):
    folder, res = tutorial
    assert "Deterrence by cell" in res.stdout and "P(held)" in res.stdout
    assert f"results: {folder}" in res.stdout
    spec = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=6, seed=7)
    assert_same(load_results(folder), execute(spec, backend="inprocess"))
    assert sorted(p.name for p in folder.iterdir()) == ["lock", "manifest.json", "runs", "turns"]
    for table in ("runs", "turns"):  # a table's folder holds its parts and nothing else
        assert sorted(p.name for p in (folder / table).iterdir()) == ["part-000000.parquet"]


def _parts(folder: Path) -> dict[str, bytes]:
    return {f"{t}/{p.name}": p.read_bytes() for t in ("runs", "turns")
            for p in (folder / t).iterdir()}


def test_resume_of_a_finished_sweep_changes_nothing(tutorial, work):
    """The parts stay byte for byte and the manifest records the same parts (it may be
    rewritten)."""
    folder, _ = tutorial
    before = _parts(folder)
    recorded = json.loads((folder / "manifest.json").read_text())["parts"]
    res = run_wargame("sweep", "classroom-tutorial", "--vary", f"{AIRCRAFT}=2,6", "--runs", 6,
                      "--seed", 7, "--workers", 2, "--out", folder, "--resume")
    assert res.returncode == 0, res.stderr
    assert _parts(folder) == before
    assert json.loads((folder / "manifest.json").read_text())["parts"] == recorded


def test_independent_lhs_sweep_in_process(work):
    out = work / "lhs"
    res = run_wargame("sweep", "classroom-tutorial", "--lhs", f"{AIRCRAFT}=1:8", "--lhs",
                      "blue.isr.mq9.availability=0.5:0.95", "--samples", 3, "--runs", 4,
                      "--independent", "--backend", "inprocess", "--seed", 3, "--out", out)
    assert res.returncode == 0, res.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["seeding"] == "independent" and m["design"]["kind"] == "lhs"
    spec = build_spec("classroom-tutorial", design="lhs",
                      ranges={AIRCRAFT: (1, 8), "blue.isr.mq9.availability": (0.5, 0.95)},
                      samples=3, replications=4, seed=3, seeding="independent")
    assert m["key"] == spec["key"]
    assert_same(load_results(out), execute(spec, backend="inprocess"))


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_scheduler_option_runs_on_dask(work):
    distributed = pytest.importorskip("distributed")
    out = work / "dask"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        res = run_wargame("sweep", "classroom-tutorial", "--runs", 8, "--seed", 2,
                          "--scheduler", cluster.scheduler_address, "--out", out)
    assert res.returncode == 0, res.stderr
    spec = build_spec("classroom-tutorial", replications=8, seed=2)
    assert_same(load_results(out), execute(spec, backend="inprocess"))


def test_default_directory_is_named_after_the_sweep(work):
    cwd = work / "default-dir"
    cwd.mkdir()
    res = run_wargame("sweep", "classroom-tutorial", "--runs", 3, "--backend", "inprocess",
                      cwd=cwd)
    assert res.returncode == 0, res.stderr
    name = default_name(build_spec("classroom-tutorial", replications=3, seed=0))
    assert [p.name for p in (cwd / "runs").iterdir()] == [f"sweep-{name}"]
    assert (cwd / "runs" / f"sweep-{name}" / "manifest.json").exists()
    assert f"results: runs/sweep-{name}" in res.stdout


# ---- one run's full log ---------------------------------------------------------------------

def _footer(log: Path) -> dict:
    return json.loads(log.read_text().splitlines()[-1])


def test_sweep_run_regenerates_a_log_that_matches_its_row_and_verifies(tutorial, work):
    folder, _ = tutorial
    rows = {r["run_id"]: r for r in load_results(folder).to_pylist()}
    for rid in ("1-4", "0-0"):
        log = work / f"run-{rid}.jsonl"
        res = run_wargame("sweep", "run", folder, "--run", rid, "--out", log)
        assert res.returncode == 0, res.stderr
        assert f"run {rid} -> {log}" in res.stdout
        footer = _footer(log)
        assert footer["outcome"] == {k: rows[rid][k] for k in MEASURES}
        assert footer["turns"] == rows[rid]["turns_played"]
        header = json.loads(log.read_text().splitlines()[0])
        cell, rep = map(int, rid.split("-"))
        # the row's seed is the run's whole seed (engine.run(s, r, seed) replays it): with common
        # random numbers, SeedSequence(root, spawn_key=(replication,)) folded to 63 bits
        crn = np.random.SeedSequence(7, spawn_key=(rep,)).generate_state(1, np.uint64)[0] >> 1
        assert rows[rid]["seed"] == int(crn) == rows[f"{1 - cell}-{rep}"]["seed"]
        assert header["seed"] == {"entropy": rows[rid]["seed"], "spawn_key": []}
        assert header["scenario"]["blue"]["isr"]["mq9"]["aircraft"] == [2, 6][cell]
        check = run_wargame("verify", log)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "verified" in check.stdout


# ---- a game's Blue orders against fresh Red seeds -------------------------------------------

def _blue_orders(log: Path) -> dict[int, list[dict]]:
    return {t: [o.to_json() for o in orders]
            for t, orders in scan(read_log(log)).orders["blue"].items()}


def test_blue_orders_from_a_game_are_used_in_every_run(game, work):
    out = work / "replayed"
    res = run_wargame("sweep", "--blue-orders-from", game, "--runs", 5, "--workers", 2,
                      "--out", out)
    assert res.returncode == 0, res.stderr
    t = load_results(out)
    assert t.num_rows == 5 and set(t.column("scenario").to_pylist()) == {"classroom-tutorial"}
    original = _blue_orders(game)
    game_turns = _footer(game)["turns"]
    assert original and all(original[t] for t in original)
    outcomes = []
    for row in t.to_pylist():
        log = work / f"replayed-{row['run_id']}.jsonl"
        regenerate_run(out, row["run_id"], log)
        header = json.loads(log.read_text().splitlines()[0])
        assert header["controllers"]["blue"] == "recorded"
        assert header["controllers"]["red"] == "doctrine"
        footer = _footer(log)
        assert footer["outcome"] == {k: row[k] for k in MEASURES}
        replayed = _blue_orders(log)
        for turn in range(1, footer["turns"] + 1):
            want = original.get(turn, []) if turn <= game_turns else []
            assert replayed[turn] == want, (row["run_id"], turn)
        outcomes.append(json.dumps(footer["outcome"], sort_keys=True))
    assert len(set(outcomes)) > 1, "fresh Red seeds should not all play out the same"
    check = run_wargame("verify", work / "replayed-0-3.jsonl")
    assert check.returncode == 0, check.stdout + check.stderr


def test_blue_orders_from_a_game_use_the_game_rules(work):
    """A game played with its own rules file is replayed under those rules, not the rule set
    its scenario names."""
    rules = Path(__file__).resolve().parents[2] / "engine" / "data" / "rules" / "standard.yaml"
    custom = work / "custom-rules.yaml"
    custom.write_text(rules.read_text().replace("Routine presence and patrols",
                                                "Routine presence (custom teaching rules)"))
    log = work / "custom-game.jsonl"
    res = run_wargame("run", "classroom-tutorial", "--rules", custom, "--out", log, "--quiet")
    assert res.returncode == 0, res.stderr
    out = work / "custom-replayed"
    res = run_wargame("sweep", "--blue-orders-from", log, "--runs", 2, "--backend",
                      "inprocess", "--out", out)
    assert res.returncode == 0, res.stderr
    regenerated = work / "custom-replayed-0-1.jsonl"
    regenerate_run(out, "0-1", regenerated)
    first = [json.loads(p.read_text().splitlines()[0]) for p in (log, regenerated)]
    assert "custom teaching rules" in json.dumps(first[0]["rules"])
    assert first[1]["rules"] == first[0]["rules"]
