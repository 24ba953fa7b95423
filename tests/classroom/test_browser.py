"""The classroom in real browsers: two teams and an umpire play the whole tutorial.

A real ``wargame serve`` on 127.0.0.1 (a subprocess), Debian's chromium driven by Playwright:
Blue, Red and the umpire each in their own browser context, plus the projector. Each turn the
teams tick orders, give their reasons and submit; the umpire advances. In turn 3 the server is
killed (SIGKILL) and resumed from its log with the same links; the pages reconnect by themselves.
The finished log must pass ``wargame verify`` and hold the teams' reasons; no team page may ever
show what the model hides from that team; no page may log an error.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WARGAME = Path(sys.executable).with_name("wargame")
ROLES = ("blue", "red", "umpire", "projector")
SUBMITTED = "Submitted — hidden from the other team until the turn executes"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not at /usr/bin/chromium "
                                       "(CI installs it: apt-get install chromium)")

# What each team would like to order, turn by turn (action -> params). An action the menu
# refuses that turn is skipped; each turn at least one must be available.
PLAN: dict[str, dict[int, dict[str, dict[str, str]]]] = {
    "blue": {1: {"isr_tempo": {"level": "surge"}},
             2: {"littoral_posture": {"readiness": "dispersed"}, "consult": {}},
             3: {"signal_resolve": {}},
             4: {"authorize_engagement": {}, "harden_c2": {}},
             5: {"hold": {}}},
    "red": {1: {"patrol": {}},
            2: {"cyber_disrupt": {}},
            3: {"incursion": {}},
            4: {"seize": {}},
            5: {}},  # Red is late in turn 5: the umpire forces the turn with its doctrine
}
INJECT_NOTE = "UMPIRE-NOTE-FOR-BLUE: a typhoon warning; harden the links"


def reason(side: str, turn: int) -> str:
    return f"{side.upper()}-REASON-T{turn}: we expect the other side to test us"


# ---- the server ---------------------------------------------------------------------------------

class Server:
    """``wargame serve`` as a subprocess; its four links read from what it prints."""

    def __init__(self, args: list[str], stderr: Path) -> None:
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([str(WARGAME), "serve", *args], stdout=subprocess.PIPE,
                                     stderr=stderr.open("ab"), text=True, env=env)
        lines: queue.Queue[str] = queue.Queue()

        def drain() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line)

        threading.Thread(target=drain, daemon=True).start()
        self.links: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(self.links) < 4:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise AssertionError(f"wargame serve printed no links: {stderr.read_text()}"
                                     ) from None
            if m := re.match(r"\s*(blue|red|umpire|projector)\s+(http://\S+)", line):
                self.links[m[1]] = m[2]
        self.base = re.sub(r"/play/.*$", "", self.links["blue"])
        self.port = int(self.base.rsplit(":", 1)[1])

    def state(self, role: str) -> dict[str, Any]:
        token = self.links[role].rsplit("/", 1)[1]
        with urllib.request.urlopen(f"{self.base}/api/{token}/state", timeout=10) as r:
            data: dict[str, Any] = json.loads(r.read())
        return data

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


# ---- console errors -----------------------------------------------------------------------------

class Console:
    """Every error a page logs. Two kinds are expected and counted: the 422 of a deliberately
    refused request, and network errors while the server is down."""

    NETWORK = re.compile(r"net::ERR_|Failed to load resource")

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.refused = 0  # "status of 422" messages
        self.down = False

    def watch(self, page: Any, name: str) -> None:
        page.on("console", lambda m: self._console(name, m))
        page.on("pageerror", lambda e: self.errors.append(f"{name}: uncaught {e}"))

    def _console(self, name: str, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        if "status of 422" in text:
            self.refused += 1
        elif not (self.down and self.NETWORK.search(text)):
            self.errors.append(f"{name}: {text}")


# ---- what a team must never see -----------------------------------------------------------------

def knowledge(state: dict[str, Any]) -> str:
    """What a team's state JSON says it knows (everything but the map, which is drawn from it
    and is checked, not trusted)."""
    return json.dumps({k: v for k, v in state.items() if k != "map"}, ensure_ascii=False).lower()


def shown(pattern: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(pattern.lower())}(?![\w-])", text.lower()) is not None


def check_hidden(pages: dict[str, Any], server: Server, scenario: dict[str, Any],
                 pending: dict[str, dict[str, Any] | None]) -> None:
    """No team page shows the other team's pending orders or reasons, Red's cyber unit or a
    Red group unless its own state JSON knows it; the projector shows neither team's."""
    labels = {side: {a: spec["label"] for a, spec in scenario["rules"]["actions"][side].items()}
              for side in ("blue", "red")}
    for side, other in (("blue", "red"), ("red", "blue")):
        state = server.state(side)
        knows = knowledge(state)
        html = pages[side].content()
        assert other.upper() + "-REASON" not in html, f"{side} page shows {other}'s reasons"
        theirs = pending[other]
        for order in theirs["orders"] if theirs else []:
            for word in (order["action"], labels[other][order["action"]]):
                if "_" in word or " " in word:
                    assert not shown(word, html) or shown(word, knows), (
                        f"{side} page shows {other}'s pending order {word!r}")
        if side == "blue":
            secret = [("apt", "Red cyber unit")] + [
                (g, spec["name"]) for g, spec in scenario["scenario"]["red"]["groups"].items()]
            for ident, name in secret:
                for word in (ident, name):
                    assert not shown(word, html) or shown(ident, knows), (
                        f"blue page shows {word!r}, which Blue's state does not know")
            assert INJECT_NOTE not in pages["red"].content()
    projector = pages["projector"].content()
    assert "-REASON-" not in projector
    for side in ("blue", "red"):
        for order in (pending[side] or {"orders": []})["orders"]:
            label = labels[side][order["action"]]
            assert not shown(label, projector) or shown(label, knowledge(
                server.state("projector"))), f"projector shows {side}'s pending {label!r}"


