"""``engine.Game``: the pure game of ``engine.sim.session`` plus the ways to load one from
files or from a log's header (the I/O edge the simulation itself never touches)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.sim import session
from engine.sim.rng import Seed
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario


class Game(session.Game):
    """A scenario and the rules it is played under; ``start(seed)`` gives a Session."""

    @classmethod
    def load(cls, scenario: str | Path = "alliance-2024",
             rules: str | Path | None = None) -> Game:
        """A built-in name or a YAML path, with the rules it names (or ``rules``)."""
        from engine.io.loading import load_pair

        s, r = load_pair(str(scenario), None if rules is None else str(rules))
        return cls(s, r)

    def start_logged(self, seed: int, path: str | Path,
                     controllers: Mapping[str, str] | None = None) -> LoggedSession:
        """A session that streams its sealed log to ``path`` as it is played (``controllers``
        names who plays each side in the header; "api" when not given)."""
        return LoggedSession(self, seed, path, {"blue": "api", "red": "api",
                                                **(controllers or {})})

    @classmethod
    def from_header(cls, header: Mapping[str, Any]) -> Game:
        """The game a log was played under, from the scenario and rules its header embeds."""
        return cls(Scenario.model_validate(header["scenario"]),
                   Rules.model_validate(header["rules"]))


class LoggedSession(session.Session):
    """A session whose records stream to a sealed log, closed (footer written) when the game
    ends; ``final_hash`` is then the log's seal."""

    def __init__(self, game: Game, seed: Seed, path: str | Path,
                 controllers: Mapping[str, str]) -> None:
        from engine import __version__
        from engine.io.eventlog import LogWriter
        from engine.io.logschema import make_header
        from engine.sim.rng import describe, run_sequence

        header = make_header(game.scenario, game.rules, describe(run_sequence(seed)),
                             dict(controllers), __version__)
        self.writer = LogWriter(path, header)
        self.final_hash: str | None = None
        super().__init__(game, seed, self.writer)

    def step(self) -> None:
        super().step()
        if self.over and self.final_hash is None:
            self.final_hash = self.writer.close(self.outcome, self.turn)
