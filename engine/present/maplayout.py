"""Where things go on the theater map: zones have no coordinates, only distances, so they are
laid out by classical multidimensional scaling of the distance matrix (shortest paths stand in for
pairs the scenario does not give), turned to a canonical orientation (Red's zones left of Blue's,
land towards the top) and fitted to the drawing box; labels go where they cover least. The same
scenario always gives the same layout, whatever order its zones and distances are written in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


# ---- zone positions from distances -----------------------------------------------------------

def layout(scenario: Any) -> dict[str, tuple[float, float]]:
    """Zone id -> (x, y) in nautical miles, y up, centred: the canonical layout."""
    zones = scenario.theater.zones
    key = (tuple(sorted((z, v.kind, v.claimed_by) for z, v in zones.items())),
           tuple(sorted((min(a, b), max(a, b), float(d))
                        for a, b, d in scenario.theater.distances)))
    return dict(_layout(key))


@lru_cache(maxsize=64)
def _layout(key: tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, float], ...]]
            ) -> tuple[tuple[str, tuple[float, float]], ...]:
    zones, distances = key
    ids = [z for z, _, _ in zones]
    n = len(ids)
    index = {z: i for i, z in enumerate(ids)}
    d = np.full((n, n), np.inf)
    np.fill_diagonal(d, 0.0)
    for a, b, nm in distances:
        if a in index and b in index and a != b:
            i, j = index[a], index[b]
            d[i, j] = d[j, i] = min(d[i, j], nm)
    given = d.copy()
    for k in range(n):  # Floyd-Warshall: shortest paths stand in for missing pairs
        d = np.minimum(d, d[:, k:k + 1] + d[k:k + 1, :])
    d = np.where(np.isfinite(given), given, d)
    finite = d[np.isfinite(d)]
    d[~np.isfinite(d)] = 1.5 * (finite.max() if finite.size else 1.0)  # unconnected parts
    centring = np.eye(n) - 1.0 / n
    gram = -0.5 * centring @ (d ** 2) @ centring
    values, vectors = np.linalg.eigh((gram + gram.T) / 2)
    top = np.argsort(-values, kind="stable")[:2]
    x = vectors[:, top] * np.sqrt(np.clip(values[top], 0.0, None))
    if x.shape[1] < 2:
        x = np.hstack([x, np.zeros((n, 2 - x.shape[1]))])
    x = _canonical(x - x.mean(axis=0), [(k, c) for _, k, c in zones])
    return tuple((z, (float(x[i, 0]), float(x[i, 1]))) for i, z in enumerate(ids))


def _canonical(x: np.ndarray, kinds: list[tuple[str, str]]) -> np.ndarray:
    """Turn and flip a layout: Red's zones left of Blue's (else the widest spread across),
    land zones (else the first zone off the axis) towards the top."""
    red = [i for i, (k, c) in enumerate(kinds) if c == "red" or k == "red_home"]
    blue = [i for i, (_, c) in enumerate(kinds) if c == "blue"]
    axis = x[blue].mean(axis=0) - x[red].mean(axis=0) if red and blue else np.zeros(2)
    if np.hypot(*axis) < 1e-9:
        axis = np.linalg.svd(x, full_matrices=False)[2][0] if np.abs(x).max() > 0 else np.ones(2)
        proj = x @ axis
        skew = float(np.sum(proj ** 3))
        if skew < -1e-9 or (abs(skew) <= 1e-9 and proj[0] > 1e-9):
            axis = -axis
    angle = math.atan2(axis[1], axis[0])
    c, s = math.cos(-angle), math.sin(-angle)
    x = x @ np.array([[c, s], [-s, c]])
    land = [i for i, (k, _) in enumerate(kinds) if k == "land"]
    up = float(x[land, 1].mean()) if land else 0.0
    if abs(up) < 1e-9:
        up = next((float(v) for v in x[:, 1] if abs(v) > 1e-6), 0.0)
    if up < 0:
        x[:, 1] = -x[:, 1]
    return np.where(np.abs(x) < 1e-9, 0.0, x)


def fit(pts: Mapping[str, tuple[float, float]], bounds: Box,
        rmax: float) -> dict[str, tuple[float, float]]:
    """Scale (uniformly) and centre the layout in the bounds, leaving room for labels."""
    xs = [p[0] for p in pts.values()]
    ys = [p[1] for p in pts.values()]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    room_x = bounds[2] - bounds[0] - 2 * (rmax + 40)
    room_y = bounds[3] - bounds[1] - 2 * (rmax + 26)
    scales = [room / span for room, span in ((room_x, span_x), (room_y, span_y)) if span > 1e-9]
    scale = max(1e-6, min(scales)) if scales else 1.0
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    return {z: (cx + (x - mid_x) * scale, cy - (y - mid_y) * scale) for z, (x, y) in pts.items()}


# ---- label placement -------------------------------------------------------------------------

def overlap(a: Box, b: Box) -> float:
    """The area two boxes share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def outside(a: Box, bounds: Box) -> float:
    """The area of a box that lies outside the bounds."""
    area = (a[2] - a[0]) * (a[3] - a[1])
    return area - overlap(a, bounds)


def best(cands: list[tuple[Box, Any]], taken: list[Box], bounds: Box) -> tuple[Box, Any]:
    """The candidate box that overlaps the taken ones (and leaves the bounds) least; the
    earlier on ties."""
    def cost(i: int) -> tuple[float, int]:
        box = cands[i][0]
        return sum(overlap(box, t) for t in taken) + 4 * outside(box, bounds), i
    return cands[min(range(len(cands)), key=cost)]
