"""The hostile-input corpus for bounds and YAML: every case is refused with exit code 2 and a
message naming the file (and the line and field, where the input has them), never a
traceback, never a hang, and never a change to the input file.

Classes (``CLASSES``), generated field by field from the built-ins and their schema, plus
hand-written ones and a hypothesis search:

* ``non-finite``: .inf, -.inf and .nan in every number;
* ``too-large`` and ``too-small``: every number just past each end of its range, and 10**100;
* ``int-as-float``: every whole-number field written 8.0;
* ``yaml11-boolean``: yes, no, on, off where a boolean belongs;
* ``yaml11-number``: 1_000, 1:30, 0b101, a date where a number belongs;
* ``oversized``: every list and map one item over its maximum;
* ``long-text``: text one character over its maximum;
* ``bad-key``: keys of id-keyed maps that are not ids;
* ``incomplete-table``: a rules table without one of its entries;
* ``cross-field``: the exercise length and the run-size budget, distances given twice;
* ``effects``: actions the simulation could not carry out;
* ``not-a-file``: a FIFO, /dev/zero, /dev/null, a directory, links to them, a loop, a file over
  the size limit, a missing path.

By default most cases run through the in-process loader, every file through one ``wargame
validate`` process, and a representative sample through ``wargame run``; ``-m slow`` runs every
generated case and every class through ``run``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from corners import RULES, SCENARIO, bounds, leaves, numeric_fields, schema_at, set_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.io.loading import MAX_BYTES, load_any
from engine.io.schemas import input_schema

SCHEMAS = {kind: input_schema(kind) for kind in ("scenario", "rules")}
BASES = {"scenario": SCENARIO, "rules": RULES}
WARGAME = Path(sys.executable).parent / "wargame"
TOKEN = "HOSTILE_VALUE_HERE"
CLASSES = ("non-finite", "too-large", "too-small", "int-as-float", "yaml11-boolean",
           "yaml11-number", "oversized", "long-text", "bad-key", "incomplete-table",
           "cross-field", "effects", "not-a-file")


@dataclasses.dataclass(frozen=True)
class Hostile:
    """One hostile input: how to make it, and what its refusal must say where."""

    id: str
    cls: str
    kind: str  # "scenario" or "rules": which file it is (a not-a-file case: "scenario")
    build: Callable[[], tuple[str, int | None]] | None  # the text, and the line the problem
    #                                                    is on (None: any line)
    field: str | None = None  # the dotted field a problem names (None: any)
    says: str = ""  # text in that problem's message
    lines: bool = True  # the refusal names a line (False: file-level, e.g. a FIFO)
    make: Callable[[Path], Path] | None = dataclasses.field(default=None, compare=False)

    def write(self, folder: Path) -> tuple[Path, int | None]:
        """The input under folder (built only now: the corpus is large), and its line."""
        if self.make is not None:
            return self.make(folder), None
        assert self.build is not None
        text, line = self.build()
        path = folder / f"{self.id}.yaml"
        path.write_text(text, encoding="utf-8", newline="")
        return path, line


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=10_000)


def _with_token(kind: str, path: tuple[Any, ...], raw: str) -> tuple[str, int]:
    """The built-in with ``raw`` written verbatim at path, and the line it is on."""
    data = copy.deepcopy(BASES[kind])
    set_at(data, path, TOKEN)
    text = dump(data)
    line = text[:text.index(TOKEN)].count("\n") + 1
    return text.replace(TOKEN, raw, 1), line


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(map(str, path))


def _value(kind: str, path: tuple[Any, ...], raw: str, cls: str, says: str,
           suffix: str = "") -> Hostile:
    return Hostile(f"{cls}-{kind}-{_dotted(path)}{suffix}", cls, kind,
                   lambda: _with_token(kind, path, raw), _dotted(path), says)


def _numbers(kind: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    return numeric_fields(BASES[kind], SCHEMAS[kind])


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e18 else repr(float(x))


def number_cases() -> list[Hostile]:
    out = []
    for kind in ("scenario", "rules"):
        for path, sub in _numbers(kind):
            integer = sub["type"] == "integer"
            lo, hi = bounds(sub)
            for raw in (".inf", "-.inf", ".nan"):
                out.append(_value(kind, path, raw, "non-finite",
                                  "valid integer" if integer else "finite number",
                                  f"-{raw.strip('.-')}{'-neg' if raw[0] == '-' else ''}"))
            over = hi + 1 if integer else (hi * 10 if hi else 1.0)
            out.append(_value(kind, path, _fmt(over), "too-large", "less than or equal to"))
            out.append(_value(kind, path, "1" + "0" * 100, "too-large",
                              "less than or equal to" if integer else "less than or equal",
                              "-googol"))
            under = sub.get("exclusiveMinimum", lo - 1 if integer else lo - max(1, abs(lo)))
            out.append(_value(kind, path, _fmt(under), "too-small", "greater than"))
            if integer:
                out.append(_value(kind, path, f"{int(lo)}.0", "int-as-float",
                                  "write a whole number"))
    return out


def yaml11_cases() -> list[Hostile]:
    out = []
    for kind in ("scenario", "rules"):
        for path, value in leaves(BASES[kind]):
            if isinstance(value, bool):
                for raw in ("yes", "no", "on", "off", "Yes", "NO", "On", "OFF"):
                    out.append(_value(kind, path, raw, "yaml11-boolean",
                                      "YAML booleans are written true or false", f"-{raw}"))
        for path, sub in _numbers(kind)[::3]:
            what = "valid integer" if sub["type"] == "integer" else "valid number"
            for raw, name in (("1_000", "underscore"), ("1:30", "sexagesimal"),
                              ("0b101", "binary"), ("2024-01-01", "date")):
                out.append(_value(kind, path, raw, "yaml11-number", what, f"-{name}"))
    return out


def _sized(kind: str) -> list[tuple[tuple[Any, ...], dict[str, Any], Any]]:
    out = []
    seen: set[tuple[Any, ...]] = set()

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        sub = schema_at(SCHEMAS[kind], path) if path else None
        if sub is not None and path not in seen and (
                ("maxItems" in sub and "prefixItems" not in sub) or "maxProperties" in sub):
            seen.add(path)
            out.append((path, sub, node))
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    walk(BASES[kind], ())
    return out


def oversized_cases() -> list[Hostile]:
    out = []
    for kind in ("scenario", "rules"):
        for path, sub, node in _sized(kind):
            if not node:
                continue
            data = copy.deepcopy(BASES[kind])
            limit = sub.get("maxItems", sub.get("maxProperties"))
            target: Any = data
            for part in path:
                target = target[part]
            first = target[0] if isinstance(target, list) else next(iter(target.values()))
            while len(target) <= limit:
                if isinstance(target, list):
                    target.append(copy.deepcopy(first))
                else:
                    target[f"extra_{len(target):04d}"] = copy.deepcopy(first)
            out.append(Hostile(f"oversized-{kind}-{_dotted(path)}", "oversized", kind,
                               lambda d=data: (dump(d), None), _dotted(path),
                               f"at most {limit:,}"))
    return out


def text_cases() -> list[Hostile]:
    out = []
    for kind in ("scenario", "rules"):
        for path, value in leaves(BASES[kind]):
            sub = schema_at(SCHEMAS[kind], path)
            if (isinstance(value, str) and sub is not None and sub.get("type") == "string"
                    and "maxLength" in sub):
                raw = "x" * (sub["maxLength"] + 1)
                out.append(_value(kind, path, raw, "long-text",
                                  f"at most {sub['maxLength']:,} characters"))
    return out


def key_cases() -> list[Hostile]:
    out = []
    for kind in ("scenario", "rules"):
        for path, sub, node in _sized(kind):
            if not (isinstance(node, dict) and node and "pattern" in sub.get("propertyNames",
                                                                             {})):
                continue
            for bad, name in (("Upper", "upper"), ('"with space"', "space"), ("9lives", "digit"),
                              ("k" * 49, "long"), ('"ünï"', "unicode"), ('"a\\nb"', "newline")):
                data = copy.deepcopy(BASES[kind])
                target: Any = data
                for part in path:
                    target = target[part]
                old = next(iter(target))
                renamed = {(TOKEN if k == old else k): v for k, v in target.items()}
                target.clear()
                target.update(renamed)
                key = yaml.safe_load(f"k: {bad}")["k"]
                out.append(Hostile(f"bad-key-{kind}-{_dotted(path)}-{name}", "bad-key", kind,
                                   lambda d=data, b=bad: _token_text(d, b),
                                   f"{_dotted(path)}.{key}", "does not match pattern"))
    return out


def _token_text(data: Any, raw: str) -> tuple[str, int]:
    text = dump(data)
    return text.replace(TOKEN, raw, 1), text[:text.index(TOKEN)].count("\n") + 1


def _edit(kind: str, change: Callable[[dict[str, Any]], None]
          ) -> Callable[[], tuple[str, int | None]]:
    def build() -> tuple[str, int | None]:
        data = copy.deepcopy(BASES[kind])
        change(data)
        return dump(data), None
    return build


def semantic_cases() -> list[Hostile]:
    out = []
    det, c2, lit = "adjudication.detection", "adjudication.c2", "adjudication.littoral"
    for table, keys in ((f"{det}.sorties_per_aircraft", ("low", "normal", "surge")),
                        (f"{c2}.command_latency_factor", ("separate", "planned_joint_hq",
                                                          "joint_hq", "joint_force_hq")),
                        (f"{lit}.ready_share", ("garrison", "alert", "dispersed")),
                        (f"{lit}.exposure", ("garrison", "alert", "dispersed"))):
        for key in keys:
            def drop(r: dict[str, Any], table: str = table, key: str = key) -> None:
                node = r
                for part in table.split("."):
                    node = node[part]
                del node[key]
            out.append(Hostile(f"incomplete-table-{table}-{key}", "incomplete-table", "rules",
                               _edit("rules", drop), table, f"missing: {key}"))
    for side, effect in (("blue", "strike"), ("red", "isr_tempo")):
        for aid in RULES["actions"][side]:
            text = _edit("rules", lambda r, s=side, a=aid, e=effect:
                         r["actions"][s][a].update(effect=e, params={}))
            out.append(Hostile(f"effects-{side}-{aid}", "effects", "rules", text,
                               f"actions.{side}.{aid}.effect",
                               f"not an effect {side} can order"))
    for name, side, aid, pname, spec in (
            ("tempo-choice", "blue", "isr_tempo", "level", {"choices": ["low", "warp"]}),
            ("tempo-kind", "blue", "isr_tempo", "level", {"kind": "zone"}),
            ("readiness-default", "blue", "littoral_posture", "readiness",
             {"choices": ["alert", "on_fire"], "default": "on_fire"}),
            ("link-kind", "red", "cyber_disrupt", "link", {"kind": "red_group"})):
        text = _edit("rules", lambda r, s=side, a=aid, p=pname, sp=spec:
                     r["actions"][s][a].setdefault("params", {}).update({p: sp}))
        out.append(Hostile(f"effects-{name}", "effects", "rules", text, None, "effect '"))
    scenario = SCENARIO

    def many(s: dict[str, Any]) -> None:
        s["blue"]["isr"]["mq9"]["aircraft"] = 100
        s["turns"]["count"] = 365

    out.append(Hostile("cross-field-budget-aircraft", "cross-field", "scenario",
                       _edit("scenario", many), "turns.count", "too large"))

    def far(s: dict[str, Any]) -> None:
        s["turns"] = {"count": 365, "hours": 48}

    out.append(Hostile("cross-field-year", "cross-field", "scenario", _edit("scenario", far),
                       "turns", "at most 8760 h"))

    def week(s: dict[str, Any]) -> None:
        s["turns"] = {"count": 53, "hours": 168}

    out.append(Hostile("cross-field-weeks", "cross-field", "scenario",
                       _edit("scenario", week), "turns", "at most 8760 h"))
    for i, pair in enumerate(scenario["theater"]["distances"][:6]):
        def twice(s: dict[str, Any], pair: list[Any] = pair) -> None:
            s["theater"]["distances"].append([pair[1], pair[0], pair[2] + 1])

        out.append(Hostile(f"cross-field-distance-twice-{i}", "cross-field", "scenario",
                           _edit("scenario", twice), None, "already given"))

    def budget_groups(s: dict[str, Any]) -> None:
        for k in range(20 - len(s["red"]["groups"])):
            s["red"]["groups"][f"extra_{k}"] = copy.deepcopy(s["red"]["groups"]["militia"])
        s["turns"]["count"] = 200

    out.append(Hostile("cross-field-budget-groups", "cross-field", "scenario",
                       _edit("scenario", budget_groups), "turns.count", "too large"))

    def budget_partners(s: dict[str, Any]) -> None:
        every = list(s["theater"]["zones"])
        for k in range(10 - len(s["blue"]["partners"])):
            s["blue"]["partners"][f"partner_{k}"] = {
                **s["blue"]["partners"]["australia"], "zones": every}
        s["turns"]["count"] = 365  # within the budget without these partners

    out.append(Hostile("cross-field-budget-partners", "cross-field", "scenario",
                       _edit("scenario", budget_partners), "turns.count", "too large"))
    return out


def _fifo(folder: Path) -> Path:
    path = folder / "fifo.yaml"
    os.mkfifo(path)
    return path


def _link(target: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / f"link-{Path(target).name or 'root'}.yaml"
        path.symlink_to(target)
        return path
    return make


def _directory(folder: Path) -> Path:
    path = folder / "a-directory.yaml"
    path.mkdir()
    return path


def _loop(folder: Path) -> Path:
    path = folder / "loop.yaml"
    path.symlink_to(path)
    return path


def _huge(folder: Path) -> Path:
    path = folder / "huge.yaml"
    with path.open("wb") as fh:
        fh.truncate(MAX_BYTES * 50)  # sparse: a 100 MB file that takes no room
    return path


def _missing(folder: Path) -> Path:
    return folder / "no-such-file.yaml"


def file_cases() -> list[Hostile]:
    cases = [("directory", _directory, "is a directory"),
             ("dev-zero", lambda _f: Path("/dev/zero"), "character device"),
             ("dev-null", lambda _f: Path("/dev/null"), "character device"),
             ("link-to-dev-zero", _link("/dev/zero"), "not a regular file"),
             ("link-to-directory", _link("/"), "is a directory"),
             ("symlink-loop", _loop, "cannot read"),
             ("huge-sparse", _huge, "the limit is 2,000,000"),
             ("missing", _missing, "cannot read")]
    if hasattr(os, "mkfifo"):
        cases.append(("fifo", _fifo, "is a pipe (FIFO)"))
    return [Hostile(f"not-a-file-{name}", "not-a-file", "scenario", None, None, says,
                    lines=False, make=make) for name, make, says in cases]


ALL = (number_cases() + yaml11_cases() + oversized_cases() + text_cases() + key_cases()
       + semantic_cases() + file_cases())
BY_CLASS = {c: [h for h in ALL if h.cls == c] for c in CLASSES}
# the default run: up to 32 cases of each class, chosen once and for all
FAST = [h for c in CLASSES for h in random.Random(14).sample(BY_CLASS[c],
                                                             min(32, len(BY_CLASS[c])))]


def test_the_corpus_is_large_and_covers_every_class() -> None:
    assert len({h.id for h in ALL}) == len(ALL), "case ids must be unique"
    for c in CLASSES:
        assert BY_CLASS[c], c
    assert len(ALL) >= 1000
    assert len(FAST) >= 300


# ---- in process ------------------------------------------------------------------------------


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def check_refusal(case: Hostile, path: Path, line: int | None, err: InputError) -> None:
    """Every problem names the file; the case's problem names its field, line and words."""
    text = str(err)
    assert "Traceback" not in text and err.problems, text
    for p in err.problems:
        assert p.file == str(path), str(p)
        if case.lines:
            assert p.line is not None and p.line >= 1, str(p)
    hits = [p for p in err.problems if case.says in p.message
            and (case.field is None or p.field == case.field)
            and (line is None or p.line == line)]
    assert hits, f"{case.id}: expected {case.says!r} at {case.field}:{line} in\n{text}"