def plain_words(page: Any) -> None:
    """A team page speaks in words: no raw booleans, nulls or long decimals."""
    text = page.inner_text("main")
    assert not re.search(r"\b(true|false|True|False|None|null|undefined|NaN)\b", text), text
    assert not re.search(r"\d\.\d{3,}", text), text


# ---- the browsers -------------------------------------------------------------------------------

def synced(pages: dict[str, Any], server: Server) -> None:
    """Wait until every page shows at least the room's current version."""
    version = server.state("umpire")["version"]
    for page in pages.values():
        page.wait_for_function("v => Number(document.body.dataset.version) >= v", arg=version)


def submit(page: Any, side: str, turn: int) -> list[dict[str, Any]]:
    """Tick this turn's planned orders on a team page, give reasons, submit."""
    from playwright.sync_api import expect
    expect(page.locator("#orders-title")).to_have_text(f"Your orders for turn {turn}")
    ticked = []
    for action, params in PLAN[side][turn].items():
        row = page.locator(f'#menu .order[data-action="{action}"]:not(.refused)')
        if row.count() == 0:
            continue
        row.locator("input[type=checkbox]").check()
        for name, value in params.items():
            row.locator(f'select[data-param="{name}"]').select_option(value)
        ticked.append({"action": action, "params": params})
    assert ticked, f"none of {side}'s planned orders is available in turn {turn}"
    page.fill("#rationale", reason(side, turn))
    page.click("#submit")
    expect(page.locator("#status")).to_have_text(SUBMITTED)
    expect(page.locator("#submitted")).to_be_visible()
    return ticked


