"""A tabletop wargame scenario engine seeded by alliance posture.

    import engine
    game = engine.Game.load("alliance-2024")
    s = game.start(seed=7)
    while not s.over:
        for side in ("blue", "red"):
            obs, menu = s.observation(side), s.legal_orders(side)
            s.submit(side, [engine.Order("isr_tempo", {"level": "surge"})])
        s.step()
    s.outcome

Importing this package has no side effects and loads nothing heavy: each name below is imported
on first use (PEP 562), so ``wargame --help`` does not pay for dask or pyarrow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# public name -> the module that defines it
_API = {
    "Game": "engine.game",
    "Session": "engine.sim.session",
    "OrderRefused": "engine.sim.session",
    "Order": "engine.spec.order",
    "Observation": "engine.sim.views",
    "Menu": "engine.sim.controllers",
    "Decision": "engine.sim.controllers",
    "run": "engine.sim.kernel",
    "RunResult": "engine.sim.kernel",
    "run_logged": "engine.io.eventlog",
    "load_pair": "engine.io.loading",
    "load_scenario": "engine.io.loading",
    "load_rules": "engine.io.loading",
    "read_log": "engine.io.replay",
    "verify": "engine.io.replay",
    "fork": "engine.io.fork",
    "log_table": "engine.io.tables",
    "sweep": "engine.sweeps.runner",
    "Scenario": "engine.spec.scenario",
    "Rules": "engine.spec.rules",
    "EngineError": "engine.errors",
    "LogError": "engine.errors",
    "ReplayDivergence": "engine.errors",
    "RulesError": "engine.errors",
    "ScenarioError": "engine.errors",
}

__all__ = [
    "Decision",
    "EngineError",
    "Game",
    "LogError",
    "Menu",
    "Observation",
    "Order",
    "OrderRefused",
    "ReplayDivergence",
    "Rules",
    "RulesError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Session",
    "__version__",
    "fork",
    "load_pair",
    "load_rules",
    "load_scenario",
    "log_table",
    "read_log",
    "run",
    "run_logged",
    "sweep",
    "verify",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from engine.errors import EngineError, LogError, ReplayDivergence, RulesError, ScenarioError
    from engine.game import Game
    from engine.io.eventlog import run_logged
    from engine.io.fork import fork
    from engine.io.loading import load_pair, load_rules, load_scenario
    from engine.io.replay import read_log, verify
    from engine.io.tables import log_table
    from engine.sim.controllers import Decision, Menu
    from engine.sim.kernel import RunResult, run
    from engine.sim.session import OrderRefused, Session
    from engine.sim.views import Observation
    from engine.spec.order import Order
    from engine.spec.rules import Rules
    from engine.spec.scenario import Scenario
    from engine.sweeps.runner import sweep
