"""The Python API of logged games: read_log (streaming, tolerant), verify, fork and log_table,
and a client that reads a log with pyarrow knowing only the published schema."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path

import pytest

from engine import LogError, Order, ReplayDivergence, __version__, load_pair
from engine.io.eventlog import read_lines, run_logged, seal, unseal
from engine.io.fork import fork
from engine.io.logschema import Header, Record
from engine.io.replay import read_log, verify
from engine.io.tables import log_table
from engine.sim.kernel import run
from engine.sim.state import ListSink
from engine.spec.scenario import with_turns

SEED = 3
WARGAME = Path(sys.executable).parent / "wargame"


# ---- helpers ---------------------------------------------------------------------------------

def log_objects(path: Path) -> list[dict]:
    """Every line of a log as a parsed object, in order (json keeps the key order)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def reseal(objs: list[dict], path: Path) -> Path:
    """Write objects as a validly chained log: header and footer with sorted keys, records in
    their own key order, exactly as the engine's writer does."""
    prev, out = "", []
    for i, obj in enumerate(objs):
        body = {k: v for k, v in obj.items() if k != "h"}
        is_record = i > 0 and body.get("footer") is not True
        line, prev = seal(prev, body, sort=not is_record)
        out.append(line + "\n")
    path.write_text("".join(out), encoding="utf-8", newline="\n")
    return path


def without_h(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k != "h"}


# ---- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    """A classroom-tutorial log and the records the same game emits in memory."""
    s, r = load_pair("classroom-tutorial")
    path = tmp_path_factory.mktemp("tutorial") / "game.jsonl"
    result, _ = run_logged(s, r, SEED, path)
    records = ListSink()
    run(s, r, SEED, sink=records)
    return path, result, [json.loads(json.dumps(rec)) for rec in records]


@pytest.fixture(scope="module")
def alliance(tmp_path_factory):
    """A 30-turn alliance-2024 log and the engine's in-memory records of the same game."""
    s, r = load_pair("alliance-2024")
    path = tmp_path_factory.mktemp("alliance") / "alliance.jsonl"
    run_logged(s, r, SEED, path)
    records = ListSink()
    run(s, r, SEED, sink=records)
    return path, list(records)


def test_reseal_reproduces_an_untouched_log_byte_for_byte(tutorial, tmp_path):
    path, _, _ = tutorial
    assert reseal(log_objects(path), tmp_path / "same.jsonl").read_bytes() == path.read_bytes()


# ---- read_log --------------------------------------------------------------------------------

def test_read_log_gives_the_header_then_streams_records_and_fills_in_the_footer(tutorial):
    path, result, records = tutorial
    reader = read_log(path)
    assert reader.header["format"] == "wargame-log" and reader.header["engine"] == __version__
    assert reader.header["scenario"]["meta"]["id"] == "classroom-tutorial"
    stream = reader.records()
    assert isinstance(stream, types.GeneratorType)  # lazy: nothing read past the header yet
    assert reader.footer is None
    read = [without_h(rec) for rec in stream]
    assert read == records
    assert reader.footer is not None and reader.footer["records"] == len(records)
    assert reader.footer["outcome"] == result.outcome
    assert not reader.truncated and reader.state.complete


def test_read_log_records_can_be_iterated_again(tutorial):
    path, _, records = tutorial
    reader = read_log(path)
    assert sum(1 for _ in reader.records()) == sum(1 for _ in reader.records()) == len(records)


def test_read_log_is_tolerant_of_a_cut_log(tutorial, tmp_path):
    path, _, records = tutorial
    data = path.read_bytes()
    lines = data.split(b"\n")
    keep = 40  # header + 39 records, then half of the next line
    cut = sum(len(line) + 1 for line in lines[:keep]) + len(lines[keep]) // 2
    short = tmp_path / "short.jsonl"
    short.write_bytes(data[:cut])
    reader = read_log(short)
    read = [without_h(rec) for rec in reader.records()]
    assert read == records[: keep - 1]
    assert reader.truncated and reader.footer is None
    assert reader.state.last_turn == records[keep - 2]["turn"]
    assert reader.state.truncated_at == keep + 1


