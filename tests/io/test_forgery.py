"""Forged logs are never verified: whoever can write a log can recompute its whole hash chain (the
rule is public, docs/log-format.md), so every forgery here is re-chained after its edit, by a
forger's tool written from the documentation alone. Appending, inserting, removing and
reordering lines, editing the header, the embedded scenario and rules, a record's data or the
footer: ``verify`` exits 1 or 2, never 0, and says why. Every structural corruption (fuzzed)
gives exit 2 with its line and no traceback. Genuine logs (every golden log, a fresh game, a
fork, a classroom game with rationales and an umpire's inject) still verify."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import load_pair
from engine.errors import LogError
from engine.game import Game
from engine.io.eventlog import run_logged
from engine.io.fork import fork
from engine.io.logschema import sha256_of
from engine.io.replay import read_log, verify
from engine.sim.kinds import FIELD_TYPES, KINDS
from engine.spec.order import Order
from engine.spec.scenario import Scenario, with_turns

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.jsonl"))
WARGAME = Path(sys.executable).parent / "wargame"

Objs = list[dict[str, Any]]


# ---- a forger's tools, from the documentation alone ------------------------------------------

def objects(path: Path) -> Objs:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def chained(objs: Objs) -> str:
    """The text of a validly chained log: h = sha256(previous h + the line without h)[:16], the
    header and footer with sorted keys, records in their own key order (docs/log-format.md)."""
    prev, out = "", []
    for i, obj in enumerate(objs):
        body = {k: v for k, v in obj.items() if k != "h"}
        sort = i == 0 or "footer" in body
        text = json.dumps(body, sort_keys=sort, separators=(",", ":"), ensure_ascii=False)
        prev = hashlib.sha256((prev + text).encode()).hexdigest()[:16]
        out.append(f'{text[:-1]},"h":"{prev}"}}\n')
    return "".join(out)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def outcome(path: Path) -> tuple[int, str]:
    """verify's exit code (0 verified, 1 not verified, 2 not a well-formed log) and message."""
    try:
        verdict = verify(path)
    except LogError as e:
        return e.exit_code, str(e)
    return (0 if verdict.ok else 1), verdict.message


def records_of(objs: Objs) -> list[int]:
    return list(range(1, len(objs) - 1))


def first(objs: Objs, kind: str) -> int:
    return next(i for i in records_of(objs) if objs[i]["kind"] == kind)


def renumber(objs: Objs) -> Objs:
    """A careful forger keeps seq 0, 1, 2, ... and the footer's record count right."""
    for seq, i in enumerate(records_of(objs)):
        objs[i]["seq"] = seq
    objs[-1]["records"] = len(objs) - 2
    return objs


