"""Reading and verifying logged games (forks: ``engine/io/fork.py``).

``verify`` checks the header and the hash chain, then re-executes the game from the embedded
scenario, rules, seed and recorded orders, comparing every re-executed record with the logged
line as it is produced: memory stays flat and the first divergence is reported with the line,
what was logged and what re-execution produced.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine import __version__
from engine.canonical import canonical, sha256_of
from engine.errors import LogError, Problem
from engine.io.eventlog import (
    LineTooLong,
    LogWriter,
    ReadState,
    chain,
    footer_of,
    iter_raw,
    parse_line,
    raw_lines,
    record_text,
    unseal,
)
from engine.io.logschema import (
    LOG_FORMAT,
    LOG_VERSION,
    is_engine_version,
    line_problem,
)
from engine.sim.controllers import BlueDoctrine, Controller, RedQuantal, Scripted
from engine.sim.kernel import Switch, run
from engine.sim.rng import from_description
from engine.spec.order import Order
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

SIDES = ("blue", "red")
PLAYERS = ("blue", "red", "white")  # white: the umpire, whose live injects are orders too


# ---- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Integrity:
    """What one checking pass over a whole log finds, without re-executing it: ``sealed`` (the
    header's hashes match what it embeds, every line keeps the published schema, the hash
    chain is intact from the header to a footer that ends the log and counts its records and
    turns), ``truncated`` (intact, but cut: no footer), ``broken`` (a line was changed, removed,
    inserted or reordered after the log was written) or ``damaged`` (a line is not a
    well-formed log line). ``message`` says it in one plain sentence, to print at the top of
    anything shown from the log; ``line`` is the first line at fault."""

    status: Literal["sealed", "truncated", "broken", "damaged"]
    message: str
    line: int | None = None
    records: int = 0
    last_turn: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "sealed"


@dataclass
class LogReader:
    """A streaming view of one log: its header up front (checked, with the scenario and rules
    it embeds validated), records on demand (each checked against the published schema), then
    the footer; ``integrity`` checks the whole log once without re-executing it."""

    path: Path
    header: dict[str, Any]
    state: ReadState = field(default_factory=ReadState)
    footer: dict[str, Any] | None = None
    scenario: Scenario | None = None
    rules: Rules | None = None
    _scan: Scan | None = field(default=None, repr=False, compare=False)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every well-formed record in order; afterwards ``footer`` and ``state`` are filled
        in. Reading stops quietly, as at a cut, at the first line that is not a well-formed
        record or footer, or that follows the footer: ``state.corrupt`` is then set, with the
        line and why in ``state.truncated_at`` and ``state.reason``."""
        self.state = state = ReadState()
        self.footer = None
        footer_at = None
        try:
            for number, raw in iter_raw(self.path):
                if number == 1:
                    continue
                obj, why = parse_line(raw)
                if obj is not None and footer_at is not None:
                    why = f"a line follows the footer (line {footer_at})"
                    self.footer = None
                elif obj is not None:
                    why = line_problem(obj)
                if obj is None or why:
                    state.truncated_at, state.reason = number, why
                    state.corrupt = raw.endswith(b"\n")  # only a cut leaves a line unfinished
                    state.complete = False
                    return
                if obj.get("footer") is True:
                    self.footer, footer_at, state.complete = obj, number, True
                    continue
                state.last_turn = obj["turn"]
                yield obj
        except LineTooLong as e:
            state.truncated_at, state.reason, state.corrupt = e.line, "line is too long", True
            state.complete, self.footer = False, None

    @property
    def truncated(self) -> bool:
        return not self.state.complete

    def check(self) -> Scan:
        """The one checking pass over the whole log (done once): see :func:`scan`."""
        if self._scan is None:
            self._scan = _check(self)
        return self._scan

    @property
    def integrity(self) -> Integrity:
        """Whether the log is sealed, truncated, broken or damaged, in one sentence."""
        return self.check().integrity