@pytest.mark.parametrize("content", [b"", b"not json\n", b'{"a": 1}\n', b"[1, 2]\n",
                                     b'{"format":"other-log","version":1}\n'])
def test_read_log_refuses_what_is_not_a_log_with_exit_code_2(tmp_path, content):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    with pytest.raises(LogError) as e:
        read_log(bad)
    assert e.value.exit_code == 2
    assert str(bad) in str(e.value)


def test_read_log_of_a_missing_file_is_a_log_error(tmp_path):
    with pytest.raises(LogError, match="cannot read"):
        read_log(tmp_path / "missing.jsonl")


# ---- verify ----------------------------------------------------------------------------------

def test_verify_accepts_an_untouched_log(tutorial):
    path, result, records = tutorial
    verdict = verify(path)
    assert verdict.ok, verdict
    assert verdict.records == len(records)
    assert verdict.turns == result.outcome["turns_played"] == 5
    assert verdict.message == f"verified: {len(records)} records, 5 turns"


def test_a_game_played_by_a_python_function_logs_its_name_and_verifies(tmp_path):
    s, r = load_pair("classroom-tutorial")

    def surge(obs, menu):  # a controller is any callable (observation, menu) -> orders
        assert obs.side == menu.side == "blue" and obs.turn == menu.turn
        return [Order("isr_tempo", {"level": "surge"})] if "isr_tempo" in menu else []

    path = tmp_path / "policy.jsonl"
    run_logged(s, r, SEED, path, {"blue": surge})
    assert read_log(path).header["controllers"] == {"blue": "surge", "red": "doctrine"}
    blue = [rec["data"] for rec in read_log(path).records()
            if rec["kind"] == "orders" and rec["side"] == "blue"]
    assert len(blue) == 5 and {d["controller"] for d in blue} == {"surge"}
    assert all(d["orders"] == [{"action": "isr_tempo", "params": {"level": "surge"}}]
               for d in blue)
    verdict = verify(path)  # not doctrine: replays the recorded orders
    assert verdict.ok, verdict


def _line_of(objs: list[dict], kind: str, nth: int = 0) -> int:
    """Index (0-based, = line number - 1) of the nth record of a kind."""
    return [i for i, o in enumerate(objs) if o.get("kind") == kind][nth]


@pytest.mark.parametrize(("kind", "edit"), [
    ("isr.detect", lambda d: d.update(zone="nowhere")),
    ("red.decision", lambda d: d.update(choice="seize")),
    ("orders", lambda d: d.update(orders=[])),
    ("turn.end", lambda d: d.update(digest="0" * 16)),
    ("state.blue", lambda d: d.update(links_degraded=["japan-usfj"])),
])
def test_verify_names_the_first_divergent_line_of_a_resealed_log(tutorial, tmp_path, kind, edit):
    path, _, _ = tutorial
    objs = log_objects(path)
    i = _line_of(objs, kind, 1)
    original = unseal(path.read_text(encoding="utf-8").splitlines()[i])[0]
    edit(objs[i]["data"])
    bad = reseal(objs, tmp_path / "resealed.jsonl")
    edited = unseal(bad.read_text(encoding="utf-8").splitlines()[i])[0]
    assert edited != original
    verdict = verify(bad)
    assert not verdict.ok
    assert verdict.line == i + 1, verdict
    assert f"line {i + 1}" in verdict.message and "differs" in verdict.message
    assert verdict.expected == edited  # what the log says
    assert verdict.found == original  # what re-executing the game produces
    assert verdict.records == i - 1  # records that matched before it


def test_verify_reports_a_resealed_footer_with_another_outcome(tutorial, tmp_path):
    path, _, _ = tutorial
    objs = log_objects(path)
    objs[-1]["outcome"]["red_gains"] = 99.0
    verdict = verify(reseal(objs, tmp_path / "footer.jsonl"))
    assert not verdict.ok and verdict.line == len(objs)
    assert "footer" in verdict.message


