"""The theater map as one self-contained SVG string: for the browser pages (team, umpire,
projector), the debrief report and the briefs.

Zones sit where ``engine.present.maplayout`` puts them (laid out from the distances, in a
canonical orientation): the same scenario always gives the same picture, byte for byte. Zones are
circles sized by the square root of their area and coloured by claim; given distances are thin
lines labelled in nm; bases are squares; Red's objective has an amber ring.

A :class:`MapLayer` says what else a view may show (own batteries, ISR areas, tracks with their
age, Red's own groups, C2 link states in an inset, what Red has seen); :func:`layer_for` builds
it from a side's observation (``Observation.to_json()``), so each page shows only what its side
knows. Every text is escaped; nothing is fetched (no fonts, no URLs, no ids that could clash).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.present.maplayout import Box, best, fit, layout, outside, overlap
from engine.present.mappanel import PANEL, side_panel
from engine.present.svgkit import (
    AMBER,
    BLUE,
    CHAR,
    CLAIM,
    EDGE,
    FONT,
    INK,
    MUTED,
    RED,
    Line,
    Marker,
    amount,
    draw_glyph,
    esc,
    px,
    svg_text,
    text_width,
)


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


# ---- the map ---------------------------------------------------------------------------------

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
    pos = fit(layout(s), bounds, rmax)
    marks = _markers(s, layer)
    rings = _rings(s, layer, radius, pos)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" font-family="{FONT}" '
           f'class="theater-map">',
           f"<title>{esc(layer.title or s.meta.title)}</title>",
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
           svg_text(10, 22, _short_title(layer.title or s.meta.title, panel_x - 20), INK, 15,
                    True, halo=False)]
    taken: list[Box] = [(x - radius[z] - 2, y - radius[z] - 2, x + radius[z] + 2,
                         y + radius[z] + 2) for z, (x, y) in sorted(pos.items())]
    edges, edge_labels = _edges(s, pos, radius)
    out.append('<g class="distances">' + "".join(edges) + "</g>")
    out.append("".join(rings[z] for z in sorted(rings) if z in pos))
    for z in sorted(pos):
        fill, stroke, _ = CLAIM.get(zones[z].claimed_by, CLAIM["none"])
        dash = ' stroke-dasharray="5 3"' if zones[z].kind == "sea" else ""
        x, y = pos[z]
        out.append(f'<g class="zone" data-zone="{esc(z)}"><circle cx="{px(x)}" cy="{px(y)}" '
                   f'r="{px(radius[z])}" fill="{fill}" stroke="{stroke}" stroke-width="2"{dash}>'
                   f"<title>{esc(_zone_tip(s, z))}</title></circle></g>")
    for z in sorted(pos):
        x, y = pos[z]
        here = marks.get(z, ())
        # markers ~13 px apart round the rim, the ring widened when there are many
        r = max(radius[z] + 7, 13 * len(here) / (1.8 * math.pi))
        step = max(math.radians(32), 13 / r)
        for k, (glyph, colour, tip, _) in enumerate(here):
            a = math.radians(-60) + step * k
            out.append(draw_glyph(glyph, x + r * math.cos(a), y + r * math.sin(a), colour, tip))
    labels = _zone_labels(s, layer, pos, radius, marks, taken, bounds)
    out.append(_edge_labels(edge_labels, taken, bounds))
    out.append(labels)
    out.append(side_panel(s, layer, panel_x, top, height, marks,
                          _seen_notes(s, layer.seen) + list(layer.notes)))
    out.append("</svg>")
    return "\n".join(out)


def _short_title(text: str, width: float) -> str:
    limit = max(8, int(width / (15 * CHAR)))
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


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
        n = amount(b.get("launchers"))
        add(b.get("site"), ("triangle", BLUE, f"{full}: {n} launchers",
                            (f"\u25b2 {short}: {n} launchers", BLUE, 9, False)))
    for key, zone in sorted(layer.seen_batteries.items()):
        short, full = _battery(s, key)
        add(zone, ("hollow-triangle", BLUE, f"Red saw {full} here",
                   (f"\u25b3 Blue battery {short} seen", BLUE, 9, False)))
    for gid, g in sorted(layer.groups.items()):
        name, mission = _group_name(s, gid), str(g.get("mission", ""))
        text = f"{name}: {amount(g.get('ships'))} ships"
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
        at = f'cx="{px(x)}" cy="{px(y)}"'
        parts = []
        if z == s.red.objective:
            parts.append(f'<circle class="objective" {at} r="{px(radius[z] + 4)}" fill="none" '
                         f'stroke="#d97706" stroke-width="3"><title>Red\'s objective: '
                         f"{esc(s.theater.zones[z].name)}</title></circle>")
        if z in isr:
            parts.append(f'<circle class="isr" {at} r="{px(radius[z] + 9)}" fill="none" '
                         f'stroke="{BLUE}" stroke-width="1.5" stroke-dasharray="2 3">'
                         f"<title>ISR search area: {esc('; '.join(isr[z]))}</title></circle>")
        if z in layer.seen_isr:
            parts.append(f'<circle class="seen-isr" {at} r="{px(radius[z] + 9)}" fill="none" '
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
        lines.append(f'<line x1="{px(x1)}" y1="{px(y1)}" x2="{px(x2)}" y2="{px(y2)}" '
                     f'stroke="{EDGE}" stroke-width="1"><title>{esc(tip)}</title></line>')
        labels.append(((x1, y1, x2, y2), f"{nm:g} nm"))
    return lines, labels


def _edge_labels(labels: list[tuple[tuple[float, ...], str]], taken: list[Box],
                 bounds: Box) -> str:
    """Distance labels where they fit: along the line, away from zones and other labels; a
    label that cannot be placed without covering something is left to the line's tooltip."""
    out = []
    for (x1, y1, x2, y2), text in labels:
        w, h = text_width(text, 8) + 2, 10.0
        cands: list[tuple[Box, Any]] = []
        for t in (0.5, 0.35, 0.65, 0.25, 0.75):
            x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
            cands.append(((x - w / 2, y - h / 2, x + w / 2, y + h / 2), (x, y)))
        box, (x, y) = best(cands, taken, bounds)
        if sum(overlap(box, t) for t in taken) + outside(box, bounds) > 0.25 * w * h:
            continue
        taken.append(box)
        out.append(svg_text(x, y + 3, text, MUTED, 8, anchor="middle"))
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
        w = max(text_width(t, size) for t, _, size, _ in lines) + 4
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
        box, (anchor, ax, ay) = best(cands, taken, bounds)
        taken.append(box)
        tx = ax + 2 if anchor == "start" else ax - 2 if anchor == "end" else ax
        parts, cursor = [], ay
        for text, colour, size, bold in lines:
            cursor += size * 1.25
            parts.append(svg_text(tx, cursor - size * 0.3, text, colour, size, bold, anchor))
        out.append(f'<g class="label" data-zone="{esc(z)}">' + "".join(parts) + "</g>")
    return "".join(out)


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
