"""Writing and reading event logs: a streaming, hash-chained JSONL writer flushed every turn, and
a tolerant streaming reader that yields every complete line and says where a log was cut.

Each line is compact JSON followed by ``,"h":"<16 hex>"}``, where h = sha256(previous h + the
line's bytes before that suffix + "}"). The header and footer have sorted keys; records keep the
engine's fixed key order (sorting them again would cost a third of the writing time for nothing:
the kernel builds every record the same way). Changing any byte of any line breaks the chain from
there on; the footer's h seals the whole log.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from engine.canonical import encode
from engine.errors import LogError, Problem
from engine.io.logschema import LOG_FORMAT, LOG_VERSION, make_header

HASH_LEN = 16
_sha256 = hashlib.sha256
_SUFFIX_LEN = len(',"h":"') + HASH_LEN + len('"}')
# a header embeds a scenario and rules of some kilobytes; a line this long is not a log's
MAX_LINE_BYTES = 16 * 2**20


def chain(prev: str, body: str) -> str:
    """The chain hash of a line whose canonical JSON (without h) is ``body``."""
    return hashlib.sha256((prev + body).encode()).hexdigest()[:HASH_LEN]


def record_text(record: dict[str, Any]) -> str:
    """A record's JSON as the writer puts it in a log (before its chain hash)."""
    return encode(record, sort=False).decode()


def seal(prev: str, obj: dict[str, Any], sort: bool = True) -> tuple[str, str]:
    """Serialise obj and append its chain hash; return (line without newline, its hash)."""
    line, h = _sealed(prev.encode(), obj, sort)
    return line.decode(), h.decode()


def _sealed(prev: bytes, obj: dict[str, Any], sort: bool,
            finite: bool = False) -> tuple[bytes, bytes]:
    """The line (bytes, without newline) and its chain hash: one encoding and one sha256."""
    body = encode(obj, sort, finite=finite)
    h = hashlib.sha256(prev + body).hexdigest()[:HASH_LEN].encode()
    return b"%s,\"h\":\"%s\"}" % (body[:-1], h), h


def unseal(line: str) -> tuple[str, str] | None:
    """Split a line into (body as hashed, claimed hash), or None if it has no chain suffix."""
    if len(line) < _SUFFIX_LEN + 2 or not line.endswith('"}'):
        return None
    head = line[: -_SUFFIX_LEN]
    suffix = line[-_SUFFIX_LEN:]
    if not suffix.startswith(',"h":"'):
        return None
    return head + "}", suffix[6:-2]


def footer_of(records: int, turns: int, outcome: dict[str, Any]) -> dict[str, Any]:
    """The footer object (without its chain hash): all it holds, and all it may hold."""
    return {"footer": True, "records": records, "turns": turns, "outcome": outcome}


