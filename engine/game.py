"""``engine.Game``: the pure game of ``engine.sim.session`` plus the ways to load one from
files or from a log's header (the I/O edge the simulation itself never touches)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.sim import session
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

    @classmethod
    def from_header(cls, header: Mapping[str, Any]) -> Game:
        """The game a log was played under, from the scenario and rules its header embeds."""
        return cls(Scenario.model_validate(header["scenario"]),
                   Rules.model_validate(header["rules"]))
