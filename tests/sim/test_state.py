"""engine/sim/state.py: the log's rounding refuses what JSON cannot hold, and the fast path of
``rounded`` gives what the general one gives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.sim.state import r6, rounded


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_r6_refuses_non_finite_numbers(bad: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        r6(bad)


def test_rounded_rounds_every_float_at_any_depth_and_keeps_the_rest() -> None:
    value = {"a": 0.1234567891, "b": [1, 2.00000049, ("x", np.float64(3.3333333333))],
             "c": {"d": None, "e": True, "f": {"g": -0.0000004}}}
    assert rounded(value) == {"a": 0.123457, "b": [1, 2.0, ["x", 3.333333]],
                              "c": {"d": None, "e": True, "f": {"g": -0.0}}}
    assert type(rounded(value)["b"][2][1]) is float
    with pytest.raises(ValueError):
        rounded({"x": [math.nan]})
