"""The documentation points at code and files that exist.

Every reference of the form ``engine/module.py: name`` (or ``Class.method``) in docs/*.md must
name a file of the package in which ``def name``, ``class name`` or a module-level assignment to
``name`` appears; every relative Markdown link in docs/ and the README must reach a file.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
REFERENCE = re.compile(r"(engine/[\w/]+\.py): ([A-Za-z_][\w.]*)")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def references(path: Path) -> list[tuple[str, str]]:
    return REFERENCE.findall(path.read_text(encoding="utf-8"))


def defines(source: str, name: str) -> bool:
    """``def name``/``class name`` at any indentation, or ``name =``/``name:`` at module level."""
    pattern = rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]"
    return re.search(pattern, source, re.MULTILINE) is not None


def test_the_docs_exist() -> None:
    names = {p.name for p in DOCS}
    assert {"README.md", "model.md", "authoring.md", "log-format.md", "educators.md"} <= names


def test_model_doc_references_the_code_of_every_formula() -> None:
    refs = references(ROOT / "docs" / "model.md")
    assert len(refs) >= 60, "docs/model.md should point at the code of every formula"
    for name in ("detection_probability", "salvo_losses", "stochastic_salvo_losses",
                 "kill_chain_probability", "utility", "quantal_choice", "update_belief",
                 "expected_delay", "_carry", "wilson", "newcombe"):
        assert name in {n for _, n in refs}, f"docs/model.md does not reference {name}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_code_references_exist(doc: Path) -> None:
    missing = []
    for file, name in references(doc):
        path = ROOT / file
        if not path.is_file():
            missing.append(f"{file}: no such file")
            continue
        source = path.read_text(encoding="utf-8")
        for part in name.split("."):
            if not defines(source, part):
                missing.append(f"{file}: {name}: '{part}' is not defined there")
    assert not missing, f"{doc.name} points at code that does not exist:\n" + "\n".join(missing)


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "README.md"], ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not (doc.parent / target).exists():
            broken.append(target)
    assert not broken, f"{doc.name} links to missing files: {broken}"


def _kind_rows() -> list[tuple[str, str, str, str]]:
    """(kind, side / unit, sees, data) of every row of the record-kind tables."""
    text = (ROOT / "docs" / "log-format.md").read_text(encoding="utf-8")
    text = text.split("\n## Record kinds", 1)[1].split("\n## ", 1)[0]  # that section only
    rows = re.findall(r"^\| `([a-z0-9_.]+)` \|(.*)\|\s*$", text, re.MULTILINE)
    return [(kind, *[c.strip() for c in rest.split(" | ")]) for kind, rest in rows]


def test_log_format_lists_exactly_the_declared_record_kinds() -> None:
    """docs/log-format.md documents every kind of engine/sim/kinds.py, and no other."""
    from engine.sim.kinds import KINDS

    documented = {kind for kind, *_ in _kind_rows()}
    assert not set(KINDS) - documented, f"undocumented kinds: {sorted(set(KINDS) - documented)}"
    assert not documented - set(KINDS), f"documented kinds that do not exist: " \
                                        f"{sorted(documented - set(KINDS))}"
    emitted = set()  # and the engine emits no kind that is not declared
    for path in (ROOT / "engine").rglob("*.py"):
        emitted |= set(re.findall(r'\bemit\(\s*"([a-z0-9_.]+)"', path.read_text(encoding="utf-8")))
    assert emitted, "found no emit() calls"
    assert emitted <= set(KINDS), f"emitted but not declared: {sorted(emitted - set(KINDS))}"


def test_log_format_gives_each_kind_its_visibility_rule_and_fields() -> None:
    from engine.sim.kinds import KINDS, Seen

    rows = _kind_rows()
    assert all(len(row) == 4 for row in rows), [r for r in rows if len(r) != 4]
    for kind, _, sees, _data in rows:
        rule = KINDS[kind].seen
        assert sees == f"`{rule.name.lower()}`", f"{kind}: the doc says {sees}, kinds.py {rule}"
    for kind, spec in KINDS.items():
        data = " ".join(d for k, _, _, d in rows if k == kind)
        missing = [f for f in spec.fields if f"`{f}`" not in data]
        assert not missing, f"{kind}: the doc does not describe {missing}"
    text = (ROOT / "docs" / "log-format.md").read_text(encoding="utf-8")
    legend = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", text, re.MULTILINE))
    for rule in Seen:  # the legend of rules says what kinds.py says
        assert legend.get(rule.name.lower(), "").strip().replace("`", "") == rule.value, rule


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)


@pytest.fixture(scope="module")
def game_log(tmp_path_factory) -> Path:
    from engine import load_pair, run_logged

    folder = tmp_path_factory.mktemp("doc")
    s, r = load_pair("classroom-tutorial")
    run_logged(s, r, 2, folder / "game.jsonl")
    return folder / "game.jsonl"


def test_the_printed_chain_checker_accepts_a_genuine_log_and_catches_an_edit(game_log,
                                                                             tmp_path) -> None:
    (checker,) = [b for b in _python_blocks(ROOT / "docs" / "log-format.md") if "hashlib" in b]
    script = tmp_path / "check.py"
    script.write_text(checker, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(game_log)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    final = json.loads(game_log.read_text(encoding="utf-8").splitlines()[-1])["h"]
    assert done.stdout.strip() == f"chain intact; final hash {final}"
    lines = game_log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[9] = lines[9].replace('"turn":1', '"turn":2', 1)
    edited = tmp_path / "edited.jsonl"
    edited.write_text("".join(lines), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(edited)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "line 10: chain broken" in done.stderr


def test_the_printed_log_table_example_runs(game_log, monkeypatch) -> None:
    (example,) = [b for b in _python_blocks(ROOT / "docs" / "log-format.md") if "log_table" in b]
    monkeypatch.chdir(game_log.parent)
    names: dict = {}
    exec(example, names)  # the documentation's own example
    records = [json.loads(line) for line in game_log.read_text().splitlines()[1:-1]]
    searches = [r["data"] for r in records if r["kind"] == "isr.search"]
    assert names["draws"] == [(d["p_detect"], d["draw"], d["detected"]) for d in searches]
    assert names["umpire_only"].num_rows == sum(1 for r in records if not r["visible_to"])


def test_the_printed_polars_example_runs(game_log, monkeypatch) -> None:
    (example,) = [b for b in _python_blocks(ROOT / "docs" / "log-format.md") if "polars" in b]
    monkeypatch.chdir(game_log.parent)
    names: dict = {}
    exec(example, names)  # the documentation's own example
    records = [json.loads(line) for line in game_log.read_text().splitlines()[1:-1]]
    assert names["draws"] == [r["data"]["draw"] for r in records if r["kind"] == "isr.search"]
    assert names["per_kind"]["turn.end"] == sum(1 for r in records if r["kind"] == "turn.end")
    assert sum(names["per_kind"].values()) == len(records)


def _engine_names(code: str) -> tuple[list[str], set[str]]:
    """The modules a snippet imports from the engine, and the ``engine.X`` names it uses."""
    tree = ast.parse(code)
    imports = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
               if a.name.split(".")[0] == "engine"]
    imports += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                if (n.module or "").split(".")[0] == "engine"]
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == "engine"}
    return imports, used


@pytest.mark.parametrize("doc", [ROOT / "README.md", ROOT / "docs" / "log-format.md"],
                         ids=lambda p: p.name)
def test_python_examples_use_only_the_public_api(doc) -> None:
    import engine

    blocks = _python_blocks(doc)
    assert blocks
    for code in blocks:
        imports, used = _engine_names(code)
        assert set(imports) <= {"engine"}, f"{doc.name} imports {imports}: use `import engine`"
        assert used <= set(engine.__all__), f"{doc.name} uses {sorted(used - set(engine.__all__))}"


def test_the_readme_game_examples_run(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    ran = 0
    for code in _python_blocks(ROOT / "README.md"):
        if "engine.sweep(" in code:  # a thousand runs per posture: tests/sweeps covers it
            continue
        names: dict = {}
        exec(code, names)  # the README's own example
        ran += 1
    assert ran >= 1
    session, result = names["s"], names["result"]
    assert session.over and session.outcome["turns_played"] == session.turn
    assert isinstance(result.outcome["deterrence_held"], bool) and result.records > 100
    from engine import verify

    assert verify(tmp_path / "game.jsonl").ok
