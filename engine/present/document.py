"""A small document model (headings, paragraphs, lists, tables, images, maps) with two renderers.

Briefs and reports build a ``Document`` of plain-text blocks; ``to_html`` writes one
self-contained page (inline CSS, images as base64 data URIs, every text escaped with
``html.escape``) and ``to_markdown`` writes Markdown, with images either inline as data URIs or
as links into a folder of PNG (and SVG) files the caller writes. No other module writes HTML by
hand. The one block that is not plain text, ``Svg``, holds a drawing made by
``engine.present.svgmap`` (which escapes its own texts); it is checked when made - well-formed
SVG with no script, no foreign content, no event handler and no link - and embedded as is.
"""

from __future__ import annotations

import base64
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# ---- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """A heading inside a section (level 3 or deeper; sections carry level 2)."""

    text: str
    level: int = 3


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text, optionally led by a bold phrase."""

    text: str
    lead: str = ""


@dataclass(frozen=True)
class Callout:
    """A boxed paragraph that must not be missed: kind ``notice``, ``warning`` or ``info``."""

    text: str
    kind: str = "notice"
    lead: str = ""


@dataclass(frozen=True)
class Items:
    """A bulleted (or numbered) list of plain-text items."""

    items: tuple[str, ...]
    numbered: bool = False


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells with a header row, a caption, and compact (content) width."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    compact: bool = False


@dataclass(frozen=True)
class Image:
    """A PNG figure: ``name`` is its file stem, ``title`` its caption; ``wide`` spans a row."""

    name: str
    png: bytes
    title: str
    alt: str = ""
    wide: bool = False


_SVG = "{http://www.w3.org/2000/svg}"
_BANNED = {"script", "foreignObject", "iframe", "object", "embed", "image", "use", "a",
           "animate", "set", "style"}


@dataclass(frozen=True)
class Svg:
    """An SVG drawing (a map), embedded inline in HTML; in Markdown an image (a data URI, or a
    file ``<name>.svg`` the caller writes). ValueError unless it is safe, self-contained SVG."""

    name: str
    svg: str
    title: str
    alt: str = ""

    def __post_init__(self) -> None:
        try:
            root = ET.fromstring(self.svg)
        except ET.ParseError as e:
            raise ValueError(f"svg {self.name}: not well-formed ({e})") from None
        if root.tag != f"{_SVG}svg" or not self.svg.lstrip().startswith("<svg"):
            raise ValueError(f"svg {self.name}: the root must be an <svg> element")
        for el in root.iter():
            tag = el.tag.rpartition("}")[2]
            attrs = [a.rpartition("}")[2].lower() for a in el.attrib]
            if tag in _BANNED or any(a.startswith("on") or a == "href" for a in attrs):
                raise ValueError(f"svg {self.name}: <{tag}> or its attributes may run code or "
                                 "fetch something")


Block = Heading | Paragraph | Callout | Items | Table | Image | Svg


@dataclass(frozen=True)
class Section:
    """A titled part of a document (an HTML <section>, a Markdown level-2 heading)."""

    title: str
    blocks: tuple[Block, ...]
    anchor: str = ""

    @property
    def slug(self) -> str:
        """The section's id: its anchor, or its title in lower-case words joined by hyphens."""
        return self.anchor or re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass(frozen=True)
class Document:
    """A whole brief or report: title, subtitle lines, top callouts and sections."""

    title: str
    sections: tuple[Section, ...]
    subtitle: tuple[str, ...] = ()
    callouts: tuple[Callout, ...] = ()
    probe: bool = False  # add the load probe script (HTML only): see _PROBE
    meta: dict[str, str] = field(default_factory=dict)
    accent: str = ""  # the accent colour (#rrggbb) of headings and rules: a side's colour

    def __post_init__(self) -> None:
        if self.accent and not re.fullmatch(r"#[0-9a-fA-F]{6}", self.accent):
            raise ValueError(f"accent: expected a colour like #2563eb, found '{self.accent}'")

    def images(self) -> list[Image]:
        """Every image in document order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Image)]

    def drawings(self) -> list[Svg]:
        """Every SVG drawing in document order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Svg)]


def png_data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# ---- HTML ------------------------------------------------------------------------------------

