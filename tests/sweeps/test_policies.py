"""Policies as code: Python callables (observation, menu) -> orders play a side in a sweep on
every backend (in this process, a spawned pool, a real Dask LocalCluster of two workers), with
the same results as ``engine.run`` with the same policy and seed; named in the manifest and in
the controller columns. A recorded game's Blue orders either stop at its last turn or hand over
to doctrine, as asked, and the tables say which. ``sweep(..., rules=<Rules>)`` works."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import engine
import engine.sweeps.runner
from engine import EngineError, Order, load_pair, load_rules
from engine.cli.main import app
from engine.io.eventlog import run_logged
from engine.spec.scenario import with_turns, with_values
from engine.sweeps.runner import (
    build_spec,
    execute,
    load_results,
    load_turns,
    regenerate_run,
    sweep,
)

pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
AIRCRAFT = "blue.isr.mq9.aircraft"


def aggressive(obs, menu):
    """Red: seize whenever it may, else an incursion."""
    for action in ("seize", "incursion"):
        if action in menu:
            return [Order(action)]
    return []


def surge(obs, menu):
    """Blue: surge ISR every turn."""
    return [Order("isr_tempo", {"level": "surge"})] if "isr_tempo" in menu else []


class Alternating:
    """Red with a memory: patrols on its odd calls and stands down on its even ones. Were its
    state carried from run to run, a run's result would depend on the batch it fell in."""

    name = "alternating"

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, obs, menu):
        self.calls += 1
        action = "patrol" if self.calls % 2 else "stand_down"
        return [Order(action)] if action in menu else []


POLICIES = {"red": aggressive, "blue": surge}


def same(a: pa.Table, b: pa.Table) -> None:
    assert a.schema.equals(b.schema) and a.equals(b)


@pytest.fixture(scope="module")
def spec():
    return build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=10, seed=4,
                      controllers=POLICIES)


@pytest.fixture(scope="module")
def reference(spec):
    return execute(spec, backend="inprocess", controllers=POLICIES)


def test_a_policy_plays_as_it_does_in_engine_run(spec, reference):
    base, rules = load_pair("classroom-tutorial")
    rows = reference.to_pylist()
    assert {(r["blue_controller"], r["red_controller"]) for r in rows} == {("surge",
                                                                          "aggressive")}
    for row in rows[::7]:
        s = with_values(base, spec["cells"][row["cell"]]["values"])
        outcome = engine.run(s, rules, row["seed"], POLICIES).outcome
        assert {k: row[k] for k in outcome} == outcome
    doctrine = execute(build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]},
                                  replications=10, seed=4), backend="inprocess")
    held = sum(reference.column("deterrence_held").to_pylist())
    assert held < sum(doctrine.column("deterrence_held").to_pylist()), "the policy plays"


def test_policies_on_a_process_pool(spec, reference, monkeypatch):
    monkeypatch.setattr(engine.sweeps.runner, "batch_size", lambda *a, **k: 3)
    same(execute(spec, backend="process", workers=2, controllers=POLICIES), reference)


