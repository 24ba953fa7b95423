"""The event log: sealed lines, chain checks, truncation, streaming reads, published schema."""

from __future__ import annotations

import hashlib
import json

import pytest
from pydantic import ValidationError

from engine import load_pair
from engine.canonical import canonical
from engine.io.eventlog import check_chain, read_lines, run_logged, unseal
from engine.io.logschema import (
    LOG_VERSION,
    Footer,
    Header,
    Record,
    log_json_schema,
    sha256_of,
)
from engine.io.schemas import json_schema
from engine.sim.kinds import FIELD_TYPES, KINDS, visible_to
from engine.spec.scenario import with_turns


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    s, r = load_pair("classroom-tutorial")
    path = tmp_path_factory.mktemp("log") / "game.jsonl"
    run_logged(s, r, 4, path)
    return path


def test_every_line_validates_against_the_published_models(log):
    lines = list(read_lines(log))
    Header.model_validate(lines[0].obj)
    for line in lines[1:-1]:
        Record.model_validate(line.obj)
    footer = Footer.model_validate(lines[-1].obj)
    assert footer.records == len(lines) - 2


def test_header_embeds_scenario_rules_hashes_and_controllers(log):
    header = next(read_lines(log)).obj
    assert header["scenario"]["meta"]["id"] == "classroom-tutorial"
    assert header["rules"]["name"] == "standard"
    assert len(header["scenario_sha256"]) == 64 and len(header["rules_sha256"]) == 64
    assert header["controllers"] == {"blue": "doctrine", "red": "doctrine"}
    assert header["seed"] == {"entropy": 4, "spawn_key": []}


def test_the_log_format_is_version_2_and_the_published_header_refuses_version_1(log):
    header = next(read_lines(log)).obj
    assert header["format"] == "wargame-log" and header["version"] == LOG_VERSION == 2
    with pytest.raises(ValidationError, match="version"):
        Header.model_validate({**header, "version": 1})
    assert log_json_schema()["$defs"]["Header"]["properties"]["version"]["const"] == 2


def test_every_record_is_of_a_declared_kind_and_seen_by_its_kind_rule(log):
    records = [line.obj for line in list(read_lines(log))[1:-1]]
    assert {r["kind"] for r in records} <= set(KINDS)
    for r in records:
        assert r["visible_to"] == list(visible_to(r["kind"], r["side"], r["data"])), r
    # the tutorial shows the model at work: an umpire-only score, a Red-only decision, and
    # public Blue acts that Red sees
    seen = {(r["kind"], tuple(r["visible_to"])) for r in records}
    assert {("red.gain", ()), ("red.decision", ("red",)), ("blue.exercise", ("blue", "red"))} \
        <= seen


def test_untouched_log_chains(log):
    check = check_chain(log)
    assert check.ok and check.complete


@pytest.mark.parametrize("fraction", [0.0001, 0.1, 0.37, 0.5, 0.81, 0.9999])
def test_any_changed_byte_breaks_the_chain(log, tmp_path, fraction):
    data = bytearray(log.read_bytes())
    pos = int(len(data) * fraction)
    while data[pos] in b"\n":
        pos += 1
    data[pos] = ord("x") if data[pos] != ord("x") else ord("y")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(bytes(data))
    check = check_chain(bad)
    assert not check.ok
    line_of_change = data[:pos].count(b"\n") + 1
    assert check.first_bad_line == line_of_change


@pytest.mark.parametrize("cut", [1, 100, 5000, -300, -1])
def test_a_cut_log_reads_every_complete_line_and_reports_truncation(log, tmp_path, cut):
    data = log.read_bytes()
    cut_at = cut if cut > 0 else len(data) + cut
    short = tmp_path / "short.jsonl"
    short.write_bytes(data[:cut_at])
    whole_lines = data[:cut_at].count(b"\n")
    assert len(list(read_lines(short))) == whole_lines
    check = check_chain(short)
    assert not check.ok and "truncated" in check.problem


def test_unseal_rejects_lines_without_a_hash():
    assert unseal('{"a":1}') is None
    body, h = unseal('{"a":1,"h":"0123456789abcdef"}')
    assert body == '{"a":1}' and h == "0123456789abcdef"


def test_log_schema_is_valid_json_schema_covering_three_line_kinds():
    schema = log_json_schema()
    assert {"Header", "Record", "Footer"} <= set(schema["$defs"])
    json.dumps(schema)


def test_writer_flushes_each_turn(tmp_path):
    """A crash mid-game loses at most the turn in progress: lines are on disk per turn."""
    s, r = load_pair("classroom-tutorial")
    s = with_turns(s, 3)
    path = tmp_path / "g.jsonl"
    from engine.sim.controllers import Callback

    sizes = []

    def spy(view):
        sizes.append(path.stat().st_size)
        return []

    run_logged(s, r, 0, path, {"blue": Callback(spy)})
    assert sizes[0] > 0 and sizes == sorted(sizes) and len(set(sizes)) == 3


