"""Sweep designs: option parsing, grid combinations, Latin hypercube strata and reproducibility,
and the check of every cell against its scenario."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import EngineError, load_pair
from engine.sweeps.design import (
    Cell,
    cells,
    check_values,
    grid,
    latin_hypercube,
    parse_lhs,
    parse_vary,
)
from engine.sweeps.runner import build_spec

AIRCRAFT = "blue.isr.mq9.aircraft"
AVAILABILITY = "blue.isr.mq9.availability"


@pytest.fixture(scope="module")
def tutorial():
    return load_pair("classroom-tutorial")[0]


# ---- parsing --------------------------------------------------------------------------------

def test_parse_vary_reads_yaml_scalars():
    got = parse_vary([f"{AIRCRAFT}=2,4, 6", "a.b=0.5,true,word", " c.d =1.0e+3"])
    assert got == {AIRCRAFT: [2, 4, 6], "a.b": [0.5, True, "word"], "c.d": [1000.0]}
    assert [type(v) for v in got["a.b"]] == [float, bool, str]
    assert parse_vary([]) == {}


@pytest.mark.parametrize("item", ["a.b", "=1,2", "a.b=", "a.b=1,,2", "a.b=[1,2]",
                                  "a.b={x: 1}", "a.b=null", "a.b=1,'unclosed"])
def test_parse_vary_refuses_malformed_items(item):
    with pytest.raises(EngineError) as e:
        parse_vary([item])
    assert "expected" in str(e.value)


def test_parse_lhs_reads_ranges():
    assert parse_lhs([f"{AIRCRAFT}=1:8", f"{AVAILABILITY}=0.5:0.95", "x=2:2"]) == {
        AIRCRAFT: (1, 8), AVAILABILITY: (0.5, 0.95), "x": (2, 2)}
    lo, hi = parse_lhs(["x=1:2.5"])["x"]
    assert isinstance(lo, int) and isinstance(hi, float)


@pytest.mark.parametrize("item", ["x", "x=1", "x=1-4", "x=4:1", "x=a:b", "x=1:b", "x=:",
                                  "x=1:2:3", "x=[1]:2"])
def test_parse_lhs_refuses_malformed_items(item):
    with pytest.raises(EngineError) as e:
        parse_lhs([item])
    assert "PATH=lo:hi" in str(e.value)


# ---- grids ----------------------------------------------------------------------------------

def test_grid_is_every_combination_in_order():
    points = grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert points == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
                      {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]
    assert grid({}) == [{}]
    assert len(grid({"a": [1, 2], "b": [1, 2, 3], "c": [0, 1, 2, 3]})) == 24


def test_cells_are_scenario_major_and_set_values(tutorial):
    other = load_pair("alliance-2024")[0]
    points = grid({AIRCRAFT: [2, 6]})
    design = cells([tutorial, other], points)
    assert design == [Cell(0, 0, {AIRCRAFT: 2}), Cell(1, 0, {AIRCRAFT: 6}),
                      Cell(2, 1, {AIRCRAFT: 2}), Cell(3, 1, {AIRCRAFT: 6})]
    assert check_values(tutorial, {AIRCRAFT: 6}).blue.isr["mq9"].aircraft == 6


def test_grid_spec_has_one_cell_per_combination():
    spec = build_spec("classroom-tutorial", vary={AIRCRAFT: [2, 4], AVAILABILITY: [0.5, 0.9]},
                      replications=3, seed=1)
    assert [c["values"] for c in spec["cells"]] == [
        {AIRCRAFT: 2, AVAILABILITY: 0.5}, {AIRCRAFT: 2, AVAILABILITY: 0.9},
        {AIRCRAFT: 4, AVAILABILITY: 0.5}, {AIRCRAFT: 4, AVAILABILITY: 0.9}]
    assert spec["design"] == {"kind": "grid",
                              "vary": {AIRCRAFT: [2, 4], AVAILABILITY: [0.5, 0.9]}}


@pytest.mark.parametrize(("values", "words"), [
    ({"blue.nope": 1}, "no field 'nope'"),
    ({"blue.isr.mq9.aircraft.deeper": 1}, "no field"),
    ({"blue.isr.mq9.zones.7": "ecs_central"}, "out of range"),
    ({"blue.isr.mq9.zones.x": "ecs_central"}, "out of range"),
    ({AIRCRAFT: "many"}, "valid integer"),
    ({AVAILABILITY: 7.5}, AVAILABILITY),
])
def test_check_values_names_the_bad_path_or_value(tutorial, values, words):
    with pytest.raises(EngineError) as e:
        check_values(tutorial, values)
    text = str(e.value)
    assert "classroom-tutorial" in text and words in text


# ---- Latin hypercube ------------------------------------------------------------------------

def _assert_one_per_stratum(xs: list[float], lo: float, hi: float) -> None:
    """The k-th smallest of K points lies in the k-th of K equal strata of [lo, hi] (points are
    rounded to 9 decimals, hence the small tolerance at stratum edges)."""
    k_total = len(xs)
    width = (hi - lo) / k_total
    eps = 1e-9 + 1e-12 * abs(hi)
    for k, x in enumerate(sorted(xs)):
        assert lo + k * width - eps <= x <= lo + (k + 1) * width + eps, (k, x)


def test_lhs_hits_each_stratum_of_each_range_once():
    ranges = {AVAILABILITY: (0.5, 0.95), "b": (-3.0, 12.0), "c": (0.0, 1e-3)}
    for samples in (1, 2, 7, 40):
        points = latin_hypercube(ranges, samples, root=5)
        assert len(points) == samples
        for path, (lo, hi) in ranges.items():
            _assert_one_per_stratum([p[path] for p in points], lo, hi)


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(-1e3, 1e3), width=st.floats(1e-3, 1e3), samples=st.integers(1, 60),
       root=st.integers(0, 2**32))
def test_lhs_strata_property(lo, width, samples, root):
    points = latin_hypercube({"x": (lo, lo + width), "y": (0.0, 1.0)}, samples, root)
    _assert_one_per_stratum([p["x"] for p in points], lo, lo + width)
    _assert_one_per_stratum([p["y"] for p in points], 0.0, 1.0)


def test_lhs_columns_are_not_all_in_the_same_order():
    points = latin_hypercube({"a": (0.0, 1.0), "b": (0.0, 1.0)}, 50, root=3)
    order_a = sorted(range(50), key=lambda k: points[k]["a"])
    order_b = sorted(range(50), key=lambda k: points[k]["b"])
    assert order_a != order_b, "each range needs its own permutation of strata"


def test_lhs_is_reproducible_for_the_same_root_seed():
    ranges = {AIRCRAFT: (1, 8), AVAILABILITY: (0.5, 0.95)}
    assert latin_hypercube(ranges, 12, 42) == latin_hypercube(ranges, 12, 42)
    assert latin_hypercube(ranges, 12, 42) != latin_hypercube(ranges, 12, 43)
    a = build_spec("classroom-tutorial", design="lhs", ranges=ranges, samples=6,
                   replications=2, seed=9)
    b = build_spec("classroom-tutorial", design="lhs", ranges=ranges, samples=6,
                   replications=2, seed=9)
    assert a["cells"] == b["cells"] and a["key"] == b["key"]
    assert a["design"] == {"kind": "lhs", "samples": 6,
                           "ranges": {AIRCRAFT: [1, 8], AVAILABILITY: [0.5, 0.95]}}


def test_lhs_int_ranges_give_ints_and_float_ranges_floats():
    points = latin_hypercube({AIRCRAFT: (1, 8), AVAILABILITY: (0.5, 0.95), "m": (1, 2.0)},
                             30, root=0)
    for p in points:
        assert type(p[AIRCRAFT]) is int and 1 <= p[AIRCRAFT] <= 8
        assert type(p[AVAILABILITY]) is float and 0.5 <= p[AVAILABILITY] <= 0.95
        assert type(p["m"]) is float
    # with as many samples as integers, every integer of the range is near its stratum
    ints = sorted(p[AIRCRAFT] for p in latin_hypercube({AIRCRAFT: (0, 9)}, 10, root=1))
    assert all(abs(v - (k + 0.5) * 0.9) <= 1 for k, v in enumerate(ints))


def test_lhs_spec_values_are_valid_scenario_values():
    spec = build_spec("classroom-tutorial", design="lhs",
                      ranges={AIRCRAFT: (1, 8), AVAILABILITY: (0.5, 0.95)}, samples=5,
                      replications=1, seed=0)
    assert len(spec["cells"]) == 5
    assert all(isinstance(c["values"][AIRCRAFT], int) for c in spec["cells"])


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"design": "lhs", "ranges": {AIRCRAFT: (1, 8)}}, "--samples"),
    ({"design": "lhs", "samples": 3}, "ranges"),
    ({"design": "lhs", "ranges": {AIRCRAFT: (1, 8)}, "samples": 3, "vary": {AIRCRAFT: [1]}},
     "cannot be combined"),
    ({"design": "sobol"}, "expected grid or lhs"),
    ({"vary": {"blue.nope": [1]}}, "no field 'nope'"),
])
def test_build_spec_refuses_bad_designs(kwargs, words):
    with pytest.raises(EngineError) as e:
        build_spec("classroom-tutorial", replications=2, seed=0, **kwargs)
    assert words in str(e.value)


def test_lhs_refuses_zero_samples():
    with pytest.raises(EngineError):
        latin_hypercube({"x": (0.0, 1.0)}, 0, root=0)
    assert math.isclose(latin_hypercube({"x": (2.0, 2.0)}, 3, root=0)[0]["x"], 2.0)