def run_in_process(case: Hostile, folder: Path) -> None:
    path, line = case.write(folder)
    before = digest(path)
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        load_any(path)
    assert time.perf_counter() - start < 5, "no hang"
    assert info.value.exit_code == 2
    check_refusal(case, path, line, info.value)
    assert digest(path) == before


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.mark.parametrize("case", [pytest.param(h, id=h.id) for h in FAST])
def test_refused_in_process(case: Hostile, shared: Path) -> None:
    folder = shared / hashlib.sha256(case.id.encode()).hexdigest()[:16]
    folder.mkdir()
    run_in_process(case, folder)


@pytest.mark.slow
def test_every_generated_case_refused_in_process(tmp_path: Path) -> None:
    for i, case in enumerate(ALL):
        folder = tmp_path / str(i)
        folder.mkdir()
        run_in_process(case, folder)


_BAD_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: x != x or abs(x) == 1e999),
    st.sampled_from([".inf", "-.inf", ".nan", "1e999", "yes", "off", "1_0", "08:00", "0b1"]),
    st.integers(min_value=10**12, max_value=10**400).map(str),
    st.integers(max_value=-(10**12)).map(str))
NUMBER_PATHS = [(k, p) for k in ("scenario", "rules") for p, _ in _numbers(k)]


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(NUMBER_PATHS), raw=_BAD_VALUES)
def test_generated_hostile_numbers_are_refused(target: tuple[str, tuple[Any, ...]],
                                               raw: Any, tmp_path: Path) -> None:
    kind, path = target
    if isinstance(raw, float):
        raw = ".nan" if raw != raw else (".inf" if raw > 0 else "-.inf")
    case = Hostile("generated", "generated", kind, lambda: _with_token(kind, path, raw),
                   _dotted(path), "")
    folder = tmp_path / hashlib.sha256(f"{kind}{path}{raw}".encode()).hexdigest()[:12]
    folder.mkdir(exist_ok=True)
    run_in_process(case, folder)


