"""The side panel beside the theater map: the public escalation rung, a key to only what the map
shows, an arc diagram of the C2 network with degraded links dashed red, and notes (on Red's
page, what Red has seen of Blue).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from engine.present.svgkit import (
    BLUE,
    CHAR,
    CLAIM,
    EDGE,
    INK,
    MUTED,
    RED,
    Marker,
    draw_glyph,
    esc,
    px,
    shorten,
    svg_text,
    wrap,
)

if TYPE_CHECKING:
    from engine.present.svgmap import MapLayer

PANEL = 188  # width of the side panel: rung, key, C2 inset, notes


def side_panel(s: Any, layer: MapLayer, x0: float, top: float, height: int,
               marks: Mapping[str, list[Marker]], notes: list[str]) -> str:
    """The panel beside the map: the rung, the key, the C2 inset and the notes."""
    inner = PANEL - 20
    out = [f'<g class="panel"><rect x="{px(x0)}" y="{px(top - 4)}" width="{PANEL - 6}" '
           f'height="{px(height - top - 2)}" rx="6" fill="#f9fafb" stroke="#e5e7eb"/>']
    y = top + 10
    x = x0 + 8

    def heading(text: str) -> None:
        nonlocal y
        y += 12
        out.append(svg_text(x, y, text, MUTED, 9, True, halo=False))
        y += 3

    def para(text: str, colour: str = INK, size: int = 10, bold: bool = False) -> None:
        nonlocal y
        for line in wrap(text, size, inner):
            y += size * 1.3
            out.append(svg_text(x, y, line, colour, size, bold, halo=False))

    if layer.rung:
        heading("ESCALATION RUNG")
        para(layer.rung, INK, 11, True)
        y += 4
    heading("KEY")
    for text, draw in _key(s, layer, marks):
        y += 15
        out.append(draw(x + 7, y - 3) + svg_text(x + 20, y, text, INK, 9, halo=False))
    if layer.c2 and s.blue.c2.links:
        y += 6
        heading("C2 LINKS")
        y = _c2_inset(s, layer, x, y, inner, out)
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
    return lambda x, y: (f'<circle cx="{px(x)}" cy="{px(y)}" r="5" fill="{fill}" '
                         f'stroke="{stroke}" stroke-width="{width}"{extra}/>')


def _marker(glyph: str, colour: str, text: str) -> Draw:
    return lambda x, y: draw_glyph(glyph, x, y, colour, text)


def _key(s: Any, layer: MapLayer, marks: Mapping[str, list[Marker]]) -> list[tuple[str, Draw]]:
    """The key's entries, only for what the map shows."""
    claims = sorted({z.claimed_by for z in s.theater.zones.values()},
                    key=lambda c: list(CLAIM).index(c) if c in CLAIM else len(CLAIM))
    out: list[tuple[str, Draw]] = []
    for c in claims:
        fill, stroke, text = CLAIM.get(c, CLAIM["none"])
        out.append((f"{text} zone", _dot(fill, stroke)))
    out.append(("Distance (nm)", lambda x, y: f'<line x1="{px(x - 6)}" y1="{px(y)}" '
                f'x2="{px(x + 6)}" y2="{px(y)}" stroke="{EDGE}" stroke-width="1.5"/>'))
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
                   f'd="M {px(nx)} {px(y1)} A {px(r)} {px(r)} 0 0 0 {px(nx)} {px(y2)}" '
                   f'fill="none" {paint}><title>{esc(tip)}</title></path>')
    limit = max(6, int((inner - (nx - x) - 10) / (9 * CHAR)))
    for node in order:
        n = c2.nodes[node]
        key = node == c2.authority_node
        tip = f"{n.name} ({n.nation})" + (": grants engagement authority" if key else "")
        out.append(f'<circle cx="{px(nx)}" cy="{px(at[node])}" r="3.5" '
                   f'fill="{BLUE if key else INK}"><title>{esc(tip)}</title></circle>')
        out.append(svg_text(nx + 7, at[node] + 3, shorten(str(n.name), limit), INK, 9, key,
                            halo=False))
    y = y + 10 + (len(order) - 1) * gap + 16
    out.append(f'<line x1="{px(x + 2)}" y1="{px(y - 3)}" x2="{px(x + 16)}" y2="{px(y - 3)}" '
               'stroke="#6b7280" stroke-width="1.5"/>' + svg_text(x + 20, y, "up", INK, 9,
                                                                  halo=False))
    out.append(f'<line x1="{px(x + 50)}" y1="{px(y - 3)}" x2="{px(x + 64)}" y2="{px(y - 3)}" '
               f'stroke="{RED}" stroke-width="2.2" stroke-dasharray="5 3"/>'
               + svg_text(x + 68, y, "degraded", INK, 9, halo=False))
    return y
