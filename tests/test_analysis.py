"""engine.analysis: Sobol' and Morris indices of a sweep's measure, checked on functions whose
indices are known (Ishigami, linear models) laid out as sweep results, and its refusals."""

from __future__ import annotations

import math
import re
import sys

import numpy as np
import pyarrow as pa
import pytest

from engine.analysis import morris_indices, point_means, sobol_indices
from engine.errors import EngineError

sobol_sample = pytest.importorskip("SALib.sample.sobol")
morris_sample = pytest.importorskip("SALib.sample.morris")

# Ishigami-Homma (a = 7, b = 0.1) over [-pi, pi]^3: the analytic indices (Sobol' & Levitan 1999)
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(x: np.ndarray) -> np.ndarray:
    return (np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2
            + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0]))


def sweep_table(x: np.ndarray, names: list[str], outcomes: np.ndarray, *,
                measure: str = "red_gains", scenario: str = "s", first_cell: int = 0,
                errors: dict[tuple[int, int], object] | None = None) -> pa.Table:
    """Rows as a sweep stores them: one per (point, replication); outcomes is points x reps;
    factor columns named by the store's rule; ``errors`` puts a failed run (with a misleading
    value) at (point, replication)."""
    points, reps = outcomes.shape
    cols: dict[str, list] = {"cell": [], "replication": [], "scenario": [], measure: [],
                             "error": []}
    for name in names:
        cols[column(name)] = []
    for p in range(points):
        for r in range(reps):
            bad = (errors or {}).get((p, r))
            cols["cell"].append(first_cell + p)
            cols["replication"].append(r)
            cols["scenario"].append(scenario)
            cols[measure].append(outcomes[p, r].item() if bad is None else bad)
            cols["error"].append(None if bad is None else "RuntimeError: boom")
            for k, name in enumerate(names):
                cols[column(name)].append(float(x[p, k]))
    return pa.table(cols)


def column(path: str) -> str:
    """The store's rule: a leading scenario. dropped, other characters outside [A-Za-z0-9_] as _."""
    return re.sub(r"[^A-Za-z0-9_]", "_", path.removeprefix("scenario."))


def problem(names, bounds):
    return {"names": names, "bounds": bounds, "num_vars": len(names)}


# ---- Sobol' ---------------------------------------------------------------------------------

def test_sobol_indices_of_the_ishigami_function():
    p = problem(["x1", "x2", "x3"], [[-math.pi, math.pi]] * 3)
    x = sobol_sample.sample(p, 1024, calc_second_order=True, seed=3)
    table = sweep_table(x, p["names"], ishigami(x)[:, None])
    info = {"kind": "sobol", "problem": p, "n": 1024, "second_order": True}
    got = sobol_indices((table, info), measure="red_gains")
    assert got["names"] == ["x1", "x2", "x3"] and got["points"] == len(x) == 8192
    assert got["S1"] == pytest.approx(ISHIGAMI_S1, abs=0.05)
    assert got["ST"] == pytest.approx(ISHIGAMI_ST, abs=0.05)
    assert np.asarray(got["S2"]).shape == (3, 3)
    assert got["S2"][0][2] == pytest.approx(ISHIGAMI_ST[0] - ISHIGAMI_S1[0], abs=0.1)  # x1.x3
    assert all(c > 0 for c in got["S1_conf"] + got["ST_conf"])
    assert sobol_indices((table, info), measure="red_gains") == got  # seeded bootstrap
    other = sobol_indices((table, info), measure="red_gains", seed=2)
    assert other["S1"] == got["S1"] and other["S1_conf"] != got["S1_conf"]


def _linear_held(x: np.ndarray, reps: int) -> np.ndarray:
    """P(held) = 0.1 + 0.5 x1 + 0.25 x2 (x3 inert), realised as the first round(p reps) of each
    point's replications holding: S1 = (0.8, 0.2, 0) over the unit cube."""
    p = 0.1 + 0.5 * x[:, 0] + 0.25 * x[:, 1]
    return np.arange(reps)[None, :] < np.round(p * reps)[:, None]


def test_sobol_indices_of_p_held_from_replications():
    p = problem(["scenario.blue.isr.mq9.aircraft", "rules.red_model.rationality", "turns.count"],
                [[0, 1]] * 3)
    x = sobol_sample.sample(p, 256, calc_second_order=False, seed=1)
    held = _linear_held(x, 40)
    # a run that raised stores no trustworthy outcome: it must not count as held
    errors = {(k, 0): True for k in range(0, len(x), 3)}
    table = sweep_table(x, p["names"], held, measure="deterrence_held", errors=errors)
    info = {"kind": "sobol", "problem": p, "calc_second_order": False}  # SALib's own name
    got = sobol_indices((table, info))
    assert got["measure"] == "deterrence_held" and "S2" not in got
    assert got["S1"] == pytest.approx([0.8, 0.2, 0.0], abs=0.05)
    assert got["ST"] == pytest.approx([0.8, 0.2, 0.0], abs=0.05)
    assert got["runs"] == held.size - len(errors)
    # 256 x 5 points are also 160 x 8: a design must record which it is (or its n)
    info.pop("calc_second_order")
    assert sobol_indices((table, info))["S1"] != got["S1"]