# ---- through the command line ----------------------------------------------------------------


def _wargame(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([str(WARGAME), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", errors="replace", env=env, cwd=cwd,
                          timeout=timeout, check=False)


def _reported(stderr: str, case: Hostile, path: Path, line: int | None) -> None:
    mine = [x for x in stderr.splitlines() if x.startswith(f"✗ {path}:")]
    assert mine, f"{case.id} not reported"
    if line is not None:
        assert any(x.startswith(f"✗ {path}:{line}:") for x in mine), (case.id, mine)
    elif case.lines:
        assert any(x[len(f"✗ {path}:"):].split(":", 1)[0].isdigit() for x in mine), mine
    if case.field is not None and case.field.isprintable():
        assert any(f" {case.field}:" in x for x in mine), (case.id, mine)


def validate_batch(cases: list[Hostile], folder: Path) -> None:
    """Every case's file through one `wargame validate`: each refused, located, unchanged."""
    written = []
    for i, case in enumerate(cases):
        sub = folder / f"{i:04d}"
        sub.mkdir()
        written.append(case.write(sub))
    paths = [p for p, _ in written]
    before = [digest(p) for p in paths]
    done = _wargame("validate", *paths, cwd=folder)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout.strip().splitlines()[-1] == f"0 valid, {len(cases)} invalid"
    for case, (path, line) in zip(cases, written, strict=True):
        _reported(done.stderr, case, path, line)
        assert case.says in done.stderr
    assert [digest(p) for p in paths] == before


def test_every_default_case_through_one_validate_process(tmp_path: Path) -> None:
    validate_batch(FAST, tmp_path)


@pytest.mark.slow
def test_every_case_through_validate(tmp_path: Path) -> None:
    validate_batch(ALL, tmp_path)


def run_refuses(case: Hostile, folder: Path) -> None:
    """`wargame run` refuses the input at once: exit 2, the file named, no log, no change."""
    path, _ = case.write(folder)
    before = digest(path)
    out = folder / "out.jsonl"
    args: list[str | Path] = (["run", "classroom-tutorial", "--rules", path] if case.kind == "rules"
                              else ["run", path])
    start = time.perf_counter()
    done = _wargame(*args, "--out", out, "--quiet", cwd=folder, timeout=120)
    assert time.perf_counter() - start < 60
    assert done.returncode == 2, (case.id, done.stdout[-500:], done.stderr[-1500:])
    assert "Traceback" not in done.stderr + done.stdout
    assert str(path) in done.stderr and case.says in done.stderr, done.stderr[-1500:]
    assert not out.exists(), "a refused input must not leave a log"
    assert digest(path) == before


SAMPLE = ["not-a-file-fifo", "non-finite-scenario-blue.isr.mq9.sweep_width_nm-inf",
          "cross-field-budget-aircraft",
          "yaml11-boolean-scenario-blue.littoral.mlr12.anti_ship-yes"]


@pytest.mark.parametrize("case", [pytest.param(h, id=h.id) for h in ALL if h.id in SAMPLE])
def test_run_refuses_a_sample(case: Hostile, tmp_path: Path) -> None:
    run_refuses(case, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("cls", CLASSES)
def test_run_refuses_every_class(cls: str, tmp_path: Path) -> None:
    for i, case in enumerate(random.Random(cls).sample(BY_CLASS[cls], min(3, len(BY_CLASS[cls])))):
        folder = tmp_path / str(i)
        folder.mkdir()
        run_refuses(case, folder)
