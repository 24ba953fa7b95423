"""engine/sim/state.py: the log's rounding refuses what JSON cannot hold, r6's fast path is
``round(x, 6)`` bit for bit, and the fast path of ``rounded`` gives what the general one gives."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


# r6's fast path must give round(x, 6) bit for bit: ties (j/128 is an exact half at 1e-6),
# products within the error bound of a half, zeros of both signs, results that round to zero,
# the edge of the fast range and beyond it
EDGES = [0.0, -0.0, 1e-9, -1e-9, 4.99999e-7, -5e-7, 5e-7, 1 / 128, -3 / 128, 7812.5e-6,
         0.0000015, 2.5e-6, 4294.967295, 4294.967296, 4294.967297, -4294.967296, 1e12, 1e300,
         5e-324, 123.4565, 0.1 + 0.2, 720.0, 1 / 3]


@pytest.mark.parametrize("x", EDGES)
def test_r6_is_round_to_six_places_bit_for_bit_at_the_edges(x: float) -> None:
    assert _bits(r6(x)) == _bits(round(x, 6))


@given(st.floats(allow_nan=False, allow_infinity=False)
       | st.integers(-2**40, 2**40).map(lambda j: j / 128)
       | st.integers(-2**40, 2**40).map(lambda j: (j + 0.5) / 1e6)
       | st.floats(-5000, 5000).map(lambda v: round(v, 7)))
@settings(max_examples=3000)
def test_r6_is_round_to_six_places_bit_for_bit(x: float) -> None:
    assert _bits(r6(x)) == _bits(round(x, 6))


def test_r6_takes_numbers_that_are_not_floats_as_floats() -> None:
    assert r6(3) == 3.0 and type(r6(3)) is float
    assert type(r6(np.float64(0.1234567891))) is float
    assert r6(np.float64(0.1234567891)) == 0.123457