def test_without_the_record_a_design_is_taken_for_what_its_size_allows():
    p = problem(["a", "b"], [[0, 1], [0, 1]])
    for second in (True, False):  # 16 x 6 or 16 x 4 points: only one of each is possible
        x = sobol_sample.sample(p, 16, calc_second_order=second, seed=1)
        table = sweep_table(x, p["names"], (x[:, 0] + 0.1 * x[:, 1])[:, None])
        got = sobol_indices((table, {"kind": "sobol", "problem": p}), "red_gains")
        assert ("S2" in got) is second and got["S1"][0] > got["S1"][1]


def test_point_means_leave_out_errors_and_missing_values():
    t = pa.table({"cell": [2, 2, 2, 0, 0, 1], "scenario": ["s"] * 6,
                  "deterrence_held": [True, False, True, None, True, False],
                  "error": [None, None, "boom", "boom", None, ""]})
    means, runs = point_means(t, "deterrence_held", [0, 1, 2])
    assert means.tolist() == [1.0, 0.0, 0.5] and runs == 4
    with pytest.raises(EngineError, match=r"no value at design points .*3"):
        point_means(t, "deterrence_held", [0, 3])
    with pytest.raises(EngineError, match=r"not a number"):
        point_means(t, "scenario", [0])


def test_sobol_picks_one_scenario_of_several():
    p = problem(["a", "b"], [[0, 1], [0, 1]])
    x = sobol_sample.sample(p, 128, calc_second_order=False, seed=4)
    first = sweep_table(x, p["names"], (3 * x[:, 0] + 0.1 * x[:, 1])[:, None], scenario="one")
    second = sweep_table(x, p["names"], (0.1 * x[:, 0] + 3 * x[:, 1])[:, None],
                         scenario="two", first_cell=len(x))
    table = pa.concat_tables([first, second])
    info = {"kind": "sobol", "problem": p, "second_order": False}
    with pytest.raises(EngineError, match=r"ran 2 scenarios \(one, two\); name one"):
        sobol_indices((table, info), "red_gains")
    one = sobol_indices((table, info), "red_gains", scenario="one")
    two = sobol_indices((table, info), "red_gains", scenario="two")
    assert one["scenario"] == "one" and one["S1"][0] > 0.9 > one["S1"][1]
    assert two["S1"][1] > 0.9 > two["S1"][0]
    with pytest.raises(EngineError, match=r"no scenario 'three'.*one, two"):
        sobol_indices((table, info), "red_gains", scenario="three")


# ---- Morris ---------------------------------------------------------------------------------

