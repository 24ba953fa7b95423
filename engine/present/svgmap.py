"""The theater map as one self-contained SVG string: for the browser pages (team, umpire,
projector), the debrief report and the briefs.

Zones have no coordinates, only distances, so they are laid out by classical multidimensional
scaling of the distance matrix (shortest paths stand in for pairs the scenario does not give),
turned to a canonical orientation (Red's zones left of Blue's, land towards the top) and fitted
to the box: the same scenario always gives the same picture, byte for byte. Zones are circles
sized by the square root of their area and coloured by claim; given distances are thin lines
labelled in nm; bases are squares; Red's objective has an amber ring.

A :class:`MapLayer` says what else a view may show (own batteries, ISR areas, tracks with their
age, Red's own groups, C2 link states in an inset, what Red has seen); :func:`layer_for` builds
it from a side's observation (``Observation.to_json()``), so each page shows only what its side
knows. Every text is escaped; nothing is fetched (no fonts, no URLs, no ids that could clash).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

BLUE, RED, AMBER = "#2563eb", "#dc2626", "#b45309"
INK, MUTED, EDGE = "#111827", "#4b5563", "#9ca3af"
CLAIM = {"blue": ("#dbeafe", BLUE, "Blue-claimed"), "red": ("#fee2e2", RED, "Red-claimed"),
         "disputed": ("#fef3c7", "#d97706", "Disputed"), "none": ("#f3f4f6", "#6b7280",
                                                                 "Unclaimed")}
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
PANEL = 188  # width of the side panel: rung, key, C2 inset, notes
CHAR = 0.58  # estimated glyph width per font-size unit, for label boxes

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Line = tuple[str, str, int, bool]  # text, colour, font size, bold


@dataclass(frozen=True)
class MapLayer:
    """What a map shows beyond the public theater; ids are the scenario's (names are looked
    up when drawing)."""

    title: str = ""
    rung: str = ""  # the public escalation rung, in words
    batteries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # reg.bat -> site..
    isr: Mapping[str, str] = field(default_factory=dict)  # ISR detachment -> tempo ("" unknown)
    tracks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # group -> zone, age_h
    groups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # group -> zone, ships
    c2: bool = False  # draw the C2 inset
    links_degraded: tuple[str, ...] = ()
    seen_isr: tuple[str, ...] = ()  # zones where Red saw Blue ISR aircraft last turn
    seen_batteries: Mapping[str, str] = field(default_factory=dict)  # battery -> zone Red saw
    seen: Mapping[str, Any] = field(default_factory=dict)  # Red's "seen" situation
    notes: tuple[str, ...] = ()


# ---- layers from observations and scenarios ---------------------------------------------------

def rung_words(rung: Any, rules: Any = None) -> str:
    """A rung id in words: the rules' label when given, else the id with spaces."""
    if not isinstance(rung, str) or not rung:
        return ""
    if rules is not None:
        for r in rules.ladder.rungs():
            if r.id == rung:
                return str(r.label)
    return rung.replace("_", " ")


