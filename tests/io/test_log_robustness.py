"""Logs under stress: cut at many byte offsets (mid-line, mid-UTF-8 character), single changed
bytes anywhere, and a million records read with flat memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import load_pair
from engine.cli.main import app
from engine.errors import EngineError, LogError
from engine.io.eventlog import check_chain, read_lines, run_logged, seal
from engine.io.replay import read_log, verify

WARGAME = Path(sys.executable).parent / "wargame"
EN_DASH = "\u2013".encode()  # in the classroom-tutorial title: three bytes in the header line
MEMORY_LIMIT = 20 * 2**20

runner = CliRunner()


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    s, r = load_pair("classroom-tutorial")
    path = tmp_path_factory.mktemp("robust") / "tutorial.jsonl"
    run_logged(s, r, 3, path)
    return path


def expected_after_cut(data: bytes, cut: int) -> tuple[list[dict], int]:
    """The records a reader must give for data[:cut], and the turn of the last of them."""
    lines = data[:cut].split(b"\n")[:-1]  # only newline-terminated lines are complete
    records = [json.loads(line) for line in lines[1:]]
    records = [r for r in records if r.get("footer") is not True]
    return records, (records[-1]["turn"] if records else 0)


def cut_offsets(data: bytes) -> list[int]:
    """60+ offsets: spread over the file, inside the en dash, at and around line ends, inside
    the header and the footer."""
    dash = data.index(EN_DASH)
    header_end = data.index(b"\n") + 1
    newlines = [i for i, b in enumerate(data) if b == ord("\n")]
    footer_start = newlines[-2] + 1
    offsets = {1, 2, 40, dash, dash + 1, dash + 2, dash + 3, header_end - 1, header_end,
               header_end + 1, footer_start - 1, footer_start, footer_start + 10,
               len(data) - 2, len(data) - 1}
    offsets |= {newlines[k] for k in (3, 20, 50)}  # just before a newline: line incomplete
    offsets |= {newlines[k] + 1 for k in (3, 20, 50)}  # right after one: a clean line end
    offsets |= {len(data) * k // 45 for k in range(1, 45)}
    return sorted(o for o in offsets if 0 < o < len(data))


def test_the_log_has_a_multibyte_character_in_its_header(log):
    data = log.read_bytes()
    assert 0 < data.index(EN_DASH) < data.index(b"\n")


def test_a_cut_log_gives_every_complete_record_and_says_where_it_was_cut(log, tmp_path):
    data = log.read_bytes()
    header_end = data.index(b"\n") + 1
    offsets = cut_offsets(data)
    assert len(offsets) >= 60
    short = tmp_path / "short.jsonl"
    for cut in offsets:
        short.write_bytes(data[:cut])
        records, turn = expected_after_cut(data, cut)
        if cut < header_end:  # inside the header line: a log with no record yet
            with pytest.raises(LogError) as e:
                read_log(short)
            assert e.value.exit_code == 1, cut
            assert "truncated after turn 0" in str(e.value)
            verdict = verify(short)
            assert not verdict.ok and verdict.line == 1, cut
            assert verdict.message.startswith("truncated after turn 0"), (cut, verdict)
            continue
        reader = read_log(short)
        assert list(reader.records()) == records, cut
        assert reader.truncated and reader.footer is None, cut
        assert reader.state.last_turn == turn, cut
        verdict = verify(short)
        assert not verdict.ok, cut
        assert verdict.message.startswith(f"truncated after turn {turn}:"), (cut, verdict)
        assert verdict.line == len(records) + 2, (cut, verdict)  # the first missing line
        check = check_chain(short)
        assert not check.ok and check.problem.startswith("truncated"), cut


def _cli_cuts(data: bytes) -> dict[str, int]:
    newlines = [i for i, b in enumerate(data) if b == ord("\n")]
    return {"inside the en dash": data.index(EN_DASH) + 1,
            "header without its newline": newlines[0],
            "mid record": (newlines[30] + newlines[31]) // 2,
            "clean line end": newlines[70] + 1,
            "inside the footer": len(data) - 30}


@pytest.mark.parametrize("where", ["inside the en dash", "header without its newline",
                                   "mid record", "clean line end", "inside the footer"])
def test_cli_replays_a_cut_log_and_says_truncated(log, tmp_path, where):
    data = log.read_bytes()
    cut = _cli_cuts(data)[where]
    short = tmp_path / "short.jsonl"
    short.write_bytes(data[:cut])
    records, turn = expected_after_cut(data, cut)
    result = runner.invoke(app, ["replay", str(short)])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert f"truncated after turn {turn}" in result.output
    assert result.output.count("─ Turn ") == len({r["turn"] for r in records})
    as_json = runner.invoke(app, ["replay", str(short), "--json"])
    assert as_json.exit_code == 0
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == records
    assert f"truncated after turn {turn}" in as_json.stderr


@pytest.mark.parametrize("where", ["inside the en dash", "mid record", "inside the footer"])
def test_cli_verify_of_a_cut_log_exits_1_without_a_traceback(log, tmp_path, where):
    data = log.read_bytes()
    cut = _cli_cuts(data)[where]
    short = tmp_path / "short.jsonl"
    short.write_bytes(data[:cut])
    _, turn = expected_after_cut(data, cut)
    done = subprocess.run([str(WARGAME), "verify", str(short)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"not verified: truncated after turn {turn}" in done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    if where == "inside the en dash":  # the other cuts are replayed in process above
        replay = subprocess.run([str(WARGAME), "replay", str(short)], capture_output=True,
                                text=True, timeout=60)
        assert replay.returncode == 0 and f"truncated after turn {turn}" in replay.stdout
        assert "Traceback" not in replay.stderr


def test_an_empty_file_is_not_a_log(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(LogError) as e:
        verify(empty)
    assert e.value.exit_code == 2 and "empty" in str(e.value)


# ---- single changed bytes --------------------------------------------------------------------

def change_positions(data: bytes) -> list[int]:
    """64 positions spread over the file plus the places an edit is most likely to slip by:
    the en dash, line ends, digits of times and hashes, the footer."""
    newlines = [i for i, b in enumerate(data) if b == ord("\n")]
    dash = data.index(EN_DASH)
    special = {0, dash, dash + 1, dash + 2, newlines[0], newlines[0] + 1, newlines[10],
               newlines[-2], newlines[-1], newlines[-1] - 3, len(data) - 100,
               data.index(b'"t":', newlines[40]) + 4, data.index(b'"seq":', newlines[60]) + 6,
               data.index(b'"h":"', newlines[80]) + 7, data.index(b'"turn":', newlines[90]) + 7}
    return sorted(special | {len(data) * k // 64 for k in range(64)})


@pytest.mark.parametrize("change", ["xor1", "letter"])
def test_any_single_changed_byte_is_caught_by_verify(log, tmp_path, change):
    data = log.read_bytes()
    header_end = data.index(b"\n") + 1
    positions = change_positions(data)
    assert len(positions) >= 60
    bad = tmp_path / "bad.jsonl"
    for pos in positions:
        edited = bytearray(data)
        if change == "xor1":  # a digit stays a digit, a letter a letter: still valid JSON
            edited[pos] ^= 1
        else:
            edited[pos] = ord("x") if edited[pos] != ord("x") else ord("y")
        bad.write_bytes(bytes(edited))
        line = data[:pos].count(b"\n") + 1
        try:
            verdict = verify(bad)
        except LogError as e:  # not a well-formed log line any more: exit 2, with the line
            assert e.exit_code == 2, (pos, change)
            if pos >= header_end:  # (a header of another format or version says so)
                assert f"bad.jsonl:{line}: " in str(e), (pos, change, str(e))
            continue
        assert not verdict.ok, (pos, change)
        assert verdict.line == line, (pos, change, verdict)


def test_replay_of_an_edited_log_never_shows_a_traceback(log, tmp_path):
    data = log.read_bytes()
    header_end = data.index(b"\n") + 1
    bad = tmp_path / "bad.jsonl"
    for k, pos in enumerate(range(header_end, len(data), (len(data) - header_end) // 20)):
        edited = bytearray(data)
        edited[pos] = ord("x") if edited[pos] != ord("x") else ord("y")
        bad.write_bytes(bytes(edited))
        view = ["--side", "red"] if k % 2 else ["--json", "--turns", "2-3"]
        for args in (["replay", str(bad)], ["replay", str(bad), *view]):
            result = runner.invoke(app, args)
            if isinstance(result.exception, EngineError):
                continue  # main() says it plainly with exit 2
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                pos, args, result.exception)
            assert result.exit_code in (0, 2), (pos, args, result.output)


# ---- streaming: a million records ------------------------------------------------------------

def write_synthetic_log(path: Path, n: int, header: dict, per_turn: int = 1000) -> Path:
    """A validly chained log of ``n`` small records (isr.detect, which the narrative tells):
    the header of a real game, then records with increasing seq, turn and time, then a
    footer. Written in blocks, so writing it needs no memory either."""
    body = {k: v for k, v in header.items() if k != "h"}
    line, prev = seal("", body)
    block = [line]
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for seq in range(n):
            turn = seq // per_turn + 1
            rec = {"seq": seq, "turn": turn, "t": round(seq * 24 / per_turn, 6),
                   "kind": "isr.detect", "side": "blue", "unit": f"mq9.{seq % 4 + 1}",
                   "data": {"group": "coast_guard", "zone": "disputed_islands",
                            "p_detect": round((seq % 97) / 97, 6),
                            "draw": round((seq % 89) / 97, 6)},
                   "visible_to": ["blue"]}
            line, prev = seal(prev, rec, sort=False)
            block.append(line)
            if len(block) >= 10_000:
                fh.write("\n".join(block) + "\n")
                block = []
        footer = {"footer": True, "records": n, "turns": (n - 1) // per_turn + 1 if n else 0,
                  "outcome": {}}
        block.append(seal(prev, footer)[0])
        fh.write("\n".join(block) + "\n")
    return path


def _peak_while(fn) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _count_records(path: Path) -> int:
    n = 0
    for _ in read_log(path).records():
        n += 1
    return n


def _check_streaming(log: Path, tmp_path: Path, n: int) -> None:
    header = next(read_lines(log)).obj
    big = write_synthetic_log(tmp_path / f"synthetic-{n}.jsonl", n, header)
    # the whole file would not fit under the limit: a reader that kept it could not pass
    assert os.path.getsize(big) > MEMORY_LIMIT
    count, peak = _peak_while(lambda: _count_records(big))
    assert count == n
    assert peak < MEMORY_LIMIT, f"read_log peak {peak / 2**20:.1f} MB"
    check, peak = _peak_while(lambda: check_chain(big))
    assert check.ok and check.lines == n + 2
    assert peak < MEMORY_LIMIT, f"check_chain peak {peak / 2**20:.1f} MB"


def test_the_synthetic_log_is_a_valid_log(log, tmp_path):
    header = next(read_lines(log)).obj
    small = write_synthetic_log(tmp_path / "small.jsonl", 2500, header)
    assert check_chain(small).ok
    reader = read_log(small)
    assert sum(1 for _ in reader.records()) == 2500 and not reader.truncated
    out = runner.invoke(app, ["replay", str(small), "--turn", "2"]).output
    assert "mq9.1 detected Red coast_guard in disputed_islands" in out


def test_reading_a_large_log_keeps_memory_flat(log, tmp_path):
    _check_streaming(log, tmp_path, 100_000)


@pytest.mark.slow
def test_reading_a_million_record_log_keeps_memory_flat(log, tmp_path):
    _check_streaming(log, tmp_path, 1_000_000)