class CutHeader(LogError):
    """A log cut inside its header line: truncated after turn 0, with no record to read."""

    exit_code = 1


# the writer's header has sorted keys, so every log starts with these bytes
_HEADER_START = b'{"controllers":{'


def read_log(path: str | Path) -> LogReader:
    """Open a log for reading: the one reader of every command that reads logs (replay, report,
    verify, fork, sweep --blue-orders-from, resuming a game). LogError (exit 2) with the line
    if it is not a log this engine can read: not a regular file, a header that is not JSON or
    breaks the published schema, another format or engine version, an engine version that is
    not a version number, an embedded scenario or rules that do not validate or are not as
    the engine writes them; CutHeader (exit 1) if it was cut inside its header line."""
    p = Path(path)
    lines = iter_raw(p)
    try:
        first = next(lines, None)
    except OSError as e:
        raise LogError(f"{path}: cannot read: {e.strerror or e}") from None
    finally:
        lines.close()
    if first is None:
        raise LogError(f"{path}: empty; not a readable log")
    obj, why = parse_line(first[1])
    if obj is None:
        if not first[1].endswith(b"\n") and _HEADER_START.startswith(first[1][:16]):
            raise CutHeader(f"{path}: truncated after turn 0: the log was cut inside its "
                            "header line; it has no record to read")
        raise LogError(f"{path}: line 1: {why}; not a readable log")
    check_header(obj, str(path))
    scenario, rules = embedded(obj, str(path))
    return LogReader(p, obj, scenario=scenario, rules=rules)


def check_header(header: dict[str, Any], name: str) -> None:
    """Refuse logs of another format, format version or incompatible engine version, and a
    header that breaks the published schema (LogError, exit 2, naming line 1)."""
    if header.get("format") != LOG_FORMAT:
        raise LogError(f"{name}: not a wargame log (line 1 has no 'format: {LOG_FORMAT}')")
    if header.get("version") != LOG_VERSION:
        raise LogError(f"{name}: line 1: log format version {header.get('version')!r:.40} "
                       f"(written by engine {header.get('engine', '?')!s:.40}); this engine "
                       f"{__version__} reads only version {LOG_VERSION}: replay it with the "
                       "engine that wrote it, or play the game again")
    if not is_engine_version(header.get("engine")):
        raise LogError("", (Problem(name, f"header: engine: {header.get('engine')!r:.60} is not "
                                          "an engine version number (the header was edited)",
                                    1),))
    if not compatible(header["engine"]):
        raise LogError(f"{name}: line 1: written by engine {header['engine']}; this is engine "
                       f"{__version__}, whose games may differ; use a matching engine version")
    why = line_problem(header, header=True)
    if why:
        raise LogError("", (Problem(name, why, 1),))


def embedded(header: dict[str, Any], name: str) -> tuple[Scenario, Rules]:
    """The scenario and rules a header embeds, validated and checked against each other; they
    must be exactly as the engine writes them (a value that validates only by conversion,
    such as 8.0 for 8, was not written by the engine). LogError (exit 2) naming line 1."""
    from pydantic import ValidationError

    from engine.io.loading import pair_problems

    def bad(message: str) -> LogError:
        return LogError("", (Problem(name, message, 1),))

    models: list[Any] = []
    for key, model in (("scenario", Scenario), ("rules", Rules)):
        try:
            m = model.model_validate(header[key])
        except (ValidationError, ValueError, TypeError) as e:
            first = str(e).splitlines()
            why = f"{first[1].strip()}: {first[2].strip()}" if len(first) > 2 else first[0]
            raise bad(f"header: the embedded {key} does not validate: {why}") from None
        where = _difference(header[key], m.model_dump(mode="json"), key)
        if where:
            raise bad(f"header: the embedded {key} is not as the engine writes it (at {where})")
        models.append(m)
    problems = pair_problems(models[0], models[1])
    if problems:
        raise bad(f"header: the embedded scenario does not fit its rules: {problems[0]}")
    return models[0], models[1]