def test_morris_effects_of_a_linear_model_are_exact():
    names = ["scenario.blue.isr.mq9.aircraft", "rules.red_model.rationality", "turns.count"]
    p = problem(names, [[0, 10], [5, 6], [0, 1]])
    x = morris_sample.sample(p, 20, num_levels=4, seed=2)
    y = 3 * x[:, 0] - 2 * x[:, 1] + 0 * x[:, 2]
    table = sweep_table(x, names, y[:, None], measure="blue_losses")
    assert "blue_isr_mq9_aircraft" in table.column_names
    assert "rules_red_model_rationality" in table.column_names
    info = {"kind": "morris", "problem": p, "trajectories": 20, "levels": 4}
    got = morris_indices((table, info), measure="blue_losses")
    with pytest.raises(EngineError, match=r"has 84 points; this sweep has 80"):
        morris_indices((table, {**info, "trajectories": 21}), measure="blue_losses")
    # an effect is the change over a whole range: 3 x 10, -2 x 1, 0
    assert got["mu"] == pytest.approx([30.0, -2.0, 0.0])
    assert got["mu_star"] == pytest.approx([30.0, 2.0, 0.0])
    assert got["sigma"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert got["names"] == names and got["points"] == len(x) == 80


def test_morris_reads_the_older_factor_columns_and_refuses_words():
    p = problem(["blue.isr.mq9.aircraft"], [[0, 4]])
    x = morris_sample.sample(p, 4, num_levels=4, seed=1)
    table = sweep_table(x, p["names"], 2 * x, measure="red_gains")
    old = table.rename_columns(["p:blue.isr.mq9.aircraft" if c == "blue_isr_mq9_aircraft"
                                else c for c in table.column_names])
    info = {"kind": "morris", "problem": p, "levels": 4}
    assert morris_indices((old, info), "red_gains")["mu_star"] == pytest.approx([8.0])
    words = old.set_column(old.column_names.index("p:blue.isr.mq9.aircraft"),
                           "p:blue.isr.mq9.aircraft", pa.array(["many"] * old.num_rows))
    with pytest.raises(EngineError, match=r"is not numeric"):
        morris_indices((words, info), "red_gains")
    with pytest.raises(EngineError, match=r"no column for factor blue.isr.mq9.aircraft"):
        morris_indices((old.drop_columns(["p:blue.isr.mq9.aircraft"]), info), "red_gains")


def test_morris_of_a_design_from_engine_sweeps_design():
    design = pytest.importorskip("engine.sweeps.design")
    if not hasattr(design, "morris_points"):
        pytest.skip("engine.sweeps.design has no morris_points yet")
    ranges = {"blue.isr.mq9.aircraft": (0, 3), "rules.red_model.rationality": (0.5, 2.0)}
    points, info = design.morris_points(ranges, 10, 4, seed=7)
    names = list(ranges)
    x = np.array([[pt[n] for n in names] for pt in points], dtype=float)
    assert set(x[:, 0]) <= {0, 1, 2, 3}  # the integer factor's points are whole aircraft
    y = 2 * x[:, 0] + 4 * x[:, 1]
    table = sweep_table(x, names, y[:, None], measure="red_gains")
    got = morris_indices((table, info), "red_gains")
    # a step is 2 of the 4 levels (2/3 of a range): 2 aircraft (+4) or 1.0 of rationality (+4),
    # so every effect is 4 / (2/3)
    assert got["mu_star"] == pytest.approx([6.0, 6.0]) and got["sigma"] == pytest.approx([0, 0])


# ---- refusals -------------------------------------------------------------------------------

@pytest.fixture
def small():
    p = problem(["a", "b"], [[0, 1], [0, 1]])
    x = sobol_sample.sample(p, 16, calc_second_order=True, seed=1)
    y = (x[:, 0] + x[:, 1] ** 2)[:, None]
    return sweep_table(x, p["names"], y), {"kind": "sobol", "problem": p, "n": 16}


def test_refusals_name_what_is_wrong(small):
    table, info = small
    with pytest.raises(EngineError, match=r"Morris indices need a morris design.* 'sobol'"):
        morris_indices((table, info), "red_gains")
    with pytest.raises(EngineError, match=r"need a sobol design.* 'grid'"):
        sobol_indices((table, {"kind": "grid", "vary": {}}), "red_gains")
    with pytest.raises(EngineError, match=r"no SALib problem"):
        sobol_indices((table, {"kind": "sobol"}), "red_gains")
    with pytest.raises(EngineError, match=r"no column 'blue_gains'; numeric columns: cell, "
                                          "replication, red_gains"):
        sobol_indices((table, info), "blue_gains")
    flat = table.set_column(table.column_names.index("red_gains"), "red_gains",
                            pa.array([1.5] * table.num_rows))
    with pytest.raises(EngineError, match=r"red_gains is 1.5 at every design point"):
        sobol_indices((flat, info), "red_gains")
    cut = table.filter(pa.compute.less(table["cell"], 90))  # an interrupted sweep
    with pytest.raises(EngineError, match=r"has 96 points; this sweep has 90 with runs"):
        sobol_indices((cut, info), "red_gains")
    with pytest.raises(EngineError, match=r"over 2 factors has a multiple of 6 \(with "
                                          r"second-order terms\) or 4 points; this sweep has 91"):
        sobol_indices((table.filter(pa.compute.less(table["cell"], 91)),
                       {"kind": "sobol", "problem": info["problem"]}), "red_gains")
    with pytest.raises(EngineError, match=r"positive integer seed"):
        sobol_indices((table, info), "red_gains", seed=0)
    with pytest.raises(EngineError, match=r"a sweep folder or a"):
        sobol_indices((table.to_pylist(), info), "red_gains")  # type: ignore[arg-type]


def test_without_salib_the_error_says_how_to_install_it(small, monkeypatch):
    monkeypatch.setitem(sys.modules, "SALib.analyze.sobol", None)  # import raises ImportError
    with pytest.raises(EngineError, match=r"need SALib.*wargame-engine\[analysis\]"):
        sobol_indices(small, "red_gains")


def test_a_sweep_folder_without_a_sensitivity_design_is_refused(tmp_path):
    from engine.sweeps.runner import build_spec, execute

    spec = build_spec(["alliance-2023"], replications=2, seed=1)
    execute(spec, backend="inprocess", out=tmp_path / "sweep")
    with pytest.raises(EngineError, match=r"need a sobol design.* 'grid'"):
        sobol_indices(tmp_path / "sweep")
