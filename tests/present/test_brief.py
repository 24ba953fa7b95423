"""`wargame brief`: each side's handout has its sections, keeps the other side's secrets (in the
text and on its map), renders as well-formed HTML and Markdown in its side's colour, and the
command fails cleanly on bad input."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import load_pair
from engine.cli.main import app
from engine.present.brief import build_brief, render_brief
from engine.present.svgmap import BLUE, RED
from engine.spec.scenario import with_values

WARGAME = Path(sys.executable).parent / "wargame"
SIDES = ("blue", "red", "white")
COMMON = ["Situation", "Objectives", "Action menu", "Escalation ladder", "How a turn works"]
SECTIONS = {
    "blue": ["Situation", "Your forces", *COMMON[1:]],
    "red": ["Situation", "Your forces", *COMMON[1:]],
    "white": ["Situation", "Blue forces", "Red forces", *COMMON[1:], "Red's decision model",
              "Blue doctrine rules", "Scheduled injects", "Adjudication tables"],
}
RED_ONLY = ["Red's decision model", "rationality", "weight: escalation_risk", "Red cyber unit",
            "Red surface action group", "Firebreak", "Value if it works", "jam_space"]
BLUE_ONLY = ["Blue doctrine rules", "Surge ISR when Red is seen", "MQ-9 detachment, Kanoya",
             "isr-usfj", "C2 links", "authorize_engagement", "rationality"]
WHITE_ONLY = ["Scheduled injects", "Intelligence warns of a cyber campaign"]

runner = CliRunner()


@pytest.fixture(scope="module")
def pair():
    return load_pair("alliance-2024")


class Outline(HTMLParser):
    """Collects headings and checks that every non-void element is closed in order."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.headings: dict[str, list[str]] = {"h1": [], "h2": [], "h3": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag in self.headings:
            self._in = tag
            self.headings[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.headings[self._in][-1] += data


def outline(text: str) -> Outline:
    parser = Outline()
    parser.feed(text)
    parser.close()
    return parser


def md_headings(text: str, level: int = 2) -> list[str]:
    mark = "#" * level + " "
    return [line[len(mark):].replace("\\", "") for line in text.splitlines()
            if line.startswith(mark)]


@pytest.mark.parametrize("side", SIDES)
def test_markdown_brief_has_its_sections_and_says_notional_first(pair, side: str) -> None:
    text = render_brief(*pair, side, "md")
    assert md_headings(text) == SECTIONS[side]
    top = text[:700].lower()
    assert "notional" in top and "abstract adversary" in top
    assert "Alliance posture after the 2024 Tokyo 2+2" in text.splitlines()[0]


@pytest.mark.parametrize("side", SIDES)
def test_html_brief_is_well_formed_with_the_same_outline(pair, side: str) -> None:
    text = render_brief(*pair, side, "html")
    parsed = outline(text)
    assert parsed.problems == [] and parsed.stack == []
    assert len(parsed.headings["h1"]) == 1
    assert parsed.headings["h2"] == SECTIONS[side]
    assert text.count("<section") == len(SECTIONS[side])
    assert "http://" not in text and "https://" not in text  # self-contained
    assert "notional" in text[text.index("<body"):][:2000].lower()


def test_blue_brief_keeps_red_secrets(pair) -> None:
    text = render_brief(*pair, "blue", "md").replace("\\", "")
    for secret in RED_ONLY + WHITE_ONLY + ["Blue doctrine rules"]:
        assert secret not in text, secret
    assert "MQ-9 detachment, Kanoya" in text and "isr-usfj" in text


def test_red_brief_keeps_blue_secrets(pair) -> None:
    text = render_brief(*pair, "red", "md").replace("\\", "")
    for secret in BLUE_ONLY + WHITE_ONLY:
        assert secret not in text, secret
    assert "Red surface action group" in text and "jam_space" in text


@pytest.mark.parametrize(("side", "secrets"), [("blue", RED_ONLY + WHITE_ONLY),
                                               ("red", BLUE_ONLY + WHITE_ONLY)])
def test_html_brief_and_its_map_keep_the_other_sides_secrets(pair, side: str,
                                                             secrets: list[str]) -> None:
    text = unescape(render_brief(*pair, side, "html"))
    for secret in secrets:
        assert secret not in text, secret


def map_texts(page: str) -> list[str]:
    """The visible texts of the one map in an HTML brief."""
    assert page.count("<svg") == 1 and page.count('<figure id="fig-map" class="map"') == 1
    svg = page[page.index("<svg"): page.index("</svg>") + 6]
    return [unescape("".join(t.itertext())) for t in ET.fromstring(svg).iter("text")]


def test_each_brief_maps_the_public_theater_and_its_own_forces(pair) -> None:
    scenario, _ = pair
    groups = [g.name for g in scenario.red.groups.values()]
    zones = [z.name for z in scenario.theater.zones.values()]
    shown = {side: map_texts(render_brief(*pair, side, "html")) for side in SIDES}
    for side in SIDES:
        assert all(z in shown[side] for z in zones) and "Red's objective" in shown[side]
    batteries = ["\u25b2 b1: 4 launchers", "\u25b2 b2: 4 launchers"]
    assert all(b in shown["blue"] for b in batteries) and "C2 LINKS" in shown["blue"]
    assert not [t for t in shown["blue"] if any(g in t for g in groups)]
    assert all(any(t.startswith(f"\u25c6 {g}: ") for t in shown["red"]) for g in groups)
    assert not [t for t in shown["red"] if "launchers" in t or t == "C2 LINKS"]
    assert all(b in shown["white"] for b in batteries) and "C2 LINKS" in shown["white"]
    assert all(any(g in t for t in shown["white"]) for g in groups)


def test_markdown_brief_embeds_the_map_as_an_svg_image(pair) -> None:
    text = render_brief(*pair, "blue", "md")
    found = re.findall(r"\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", text)
    assert len(found) == 1
    svg = base64.b64decode(found[0]).decode("utf-8")
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg" and "launchers" in svg


def test_each_brief_is_drawn_in_its_sides_colour(pair) -> None:
    pages = {side: render_brief(*pair, side, "html") for side in SIDES}
    assert f"--accent: {BLUE};" in pages["blue"] and f"--accent: {RED};" in pages["red"]
    assert BLUE not in pages["red"].split("<style>")[1].split("</style>")[0]
    assert f"--accent: {BLUE};" not in pages["white"] and f"--accent: {RED};" not in pages["white"]
    assert f'fill="{BLUE}"' in pages["blue"] and f'fill="{RED}"' in pages["red"]  # on the map


def test_fog_of_war_section_follows_the_information_model(pair) -> None:
    """Blue sees outages, not their cause, and learns of an armed attack by detection or
    effects; Red sees what its forces see; an inject is told to the side it is forced on."""
    blue, red, white = (render_brief(*pair, side, "md").replace("\\", "") for side in SIDES)
    assert "as Red's only when your intelligence attributes it" in blue
    assert "You learn of an armed attack when you detect the attacking force" in blue
    assert "ISR aircraft over your groups or your objective" in red
    assert "what its intelligence attributes stay hidden from you" in red
    assert "the turn Red ordered an armed attack and the turn Blue learned of it" in white
    for text in (blue, red):
        assert "An umpire's inject is told to the team it is forced on" in text
        assert "ISR aircraft on station" not in text  # Red sees them only over its groups
        assert "whether or not Blue knows it yet" in text


def test_white_brief_holds_both_sides_and_the_umpire_material(pair) -> None:
    text = render_brief(*pair, "white", "md").replace("\\", "")
    for item in RED_ONLY + BLUE_ONLY + WHITE_ONLY:
        assert item in text, item


def test_action_menu_names_the_rung_and_group_each_action_signals(pair) -> None:
    scenario, rules = pair
    doc = build_brief(scenario, rules, "red")
    menu = next(s for s in doc.sections if s.title == "Action menu")
    table = next(b for b in menu.blocks if hasattr(b, "rows"))
    labels = {r.id: r.label for r in rules.ladder.rungs()}
    groups = {r.id: g.name for g in rules.ladder.groups for r in g.rungs}
    rows = {row[0]: row for row in table.rows}
    assert set(rows) == set(rules.actions.red)
    for aid, action in rules.actions.red.items():
        assert labels[action.signals] in rows[aid][2] and rows[aid][3] == groups[action.signals]


def test_preconditions_and_parameters_are_in_words(pair) -> None:
    text = render_brief(*pair, "blue", "md").replace("\\", "")
    assert "level: low, normal, surge (default normal)" in text
    assert "the ladder is at least 'Incursions, harassment and disruptive cyber'" in text


def test_text_is_escaped_in_html(pair) -> None:
    scenario, rules = pair
    odd = with_values(scenario, {"meta.summary": "<script>alert(1)</script> & <b>bold</b>"})
    text = render_brief(odd, rules, "blue", "html")
    assert "<script>alert" not in text and "<b>bold" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in text


def test_render_brief_refuses_unknown_side_or_format(pair) -> None:
    with pytest.raises(ValueError, match="expected blue, red or white"):
        render_brief(*pair, "green", "md")
    with pytest.raises(ValueError, match="expected md or html"):
        render_brief(*pair, "blue", "pdf")


def test_cli_brief_prints_to_stdout_and_writes_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["brief", "classroom-tutorial", "--side", "red"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Red team")
    out = tmp_path / "white.html"
    result = runner.invoke(app, ["brief", "--side", "white", "--format", "html", "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert outline(out.read_text(encoding="utf-8")).headings["h2"] == SECTIONS["white"]


@pytest.mark.parametrize(("args", "message"), [
    (["--side", "green"], "--side: expected blue, red or white, found 'green'"),
    (["--format", "pdf"], "--format: expected md or html, found 'pdf'"),
    (["no-such-scenario"], "no such file or built-in scenario"),
])
def test_cli_brief_bad_input_exits_2_with_a_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["brief", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_installed_command_bad_side_has_no_traceback() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    result = subprocess.run([str(WARGAME), "brief", "--side", "purple"], capture_output=True,
                            text=True, encoding="utf-8", env=env, timeout=120, check=False)
    assert result.returncode == 2
    assert "error: --side: expected blue, red or white, found 'purple'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout and result.stdout == ""
