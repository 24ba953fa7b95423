"""`wargame validate`, `schema` and `scenarios`: exit codes, located messages, never a traceback.

Most checks use typer's in-process CliRunner; a few run the installed ``wargame`` script in a real
subprocess, batching many files into one invocation because start-up takes about a second.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_loading import HAND_CASES, MALFORMED, SCENARIO_TEXT, STANDALONE, Case
from typer.testing import CliRunner

import engine
from engine.cli.main import app
from engine.io.loading import builtin_names, builtin_path
from engine.io.schemas import json_schema

DATA = Path(engine.__file__).resolve().parent / "data"
WARGAME = Path(sys.executable).parent / "wargame"
CLI_CASES = [c for c in HAND_CASES if c.cli]
GOOD = [builtin_path("scenarios", n) for n in builtin_names("scenarios")] + [
    builtin_path("rules", "standard")]

runner = CliRunner()


def run_wargame(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([str(WARGAME), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=cwd, timeout=120, check=False)


def write_case(case: Case, folder: Path) -> tuple[Path, int | None]:
    """The case's input as a file in folder, and the line its problem should name."""
    raw = case.raw()
    path = folder / f"{case.id}.yaml"
    if isinstance(raw, bytes):
        path.write_bytes(raw)
    else:
        path.write_text(raw, encoding="utf-8", newline="")
    return path, case.line(raw)


def assert_reported(stderr: str, path: Path, line: int | None) -> None:
    """The file is named on an error line, with a line number (the expected one if known)."""
    mine = [x for x in stderr.splitlines() if x.startswith(f"✗ {path}:")]
    assert mine, f"{path.name} not reported in:\n{stderr[:3000]}"
    if line is None:
        assert any(x[len(f"✗ {path}:"):].split(":", 1)[0].isdigit() for x in mine), mine
    else:
        assert any(x.startswith(f"✗ {path}:{line}:") for x in mine), (line, mine)


def test_the_cli_corpus_is_large() -> None:
    assert len(CLI_CASES) >= 100


