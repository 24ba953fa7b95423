"""Reading, verifying and forking logged games.

``verify`` checks the header and the hash chain, then re-executes the game from the embedded
scenario, rules, seed and recorded orders, comparing every re-executed record with the logged
line as it is produced: memory stays flat and the first divergence is reported with the line,
what was logged and what re-execution produced. ``fork`` replays a game up to a turn, checking
that it matches its parent, then continues it with a new seed or other controllers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import __version__
from engine.errors import LogError, ReplayDivergence
from engine.io.eventlog import (
    LogWriter,
    ReadState,
    chain,
    raw_lines,
    read_lines,
    record_text,
    unseal,
)
from engine.io.logschema import LOG_FORMAT, LOG_VERSION, make_header
from engine.sim.controllers import BlueDoctrine, Controller, RedQuantal, Scripted, name_of
from engine.sim.kernel import RunResult, Switch, run
from engine.sim.rng import from_description
from engine.spec.order import Order
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

SIDES = ("blue", "red")
PLAYERS = ("blue", "red", "white")  # white: the umpire, whose live injects are orders too


# ---- reading ---------------------------------------------------------------------------------

@dataclass
class LogReader:
    """A streaming view of one log: its header up front, records on demand, then the footer."""

    path: Path
    header: dict[str, Any]
    state: ReadState = field(default_factory=ReadState)
    footer: dict[str, Any] | None = None

    def records(self) -> Iterator[dict[str, Any]]:
        """Every complete record in order; afterwards ``footer`` and ``state`` are filled in."""
        self.state = ReadState()
        lines = read_lines(self.path, self.state)
        next(lines, None)  # the header
        for line in lines:
            if line.obj.get("footer") is True:
                self.footer = line.obj
            else:
                yield line.obj

    @property
    def truncated(self) -> bool:
        return not self.state.complete


class CutHeader(LogError):
    """A log cut inside its header line: truncated after turn 0, with no record to read."""

    exit_code = 1


# the writer's header has sorted keys, so every log starts with these bytes
_HEADER_START = b'{"controllers":{'


def read_log(path: str | Path) -> LogReader:
    """Open a log for streaming; LogError (exit 2) if it is not a log this engine can read,
    CutHeader (exit 1) if it was cut inside its header line."""
    p = Path(path)
    state = ReadState()
    try:
        first = next(read_lines(p, state), None)
        if first is None and state.reason == "the last line is incomplete":
            with p.open("rb") as fh:
                start = fh.read(len(_HEADER_START))
            if start and _HEADER_START.startswith(start):
                raise CutHeader(f"{path}: truncated after turn 0: the log was cut inside its "
                                "header line; it has no record to read")
    except OSError as e:
        raise LogError(f"{path}: cannot read: {e.strerror or e}") from None
    if first is None:
        why = f"line 1: {state.reason}" if state.reason else "empty"
        raise LogError(f"{path}: {why}; not a readable log")
    check_header(first.obj, str(path))
    return LogReader(p, first.obj)


def check_header(header: dict[str, Any], name: str) -> None:
    """Refuse logs of another format, format version or incompatible engine version."""
    if header.get("format") != LOG_FORMAT:
        raise LogError(f"{name}: not a wargame log (line 1 has no 'format: {LOG_FORMAT}')")
    if header.get("version") != LOG_VERSION:
        raise LogError(f"{name}: log format version {header.get('version')!r} (written by "
                       f"engine {header.get('engine', '?')}); this engine {__version__} reads "
                       f"only version {LOG_VERSION}: replay it with the engine that wrote it, "
                       "or play the game again")
    if not compatible(str(header.get("engine", ""))):
        raise LogError(f"{name}: written by engine {header.get('engine')}; this is engine "
                       f"{__version__}, whose games may differ; use a matching engine version")


def compatible(version: str) -> bool:
    """Same major and minor version: the kernel's behaviour is pinned by golden logs."""
    return version.split(".")[:2] == __version__.split(".")[:2]


