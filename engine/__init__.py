"""A tabletop wargame scenario engine seeded by alliance posture.

The public API is small: load a scenario and rules, run an exercise, read its log.
Importing this package has no side effects.
"""

from engine.errors import EngineError, LogError, ReplayDivergence, RulesError, ScenarioError
from engine.io.loading import load_pair, load_rules, load_scenario
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

__version__ = "0.1.0"

__all__ = [
    "EngineError",
    "LogError",
    "ReplayDivergence",
    "Rules",
    "RulesError",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_pair",
    "load_rules",
    "load_scenario",
]
