"""Sweep summaries: Wilson and Newcombe intervals (independent and paired) against published
numbers and an independent implementation, the per-cell accumulators and their horizons, paired
comparisons, the --until-halfwidth rule, and ``wargame sweep summary DIR`` on finished and
interrupted sweeps."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.sweeps.runner
import engine.sweeps.worker
from engine.errors import EngineError
from engine.sweeps.runner import build_spec, execute, load_results, run_seed
from engine.sweeps.summary import (
    HORIZONS,
    Z95,
    CellSummary,
    Mean,
    comparisons,
    halfwidth,
    halfwidths_ok,
    newcombe,
    newcombe_paired,
    next_replications,
    paired_table,
    runs_for_halfwidth,
    summarize_rows,
    wilson,
)

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


# ---- the paired interval --------------------------------------------------------------------

# Newcombe (1998), "Improved confidence intervals for the difference between binomial
# proportions based on paired data", Stat Med 17:2635, the method 10 limits of its worked
# examples: (both, first only, second only, neither) -> (lower, upper), to 4 decimals. One limit
# (0.87367 for 1, 97, 1, 1) is printed truncated, not rounded: it gets 1e-4.
NEWCOMBE_1998_METHOD_10 = [
    ((36, 12, 2, 0), (0.0569, 0.3404)), ((20, 12, 2, 16), (0.0562, 0.3292)),
    ((18, 12, 2, 18), (0.0562, 0.3290)), ((36, 14, 0, 0), (0.1528, 0.4167)),
    ((35, 14, 0, 1), (0.1461, 0.4175)), ((18, 14, 0, 18), (0.1441, 0.3963)),
    ((2, 97, 1, 0), (0.8721, 0.9854)), ((1, 97, 1, 1), (0.8736, 0.9850)),
    ((0, 29, 1, 0), (0.6666, 0.9882)), ((2, 98, 0, 0), (0.9178, 0.9945)),
    ((1, 98, 0, 1), (0.9171, 0.9916)), ((0, 30, 0, 0), (0.8395, 1.0)),
    ((54, 0, 0, 0), (-0.0664, 0.0664)), ((53, 0, 0, 1), (-0.0729, 0.0729)),
    ((30, 0, 0, 24), (-0.0358, 0.0358)), ((29, 0, 0, 25), (-0.0354, 0.0354)),
    ((28, 0, 0, 26), (-0.0352, 0.0352)), ((27, 0, 0, 27), (-0.0351, 0.0351)),
    # Fagerland, Lydersen & Laake (2017), ch. 8, Cavo et al. (2012): -0.0621 (-0.1186 to -0.0046)
    ((59, 6, 16, 80), (-0.1186, -0.0046)),
]


@pytest.mark.parametrize(("table", "limits"), NEWCOMBE_1998_METHOD_10)
def test_newcombe_paired_matches_the_paper(table, limits):
    d, lo, hi = newcombe_paired(*table)
    a, b, c, e = table
    assert d == pytest.approx((b - c) / (a + b + c + e))
    tolerance = 1e-4 if table == (1, 97, 1, 1) else 5e-5
    assert (lo, hi) == pytest.approx(limits, abs=tolerance)


def test_the_paper_needs_the_continuity_corrected_phi():
    # with the plain phi (= 1 here) the interval of 27 concordant pairs each way would be [0, 0]
    assert newcombe_paired(27, 0, 0, 27)[1:] == pytest.approx((-0.0351, 0.0351), abs=5e-5)
    # a table whose n11 n00 - n10 n01 lies in [0, n/2] pairs like independent samples
    assert newcombe_paired(4, 5, 4, 6) == pytest.approx(newcombe(9, 19, 8, 19))  # A = 4 <= 9.5


def _reference_paired(n11, n10, n01, n00):
    """Method 10 again, another way: Wilson limits from scipy, the margins' correlation from the
    pairs themselves (numpy), the continuity correction applied to it."""
    scipy_stats = pytest.importorskip("scipy.stats")
    x = np.repeat([1, 1, 0, 0], [n11, n10, n01, n00])
    y = np.repeat([1, 0, 1, 0], [n11, n10, n01, n00])
    n = x.size
    p1, p2 = x.mean(), y.mean()
    ci1 = scipy_stats.binomtest(int(x.sum()), n).proportion_ci(method="wilson")
    ci2 = scipy_stats.binomtest(int(y.sum()), n).proportion_ci(method="wilson")
    if x.std() == 0 or y.std() == 0:
        phi = 0.0
    else:
        r = np.corrcoef(x, y)[0, 1]
        cc = n / (2 * n * n * x.std() * y.std())  # (n/2) / sqrt(efgh), sqrt(efgh) = n^2 sx sy
        phi = r - cc if r > cc else (0.0 if r >= 0 else r)
    d = p1 - p2
    below = (p1 - ci1.low) ** 2 - 2 * phi * (p1 - ci1.low) * (ci2.high - p2) \
        + (ci2.high - p2) ** 2
    above = (p2 - ci2.low) ** 2 - 2 * phi * (p2 - ci2.low) * (ci1.high - p1) \
        + (ci1.high - p1) ** 2
    return d, d - math.sqrt(max(0, below)), d + math.sqrt(max(0, above))


tables = st.tuples(*[st.integers(0, 60)] * 4).filter(lambda t: sum(t) > 0)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_newcombe_paired_agrees_with_an_independent_implementation(t):
    assert newcombe_paired(*t) == pytest.approx(_reference_paired(*t), abs=1e-9)


@settings(max_examples=500, deadline=None)
@given(tables)
def test_newcombe_paired_is_a_sensible_interval(t):
    n11, n10, n01, n00 = t
    d, lo, hi = newcombe_paired(*t)
    assert -1.0 <= lo <= d <= hi <= 1.0
    assert lo < hi  # never zero width at a finite number of pairs
    # the other way round: the difference and its interval mirrored
    assert newcombe_paired(n11, n01, n10, n00) == pytest.approx((-d, -hi, -lo), abs=1e-12)
    # four times the pairs in the same proportions: a narrower interval
    _, lo4, hi4 = newcombe_paired(*(4 * v for v in t))
    assert hi4 - lo4 < hi - lo
    # positively correlated outcomes (as common random numbers give) narrow the interval
    n = sum(t)
    if n11 * n00 - n10 * n01 > n / 2 and min(n11 + n10, n01 + n00, n11 + n01, n10 + n00) > 0:
        _, ilo, ihi = newcombe(n11 + n10, n, n11 + n01, n)
        assert hi - lo < ihi - ilo


def test_newcombe_paired_degenerate_tables():
    d, lo, hi = newcombe_paired(0, 0, 0, 0)
    assert math.isnan(d) and (lo, hi) == (-1.0, 1.0)
    for t in [(40, 0, 0, 0), (0, 0, 0, 40), (17, 0, 0, 23)]:  # every pair concordant
        d, lo, hi = newcombe_paired(*t)
        assert d == 0.0 and lo < 0.0 < hi
    assert newcombe_paired(0, 40, 0, 0)[0] == 1.0 and newcombe_paired(0, 40, 0, 0)[2] == 1.0
    assert newcombe_paired(0, 0, 40, 0)[:2] == (-1.0, -1.0)
    for bad in [(-1, 0, 0, 0), (1.5, 0, 0, 0), (True, 0, 0, 0)]:
        with pytest.raises(EngineError, match="n11: expected a count"):
            newcombe_paired(*bad)
    assert math.isnan(newcombe(0, 0, 3, 10)[0])


# ---- pairing by replication -----------------------------------------------------------------

def _run(cell, rep, held, error=None, **measures):
    row = {"cell": cell, "replication": rep, "deterrence_held": held, "highest_level": 1,
           "mean_time_to_detect_h": None, "red_gains": 1.0, "blue_losses": 0.0,
           "red_losses": 2.0, "turns_played": 10, "incursions": 0, "incursions_detected": 0,
           "error": error}
    return {**row, **measures}


def _cells_from(outcomes: dict[int, str]) -> dict[int, CellSummary]:
    """Cells from strings of outcomes by replication: H held, F failed, E error, . absent."""
    rows = [_run(c, r, ch == "H", "boom" if ch == "E" else None)
            for c, text in outcomes.items() for r, ch in enumerate(text) if ch != "."]
    return summarize_rows(reversed(rows), [{"index": c} for c in outcomes])


def test_paired_table_uses_only_replications_valid_in_both():
    s = _cells_from({0: "HHFFHE.HFH", 1: "HFHFEHHHFF", 2: "HHFF"})
    # rep: 0 HH, 1 HF, 2 FH, 3 FF, 4 H/E, 5 E/H, 6 ./H, 7 HH, 8 FF, 9 HF
    assert paired_table(s[0], s[1]) == (2, 2, 1, 2)
    assert paired_table(s[1], s[0]) == (2, 1, 2, 2)
    assert paired_table(s[0], s[2]) == (2, 0, 0, 2)  # only the replications both have
    assert (s[0].runs, s[0].errors, s[0].held) == (9, 1, 5)
    assert paired_table(s[0], CellSummary()) == (0, 0, 0, 0)


@settings(max_examples=200, deadline=None)
@given(st.text("HFE.", max_size=40), st.text("HFE.", max_size=40))
def test_paired_table_counts_like_a_loop(a, b):
    s = _cells_from({0: a, 1: b})
    both = [(x, y) for x, y in zip(a, b, strict=False) if x in "HF" and y in "HF"]
    assert paired_table(s[0], s[1]) == tuple(
        sum(1 for x, y in both if (x, y) == pair)
        for pair in [("H", "H"), ("H", "F"), ("F", "H"), ("F", "F")])


def test_a_replication_on_disk_twice_counts_once():
    rows = [_run(0, 0, True), _run(0, 1, False), _run(0, 0, True)]
    s = summarize_rows(rows, [{"index": 0}])[0]
    assert (s.runs, s.held, s.duplicates) == (2, 1, 1)
    more = summarize_rows([_run(0, 2, True), _run(0, 1, False)], [{"index": 0}], into={0: s})
    assert (more[0].runs, more[0].held, more[0].duplicates) == (3, 2, 2)


def _pair_spec():
    return [{"index": 0, "scenario": 0, "values": {"a": 1}},
            {"index": 1, "scenario": 0, "values": {"a": 2}},
            {"index": 2, "scenario": 1, "values": {"a": 1}},
            {"index": 3, "scenario": 1, "values": {"a": 2}}]


def test_with_common_random_numbers_the_paired_interval_can_settle_what_the_other_cannot():
    # 100 replications: the second posture holds in every run the first holds, and in 10 more
    first, second = "H" * 45 + "F" * 55, "H" * 55 + "F" * 45
    sums = _cells_from({0: first, 1: first, 2: second, 3: second})
    ind = comparisons(_pair_spec(), sums, ["base", "new"], paired=False)
    pai = comparisons(_pair_spec(), sums, ["base", "new"], paired=True)
    assert [c["difference"] for c in ind] == pytest.approx([0.1, 0.1])
    assert [c["difference"] for c in pai] == pytest.approx([0.1, 0.1])
    assert ind[0]["low"] < 0 < ind[0]["high"]  # independent samples: could be chance
    assert pai[0]["low"] > 0  # paired: the new posture holds more often
    assert (pai[0]["low"], pai[0]["high"]) == pytest.approx(newcombe_paired(45, 10, 0, 45)[1:])
    assert pai[0]["table"] == (45, 10, 0, 45) and pai[0]["runs"] == 100
    assert (pai[0]["method"], ind[0]["method"], ind[0]["table"]) == (
        "paired", "independent", None)


def test_compare_first_and_all():
    sums = _cells_from({0: "HHFF", 1: "HHHF", 2: "HFFF", 3: "EEEE"})
    first = comparisons(_pair_spec(), sums, ["base", "new"], pairs="first", paired=True)
    # cell 3 has no valid run: its comparison is left out
    assert [(c["cell"], c["versus_cell"], c["scenario"], c["versus"], c["values"])
            for c in first] == [(2, 0, "new", "base", {"a": 1})]
    every = comparisons(_pair_spec(), sums, ["base", "new"], pairs="all", paired=True)
    assert [(c["cell"], c["versus_cell"]) for c in every] == [(1, 0), (2, 0), (2, 1)]
    c21 = every[2]
    assert (c21["scenario"], c21["values"], c21["versus"], c21["versus_values"]) == (
        "new", {"a": 1}, "base", {"a": 2})
    assert c21["table"] == paired_table(sums[2], sums[1]) == (1, 0, 2, 1)
    assert c21["difference"] == pytest.approx(0.25 - 0.75)
    independent = comparisons(_pair_spec(), sums, ["base", "new"], pairs="all")
    assert len(independent) == 3 and independent[0]["difference"] == pytest.approx(0.25)
    with pytest.raises(EngineError, match="--compare: expected one of first, all"):
        comparisons(_pair_spec(), sums, ["base", "new"], pairs="every")
    unpaired = summarize_rows([_row(c, True) for c in range(4)], _pair_spec())
    assert len(comparisons(_pair_spec(), unpaired, ["base", "new"])) == 2
    with pytest.raises(EngineError, match="match runs by replication"):
        comparisons(_pair_spec(), unpaired, ["base", "new"], paired=True)


# ---- --until-halfwidth ----------------------------------------------------------------------

def _held(k, n, errors=0):
    s = CellSummary()
    for r in range(n + errors):
        s.add(_run(0, r, r < k, "boom" if r >= n else None))
    return s


def test_halfwidth_is_half_the_wilson_interval():
    s = _held(30, 100)
    lo, hi = wilson(30, 100)
    assert halfwidth(s) == pytest.approx((hi - lo) / 2)
    assert halfwidth(CellSummary()) == 0.5
    assert halfwidths_ok({0: s}, 0.1) and not halfwidths_ok({0: s}, 0.05)
    assert halfwidths_ok([s, _held(2, 100)], 0.1)
    assert not halfwidths_ok([s, _held(5, 10)], 0.1)
    for bad in (0, 0.5, -0.1, "0.02"):
        with pytest.raises(EngineError, match="--until-halfwidth"):
            halfwidths_ok([s], bad)


def _wilson_half(p, m, z=Z95):
    return z * math.sqrt(p * (1 - p) * m + z * z / 4) / (m + z * z)


@pytest.mark.parametrize("target", [0.005, 0.02, 0.05, 0.1, 0.2])
@pytest.mark.parametrize("share", [0.0, 0.03, 0.2, 0.5, 0.77, 1.0])
def test_runs_for_halfwidth_is_the_fewest_that_suffice(share, target):
    m = runs_for_halfwidth(share, target)
    assert _wilson_half(share, m) <= target + 1e-12
    assert m == 1 or _wilson_half(share, m - 1) > target
    if share == 0.5:  # the closed form at a half: z^2 / (4 t^2) - z^2
        assert m == math.ceil(Z95 ** 2 / (4 * target ** 2) - Z95 ** 2)


def test_next_round_grows_between_a_quarter_and_double_until_narrow_enough():
    wide = {0: _held(20, 40), 1: _held(39, 40)}
    nxt = next_replications(wide, 0.02, 40)
    assert nxt == 80  # P(held) about a half needs ~2,400 runs: at most double per round
    assert next_replications(wide, 0.02, 40) == nxt  # pure
    assert next_replications(wide, 0.02, 40, limit=60) == 60
    assert next_replications(wide, 0.02, 60, limit=60) == 60  # at the limit: stop
    narrow = {0: _held(0, 400), 1: _held(400, 400)}
    assert halfwidths_ok(narrow, 0.02) and next_replications(narrow, 0.02, 400) == 400
    # between a quarter more and double: the runs the Wilson centre's share needs
    half = _held(450, 1000)
    centre = (450 + Z95 ** 2 / 2) / (1000 + Z95 ** 2)
    assert next_replications({0: half}, 0.025, 1000) == runs_for_halfwidth(centre, 0.025) == 1518
    assert next_replications({0: half}, 0.03, 1000) == 1250  # nearly there: a quarter more
    # runs lost to errors are made up for; a cell of only errors doubles
    lossy = _held(450, 1000, errors=100)  # 1,100 runs, 1,000 valid
    assert next_replications({0: lossy}, 0.025, 1100) == math.ceil(1518 * 1.1) == 1670
    assert next_replications({0: _held(0, 0, errors=8)}, 0.05, 8) == 16
    with pytest.raises(EngineError, match="--runs"):
        next_replications(wide, 0.02, 0)


def test_the_rounds_reach_the_target():
    rng = np.random.default_rng(5)
    draws = rng.random((2, 5000)) < np.array([[0.5], [0.9]])
    reps, rounds = 50, 0
    while True:
        cells = {c: _held(int(draws[c, :reps].sum()), reps) for c in (0, 1)}
        nxt = next_replications(cells, 0.02, reps, limit=5000)
        if nxt == reps:
            break
        reps, rounds = nxt, rounds + 1
    assert halfwidths_ok(cells, 0.02) and rounds <= 8
    assert reps <= 2 * runs_for_halfwidth(0.5, 0.02)


# ---- horizons -------------------------------------------------------------------------------

def test_measures_say_what_they_are_averaged_over():
    s = CellSummary()
    s.add(_run(0, 0, True, red_gains=2.0, turns_played=10, incursions=4,
               incursions_detected=1, mean_time_to_detect_h=9.0))
    s.add(_run(0, 1, False, red_gains=6.0, turns_played=2, incursions=2,
               incursions_detected=2, mean_time_to_detect_h=3.0))
    s.add(_run(0, 2, None, "boom"))
    m = {x.key: x for x in s.measures()}
    assert set(m) == set(HORIZONS)
    assert m["red_gains"].value == pytest.approx(4.0)  # per run, over unequal horizons
    assert m["red_gains_per_turn"].value == pytest.approx(8.0 / 12)
    assert m["turns_played"].value == pytest.approx(6.0)
    assert m["detected_share"].value == pytest.approx(3 / 6)
    assert m["detected_share"].over == "3 of 6 incursions"
    # pooled over detected incursions (9 + 3 + 3) / 3, not the mean of the runs' means (6)
    assert m["time_to_detect_h"].value == pytest.approx(5.0)
    assert s.time_to_detect.value == pytest.approx(6.0)
    assert m["time_to_detect_h"].over == "3 detected incursions of 6"
    assert m["held"].value == pytest.approx(0.5) and m["held"].over == "2 valid runs of 3"
    assert "armed attack" in HORIZONS["red_gains"]
    assert "detected incursions only" in HORIZONS["time_to_detect_h"]
    empty = {x.key: x.value for x in CellSummary().measures()}
    assert all(v is None for v in empty.values())


def test_per_turn_rates_need_the_turns_of_the_same_runs():
    s = CellSummary()
    s.add(_run(0, 0, True, red_gains=2.0, turns_played=None))
    m = {x.key: x.value for x in s.measures()}
    assert m["red_gains"] == 2.0 and m["red_gains_per_turn"] is None


# ---- the command ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_postures(tmp_path_factory):
    """alliance-2023 vs alliance-2024 at two MQ-9 counts; replication 3 of every cell raises."""
    out = tmp_path_factory.mktemp("summary") / "sweep"
    spec = build_spec(["alliance-2023", "alliance-2024"], vary={AIRCRAFT: [2, 8]},
                      replications=12, seed=4)
    real, third = engine.sweeps.worker.run, run_seed(spec, 0, 3)  # common random numbers

    def flaky(s, r, seed, *args, **kwargs):
        if seed == third:
            raise RuntimeError("boom")
        return real(s, r, seed, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.sweeps.worker, "run", flaky)
        mp.setattr(engine.sweeps.runner, "batch_size", lambda *a, **k: 8)
        execute(spec, backend="inprocess", out=out, checkpoint_rows=8)
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
    rows = {r[0]: r for r in _table_rows(res.stdout) if r[0].isdigit() and len(r) == 13}
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


def _paired_tables(folder: Path) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """(both held, this only, versus only, neither) of each (cell, cell), computed here."""
    t = load_results(folder).to_pylist()
    held = {(r["cell"], r["replication"]): r["deterrence_held"] for r in t if not r["error"]}
    out = {}
    for this, versus in [(2, 0), (3, 1)]:
        reps = [i for c, i in held if c == this and (versus, i) in held]
        pairs = [(held[this, i], held[versus, i]) for i in reps]
        out[this, versus] = tuple(pairs.count(p) for p in
                                  [(True, True), (True, False), (False, True), (False, False)])
    return out


def test_summary_with_several_scenarios_compares_postures_paired(two_postures):
    res = run_wargame("sweep", "summary", two_postures)
    assert "Differences in P(held): paired by replication" in res.stdout
    # cell, values, posture, versus cell, versus, difference, 95% CI, pairs
    lines = [r for r in _table_rows(res.stdout) if len(r) == 8 and r[0].isdigit()]
    assert [(r[0], r[3]) for r in lines] == [("2", "0"), ("3", "1")]
    tables = _paired_tables(two_postures)
    for row, pair in zip(lines, [(2, 0), (3, 1)], strict=True):
        d, lo, hi = newcombe_paired(*tables[pair])
        assert (row[2], row[4]) == ("alliance-2024", "alliance-2023")
        assert row[5] == f"{d:+.3f}" and row[6] == f"{lo:+.3f} to {hi:+.3f}"
        assert row[7] == str(sum(tables[pair])) == "11"  # replication 3 raised in every cell
    assert "over detected incursions only" in res.stdout


def test_summary_of_an_interrupted_sweep_says_how_many_runs_are_on_disk(two_postures,
                                                                         tmp_path):
    part = tmp_path / "part"
    shutil.copytree(two_postures, part)
    chunks = sorted((part / "runs").glob("part-*.parquet"))
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


def test_rows_read_through_pandas_count_their_missing_error_as_no_error() -> None:
    """pandas turns a null error into NaN; a run without an error must still count as run."""
    import pandas as pd

    rows = pd.DataFrame({"cell": [0, 0, 0], "replication": [0, 1, 2],
                         "deterrence_held": [True, False, True],
                         "error": [None, None, "ValueError: boom"]}).to_dict("records")
    s = summarize_rows(rows, [{"index": 0, "scenario": 0, "values": {}}])[0]
    assert (s.runs, s.errors, s.held, s.valid) == (3, 1, 1, 2)  # an errored run never holds