def test_policies_on_a_dask_local_cluster(spec, reference, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(engine.sweeps.runner, "batch_size", lambda *a, **k: 4)
    same(execute(spec, backend="dask", workers=2, controllers=POLICIES), reference)


def test_a_policy_keeps_no_state_from_one_run_to_the_next(monkeypatch):
    spec = build_spec("classroom-tutorial", replications=6, seed=2,
                      controllers={"red": Alternating()})
    tables = []
    for size in (1, 4):
        monkeypatch.setattr(engine.sweeps.runner, "batch_size", lambda *a, size=size, **k: size)
        tables.append(execute(spec, backend="inprocess", controllers={"red": Alternating()}))
    same(*tables)
    s, r = load_pair("classroom-tutorial")
    for row in tables[0].to_pylist():
        outcome = engine.run(s, r, row["seed"], {"red": Alternating()}).outcome
        assert row["highest_rung"] == outcome["highest_rung"]
        assert row["red_controller"] == "alternating"


def test_a_lambda_travels_to_worker_processes(monkeypatch):
    policy = {"red": lambda obs, menu: [Order("stand_down")]}
    spec = build_spec("classroom-tutorial", replications=4, seed=1, controllers=policy)
    t = execute(spec, backend="process", workers=2, controllers=policy)
    assert set(t.column("highest_rung").to_pylist()) <= {"peacetime", "competition",
                                                         "crisis", "intense_crisis"}
    assert set(t.column("red_controller").to_pylist()) == {"<lambda>"}
    same(t, execute(spec, backend="inprocess", controllers=policy))


def test_an_unpicklable_policy_is_refused_before_any_run():
    class Locked:
        def __init__(self):
            self.lock = threading.Lock()

        def __call__(self, obs, menu):
            return []

    policy = {"red": Locked()}
    spec = build_spec("classroom-tutorial", replications=2, seed=1, controllers=policy)
    with pytest.raises(EngineError, match="cannot be sent to worker processes"):
        execute(spec, backend="inprocess", controllers=policy)
    with pytest.raises(EngineError, match="expected a side blue or red"):
        build_spec("classroom-tutorial", replications=2, seed=1, controllers={"white": surge})


def test_the_manifest_names_the_policies_and_a_resume_needs_them(spec, reference, tmp_path):
    out = tmp_path / "p"
    execute(spec, backend="inprocess", out=out, controllers=POLICIES)
    m = json.loads((out / "manifest.json").read_text())
    assert m["controllers"]["red"]["kind"] == "python"
    assert m["controllers"]["red"]["name"] == "aggressive"
    assert m["controllers"]["red"]["ref"].endswith(":aggressive")
    assert m["controllers"]["blue"]["ref"].endswith(":surge")
    same(load_results(out), reference)
    with pytest.raises(EngineError, match="played by Python policies"):
        execute(spec, backend="inprocess", out=out, resume=True)
    other = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 6]}, replications=10, seed=4,
                       controllers={"red": aggressive})
    with pytest.raises(EngineError, match="differs in controllers"):
        execute(other, backend="inprocess", out=out, resume=True,
                controllers={"red": aggressive})
    # one run's log, with the policies given again
    with pytest.raises(EngineError, match="regenerate_run"):
        regenerate_run(out, "1-3", tmp_path / "x.jsonl")
    row = next(r for r in reference.to_pylist() if r["run_id"] == "1-3")
    result, _ = regenerate_run(out, "1-3", tmp_path / "run.jsonl", controllers=POLICIES)
    assert result.outcome["highest_rung"] == row["highest_rung"]
    header = json.loads((tmp_path / "run.jsonl").read_text().splitlines()[0])
    assert header["controllers"] == {"blue": "surge", "red": "aggressive"}


def test_rules_given_as_a_model():
    rules = load_rules("standard")
    by_model = sweep("classroom-tutorial", replications=5, seed=3, rules=rules,
                     backend="inprocess", progress=False)
    by_name = sweep("classroom-tutorial", replications=5, seed=3, rules="standard",
                    backend="inprocess", progress=False)
    same(by_model, by_name)
    timid = rules.model_copy(update={"red_model": rules.red_model.model_copy(
        update={"rationality": 0.0})})
    other = sweep("classroom-tutorial", replications=5, seed=3, rules=timid,
                  backend="inprocess", progress=False)
    assert other.column("highest_rung").to_pylist() != by_name.column("highest_rung").to_pylist()


# ---- a recorded game's Blue orders ------------------------------------------------------------

@pytest.fixture(scope="module")
def three_turn_game(tmp_path_factory) -> Path:
    """A logged game of the tutorial cut to 3 of its 5 turns, played by doctrine."""
    s, r = load_pair("classroom-tutorial")
    log = tmp_path_factory.mktemp("game") / "game.jsonl"
    run_logged(with_turns(s, 3), r, 5, log)
    return log


@pytest.mark.parametrize("after", ["stop", "doctrine"])
def test_recorded_blue_orders_stop_or_hand_over_to_doctrine(three_turn_game, tmp_path, after,
                                                             monkeypatch):
    from engine.io.replay import read_log, scan

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["sweep", "classroom-tutorial", "--blue-orders-from",
                                   str(three_turn_game), "--after-recorded", after, "--runs",
                                   "6", "--backend", "inprocess", "--out", "o"])
    assert res.exit_code == 0, res.output
    runs, turns = load_results(tmp_path / "o"), load_turns(tmp_path / "o")
    name = "recorded" if after == "stop" else "recorded-then-doctrine"
    assert set(runs.column("blue_controller").to_pylist()) == {name}
    assert set(runs.column("blue_scripted_turns").to_pylist()) == {3}
    played = runs.column("turns_played").to_pylist()
    if after == "stop":
        assert max(played) == 3, "the runs end at the recorded game's last turn"
        assert "the runs stop there" in res.output
    else:
        assert max(played) == 5, "doctrine plays the scenario's remaining turns"
        assert "doctrine plays on" in res.output
    recorded = scan(read_log(three_turn_game)).orders["blue"]
    for row in turns.to_pylist():
        if row["turn"] <= 3:
            assert row["blue_actions"] == "+".join(o.action for o in recorded.get(row["turn"],
                                                                                     []))
    later = [r["blue_actions"] for r in turns.to_pylist() if r["turn"] > 3]
    assert (later == []) if after == "stop" else any(later)
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["controllers"]["blue"] == {"kind": "recorded", "after": after, "turns": 3,
                                        "name": name}
