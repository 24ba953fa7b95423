"""Pure summaries of sweep results: shares with Wilson intervals, differences between cells with
Newcombe's intervals (paired when the cells share their seeds run by run), measures labelled with
the horizon they are averaged over, and the stopping rule of ``--until-halfwidth``.

Accumulators are filled chunk by chunk, so a summary of millions of runs needs no more memory
than one chunk plus one byte per run (each cell's outcome by replication, kept for pairing)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np

from engine.errors import EngineError, Problem
from engine.sweeps.errors import bad

Z95 = 1.959963984540054

# A cell's outcome by replication, one byte each: pairing needs no dict per run.
ABSENT, FAILED, HELD, ERRORED = 0, 1, 2, 3



def _bad(field_name: str, message: str) -> EngineError:
    return bad(field_name, message, "summary")


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial share (Wilson 1927)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at 0 or n successes the bound is exactly 0 or 1; rounding must not exclude the share
    return (0.0 if successes == 0 else max(0.0, centre - half),
            1.0 if successes == n else min(1.0, centre + half))


def newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """Difference p1 - p2 of two independent shares with Newcombe's hybrid score 95% interval
    (Newcombe 1998, Stat Med 17:873, method 10); (nan, -1, 1) when a sample is empty."""
    if n1 == 0 or n2 == 0:
        return (float("nan"), -1.0, 1.0)
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def newcombe_paired(n11: int, n10: int, n01: int, n00: int,
                    z: float = Z95) -> tuple[float, float, float]:
    """Difference p1 - p2 of two shares measured on the same pairs, with Newcombe's score 95%
    interval for paired data (Newcombe 1998, Stat Med 17:2635, method 10); (nan, -1, 1) without
    pairs.

    n11 pairs succeed in both, n10 in the first only, n01 in the second only, n00 in neither;
    p1 = (n11 + n10) / n, p2 = (n11 + n01) / n, so the difference is (n10 - n01) / n. The Wilson
    intervals (l1, u1) and (l2, u2) of the two margins are combined as for independent shares,
    less the covariance the pairing brings: with the margins' correlation phi,

        low  = d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        high = d + sqrt((p2 - l2)^2 - 2 phi (p2 - l2)(u1 - p1) + (u1 - p1)^2)

    where phi = C / sqrt(e f g h) over the margins e, f, g, h (0 if any is 0), and C, the
    paper's continuity-corrected A = n11 n00 - n10 n01, is A - n/2 if A > n/2, 0 if
    0 <= A <= n/2, and A if A < 0."""
    counts = {"n11": n11, "n10": n10, "n01": n01, "n00": n00}
    for name, v in counts.items():
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise _bad(name, f"expected a count (an integer >= 0), found {v!r}")
    n = n11 + n10 + n01 + n00
    if n == 0:
        return (float("nan"), -1.0, 1.0)
    p1, p2 = (n11 + n10) / n, (n11 + n01) / n
    l1, u1 = wilson(n11 + n10, n, z)
    l2, u2 = wilson(n11 + n01, n, z)
    phi = _phi(n11, n10, n01, n00)
    d = (n10 - n01) / n
    # |phi| <= 1 keeps both radicands >= 0 in exact arithmetic; max() absorbs rounding
    below = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                          + (u2 - p2) ** 2))
    above = math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)
                          + (u1 - p1) ** 2))
    return d, max(-1.0, d - below), min(1.0, d + above)


def _phi(n11: int, n10: int, n01: int, n00: int) -> float:
    """Newcombe's (1998) continuity-corrected correlation of a paired table's two margins."""
    n = n11 + n10 + n01 + n00
    margins = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
    if margins == 0:
        return 0.0
    a = n11 * n00 - n10 * n01
    corrected = a - n / 2 if a > n / 2 else (0.0 if a >= 0 else a)
    return corrected / math.sqrt(margins)


# ---- per-cell accumulators ----------------------------------------------------------------

@dataclass
class Mean:
    """A running mean that ignores missing values."""

    total: float = 0.0
    count: int = 0

    def add(self, value: Any) -> None:
        if _present(value):
            self.total += float(value)
            self.count += 1

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Measure:
    """One summary measure of a cell, with what it is averaged over (its horizon) in words."""

    key: str
    heading: str
    value: float | None
    over: str


# What each measure of CellSummary.measures() is averaged over, for a table's legend. A run ends a
# set number of turns after Red's armed attack (rules.end.turns_after_armed_attack), so a run's
# totals cover the turns it played: a failed run may play fewer.
HORIZONS: dict[str, str] = {
    "held": "share of valid runs in which Red never ordered an armed attack (runs that raised "
            "an error excluded)",
    "highest_level": "mean over valid runs of the highest escalation level reached",
    "turns_played": "mean over valid runs of the turns played (a run ends a set number of "
                    "turns after an armed attack, so failed runs may play fewer)",
    "red_gains": "Red's gains per run, over the turns each run played (runs end soon after an "
                 "armed attack)",
    "red_gains_per_turn": "Red's gains per turn played: all runs' gains / all turns played "
                          "(a common horizon: one turn)",
    "blue_losses": "Blue's losses per run, over the turns each run played",
    "blue_losses_per_turn": "Blue's losses per turn played: all losses / all turns played",
    "red_losses": "Red's losses per run, over the turns each run played",
    "red_losses_per_turn": "Red's losses per turn played: all losses / all turns played",
    "detected_share": "incursions detected / incursions, pooled over valid runs (every "
                      "incursion counts, detected or not)",
    "time_to_detect_h": "hours to detect, over detected incursions only (an undetected "
                        "incursion has no time to detect); pooled, each incursion weighs the "
                        "same",
}


@dataclass
class CellSummary:
    """Measures of one design cell, accumulated run by run, and its outcome by replication."""

    runs: int = 0
    errors: int = 0
    held: int = 0
    duplicates: int = 0  # rows of a replication already counted (a sweep written twice)
    highest_level: Mean = field(default_factory=Mean)
    time_to_detect: Mean = field(default_factory=Mean)  # of per-run means, runs detecting any
    red_gains: Mean = field(default_factory=Mean)
    blue_losses: Mean = field(default_factory=Mean)
    red_losses: Mean = field(default_factory=Mean)
    turns_played: Mean = field(default_factory=Mean)
    incursions: Mean = field(default_factory=Mean)
    incursions_detected: Mean = field(default_factory=Mean)
    detect_hours: float = 0.0  # summed over detected incursions
    outcomes: bytearray = field(default_factory=bytearray)  # ABSENT/FAILED/HELD/ERRORED by rep

    def add(self, row: Mapping[str, Any]) -> None:
        """Count one run's row; a replication seen before is counted once."""
        rep = row.get("replication")
        if rep is not None and self._seen(int(rep)):
            self.duplicates += 1
            return
        self.runs += 1
        if _present(row.get("error")):  # pandas records hold NaN, not None, for no error
            self.errors += 1
            self._record(rep, ERRORED)
            return
        held = bool(row["deterrence_held"])
        self.held += held
        self._record(rep, HELD if held else FAILED)
        # a row may hold only the columns a caller needs (P(held) needs none of these)
        self.highest_level.add(row.get("highest_level"))
        self.time_to_detect.add(row.get("mean_time_to_detect_h"))
        self.red_gains.add(row.get("red_gains"))
        self.blue_losses.add(row.get("blue_losses"))
        self.red_losses.add(row.get("red_losses"))
        self.turns_played.add(row.get("turns_played"))
        found, mean_h = row.get("incursions_detected"), row.get("mean_time_to_detect_h")
        self.incursions.add(row.get("incursions"))
        self.incursions_detected.add(found)
        if mean_h is not None and _present(found) and found and _present(mean_h):
            self.detect_hours += float(mean_h) * found  # the run's mean times its count

    def _seen(self, rep: int) -> bool:
        return rep < len(self.outcomes) and self.outcomes[rep] != ABSENT

    def _record(self, rep: Any, code: int) -> None:
        if rep is None:
            return  # rows without a replication cannot be paired
        rep = int(rep)
        if rep >= len(self.outcomes):
            self.outcomes.extend(bytes(rep + 1 - len(self.outcomes)))
        self.outcomes[rep] = code

    @property
    def valid(self) -> int:
        return self.runs - self.errors

    def held_share(self) -> tuple[float, float, float]:
        """P(deterrence holds) and its Wilson 95% interval."""
        n = self.valid
        lo, hi = wilson(self.held, n)
        return (self.held / n if n else float("nan"), lo, hi)

    def measures(self) -> list[Measure]:
        """Every measure with its horizon, counts included (see HORIZONS)."""
        n, turns = self.valid, self.turns_played
        found, seen = self.incursions_detected.total, self.incursions.total
        per_turn = self._per_turn
        return [
            Measure("held", "P(held)", self.held_share()[0] if n else None,
                    f"{n} valid runs of {self.runs}"),
            Measure("highest_level", "highest level", self.highest_level.value,
                    f"{self.highest_level.count} runs"),
            Measure("turns_played", "turns played", turns.value, f"{turns.count} runs"),
            Measure("red_gains", "Red gains / run", self.red_gains.value,
                    f"{self.red_gains.count} runs, over the turns each played"),
            Measure("red_gains_per_turn", "Red gains / turn", per_turn(self.red_gains),
                    f"{turns.total:g} turns played"),
            Measure("blue_losses", "Blue losses / run", self.blue_losses.value,
                    f"{self.blue_losses.count} runs, over the turns each played"),
            Measure("blue_losses_per_turn", "Blue losses / turn", per_turn(self.blue_losses),
                    f"{turns.total:g} turns played"),
            Measure("red_losses", "Red losses / run", self.red_losses.value,
                    f"{self.red_losses.count} runs, over the turns each played"),
            Measure("red_losses_per_turn", "Red losses / turn", per_turn(self.red_losses),
                    f"{turns.total:g} turns played"),
            Measure("detected_share", "incursions detected", found / seen if seen else None,
                    f"{found:g} of {seen:g} incursions"),
            Measure("time_to_detect_h", "detect h", self.detect_hours / found if found else None,
                    f"{found:g} detected incursions of {seen:g}"),
        ]

    def _per_turn(self, total: Mean) -> float | None:
        """A run total per turn played; both sums cover the same valid runs."""
        turns = self.turns_played
        return total.total / turns.total if turns.total and turns.count == total.count else None