def test_verify_reports_extra_and_missing_records(tutorial, tmp_path):
    path, _, _ = tutorial
    objs = log_objects(path)
    extra = [*objs[:-1], {**objs[-2], "seq": objs[-2]["seq"] + 1}, objs[-1]]
    verdict = verify(reseal(extra, tmp_path / "extra.jsonl"))  # found before re-executing
    assert not verdict.ok and verdict.line == len(objs) + 1  # the footer's count is wrong
    counted = objs[-1]["records"]
    assert f"the footer counts {counted} records; the log has {counted + 1}" in verdict.message
    objs_extra = [*extra[:-1], {**extra[-1], "records": extra[-1]["records"] + 1}]
    verdict = verify(reseal(objs_extra, tmp_path / "extra2.jsonl"))  # and the footer fixed
    assert not verdict.ok and verdict.line == len(objs)
    assert "records the re-executed game does not produce" in verdict.message
    dropped = [*objs[:30], *objs[31:]]
    verdict = verify(reseal(dropped, tmp_path / "dropped.jsonl"))
    assert not verdict.ok and verdict.line == 31


def test_verify_names_the_first_broken_link_of_an_edited_log(tutorial, tmp_path):
    path, _, _ = tutorial
    lines = path.read_bytes().split(b"\n")
    n = 57  # a record line: change one digit of its time without resealing
    lines[n - 1] = lines[n - 1].replace(b'"t":', b'"t":1', 1)
    bad = tmp_path / "edited.jsonl"
    bad.write_bytes(b"\n".join(lines))
    verdict = verify(bad)
    assert not verdict.ok and verdict.line == n
    assert f"broken hash chain at line {n}" in verdict.message


@pytest.mark.parametrize(("field", "value", "says"), [
    ("version", 1, "log format version 1"),  # a log of the engine before the information model
    ("version", 3, "log format version 3"),
    ("engine", "9.9.0", "engine 9.9.0"),
    ("format", "other", "not a wargame log"),
])
def test_verify_refuses_an_unknown_format_or_engine_version(tutorial, tmp_path, field, value,
                                                            says):
    path, _, _ = tutorial
    objs = log_objects(path)
    objs[0][field] = value
    bad = reseal(objs, tmp_path / "foreign.jsonl")
    with pytest.raises(LogError) as e:
        verify(bad)
    assert e.value.exit_code == 2 and says in str(e.value)


def test_a_version_1_log_is_refused_by_every_reader_with_the_version_named(tutorial, tmp_path):
    path, _, _ = tutorial
    objs = log_objects(path)
    objs[0]["version"] = 1
    old = reseal(objs, tmp_path / "v1.jsonl")
    for read in (read_log, verify, lambda p: fork(p, 2, tmp_path / "fork.jsonl"), log_table):
        with pytest.raises(LogError, match="log format version 1") as e:
            read(old)
        assert e.value.exit_code == 2 and "reads only version 2" in str(e.value)
    assert not (tmp_path / "fork.jsonl").exists()


def test_a_compatible_patch_version_still_verifies(tutorial, tmp_path):
    path, _, _ = tutorial
    objs = log_objects(path)
    major, minor, _ = __version__.split(".")
    objs[0]["engine"] = f"{major}.{minor}.99"
    assert verify(reseal(objs, tmp_path / "patch.jsonl")).ok


# ---- fork ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forked(tutorial, tmp_path_factory):
    path, _, _ = tutorial
    out = tmp_path_factory.mktemp("fork") / "fork.jsonl"
    result, final = fork(path, 3, out, seed=9)
    return out, result, final


def test_fork_matches_its_parent_before_the_fork_turn_and_differs_after(tutorial, forked):
    parent, _, _ = tutorial
    out, _, _ = forked
    mine, theirs = log_objects(out)[1:-1], log_objects(parent)[1:-1]
    before = [without_h(o) for o in mine if o["turn"] < 3]
    assert before == [without_h(o) for o in theirs if o["turn"] < 3] and before
    # the hashes differ although the records match: the header (with its parent) differs
    assert [o["h"] for o in mine if o["turn"] < 3] != [o["h"] for o in theirs if o["turn"] < 3]
    after = [without_h(o) for o in mine if o["turn"] >= 3]
    assert after and after != [without_h(o) for o in theirs if o["turn"] >= 3]
    first = after[0]
    assert first["kind"] == "game.fork" and first["turn"] == 3
    assert first["data"]["parent"] == hashlib.sha256(parent.read_bytes()).hexdigest()