# ---- one canonical JSON form for every hash --------------------------------------------------

def test_a_scenario_has_one_hash_in_its_log_and_in_a_sweep_manifest(log):
    """The same file hashes the same wherever it is named: the log header and the sweep manifest
    take sha256 over one canonical JSON form (sorted keys, no spaces, UTF-8 as is). The
    classroom tutorial's title has an en dash, where a \\u-escaping form would differ."""
    from engine.sweeps.runner import build_spec, manifest_of

    header = next(read_lines(log)).obj
    s, _ = load_pair("classroom-tutorial")
    assert "\u2013" in s.meta.title
    manifest = manifest_of(build_spec("classroom-tutorial", replications=1, seed=4))
    assert manifest["scenarios"] == [{"id": "classroom-tutorial",
                                      "sha256": header["scenario_sha256"]}]
    assert manifest["rules_sha256"] == header["rules_sha256"]
    data = s.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert header["scenario_sha256"] == hashlib.sha256(text.encode()).hexdigest() \
        == sha256_of(data)
    escaped = json.dumps(data, sort_keys=True, separators=(",", ":"))  # the other form
    assert hashlib.sha256(escaped.encode()).hexdigest() != header["scenario_sha256"]


def test_the_header_and_footer_lines_are_the_canonical_form(log):
    lines = log.read_text(encoding="utf-8").splitlines()
    for text in (lines[0], lines[-1]):
        body, _ = unseal(text)
        assert body == canonical({k: v for k, v in json.loads(text).items() if k != "h"})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_the_canonical_form_has_no_nan_or_infinity(value):
    with pytest.raises(ValueError):
        canonical({"x": [1.0, value]})
    with pytest.raises(ValueError):
        sha256_of({"x": value})


# ---- every kind's data, published ------------------------------------------------------------

_JSON = {"str": "string", "float": "number", "int": "integer", "bool": "boolean",
         "list": "array", "dict": "object"}


def test_the_published_log_schema_describes_each_kinds_data():
    schema = json.loads(json_schema("log"))
    defs = schema["$defs"]
    assert {f"data.{kind}" for kind in KINDS} <= set(defs)
    for kind, spec in KINDS.items():
        data = defs[f"data.{kind}"]
        assert data["type"] == "object" and data["required"] == list(spec.fields), kind
        for name in spec.fields:
            declared = FIELD_TYPES[name]
            want = _JSON[declared.rstrip("?")]
            assert data["properties"][name]["type"] == (
                [want, "null"] if declared.endswith("?") else want), (kind, name)
        assert spec.seen.value in data["description"], kind
    record = defs["Record"]
    assert record["properties"]["kind"]["enum"] == sorted(KINDS)
    rules = {rule["if"]["properties"]["kind"]["const"]: rule["then"]["properties"]
             for rule in record["allOf"]}
    assert set(rules) == set(KINDS)
    assert rules["isr.search"]["data"] == {"$ref": "#/$defs/data.isr.search"}
    assert rules["red.gain"]["visible_to"] == {"const": []}  # the umpire's
    assert rules["engagement.salvo"]["visible_to"] == {"const": ["blue", "red"]}
    assert rules["state.red"]["side"] == {"const": "red"}
    # one type per field name across kinds: the union is listed once on the record's data
    assert set(record["properties"]["data"]["properties"]) == set(FIELD_TYPES)
    assert set(defs["Header"]["required"]) >= {"parent", "scenario_sha256", "engine"}


def test_a_json_schema_validator_accepts_a_log_and_refuses_a_broken_record(log):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(json_schema("log")))
    lines = [line.obj for line in read_lines(log)]
    for obj in lines:
        errors = list(validator.iter_errors(obj))
        assert not errors, (obj.get("kind"), errors[0].message)
    search = next(o for o in lines if o.get("kind") == "isr.search")
    for broken in ({**search, "data": {**search["data"], "p_detect": "high"}},
                   {**search, "data": {k: v for k, v in search["data"].items() if k != "law"}},
                   {**search, "visible_to": ["blue"]}, {**search, "side": "red"},
                   {**search, "kind": "isr.searched"}):
        assert not validator.is_valid(broken)
        with pytest.raises(ValidationError):
            Record.model_validate(broken)  # the engine's own models agree
    assert not validator.is_valid({k: v for k, v in lines[0].items() if k != "parent"})
    assert not validator.is_valid({**lines[-1], "umpire_note": "x"})
