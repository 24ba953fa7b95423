"""Building blocks of the theater map's SVG: the palette, escaping, coordinates, positioned text
with a halo, the small marker glyphs, and text measured, wrapped and shortened to fit.
"""

from __future__ import annotations

import html
import re
from typing import Any

BLUE, RED, AMBER = "#2563eb", "#dc2626", "#b45309"
INK, MUTED, EDGE = "#111827", "#4b5563", "#9ca3af"
CLAIM = {"blue": ("#dbeafe", BLUE, "Blue-claimed"), "red": ("#fee2e2", RED, "Red-claimed"),
         "disputed": ("#fef3c7", "#d97706", "Disputed"), "none": ("#f3f4f6", "#6b7280",
                                                                 "Unclaimed")}
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
CHAR = 0.58  # estimated glyph width per font-size unit, for label boxes

Line = tuple[str, str, int, bool]  # text, colour, font size, bold
Marker = tuple[str, str, str, "Line | None"]  # glyph, colour, tooltip, label line

_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text: Any) -> str:
    """Text made safe for SVG/XML and HTML: characters XML forbids dropped, the rest escaped."""
    return html.escape(_BAD.sub("", str(text)), quote=True)


def px(v: float) -> str:
    """A coordinate to one decimal (never '-0.0')."""
    text = f"{v:.1f}"
    return "0.0" if text == "-0.0" else text


def text_width(text: str, size: float) -> float:
    """The estimated width of a text at a font size (no font metrics: CHAR per glyph)."""
    return len(text) * size * CHAR


def svg_text(x: float, y: float, text: str, colour: str = INK, size: int = 10,
             bold: bool = False, anchor: str = "start", halo: bool = True) -> str:
    """A <text> at (x, y), escaped, with a white halo that keeps it readable over lines."""
    weight = ' font-weight="bold"' if bold else ""
    ring = (' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
            if halo else "")
    return (f'<text x="{px(x)}" y="{px(y)}" font-size="{size}" fill="{colour}"{weight}'
            f' text-anchor="{anchor}"{ring}>{esc(text)}</text>')


def draw_glyph(kind: str, x: float, y: float, colour: str, tip: str) -> str:
    """A small marker: square (base), triangle (battery), diamond (group), hollow ones (a
    track or something Red saw)."""
    hollow = kind.startswith("hollow-")
    shape = kind.removeprefix("hollow-")
    paint = (f'fill="#ffffff" stroke="{colour}" stroke-width="1.8"' if hollow
             else f'fill="{colour}" stroke="#ffffff" stroke-width="1"')
    if shape == "square":
        body = f'<rect x="{px(x - 4.5)}" y="{px(y - 4.5)}" width="9" height="9" {paint}>'
    elif shape == "triangle":
        body = (f'<polygon points="{px(x)},{px(y - 6)} {px(x + 5.5)},{px(y + 4)} '
                f'{px(x - 5.5)},{px(y + 4)}" {paint}>')
    else:
        body = (f'<polygon points="{px(x)},{px(y - 6)} {px(x + 5)},{px(y)} {px(x)},{px(y + 6)} '
                f'{px(x - 5)},{px(y)}" {paint}>')
    tag = "rect" if shape == "square" else "polygon"
    return f"{body}<title>{esc(tip)}</title></{tag}>"


def wrap(text: str, size: int, width: float) -> list[str]:
    """A text broken into lines that fit a width (a word longer than it has its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(lines[-1] + " " + word, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def shorten(text: str, limit: int) -> str:
    """A name up to its first ' (' or ', ', cut to a limit with an ellipsis."""
    text = re.split(r" \(|, ", text)[0]
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def amount(v: Any) -> str:
    """A count to one decimal, no trailing zeros; '?' when it is not a number."""
    try:
        return f"{round(float(v), 1):g}"
    except (TypeError, ValueError):
        return "?"