def test_fork_header_records_the_parent_hash_and_fork_turn(tutorial, forked):
    parent, _, _ = tutorial
    out, _, final = forked
    header = next(read_lines(out)).obj
    assert header["parent"]["log_sha256"] == hashlib.sha256(parent.read_bytes()).hexdigest()
    assert header["parent"]["fork_turn"] == 3
    assert header["parent"]["seed"] == 9
    assert header["seed"] == next(read_lines(parent)).obj["seed"]
    assert log_objects(out)[-1]["h"] == final


def test_a_fork_verifies(forked):
    out, result, _ = forked
    verdict = verify(out)
    assert verdict.ok, verdict
    assert verdict.records == result.records


def test_a_fork_header_validates_against_the_published_header_model(forked):
    out, _, _ = forked
    Header.model_validate(next(read_lines(out)).obj)


def test_fork_records_validate_against_the_published_record_model(forked):
    out, _, _ = forked
    for line in list(read_lines(out))[1:-1]:
        Record.model_validate(line.obj)


@pytest.mark.parametrize("controllers", [{"blue": "recorded", "red": "recorded"},
                                         {"red": "recorded"}, {"blue": "doctrine"}])
def test_forks_with_other_controllers_verify(tutorial, tmp_path, controllers):
    path, _, _ = tutorial
    out = tmp_path / "fork.jsonl"
    fork(path, 2, out, seed=21, controllers=controllers)
    header = next(read_lines(out)).obj
    assert header["parent"]["controllers"] == controllers
    assert verify(out).ok


def test_a_fork_with_recorded_orders_and_no_new_seed_replays_its_parent(tutorial, tmp_path):
    path, _, _ = tutorial
    out = tmp_path / "same.jsonl"
    fork(path, 2, out, controllers={"blue": "recorded", "red": "recorded"})
    mine = [without_h(o) for o in log_objects(out)[1:-1] if o["kind"] != "game.fork"]
    theirs = [without_h(o) for o in log_objects(path)[1:-1]]
    # same draws and the same orders: only controller names, Red's explanation and seq differ
    strip = {"seq", "data"}
    assert [{k: v for k, v in o.items() if k not in strip} for o in mine if
            o["kind"] != "red.decision"] == [{k: v for k, v in o.items() if k not in strip}
                                             for o in theirs if o["kind"] != "red.decision"]


def test_fork_refuses_bad_requests(tutorial, forked, tmp_path):
    path, _, _ = tutorial
    out, _, _ = forked
    with pytest.raises(LogError, match="is itself a fork"):
        fork(out, 4, tmp_path / "f2.jsonl")
    for turn in (0, 6):
        with pytest.raises(LogError, match="turns 1-5"):
            fork(path, turn, tmp_path / "f3.jsonl")
    with pytest.raises(LogError, match="unknown controller"):
        fork(path, 2, tmp_path / "f4.jsonl", controllers={"red": "llm"})


def test_fork_refuses_a_turn_after_the_game_ended(tmp_path):
    s, r = load_pair("classroom-tutorial")
    parent = tmp_path / "short-game.jsonl"
    for seed in range(100):  # a game that ends early (an armed attack)
        result, _ = run_logged(s, r, seed, parent)
        if result.outcome["turns_played"] < s.turns.count:
            break
    else:
        pytest.skip("no seed under 100 ends the tutorial early")
    ended = result.outcome["turns_played"]
    out = tmp_path / "late.jsonl"
    with pytest.raises(LogError, match=f"ended after turn {ended}"):
        fork(parent, ended + 1, out, seed=1)
    assert not out.exists()
    fork(parent, ended, out, seed=1)
    assert verify(out).ok