def summarize_rows(rows: Iterable[Mapping[str, Any]], cells_spec: list[dict[str, Any]],
                   into: dict[int, CellSummary] | None = None) -> dict[int, CellSummary]:
    """Accumulate rows (any iterable of dicts, e.g. chunk by chunk) into per-cell summaries;
    ``into`` continues earlier summaries (a new round of replications, more chunks)."""
    out = into if into is not None else {}
    for c in cells_spec:
        out.setdefault(c["index"], CellSummary())
    for row in rows:
        out[row["cell"]].add(row)
    return out


# ---- differences between cells --------------------------------------------------------------

def paired_table(this: CellSummary, versus: CellSummary) -> tuple[int, int, int, int]:
    """(both held, this only, versus only, neither) over the replications valid in both."""
    m = min(len(this.outcomes), len(versus.outcomes))
    a = np.frombuffer(this.outcomes, dtype=np.uint8, count=m)
    b = np.frombuffer(versus.outcomes, dtype=np.uint8, count=m)
    both = ((a == HELD) | (a == FAILED)) & ((b == HELD) | (b == FAILED))
    ah, bh = (a == HELD) & both, (b == HELD) & both
    n11 = int(np.count_nonzero(ah & bh))
    n10 = int(np.count_nonzero(ah)) - n11
    n01 = int(np.count_nonzero(bh)) - n11
    return n11, n10, n01, int(np.count_nonzero(both)) - n11 - n10 - n01


