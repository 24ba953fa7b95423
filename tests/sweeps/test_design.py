"""Sweep designs: option parsing, grids, Latin hypercube strata and fair integer ends, Sobol and
Morris designs through SALib, factor paths into scenario and rules, explicit design points from
tables and files, and the check of every point before any run."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import EngineError, load_pair
from engine.spec.scenario import with_turns, with_values
from engine.sweeps.design import (
    Cell,
    apply_point,
    check_points,
    design_matrix,
    grid,
    latin_hypercube,
    make_design,
    morris_points,
    parse_lhs,
    parse_ranges,
    parse_vary,
    points_from,
    sobol_points,
    split_path,
)

AIRCRAFT = "blue.isr.mq9.aircraft"
AVAILABILITY = "blue.isr.mq9.availability"
RATIONALITY = "rules.red_model.rationality"
DOMAINS = "treaty.article5_domains"


@pytest.fixture(scope="module")
def tutorial():
    return load_pair("classroom-tutorial")


@pytest.fixture(scope="module")
def alliance():
    return load_pair("alliance-2024")  # injects at turns 3 and 8, 30 turns


# ---- parsing options ------------------------------------------------------------------------

def test_parse_vary_reads_yaml_scalars_and_flow_lists():
    got = parse_vary([f"{AIRCRAFT}=2,4, 6", "a.b=0.5,true,word", " c.d =1.0e+3",
                      f"{DOMAINS}=[land_sea_air],[land_sea_air, cyber]", 'e="x,y",z'])
    assert got == {AIRCRAFT: [2, 4, 6], "a.b": [0.5, True, "word"], "c.d": [1000.0],
                   DOMAINS: [["land_sea_air"], ["land_sea_air", "cyber"]], "e": ["x,y", "z"]}
    assert [type(v) for v in got["a.b"]] == [float, bool, str]
    assert parse_vary([]) == {}


@pytest.mark.parametrize("item", ["a.b", "=1,2", "a.b=", "a.b=1,,2", "a.b=[[1]]",
                                  "a.b={x: 1}", "a.b=null", "a.b=1,'unclosed", "a.b=[1",
                                  "a.b=.nan", "a.b=&x [*x]"])
def test_parse_vary_refuses_malformed_items(item):
    with pytest.raises(EngineError) as e:
        parse_vary([item])
    assert "expected PATH=v1,v2" in str(e.value) and "--vary" in str(e.value)


@pytest.mark.parametrize(("raw", "where"), [
    ("1,,2", "between commas"), ("1, ,2", "between commas"), ("1,2,", "after the last comma"),
    (",1", "before the first comma"), ("[a, b],,[c]", "between commas"),
    ("O'Brien,,x", "between commas")])
def test_parse_vary_names_an_empty_value(raw, where):
    with pytest.raises(EngineError) as e:
        parse_vary([f"a.b={raw}"])
    assert str(e.value) == (f"sweep: --vary: expected PATH=v1,v2,... found 'a.b={raw}': empty "
                            f"value {where}")


def test_commas_inside_lists_and_quotes_are_not_empty_values():
    assert parse_vary(["a.b=[x, y],[z]", 'c.d="p,,q",r', "e.f='s,',t"]) == {
        "a.b": [["x", "y"], ["z"]], "c.d": ["p,,q", "r"], "e.f": ["s,", "t"]}


def test_parse_lhs_reads_ranges():
    assert parse_lhs([f"{AIRCRAFT}=1:8", f"{AVAILABILITY}=0.5:0.95", "x=2:2"]) == {
        AIRCRAFT: (1, 8), AVAILABILITY: (0.5, 0.95), "x": (2, 2)}
    lo, hi = parse_lhs(["x=1:2.5"])["x"]
    assert isinstance(lo, int) and isinstance(hi, float)
    assert parse_ranges([f"{RATIONALITY}=0.5:5"], "--sobol") == {RATIONALITY: (0.5, 5)}


@pytest.mark.parametrize("item", ["x", "x=1", "x=1-4", "x=4:1", "x=a:b", "x=1:b", "x=:",
                                  "x=1:2:3", "x=[1]:2", "x=false:true", "x=.nan:1", "=1:2"])
def test_parse_ranges_refuse_malformed_items(item):
    with pytest.raises(EngineError) as e:
        parse_ranges([item], "--morris")
    assert "PATH=lo:hi" in str(e.value) and "--morris" in str(e.value)


# ---- grids ----------------------------------------------------------------------------------

def test_grid_is_every_combination_in_order():
    points = grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert points == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
                      {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]
    assert grid({}) == [{}]
    assert len(grid({"a": [1, 2], "b": [1, 2, 3], "c": [0, 1, 2, 3]})) == 24


def test_check_points_are_scenario_major_over_scenario_and_rules(tutorial, alliance):
    points = grid({AIRCRAFT: [2, 6], RATIONALITY: [0.5]})
    design = check_points([tutorial[0], alliance[0]], tutorial[1], points, "--vary")
    assert design == [Cell(0, 0, {AIRCRAFT: 2, RATIONALITY: 0.5}),
                      Cell(1, 0, {AIRCRAFT: 6, RATIONALITY: 0.5}),
                      Cell(2, 1, {AIRCRAFT: 2, RATIONALITY: 0.5}),
                      Cell(3, 1, {AIRCRAFT: 6, RATIONALITY: 0.5})]
    assert check_points([tutorial[0]], tutorial[1], [{}]) == [Cell(0, 0, {})]


def test_grid_design_info_is_json_ready():
    vary = {AIRCRAFT: [2, 4], DOMAINS: [["cyber"], ["cyber", "space"]]}
    points, info = make_design("grid", vary=vary)
    assert len(points) == 4 and points[1] == {AIRCRAFT: 2, DOMAINS: ["cyber", "space"]}
    assert info == {"kind": "grid", "vary": vary}
    assert json.loads(json.dumps(info)) == info


# ---- factor paths: apply_point --------------------------------------------------------------

def test_split_path_reads_the_prefix():
    assert split_path("scenario.blue.isr.mq9.aircraft") == ("scenario", AIRCRAFT)
    assert split_path(AIRCRAFT) == ("scenario", AIRCRAFT)
    assert split_path(RATIONALITY) == ("rules", "red_model.rationality")
    for alone in ("rules", "scenario"):
        with pytest.raises(EngineError, match="alone names no value"):
            split_path(alone)


def test_a_rules_point_changes_the_rules_only(tutorial):
    s, r = tutorial
    new_s, new_r = apply_point(s, r, {RATIONALITY: 7.5, "rules.red_model.weights.cost": 2.0})
    assert new_r.red_model.rationality == 7.5 and new_r.red_model.weights.cost == 2.0
    assert r.red_model.rationality != 7.5, "the base rules are untouched"
    assert new_s is s
    assert new_r.model_dump(exclude={"red_model"}) == r.model_dump(exclude={"red_model"})


def test_bare_and_prefixed_scenario_paths_are_the_same_field(tutorial):
    s, r = tutorial
    a, _ = apply_point(s, r, {AIRCRAFT: 7})
    b, rules_b = apply_point(s, r, {f"scenario.{AIRCRAFT}": 7})
    assert a == b and a.blue.isr["mq9"].aircraft == 7 and rules_b is r
    assert a == with_values(s, {AIRCRAFT: 7})


def test_turn_count_drops_later_injects_as_with_turns_does(alliance):
    s, r = alliance
    assert [i.turn for i in s.injects] == [3, 8] and s.turns.count == 30
    for path in ("turns.count", "scenario.turns.count"):
        cut, _ = apply_point(s, r, {path: 5})
        assert cut.turns.count == 5 and [i.turn for i in cut.injects] == [3]
        assert cut == with_turns(s, 5)
    longer, _ = apply_point(s, r, {"turns.count": 40})
    assert longer.turns.count == 40 and [i.turn for i in longer.injects] == [3, 8]
    # checked before any run, with other factors in the same point
    cells = check_points([s], r, [{"turns.count": 5, RATIONALITY: 2.0},
                                  {"turns.count": 10, RATIONALITY: 2.0}])
    assert [c.values["turns.count"] for c in cells] == [5, 10]


def test_a_list_valued_factor_round_trips(alliance, tmp_path):
    s, r = alliance
    new, _ = apply_point(s, r, {DOMAINS: ["cyber", "space"]})
    assert new.treaty.article5_domains == ("cyber", "space")
    design = tmp_path / "d.csv"
    design.write_text(f'{DOMAINS},{AIRCRAFT}\n"[land_sea_air, cyber]",3\n[space],4\n')
    points = points_from(design)
    assert points == [{DOMAINS: ["land_sea_air", "cyber"], AIRCRAFT: 3},
                      {DOMAINS: ["space"], AIRCRAFT: 4}]
    cells = check_points([s], r, points)
    restored = json.loads(json.dumps([c.values for c in cells]))  # as the spec stores them
    assert apply_point(s, r, restored[0])[0].treaty.article5_domains == ("land_sea_air", "cyber")
    assert apply_point(s, r, restored[1])[0].treaty.article5_domains == ("space",)


def test_apply_point_copies_list_values(tutorial):
    s, r = tutorial
    value = ["cyber"]
    new, _ = apply_point(s, r, {DOMAINS: value})
    value.append("space")
    assert new.treaty.article5_domains == ("cyber",)


@pytest.mark.parametrize(("values", "words"), [
    ({"blue.nope": 1}, ["no field 'nope' at 'blue'",
                        "valid there: c2, counterstrike, isr, littoral, partners, sustainment"]),
    ({"blue.isr.mq9.aircarft": 1}, ["did you mean 'aircraft'?", "valid there: aircraft, "
                                                                "availability, base"]),
    ({"scenario.blue.isr.mq9.aircarft": 1}, ["at 'scenario.blue.isr.mq9'", "'aircraft'"]),
    ({"red_model.rationality": 1.0}, ["top level of the scenario",
                                      "write rules.red_model", "valid there: blue,"]),
    ({"rules.red_model.rationalty": 1.0}, ["at 'rules.red_model'", "'rationality'?",
                                           "valid there: belief_rate, patience"]),
    ({"rules.blue.isr": 1}, ["top level of the rules", "write scenario.blue",
                             "valid there: actions, adjudication"]),
    ({"blue.isr": 3}, ["is a group of fields (mq9)"]),
    ({"blue.isr.mq9.aircraft.deeper": 1}, ["'blue.isr.mq9.aircraft' holds a value (4)"]),
    ({"blue.isr.mq9.zones.7": "ecs_central"}, ["out of range", "2 items"]),
    ({"blue.isr.mq9.zones.x": "ecs_central"}, ["out of range"]),
    ({"blue..isr": 1}, ["empty step"]),
    ({AIRCRAFT: "many"}, ['blue.isr.mq9.aircraft = "many"', "valid integer"]),
    ({AVAILABILITY: 7.5}, [f"{AVAILABILITY} = 7.5", "less than or equal to 1"]),
    ({RATIONALITY: 99.0}, ["rules standard", f"{RATIONALITY} = 99.0",
                           "less than or equal to 50"]),
    ({DOMAINS: ["cyb"]}, [f'{DOMAINS} = ["cyb"]', "'land_sea_air', 'cyber' or 'space'"]),
    ({"red.objective": "atlantis"}, ['red.objective = "atlantis"', "unknown zone",
                                     "disputed_islands"]),
    ({"turns.count": 400}, ["turns.count = 400", "365"]),
    ({"turns.count": 5, "scenario.turns.count": 4}, ["set the same field"]),
    ({DOMAINS: ["cyber"], f"{DOMAINS}.0": "space"}, ["set the same field"]),
])
def test_bad_paths_and_values_are_named(tutorial, values, words):
    with pytest.raises(EngineError) as e:
        apply_point(*tutorial, values)
    text = str(e.value)
    for w in words:
        assert w in text, (w, text)


def test_check_points_names_option_point_and_scenario(tutorial, alliance):
    points = [{AIRCRAFT: 2}, {AIRCRAFT: 3}, {AIRCRAFT: -1}]
    with pytest.raises(EngineError) as e:
        check_points([tutorial[0], alliance[0]], tutorial[1], points, "--design")
    text = str(e.value)
    assert "--design" in text and "classroom-tutorial: point 3 of 3" in text
    assert f"{AIRCRAFT} = -1" in text


def test_check_points_cross_checks_scenario_and_rules(alliance):
    s, r = alliance  # an inject naming no action of the rules passes the scenario's own check
    with pytest.raises(EngineError) as e:
        check_points([s], r, [{"injects.0.action": "teleport"}], "--vary")
    assert "unknown action 'teleport'" in str(e.value) and "point 1 of 1" in str(e.value)


def test_check_points_cleans_numpy_values(tutorial):
    cells = check_points([tutorial[0]], tutorial[1],
                         [{AIRCRAFT: np.int64(3), RATIONALITY: np.float64(0.5)}])
    assert cells[0].values == {AIRCRAFT: 3, RATIONALITY: 0.5}
    assert type(cells[0].values[AIRCRAFT]) is int


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


def test_lhs_samples_the_ends_of_integer_ranges_as_often_as_the_interior():
    counts: Counter[int] = Counter()
    for root in range(20):  # 20 designs of 100 points: 2,000 draws, ~154 per integer
        counts.update(p["n"] for p in latin_hypercube({"n": (0, 12)}, 100, root))
    assert set(counts) == set(range(13))
    interior = [counts[v] for v in range(1, 12)]
    mean = sum(interior) / len(interior)
    # rounding to the nearest integer gave 0 and 12 half a share (~77 each): far below 0.85
    assert counts[0] >= 0.85 * mean and counts[12] >= 0.85 * mean, counts
    assert max(interior) <= 1.15 * mean and min(interior) >= 0.85 * mean, counts


def test_lhs_with_as_many_samples_as_integers_hits_each_integer_once():
    for root in range(5):
        values = sorted(p["n"] for p in latin_hypercube({"n": (3, 12)}, 10, root))
        assert values == list(range(3, 13))


def test_lhs_columns_are_not_all_in_the_same_order():
    points = latin_hypercube({"a": (0.0, 1.0), "b": (0.0, 1.0)}, 50, root=3)
    order_a = sorted(range(50), key=lambda k: points[k]["a"])
    order_b = sorted(range(50), key=lambda k: points[k]["b"])
    assert order_a != order_b, "each range needs its own permutation of strata"


def test_lhs_is_reproducible_for_the_same_root_seed():
    ranges = {AIRCRAFT: (1, 8), AVAILABILITY: (0.5, 0.95)}
    assert latin_hypercube(ranges, 12, 42) == latin_hypercube(ranges, 12, 42)
    assert latin_hypercube(ranges, 12, 42) != latin_hypercube(ranges, 12, 43)
    points, info = make_design("lhs", ranges=ranges, samples=6, seed=9)
    assert points == latin_hypercube(ranges, 6, 9)
    assert info == {"kind": "lhs", "samples": 6,
                    "ranges": {AIRCRAFT: [1, 8], AVAILABILITY: [0.5, 0.95]}}


def test_lhs_int_ranges_give_ints_and_float_ranges_floats(tutorial):
    points = latin_hypercube({AIRCRAFT: (1, 8), AVAILABILITY: (0.5, 0.95), "m": (1, 2.0)},
                             30, root=0)
    for p in points:
        assert type(p[AIRCRAFT]) is int and 1 <= p[AIRCRAFT] <= 8
        assert type(p[AVAILABILITY]) is float and 0.5 <= p[AVAILABILITY] <= 0.95
        assert type(p["m"]) is float
    valid = [{k: p[k] for k in (AIRCRAFT, AVAILABILITY)} for p in points]
    assert len(check_points([tutorial[0]], tutorial[1], valid, "--lhs")) == 30


def test_lhs_refuses_zero_samples():
    with pytest.raises(EngineError):
        latin_hypercube({"x": (0.0, 1.0)}, 0, root=0)
    assert math.isclose(latin_hypercube({"x": (2.0, 2.0)}, 3, root=0)[0]["x"], 2.0)


# ---- Sobol and Morris -----------------------------------------------------------------------

SOBOL_RANGES = {AIRCRAFT: (0, 12), RATIONALITY: (0.5, 5.0), AVAILABILITY: (0.5, 0.95)}


def test_sobol_points_follow_saltelli_and_round_integers_fairly():
    points, info = sobol_points(SOBOL_RANGES, 64, seed=3)
    d = len(SOBOL_RANGES)
    assert len(points) == 64 * (d + 2)
    assert info == {"kind": "sobol", "n": 64, "second_order": False, "seed": 3,
                    "integers": [AIRCRAFT],
                    "problem": {"num_vars": 3, "names": list(SOBOL_RANGES),
                                "bounds": [[0, 13], [0.5, 5.0], [0.5, 0.95]]}}
    assert json.loads(json.dumps(info)) == info
    assert all(type(p[AIRCRAFT]) is int and 0 <= p[AIRCRAFT] <= 12 for p in points)
    assert {p[AIRCRAFT] for p in points} == set(range(13))
    assert all(0.5 <= p[RATIONALITY] <= 5.0 and 0.5 <= p[AVAILABILITY] <= 0.95
               for p in points)
    # Saltelli blocks: A, then A with column j from B (j = 0..d-1), then B
    floats = [RATIONALITY, AVAILABILITY]
    for block in range(64):
        rows = points[block * (d + 2):(block + 1) * (d + 2)]
        a, b = rows[0], rows[-1]
        for j, path in enumerate(SOBOL_RANGES):
            mixed = rows[1 + j]
            assert mixed[path] == b[path]
            assert all(mixed[q] == a[q] for q in floats if q != path)
    matrix = design_matrix(info)
    assert matrix.shape == (len(points), d)
    assert [p[RATIONALITY] for p in points] == matrix[:, 1].tolist()
    assert [p[AIRCRAFT] for p in points] == [min(12, math.floor(x)) for x in matrix[:, 0]]


def test_sobol_second_order_size_and_determinism():
    a, info = sobol_points(SOBOL_RANGES, 16, seed=1, second_order=True)
    assert len(a) == 16 * (2 * 3 + 2) and info["second_order"] is True
    assert sobol_points(SOBOL_RANGES, 16, seed=1, second_order=True)[0] == a
    assert sobol_points(SOBOL_RANGES, 16, seed=2, second_order=True)[0] != a


def test_sobol_info_drives_salib_analysis():
    """The recorded problem and point order are what SALib's analysis expects: y = 4 * x_a
    (a float factor) and nothing of x_b gives S1(a) near 1 and S1(b) near 0."""
    from SALib.analyze import sobol

    points, info = sobol_points({"a": (0.0, 1.0), "b": (0.0, 1.0)}, 512, seed=0)
    y = np.array([4 * p["a"] for p in points])
    s = sobol.analyze(info["problem"], y, calc_second_order=False, seed=0)
    assert s["S1"][0] > 0.95 and abs(s["S1"][1]) < 0.05


@pytest.mark.parametrize(("ranges", "n", "words"), [
    (SOBOL_RANGES, 100, "power of 2"),
    (SOBOL_RANGES, 1, "power of 2"),
    ({"a": (1.0, 1.0)}, 8, "lo < hi"),
    ({"a": (3, 3)}, 8, "lo < hi"),
    ({}, 8, "at least one range"),
])
def test_sobol_refuses_bad_requests(ranges, n, words):
    with pytest.raises(EngineError, match=words):
        sobol_points(ranges, n, seed=0)


def test_morris_trajectories_change_one_factor_per_step():
    ranges = {"a": (0.0, 1.0), "b": (10.0, 20.0), "c": (-1.0, 1.0)}
    points, info = morris_points(ranges, trajectories=6, levels=4, seed=5)
    assert len(points) == 6 * 4
    assert info == {"kind": "morris", "trajectories": 6, "levels": 4, "seed": 5,
                    "integers": [], "problem": {"num_vars": 3, "names": ["a", "b", "c"],
                                                "bounds": [[0.0, 1.0], [10.0, 20.0],
                                                           [-1.0, 1.0]]}}
    for t in range(6):
        rows = points[t * 4:(t + 1) * 4]
        changed = [[k for k in ranges if rows[i][k] != rows[i + 1][k]] for i in range(3)]
        assert all(len(c) == 1 for c in changed)
        assert sorted(c[0] for c in changed) == ["a", "b", "c"]
    levels = {round((p["a"] - 0.0) / 1.0 * 3, 9) for p in points}
    assert levels <= {0.0, 1.0, 2.0, 3.0}
    assert morris_points(ranges, 6, 4, seed=5)[0] == points
    assert morris_points(ranges, 6, 4, seed=6)[0] != points


def test_morris_info_drives_salib_analysis():
    from SALib.analyze import morris

    points, info = morris_points({"a": (0.0, 1.0), "b": (0, 12)}, 10, 4, seed=2)
    assert all(type(p["b"]) is int and 0 <= p["b"] <= 12 for p in points)
    y = np.array([3 * p["a"] for p in points])
    s = morris.analyze(info["problem"], design_matrix(info), y, num_levels=4, seed=0)
    assert s["mu_star"][0] == pytest.approx(3.0) and s["mu_star"][1] == pytest.approx(0.0)


@pytest.mark.parametrize(("trajectories", "levels", "words"), [
    (1, 4, "at least 2 trajectories"), (4, 3, "even"), (4, 0, "even")])
def test_morris_refuses_bad_requests(trajectories, levels, words):
    with pytest.raises(EngineError, match=words):
        morris_points({"a": (0.0, 1.0)}, trajectories, levels, seed=0)


def test_sobol_and_morris_without_salib_say_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "SALib.sample.sobol", None)  # import now fails
    monkeypatch.setitem(sys.modules, "SALib.sample.morris", None)
    with pytest.raises(EngineError, match=r"pip install 'wargame-engine\[analysis\]'"):
        sobol_points({"a": (0.0, 1.0)}, 8, seed=0)
    with pytest.raises(EngineError, match=r"pip install 'wargame-engine\[analysis\]'"):
        morris_points({"a": (0.0, 1.0)}, 4, 4, seed=0)


def test_sobol_points_over_scenario_and_rules_pass_the_check(tutorial):
    points, _ = make_design("sobol", ranges={AIRCRAFT: (1, 8), RATIONALITY: (0.5, 5.0)},
                            samples=4, seed=0)
    cells = check_points([tutorial[0]], tutorial[1], points, "--sobol")
    assert len(cells) == 16
    s, r = apply_point(*tutorial, cells[0].values)
    assert s.blue.isr["mq9"].aircraft == points[0][AIRCRAFT]
    assert r.red_model.rationality == points[0][RATIONALITY]


# ---- make_design ----------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "kwargs", "words"), [
    ("lhs", {"ranges": {AIRCRAFT: (1, 8)}}, "--samples"),
    ("lhs", {"samples": 3}, "ranges"),
    ("lhs", {"ranges": {AIRCRAFT: (1, 8)}, "samples": 3, "vary": {AIRCRAFT: [1]}},
     "--vary cannot be combined with --lhs"),
    ("grid", {"vary": {AIRCRAFT: [1]}, "ranges": {AIRCRAFT: (1, 8)}}, "cannot be combined"),
    ("points", {"points": [{AIRCRAFT: 1}], "vary": {AIRCRAFT: [1]}}, "cannot be combined"),
    ("sobol", {"ranges": {AIRCRAFT: (1, 8)}}, "--samples"),
    ("morris", {"ranges": {AIRCRAFT: (1, 8)}, "samples": 4, "levels": 5}, "even"),
    ("factorial", {}, "expected grid, lhs, sobol, morris or points"),
])
def test_make_design_refuses_bad_combinations(kind, kwargs, words):
    with pytest.raises(EngineError) as e:
        make_design(kind, **kwargs)
    assert words in str(e.value)


def test_make_design_kinds():
    points, info = make_design("points", points=[{AIRCRAFT: 1}, {AIRCRAFT: 2}])
    assert points == [{AIRCRAFT: 1}, {AIRCRAFT: 2}]
    assert info == {"kind": "points", "paths": [AIRCRAFT], "points": 2}
    ranges = {"a": (0.0, 1.0), "b": (0, 3)}
    assert make_design("sobol", ranges=ranges, samples=8, seed=4) == sobol_points(ranges, 8, 4)
    assert make_design("morris", ranges=ranges, samples=3, levels=6, seed=4) == morris_points(
        ranges, 3, 6, 4)
    assert make_design() == ([{}], {"kind": "grid", "vary": {}})


# ---- explicit design points -----------------------------------------------------------------

def test_points_from_list_of_dicts():
    rows = [{AIRCRAFT: 2, DOMAINS: ("cyber",)}, {AIRCRAFT: np.int32(3), DOMAINS: ["space"]}]
    assert points_from(rows) == [{AIRCRAFT: 2, DOMAINS: ["cyber"]},
                                 {AIRCRAFT: 3, DOMAINS: ["space"]}]


def test_points_from_pandas_and_arrow_and_polars():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({AIRCRAFT: [2, 3], RATIONALITY: [0.5, 1.5], "controllers.red": ["a", "b"],
                       DOMAINS: [["cyber"], ["cyber", "space"]], "flag": [True, False]})
    want = [{AIRCRAFT: 2, RATIONALITY: 0.5, "controllers.red": "a", DOMAINS: ["cyber"],
             "flag": True},
            {AIRCRAFT: 3, RATIONALITY: 1.5, "controllers.red": "b", DOMAINS: ["cyber", "space"],
             "flag": False}]
    got = points_from(df)
    assert got == want and type(got[0][AIRCRAFT]) is int and type(got[0]["flag"]) is bool
    assert points_from(pa.Table.from_pylist(want)) == want
    pl = pytest.importorskip("polars")
    assert points_from(pl.DataFrame(want)) == want


def test_points_from_csv_reads_yaml_cells(tmp_path):
    path = tmp_path / "design.csv"
    path.write_bytes(("\ufeff" + f" {AIRCRAFT} ,{RATIONALITY},{DOMAINS},note\r\n"
                      '4,0.5,"[land_sea_air, cyber]",true\r\n'
                      "\r\n"
                      '0x10,1e3,[space],"two words, quoted"\r\n').encode())
    assert points_from(path) == [
        {AIRCRAFT: 4, RATIONALITY: 0.5, DOMAINS: ["land_sea_air", "cyber"], "note": True},
        {AIRCRAFT: 16, RATIONALITY: 1000.0, DOMAINS: ["space"], "note": "two words, quoted"}]
    assert points_from(str(path)) == points_from(path)


def test_points_from_parquet(tmp_path):
    rows = [{AIRCRAFT: 2, RATIONALITY: 0.5, DOMAINS: ["cyber"]},
            {AIRCRAFT: 5, RATIONALITY: 2.5, DOMAINS: ["land_sea_air", "space"]}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    assert points_from(tmp_path / "d.parquet") == rows


@pytest.mark.parametrize(("text", "words"), [
    ("", ["file is empty"]),
    ("a.b,c.d\n", ["no points"]),
    ("a.b,a.b\n1,2\n", ["column 2 repeats the path 'a.b' of column 1"]),
    ("a.b,\n1,2\n", ["column 2 has no name"]),
    ("a.b,c.d\n1,2\n3,\n", [":3:", "c.d", "empty value", "column 2"]),
    ("a.b,c.d\n1,2\n\n3\n", [":4:", "1 values where the header has 2 columns"]),
    ('a.b\n"[1, 2"\n', [":2:", "a.b", "YAML syntax error"]),
    ("a.b\n[1, 2]\n", [":2:", "a list holding commas needs quotes"]),
    ("a.b\n{x: 1}\n", [":2:", "found dict"]),
    ("a.b\nnull\n", [":2:", "missing value"]),
    ("a.b\n[[1]]\n", [":2:", "a list inside a list"]),
    ("a.b\n.inf\n", [":2:", "not a finite number"]),
    ('a.b\n"unclosed\n', ["CSV syntax error"]),
    ("a.b\n&x [*x, *x]\n", [":2:"]),
])
def test_bad_csv_designs_name_file_line_and_column(tmp_path, text, words):
    path = tmp_path / "design.csv"
    path.write_text(text)
    with pytest.raises(EngineError) as e:
        points_from(path)
    message = str(e.value)
    assert str(path) in message
    for w in words:
        assert w in message, (w, message)


def test_points_from_refuses_files_it_cannot_read(tmp_path):
    with pytest.raises(EngineError, match="No such file"):
        points_from(tmp_path / "missing.csv")
    (tmp_path / "d.xlsx").write_text("a.b\n1\n")
    with pytest.raises(EngineError, match=r"expected a \.csv or \.parquet"):
        points_from(tmp_path / "d.xlsx")
    (tmp_path / "d.parquet").write_text("a.b\n1\n")
    with pytest.raises(EngineError, match="not a readable Parquet file"):
        points_from(tmp_path / "d.parquet")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(EngineError, match=r"is a directory; expected a \.csv or \.parquet"):
        points_from(tmp_path / "dir.csv")
    (tmp_path / "latin1.csv").write_bytes(b"a.b\ncaf\xe9\n")
    with pytest.raises(EngineError, match=r"latin1.csv:2: not UTF-8"):
        points_from(tmp_path / "latin1.csv")


def test_points_from_refuses_bad_tables_and_records():
    pd = pytest.importorskip("pandas")
    with pytest.raises(EngineError, match="repeats the path 'a'"):
        points_from(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(EngineError, match="must be a dotted path"):
        points_from(pd.DataFrame([[1, 2]]))
    with pytest.raises(EngineError, match="row 2: missing value"):
        points_from(pd.DataFrame({"a": [1.0, float("nan")]}))
    with pytest.raises(EngineError, match="row 1: missing value"):
        points_from(pd.DataFrame({"a": pd.array([None, 2], dtype="Int64")}))
    with pytest.raises(EngineError, match="no points"):
        points_from(pd.DataFrame({"a": []}))
    dup = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])
    with pytest.raises(EngineError, match="repeats the path 'a'"):
        points_from(dup)
    with pytest.raises(EngineError, match="row 1: missing value"):
        points_from(pa.table({"a": [None, 1]}))
    with pytest.raises(EngineError, match="no points"):
        points_from([])
    with pytest.raises(EngineError, match=r"point 2.*lacks b"):
        points_from([{"a": 1, "b": 2}, {"a": 1}])
    with pytest.raises(EngineError, match=r"point 1.*missing value"):
        points_from([{"a": None}])
    with pytest.raises(EngineError, match="expected a mapping"):
        points_from([1, 2])
    with pytest.raises(EngineError, match="expected a pandas DataFrame"):
        points_from(42)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list('ab.,"[]{}:&*!#\n\r \t01-e\x00\ufeffé')),
                    max_size=80))
def test_any_csv_text_gives_points_or_an_engine_error(tmp_path, text):
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        points = points_from(path)
    except EngineError:
        return
    assert points and all(isinstance(k, str) and k for p in points for k in p)
    assert json.loads(json.dumps(points)) == points


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=60))
def test_any_bytes_give_points_or_an_engine_error(tmp_path, raw):
    for name in ("h.csv", "h.parquet"):
        (tmp_path / name).write_bytes(raw)
        try:
            points = points_from(tmp_path / name)
        except EngineError:
            continue
        assert points and json.loads(json.dumps(points)) == points
