"""Sweep summaries: Wilson and Newcombe intervals against published numbers, the per-cell
accumulators, and ``wargame sweep summary DIR`` on finished and interrupted sweeps."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import engine.sweeps.runner
from engine.sweeps.runner import build_spec, execute, load_results
from engine.sweeps.summary import CellSummary, Mean, comparisons, newcombe, summarize_rows, wilson

WARGAME = Path(sys.executable).parent / "wargame"
AIRCRAFT = "blue.isr.mq9.aircraft"


def run_wargame(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([str(WARGAME), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120, check=False)


# ---- intervals ------------------------------------------------------------------------------

@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (8, 10, 0.4902, 0.9433),
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998a), the single-proportion example
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_published_values(k, n, lo, hi):
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=5e-5)
    assert 0.0 <= got[0] <= k / n <= got[1] <= 1.0


def test_wilson_without_runs_is_uninformative():
    assert wilson(0, 0) == (0.0, 1.0)


def test_wilson_always_contains_the_share_and_is_exact_at_the_ends():
    for n in range(1, 300):
        assert wilson(0, n)[0] == 0.0 and wilson(n, n)[1] == 1.0
        for k in range(n + 1):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0, (k, n)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2", "lo", "hi"), [
    (56, 70, 48, 80, 0.0524, 0.3339),  # Newcombe (1998b), example (a), method 10
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
])
def test_newcombe_method_10_matches_the_paper(k1, n1, k2, n2, lo, hi):
    d, low, high = newcombe(k1, n1, k2, n2)
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert (low, high) == pytest.approx((lo, hi), abs=5e-5)


def test_newcombe_example_a_difference():
    assert newcombe(56, 70, 48, 80)[0] == pytest.approx(0.2)
    d, lo, hi = newcombe(48, 80, 56, 70)  # the same comparison the other way round
    assert (d, lo, hi) == pytest.approx((-0.2, -0.3339, -0.0524), abs=5e-5)


# ---- accumulators ---------------------------------------------------------------------------

def _row(cell, held, level=1, detect=None, error=None):
    return {"cell": cell, "deterrence_held": held, "highest_level": level,
            "mean_time_to_detect_h": detect, "red_gains": 1.0, "blue_losses": 0.0,
            "red_losses": 2.0, "error": error}


def test_mean_ignores_missing_values():
    m = Mean()
    assert m.value is None
    for v in (1, None, float("nan"), 3.0):
        m.add(v)
    assert (m.count, m.value) == (2, 2.0)


def test_cell_summary_counts_errors_apart():
    s = CellSummary()
    for row in [_row(0, True, 2, 4.0), _row(0, False, 5, None), _row(0, True, 1, 8.0),
                _row(0, None, None, None, "RuntimeError: boom")]:
        s.add(row)
    assert (s.runs, s.errors, s.valid, s.held) == (4, 1, 3, 2)
    share, lo, hi = s.held_share()
    assert share == pytest.approx(2 / 3) and (lo, hi) == wilson(2, 3)
    assert s.highest_level.value == pytest.approx(8 / 3)
    assert s.time_to_detect.value == pytest.approx(6.0)
    empty = CellSummary()
    empty.add(_row(0, None, error="boom"))
    share, lo, hi = empty.held_share()
    assert math.isnan(share) and (lo, hi) == (0.0, 1.0)


def test_summaries_merge_chunk_by_chunk():
    cells_spec = [{"index": 0, "scenario": 0, "values": {}},
                  {"index": 1, "scenario": 0, "values": {}}]
    rows = [_row(i % 2, i % 3 == 0, i % 5, float(i)) for i in range(40)]
    whole = summarize_rows(rows, cells_spec)
    parts = [summarize_rows(rows[k:k + 7], cells_spec) for k in range(0, 40, 7)]
    for c in (0, 1):
        assert whole[c].runs == sum(p[c].runs for p in parts) == 20
        assert whole[c].held == sum(p[c].held for p in parts)
    # an iterator is consumed once, like the chunk stream of `wargame sweep summary`
    assert summarize_rows(iter(rows), cells_spec)[1].held == whole[1].held


def test_comparisons_each_scenario_against_the_first_per_point():
    cells_spec = [{"index": 0, "scenario": 0, "values": {"a": 1}},
                  {"index": 1, "scenario": 0, "values": {"a": 2}},
                  {"index": 2, "scenario": 1, "values": {"a": 1}},
                  {"index": 3, "scenario": 1, "values": {"a": 2}}]
    sums = {i: CellSummary() for i in range(4)}
    for i, (held, n) in enumerate([(48, 80), (10, 10), (56, 70), (0, 10)]):
        for k in range(n):
            sums[i].add(_row(i, k < held))
    out = comparisons(cells_spec, sums, ["base", "new"])
    assert [(c["values"], c["scenario"], c["versus"]) for c in out] == [
        ({"a": 1}, "new", "base"), ({"a": 2}, "new", "base")]
    assert (out[0]["difference"], out[0]["low"], out[0]["high"]) == pytest.approx(
        (0.2, 0.0524, 0.3339), abs=5e-5)
    assert out[1]["difference"] == pytest.approx(-1.0)
    assert comparisons(cells_spec[:2], sums, ["base"]) == []


# ---- the command ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_postures(tmp_path_factory):
    """alliance-2023 vs alliance-2024 at two MQ-9 counts; replication 3 of every cell raises."""
    out = tmp_path_factory.mktemp("summary") / "sweep"
    spec = build_spec(["alliance-2023", "alliance-2024"], vary={AIRCRAFT: [2, 8]},
                      replications=12, seed=4)
    real = engine.sweeps.runner.run

    def flaky(s, r, seed, *args, **kwargs):
        if seed.spawn_key == (3,):
            raise RuntimeError("boom")
        return real(s, r, seed, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.sweeps.runner, "run", flaky)
        mp.setattr(engine.sweeps.runner, "batch_size", lambda *a, **k: 8)
        mp.setenv("WARGAME_SWEEP_CHUNK_ROWS", "8")
        execute(spec, backend="inprocess", out=out)
    return out


def _table_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("│ ").split("│")]
            for line in text.splitlines() if line.count("│") >= 3]


def _expected_cells(folder: Path) -> dict[int, tuple[int, int, int]]:
    t = load_results(folder).to_pylist()
    out = {}
    for c in {r["cell"] for r in t}:
        rows = [r for r in t if r["cell"] == c]
        ok = [r for r in rows if r["error"] is None]
        out[c] = (len(rows), sum(r["deterrence_held"] for r in ok), len(rows) - len(ok))
    return out


def test_summary_prints_each_cell_with_share_and_wilson_interval(two_postures):
    res = run_wargame("sweep", "summary", two_postures)
    assert res.returncode == 0, res.stderr
    assert "P(held)" in res.stdout and "95% CI" in res.stdout
    rows = {r[0]: r for r in _table_rows(res.stdout) if r[0].isdigit()}
    ids = ["alliance-2023", "alliance-2023", "alliance-2024", "alliance-2024"]
    for c, (runs, held, errors) in _expected_cells(two_postures).items():
        valid = runs - errors
        lo, hi = wilson(held, valid)
        row = rows[str(c)]
        assert row[1] == ids[c]
        assert row[3] == str(runs) == "12" and row[-1] == str(errors) == "1"
        assert row[4] == f"{held / valid:.3f}"
        assert row[5] == f"{lo:.3f}-{hi:.3f}"
    assert "runs on disk" not in res.stdout


def test_summary_with_several_scenarios_compares_postures(two_postures):
    res = run_wargame("sweep", "summary", two_postures)
    assert "Posture comparison" in res.stdout
    expected = _expected_cells(two_postures)
    lines = [r for r in _table_rows(res.stdout) if "alliance-2024" in r and "versus" not in r
             and len(r) == 5]
    assert len(lines) == 2
    for row, (base, other) in zip(lines, [(0, 2), (1, 3)], strict=True):
        (n1, k1, e1), (n0, k0, e0) = expected[other], expected[base]
        d, lo, hi = newcombe(k1, n1 - e1, k0, n0 - e0)
        assert row[1:3] == ["alliance-2024", "alliance-2023"]
        assert row[3] == f"{d:+.3f}" and row[4] == f"{lo:+.3f} to {hi:+.3f}"


def test_summary_of_an_interrupted_sweep_says_how_many_runs_are_on_disk(two_postures,
                                                                         tmp_path):
    part = tmp_path / "part"
    shutil.copytree(two_postures, part)
    chunks = sorted((part / "chunks").glob("part-*.parquet"))
    assert len(chunks) >= 3
    chunks[1].unlink()
    on_disk = load_results(part).num_rows
    total = 48
    assert 0 < on_disk < total
    res = run_wargame("sweep", "summary", part)
    assert res.returncode == 0, res.stderr
    assert f"{on_disk} of {total} runs on disk" in res.stdout
    assert "--resume" in res.stdout


def test_summary_of_a_directory_that_is_not_a_sweep(tmp_path):
    res = run_wargame("sweep", "summary", tmp_path)
    assert res.returncode == 2
    assert "not a sweep directory" in res.stderr and "Traceback" not in res.stderr