# ---- reconstructing a game -------------------------------------------------------------------

@dataclass
class LoggedGame:
    """Everything needed to re-execute a logged game."""

    scenario: Scenario
    rules: Rules
    seed: Any
    controllers: dict[str, Controller]
    switch: Switch | None


def reconstruct(reader: LogReader, scanned: Scan) -> LoggedGame:
    """The scenario, rules, seed and controllers a log was played with, from the log alone."""
    h = reader.header
    try:
        scenario = Scenario.model_validate(h["scenario"])
        rules = Rules.model_validate(h["rules"])
    except (KeyError, ValueError) as e:
        raise LogError(f"{reader.path}: the embedded scenario or rules do not validate: "
                       f"{str(e).splitlines()[0]}") from None
    orders, names = scanned.orders, scanned.names
    controllers = {side: controller_for(h["controllers"][side], side, orders, names,
                                        rules=rules, rationales=scanned.rationales)
                   for side in PLAYERS if side in h["controllers"]}
    switch = None
    parent = h.get("parent")
    if parent:
        switch = Switch(parent["fork_turn"],
                        None if parent.get("seed") is None else int(parent["seed"]),
                        {side: controller_for(name, side, orders, names, rules=rules,
                                              rationales=scanned.rationales)
                         for side, name in sorted((parent.get("controllers") or {}).items())},
                        fork_note(parent))
    return LoggedGame(scenario, rules, from_description(h["seed"]), controllers, switch)


def fork_note(parent: Mapping[str, Any]) -> dict[str, Any]:
    return {"parent": parent["log_sha256"], "seed": parent.get("seed")}


def controller_for(name: str, side: str, orders: dict, names: dict,
                   until: int | None = None, fallback: Controller | None = None, *,
                   rules: Rules, rationales: dict | None = None) -> Controller:
    """Doctrine re-decides (under ``rules``); anything else (people, callbacks, files, the
    umpire) replays its recorded orders, up to ``until`` when a live fallback takes over after
    it."""
    if name == "doctrine" and side in SIDES:
        return doctrine(side, rules)
    return Scripted(orders[side], fallback, name=name, names=names[side], until=until,
                    rationales=(rationales or {}).get(side))


def doctrine(side: str, rules: Rules) -> Controller:
    """The doctrine controller of a side under a rule set."""
    return BlueDoctrine(rules) if side == "blue" else RedQuantal(rules)


# ---- verifying -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """The answer of ``verify``: ok, or the first problem with where it is."""

    ok: bool
    records: int
    turns: int
    message: str
    line: int | None = None
    expected: str | None = None
    found: str | None = None


class Diverged(Exception):
    """Re-execution produced a record other than the logged one (line -1: the log ran out)."""

    def __init__(self, line: int, expected: str | None, found: str | None, why: str) -> None:
        # all four as args: simpy re-raises an exception escaping a process as
        # type(e)(*e.args), so every argument must be in args (records come from processes)
        super().__init__(line, expected, found, why)
        self.line, self.expected, self.found, self.why = line, expected, found, why


class ComparingSink:
    """Compares each re-executed record with the next logged line; optionally also writes it."""

    wants_digest = True

    def __init__(self, lines: Iterator, upto_turn: int | None = None,
                 writer: LogWriter | None = None) -> None:
        self.lines = lines
        self.upto_turn = upto_turn  # compare only records before this turn (a fork's prefix)
        self.writer = writer
        self.compared = 0

    def emit(self, record: dict[str, Any]) -> None:
        if self.writer is not None:
            self.writer.emit(record)
        if self.upto_turn is not None and record["turn"] >= self.upto_turn:
            return
        found = record_text(record)
        line = next(self.lines, None)
        if line is None:
            raise Diverged(-1, None, found, "the log ends before the re-executed game does")
        number, text = line
        body = (unseal(text) or ("", ""))[0]
        if body != found:
            raise Diverged(number, body, found, "re-execution differs from the log")
        self.compared += 1

    def end_turn(self, turn: int) -> None:
        if self.writer is not None:
            self.writer.end_turn(turn)


