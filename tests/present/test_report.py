"""`wargame report`: after-action reports of a tutorial game, a war (alliance-2023, seed 8), a
truncated log and a fork; the umpire's final map, the turning points in plain words and the
teams' rationales beside their orders; the public figure API; Markdown with PNG and SVG files;
and the HTML report opened in a real headless Chromium, which must load every figure and draw
the map without a script error."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

from engine import Game, Order, load_pair
from engine.cli.main import app
from engine.cli.report import report_format
from engine.io.eventlog import run_logged
from engine.io.fork import fork
from engine.io.replay import read_log
from engine.present.narrative import labels_of, tell
from engine.present.report import build_figures, render, write
from engine.present.turning import Names, Turning
from engine.sim.kernel import run
from engine.sim.kinds import can_see

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
FIGURES = {"rung", "detections", "c2", "losses"}
SECTIONS = ["Outcome", "Map", "Figures", "Turning points", "Timeline of key events",
            "Orders by turn", "Turn by turn"]
DRAW = re.compile(r"chance \d\.\d\d, drew \d\.\d\d: ")
DECISION = re.compile(r"Red chose \w+ with probability \d\.\d\d \(draw \d\.\d{3}\)")
SVG = "{http://www.w3.org/2000/svg}"
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]

runner = CliRunner()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tutorial game, the alliance-2023 war (seed 8), a cut copy of it and a fork."""
    base = tmp_path_factory.mktemp("report-logs")
    paths = {"tutorial": base / "tutorial.jsonl", "war": base / "war.jsonl"}
    run_logged(*load_pair("classroom-tutorial"), 0, paths["tutorial"])
    run_logged(*load_pair("alliance-2023"), 8, paths["war"])
    raw = paths["war"].read_bytes()
    paths["cut"] = base / "cut.jsonl"
    paths["cut"].write_bytes(raw[: len(raw) * 2 // 3])
    paths["fork"] = base / "fork.jsonl"
    fork(paths["war"], 3, paths["fork"], seed=5)
    return paths


@pytest.fixture(scope="module")
def html(logs: dict[str, Path]) -> dict[str, str]:
    return {name: render(path, "html") for name, path in logs.items()}


def h2(text: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", text)


def section(text: str, title: str) -> str:
    start = text.index(f"<h2>{title}</h2>")
    return text[start: text.index("</section>", start)]


@pytest.mark.parametrize("name", ["tutorial", "war"])
def test_report_has_every_section_and_four_embedded_figures(html, name: str) -> None:
    text = html[name]
    assert h2(text) == SECTIONS
    assert text.count('<img src="data:image/png;base64,') == 4
    for fig in FIGURES:
        assert f'id="fig-{fig}"' in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing from the network
    assert "notional" in text[text.index("<body"):][:3000].lower()


@pytest.mark.parametrize("name", ["tutorial", "war"])
def test_outcome_matches_the_footer(logs, html, name: str) -> None:
    reader = read_log(logs[name])
    list(reader.records())
    o = reader.footer["outcome"]
    expected = ("Deterrence held." if o["deterrence_held"]
                else f"Deterrence failed on turn {o['failure_turn']}.")
    assert expected in section(html[name], "Outcome")
    assert "truncated" not in html[name] and "is a fork" not in html[name]


def test_war_turning_points_explain_the_draws(logs, html) -> None:
    points = section(html["war"], "Turning points")
    assert DRAW.search(points) and DECISION.search(points)
    # every kind of chance draw the game made is put in words in the table of draws
    kinds = {r["kind"] for r in read_log(logs["war"]).records()}
    words = {"isr.search": "detection chance", "red.cyber.attack": "cyber attack chance",
             "c2.message.lost": "message loss chance", "c2.share.withheld": "sharing chance"}
    present = [w for k, w in words.items() if k in kinds]
    assert len(present) >= 2 and all(w in points for w in present), present
    timeline = section(html["war"], "Timeline of key events")
    assert "ARMED ATTACK" in timeline and "Article V" in timeline and "Umpire inject" in timeline


def test_war_keeps_the_truth_apart_from_what_blue_knows(logs, html) -> None:
    """Red's order of an armed attack is Red's (and the umpire's) to see; Blue learns of it by
    detection or effects, and Article V follows Blue's knowledge."""
    reader = read_log(logs["war"])
    records = list(reader.records())
    o = reader.footer["outcome"]
    assert o["failure_turn"] is not None and o["known_turn"] is not None
    timeline = section(html["war"], "Timeline of key events")
    assert re.search(r"<td>Red</td><td>ARMED ATTACK: Red crossed the threshold with \w+",
                     timeline)
    assert re.search(r"<td>Blue</td><td>Armed attack known: (detected|its effects landed) "
                     r"\(\w+ domain\)", timeline)
    assert f"Blue learned of it on turn {o['known_turn']}" in section(html["war"], "Outcome")
    known = next(r for r in records if r["kind"] == "alliance.armed_attack")
    article5 = next(r for r in records if r["kind"] == "alliance.article5")
    assert article5["seq"] > known["seq"] and article5["turn"] == o["article5_turn"]
    salvo = next(r for r in records if r["kind"] == "engagement.salvo")
    d = salvo["data"]
    assert (f"{d['good_shots']} on target against {d['intercepts']} successful interceptions, "
            f"{d['hits']} hits") in tell(salvo)


def test_orders_table_has_a_row_per_turn(logs, html) -> None:
    orders = section(html["tutorial"], "Orders by turn")
    turns = {r["turn"] for r in read_log(logs["tutorial"]).records() if r["kind"] == "orders"}
    assert orders.count("<tr>") == len(turns) + 1
    assert "isr_tempo(level=normal) [doctrine]" in orders


# ---- the debrief: map, turning points, rationales ----------------------------------------------

def points_of(text: str) -> list[str]:
    """The numbered turning points of a report (HTML), as plain text."""
    part = section(text, "Turning points")
    found = re.search(r"<ol>(.*?)</ol>", part)
    return [unescape(i) for i in re.findall(r"<li>(.*?)</li>", found.group(1))] if found else []


def test_map_is_the_umpires_final_picture(logs, html) -> None:
    part = section(html["war"], "Map")
    svg = part[part.index("<svg"): part.index("</svg>") + 6]
    shown = [unescape("".join(t.itertext())) for t in ET.fromstring(svg).iter("text")]
    reader = read_log(logs["war"])
    records = list(reader.records())
    red = [r for r in records if r["kind"] == "state.red"][-1]["data"]["groups"]
    blue = [r for r in records if r["kind"] == "state.blue"][-1]["data"]["batteries"]
    scenario = reader.header["scenario"]
    last = reader.footer["outcome"]["turns_played"]
    assert f"Umpire's picture at the end of turn {last}" in shown
    for gid, g in red.items():  # Red's groups where they ended, with their ships
        name = scenario["red"]["groups"][gid]["name"]
        assert any(t.startswith(f"\u25c6 {name}: {round(g['ships'], 1):g} ships") for t in shown)
    for key, b in blue.items():  # Blue's batteries with the launchers they had left
        assert f"\u25b2 {key.split('.')[1]}: {round(b['launchers'], 1):g} launchers" in shown
    assert "C2 LINKS" in shown and "svg" not in section(html["war"], "Outcome")


@pytest.mark.parametrize("name", ["tutorial", "war"])
def test_turning_points_are_few_and_in_plain_words(logs, html, name: str) -> None:
    points = points_of(html[name])
    assert 1 <= len(points) <= 5
    turns = [int(re.match(r"Turn (\d+), hour (\d+): ", p).group(1)) for p in points]  # type: ignore
    assert turns == sorted(turns)  # in the order they happened
    scenario = read_log(logs[name]).header["scenario"]
    ids = set(scenario["theater"]["zones"]) | set(scenario["red"]["groups"])
    ids |= {f"{r}.{b}" for r, reg in scenario["blue"]["littoral"].items()
            for b in reg["batteries"]}
    ids = {i for i in ids if "_" in i or "." in i}  # "militia" is a word too; "red_home" is not
    assert {"red_home", "disputed_islands", "coast_guard"} <= ids
    for point in points:
        assert "%" in point or "no chance" in point, point  # each with its chance
        assert not re.search(r"\d\.\d{3,}", point), point  # no raw floats
        assert not re.search(r"\b(True|False|None)\b", point), point
        words = set(re.findall(r"[\w.-]+", point))
        assert not words & ids, (words & ids, point)  # names, never raw ids
    assert "How they are chosen." in section(html[name], "Turning points")


def test_the_wars_turning_points_are_the_attack_and_how_blue_learned_of_it(logs, html) -> None:
    reader = read_log(logs["war"])
    records = list(reader.records())
    points = points_of(html["war"])
    o = reader.footer["outcome"]
    attack = [p for p in points if "Red chose an armed attack" in p]
    assert len(attack) == 1 and attack[0].startswith(f"Turn {o['failure_turn']},")
    decision = next(r for r in records if r["kind"] == "red.decision"
                    and r["turn"] == o["failure_turn"])
    armed = sum(v["p"] for k, v in decision["data"]["options"].items()
                if k in ("seize", "space_attack"))
    assert f"It had a {armed * 100:.0f}% chance of choosing one this turn" in attack[0]
    known = [p for p in points if p.startswith(f"Turn {o['known_turn']},")
             and "Blue learned of the armed attack" in p]
    assert len(known) == 1
    assert "an aircraft of the MQ-9 detachment" in known[0] or "effects landed" in known[0]


def test_turning_points_rank_by_effect_on_the_outcome() -> None:
    """Of many moments the five highest scores are kept: an unlikely armed attack beats a
    routine detection, and Red's closest call counts only when it never attacked."""
    names = Names({"red": {"groups": {"navy": {"name": "Red navy"}}}}, {"seize": "Seize it",
                                                                       "patrol": "Patrol"})
    threshold = frozenset({"seize"})

    def rec(seq: int, kind: str, data: dict, unit: str = "red") -> dict:
        return {"seq": seq, "turn": seq, "t": 24.0 * seq, "kind": kind, "unit": unit,
                "data": data}

    def decision(seq: int, choice: str, p_seize: float) -> dict:
        return rec(seq, "red.decision", {"choice": choice, "draw": 0.5, "options": {
            "seize": {"p": p_seize}, "patrol": {"p": 1 - p_seize}}})

    held = Turning(names, threshold)
    held.add(decision(1, "patrol", 0.1))
    held.add(decision(2, "patrol", 0.3))
    assert held.top() == ["Turn 2, hour 48: Red came closest to an armed attack. It had a 30% "
                          "chance of choosing one this turn; it did not, and chose patrol "
                          "(70%)."]
    war = Turning(names, threshold)
    for seq in range(1, 8):
        war.add(rec(seq, "isr.detect", {"group": "navy", "zone": "z", "p_detect": 0.9,
                                        "draw": 0.1}, unit="mq9.1"))
    war.add(decision(8, "patrol", 0.3))
    war.add(decision(9, "seize", 0.05))
    war.add(decision(10, "seize", 0.9))  # the war goes on: not a new turning point
    top = war.top()
    assert len(top) == 2  # the first sighting of the navy, then the attack
    assert top[1].startswith("Turn 9, hour 216: Red chose an armed attack: seize it. It had a "
                             "5% chance")
    assert "closest" not in " ".join(top)


def test_rationales_sit_beside_the_orders_escaped(tmp_path: Path) -> None:
    game = Game.load("classroom-tutorial")
    path = tmp_path / "class.jsonl"
    s = game.start_logged(4, path, {"blue": "class-blue", "red": "class-red"})
    while not s.over:
        s.submit("blue", [Order("isr_tempo", {"level": "surge"})], controller="class-blue",
                 rationale=f"Turn {s.turn}: <b>watch</b> the islands & \"report\"")
        s.submit("red", [Order("patrol")], controller="class-red")
        s.step()
    text = render(path, "html")
    orders = section(text, "Orders by turn")
    assert "<b>watch" not in text
    assert "<th>Blue orders</th><th>Blue&#x27;s reasons</th><th>Red orders</th>" in orders
    for turn in range(1, s.turn + 1):
        assert (f"<td>{turn}</td><td>isr_tempo(level=surge) [class-blue]</td><td>Turn {turn}: "
                "&lt;b&gt;watch&lt;/b&gt; the islands &amp; &quot;report&quot;</td>"
                "<td>patrol [class-red]</td><td>-</td>") in orders


def test_truncated_log_says_so_and_still_reports(html) -> None:
    text = html["cut"]
    assert "This log is truncated" in text and "Outcome (partial: the log is truncated)" in text
    assert h2(text) == SECTIONS and text.count("data:image/png;base64,") == 4


def test_forked_log_says_so(html) -> None:
    text = html["fork"]
    assert "This game is a fork" in text and "from the start of turn 3" in text
    assert "new seed 5" in text and "The game forks from its parent here" in text


def test_build_figures_contract_on_log_and_in_memory_records(logs) -> None:
    figures = build_figures(read_log(logs["war"]).records())
    assert set(figures) == FIGURES
    for fig in figures.values():
        assert isinstance(fig, Figure)
        titled = [ax for ax in fig.axes if ax.get_title()]
        assert titled and any(ax.get_xlabel() == "Turn" for ax in fig.axes)
        assert all(ax.get_ylabel() for ax in fig.axes if ax.get_xlabel() == "Turn")
    records: list = []
    run(*load_pair("classroom-tutorial"), 1, sink=_Sink(records))
    assert set(build_figures(records)) == FIGURES  # no header: the standard ladder


class _Sink:
    def __init__(self, out: list) -> None:
        self.out = out

    def emit(self, record: dict) -> None:
        self.out.append(record)

    def end_turn(self, turn: int) -> None:
        return None


# ---- what a side is told ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def alliance_games():
    """Four doctrine games of alliance-2024, every record kept."""
    scenario, rules = load_pair("alliance-2024")
    games = []
    for seed in range(4):
        records: list = []
        run(scenario, rules, seed, sink=_Sink(records))
        games.append(records)
    return scenario, rules, games


def test_blue_is_never_told_what_it_cannot_know(alliance_games) -> None:
    """Blue's story (the lines of the records it may see) never names a Red cyber or
    counterspace unit, nor a covert Red act before intelligence attributes it; outages say
    what is down and until when, never who did it."""
    scenario, rules, games = alliance_games
    labels = labels_of(rules)
    units = set(scenario.red.cyber) | set(scenario.red.counterspace)
    covert = {aid: a.label.lower() for aid, a in rules.actions.red.items()
              if a.domain in ("cyber", "space")}
    seen: dict[str, int] = {}
    for records in games:
        attributed: set[str] = set()
        for rec in records:
            kind = rec["kind"]
            if kind in ("red.cyber.attack", "red.counterspace.attack"):
                seen["attacks"] = seen.get("attacks", 0) + 1
            if "blue" not in rec["visible_to"]:
                continue
            assert can_see("blue", rec), rec
            if kind == "intel.attribution":
                attributed.add(rec["data"]["action"])
            line = tell(rec, labels)
            if line is None:
                continue
            seen[kind] = seen.get(kind, 0) + 1
            words = set(re.findall(r"[\w-]+", line))
            assert not words & units, line
            for aid, label in covert.items():
                if aid not in attributed:
                    assert aid not in words and label not in line.lower(), line
            if kind in ("c2.link.degraded", "space.degraded"):
                assert re.fullmatch(r"(C2 link [\w-]+|Space links) degraded until \d+\.\d h",
                                    line), line
            if kind == "intel.attribution":
                label = rules.actions.red[rec["data"]["action"]].label
                assert line == (f"Intelligence attributes the {label[0].lower()}{label[1:]} "
                                "to Red"), line
    # not vacuous: Red attacked, Blue saw outages and was told of attributions
    assert seen.get("attacks", 0) > 0 and seen.get("c2.link.degraded", 0) > 0
    assert seen.get("space.degraded", 0) > 0 and seen.get("intel.attribution", 0) > 0


def test_red_learns_of_its_own_acts_and_not_of_blue_attributions(alliance_games) -> None:
    _, rules, games = alliance_games
    red_lines = [tell(r, labels_of(rules)) for records in games for r in records
                 if "red" in r["visible_to"]]
    text = "\n".join(line for line in red_lines if line)
    assert "Red cyber attack on link" in text  # its own act, with its draw
    assert "Intelligence attributes" not in text and "C2 link" not in text


def test_markdown_writes_pngs_in_a_sibling_folder(logs, tmp_path: Path) -> None:
    out = tmp_path / "aar.md"
    written = write(logs["tutorial"], out, "md")
    folder = tmp_path / "aar_files"
    assert written[0] == out
    assert {p.name for p in written[1:]} == {f"{f}.png" for f in FIGURES} | {"map.svg"}
    text = out.read_text(encoding="utf-8")
    for fig in FIGURES:
        png = folder / f"{fig}.png"
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert f"](aar_files/{fig}.png)" in text
    assert "](aar_files/map.svg)" in text
    assert ET.fromstring((folder / "map.svg").read_text(encoding="utf-8")).tag == f"{SVG}svg"
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == SECTIONS
    assert DRAW.search(text.replace("\\", ""))
    inline = render(logs["tutorial"], "md")
    assert inline.count("](data:image/png;base64,") == 4
    assert inline.count("](data:image/svg+xml;base64,") == 1


def test_cli_report_writes_beside_the_log_by_default(logs, tmp_path: Path) -> None:
    log = tmp_path / "game.jsonl"
    shutil.copy(logs["tutorial"], log)
    result = runner.invoke(app, ["report", str(log)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "game.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert report_format(Path("aar.md"), None) == "md"
    assert report_format(Path("aar.md"), "html") == "html"
    assert report_format(None, None) == "html"


@pytest.mark.parametrize(("args", "message"), [
    (["missing.jsonl"], "cannot read"),
    (["{war}", "--format", "pdf"], "--format: expected html or md, found 'pdf'"),
])
def test_cli_report_bad_input_exits_2(logs, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["report", *(a.format(war=logs["war"]) for a in args)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


# ---- a real browser --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium; installed here when missing and possible, else the tests skip."""
    found = shutil.which("chromium")
    if found is None and shutil.which("apt-get") and _is_root():
        subprocess.run("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
                       "--no-install-recommends chromium", shell=True, capture_output=True,
                       timeout=900, check=False)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed and cannot be installed here "
                    "(apt-get install chromium)")
    return found


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _browse(chromium: str, page: Path, profile: Path, *extra: str) -> subprocess.Popen:
    args = [chromium, *CHROME_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", errors="replace")


def _finish(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return out, err


def test_report_renders_in_headless_chromium(chromium: str, html, tmp_path: Path) -> None:
    page = tmp_path / "war-report.html"
    page.write_text(html["war"], encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-war.png"
    shot.unlink(missing_ok=True)
    dom = _browse(chromium, page, tmp_path / "profile-dom", "--enable-logging=stderr", "--v=0",
                  "--dump-dom")
    pic = _browse(chromium, page, tmp_path / "profile-shot", f"--screenshot={shot}",
                  "--window-size=1280,4000")
    out, err = _finish(dom)
    _finish(pic)
    body = re.search(r"<body([^>]*)>", out)
    assert body, out[:500] + err[-2000:]
    attrs = dict(re.findall(r'(data-[\w-]+)="(\d+)"', body.group(1)))
    assert attrs == {"data-images": "4", "data-images-loaded": "4", "data-sections": "7",
                     "data-maps": "1", "data-maps-drawn": "1"}
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])
    assert (width, height) == (1280, 4000)


def test_the_console_check_catches_script_errors(chromium: str, tmp_path: Path) -> None:
    """The assertion above is not vacuous: a broken page shows up on stderr."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>window.addEventListener('load', "
                    "function () { missingFunction(); });</script></body></html>",
                    encoding="utf-8")
    _, err = _finish(_browse(chromium, page, tmp_path / "profile", "--enable-logging=stderr",
                             "--v=0", "--dump-dom"))
    assert any("Uncaught ReferenceError" in line for line in err.splitlines()
               if ":CONSOLE" in line)