def _dict(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _blue_parts(sit: Mapping[str, Any]) -> dict[str, Any]:
    return {"batteries": {k: _dict(v) for k, v in _dict(sit.get("batteries")).items()},
            "isr": {k: str(v) for k, v in _dict(sit.get("isr_tempo")).items()},
            "tracks": {k: _dict(v) for k, v in _dict(sit.get("tracks")).items()},
            "c2": True,
            "links_degraded": tuple(sorted(str(x) for x in _list(sit.get("links_degraded"))))}


def _red_parts(sit: Mapping[str, Any], events: Any) -> dict[str, Any]:
    seen_isr: set[str] = set()
    seen_bat: dict[str, str] = {}
    for e in _list(events):
        if not isinstance(e, Mapping):
            continue
        data = _dict(e.get("data"))
        if e.get("kind") == "isr.on_station" and data.get("seen_by_red"):
            seen_isr.add(str(data.get("zone")))
        elif e.get("kind") == "littoral.displace" and data.get("seen_by_red"):
            seen_bat[str(e.get("unit"))] = str(data.get("to"))
    return {"groups": {k: _dict(v) for k, v in _dict(sit.get("groups")).items()},
            "seen_isr": tuple(sorted(seen_isr)), "seen_batteries": seen_bat,
            "seen": _dict(sit.get("seen"))}


def layer_for(observation: Mapping[str, Any] | None, rules: Any = None,
              title: str | None = None) -> MapLayer:
    """The layer a side may see, from its observation's JSON: Blue its batteries, ISR, tracks
    and links; Red its groups and what it has seen of Blue; White both; anything else (None,
    the projector's "public") the zones and the rung only."""
    if not isinstance(observation, Mapping):
        return MapLayer(title=title or "")
    side = observation.get("side")
    rung = rung_words(observation.get("rung"), rules)
    turn = observation.get("turn")
    when = f", turn {turn}" if isinstance(turn, int) else ""
    sit = _dict(observation.get("situation"))
    if side == "blue":
        return MapLayer(title=title or f"Blue team's picture{when}", rung=rung,
                        **_blue_parts(sit))
    if side == "red":
        return MapLayer(title=title or f"Red team's picture{when}", rung=rung,
                        **_red_parts(sit, observation.get("events")))
    if side == "white":
        red = _red_parts(_dict(sit.get("red")), ())
        return MapLayer(title=title or f"Umpire's picture{when}", rung=rung,
                        **_blue_parts(_dict(sit.get("blue"))), groups=red["groups"])
    return MapLayer(title=title or f"Public picture{when}", rung=rung)


def forces_layer(scenario: Any, side: str, title: str = "") -> MapLayer:
    """A brief's layer: the public theater plus a side's own forces as the scenario sets them
    up (White: both sides)."""
    own_blue, own_red = side in ("blue", "white"), side in ("red", "white")
    batteries = {f"{rid}.{bid}": {"site": b.site, "launchers": b.launchers}
                 for rid, reg in scenario.blue.littoral.items()
                 for bid, b in reg.batteries.items()} if own_blue else {}
    groups = {g: {"zone": x.home, "ships": x.ships, "mission": "home"}
              for g, x in scenario.red.groups.items()} if own_red else {}
    isr = {d: "" for d in scenario.blue.isr} if own_blue else {}
    return MapLayer(title=title, batteries=batteries, isr=isr, c2=own_blue, groups=groups)


# ---- layout ----------------------------------------------------------------------------------

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


# ---- drawing helpers -------------------------------------------------------------------------

_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text: Any) -> str:
    """Text made safe for SVG/XML and HTML: characters XML forbids dropped, the rest escaped."""
    return html.escape(_BAD.sub("", str(text)), quote=True)


def _n(v: float) -> str:
    text = f"{v:.1f}"
    return "0.0" if text == "-0.0" else text


def _width(text: str, size: float) -> float:
    return len(text) * size * CHAR


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _outside(a: Box, bounds: Box) -> float:
    area = (a[2] - a[0]) * (a[3] - a[1])
    return area - _overlap(a, bounds)


def _best(cands: list[tuple[Box, Any]], taken: list[Box], bounds: Box) -> tuple[Box, Any]:
    """The candidate box that overlaps the taken ones (and leaves the bounds) least; the
    earlier on ties."""
    def cost(i: int) -> tuple[float, int]:
        box = cands[i][0]
        return sum(_overlap(box, t) for t in taken) + 4 * _outside(box, bounds), i
    return cands[min(range(len(cands)), key=cost)]


def _text(x: float, y: float, text: str, colour: str = INK, size: int = 10, bold: bool = False,
          anchor: str = "start", halo: bool = True) -> str:
    weight = ' font-weight="bold"' if bold else ""
    ring = (' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
            if halo else "")
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" fill="{colour}"{weight}'
            f' text-anchor="{anchor}"{ring}>{esc(text)}</text>')


