"""`wargame report`: after-action reports of a tutorial game, a war (alliance-2023, seed 42), a
truncated log and a fork; the public figure API; Markdown with PNG files; and the HTML report
opened in a real headless Chromium, which must load every figure without a script error."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

from engine import load_pair
from engine.cli.main import app
from engine.cli.report import report_format
from engine.io.eventlog import run_logged
from engine.io.replay import fork, read_log
from engine.present.narrative import labels_of, tell
from engine.present.report import build_figures, render, write
from engine.sim.kernel import run
from engine.sim.kinds import can_see

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
FIGURES = {"rung", "detections", "c2", "losses"}
SECTIONS = ["Outcome", "Figures", "Turning points", "Timeline of key events", "Orders by turn",
            "Turn by turn"]
DRAW = re.compile(r"chance \d\.\d\d, drew \d\.\d\d: ")
DECISION = re.compile(r"Red chose \w+ with probability \d\.\d\d \(draw \d\.\d{3}\)")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]

runner = CliRunner()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tutorial game, the alliance-2023 war (seed 42), a cut copy of it and a fork."""
    base = tmp_path_factory.mktemp("report-logs")
    paths = {"tutorial": base / "tutorial.jsonl", "war": base / "war.jsonl"}
    run_logged(*load_pair("classroom-tutorial"), 0, paths["tutorial"])
    run_logged(*load_pair("alliance-2023"), 42, paths["war"])
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
    assert written[0] == out and {p.name for p in written[1:]} == {f"{f}.png" for f in FIGURES}
    text = out.read_text(encoding="utf-8")
    for fig in FIGURES:
        png = folder / f"{fig}.png"
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert f"](aar_files/{fig}.png)" in text
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == SECTIONS
    assert DRAW.search(text.replace("\\", ""))
    inline = render(logs["tutorial"], "md")
    assert inline.count("](data:image/png;base64,") == 4


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
    assert attrs == {"data-images": "4", "data-images-loaded": "4", "data-sections": "6"}
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