# ---- in process (CliRunner) ----------------------------------------------------------------


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CLI_CASES])
def test_validate_each_bad_file(case: Case, tmp_path: Path) -> None:
    path, line = write_case(case, tmp_path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert_reported(result.stderr, path, line)
    assert case.says in result.stderr
    assert result.stdout.strip().endswith("0 valid, 1 invalid")


def test_validate_good_files() -> None:
    result = runner.invoke(app, ["validate", *map(str, GOOD)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    for path in GOOD:
        kind = "rules" if path.parent.name == "rules" else "scenario"
        assert f"✓ {path} ({kind})" in result.stdout
    assert f"{len(GOOD)} valid, 0 invalid" in result.stdout


def test_validate_mixed_files_summarises(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO_TEXT.replace("aircraft: 8", "aircraft: -8", 1), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(GOOD[0]), str(bad), str(GOOD[-1])])
    assert result.exit_code == 2
    assert "2 valid, 1 invalid" in result.stdout
    assert f"✗ {bad}:" in result.stderr and "blue.isr.mq9.aircraft" in result.stderr


def test_validate_needs_a_path() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def _pair_case(tmp_path: Path, name: str, old: str, new: str) -> tuple[Path, str]:
    assert old in SCENARIO_TEXT
    text = SCENARIO_TEXT.replace(old, new, 1)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize(("old", "new", "at", "says"), [
    ("action: joint_exercise", "action: jump", "action: jump",
     "injects.0.action: unknown action 'jump'"),
    ("action: cyber_disrupt", "action: joint_exercise", "joint_exercise\n    note: Intel",
     "unknown action 'joint_exercise' for side red"),
    ("    action: joint_exercise\n", "    action: isr_tempo\n    params: {level: max}\n",
     "level: max", "injects.0.params.level: expected one of"),
    ("    action: joint_exercise\n", "    action: isr_tempo\n    params: {speed: fast}\n",
     "speed: fast", "injects.0.params.speed: action 'isr_tempo' has no parameter 'speed'"),
    ("rules: standard", "rules: deluxe", "rules: deluxe", "rules: cannot use rule set 'deluxe'"),
], ids=["unknown-action", "other-side-action", "bad-choice", "unknown-param", "unknown-rules"])
def test_scenario_and_rules_disagree(tmp_path: Path, old: str, new: str, at: str,
                                     says: str) -> None:
    path, text = _pair_case(tmp_path, "pair", old, new)
    line = text[: text.index(at)].count("\n") + 1
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert says in result.stderr
    assert_reported(result.stderr, path, line)


def test_misspelt_key_in_process(tmp_path: Path) -> None:
    path, text = _pair_case(tmp_path, "typo", "      aircraft: 8", "      aircrafts: 8")
    line = text[: text.index("aircrafts")].count("\n") + 1
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert (f"✗ {path}:{line}:7: blue.isr.mq9.aircrafts: unknown key 'aircrafts'; "
            "did you mean 'aircraft'?") in result.stderr.splitlines()


@pytest.mark.parametrize("kind", ["scenario", "rules"])
def test_schema_command_prints_the_shipped_schema(kind: str) -> None:
    result = runner.invoke(app, ["schema", kind])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and "format" in schema["properties"]
    assert result.stdout == json_schema(kind)
    shipped = (DATA / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert shipped == result.stdout, (
        f"engine/data/schemas/{kind}.schema.json is stale: run `make schemas`")


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_builtins_satisfy_the_shipped_schema(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    kind = "rules" if path.parent.name == "rules" else "scenario"
    schema = json.loads((DATA / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(
        yaml.safe_load(path.read_text(encoding="utf-8")))


def test_schema_of_an_unknown_kind() -> None:
    result = runner.invoke(app, ["schema", "battle"])
    assert result.exit_code == 2
    assert "unknown schema 'battle'" in result.stderr
    assert result.stdout == ""


def test_scenarios_lists_the_builtins() -> None:
    result = runner.invoke(app, ["scenarios"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in builtin_names("scenarios"):
        assert name in result.stdout
    assert "alliance-2024" in builtin_names("scenarios")


# ---- a real subprocess ---------------------------------------------------------------------


def test_subprocess_batch_of_bad_files(tmp_path: Path) -> None:
    expected: dict[Path, int | None] = {}
    for case in CLI_CASES:
        path, line = write_case(case, tmp_path)
        expected[path] = line
    standalone = tmp_path / "standalone"
    shutil.copytree(MALFORMED, standalone)
    file_level = {}
    for name, (line, _) in STANDALONE.items():
        if line is None:
            file_level[standalone / name] = "file is empty"
        else:
            expected[standalone / name] = line
    file_level[tmp_path / "missing.yaml"] = "cannot read"
    (tmp_path / "a-directory").mkdir()
    file_level[tmp_path / "a-directory"] = "is a directory"
    huge = tmp_path / "huge.yaml"
    huge.write_text(SCENARIO_TEXT + "#" + "x" * 2_100_000 + "\n", encoding="utf-8")
    file_level[huge] = "the limit is 2,000,000"

    result = run_wargame("validate", *expected, *file_level)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    total = len(expected) + len(file_level)
    assert result.stdout.strip().splitlines()[-1] == f"0 valid, {total} invalid"
    assert total >= 130
    for path, line in expected.items():
        assert_reported(result.stderr, path, line)
    for path, says in file_level.items():
        assert f"✗ {path}: {says}" in result.stderr or (
            says in result.stderr and f"✗ {path}: " in result.stderr), path


def test_subprocess_good_files_exit_zero(tmp_path: Path) -> None:
    copy = tmp_path / "my-scenario.yaml"
    copy.write_text(SCENARIO_TEXT, encoding="utf-8")
    result = run_wargame("validate", *GOOD, copy, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"{len(GOOD) + 1} valid, 0 invalid" in result.stdout


def test_subprocess_misspelt_key_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    text = SCENARIO_TEXT.replace("      aircraft: 8", "      aircrafts: 8", 1)
    path.write_text(text, encoding="utf-8")
    line = text[: text.index("aircrafts")].count("\n") + 1
    result = run_wargame("validate", path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"✗ {path}:{line}:7: blue.isr.mq9.aircrafts:" in result.stderr
    assert "did you mean 'aircraft'" in result.stderr


def test_subprocess_schema_and_usage_errors(tmp_path: Path) -> None:
    result = run_wargame("schema", "scenario", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == json_schema("scenario")
    result = run_wargame("schema", "battle", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown schema 'battle'" in result.stderr