def test_fork_of_a_parent_that_does_not_re_execute_is_a_divergence(tutorial, tmp_path):
    path, _, _ = tutorial
    objs = log_objects(path)
    i = _line_of(objs, "isr.detect")
    objs[i]["data"]["zone"] = "nowhere"
    bad = reseal(objs, tmp_path / "bad-parent.jsonl")
    out = tmp_path / "fork.jsonl"
    with pytest.raises(ReplayDivergence, match=f"line {i + 1}") as e:
        fork(bad, objs[i]["turn"] + 1, out, seed=2)
    assert e.value.exit_code == 1
    # before the edited line, a fork is still possible
    fork(bad, objs[i]["turn"], out, seed=2)
    assert verify(out).ok


def test_fork_of_an_edited_parent_is_refused(tutorial, tmp_path):
    path, _, _ = tutorial
    data = bytearray(path.read_bytes())
    digit = data.rindex(b'"turns":') + 8
    data[digit] ^= 1  # still JSON: a digit of the footer's turns
    bad = tmp_path / "edited.jsonl"
    bad.write_bytes(bytes(data))
    lines = len(data.splitlines())
    with pytest.raises(LogError, match=f"cannot fork: broken hash chain at line {lines}"):
        fork(bad, 2, tmp_path / "fork.jsonl")
    data[digit] ^= 1
    data[digit:digit + 1] = b"}{"  # not JSON any more
    bad.write_bytes(bytes(data))
    with pytest.raises(LogError, match=f"cannot fork: line {lines}: line is not valid JSON"):
        fork(bad, 2, tmp_path / "fork.jsonl")
    assert not (tmp_path / "fork.jsonl").exists()


# ---- log_table -------------------------------------------------------------------------------

def test_log_table_has_one_row_per_record_with_the_record_columns(alliance):
    path, records = alliance
    table = log_table(path, batch=100)  # several batches
    assert table.num_rows == len(records)
    assert table.column_names == ["seq", "turn", "t", "kind", "side", "unit", "visible_to",
                                  "data"]
    assert table.column("seq").to_pylist() == [r["seq"] for r in records]
    assert Counter(table.column("kind").to_pylist()) == Counter(r["kind"] for r in records)
    datas = table.column("data").to_pylist()
    assert [json.loads(d) for d in datas[:50]] == [
        json.loads(json.dumps(r["data"])) for r in records[:50]]
    assert table.column("visible_to").to_pylist() == [list(r["visible_to"]) for r in records]