_CSS = """
:root { --ink: #1d2433; --muted: #5a6478; --rule: #d5dae3; --band: #f3f5f9;
  --accent: #1f4e8c; --warn-bg: #fff4e0; --warn: #a35a00; --note-bg: #eaf1fb; }
* { box-sizing: border-box; }
html { font-size: 17px; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 40px 64px; }
header.doc { border-bottom: 4px solid var(--accent); padding-bottom: 14px; margin-bottom: 18px; }
h1 { font-size: 2.0rem; line-height: 1.2; margin: 0 0 6px; color: var(--accent); }
header.doc p { margin: 2px 0; color: var(--muted); }
h2 { font-size: 1.45rem; margin: 0 0 12px; padding-bottom: 4px;
  border-bottom: 2px solid var(--rule); color: var(--accent); }
h3 { font-size: 1.12rem; margin: 20px 0 8px; }
h4 { font-size: 1.0rem; margin: 16px 0 6px; color: var(--muted); }
section { margin: 30px 0 0; }
nav.toc { background: var(--band); border-radius: 6px; padding: 10px 18px; margin: 16px 0; }
nav.toc ol { margin: 4px 0; padding-left: 22px; columns: 2; }
nav.toc a { color: var(--accent); text-decoration: none; }
.callout { border-left: 6px solid var(--accent); background: var(--note-bg);
  padding: 10px 16px; margin: 12px 0; border-radius: 4px; }
.callout.warning { border-color: var(--warn); background: var(--warn-bg); }
.callout.notice { font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 0.9rem; }
table.compact { width: auto; min-width: 50%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; color: var(--muted); }
th, td { border: 1px solid var(--rule); padding: 5px 9px; text-align: left;
  vertical-align: top; }
th { background: var(--accent); color: #fff; font-weight: 600; }
tbody tr:nth-child(even) { background: var(--band); }
.figures { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 20px; }
figure { margin: 0; border: 1px solid var(--rule); border-radius: 6px; padding: 10px;
  background: #fff; }
figure.wide { grid-column: 1 / -1; }
figure img { display: block; width: 100%; height: auto; }
figure.map { margin: 8px 0 16px; max-width: 940px; }
figure.map svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: var(--muted); margin-top: 6px; }
ul, ol { padding-left: 24px; }
li { margin: 3px 0; }
@media (max-width: 900px) { .figures { grid-template-columns: 1fr; } }
@media print { main { max-width: none; padding: 0; } section { break-inside: avoid-page; } }
"""

