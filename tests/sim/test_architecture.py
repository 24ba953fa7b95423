"""The architecture, checked on the source: the simulation imports nothing from I/O,
presentation or the command line; each part of the state has one writer; the public API."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import engine

ENGINE = Path(engine.__file__).parent
SIM = sorted((ENGINE / "sim").rglob("*.py"))
SPEC = sorted((ENGINE / "spec").rglob("*.py"))

# the state table of engine/sim/state.py: part -> the one module that may change it
OWNERS = {
    "isr": "sim/forces/isr.py", "c2": "sim/forces/c2.py", "littoral": "sim/forces/littoral.py",
    "red": "sim/forces/adversary.py", "ladder": "sim/escalation.py", "mind": "sim/beliefs.py",
    "counterstrike": "sim/forces/counterstrike.py",
}
MUTATORS = {"append", "add", "pop", "remove", "setdefault", "clear", "update", "extend",
            "popleft", "discard", "insert"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", SIM + SPEC, ids=lambda p: str(p.relative_to(ENGINE)))
def test_sim_and_spec_import_nothing_from_io_presentation_or_cli(path):
    banned = ("engine.io", "engine.present", "engine.cli", "engine.sweeps", "engine.game",
              "engine.testing")
    if path in SPEC:
        banned += ("engine.sim",)
    bad = {m for m in _imports(path) if m.startswith(banned)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def _part_written(node: ast.AST) -> str | None:
    """The state part an assignment target or mutating call reaches through ``w.<part>``."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        inner = node.value
        if (isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name)
                and inner.value.id == "w" and inner.attr in OWNERS):
            return inner.attr
        node = inner
    return None


def _writes(path: Path) -> set[str]:
    parts = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in MUTATORS):
            targets = [node.func.value]
        for t in targets:
            for leaf in ast.walk(t) if isinstance(t, ast.Tuple) else [t]:
                part = _part_written(leaf)
                if part is None and isinstance(leaf, ast.Attribute | ast.Subscript):
                    part = _part_written(ast.Attribute(value=leaf, attr="_", ctx=ast.Load()))
                if part:
                    parts.add(part)
    return parts


@pytest.mark.parametrize("path", SIM, ids=lambda p: str(p.relative_to(ENGINE)))
def test_each_part_of_the_state_has_one_writer(path):
    rel = str(path.relative_to(ENGINE))
    foreign = {p for p in _writes(path) if OWNERS[p] != rel}
    assert not foreign, f"{rel} writes {sorted(foreign)}, owned by " + ", ".join(
        OWNERS[p] for p in sorted(foreign))


def test_the_writer_check_sees_writes():
    """The check above is not vacuous: each owner's module is seen writing its part."""
    for part, owner in OWNERS.items():
        assert part in _writes(ENGINE / owner), f"{owner} not seen writing w.{part}"


def test_the_public_api():
    expected = {"Game", "Session", "Order", "run", "run_logged", "load_pair", "load_scenario",
                "load_rules", "read_log", "verify", "fork", "sweep", "log_table", "EngineError",
                "LogError", "ScenarioError", "RulesError", "__version__"}
    assert expected <= set(engine.__all__)
    for name in engine.__all__:
        assert getattr(engine, name) is not None


def test_import_engine_is_light():
    code = ("import sys, engine; heavy = [m for m in ('dask', 'pyarrow', 'simpy', 'matplotlib',"
            " 'numpy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
