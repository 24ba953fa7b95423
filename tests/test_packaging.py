"""The wheel carries the built-in scenarios, rules and schemas, and works from any directory;
the sdist carries what its tests need, and they run from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "from engine.cli.main import main; main()"


def _can_build_without_isolation() -> bool:
    """setuptools>=68 and wheel in this environment (else pip fetches them for the build)."""
    try:
        major = int(metadata.version("setuptools").split(".")[0])
        metadata.version("wheel")
    except metadata.PackageNotFoundError:
        return False
    return major >= 68


def _run(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=300, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the source tree (the checkout itself is left untouched)."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "engine", src / "engine",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = base / "dist"
    args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist)]
    if _can_build_without_isolation():
        args.append("--no-build-isolation")
    result = _run([*args, str(src)], cwd=base)
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = dist.glob("wargame_engine-*.whl")
    return built


def _builtins() -> tuple[list[str], list[str]]:
    data = ROOT / "engine" / "data"
    scenarios = sorted(p.name for p in (data / "scenarios").glob("*.yaml"))
    rules = sorted(p.name for p in (data / "rules").glob("*.yaml"))
    return scenarios, rules


def test_wheel_contains_the_data_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    scenarios, rules = _builtins()
    assert len(scenarios) >= 4 and "standard.yaml" in rules
    for name in scenarios:
        assert f"engine/data/scenarios/{name}" in names
    for name in rules:
        assert f"engine/data/rules/{name}" in names
    for kind in ("scenario", "rules"):
        assert f"engine/data/schemas/{kind}.schema.json" in names
    assert "engine/py.typed" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "wargame = engine.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_works_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                   "--target", str(site), str(wheel)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}

    where = _run([sys.executable, "-c", "import engine; print(engine.__file__)"], elsewhere, env)
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout + where.stderr

    listed = _run([sys.executable, "-c", ENTRY, "scenarios"], elsewhere, env)
    assert listed.returncode == 0, listed.stderr
    scenarios, rules = _builtins()
    for name in scenarios:
        assert name.removesuffix(".yaml") in listed.stdout

    data = site / "engine" / "data"
    paths = [data / "scenarios" / n for n in scenarios] + [data / "rules" / n for n in rules]
    checked = _run([sys.executable, "-c", ENTRY, "validate", *map(str, paths)], elsewhere, env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(paths)} valid, 0 invalid" in checked.stdout

    schema = _run([sys.executable, "-c", ENTRY, "schema", "scenario"], elsewhere, env)
    assert schema.returncode == 0
    assert schema.stdout == (data / "schemas" / "scenario.schema.json").read_text("utf-8")


IGNORED = shutil.ignore_patterns(".venv", ".git", "runs", "test-artifacts", "__pycache__",
                                 "*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                                 ".hypothesis", "*.egg-info", "build", "dist")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An sdist built (setuptools' own backend) from a copy of the tree, unpacked."""
    import tarfile

    major = int(metadata.version("setuptools").split(".")[0])
    assert major >= 77, "the dev extra installs setuptools>=77 (license-files)"
    base = tmp_path_factory.mktemp("sdist")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=IGNORED, symlinks=True)
    code = ("import sys; from setuptools import build_meta as b; "
            "print(b.build_sdist(sys.argv[1]))")
    built = _run([sys.executable, "-c", code, str(base / "dist")], cwd=src)
    assert built.returncode == 0, built.stdout + built.stderr
    archive = base / "dist" / built.stdout.strip().splitlines()[-1]
    with tarfile.open(archive) as tar:
        tar.extractall(base / "unpacked", filter="data")
    (top,) = (base / "unpacked").iterdir()
    return top


def test_sdist_holds_what_its_tests_need(sdist: Path) -> None:
    for rel in ("LICENSE", "Makefile", "README.md", "pyproject.toml", "docs/model.md",
                "tests/data/adjudication_vectors.json", "tests/golden/alliance-2024-seed0.jsonl",
                "tests/golden/alliance-2024-seed0.txt", "engine/classroom/static/app.js",
                "engine/data/scenarios/alliance-2024.yaml", "notebooks"):
        assert (sdist / rel).exists(), f"the sdist lacks {rel}"
    assert "Apache License" in (sdist / "LICENSE").read_text("utf-8")


def test_tests_run_from_the_unpacked_sdist(sdist: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(sdist)}
    probe = _run([sys.executable, "-c", "import engine; print(engine.__file__)"], sdist, env)
    assert Path(probe.stdout.strip()).is_relative_to(sdist), probe.stdout + probe.stderr
    result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "tests/sim/test_kinds.py", "tests/test_determinism.py"], sdist, env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