# On load, record on <body> how many images decoded, how many sections exist and how many maps
# were drawn, so a headless browser's DOM dump shows whether the page rendered.
_PROBE = """
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; }
  }
  document.body.setAttribute("data-images", String(imgs.length));
  document.body.setAttribute("data-images-loaded", String(ok));
  document.body.setAttribute("data-sections",
                             String(document.querySelectorAll("section").length));
  var maps = document.querySelectorAll("figure.map svg"), drawn = 0;
  for (var j = 0; j < maps.length; j++) {
    var box = maps[j].getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && maps[j].querySelector("circle")) { drawn++; }
  }
  document.body.setAttribute("data-maps", String(maps.length));
  document.body.setAttribute("data-maps-drawn", String(drawn));
});
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_block(b: Block) -> str:
    if isinstance(b, Heading):
        level = min(max(b.level, 3), 6)
        return f"<h{level}>{_e(b.text)}</h{level}>"
    if isinstance(b, Paragraph):
        lead = f"<strong>{_e(b.lead)}</strong> " if b.lead else ""
        return f"<p>{lead}{_e(b.text)}</p>"
    if isinstance(b, Callout):
        lead = f"<strong>{_e(b.lead)}</strong> " if b.lead else ""
        return f'<div class="callout {_e(b.kind)}">{lead}{_e(b.text)}</div>'
    if isinstance(b, Items):
        tag = "ol" if b.numbered else "ul"
        return f"<{tag}>" + "".join(f"<li>{_e(i)}</li>" for i in b.items) + f"</{tag}>"
    if isinstance(b, Table):
        return _html_table(b)
    if isinstance(b, Svg):
        inline = b.svg.replace(f' xmlns="{_SVG[1:-1]}"', "", 1)  # HTML needs no namespace
        return (f'<figure id="fig-{_e(b.name)}" class="map" aria-label="{_e(b.alt or b.title)}">'
                f"{inline}<figcaption>{_e(b.title)}</figcaption></figure>")
    return _html_image(b)


def _html_table(t: Table) -> str:
    caption = f"<caption>{_e(t.caption)}</caption>" if t.caption else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in t.header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
                   for row in t.rows)
    cls = ' class="compact"' if t.compact else ""
    return f"<table{cls}>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_image(i: Image) -> str:
    cls = ' class="wide"' if i.wide else ""
    return (f'<figure id="fig-{_e(i.name)}"{cls}><img src="{png_data_uri(i.png)}" '
            f'alt="{_e(i.alt or i.title)}"><figcaption>{_e(i.title)}</figcaption></figure>')


def _html_blocks(blocks: tuple[Block, ...]) -> str:
    """Blocks in order, with runs of consecutive images laid out in a grid."""
    out: list[str] = []
    run: list[str] = []
    for b in blocks:
        if isinstance(b, Image):
            run.append(_html_image(b))
            continue
        if run:
            out.append('<div class="figures">' + "".join(run) + "</div>")
            run = []
        out.append(_html_block(b))
    if run:
        out.append('<div class="figures">' + "".join(run) + "</div>")
    return "\n".join(out)


def _html_section(s: Section) -> str:
    return (f'<section id="{_e(s.slug)}">\n<h2>{_e(s.title)}</h2>\n'
            f"{_html_blocks(s.blocks)}\n</section>")


def _html_toc(doc: Document) -> str:
    links = "".join(f'<li><a href="#{_e(s.slug)}">{_e(s.title)}</a></li>'
                    for s in doc.sections)
    return f'<nav class="toc"><strong>Contents</strong><ol>{links}</ol></nav>'


def to_html(doc: Document) -> str:
    """The document as one self-contained HTML page (no external resources)."""
    metas = "".join(f'<meta name="{_e(k)}" content="{_e(v)}">\n'
                    for k, v in sorted(doc.meta.items()))
    probe = f"<script>{_PROBE}</script>\n" if doc.probe else ""
    accent = f"\n:root {{ --accent: {doc.accent}; }}" if doc.accent else ""
    subtitle = "".join(f"<p>{_e(line)}</p>" for line in doc.subtitle)
    callouts = "".join(_html_block(c) for c in doc.callouts)
    sections = "\n".join(_html_section(s) for s in doc.sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{metas}<title>{_e(doc.title)}</title>\n<style>{_CSS}{accent}</style>\n{probe}</head>\n"
        f"<body>\n<main>\n<header class=\"doc\"><h1>{_e(doc.title)}</h1>{subtitle}</header>\n"
        f"{callouts}\n{_html_toc(doc)}\n{sections}\n</main>\n</body>\n</html>\n"
    )


# ---- Markdown --------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Text with Markdown's special characters backslash-escaped, on one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _md_block(b: Block, image_dir: str | None) -> str:
    if isinstance(b, Heading):
        return "#" * min(max(b.level, 3), 6) + " " + md_escape(b.text)
    if isinstance(b, Paragraph):
        lead = f"**{md_escape(b.lead)}** " if b.lead else ""
        return lead + md_escape(b.text)
    if isinstance(b, Callout):
        lead = md_escape(b.lead) if b.lead else b.kind.capitalize() + ":"
        return f"> **{lead}** {md_escape(b.text)}"
    if isinstance(b, Items):
        return "\n".join(f"{f'{n}.' if b.numbered else '-'} {md_escape(i)}"
                         for n, i in enumerate(b.items, start=1))
    if isinstance(b, Table):
        return _md_table(b)
    if isinstance(b, Svg):
        target = (f"{image_dir}/{b.name}.svg" if image_dir else "data:image/svg+xml;base64,"
                  + base64.b64encode(b.svg.encode("utf-8")).decode("ascii"))
        return f"![{md_escape(b.alt or b.title)}]({target})\n\n*{md_escape(b.title)}*"
    return _md_image(b, image_dir)


def _md_table(t: Table) -> str:
    lines = [f"*{md_escape(t.caption)}*", ""] if t.caption else []
    lines.append("| " + " | ".join(md_escape(h) for h in t.header) + " |")
    lines.append("|" + "---|" * len(t.header))
    lines += ["| " + " | ".join(md_escape(c) or " " for c in row) + " |" for row in t.rows]
    return "\n".join(lines)


def _md_image(i: Image, image_dir: str | None) -> str:
    target = f"{image_dir}/{i.name}.png" if image_dir else png_data_uri(i.png)
    return f"![{md_escape(i.alt or i.title)}]({target})\n\n*{md_escape(i.title)}*"


def to_markdown(doc: Document, image_dir: str | None = None) -> str:
    """The document as Markdown; images link into ``image_dir`` if given, else are data URIs."""
    parts = [f"# {md_escape(doc.title)}"]
    parts += [md_escape(line) for line in doc.subtitle]
    parts += [_md_block(c, image_dir) for c in doc.callouts]
    for s in doc.sections:
        parts.append(f"## {md_escape(s.title)}")
        parts += [_md_block(b, image_dir) for b in s.blocks]
    return "\n\n".join(parts) + "\n"