def verify(path: str | Path) -> Verdict:
    """Check a log's header and chain, then re-execute it and compare record by record."""
    try:
        reader = read_log(path)
    except CutHeader:
        return Verdict(False, 0, 0, "truncated after turn 0: the log was cut inside its "
                       "header line", 1)
    scanned = scan(reader)
    if scanned.verdict is not None:
        return scanned.verdict
    game = reconstruct(reader, scanned)
    lines = raw_lines(reader.path)
    next(lines)
    sink = ComparingSink(lines)
    try:
        result = run(game.scenario, game.rules, game.seed, game.controllers, sink, game.switch)
    except Diverged as d:
        return _diverged(d, sink.compared)
    footer_line = next(lines, None)
    if footer_line is None or not footer_line[1].startswith('{"footer":true'):
        n = footer_line[0] if footer_line else None
        return Verdict(False, sink.compared, 0, "the log has records the re-executed game "
                       "does not produce", n, footer_line[1][:200] if footer_line else None)
    footer = json.loads(footer_line[1])
    if footer["outcome"] != result.outcome or footer["records"] != result.records:
        return Verdict(False, sink.compared, 0, "the footer's outcome differs from the "
                       "re-executed game", footer_line[0], str(footer["outcome"]),
                       str(result.outcome))
    return Verdict(True, sink.compared, result.outcome["turns_played"],
                   f"verified: {sink.compared} records, {result.outcome['turns_played']} turns")


@dataclass
class Scan:
    """What one raw pass over a log learns: the chain's verdict and the recorded orders."""

    verdict: Verdict | None
    orders: dict[str, dict[int, list[Order]]]
    names: dict[str, dict[int, str]]
    rationales: dict[str, dict[int, str]] = field(default_factory=dict)


def scan(reader: LogReader) -> Scan:
    """One streaming pass without parsing records: check every line's chain hash and the
    footer, and collect the recorded orders (the only lines parsed)."""
    state = ReadState()
    orders: dict[str, dict[int, list[Order]]] = {s: {} for s in PLAYERS}
    names: dict[str, dict[int, str]] = {s: {} for s in PLAYERS}
    rationales: dict[str, dict[int, str]] = {}
    prev, last, last_turn, footer = "", 0, 0, False
    for number, text in raw_lines(reader.path, state):
        last = number
        parts = unseal(text)
        if parts is None or chain(prev, parts[0]) != parts[1]:
            return Scan(Verdict(False, 0, last_turn,
                                f"broken hash chain at line {number}: the line was edited, "
                                "removed or reordered", number), orders, names, rationales)
        prev = parts[1]
        footer = text.startswith('{"footer":true')
        if number > 1 and not footer:
            last_turn = _turn_of(text, last_turn)
        if '"kind":"orders"' in text[:120]:
            _collect(json.loads(text), orders, names, rationales)
    if state.truncated_at is not None or not footer:
        return Scan(Verdict(False, max(0, last - 1), last_turn,
                            f"truncated after turn {last_turn}: "
                            f"{state.reason or 'no footer'}", state.truncated_at or last + 1),
                    orders, names, rationales)
    return Scan(None, orders, names, rationales)


def _turn_of(text: str, default: int) -> int:
    at = text.find('"turn":')
    if at < 0:
        return default
    end = text.find(",", at)
    try:
        return int(text[at + 7:end])
    except ValueError:
        return default


def _collect(rec: dict[str, Any], orders: dict, names: dict,
             rationales: dict | None = None) -> None:
    side, turn = rec.get("side"), rec.get("turn")
    if rec.get("kind") == "orders" and side in PLAYERS:
        orders[side][turn] = [Order.from_json(o) for o in rec["data"]["orders"]]
        names[side][turn] = rec["data"]["controller"]
        if rationales is not None and isinstance(rec["data"].get("rationale"), str):
            rationales.setdefault(side, {})[turn] = rec["data"]["rationale"]