def shoot(pages: dict[str, Any], moment: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for role, page in pages.items():
        page.screenshot(path=str(ARTIFACTS / f"classroom-{role}-{moment}.png"),
                        full_page=role != "projector")


@contextmanager
def browsers() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_two_teams_and_an_umpire_play_the_tutorial_in_browsers(tmp_path: Path) -> None:
    from playwright.sync_api import expect
    expect.set_options(timeout=10_000)
    started = time.monotonic()
    log = tmp_path / "game.jsonl"
    server = Server(["classroom-tutorial", "--port", "0", "--out", str(log)],
                    tmp_path / "server.err")
    console = Console()
    try:
        with browsers() as browser:
            pages: dict[str, Any] = {}
            for role in ROLES:
                size = {"width": 1920, "height": 1080} if role == "projector" else {
                    "width": 1400, "height": 900}
                context = browser.new_context(viewport=size)
                pages[role] = page = context.new_page()
                console.watch(page, role)
                page.goto(server.links[role])
            synced(pages, server)
            blue, red, ump, proj = (pages[r] for r in ROLES)
            scenario = json.loads(log.read_text().splitlines()[0])
            expect(blue.locator("#who")).to_contain_text("Blue team")
            expect(red.locator("#who")).to_contain_text("Red team")
            expect(proj.locator(".ladder .rung.now")).to_contain_text(
                "Routine presence and patrols")

            # turn 1: the umpire starts a 10-minute timer; the teams see it count down
            ump.fill("#minutes", "10")
            ump.click("#timer-form button[type=submit]")
            ump.click("#timer-resume")
            synced(pages, server)
            for page in (blue, red, proj):
                expect(page.locator("#timer")).to_have_text(re.compile(r"^\d{1,2}:\d\d$"))
            # advancing before anyone submitted is refused, with the reason on the page
            ump.click("#advance")
            expect(ump.locator("#advance-reasons")).to_contain_text(
                "Waiting for the orders of Alliance and Red")
            expect(ump.locator("#force-doctrine")).to_be_visible()
            # a stale choice (not on the menu) is refused by the server: reasons on the page
            blue.locator('#menu .order[data-action="isr_tempo"] input').check()
            blue.evaluate("""() => {
                const s = document.querySelector('#menu select[data-param="level"]');
                s.append(new Option('maximum', 'maximum')); s.value = 'maximum'; }""")
            blue.click("#submit")
            expect(blue.locator("#reasons")).to_contain_text("not one of")
            expect(blue.locator("#status")).to_contain_text("Not submitted")
            # the umpire fires the scripted inject early and queues a custom one on Blue
            ump.locator("#scripted button[data-inject='0']").click()
            expect(ump.locator("#scripted tbody")).to_contain_text("queued")
            ump.select_option("#inject-side", "blue")
            ump.select_option("#inject-action", "harden_c2")
            ump.fill("#inject-note", INJECT_NOTE)
            ump.click("#inject-form button[type=submit]")
            expect(ump.locator("#live")).to_contain_text(INJECT_NOTE)

            submitted: dict[int, dict[str, list[dict[str, Any]]]] = {}
            for turn in range(1, 6):
                submitted[turn] = {}
                if turn == 1:
                    blue.reload()  # the stale option goes; the form starts afresh
                    synced(pages, server)
                submitted[turn]["blue"] = submit(blue, "blue", turn)
                if turn == 3:
                    # the server dies mid-turn, Blue's orders in; the resumed game has lost them
                    # (a turn is kept once it has run) and Blue's page asks for them again
                    console.down = True
                    server.kill()
                    expect(blue.locator("#conn")).to_be_visible()
                    server2 = Server(["--resume", str(log), "--port", str(server.port)],
                                     tmp_path / "server.err")
                    assert server2.links == server.links, "the resumed game has other links"
                    server = server2
                    for page in pages.values():
                        expect(page.locator("#conn")).to_be_hidden()
                        page.wait_for_function("() => document.body.dataset.turn === '3'")
                        page.evaluate("() => 0")  # deliver the console events so far
                    console.down = False
                    assert server.state("umpire")["submitted"] == {"blue": False,
                                                                   "red": False}
                    expect(blue.locator("#status")).to_contain_text("please submit again")
                    submitted[turn]["blue"] = submit(blue, "blue", turn)
                if PLAN["red"][turn]:
                    submitted[turn]["red"] = submit(red, "red", turn)
                synced(pages, server)
                expect(ump.locator("#chips")).to_contain_text(
                    "orders in" if PLAN["red"][turn] else "waiting")
                # the umpire sees both sides' reasons; the teams and the projector do not
                expect(ump.locator("#blue-pending")).to_contain_text(reason("blue", turn))
                if PLAN["red"][turn]:
                    expect(ump.locator("#red-pending")).to_contain_text(reason("red", turn))
                umpire_state = server.state("umpire")
                check_hidden(pages, server, scenario,
                             {s: umpire_state["views"][s]["pending"] for s in ("blue", "red")})
                if turn == 1:
                    shoot(pages, "turn1-submitted")
                # the umpire runs the turn (forcing it with Red's doctrine when Red is late)
                ump.click("#advance" if PLAN["red"][turn] else "#force-doctrine")
                if turn < 5:
                    for page in pages.values():
                        page.wait_for_function("t => document.body.dataset.turn === String(t)",
                                               arg=turn + 1)
                synced(pages, server)
                check_hidden(pages, server, scenario, {"blue": None, "red": None})
                for page in (blue, red):
                    plain_words(page)
                    expect(page.locator("#story li").first).not_to_have_class("quiet")
                if turn == 1:
                    expect(proj.locator("#timeline .turn h3").first).to_have_text("Turn 1")
                if turn == 1:  # the custom inject was forced on Blue: Blue is told, Red is not
                    expect(blue.locator("#story")).to_contain_text(INJECT_NOTE)

            # the game is over on every page
            for page in pages.values():
                page.wait_for_function("() => document.body.dataset.over === 'true'")
                expect(page.locator("#outcome")).to_contain_text("The game is over after 5 turns")
            expect(ump.locator("#outcome")).to_contain_text("Deterrence")
            public = server.state("projector")
            label = next(r["label"] for r in public["ladder"] if r["id"] == public["rung"])
            expect(proj.locator(".ladder .rung.now")).to_contain_text(label)
            shoot(pages, "end")
            # the landing page says how to join and nothing about the game
            landing = browser.new_page()
            console.watch(landing, "landing")
            landing.goto(server.base + "/")
            expect(landing.locator("main")).to_contain_text("Ask your umpire for your link")
            assert scenario["scenario"]["meta"]["title"] not in landing.content()
            landing.screenshot(path=str(ARTIFACTS / "classroom-landing.png"))
    finally:
        server.kill()

    assert console.errors == [], console.errors
    assert console.refused <= 2  # the early advance and the stale choice, nothing else

    done = subprocess.run([str(WARGAME), "verify", str(log)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    orders = [json.loads(line) for line in log.read_text().splitlines()[1:]]
    orders = [r for r in orders if r.get("kind") == "orders" and r.get("side") in ("blue", "red")]
    for turn, sides in submitted.items():
        for side, ticked in sides.items():
            rec = next(r for r in orders if r["side"] == side and r["turn"] == turn)
            assert rec["data"]["rationale"] == reason(side, turn)
            assert sorted(o["action"] for o in rec["data"]["orders"]) == sorted(
                o["action"] for o in ticked)
    late = next(r for r in orders if r["side"] == "red" and r["turn"] == 5)
    assert late["data"]["controller"] == "umpire:doctrine" and "rationale" not in late["data"]
    assert time.monotonic() - started < 90, "the browser test should stay well under a minute"