def _difference(found: Any, written: Any, path: str) -> str:
    """The first path at which two JSON values differ, in type or value ("" if none)."""
    if type(found) is not type(written):
        return path
    if isinstance(found, dict):
        for key in sorted(set(found) | set(written)):
            if key not in found or key not in written:
                return f"{path}.{key}"
            where = _difference(found[key], written[key], f"{path}.{key}")
            if where:
                return where
        return ""
    if isinstance(found, list):
        if len(found) != len(written):
            return path
        for i, (a, b) in enumerate(zip(found, written, strict=True)):
            where = _difference(a, b, f"{path}.{i}")
            if where:
                return where
        return ""
    return "" if found == written else path


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
    if reader.scenario is None or reader.rules is None:
        reader.scenario, reader.rules = embedded(h, str(reader.path))
    scenario, rules = reader.scenario, reader.rules
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
    """The answer of ``verify``: ok, or the first problem with where it is. ``structural``: the
    line is not a well-formed log line (``verify`` raises LogError, exit 2, for it);
    ``truncated``: the log was cut (no footer)."""

    ok: bool
    records: int
    turns: int
    message: str
    line: int | None = None
    expected: str | None = None
    found: str | None = None
    structural: bool = False
    truncated: bool = False


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
    """Check a whole log (header, schema of every line, embedded files against their hashes,
    the hash chain, nothing after the footer), then re-execute it from the header and the
    recorded orders, comparing every record and, whole, the footer. A Verdict for a log that
    is well-formed (not ok: truncated, broken, diverged); LogError (exit 2, with the line) for
    one that is not."""
    try:
        reader = read_log(path)
    except CutHeader:
        return Verdict(False, 0, 0, "truncated after turn 0: the log was cut inside its "
                       "header line", 1, truncated=True)
    scanned = reader.check()
    if scanned.verdict is not None:
        if scanned.verdict.structural:
            raise LogError("", (Problem(str(path), f"{scanned.verdict.message.split(': ', 1)[1]}"
                                        " (the log is damaged or was edited here)",
                                        scanned.verdict.line),))
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
    turns = result.outcome["turns_played"]
    expected = canonical(footer_of(sink.compared, turns, result.outcome))
    logged = (unseal(footer_line[1]) or ("", ""))[0]
    if logged != expected:  # the footer whole: records, turns and outcome, and nothing else
        return Verdict(False, sink.compared, 0, "the footer differs from the re-executed game "
                       "(its record count, turns or outcome)", footer_line[0], logged, expected)
    return Verdict(True, sink.compared, turns, f"verified: {sink.compared} records, {turns} "
                   "turns")


@dataclass
class Scan:
    """What the one checking pass over a log learns: its verdict (None when sealed) and the
    recorded orders."""

    verdict: Verdict | None
    orders: dict[str, dict[int, list[Order]]]
    names: dict[str, dict[int, str]]
    rationales: dict[str, dict[int, str]] = field(default_factory=dict)
    records: int = 0
    last_turn: int = 0

    @property
    def integrity(self) -> Integrity:
        v = self.verdict
        status: Literal["truncated", "broken", "damaged"]
        if v is None:
            return Integrity("sealed", f"sealed: {self.records} records, {self.last_turn} "
                             "turns, the hash chain intact from the header to the footer",
                             None, self.records, self.last_turn)
        if v.truncated:
            status, say = "truncated", (
                f"This log is truncated: it stops after turn {self.last_turn} "
                f"({v.message.split(': ', 1)[1]}) and has no footer, so no final outcome; "
                "only its complete records can be shown.")
        elif v.structural:
            status, say = "damaged", (
                f"This log is damaged at line {v.line} ({v.message.split(': ', 1)[1]}): it "
                "was edited or corrupted, and nothing from that line on can be read.")
        else:
            status, say = "broken", (
                f"This log fails its integrity check ({v.message}): it was changed after it "
                "was written, so what it shows may not be the game that was played.")
        return Integrity(status, say, v.line, self.records, self.last_turn)