class Comparison(TypedDict):
    """P(held) of one cell minus that of another, with a 95% interval."""

    cell: int
    scenario: str
    values: dict[str, Any]
    versus_cell: int
    versus: str
    versus_values: dict[str, Any]
    difference: float
    low: float
    high: float
    method: str  # "paired" (by replication) or "independent"
    runs: int  # pairs (paired) or this cell's valid runs (independent)
    versus_runs: int
    table: tuple[int, int, int, int] | None  # paired: both held, this only, versus only, neither


PAIRS = ("first", "all")


def comparisons(cells_spec: list[dict[str, Any]], summaries: Mapping[int, CellSummary],
                scenario_ids: list[str], pairs: str = "first",
                paired: bool = False) -> list[Comparison]:
    """Differences in P(deterrence holds) between cells, later cell minus earlier.

    pairs="first": at every design point, each later scenario against the first scenario.
    pairs="all": every pair of cells (cell i against cell j < i), whatever their scenarios and
    design points, labelled with both. paired=True pairs runs by replication (only replications
    valid in both cells) and uses newcombe_paired; right only when cells share their seeds run by
    run (common random numbers). paired=False treats the cells as independent samples
    (newcombe). A pair with no usable runs is left out."""
    if pairs not in PAIRS:
        raise _bad("--compare", f"expected one of {', '.join(PAIRS)}, found '{pairs}'")
    by_index = {c["index"]: c for c in cells_spec}
    out = []
    for i, j in _pairs(cells_spec) if pairs == "first" else _all_pairs(cells_spec):
        this, versus = summaries[i], summaries[j]
        if paired:
            if (this.valid and not this.outcomes) or (versus.valid and not versus.outcomes):
                raise _bad("replication", "paired comparisons match runs by replication; the "
                                          "rows summarised had no replication column")
            table = paired_table(this, versus)
            runs = versus_runs = sum(table)
            d, lo, hi = newcombe_paired(*table)
        else:
            table, runs, versus_runs = None, this.valid, versus.valid
            d, lo, hi = newcombe(this.held, runs, versus.held, versus_runs)
        if not runs or not versus_runs:
            continue
        ci, cj = by_index[i], by_index[j]
        out.append(Comparison(
            cell=i, scenario=scenario_ids[ci["scenario"]], values=ci["values"],
            versus_cell=j, versus=scenario_ids[cj["scenario"]], versus_values=cj["values"],
            difference=d, low=lo, high=hi, method="paired" if paired else "independent",
            runs=runs, versus_runs=versus_runs, table=table))
    return out


