"""Pure summaries of sweep results: shares with Wilson intervals, and posture differences with
Newcombe's hybrid score interval. Accumulators are merged chunk by chunk, so a summary of
millions of runs needs no more memory than one chunk."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

Z95 = 1.959963984540054


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
    """Difference p1 - p2 with Newcombe's (1998, method 10) hybrid score 95% interval."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


@dataclass
class Mean:
    """A running mean that ignores missing values."""

    total: float = 0.0
    count: int = 0

    def add(self, value: Any) -> None:
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            self.total += float(value)
            self.count += 1

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass
class CellSummary:
    """Measures of one design cell, accumulated run by run."""

    runs: int = 0
    errors: int = 0
    held: int = 0
    highest_level: Mean = field(default_factory=Mean)
    time_to_detect: Mean = field(default_factory=Mean)
    red_gains: Mean = field(default_factory=Mean)
    blue_losses: Mean = field(default_factory=Mean)
    red_losses: Mean = field(default_factory=Mean)

    def add(self, row: dict[str, Any]) -> None:
        self.runs += 1
        if row.get("error"):
            self.errors += 1
            return
        self.held += bool(row["deterrence_held"])
        self.highest_level.add(row["highest_level"])
        self.time_to_detect.add(row["mean_time_to_detect_h"])
        self.red_gains.add(row["red_gains"])
        self.blue_losses.add(row["blue_losses"])
        self.red_losses.add(row["red_losses"])

    @property
    def valid(self) -> int:
        return self.runs - self.errors

    def held_share(self) -> tuple[float, float, float]:
        """P(deterrence holds) and its Wilson 95% interval."""
        n = self.valid
        lo, hi = wilson(self.held, n)
        return (self.held / n if n else float("nan"), lo, hi)


def summarize_rows(rows, cells_spec: list[dict[str, Any]]) -> dict[int, CellSummary]:
    """Accumulate rows (any iterable of dicts, e.g. chunk by chunk) into per-cell summaries."""
    out = {c["index"]: CellSummary() for c in cells_spec}
    for row in rows:
        out[row["cell"]].add(row)
    return out


def comparisons(cells_spec: list[dict[str, Any]], summaries: dict[int, CellSummary],
                scenario_ids: list[str]) -> list[dict[str, Any]]:
    """For every design point, each later scenario against the first: the difference in
    P(deterrence holds) with its 95% interval."""
    by_point: dict[str, dict[int, int]] = {}
    for c in cells_spec:
        key = json.dumps(c["values"], sort_keys=True)
        by_point.setdefault(key, {})[c["scenario"]] = c["index"]
    out = []
    for key, members in by_point.items():
        if 0 not in members:
            continue
        base = summaries[members[0]]
        for si, idx in sorted(members.items()):
            other = summaries[idx]
            if si == 0 or not base.valid or not other.valid:
                continue
            d, lo, hi = newcombe(other.held, other.valid, base.held, base.valid)
            out.append({"values": json.loads(key), "scenario": scenario_ids[si],
                        "versus": scenario_ids[0], "difference": d, "low": lo, "high": hi})
    return out
