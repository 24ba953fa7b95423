"""Bounds: every count and size has a documented maximum, every number is finite, only regular
files are read, and nothing that validates can hang a run, crash it or put NaN in its log.

The corner runs write real logs and read every line back with a JSON parser that refuses NaN
and Infinity. The budget's worst cases (tests/spec/corners.py) must run in seconds; the full
set is marked slow.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from corners import (
    DATA,
    RULES,
    bounds,
    endless_rules,
    fill_to_budget,
    numeric_fields,
    set_at,
    worst_case,
)

from engine.errors import InputError, RulesError, ScenarioError
from engine.io.eventlog import run_logged
from engine.io.loading import (
    MAX_BYTES,
    load_any,
    load_pair,
    load_rules,
    load_scenario,
    pair_problems,
    parse_rules,
    parse_scenario,
    read_file,
)
from engine.io.schemas import input_schema, limits, limits_table
from engine.spec.rules import EFFECT_PARAMS, Rules
from engine.spec.scenario import (
    MAX_EXERCISE_HOURS,
    MAX_WORK,
    Scenario,
    run_size,
    with_turns,
)
from engine.spec.types import BLUE_EFFECTS, RED_EFFECTS

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = yaml.safe_load((DATA / "scenarios" / "classroom-tutorial.yaml").read_text("utf-8"))
SCHEMAS = {kind: input_schema(kind) for kind in ("scenario", "rules")}
WARGAME = Path(sys.executable).parent / "wargame"


# ---- every limit exists and is documented ----------------------------------------------------


def _unbounded(node: Any, root: dict[str, Any], path: str, out: list[str]) -> None:
    """Every number without a finite range, list without maxItems, map without maxProperties
    (or a fixed set of keys) and text without maxLength (or an enum, const or bounded
    pattern)."""
    if isinstance(node, list):
        for i, sub in enumerate(node):
            _unbounded(sub, root, f"{path}[{i}]", out)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("integer", "number"):
        if "maximum" not in node or ("minimum" not in node and "exclusiveMinimum" not in node):
            out.append(f"{path}: {kind} without a range")
    elif kind == "array" and "maxItems" not in node:
        out.append(f"{path}: list without maxItems")
    elif kind == "string" and not ({"maxLength", "enum", "const"} & set(node)):
        pattern = node.get("pattern", "")
        if not re.search(r"\{\d*,\d+\}\$$", pattern):
            out.append(f"{path}: text without a maximum length")
    elif kind == "object" and "properties" not in node:
        names = node.get("propertyNames", {})
        if "maxProperties" not in node and not ({"enum", "const"} & set(names)):
            out.append(f"{path}: map without maxProperties")
        if not names:
            out.append(f"{path}: map whose keys are not constrained (propertyNames)")
    for key, sub in node.items():
        if key not in ("default", "examples"):
            _unbounded(sub, root, f"{path}.{key}", out)


@pytest.mark.parametrize("kind", ["scenario", "rules"])
def test_every_number_list_map_and_text_of_the_schema_has_a_maximum(kind: str) -> None:
    problems: list[str] = []
    _unbounded(SCHEMAS[kind], SCHEMAS[kind], kind, problems)
    assert problems == []


@pytest.mark.parametrize("kind", ["scenario", "rules"])
def test_the_authoring_guide_lists_every_limit(kind: str) -> None:
    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    begin, end = f"<!-- limits:{kind} -->\n", f"<!-- /limits:{kind} -->"
    assert begin in text and end in text
    shown = text[text.index(begin) + len(begin):text.index(end)]
    assert shown == limits_table(kind), (
        f"docs/authoring.md's {kind} limits are stale: paste engine.io.schemas.limits_table")
    assert f"{MAX_WORK:,}" in text and f"{MAX_EXERCISE_HOURS:,.0f}" in text


def test_the_limits_table_reads_the_schema() -> None:
    rows = {path: (what, lo, hi) for path, what, lo, hi in limits("scenario")}
    assert rows["blue.isr.<id>.aircraft"] == ("whole number", "0", "100")
    assert rows["theater.zones"] == ("map", "2", "50")
    assert rows["turns.hours"] == ("number", "more than 0", "168")


def test_tables_by_vocabulary_name_every_value() -> None:
    """The rules' per-tempo, per-command and per-readiness tables and the effect-parameter
    contracts are keyed by the shared vocabulary, so a new value cannot be forgotten."""
    from typing import get_args

    from engine.spec.types import Command, Readiness, Tempo

    defs = SCHEMAS["rules"]["$defs"]
    assert defs["DetectionTable"]["properties"]["sorties_per_aircraft"]["required"] == list(
        get_args(Tempo))
    assert defs["C2Table"]["properties"]["command_latency_factor"]["required"] == list(
        get_args(Command))
    for table in ("ready_share", "exposure"):
        assert defs["LittoralTable"]["properties"][table]["required"] == list(
            get_args(Readiness))
    assert set(EFFECT_PARAMS) <= set(BLUE_EFFECTS) | set(RED_EFFECTS)


# ---- numbers are finite, and stay within range -----------------------------------------------


FLOAT_PATHS = [p for p, sub in numeric_fields(TUTORIAL, SCHEMAS["scenario"])
               if sub["type"] == "number"]


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", ".NaN", "+.Inf", "1e999", "-1e999"])
def test_non_finite_numbers_are_refused_with_file_line_and_field(text: str) -> None:
    raw = (DATA / "scenarios" / "classroom-tutorial.yaml").read_text("utf-8")
    raw = raw.replace("sweep_width_nm: 20", f"sweep_width_nm: {text}", 1)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(raw, "inf.yaml")
    line = raw[:raw.index("sweep_width_nm")].count("\n") + 1
    (p,) = info.value.problems
    assert (p.file, p.line, p.field) == ("inf.yaml", line, "blue.isr.mq9.sweep_width_nm")
    assert "finite" in p.message or "less than or equal" in p.message or "greater" in p.message


def test_huge_integers_are_refused() -> None:
    raw = (DATA / "scenarios" / "classroom-tutorial.yaml").read_text("utf-8")
    for value in ("1000000000", str(10**100), "101"):
        with pytest.raises(ScenarioError, match="less than or equal to 100") as info:
            parse_scenario(raw.replace("launchers: 4", f"launchers: {value}", 1), "big.yaml")
        assert info.value.problems[0].field == "blue.littoral.mlr12.batteries.b1.launchers"


def test_latency_sigma_is_bounded_so_a_latency_cannot_overflow() -> None:
    raw = (DATA / "rules" / "standard.yaml").read_text("utf-8")
    with pytest.raises(RulesError, match="less than or equal to 3"):
        parse_rules(raw.replace("latency_sigma: 0.5", "latency_sigma: 40"), "sigma.yaml")
    assert parse_rules(raw.replace("latency_sigma: 0.5", "latency_sigma: 3"), "ok.yaml")


# ---- limits that span fields -----------------------------------------------------------------


def test_the_builtins_are_well_within_the_run_size_budget() -> None:
    for name in ("alliance-2024", "alliance-2023", "baseline-2022", "classroom-tutorial"):
        size = run_size(load_scenario(name))
        assert 0 < size["total"] < MAX_WORK / 10, (name, size)
    # a year of alliance-2024 fits too
    assert run_size(with_turns(load_scenario("alliance-2024"), 365))["total"] <= MAX_WORK


def test_a_scenario_over_the_run_size_budget_is_refused_at_turns_count() -> None:
    raw = (DATA / "scenarios" / "alliance-2024.yaml").read_text("utf-8")
    raw = raw.replace("aircraft: 8", "aircraft: 100", 1).replace("  count: 30", "  count: 365")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(raw, "big.yaml")
    (p,) = info.value.problems
    assert p.field == "turns.count" and p.line == raw[:raw.index("  count:")].count("\n") + 1
    assert f"the limit is {MAX_WORK:,}" in p.message
    for term in ("sorties", "search draws", "message hops", "engagement checks"):
        assert term in p.message


def test_the_exercise_lasts_at_most_a_year() -> None:
    raw = (DATA / "scenarios" / "classroom-tutorial.yaml").read_text("utf-8")
    ok = raw.replace("  count: 5\n  hours: 24", "  count: 52\n  hours: 168")
    assert parse_scenario(ok, "year.yaml").turns.count == 52
    with pytest.raises(ScenarioError, match="at most 8760 h") as info:
        parse_scenario(raw.replace("  count: 5\n  hours: 24", "  count: 53\n  hours: 168"),
                       "long.yaml")
    assert info.value.problems[0].field == "turns"


def test_with_turns_past_a_limit_is_a_scenario_error_not_a_traceback() -> None:
    s = load_scenario("classroom-tutorial")
    assert with_turns(s, 365).turns.count == 365
    weekly = Scenario.model_validate({**s.model_dump(mode="json"),
                                      "turns": {"count": 5, "hours": 168}})
    with pytest.raises(ScenarioError, match="cannot play 60 turns") as info:
        with_turns(weekly, 60)
    assert info.value.problems[0].field == "turns.count"


def test_distances_are_given_once_per_pair_between_two_zones() -> None:
    raw = (DATA / "scenarios" / "classroom-tutorial.yaml").read_text("utf-8")
    twice = raw.replace("    - [kyushu, sakishima, 600]\n",
                        "    - [kyushu, sakishima, 600]\n    - [sakishima, kyushu, 60]\n")
    with pytest.raises(ScenarioError, match="already given") as info:
        parse_scenario(twice, "twice.yaml")
    assert info.value.problems[0].field == "theater.distances.1"
    with pytest.raises(ScenarioError, match="two different zones"):
        parse_scenario(raw.replace("[kyushu, sakishima, 600]", "[kyushu, kyushu, 600]"),
                       "self.yaml")


# ---- rules the simulation could not carry out ------------------------------------------------


def _rules_with(change: Any) -> dict[str, Any]:
    r = copy.deepcopy(RULES)
    change(r)
    return r


@pytest.mark.parametrize(("change", "field", "says"), [
    (lambda r: r["adjudication"]["detection"]["sorties_per_aircraft"].pop("surge"),
     "adjudication.detection.sorties_per_aircraft", "missing: surge"),
    (lambda r: r["adjudication"]["c2"]["command_latency_factor"].pop("joint_hq"),
     "adjudication.c2.command_latency_factor", "missing: joint_hq"),
    (lambda r: r["adjudication"]["littoral"]["exposure"].pop("garrison"),
     "adjudication.littoral.exposure", "missing: garrison"),
    (lambda r: r["actions"]["blue"]["hold"].update(effect="strike"),
     "actions.blue.hold.effect", "not an effect blue can order"),
    (lambda r: r["actions"]["red"]["patrol"].update(effect="isr_tempo"),
     "actions.red.patrol.effect", "not an effect red can order"),
    (lambda r: r["actions"]["blue"]["isr_tempo"]["params"].update(
        level={"choices": ["low", "max"]}),
     "actions.blue.isr_tempo.params.level.choices.1", "knows no level 'max'"),
    (lambda r: r["actions"]["blue"]["isr_tempo"]["params"].update(level={"kind": "zone"}),
     "actions.blue.isr_tempo.params.level.kind", "give choices, not a kind"),
    (lambda r: r["actions"]["blue"]["littoral_posture"]["params"].update(
        readiness={"choices": ["alert", "panic"], "default": "alert"}),
     "actions.blue.littoral_posture.params.readiness.choices.1", "knows no readiness"),
    (lambda r: r["actions"]["red"]["cyber_disrupt"].update(params={"link": {"kind": "zone"}}),
     "actions.red.cyber_disrupt.params.link.kind", "give kind: link"),
], ids=["sorties", "command", "exposure", "blue-strike", "red-tempo", "tempo-choice",
        "tempo-kind", "readiness-choice", "link-kind"])
def test_rules_the_simulation_cannot_carry_out_are_refused(change: Any, field: str,
                                                           says: str) -> None:
    text = yaml.safe_dump(_rules_with(change), sort_keys=False)
    with pytest.raises(RulesError) as info:
        parse_rules(text, "r.yaml")
    hits = [p for p in info.value.problems if p.field == field and says in p.message]
    assert hits, str(info.value)
    assert all(p.line is not None for p in info.value.problems)


def test_a_link_parameter_must_name_a_link_of_the_scenario(tmp_path: Path) -> None:
    scenario = load_scenario("classroom-tutorial")
    for param in ({"kind": "link", "default": "nowhere"}, {"choices": ["japan-usfj", "gone"]}):
        rules = Rules.model_validate(_rules_with(
            lambda r, p=param: r["actions"]["red"]["cyber_disrupt"].update(params={"link": p})))
        (problem,) = pair_problems(scenario, rules)
        assert problem.startswith("rules: rules 'standard' actions.red.cyber_disrupt.params."
                                  "link: '")
        assert "is not a link of this scenario" in problem
    good = Rules.model_validate(_rules_with(lambda r: r["actions"]["red"]["cyber_disrupt"].update(
        params={"link": {"kind": "link", "default": "usfj-mlr"}})))
    assert pair_problems(scenario, good) == []
    # and `wargame validate`-style loading of the pair refuses it with the scenario's line
    rules_path = tmp_path / "standard-bad.yaml"
    bad = _rules_with(lambda r: r["actions"]["red"]["cyber_disrupt"].update(
        params={"link": {"kind": "link", "default": "nowhere"}}))
    rules_path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(ScenarioError, match="nowhere"):
        load_pair("classroom-tutorial", rules_path)


# ---- only regular files, within the size bound -----------------------------------------------


def test_a_directory_and_devices_are_refused_at_once(tmp_path: Path) -> None:
    for path, says in ((tmp_path, "is a directory"), (Path("/dev/zero"), "character device"),
                       (Path("/dev/null"), "character device")):
        if not path.exists():
            continue
        for call in (read_file, load_any, load_scenario, load_rules):
            start = time.perf_counter()
            with pytest.raises(InputError) as info:
                call(path)
            assert time.perf_counter() - start < 1.0
            assert says in str(info.value) and str(path) in str(info.value)


def test_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="not a regular file"):
        load_scenario(link)
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match="cannot read"):
        load_scenario(loop)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    """In a child process with a timeout, so that a regression hangs only the child."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    code = ("import sys\nfrom engine.io.loading import load_any\nfrom engine.errors import "
            "InputError\ntry:\n    load_any(sys.argv[1])\nexcept InputError as e:\n"
            "    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{fifo}: is a pipe (FIFO), not a regular file; refused" in done.stdout