def _glyph(kind: str, x: float, y: float, colour: str, tip: str) -> str:
    """A small marker: square (base), triangle (battery), diamond (group), hollow ones (a
    track or something Red saw)."""
    hollow = kind.startswith("hollow-")
    shape = kind.removeprefix("hollow-")
    paint = (f'fill="#ffffff" stroke="{colour}" stroke-width="1.8"' if hollow
             else f'fill="{colour}" stroke="#ffffff" stroke-width="1"')
    if shape == "square":
        body = f'<rect x="{_n(x - 4.5)}" y="{_n(y - 4.5)}" width="9" height="9" {paint}>'
    elif shape == "triangle":
        body = (f'<polygon points="{_n(x)},{_n(y - 6)} {_n(x + 5.5)},{_n(y + 4)} '
                f'{_n(x - 5.5)},{_n(y + 4)}" {paint}>')
    else:
        body = (f'<polygon points="{_n(x)},{_n(y - 6)} {_n(x + 5)},{_n(y)} {_n(x)},{_n(y + 6)} '
                f'{_n(x - 5)},{_n(y)}" {paint}>')
    tag = "rect" if shape == "square" else "polygon"
    return f"{body}<title>{esc(tip)}</title></{tag}>"


def _wrap(text: str, size: int, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and _width(lines[-1] + " " + word, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _short(text: str, limit: int) -> str:
    text = re.split(r" \(|, ", text)[0]
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _num(v: Any) -> str:
    try:
        return f"{round(float(v), 1):g}"
    except (TypeError, ValueError):
        return "?"


# ---- the map ---------------------------------------------------------------------------------

Marker = tuple[str, str, str, "Line | None"]  # glyph, colour, tooltip, label line


def theater_svg(scenario: Any, layer: MapLayer | None = None, *, width: int = 640,
                height: int = 420) -> str:
    """The theater map with a layer's overlays, as a self-contained SVG string."""
    layer = layer or MapLayer()
    s = scenario
    zones = s.theater.zones
    top = 34.0
    panel_x = float(width - PANEL)
    bounds: Box = (6.0, top, panel_x - 8.0, height - 6.0)
    rmax = max(9.0, min(26.0, 0.065 * min(bounds[2] - bounds[0], bounds[3] - bounds[1])))
    amax = max(z.area_nm2 for z in zones.values())
    radius = {z: max(6.0, rmax * math.sqrt(zones[z].area_nm2 / amax)) for z in zones}
    pos = _fit(layout(s), bounds, rmax)
    marks = _markers(s, layer)
    rings = _rings(s, layer, radius, pos)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" font-family="{FONT}" '
           f'class="theater-map">',
           f"<title>{esc(layer.title or s.meta.title)}</title>",
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
           _text(10, 22, _short_title(layer.title or s.meta.title, panel_x - 20), INK, 15, True,
                 halo=False)]
    taken: list[Box] = [(x - radius[z] - 2, y - radius[z] - 2, x + radius[z] + 2,
                         y + radius[z] + 2) for z, (x, y) in sorted(pos.items())]
    edges, edge_labels = _edges(s, pos, radius)
    out.append('<g class="distances">' + "".join(edges) + "</g>")
    out.append("".join(rings[z] for z in sorted(rings) if z in pos))
    for z in sorted(pos):
        fill, stroke, _ = CLAIM.get(zones[z].claimed_by, CLAIM["none"])
        dash = ' stroke-dasharray="5 3"' if zones[z].kind == "sea" else ""
        x, y = pos[z]
        out.append(f'<g class="zone" data-zone="{esc(z)}"><circle cx="{_n(x)}" cy="{_n(y)}" '
                   f'r="{_n(radius[z])}" fill="{fill}" stroke="{stroke}" stroke-width="2"{dash}>'
                   f"<title>{esc(_zone_tip(s, z))}</title></circle></g>")
    for z in sorted(pos):
        x, y = pos[z]
        here = marks.get(z, ())
        # markers ~13 px apart round the rim, the ring widened when there are many
        r = max(radius[z] + 7, 13 * len(here) / (1.8 * math.pi))
        step = max(math.radians(32), 13 / r)
        for k, (glyph, colour, tip, _) in enumerate(here):
            a = math.radians(-60) + step * k
            out.append(_glyph(glyph, x + r * math.cos(a), y + r * math.sin(a), colour, tip))
    labels = _zone_labels(s, layer, pos, radius, marks, taken, bounds)
    out.append(_edge_labels(edge_labels, taken, bounds))
    out.append(labels)
    out.append(_panel(s, layer, panel_x, top, height, marks))
    out.append("</svg>")
    return "\n".join(out)


def _short_title(text: str, width: float) -> str:
    limit = max(8, int(width / (15 * CHAR)))
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _fit(pts: Mapping[str, tuple[float, float]], bounds: Box,
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


def _zone_tip(s: Any, z: str) -> str:
    zone = s.theater.zones[z]
    claim = CLAIM.get(zone.claimed_by, CLAIM["none"])[2].lower()
    return (f"{zone.name}: {zone.kind.replace('_', ' ')}, {claim}, "
            f"{zone.area_nm2:,.0f} square nm")


def _group_name(s: Any, gid: str) -> str:
    g = s.red.groups.get(gid)
    return str(g.name) if g is not None else gid


def _battery(s: Any, key: str) -> tuple[str, str]:
    """A battery's short label and its full name, from its 'regiment.battery' key."""
    rid, _, bid = key.partition(".")
    reg = s.blue.littoral.get(rid)
    if reg is None or not bid:
        return key, key
    unique = sum(bid in r.batteries for r in s.blue.littoral.values()) == 1
    return (bid if unique else key), f"{reg.name}, battery {bid}"


def _age(age: Any) -> str:
    try:
        h = float(age)
    except (TypeError, ValueError):
        return "some time"
    return "under an hour" if h < 1 else f"{h:.0f} h"


def _markers(s: Any, layer: MapLayer) -> dict[str, list[Marker]]:
    """Each zone's markers: bases, batteries, Red groups, tracks and what Red saw."""
    out: dict[str, list[Marker]] = {}

    def add(zone: Any, marker: Marker) -> None:
        if isinstance(zone, str) and zone in s.theater.zones:
            out.setdefault(zone, []).append(marker)

    for _, base in sorted(s.theater.bases.items()):
        add(base.zone, ("square", "#374151", str(base.name), (f"\u25a0 {base.name}", MUTED, 9,
                                                              False)))
    for key, b in sorted(layer.batteries.items()):
        short, full = _battery(s, key)
        n = _num(b.get("launchers"))
        add(b.get("site"), ("triangle", BLUE, f"{full}: {n} launchers",
                            (f"\u25b2 {short}: {n} launchers", BLUE, 9, False)))
    for key, zone in sorted(layer.seen_batteries.items()):
        short, full = _battery(s, key)
        add(zone, ("hollow-triangle", BLUE, f"Red saw {full} here",
                   (f"\u25b3 Blue battery {short} seen", BLUE, 9, False)))
    for gid, g in sorted(layer.groups.items()):
        name, mission = _group_name(s, gid), str(g.get("mission", ""))
        text = f"{name}: {_num(g.get('ships'))} ships"
        text += "" if mission in ("home", "") else f", {mission.replace('_', ' ')}"
        add(g.get("zone"), ("diamond", RED, text, (f"\u25c6 {text}", RED, 9, False)))
    for gid, t in sorted(layer.tracks.items()):
        name, age = _group_name(s, gid), _age(t.get("age_h"))
        text = f"{name}, seen {age} ago" if age != "under an hour" else f"{name}, seen just now"
        add(t.get("zone"), ("hollow-diamond", RED, f"Blue track: {text}",
                            (f"\u25c7 {text}", RED, 9, False)))
    return out


def _rings(s: Any, layer: MapLayer, radius: Mapping[str, float],
           pos: Mapping[str, tuple[float, float]]) -> dict[str, str]:
    """Rings around zones: Red's objective, Blue ISR search areas, ISR Red saw."""
    isr: dict[str, list[str]] = {}
    for det, tempo in sorted(layer.isr.items()):
        d = s.blue.isr.get(det)
        for z in d.zones if d is not None else ():
            isr.setdefault(z, []).append(f"{d.name}" + (f" ({tempo} tempo)" if tempo else ""))
    out: dict[str, str] = {}
    for z, (x, y) in sorted(pos.items()):
        at = f'cx="{_n(x)}" cy="{_n(y)}"'
        parts = []
        if z == s.red.objective:
            parts.append(f'<circle class="objective" {at} r="{_n(radius[z] + 4)}" fill="none" '
                         f'stroke="#d97706" stroke-width="3"><title>Red\'s objective: '
                         f"{esc(s.theater.zones[z].name)}</title></circle>")
        if z in isr:
            parts.append(f'<circle class="isr" {at} r="{_n(radius[z] + 9)}" fill="none" '
                         f'stroke="{BLUE}" stroke-width="1.5" stroke-dasharray="2 3">'
                         f"<title>ISR search area: {esc('; '.join(isr[z]))}</title></circle>")
        if z in layer.seen_isr:
            parts.append(f'<circle class="seen-isr" {at} r="{_n(radius[z] + 9)}" fill="none" '
                         f'stroke="{BLUE}" stroke-width="2" stroke-dasharray="6 3">'
                         "<title>Blue ISR aircraft seen here</title></circle>")
        if parts:
            out[z] = "".join(parts)
    return out


def _edges(s: Any, pos: Mapping[str, tuple[float, float]],
           radius: Mapping[str, float]) -> tuple[list[str], list[tuple[tuple[float, ...], str]]]:
    """Distance lines from rim to rim, and where each label could go."""
    lines: list[str] = []
    labels: list[tuple[tuple[float, ...], str]] = []
    zones = s.theater.zones
    seen: set[tuple[str, str]] = set()
    for a, b, nm in sorted((min(a, b), max(a, b), float(d)) for a, b, d in s.theater.distances):
        if (a, b) in seen or a not in pos or b not in pos:
            continue
        seen.add((a, b))
        (xa, ya), (xb, yb) = pos[a], pos[b]
        length = math.hypot(xb - xa, yb - ya)
        if length <= radius[a] + radius[b] + 2:
            continue
        ux, uy = (xb - xa) / length, (yb - ya) / length
        x1, y1 = xa + ux * radius[a], ya + uy * radius[a]
        x2, y2 = xb - ux * radius[b], yb - uy * radius[b]
        tip = f"{zones[a].name} to {zones[b].name}: {nm:g} nm"
        lines.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                     f'stroke="{EDGE}" stroke-width="1"><title>{esc(tip)}</title></line>')
        labels.append(((x1, y1, x2, y2), f"{nm:g} nm"))
    return lines, labels


def _edge_labels(labels: list[tuple[tuple[float, ...], str]], taken: list[Box],
                 bounds: Box) -> str:
    """Distance labels where they fit: along the line, away from zones and other labels; a
    label that cannot be placed without covering something is left to the line's tooltip."""
    out = []
    for (x1, y1, x2, y2), text in labels:
        w, h = _width(text, 8) + 2, 10.0
        cands: list[tuple[Box, Any]] = []
        for t in (0.5, 0.35, 0.65, 0.25, 0.75):
            x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
            cands.append(((x - w / 2, y - h / 2, x + w / 2, y + h / 2), (x, y)))
        box, (x, y) = _best(cands, taken, bounds)
        if sum(_overlap(box, t) for t in taken) + _outside(box, bounds) > 0.25 * w * h:
            continue
        taken.append(box)
        out.append(_text(x, y + 3, text, MUTED, 8, anchor="middle"))
    return '<g class="distance-labels">' + "".join(out) + "</g>"


def _zone_labels(s: Any, layer: MapLayer, pos: Mapping[str, tuple[float, float]],
                 radius: Mapping[str, float], marks: Mapping[str, list[Marker]],
                 taken: list[Box], bounds: Box) -> str:
    """Each zone's name and its overlay lines as one block, placed where it covers least."""
    blocks = []
    for z in sorted(pos):
        lines: list[Line] = [(str(s.theater.zones[z].name), INK, 11, True)]
        if z == s.red.objective:
            lines.append(("Red's objective", AMBER, 9, True))
        if z in layer.seen_isr:
            lines.append(("Blue ISR seen here", BLUE, 9, False))
        lines += [m[3] for m in marks.get(z, ()) if m[3] is not None]
        blocks.append((z, lines))
    blocks.sort(key=lambda b: (-len(b[1]), b[0]))
    out = []
    for z, lines in blocks:
        x, y = pos[z]
        r = radius[z] + 10
        w = max(_width(t, size) for t, _, size, _ in lines) + 4
        h = sum(size * 1.25 for _, _, size, _ in lines)
        cands: list[tuple[Box, Any]] = [
            ((x - w / 2, y + r, x + w / 2, y + r + h), ("middle", x, y + r)),
            ((x - w / 2, y - r - h, x + w / 2, y - r), ("middle", x, y - r - h)),
            ((x + r, y - h / 2, x + r + w, y + h / 2), ("start", x + r, y - h / 2)),
            ((x - r - w, y - h / 2, x - r, y + h / 2), ("end", x - r, y - h / 2)),
            ((x + r * 0.7, y + r * 0.7, x + r * 0.7 + w, y + r * 0.7 + h),
             ("start", x + r * 0.7, y + r * 0.7)),
            ((x - r * 0.7 - w, y + r * 0.7, x - r * 0.7, y + r * 0.7 + h),
             ("end", x - r * 0.7, y + r * 0.7)),
            ((x + r * 0.7, y - r * 0.7 - h, x + r * 0.7 + w, y - r * 0.7),
             ("start", x + r * 0.7, y - r * 0.7 - h)),
            ((x - r * 0.7 - w, y - r * 0.7 - h, x - r * 0.7, y - r * 0.7),
             ("end", x - r * 0.7, y - r * 0.7 - h)),
            ((x - r, y + r, x - r + w, y + r + h), ("start", x - r, y + r)),
            ((x + r - w, y + r, x + r, y + r + h), ("end", x + r, y + r)),
            ((x - r, y - r - h, x - r + w, y - r), ("start", x - r, y - r - h)),
            ((x + r - w, y - r - h, x + r, y - r), ("end", x + r, y - r - h)),
        ]
        box, (anchor, ax, ay) = _best(cands, taken, bounds)
        taken.append(box)
        tx = ax + 2 if anchor == "start" else ax - 2 if anchor == "end" else ax
        parts, cursor = [], ay
        for text, colour, size, bold in lines:
            cursor += size * 1.25
            parts.append(_text(tx, cursor - size * 0.3, text, colour, size, bold, anchor))
        out.append(f'<g class="label" data-zone="{esc(z)}">' + "".join(parts) + "</g>")
    return "".join(out)


# ---- the side panel: rung, key, C2 inset, notes ----------------------------------------------

def _panel(s: Any, layer: MapLayer, x0: float, top: float, height: int,
           marks: Mapping[str, list[Marker]]) -> str:
    inner = PANEL - 20
    out = [f'<g class="panel"><rect x="{_n(x0)}" y="{_n(top - 4)}" width="{PANEL - 6}" '
           f'height="{_n(height - top - 2)}" rx="6" fill="#f9fafb" stroke="#e5e7eb"/>']
    y = top + 10
    x = x0 + 8

    def heading(text: str) -> None:
        nonlocal y
        y += 12
        out.append(_text(x, y, text, MUTED, 9, True, halo=False))
        y += 3

    def para(text: str, colour: str = INK, size: int = 10, bold: bool = False) -> None:
        nonlocal y
        for line in _wrap(text, size, inner):
            y += size * 1.3
            out.append(_text(x, y, line, colour, size, bold, halo=False))

    if layer.rung:
        heading("ESCALATION RUNG")
        para(layer.rung, INK, 11, True)
        y += 4
    heading("KEY")
    for text, draw in _key(s, layer, marks):
        y += 15
        out.append(draw(x + 7, y - 3) + _text(x + 20, y, text, INK, 9, halo=False))
    if layer.c2 and s.blue.c2.links:
        y += 6
        heading("C2 LINKS")
        y = _c2_inset(s, layer, x, y, inner, out)
    notes = _seen_notes(s, layer.seen) + list(layer.notes)
    if notes:
        y += 4
        heading("RED HAS SEEN" if layer.seen else "NOTES")
        for note in notes:
            para(note, INK, 9)
    out.append("</g>")
    return "".join(out)


Draw = Callable[[float, float], str]


def _dot(fill: str, stroke: str, width: float = 2.0, dash: str = "") -> Draw:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return lambda x, y: (f'<circle cx="{_n(x)}" cy="{_n(y)}" r="5" fill="{fill}" '
                         f'stroke="{stroke}" stroke-width="{width}"{extra}/>')


def _marker(glyph: str, colour: str, text: str) -> Draw:
    return lambda x, y: _glyph(glyph, x, y, colour, text)


def _key(s: Any, layer: MapLayer, marks: Mapping[str, list[Marker]]) -> list[tuple[str, Draw]]:
    """The key's entries, only for what the map shows."""
    claims = sorted({z.claimed_by for z in s.theater.zones.values()},
                    key=lambda c: list(CLAIM).index(c) if c in CLAIM else len(CLAIM))
    out: list[tuple[str, Draw]] = []
    for c in claims:
        fill, stroke, text = CLAIM.get(c, CLAIM["none"])
        out.append((f"{text} zone", _dot(fill, stroke)))
    out.append(("Distance (nm)", lambda x, y: f'<line x1="{_n(x - 6)}" y1="{_n(y)}" '
                f'x2="{_n(x + 6)}" y2="{_n(y)}" stroke="{EDGE}" stroke-width="1.5"/>'))
    out.append(("Red's objective", _dot("none", "#d97706", 3)))
    glyphs = {m[0] for ms in marks.values() for m in ms}
    words = {"square": ("Base", "#374151"), "triangle": ("Blue battery", BLUE),
             "hollow-triangle": ("Blue battery Red saw", BLUE),
             "diamond": ("Red group", RED), "hollow-diamond": ("Blue track on a Red group", RED)}
    for glyph, (text, colour) in words.items():
        if glyph in glyphs:
            out.append((text, _marker(glyph, colour, text)))
    if layer.isr:
        out.append(("Blue ISR search area", _dot("none", BLUE, 1.5, "2 2")))
    if layer.seen_isr:
        out.append(("Blue ISR Red saw", _dot("none", BLUE, 2, "4 2")))
    return out


def _c2_order(s: Any) -> list[str]:
    """C2 nodes in breadth-first order from the authority node (neighbours by id), so linked
    nodes sit close together; unreachable ones after, by id."""
    c2 = s.blue.c2
    near: dict[str, set[str]] = {n: set() for n in c2.nodes}
    for link in c2.links.values():
        near.setdefault(link.a, set()).add(link.b)
        near.setdefault(link.b, set()).add(link.a)
    order: list[str] = []
    queue = [c2.authority_node] if c2.authority_node in near else []
    while queue:
        node = queue.pop(0)
        if node in order:
            continue
        order.append(node)
        queue += sorted(near[node] - set(order))
    return order + sorted(set(near) - set(order))


def _c2_inset(s: Any, layer: MapLayer, x: float, y: float, inner: float, out: list[str]) -> float:
    """An arc diagram of the C2 network: nodes in a column, each link an arc on the left,
    degraded links dashed red. Returns the y below it."""
    c2 = s.blue.c2
    order = _c2_order(s)
    gap = min(18.0, 120.0 / max(1, len(order) - 1))
    reach = (len(order) - 1) * gap / 2
    nx = x + 6 + reach
    at = {n: y + 10 + i * gap for i, n in enumerate(order)}
    down = set(layer.links_degraded)
    for lid, link in sorted(c2.links.items()):
        if link.a not in at or link.b not in at:
            continue
        y1, y2 = sorted((at[link.a], at[link.b]))
        r = (y2 - y1) / 2
        bad = lid in down
        paint = (f'stroke="{RED}" stroke-width="2.2" stroke-dasharray="5 3"' if bad
                 else 'stroke="#6b7280" stroke-width="1.5"')
        tip = (f"{c2.nodes[link.a].name} to {c2.nodes[link.b].name}: "
               f"{'degraded' if bad else 'up'}")
        out.append(f'<path class="c2-link {"degraded" if bad else "up"}" data-link="{esc(lid)}" '
                   f'd="M {_n(nx)} {_n(y1)} A {_n(r)} {_n(r)} 0 0 0 {_n(nx)} {_n(y2)}" '
                   f'fill="none" {paint}><title>{esc(tip)}</title></path>')
    limit = max(6, int((inner - (nx - x) - 10) / (9 * CHAR)))
    for node in order:
        n = c2.nodes[node]
        key = node == c2.authority_node
        tip = f"{n.name} ({n.nation})" + (": grants engagement authority" if key else "")
        out.append(f'<circle cx="{_n(nx)}" cy="{_n(at[node])}" r="3.5" '
                   f'fill="{BLUE if key else INK}"><title>{esc(tip)}</title></circle>')
        out.append(_text(nx + 7, at[node] + 3, _short(str(n.name), limit), INK, 9, key,
                         halo=False))
    y = y + 10 + (len(order) - 1) * gap + 16
    out.append(f'<line x1="{_n(x + 2)}" y1="{_n(y - 3)}" x2="{_n(x + 16)}" y2="{_n(y - 3)}" '
               'stroke="#6b7280" stroke-width="1.5"/>' + _text(x + 20, y, "up", INK, 9,
                                                               halo=False))
    out.append(f'<line x1="{_n(x + 50)}" y1="{_n(y - 3)}" x2="{_n(x + 64)}" y2="{_n(y - 3)}" '
               f'stroke="{RED}" stroke-width="2.2" stroke-dasharray="5 3"/>'
               + _text(x + 68, y, "degraded", INK, 9, halo=False))
    return y


def _seen_notes(s: Any, seen: Mapping[str, Any]) -> list[str]:
    """What Red has seen of Blue, in words (Red's page)."""
    if not seen:
        return []
    out = []
    names = {rid: reg.name for rid, reg in s.blue.littoral.items()}
    for rid, level in sorted(_dict(seen.get("readiness")).items()):
        out.append(f"{names.get(rid, rid)}: {level}")
    down = [str(x) for x in _list(seen.get("links_down"))]
    out.append("Links you believe down: " + (", ".join(down) if down else "none"))
    out.append("Engagement authority: " + ("granted" if seen.get("authority") else
                                           "not seen"))
    h = seen.get("isr_over_objective_h")
    if isinstance(h, int | float):
        out.append(f"Blue ISR over the objective last turn: {h:.0f} h")
    return out