def test_log_table_of_a_cut_log_has_its_complete_records(alliance, tmp_path):
    path, _ = alliance
    data = path.read_bytes()
    short = tmp_path / "short.jsonl"
    short.write_bytes(data[: len(data) // 2])
    expected = data[: len(data) // 2].count(b"\n") - 1
    assert log_table(short).num_rows == expected


# ---- a client that knows only the published schema ------------------------------------------

_ARROW_SCALARS = {"integer": "int64", "number": "float64", "string": "string"}


def arrow_schema_from_json_schema(doc: dict, definition: str = "Record"):
    """A pyarrow schema for one definition of a JSON Schema: scalars and string arrays become
    columns, objects are skipped (a client reads them separately if it wants them)."""
    import pyarrow as pa

    fields = []
    for name, prop in doc["$defs"][definition]["properties"].items():
        kind = prop.get("type")
        if kind == "object":
            continue
        if kind == "array":
            assert prop["items"]["type"] == "string", (name, prop)
            fields.append(pa.field(name, pa.list_(pa.string())))
        else:
            fields.append(pa.field(name, getattr(pa, _ARROW_SCALARS[kind])()))
    return pa.schema(fields)


def test_pyarrow_reads_a_log_with_only_the_published_schema(alliance):
    import pyarrow.compute as pc
    import pyarrow.json as pj

    path, records = alliance
    text = subprocess.run([str(WARGAME), "schema", "log"], capture_output=True, text=True,
                          check=True).stdout
    schema = arrow_schema_from_json_schema(json.loads(text))
    assert set(schema.names) == {"seq", "turn", "t", "kind", "side", "unit", "visible_to", "h"}
    table = pj.read_json(path, parse_options=pj.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="ignore"))
    assert table.num_rows == len(records) + 2  # header and footer have no record fields
    assert pc.sum(pc.is_valid(table["seq"])).as_py() == len(records)
    detections = pc.sum(pc.equal(table["kind"], "isr.detect")).as_py()
    engine_count = sum(1 for r in records if r["kind"] == "isr.detect")
    assert detections == engine_count > 0
    seen_by_blue = pc.sum(pc.equal(pc.list_flatten(table["visible_to"]), "blue")).as_py()
    assert seen_by_blue == sum(1 for r in records if "blue" in r["visible_to"])


def test_the_schema_client_also_counts_a_shortened_game(tmp_path):
    import pyarrow.compute as pc
    import pyarrow.json as pj

    s, r = load_pair("alliance-2024")
    path = tmp_path / "ten.jsonl"
    result, _ = run_logged(with_turns(s, 10), r, 11, path)
    schema = arrow_schema_from_json_schema(json.loads(
        subprocess.run([str(WARGAME), "schema", "log"], capture_output=True, text=True,
                       check=True).stdout))
    table = pj.read_json(path, parse_options=pj.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="ignore"))
    assert pc.sum(pc.equal(table["kind"], "isr.detect")).as_py() == result.outcome["detections"]


# ---- pyarrow and polars read a log's records with no schema given ----------------------------

GOLDEN = sorted((Path(__file__).resolve().parents[1] / "golden").glob("*.jsonl"))
_POLARS = {"str": "String", "float": "Float64", "int": "Int64", "bool": "Boolean",
           "list": "List", "dict": "Struct"}


def _records_bytes(path: Path) -> bytes:
    """The record lines of a log (every line but the header and the footer), as a client cuts
    them with ``sed '1d;$d'``."""
    return b"".join(path.read_bytes().splitlines(keepends=True)[1:-1])


def _fresh_logs(tmp_path: Path) -> list[Path]:
    s, r = load_pair("alliance-2024")
    path = tmp_path / "fresh.jsonl"
    run_logged(with_turns(s, 12), r, 29, path)
    return [*GOLDEN, path]


def test_pyarrow_and_polars_read_a_logs_records_without_a_schema(tmp_path):
    """One JSON type per data field across kinds: both libraries infer one column type for each
    (polars looks at every row: a field that is null in the first rows, such as draw,
    p_attribute or link, is otherwise inferred as null)."""
    import io

    import polars as pl
    import pyarrow.json as pj

    from engine.sim.kinds import FIELD_TYPES

    logs = _fresh_logs(tmp_path)
    assert len(logs) >= 6
    for path in logs:
        data = _records_bytes(path)
        records = [json.loads(line) for line in data.splitlines()]
        table = pj.read_json(io.BytesIO(data))
        frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
        assert table.num_rows == frame.height == len(records), path.name
        assert table.column("seq").to_pylist() == frame["seq"].to_list() == list(
            range(len(records)))
        assert frame["kind"].to_list() == [r["kind"] for r in records]
        fields = {f.name: f.dtype for f in frame.schema["data"].fields}
        for name, dtype in fields.items():
            declared = FIELD_TYPES.get(name)
            if declared is None or dtype == pl.Null:  # not a declared field; or always null
                continue
            assert str(dtype).startswith(_POLARS[declared.rstrip("?")]), (path.name, name, dtype)
        arrow = table.schema.field("data").type
        for i in range(arrow.num_fields):
            field = arrow.field(i)
            if field.name in FIELD_TYPES and FIELD_TYPES[field.name].rstrip("?") == "float":
                assert str(field.type) in ("double", "null"), (path.name, field.name, field.type)
        # and the values come through: every draw of every search, as the engine logged them
        searches = frame.filter(pl.col("kind") == "isr.search")
        assert searches["data"].struct.field("draw").to_list() == [
            r["data"]["draw"] for r in records if r["kind"] == "isr.search"]
