"""Forks: a logged game replayed up to a turn, checked against its parent line by line, then
continued with a new seed or other controllers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from engine import __version__
from engine.errors import LogError, ReplayDivergence
from engine.io.eventlog import LogWriter, raw_lines
from engine.io.logschema import make_header
from engine.io.replay import (
    SIDES,
    ComparingSink,
    Diverged,
    doctrine,
    fork_note,
    read_log,
    reconstruct,
)
from engine.sim.controllers import Controller, Scripted, name_of
from engine.sim.kernel import RunResult, Switch, run
from engine.spec.rules import Rules


def fork(path: str | Path, turn: int, out: str | Path, seed: int | None = None,
         controllers: Mapping[str, str] | None = None) -> tuple[RunResult, str]:
    """Continue a logged game from the start of ``turn`` with a new seed and/or controllers
    (names: ``doctrine`` or ``recorded``); returns the result and the new log's final hash."""
    reader = read_log(path)
    scanned = reader.check()
    if scanned.verdict is not None and not scanned.verdict.truncated:  # a cut game forks
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