class LogWriter:
    """A record sink that streams a sealed log to a file. Lines gather in memory and reach the
    file in one write at the end of every turn (then flushed): a killed run loses at most the
    turn in play, and a turn costs one system call instead of one per record."""

    wants_digest = True

    def __init__(self, path: str | Path, header: dict[str, Any]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO = self.path.open("wb")
        self._h = b""
        self._lines: list[bytes] = []
        self.count = 0
        self._write(header, finite=True)  # made from validated models: every float is finite
        self._flush()

    def _write(self, obj: dict[str, Any], sort: bool = True, finite: bool = False) -> None:
        line, self._h = _sealed(self._h, obj, sort, finite)
        self._lines.append(line)

    def _flush(self) -> None:
        self._lines.append(b"")  # the last line's newline
        self._fh.write(b"\n".join(self._lines))
        self._fh.flush()
        self._lines = []

    def emit(self, record: dict[str, Any]) -> None:
        # _write's work, inlined: a run writes a thousand records, and each layer of calls
        # costs as much as hashing the line
        body = encode(record, sort=False)
        self._h = h = _sha256(self._h + body).hexdigest()[:HASH_LEN].encode()
        self._lines.append(b'%s,"h":"%s"}' % (body[:-1], h))
        self.count += 1

    def end_turn(self, turn: int) -> None:
        self._flush()

    def close(self, outcome: dict[str, Any], turns: int) -> str:
        """Write the footer, close the file and return the final chain hash."""
        self._write(footer_of(self.count, turns, outcome))
        self._flush()
        self._fh.close()
        return self._h.decode()

    def abort(self) -> None:
        """Close without a footer (the log then reads as truncated); lines of the turn in play
        are written, as a killed run would have left them."""
        if self._lines:
            self._flush()
        self._fh.close()


@dataclass
class Line:
    """One complete line of a log: its number (1-based), parsed object and raw text."""

    number: int
    obj: dict[str, Any]
    text: str


@dataclass
class ReadState:
    """Filled in while reading: whether the log ended cleanly, and where it was cut."""

    complete: bool = False
    truncated_at: int | None = None  # line number of the first incomplete line
    reason: str = ""
    last_turn: int = 0
    corrupt: bool = False  # a whole line that is not JSON: damaged or edited, not cut


class LineTooLong(LogError):
    """A line longer than any a log holds (MAX_LINE_BYTES): not a log, or a damaged one."""

    def __init__(self, path: str | Path, number: int) -> None:
        super().__init__("", (Problem(str(path), f"line is longer than "
                                                 f"{MAX_LINE_BYTES // 2**20} MiB: not a log "
                                                 "line", number),))
        self.line = number


def open_log(path: str | Path) -> BinaryIO:
    """Open a log for reading: a regular file only (a FIFO, a device or a directory would hang
    or never end); LogError (exit 2) otherwise, OSError if it cannot be opened."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise LogError(f"{path}: not a regular file; a log is a file written by the engine")
    return Path(path).open("rb")


def iter_raw(path: str | Path) -> Generator[tuple[int, bytes], None, None]:
    """(number, bytes with their newline) of every line, the last one possibly without it;
    LineTooLong at a line longer than MAX_LINE_BYTES."""
    with open_log(path) as fh:
        number = 0
        while raw := fh.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise LineTooLong(path, number)
            yield number, raw


def read_lines(path: str | Path, state: ReadState | None = None) -> Iterator[Line]:
    """Stream a log's complete lines; stop quietly at a cut line, recording it in ``state``."""
    state = state if state is not None else ReadState()
    for number, raw in iter_raw(path):
        obj, why = parse_line(raw)
        if obj is None:
            state.truncated_at, state.reason = number, why
            # the writer only ever leaves the last line unfinished
            state.corrupt = raw.endswith(b"\n")
            return
        if "turn" in obj and isinstance(obj["turn"], int):
            state.last_turn = obj["turn"]
        if obj.get("footer") is True:
            state.complete = True
        yield Line(number, obj, raw.decode("utf-8").rstrip("\n"))


def raw_lines(path: str | Path, state: ReadState | None = None) -> Iterator[tuple[int, str]]:
    """Stream (number, text) of every newline-terminated, UTF-8 line without parsing JSON (the
    hash chain vouches for the content); stop at a cut or undecodable line."""
    state = state if state is not None else ReadState()
    for number, raw in iter_raw(path):
        if not raw.endswith(b"\n"):
            state.truncated_at, state.reason = number, "the last line is incomplete"
            return
        try:
            text = raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            state.truncated_at, state.reason = number, "line is not UTF-8"
            return
        yield number, text


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """A complete line's JSON object, or None and why not: cut (no newline), not UTF-8, not
    JSON (NaN, Infinity and numbers out of range are not JSON), nested too deeply, not an
    object."""
    if not raw.endswith(b"\n"):
        return None, "the last line is incomplete"
    try:
        obj = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError:
        return None, "line is not UTF-8"
    except RecursionError:
        return None, "line is nested too deeply to be a log line"
    except ValueError as e:  # JSONDecodeError is a ValueError, as are NaN and 1e999
        why = str(e).split(":")[0] if isinstance(e, json.JSONDecodeError) else str(e)
        return None, f"line is not valid JSON ({why})"
    if not isinstance(obj, dict):
        return None, "line is not a JSON object"
    if b"\\u" in raw:  # an escape the writer never makes: it might be a lone surrogate
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None, "line is not valid Unicode (an escaped lone surrogate)"
    return obj, ""


def is_log_header(obj: dict[str, Any]) -> bool:
    return obj.get("format") == LOG_FORMAT


def header_version_ok(obj: dict[str, Any]) -> bool:
    return obj.get("version") == LOG_VERSION


def run_logged(scenario: Any, rules: Any, seed: Any, path: str | Path,
               controllers: dict[str, Any] | None = None,
               parent: dict[str, Any] | None = None) -> tuple[Any, str]:
    """Run an exercise while streaming its sealed log to ``path``; return (result, final hash)."""
    from engine import __version__
    from engine.sim.controllers import default_controllers, name_of
    from engine.sim.kernel import run
    from engine.sim.rng import describe, run_sequence

    players = {**default_controllers(rules), **(controllers or {})}
    header = make_header(scenario, rules, describe(run_sequence(seed)),
                         {side: name_of(c) for side, c in players.items()}, __version__, parent)
    writer = LogWriter(path, header)
    try:
        result = run(scenario, rules, seed, players, writer)
    except BaseException:
        writer.abort()
        raise
    return result, writer.close(result.outcome, result.outcome["turns_played"])


@dataclass
class ChainCheck:
    """The result of checking a log's hash chain."""

    ok: bool
    lines: int
    first_bad_line: int | None = None
    problem: str = ""
    complete: bool = False


def check_chain(path: str | Path) -> ChainCheck:
    """Re-hash every line; report the first line whose chain hash is wrong or missing."""
    state = ReadState()
    prev, count = "", 0
    for line in read_lines(path, state):
        count = line.number
        parts = unseal(line.text)
        if parts is None:
            return ChainCheck(False, count, line.number, "line has no chain hash")
        body, claimed = parts
        if chain(prev, body) != claimed:
            return ChainCheck(False, count, line.number,
                              "chain hash does not match the line (edited or reordered)")
        prev = claimed
    if state.truncated_at is not None:
        return ChainCheck(False, count, state.truncated_at, f"truncated: {state.reason}")
    if not state.complete:
        return ChainCheck(False, count, None, "truncated: no footer")
    return ChainCheck(True, count, complete=True)


def fsync(path: Path) -> None:
    """Push a file (or a folder's entries) to the disk, where the system allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
