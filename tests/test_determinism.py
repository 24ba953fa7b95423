"""Determinism is a contract: same scenario, rules, seed and decisions give identical bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine import load_pair
from engine.io.loading import builtin_names
from engine.testing import check_scenario, golden_cases, golden_path, regenerate_golden

GOLDEN = Path(__file__).parent / "golden"
BUILTINS = builtin_names("scenarios")


def _log_in_subprocess(tmp: Path, name: str, seed: int, tag: str) -> bytes:
    out = tmp / f"{tag}.jsonl"
    code = ("import sys; from engine import load_pair; from engine.io.eventlog import run_logged;"
            f"s, r = load_pair({name!r}); run_logged(s, r, {seed}, sys.argv[1])")
    # PYTHONHASHSEED differs between the two processes: nothing may depend on str hashing
    subprocess.run([sys.executable, "-c", code, str(out)], check=True,
                   env={"PYTHONHASHSEED": "1" if tag.endswith("a") else "2",
                        "PATH": "/usr/bin:/bin"})
    return out.read_bytes()


def test_same_seed_gives_identical_bytes_in_two_processes(tmp_path):
    a = _log_in_subprocess(tmp_path, "alliance-2024", 11, "1a")
    b = _log_in_subprocess(tmp_path, "alliance-2024", 11, "1b")
    assert a == b and len(a) > 10_000


def test_different_seeds_give_different_logs(tmp_path):
    a = _log_in_subprocess(tmp_path, "alliance-2024", 11, "2a")
    c = _log_in_subprocess(tmp_path, "alliance-2024", 12, "2b")
    assert a != c


@pytest.mark.parametrize("name", BUILTINS)
def test_conformance_over_every_builtin(name):
    s, r = load_pair(name)
    check_scenario(s, r, seeds=(0, 5))


@pytest.fixture(scope="module")
def fresh_golden(tmp_path_factory):
    folder = tmp_path_factory.mktemp("golden")
    regenerate_golden(folder)
    return folder


@pytest.mark.parametrize(("name", "seed"), golden_cases())
def test_golden_log_is_reproduced_byte_for_byte(name, seed, fresh_golden):
    expected = golden_path(GOLDEN, name, seed)
    assert expected.exists(), "run `make golden` and review the new files"
    got = golden_path(fresh_golden, name, seed).read_bytes()
    assert got == expected.read_bytes(), (
        f"{name}: the log differs from {expected}; if the change is intended, run "
        "`make golden` and review the diff")


def test_the_war_golden_shows_threshold_article5_and_salvos():
    from engine.io.eventlog import read_lines
    from engine.testing import WAR_GOLDEN

    kinds = {ln.obj.get("kind") for ln in read_lines(golden_path(GOLDEN, *WAR_GOLDEN))}
    assert {"escalation.threshold", "alliance.article5", "engagement.salvo",
            "engagement.strike"} <= kinds
