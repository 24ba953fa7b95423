"""The documentation points at code and files that exist.

Every reference of the form ``engine/module.py: name`` (or ``Class.method``) in docs/*.md must
name a file of the package in which ``def name``, ``class name`` or a module-level assignment to
``name`` appears; every relative Markdown link in docs/ and the README must reach a file.
"""

from __future__ import annotations

import re
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


def test_log_format_lists_every_record_kind() -> None:
    """docs/log-format.md documents exactly the kinds the engine emits."""
    emitted = set()
    for path in (ROOT / "engine").rglob("*.py"):
        emitted |= set(re.findall(r'\bemit\(\s*"([a-z0-9_.]+)"', path.read_text(encoding="utf-8")))
    text = (ROOT / "docs" / "log-format.md").read_text(encoding="utf-8")
    text = text.split("\n## Record kinds", 1)[1].split("\n## ", 1)[0]  # that section only
    documented = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", text, re.MULTILINE))
    assert emitted, "found no emit() calls"
    assert not emitted - documented, f"undocumented kinds: {sorted(emitted - documented)}"
    assert not documented - emitted, f"kinds never emitted: {sorted(documented - emitted)}"