def _diverged(d: Diverged, compared: int) -> Verdict:
    where = f"line {d.line}" if d.line > 0 else "the end of the log"
    return Verdict(False, compared, 0, f"diverged at {where}: {d.why}", d.line if d.line > 0
                   else None, d.expected, d.found)


# ---- forking ---------------------------------------------------------------------------------

def fork(path: str | Path, turn: int, out: str | Path, seed: int | None = None,
         controllers: Mapping[str, str] | None = None) -> tuple[RunResult, str]:
    """Continue a logged game from the start of ``turn`` with a new seed and/or controllers
    (names: ``doctrine`` or ``recorded``); returns the result and the new log's final hash."""
    reader = read_log(path)
    scanned = scan(reader)
    if scanned.verdict is not None and "truncated" not in scanned.verdict.message:
        raise LogError(f"{path}: cannot fork: {scanned.verdict.message}")
    played = reader.header["scenario"]["turns"]["count"]
    if not 1 <= turn <= played:
        raise LogError(f"{path}: cannot fork at turn {turn}: the game has turns 1-{played}")
    game = reconstruct(reader, scanned)
    if game.switch is not None:  # a second switch would need a list of them in the header
        raise LogError(f"{path}: is itself a fork (from turn {game.switch.turn}); fork the "
                       "original game instead")
    chosen = {side: _fork_controller(name, side, scanned.orders, game.rules)
              for side, name in sorted((controllers or {}).items())}
    parent = {"log_sha256": file_sha256(reader.path), "fork_turn": turn, "seed": seed,
              "controllers": {side: name_of(c) for side, c in chosen.items()}}
    switch = Switch(turn, seed, chosen, fork_note(parent))
    header = make_header(game.scenario, game.rules, reader.header["seed"],
                         dict(reader.header["controllers"]), __version__, parent)
    writer = LogWriter(out, header)
    lines = raw_lines(reader.path)
    next(lines)
    sink = ComparingSink(lines, upto_turn=turn, writer=writer)
    try:
        result = run(game.scenario, game.rules, game.seed, game.controllers, sink, switch)
    except Diverged as d:
        writer.abort()
        raise ReplayDivergence(f"{path}: the parent does not re-execute up to turn {turn} "
                               f"(line {d.line}): {d.why}") from None
    except BaseException:
        writer.abort()
        raise
    if result.outcome["turns_played"] < turn:  # the switch never happened: no fork to write
        writer.abort()
        Path(out).unlink(missing_ok=True)
        raise LogError(f"{path}: cannot fork at turn {turn}: the game ended after turn "
                       f"{result.outcome['turns_played']}")
    return result, writer.close(result.outcome, result.outcome["turns_played"])


def _fork_controller(name: str, side: str, orders: dict, rules: Rules) -> Controller:
    if name == "doctrine" and side in SIDES:
        return doctrine(side, rules)
    if name == "recorded":
        return Scripted(orders[side], name="recorded", names=None)
    raise LogError(f"unknown controller '{name}' for {side}; expected doctrine or recorded")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---- tables for notebooks --------------------------------------------------------------------

def log_table(path: str | Path, batch: int = 50_000):
    """The log's records as a pyarrow Table (data kept as a JSON string column)."""
    import pyarrow as pa

    schema = pa.schema([("seq", pa.int64()), ("turn", pa.int64()), ("t", pa.float64()),
                        ("kind", pa.string()), ("side", pa.string()), ("unit", pa.string()),
                        ("visible_to", pa.list_(pa.string())), ("data", pa.string())])
    batches, rows = [], []
    for rec in read_log(path).records():
        rows.append({**{k: rec[k] for k in schema.names if k != "data"},
                     "data": json.dumps(rec["data"], sort_keys=True)})
        if len(rows) >= batch:
            batches.append(pa.RecordBatch.from_pylist(rows, schema))
            rows = []
    if rows or not batches:
        batches.append(pa.RecordBatch.from_pylist(rows, schema))
    return pa.Table.from_batches(batches, schema)