def _pairs(cells_spec: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(cell, cell of the first scenario at the same design point), point by point."""
    by_point: dict[str, dict[int, int]] = {}
    for c in cells_spec:
        key = json.dumps(c["values"], sort_keys=True)
        by_point.setdefault(key, {})[c["scenario"]] = c["index"]
    return [(idx, members[0]) for members in by_point.values() if 0 in members
            for si, idx in sorted(members.items()) if si != 0]


def _all_pairs(cells_spec: list[dict[str, Any]]) -> list[tuple[int, int]]:
    order = sorted(c["index"] for c in cells_spec)
    return [(i, j) for k, i in enumerate(order) for j in order[:k]]


# ---- --until-halfwidth ----------------------------------------------------------------------

def halfwidth(summary: CellSummary) -> float:
    """Half the width of the cell's Wilson 95% interval for P(held); 0.5 without valid runs."""
    _, lo, hi = summary.held_share()
    return (hi - lo) / 2


def check_target(target: float) -> None:
    """Refuse a --until-halfwidth target outside (0, 0.5): no number of runs reaches 0, and
    every interval is already within 0.5. Called before any run, so a bad target loses nothing."""
    if not (isinstance(target, int | float) and 0 < target < 0.5):
        raise EngineError("", (Problem(
            "sweep", f"expected a half-width between 0 and 0.5 (e.g. 0.02), found {target!r}",
            field="--until-halfwidth"),))


def halfwidths_ok(summaries: Mapping[int, CellSummary] | Iterable[CellSummary],
                  target: float) -> bool:
    """Whether every cell's Wilson 95% interval for P(held) is at most target either side."""
    check_target(target)
    cells = summaries.values() if isinstance(summaries, Mapping) else summaries
    return all(halfwidth(s) <= target for s in cells)


def runs_for_halfwidth(share: float, target: float, z: float = Z95) -> int:
    """The fewest runs whose Wilson interval is at most target either side when the share is
    ``share``: the larger root of z^2 (p q m + z^2/4) = t^2 (m + z^2)^2, rounded up."""
    check_target(target)
    pq, t2, z2 = share * (1 - share), target * target, z * z
    b = 2 * t2 * z2 - z2 * pq
    c = t2 * z2 * z2 - z2 * z2 / 4
    root = (-b + math.sqrt(max(0.0, b * b - 4 * t2 * c))) / (2 * t2)
    return max(1, math.ceil(root - 1e-9))


def next_replications(summaries: Mapping[int, CellSummary] | Iterable[CellSummary],
                      target: float, current: int, limit: int | None = None) -> int:
    """Replications per cell for the next round of --until-halfwidth: ``current`` when every
    cell is narrow enough (or ``limit`` is reached), else the runs the widest cell needs.

    A cell plans with the centre of its Wilson interval, (k + z^2/2) / (n + z^2): its share,
    drawn toward 1/2 while runs are few, so 0 of 10 does not promise a narrow interval; its
    runs scale by runs/valid to make up for errors. The next round checks the real intervals,
    so the plan need not be conservative; a round adds at least a quarter and at most doubles,
    so a noisy early estimate neither crawls nor overshoots far. Pure: the same results give
    the same rounds."""
    check_target(target)
    if current < 1:
        raise _bad("--runs", f"expected at least one replication, found {current}")
    cap = limit if limit is not None else math.inf
    cells = list(summaries.values() if isinstance(summaries, Mapping) else summaries)
    if current >= cap or all(halfwidth(s) <= target for s in cells):
        return current
    need = max(_needed(s, target, current) for s in cells if halfwidth(s) > target)
    step = min(max(need, current + math.ceil(current / 4)), 2 * current)
    return int(min(step, cap))


def _needed(s: CellSummary, target: float, current: int) -> int:
    if not s.valid:
        return 2 * current  # nothing to plan with: every run so far raised an error
    plan = (s.held + Z95 * Z95 / 2) / (s.valid + Z95 * Z95)
    return math.ceil(runs_for_halfwidth(plan, target) * s.runs / s.valid)