def test_a_path_with_a_nul_byte_is_refused_not_a_traceback() -> None:
    for call in (read_file, load_any, load_scenario, load_rules):
        with pytest.raises(InputError, match="cannot read"):
            call("bad\0name.yaml")


def test_a_file_that_grows_past_the_limit_is_still_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(InputError, match="the limit is 2,000,000"):
        read_file(path)
    assert read_file(path, limit=MAX_BYTES + 10)[0] == b"#" * (MAX_BYTES + 1)


# ---- runs of extreme but valid inputs: no crash, no NaN, no hang ----------------------------


def _refuse_constant(text: str) -> float:
    raise ValueError(f"{text} in a log line")


def assert_log_is_json(path: Path) -> int:
    """Every line of a log is JSON without NaN or Infinity; returns the number of lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines, 1):
        try:
            json.loads(line, parse_constant=_refuse_constant)
        except ValueError as e:
            raise AssertionError(f"{path.name}:{i}: {e}") from None
    return len(lines)


def _corner(which: str, paths: list[tuple[Any, ...]] | None = None,
            base: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every number (or the ones at ``paths``) at its minimum or maximum."""
    s, r = copy.deepcopy(base or TUTORIAL), copy.deepcopy(RULES)
    for data, kind in ((s, "scenario"), (r, "rules")):
        for path, sub in numeric_fields(data, SCHEMAS[kind]):
            if path[-1] == "level" or (paths is not None and path not in paths):
                continue  # rung levels must increase: they are not free numbers
            lo, hi = bounds(sub)
            set_at(data, path, lo if which == "min" else hi)
    if paths is None:  # every number at once: keep the run inside its budget
        s["turns"] = {"count": 3, "hours": 24}
        s["injects"] = [i for i in s.get("injects", []) if i["turn"] <= 3]
    return s, r