# ---- the logs forged ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A fresh war game in which Blue is played by a Python policy (its orders are replayed
    from the log, not re-decided), so forging its orders is tried too."""
    s, r = load_pair("alliance-2024")

    def surge_then_disperse(obs, menu):
        if "littoral_posture" in menu and obs.turn >= 3:
            return [Order("littoral_posture", {"readiness": "dispersed"})]
        return [Order("isr_tempo", {"level": "surge"})] if "isr_tempo" in menu else []

    path = tmp_path_factory.mktemp("fresh") / "fresh.jsonl"
    run_logged(with_turns(s, 8), r, 17, path, {"blue": surge_then_disperse})
    return path


@pytest.fixture(scope="module")
def logs(fresh) -> list[Path]:
    return [*GOLDEN, fresh]


def test_the_logs_forged_are_genuine_and_the_forgers_tool_is_exact(logs):
    assert len(GOLDEN) >= 5
    for path in logs:
        code, message = outcome(path)
        assert code == 0 and message.startswith("verified"), (path.name, message)
        # the forger rewrites an untouched log byte for byte: every failure below is the edit's
        assert chained(objects(path)) == path.read_text(encoding="utf-8"), path.name


# ---- the forgeries -----------------------------------------------------------------------------

def append_record(objs: Objs) -> Objs:
    extra = {**copy.deepcopy(objs[-2]), "seq": objs[-2]["seq"] + 1}
    return [*objs, extra]


def append_second_footer_with_more_turns(objs: Objs) -> Objs:
    more = copy.deepcopy(objs[-1])
    more["turns"] += 3
    more["outcome"]["turns_played"] += 3
    more["outcome"]["deterrence_held"] = not more["outcome"]["deterrence_held"]
    return [*objs, more]


def insert_record(objs: Objs) -> Objs:
    i = first(objs, "isr.sortie.launch")
    return renumber([*objs[:i + 1], copy.deepcopy(objs[i]), *objs[i + 1:]])


def insert_record_without_renumbering(objs: Objs) -> Objs:
    i = first(objs, "red.move")
    return [*objs[:i], copy.deepcopy(objs[i]), *objs[i:]]


def remove_record(objs: Objs) -> Objs:
    i = first(objs, "isr.detect")
    return renumber([*objs[:i], *objs[i + 1:]])


def remove_last_turn(objs: Objs) -> Objs:
    last = objs[-2]["turn"]
    kept = [o for o in objs[1:-1] if o["turn"] < last]
    footer = copy.deepcopy(objs[-1])
    footer["turns"] = footer["outcome"]["turns_played"] = last - 1
    return renumber([objs[0], *kept, footer])


def remove_footer(objs: Objs) -> Objs:
    return objs[:-1]


def reorder_records(objs: Objs) -> Objs:
    i = first(objs, "red.decision")
    j = i + 1
    objs[i], objs[j] = objs[j], objs[i]
    return renumber(objs)


def reorder_turns(objs: Objs) -> Objs:
    one = [o for o in objs[1:-1] if o["turn"] == 1]
    two = [o for o in objs[1:-1] if o["turn"] == 2]
    rest = [o for o in objs[1:-1] if o["turn"] > 2]
    for o in one:
        o["turn"] = 2
    for o in two:
        o["turn"] = 1
    return renumber([objs[0], *two, *one, *rest, objs[-1]])


def header(edit: Callable[[dict[str, Any]], None]) -> Callable[[Objs], Objs]:
    def forge(objs: Objs) -> Objs:
        edit(objs[0])
        return objs
    return forge


def rehash(h: dict[str, Any]) -> None:
    h["scenario_sha256"], h["rules_sha256"] = sha256_of(h["scenario"]), sha256_of(h["rules"])


def zero_scenario_hash(h):
    h["scenario_sha256"] = "0" * 64


def zero_rules_hash(h):
    h["rules_sha256"] = "0" * 64


def engine_text(h):
    h["engine"] = "0.2.0, patched by hand"


def engine_word(h):
    h["engine"] = "latest"


def engine_other_minor(h):
    h["engine"] = "0.9.0"


def seed_entropy(h):
    h["seed"]["entropy"] += 1


def seed_spawn_key(h):
    h["seed"]["spawn_key"] = [1]


def seed_as_text(h):
    h["seed"]["entropy"] = str(h["seed"]["entropy"])


def blue_was_human(h):
    h["controllers"]["blue"] = "human" if h["controllers"]["blue"] == "doctrine" else "doctrine"


def red_was_human(h):
    h["controllers"]["red"] = "human"


def fake_parent(h):
    h["parent"] = {"log_sha256": "ab" * 32, "fork_turn": 2, "seed": 5, "controllers": {}}


def scenario_title(h):
    h["scenario"]["meta"]["title"] = "A quiet year in the strait"


def scenario_summary_and_sources(h):
    h["scenario"]["meta"]["summary"] = "Nothing happened."
    h["scenario"]["meta"]["sources"][0] = "A source that says so"


def scenario_title_rehashed_with_a_rule_changed(h):
    scenario_title(h)
    rules_number_changed(h)


def scenario_number_as_float(h):
    turns = h["scenario"]["turns"]
    turns["count"] = float(turns["count"])  # validates by conversion: not the engine's text
    rehash(h)


def rules_number_changed(h):
    """A number of the rules that matters to every game (how sharply Red's doctrine chooses),
    with both hashes recomputed."""
    red = h["rules"]["red_model"]
    red["rationality"] = round(red["rationality"] * 1.5 + 0.1, 6)
    rehash(h)


def record(kind: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[Objs], Objs]:
    def forge(objs: Objs) -> Objs:
        edit(objs[first(objs, kind)])
        return objs
    return forge


def detect_zone(r):
    r["data"]["zone"] = "somewhere_else"


def gain_bigger(r):
    r["data"]["gain"] = r["data"]["gain"] + 1.0


def rung_moved(r):
    r["data"]["rung"] = "armed_attack"


def draw_changed(r):
    r["data"]["draw"] = 0.0 if r["data"]["draw"] != 0.0 else 0.5


def decision_choice(r):
    r["data"]["choice"] = "stand_down" if r["data"]["choice"] != "stand_down" else "patrol"


def orders_emptied(r):
    r["data"]["orders"] = []


def orders_changed(r):
    r["data"]["orders"] = [{"action": "signal", "params": {}}]


def time_shifted(r):
    r["t"] = r["t"] + 1.0


def unit_renamed(r):
    r["unit"] = "mq9.99"


def umpire_score_shown_to_blue(r):
    r["visible_to"] = ["blue"]


def red_decision_shown_to_blue(r):
    r["visible_to"] = ["blue", "red"]


def data_type_changed(r):
    r["data"]["p_detect"] = str(r["data"]["p_detect"])


def data_field_removed(r):
    del r["data"]["draw"]


def kind_renamed(r):
    r["kind"] = "isr.detect.forged"


def side_changed(r):
    r["side"] = "red"


def footer(edit: Callable[[dict[str, Any]], None]) -> Callable[[Objs], Objs]:
    def forge(objs: Objs) -> Objs:
        edit(objs[-1])
        return objs
    return forge


def outcome_flipped(f):
    o = f["outcome"]
    o["deterrence_held"] = not o["deterrence_held"]
    o["failure_turn"] = None if o["failure_turn"] is not None else 1


def outcome_gains(f):
    f["outcome"]["red_gains"] = 0.0 if f["outcome"]["red_gains"] else 1.5


def more_turns(f):
    f["turns"] += 2
    f["outcome"]["turns_played"] += 2


def fewer_records(f):
    f["records"] -= 1


def footer_note(f):
    f["umpire_note"] = "Blue won"


def outcome_field_added(f):
    f["outcome"]["winner"] = "blue"


# name: (forgery, the exit codes allowed, words the message must contain)
FORGERIES: dict[str, tuple[Callable[[Objs], Objs], set[int], str]] = {
    "append a record after the footer": (append_record, {2}, "follows the footer"),
    "append a second footer with more turns": (append_second_footer_with_more_turns, {2},
                                               "follows the footer"),
    "insert a record (seq and count renumbered)": (insert_record, {1}, "diverged at line"),
    "insert a record (seq not renumbered)": (insert_record_without_renumbering, {1}, "seq"),
    "remove a record (seq and count renumbered)": (remove_record, {1}, "diverged at line"),
    "remove the last turn (footer rewritten)": (remove_last_turn, {1}, "diverged at line"),
    "remove the footer": (remove_footer, {1}, "truncated"),
    "reorder two records": (reorder_records, {1}, "diverged at line"),
    "reorder two turns": (reorder_turns, {1}, ""),
    "header: scenario hash zeroed": (header(zero_scenario_hash), {1}, "scenario_sha256"),
    "header: rules hash zeroed": (header(zero_rules_hash), {1}, "rules_sha256"),
    "header: engine version as text": (header(engine_text), {2}, "not an engine version"),
    "header: engine version a word": (header(engine_word), {2}, "not an engine version"),
    "header: engine version of another minor": (header(engine_other_minor), {2}, "0.9.0"),
    "header: seed entropy": (header(seed_entropy), {1}, "diverged at line"),
    "header: seed spawn key": (header(seed_spawn_key), {1}, "diverged at line"),
    "header: seed as text": (header(seed_as_text), {2}, "seed.entropy"),
    "header: blue's controller": (header(blue_was_human), {1}, "diverged at line"),
    "header: red's controller": (header(red_was_human), {1}, "diverged at line"),
    "header: a parent invented": (header(fake_parent), {1}, "diverged at line"),
    "scenario: title": (header(scenario_title), {1}, "scenario does not match"),
    "scenario: summary and sources": (header(scenario_summary_and_sources), {1},
                                      "scenario does not match"),
    "scenario: title and a rule, both rehashed": (
        header(scenario_title_rehashed_with_a_rule_changed), {1}, "diverged at line"),
    "scenario: an integer written as a float, rehashed": (header(scenario_number_as_float), {2},
                                                          "embedded scenario"),
    "rules: a number, rehashed": (header(rules_number_changed), {1}, "diverged at line"),
    "data: a detection's zone": (record("isr.detect", detect_zone), {1}, "diverged at line"),
    "data: Red's gain": (record("red.gain", gain_bigger), {1}, "diverged at line"),
    "data: the rung at a turn's end": (record("turn.end", rung_moved), {1}, "diverged at line"),
    "data: a search draw": (record("isr.search", draw_changed), {1}, "diverged at line"),
    "data: Red's choice": (record("red.decision", decision_choice), {1}, "diverged at line"),
    "data: Blue's orders emptied": (record("orders", orders_emptied), {1}, "diverged at line"),
    "data: Blue's orders changed": (record("orders", orders_changed), {1}, "diverged at line"),
    "record: time": (record("isr.detect", time_shifted), {1}, "diverged at line"),
    "record: unit": (record("isr.sortie.launch", unit_renamed), {1}, "diverged at line"),
    "record: an umpire-only score shown to Blue": (record("red.gain", umpire_score_shown_to_blue),
                                                   {2}, "visible_to"),
    "record: Red's decision shown to Blue": (record("red.decision", red_decision_shown_to_blue),
                                             {2}, "visible_to"),
    "record: a field's type": (record("isr.detect", data_type_changed), {2}, "p_detect"),
    "record: a declared field removed": (record("isr.detect", data_field_removed), {2}, "draw"),
    "record: an undeclared kind": (record("isr.detect", kind_renamed), {2}, "unknown record kind"),
    "record: the acting side": (record("isr.detect", side_changed), {2}, "side"),
    "footer: outcome flipped": (footer(outcome_flipped), {1}, "footer differs"),
    "footer: Red's gains": (footer(outcome_gains), {1}, "footer differs"),
    "footer: more turns": (footer(more_turns), {1}, "footer says"),
    "footer: record count": (footer(fewer_records), {1}, "footer counts"),
    "footer: a key added": (footer(footer_note), {2}, "umpire_note"),
    "footer: an outcome field added": (footer(outcome_field_added), {1}, "footer differs"),
}


def test_the_suite_covers_every_class_of_forgery():
    names = " ".join(FORGERIES)
    for word in ("append", "insert", "remove", "reorder", "header:", "engine version", "seed",
                 "scenario:", "rules:", "data:", "footer: outcome", "second footer"):
        assert word in names, word
    assert len(FORGERIES) >= 40


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_rechained_forgery_is_never_verified(logs, tmp_path, name):
    forge, codes, says = FORGERIES[name]
    tried = 0
    for path in logs:
        try:
            forged = forge(objects(path))
        except (StopIteration, KeyError):  # the log has no record of the kind forged
            continue
        bad = write(tmp_path / path.name, chained(forged))
        assert bad.read_bytes() != path.read_bytes(), (name, path.name)
        code, message = outcome(bad)
        assert code in codes, (name, path.name, code, message)
        assert says in message, (name, path.name, message)
        tried += 1
    assert tried >= 3, f"{name}: tried on {tried} logs only"


@pytest.mark.parametrize("name", ["append a second footer with more turns",
                                  "footer: outcome flipped", "scenario: title",
                                  "header: engine version as text", "data: Red's gain",
                                  "record: an umpire-only score shown to Blue"])
def test_the_command_says_why_a_forgery_is_not_verified(fresh, tmp_path, name):
    forge, codes, says = FORGERIES[name]
    bad = write(tmp_path / "forged.jsonl", chained(forge(objects(fresh))))
    done = subprocess.run([str(WARGAME), "verify", str(bad)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode in codes and done.returncode != 0, done.stdout + done.stderr
    assert says in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    if done.returncode == 1:
        assert done.stdout.startswith("not verified: ")
    else:
        assert f"{bad}:" in done.stderr and not done.stdout


def test_unchained_edits_are_caught_by_the_chain(fresh, tmp_path):
    text = fresh.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    for n in (1, 2, len(lines) // 2, len(lines)):
        edited = lines.copy()
        edited[n - 1] = edited[n - 1].replace('"turn":', '"turn":1', 1) if 1 < n < len(lines) \
            else edited[n - 1].replace('"entropy":17', '"entropy":18').replace(
                '"records":', '"records":1')
        assert edited != lines, n
        code, message = outcome(write(tmp_path / "edited.jsonl", "".join(edited)))
        assert code == 1 and f"line {n}" in message, (n, message)


# ---- a scenario rewritten whole, with its hash and the chain ---------------------------------

def test_a_scenario_rewritten_with_its_hash_is_the_log_of_that_other_scenario(tmp_path):
    """Rewriting the embedded scenario's text and its hash, then the chain, makes the log that
    the engine itself writes for the rewritten scenario, byte for byte: a genuine log of another
    scenario, which its header's scenario_sha256 names (compare it with the file's). Nothing in
    a log can tell its reader that a file of that hash was not the one meant."""
    path = GOLDEN[-1]
    objs = objects(path)
    scenario_title(objs[0])
    rehash(objs[0])
    forged = write(tmp_path / "retitled.jsonl", chained(objs))
    s, r = load_pair("classroom-tutorial")
    retitled = Scenario.model_validate(objs[0]["scenario"])
    assert retitled.meta.title != s.meta.title
    again = tmp_path / "played.jsonl"
    run_logged(retitled, r, objs[0]["seed"]["entropy"], again)
    assert again.read_bytes() == forged.read_bytes()
    assert objs[0]["scenario_sha256"] != objects(path)[0]["scenario_sha256"]
    assert objs[0]["scenario_sha256"] == sha256_of(s.model_copy(update={"meta": retitled.meta})
                                                   .model_dump(mode="json"))


# ---- structural corruption, fuzzed -------------------------------------------------------------

TUTORIAL = ROOT / "tests" / "golden" / "classroom-tutorial-seed0.jsonl"
LINES = TUTORIAL.read_bytes().splitlines(keepends=True)
OBJS = [json.loads(line) for line in LINES]

SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
TYPED = {"NoneType": st.none(), "bool": st.booleans(), "number": st.integers(),
         "str": st.text(max_size=8), "list": st.lists(SCALARS, max_size=3),
         "dict": st.dictionaries(st.text(max_size=5), SCALARS, max_size=3)}
DECLARED = {"str": "str", "float": "number", "int": "number", "bool": "bool", "list": "list",
            "dict": "dict"}
json_values = st.one_of(list(TYPED.values()))


def _type(value: Any) -> str:
    return "number" if type(value) in (int, float) else type(value).__name__


def _other_type(value: Any, declared: str = "") -> st.SearchStrategy:
    """A JSON value of another type than ``value`` (and than the declared type), never null."""
    taken = {_type(value), "NoneType", DECLARED.get(declared.rstrip("?"), "")}
    return st.one_of([strategy for kind, strategy in TYPED.items() if kind not in taken])


@st.composite
def structural_corruptions(draw) -> tuple[int, bytes, str]:
    """(line number, the corrupted log, what was done): one line made not a well-formed line of
    its kind, the chain recomputed wherever the line still has one."""
    n = draw(st.integers(1, len(LINES)))
    objs = copy.deepcopy(OBJS)
    obj = objs[n - 1]
    how = draw(st.sampled_from(["garbage", "not an object", "key removed", "key added",
                                "value of another type", "non-finite number", "bad bytes",
                                "data field", "visible_to", "deep", "empty", "bad hash"]))
    raw: bytes | None = None
    keys = [k for k in obj if k != "h"]
    if how == "garbage":
        raw = draw(st.text(min_size=1, max_size=40).filter(
            lambda t: "\n" not in t and "\r" not in t and not t.strip().startswith("{"))
        ).encode("utf-8", "replace") + b"\n"
    elif how == "not an object":
        value = draw(st.one_of([t for kind, t in TYPED.items() if kind != "dict"]))
        raw = json.dumps(value).encode() + b"\n"
    elif how == "key removed":
        del obj[draw(st.sampled_from(keys))]
    elif how == "key added":
        name = draw(st.text(min_size=1, max_size=6).filter(lambda k: k not in obj))
        obj[name] = draw(json_values)
    elif how == "value of another type":
        key = draw(st.sampled_from([k for k in keys if k not in ("scenario", "rules")]))
        obj[key] = draw(_other_type(obj[key]))
    elif how == "non-finite number":
        key = draw(st.sampled_from(keys))
        obj[key] = float(draw(st.sampled_from(["nan", "inf", "-inf"])))
    elif how == "bad bytes":
        raw = LINES[n - 1][:10] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) \
            + LINES[n - 1][10:]
    elif how == "data field" and obj.get("data"):
        declared = KINDS[obj["kind"]].fields
        if not declared:  # a kind without fields: then the kind itself
            obj["kind"] = draw(st.sampled_from(["no.such.kind", "", "ISR.DETECT"]))
        else:
            key = draw(st.sampled_from(declared))
            if draw(st.booleans()):
                obj["data"][key] = draw(_other_type(obj["data"][key], FIELD_TYPES[key]))
            else:
                del obj["data"][key]
    elif how == "visible_to" and "visible_to" in obj:
        options = [[], ["blue"], ["red"], ["blue", "red"], ["white"], ["red", "blue"], "blue"]
        obj["visible_to"] = draw(st.sampled_from([o for o in options if o != obj["visible_to"]]))
    elif how == "deep":
        raw = b"[" * 100_000 + b"\n"
    elif how == "empty":
        raw = b"\n"
    elif how == "bad hash":
        obj["h"] = draw(st.sampled_from(["", "xyz", "0" * 15, "G" * 16, "0" * 64]))
        raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    else:  # a line without data or visible_to: take a key out instead
        how = "key removed"
        del obj[draw(st.sampled_from(keys))]
    if raw is None:
        text = chained(objs)  # NaN and Infinity are written as json.dumps writes them
        lines = text.encode("utf-8").splitlines(keepends=True)
        raw = lines[n - 1]
        rest = lines
    else:
        rest = LINES
    data = b"".join([*rest[:n - 1], raw, *rest[n:]])
    return n, data, how


FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow,
                                                     HealthCheck.function_scoped_fixture]}


@settings(max_examples=300, **FUZZ)
@given(case=structural_corruptions())
def test_a_structural_corruption_exits_2_with_its_line_and_no_traceback(tmp_path, case):
    refused_with_its_line(tmp_path, *case)


@pytest.mark.slow
@settings(max_examples=5000, **FUZZ)
@given(case=structural_corruptions())
def test_many_structural_corruptions_exit_2_with_their_line(tmp_path, case):
    refused_with_its_line(tmp_path, *case)


def refused_with_its_line(tmp_path: Path, n: int, data: bytes, how: str) -> None:
    bad = tmp_path / "corrupt.jsonl"
    bad.write_bytes(data)
    with pytest.raises(LogError) as e:  # main() prints it as one line with exit code 2
        verify(bad)
    said = str(e.value)
    assert e.value.exit_code == 2, (how, n, said)
    assert f"corrupt.jsonl:{n}:" in said or f"line {n}" in said, (how, n, said)
    # the other readers refuse it plainly too, naming the line
    out = tmp_path / "fork.jsonl"
    with pytest.raises(LogError) as e:
        fork(bad, 2, out)
    assert e.value.exit_code == 2 and (f":{n}:" in str(e.value) or f"line {n}" in str(e.value))
    assert not out.exists()
    integrity = _integrity(bad)
    assert integrity is None or (integrity.status == "damaged" and integrity.line == n), (
        how, n, integrity)


def test_the_command_exits_2_naming_the_line_of_a_structural_corruption(tmp_path):
    lines = [*LINES]
    for n, line in ((1, b'{"controllers":{"blue":"doctrine"}}\n'), (7, b"[1, 2]\n"),
                    (len(LINES), LINES[-1].replace(b'"footer":true', b'"footer":"yes"'))):
        bad = tmp_path / "corrupt.jsonl"
        bad.write_bytes(b"".join([*lines[:n - 1], line, *lines[n:]]))
        done = subprocess.run([str(WARGAME), "verify", str(bad)], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2, (n, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and not done.stdout
        assert f"corrupt.jsonl:{n}:" in done.stderr or f"line {n}" in done.stderr, done.stderr


def _integrity(path: Path):
    try:
        return read_log(path).integrity
    except LogError:  # the header itself: refused before anything is read
        return None


# ---- genuine logs still verify ------------------------------------------------------------------

@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_every_golden_log_verifies_and_reads_as_sealed(path):
    assert verify(path).ok
    reader = read_log(path)
    assert reader.integrity.ok and reader.integrity.status == "sealed"
    assert sum(1 for _ in reader.records()) == reader.integrity.records
    assert reader.footer is not None and not reader.truncated


def test_a_fork_of_a_fresh_game_verifies(fresh, tmp_path):
    out = tmp_path / "fork.jsonl"
    fork(fresh, 4, out, seed=3, controllers={"red": "recorded"})
    assert verify(out).ok and read_log(out).integrity.ok
    objs = objects(out)
    assert objs[0]["parent"]["fork_turn"] == 4
    # and the fork is protected like any log: its parent's hash is part of what is verified
    objs[0]["parent"]["log_sha256"] = "cd" * 32
    code, message = outcome(write(tmp_path / "forged-fork.jsonl", chained(objs)))
    assert code == 1 and "diverged at line" in message


def play_classroom(log: Path, red_at_2: str = "probe 2") -> Path:
    """A classroom game in the browser's room: both teams give orders with a rationale every
    turn, and the umpire forces a patrol on Red at turn 2."""
    from engine.classroom.room import Room

    room = Room.start(Game.load("classroom-tutorial"), 4, log)
    turn = 0
    while not room.session.over:
        turn += 1
        assert room.submit("blue", [Order("isr_tempo", {"level": "surge"})],
                           f"watch the strait ({turn}) \u2013 \u2018quoted\u2019 \u2713") == []
        assert room.submit("red", [Order("patrol", {})],
                           red_at_2 if turn == 2 else f"probe {turn}") == []
        if turn == 2:
            assert room.inject(Order("patrol", {}, "red", "a storm: Red must patrol")) == []
        assert room.advance() == []
    return log


def test_a_classroom_game_with_rationales_and_an_inject_verifies(tmp_path):
    log = play_classroom(tmp_path / "class.jsonl")
    verdict = verify(log)
    assert verdict.ok, verdict
    assert read_log(log).integrity.ok
    objs = objects(log)
    rationales = [o["data"].get("rationale") for o in objs[1:-1] if o["kind"] == "orders"]
    assert "watch the strait (1) \u2013 \u2018quoted\u2019 \u2713" in rationales
    assert "probe 2" in rationales
    assert any(o["kind"] == "umpire.inject" for o in objs[1:-1])
    # what follows from the recorded orders is protected: a Red order changed is caught
    i = next(i for i, o in enumerate(objs) if o.get("kind") == "orders" and o["side"] == "red"
             and o["turn"] == 3)
    objs[i]["data"]["orders"] = [{"action": "stand_down", "params": {}}]
    code, message = outcome(write(tmp_path / "edited.jsonl", chained(objs)))
    assert code == 1 and "diverged at line" in message


def test_a_rationale_rewritten_with_the_chain_is_the_log_of_that_rationale(tmp_path):
    """A rationale is a recorded input that changes nothing in the game: rewriting it (and the
    chain) makes, byte for byte, the log of the same game in which the team wrote the new
    words. verify vouches for what follows from the inputs, not for who typed them."""
    log = play_classroom(tmp_path / "class.jsonl")
    objs = objects(log)
    i = next(i for i, o in enumerate(objs) if o.get("data", {}).get("rationale") == "probe 2")
    objs[i]["data"]["rationale"] = "we meant to attack"
    forged = write(tmp_path / "forged.jsonl", chained(objs))
    played = play_classroom(tmp_path / "played.jsonl", red_at_2="we meant to attack")
    assert forged.read_bytes() == played.read_bytes()


# ---- what replay and report are told --------------------------------------------------------

def test_integrity_says_sealed_truncated_broken_or_damaged_in_one_line(fresh, tmp_path):
    assert read_log(fresh).integrity.status == "sealed"
    data = fresh.read_bytes()
    cut = write(tmp_path / "cut.jsonl", data[: len(data) // 2].decode("utf-8", "ignore"))
    i = read_log(cut).integrity
    assert i.status == "truncated" and not i.ok
    assert i.message.startswith(f"This log is truncated: it stops after turn {i.last_turn}")
    objs = objects(fresh)
    outcome_flipped(objs[-1])
    lines = chained(objs).splitlines(keepends=True)
    lines[5] = lines[5].replace('"t":', '"t":1', 1)  # not re-chained
    i = read_log(write(tmp_path / "broken.jsonl", "".join(lines))).integrity
    assert i.status == "broken" and i.line == 6 and "broken hash chain at line 6" in i.message
    assert i.message.startswith("This log fails its integrity check")
    appended = chained(append_second_footer_with_more_turns(objects(fresh)))
    reader = read_log(write(tmp_path / "appended.jsonl", appended))
    i = reader.integrity
    assert i.status == "damaged" and i.line == len(objs) + 1 and "follows the footer" in i.message
    for message in (read_log(cut).integrity.message, i.message):
        assert "\n" not in message
    # the streaming reader stops there too, and shows no outcome from a footer that is followed
    assert sum(1 for _ in reader.records()) == len(objs) - 2
    assert reader.footer is None and reader.truncated and reader.state.corrupt
    assert "follows the footer" in reader.state.reason
