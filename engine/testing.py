"""Conformance checks shipped as library code (as Gymnasium ships its env checker): every
scenario must run deterministically and produce a log that reads back and chains correctly.

``python -m engine.testing regenerate-golden DIR`` rewrites the golden logs; review the diff.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from engine.io.eventlog import canonical, check_chain, read_lines, run_logged
from engine.io.loading import builtin_names, load_pair
from engine.sim.kernel import run
from engine.sim.state import ListSink
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

GOLDEN_SEED = 0
# one seed per built-in, plus a game where deterrence fails and the batteries fire
WAR_GOLDEN = ("alliance-2023", 13)


def records_of(scenario: Scenario, rules: Rules, seed: int) -> list[dict]:
    sink = ListSink()
    run(scenario, rules, seed, sink=sink)
    return list(sink)


def check_twin_runs(scenario: Scenario, rules: Rules, seed: int) -> None:
    """Two runs with the same seed give identical records (AssertionError naming the first
    difference otherwise)."""
    a, b = records_of(scenario, rules, seed), records_of(scenario, rules, seed)
    for x, y in zip(a, b, strict=False):
        assert canonical(x) == canonical(y), f"runs differ at seq {x['seq']}: {x} != {y}"
    assert len(a) == len(b), f"runs differ in length: {len(a)} != {len(b)}"


def check_log_round_trip(scenario: Scenario, rules: Rules, seed: int, folder: Path) -> None:
    """A logged run reads back record for record, its chain checks, and it has a footer."""
    path = folder / f"{scenario.meta.id}-{seed}.jsonl"
    result, final = run_logged(scenario, rules, seed, path)
    chain = check_chain(path)
    assert chain.ok, f"{path}: line {chain.first_bad_line}: {chain.problem}"
    lines = list(read_lines(path))
    logged = [ln.obj for ln in lines[1:-1]]
    for rec in logged:
        rec.pop("h")
    expected = records_of(scenario, rules, seed)
    assert [canonical(r) for r in logged] == [canonical(r) for r in expected], \
        "log records differ from an in-memory run"
    footer = lines[-1].obj
    assert footer["h"] == final and footer["outcome"] == result.outcome


def check_scenario(scenario: Scenario, rules: Rules, seeds: tuple[int, ...] = (0, 1)) -> None:
    """Every conformance check for one scenario."""
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            check_twin_runs(scenario, rules, seed)
            check_log_round_trip(scenario, rules, seed, Path(tmp))


def golden_path(folder: Path, name: str, seed: int = GOLDEN_SEED) -> Path:
    return folder / f"{name}-seed{seed}.jsonl"


def golden_cases() -> list[tuple[str, int]]:
    return [(name, GOLDEN_SEED) for name in builtin_names("scenarios")] + [WAR_GOLDEN]


def regenerate_golden(folder: Path) -> list[Path]:
    """Rewrite the golden logs (see golden_cases)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, seed in golden_cases():
        s, r = load_pair(name)
        path = golden_path(folder, name, seed)
        run_logged(s, r, seed, path)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "regenerate-golden":
        print("usage: python -m engine.testing regenerate-golden DIR", file=sys.stderr)
        return 2
    for path in regenerate_golden(Path(argv[1])):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