def _run_corner(s: dict[str, Any], r: dict[str, Any], tmp: Path, seed: int = 0) -> int:
    scenario, rules = Scenario.model_validate(s), Rules.model_validate(r)
    assert pair_problems(scenario, rules) == []
    log = tmp / f"corner-{seed}.jsonl"
    start = time.perf_counter()
    run_logged(scenario, rules, seed, log)
    assert time.perf_counter() - start < 30
    return assert_log_is_json(log)


@pytest.mark.parametrize("which", ["min", "max"])
def test_every_number_at_its_limit_at_once_runs_and_logs_finite_json(which: str,
                                                                   tmp_path: Path) -> None:
    s, r = _corner(which)
    for seed in range(3):
        assert _run_corner(s, r, tmp_path, seed) > 3


SCENARIO_NUMBERS = [p for p, _ in numeric_fields(TUTORIAL, SCHEMAS["scenario"])]
RULES_NUMBERS = [p for p, _ in numeric_fields(RULES, SCHEMAS["rules"]) if p[-1] != "level"]
SAMPLE = random.Random(14).sample([("scenario", p) for p in SCENARIO_NUMBERS]
                                  + [("rules", p) for p in RULES_NUMBERS], 16)


def _one_number_corner(kind: str, path: tuple[Any, ...], which: str
                       ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    s, r = copy.deepcopy(TUTORIAL), copy.deepcopy(RULES)
    data = s if kind == "scenario" else r
    sub = dict(numeric_fields(data, SCHEMAS[kind]))[path]
    lo, hi = bounds(sub)
    set_at(data, path, lo if which == "min" else hi)
    try:
        Scenario.model_validate(s), Rules.model_validate(r)
    except pydantic.ValidationError:
        return None  # a cross-field limit (an inject after the last turn): refused, not run
    return s, r


@pytest.mark.parametrize(("kind", "path"), SAMPLE, ids=[".".join(map(str, p)) for _, p in SAMPLE])
def test_one_number_at_its_limit_runs_and_logs_finite_json(kind: str, path: tuple[Any, ...],
                                                           tmp_path: Path) -> None:
    for which in ("min", "max"):
        made = _one_number_corner(kind, path, which)
        if made is not None:
            assert _run_corner(*made, tmp_path) > 3


@pytest.mark.slow
@pytest.mark.parametrize("which", ["min", "max"])
def test_every_number_at_its_limit_one_at_a_time(which: str, tmp_path: Path) -> None:
    ran = 0
    for kind, numbers in (("scenario", SCENARIO_NUMBERS), ("rules", RULES_NUMBERS)):
        for path in numbers:
            made = _one_number_corner(kind, path, which)
            if made is not None:
                _run_corner(*made, tmp_path, seed=ran)
                ran += 1
    assert ran >= len(SCENARIO_NUMBERS) + len(RULES_NUMBERS) - 5


def test_the_worst_case_is_what_the_budget_says(tmp_path: Path) -> None:
    """About a tenth of the budget, built to make every term real, runs in a few seconds: the
    bound is honest, and the full budget (the slow test) takes seconds, not minutes."""
    data = worst_case(aircraft=30, groups=4, nodes=3, regiments=1, batteries=2, turns=10)
    scenario, rules = Scenario.model_validate(data), Rules.model_validate(endless_rules())
    size = run_size(scenario)
    assert MAX_WORK / 20 < size["total"] <= MAX_WORK / 5, size
    log = tmp_path / "worst.jsonl"
    start = time.perf_counter()
    result, _ = run_logged(scenario, rules, 0, log)
    elapsed = time.perf_counter() - start
    assert result.outcome["turns_played"] == 10
    lines = assert_log_is_json(log)
    assert lines < size["total"], "the bound must bound the records"
    assert elapsed < 20, f"{elapsed:.1f} s for a fifth of the budget"


WORST = [
    {"aircraft": 1000, "groups": 1, "nodes": 2, "regiments": 0, "batteries": 0},
    {"aircraft": 100, "groups": 20, "nodes": 2, "regiments": 1, "batteries": 1},
    {"aircraft": 10, "groups": 5, "nodes": 50, "regiments": 1, "batteries": 1},
    {"aircraft": 2, "groups": 20, "nodes": 2, "regiments": 5, "batteries": 6},
    {"aircraft": 0, "groups": 10, "nodes": 20, "regiments": 2, "batteries": 20},
]


@pytest.mark.slow
@pytest.mark.parametrize("sizes", WORST, ids=lambda d: "-".join(f"{v}" for v in d.values()))
def test_the_largest_valid_scenarios_run_in_seconds(sizes: dict[str, int],
                                                    tmp_path: Path) -> None:
    """At the full budget, with every term at its worst, through the real command line."""
    data = fill_to_budget(**sizes)
    (tmp_path / "worst.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    rules = endless_rules()
    rules["name"] = "endless"
    (tmp_path / "endless.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    start = time.perf_counter()
    done = subprocess.run([str(WARGAME), "run", "worst.yaml", "--rules", "endless.yaml",
                           "--out", "worst.jsonl", "--quiet"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    assert_log_is_json(tmp_path / "worst.jsonl")
    assert elapsed < 60, f"{elapsed:.1f} s"
