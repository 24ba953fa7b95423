"""``--until-halfwidth``: rounds of replications until every cell's Wilson 95% half-width for
P(deterrence holds) is at most the target, the same rounds and results whatever the workers; a
cap on replications; the API without a folder; the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from engine import EngineError
from engine.cli.main import app
from engine.sweeps.runner import (
    SUMMARY_COLUMNS,
    build_spec,
    load_results,
    sweep,
    until_halfwidth,
)
from engine.sweeps.store import iter_rows
from engine.sweeps.summary import halfwidth, summarize_rows

AIRCRAFT = "blue.isr.mq9.aircraft"


def spec_of(runs: int = 10):
    return build_spec("classroom-tutorial", vary={AIRCRAFT: [1, 6]}, replications=runs,
                      seed=9)


def widths(folder) -> list[float]:
    cells = json.loads((folder / "manifest.json").read_text())["spec"]["cells"]
    return [halfwidth(s) for s in summarize_rows(iter_rows(folder, SUMMARY_COLUMNS),
                                                 cells).values()]


def test_rounds_stop_at_the_target_whatever_the_workers(tmp_path):
    said: dict[str, list[str]] = {"inprocess": [], "process": []}
    for backend, messages in said.items():
        assert until_halfwidth(spec_of(), 0.1, out=tmp_path / backend, backend=backend,
                               workers=2, say=messages.append)
    assert said["inprocess"] == said["process"]
    rounds = [m for m in said["inprocess"] if m.startswith("widest half-width")]
    assert rounds, "the first round was not enough"
    assert load_results(tmp_path / "inprocess").equals(load_results(tmp_path / "process"))
    reps = json.loads((tmp_path / "process" / "manifest.json").read_text())["replications"]
    assert reps > 10 and said["inprocess"][-1].endswith(f"with {reps} replications per cell")
    assert max(widths(tmp_path / "process")) <= 0.1
    assert load_results(tmp_path / "process").num_rows == 2 * reps


def test_a_cap_stops_the_rounds_and_says_so(tmp_path):
    said: list[str] = []
    assert not until_halfwidth(spec_of(), 0.01, out=tmp_path / "c", max_replications=25,
                               backend="inprocess", say=said.append)
    assert said[-1].endswith("(stopped at --max-runs 25)")
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["replications"] == 25
    assert max(widths(tmp_path / "c")) > 0.01
    with pytest.raises(EngineError, match="--max-runs"):
        until_halfwidth(spec_of(), 0.1, out=tmp_path / "d", max_replications=5)


def test_the_api_runs_rounds_without_a_folder(tmp_path):
    t = sweep("classroom-tutorial", vary={AIRCRAFT: [1, 6]}, replications=10, seed=9,
              until_halfwidth=0.1, backend="inprocess", progress=False)
    until_halfwidth(spec_of(), 0.1, out=tmp_path / "f", backend="inprocess", say=lambda _: None)
    assert t.equals(load_results(tmp_path / "f"))


def test_the_command_line_runs_rounds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["sweep", "classroom-tutorial", "--vary", f"{AIRCRAFT}=1,6",
                                   "--runs", "10", "--seed", "9", "--until-halfwidth", "0.1",
                                   "--backend", "inprocess", "--out", "u"])
    assert res.exit_code == 0, res.output
    assert "widest half-width" in res.output and "Deterrence by cell" in res.output
    assert max(widths(tmp_path / "u")) <= 0.1


TARGET = "sweep: --until-halfwidth: expected a half-width between 0 and 0.5 (e.g. 0.02), found"


@pytest.mark.parametrize("target", [0, -1, 0.5, 0.7, float("nan")])
def test_a_bad_target_is_refused_before_any_run(tmp_path, target):
    with pytest.raises(EngineError) as caught:
        until_halfwidth(spec_of(), target, out=tmp_path / "r", backend="inprocess")
    assert str(caught.value) == f"{TARGET} {target!r}"
    with pytest.raises(EngineError) as caught:
        sweep("classroom-tutorial", replications=2, until_halfwidth=target,
              out=tmp_path / "s", backend="inprocess", progress=False)
    assert str(caught.value) == f"{TARGET} {target!r}"
    assert list(tmp_path.iterdir()) == [], "a refused target must leave nothing on disk"


def test_a_cap_without_a_target_is_refused():
    with pytest.raises(EngineError) as caught:
        sweep("classroom-tutorial", replications=2, max_replications=5, backend="inprocess",
              progress=False)
    assert str(caught.value).startswith("sweep: max_replications: caps the rounds of "
                                        "until_halfwidth")


@pytest.mark.parametrize(("value", "message"), [
    ("0", f"error: {TARGET} 0.0"),
    ("0.5", f"error: {TARGET} 0.5"),
    ("-1", "Invalid value for '--until-halfwidth'"),
])
def test_the_command_line_refuses_a_bad_target_and_writes_nothing(tmp_path, monkeypatch, value,
                                                                   message):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["sweep", "classroom-tutorial", "--runs", "2",
                                   "--until-halfwidth", value, "--backend", "inprocess"])
    text = str(res.exception) if isinstance(res.exception, EngineError) else res.output
    code = res.exception.exit_code if isinstance(res.exception, EngineError) else res.exit_code
    assert code == 2 and message.removeprefix("error: ") in text, text
    assert list(tmp_path.iterdir()) == [], "no default folder, no part"
