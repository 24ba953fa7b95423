"""``wargame levers`` and ``wargame posture-diff`` in real subprocesses: exit codes, the table,
JSON, Markdown, and bad input refused with a clear message and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WARGAME = Path(sys.executable).parent / "wargame"


def wargame(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([str(WARGAME), *args], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120, check=False)


def test_levers_prints_a_table_and_a_summary() -> None:
    done = wargame("levers", "classroom-tutorial", "--runs", "3", "--workers", "1",
                   "--only", "blue.isr.mq9.aircraft", "--only", "rules.red_model.rationality")
    assert done.returncode in (0, 1), done.stderr
    assert "blue.isr.mq9.aircraft" in done.stdout and "ΔP(hold)" in done.stdout
    assert "2 parameters" in done.stdout and "Traceback" not in done.stderr


def test_levers_json_and_exit_status_follow_the_verdicts() -> None:
    done = wargame("levers", "classroom-tutorial", "--runs", "3", "--workers", "1",
                   "--only", "rules.red_model.weights", "--json")
    data = json.loads(done.stdout)
    failing = [p for p in data["parameters"] if p["status"] in ("DEAD", "WRONG-SIGN", "ERROR")]
    assert done.returncode == (1 if failing else 0)
    assert data["z"] == 3.0 and data["runs"] == 3
    assert {p["path"] for p in data["parameters"]} == {
        f"rules.red_model.weights.{k}" for k in ("gain", "cost", "escalation_risk",
                                                 "credibility")}


def test_levers_refuses_bad_input_with_exit_2() -> None:
    missing = wargame("levers", "no-such-scenario", "--runs", "2")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "no-such-scenario" in missing.stderr
    nothing = wargame("levers", "classroom-tutorial", "--runs", "2", "--only", "nowhere")
    assert nothing.returncode == 2 and "nowhere" in nothing.stderr
    assert "Traceback" not in nothing.stderr
    no_runs = wargame("levers", "classroom-tutorial")
    assert no_runs.returncode == 2 and "--runs" in no_runs.stderr


def test_posture_diff_markdown() -> None:
    done = wargame("posture-diff", "alliance-2023", "alliance-2024", "--runs", "2",
                   "--workers", "1", "--markdown")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("**`alliance-2023` → `alliance-2024`**")
    assert "| `blue.c2.consultation_h` |" in done.stdout


def test_posture_diff_refuses_an_unknown_posture() -> None:
    done = wargame("posture-diff", "alliance-2023", "nowhere-2030", "--runs", "2")
    assert done.returncode == 2 and "nowhere-2030" in done.stderr
    assert "Traceback" not in done.stderr