def scan(reader: LogReader) -> Scan:
    """The one checking pass over a whole log, without re-executing it (done once per reader):
    the embedded scenario and rules against their hashes; every line against the published
    schema (Header, Record with its kind's payload and visibility, Footer); the hash chain;
    the form the engine writes each line in; records numbered 0, 1, 2, ... with turns that
    never go back; nothing after the footer, whose record count and turns match the records.
    Also collects the recorded orders. The first problem found is the verdict."""
    return reader.check()


def _check(reader: LogReader) -> Scan:
    orders: dict[str, dict[int, list[Order]]] = {s: {} for s in PLAYERS}
    names: dict[str, dict[int, str]] = {s: {} for s in PLAYERS}
    rationales: dict[str, dict[int, str]] = {}
    records = last_turn = last = 0

    def done(verdict: Verdict | None) -> Scan:
        return Scan(verdict, orders, names, rationales, records, last_turn)

    def broken(number: int, why: str, structural: bool = False) -> Scan:
        return done(Verdict(False, records, last_turn, f"line {number}: {why}", number,
                            structural=structural))

    h = reader.header
    for key in ("scenario", "rules"):
        if sha256_of(h[key]) != h[f"{key}_sha256"]:
            return broken(1, f"the embedded {key} does not match its {key}_sha256 (the header "
                             "was edited)")
    prev, footer, footer_at, cut_at, cut_why = "", None, 0, 0, ""
    try:
        for number, raw in iter_raw(reader.path):
            if footer is not None:
                return broken(number, f"a line follows the footer (line {footer_at}); nothing "
                                      "may follow the footer", structural=True)
            if not raw.endswith(b"\n"):
                cut_at, cut_why = number, "the last line is incomplete"
                break
            obj, why = parse_line(raw) if number > 1 else (h, "")  # read_log checked line 1
            if obj is not None and number > 1:
                why = line_problem(obj)
            if obj is None or why:
                return broken(number, why, structural=True)
            text = raw[:-1].decode("utf-8")
            parts = unseal(text)
            if parts is None or chain(prev, parts[0]) != parts[1]:
                return done(Verdict(False, records, last_turn, f"broken hash chain at line "
                                    f"{number}: the line was edited, removed or reordered",
                                    number))
            prev, last = parts[1], number
            is_record = number > 1 and "footer" not in obj
            body = {k: v for k, v in obj.items() if k != "h"}
            if parts[0] != (record_text(body) if is_record else canonical(body)):
                return broken(number, "the line is not written as the engine writes it (its "
                                      "key order, spacing or escapes were changed)")
            if number == 1:
                continue
            if not is_record:
                footer, footer_at = obj, number
                continue
            if obj["seq"] != records:
                return broken(number, f"seq {obj['seq']} where {records} was expected: a "
                                      "record was removed, inserted or reordered")
            if obj["turn"] < last_turn:
                return broken(number, f"turn {obj['turn']} after turn {last_turn}: records "
                                      "were reordered")
            records, last_turn = records + 1, obj["turn"]
            if obj["kind"] == "orders":
                _collect(obj, orders, names, rationales)
    except LineTooLong as e:
        return broken(e.line, "line is too long", structural=True)
    if cut_at or footer is None:
        return done(Verdict(False, records, last_turn, f"truncated after turn {last_turn}: "
                            f"{cut_why or 'no footer'}", cut_at or last + 1, truncated=True))
    if footer["records"] != records:
        return broken(footer_at, f"the footer counts {footer['records']} records; the log has "
                                 f"{records}")
    if footer["turns"] != last_turn:
        return broken(footer_at, f"the footer says {footer['turns']} turns were played; the "
                                 f"records end in turn {last_turn}")
    return done(None)


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
