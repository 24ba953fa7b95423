"""The classroom server for real: ``wargame serve`` as a subprocess on 127.0.0.1, driven with
httpx. Tokens (missing, forged, truncated, the other side's endpoints), forged and malformed
requests, oversized bodies, a burst of submissions, an events client that reconnects; then a
game killed twice and resumed twice that ends with the same log as one never interrupted."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.classroom import tokens as tokens_module
from engine.classroom.app import MAX_BODY, build_app
from engine.classroom.room import Room
from engine.classroom.tokens import Tokens, new_tokens, tokens_path
from engine.game import Game
from engine.spec.order import Order

WARGAME = str(Path(sys.executable).parent / "wargame")
ROLES = ("blue", "red", "umpire", "projector")
LINK = re.compile(r"^\s+(blue|red|umpire|projector)\s+(http://\S+)/play/(\S+)\s*$")


@dataclass
class Server:
    proc: subprocess.Popen[str]
    base: str
    tokens: dict[str, str]
    printed: list[str]
    stderr: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def serve(*args: str, cwd: Path) -> Server:
    """Start ``wargame serve ARGS`` and wait for its four links."""
    err = cwd / f"serve-{secrets.token_hex(4)}.stderr"
    with err.open("w") as sink:
        proc = subprocess.Popen([WARGAME, "serve", *args], cwd=cwd, text=True,
                                stdout=subprocess.PIPE, stderr=sink)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    printed: list[str] = []
    found: dict[str, str] = {}
    base = ""
    try:
        while len(found) < 4:
            line = lines.get(timeout=30)
            if line is None:
                raise AssertionError(f"wargame serve exited: {printed}\n{err.read_text()}")
            printed.append(line)
            if m := LINK.match(line):
                base, found[m.group(1)] = m.group(2), m.group(3)
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise
    return Server(proc, base, found, printed, err)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where = tmp_path_factory.mktemp("served")
    s = serve("classroom-tutorial", "--port", "0", "--out", str(where / "g.jsonl"), cwd=where)
    try:
        yield s
    finally:
        s.stop()
    assert "Traceback" not in s.stderr.read_text()  # no request made the server fail


def orders_of(action: str, **params: str) -> dict[str, Any]:
    return {"action": action, "params": params}


SURGE = orders_of("isr_tempo", level="surge")


def state(c: httpx.Client, token: str) -> dict[str, Any]:
    r = c.get(f"/api/{token}/state")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# ---- who may do what -------------------------------------------------------------------------

def test_four_links_on_the_real_port(server: Server) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base)
    assert not server.base.endswith(":0")
    assert len(set(server.tokens.values())) == 4
    assert all(len(t) >= 32 for t in server.tokens.values())
    with server.client() as c:
        for role, token in server.tokens.items():
            page = c.get(f"/play/{token}")
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            # the token in the page's address never leaves in a Referer; no site frames it
            assert page.headers["referrer-policy"] == "no-referrer"
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["cache-control"] == "no-store"
            assert state(c, token)["role"] == role


def test_no_token_gets_only_the_landing_page(server: Server) -> None:
    with server.client() as c:
        landing = c.get("/")
        assert landing.status_code == 200 and "text/html" in landing.headers["content-type"]
        assert landing.headers["referrer-policy"] == "no-referrer"
        assert not any(t in landing.text for t in server.tokens.values())
        assert '"observation"' not in landing.text
        for path in ("/play/", "/play", "/api/state", "/api//state", "/api/events",
                     "/static/../app.py", "/static/%2e%2e%2fapp.py", "/static/tokens.json"):
            assert c.get(path).status_code == 404, path
        assert c.post("/api/orders", json={"orders": []}).status_code in (404, 405)
        assert c.get("/static/app.js").status_code == 200


def near_misses(token: str) -> list[str]:
    last = "A" if token[-1] != "A" else "B"
    return [token[:-1], token[:16], token + "A", token[:-1] + last, token.swapcase(),
            f"{token} ", secrets.token_urlsafe(24)]


def test_forged_and_truncated_tokens_get_404(server: Server) -> None:
    with server.client() as c:
        for token in server.tokens.values():
            for forged in near_misses(token):
                for r in (c.get(f"/play/{forged}"), c.get(f"/api/{forged}/state"),
                          c.get(f"/api/{forged}/events"),
                          c.post(f"/api/{forged}/orders", json={"orders": [SURGE]}),
                          c.post(f"/api/{forged}/umpire/advance", json={"late": "hold"}),
                          c.post(f"/api/{forged}/umpire/timer", json={"do": "pause"})):
                    assert r.status_code == 404, (forged, r.request.url)
                    assert r.json() == {"error": "unknown link"}
        assert state(c, server.tokens["umpire"])["turn"] == 1  # nothing was forced


def test_role_of_compares_every_role_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    toks = new_tokens()
    calls: list[tuple[bytes, bytes]] = []
    real = tokens_module.hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens_module.hmac, "compare_digest", recording)
    blue = toks.by_role["blue"]
    assert toks.role_of(blue) == "blue"
    assert len(calls) == 4  # the first role matched, yet every role was compared
    assert {a for a, _ in calls} == {t.encode() for t in toks.by_role.values()}
    calls.clear()
    near = blue[:-1] + ("A" if blue[-1] != "A" else "B")
    assert toks.role_of(near) is None
    assert len(calls) == 4 and all(b == near.encode() for _, b in calls)
    assert toks.role_of(toks.by_role["projector"]) == "projector"
    assert Tokens(toks.by_role).role_of("") is None


def test_a_team_sees_and_orders_only_its_own_side(server: Server) -> None:
    blue, red = server.tokens["blue"], server.tokens["red"]
    with server.client() as c:
        r = c.post(f"/api/{red}/orders", json={"orders": [orders_of("patrol")],
                                              "rationale": "RED-SECRET keep them guessing"})
        assert r.status_code == 200 and r.json() == {"ok": True}
        r = c.post(f"/api/{blue}/orders", json={"orders": [SURGE],
                                               "rationale": "BLUE-SECRET watch closely"})
        assert r.status_code == 200
        # a team token cannot submit the other side's orders: its menu is its own...
        r = c.post(f"/api/{blue}/orders", json={"orders": [orders_of("seize")]})
        assert r.status_code == 422
        assert r.json()["reasons"] == ["seize: 'seize' is not on blue's menu"]
        # ...and naming the other side changes nothing: it is still the caller's submission
        r = c.post(f"/api/{blue}/orders", json={"side": "red", "orders": [
            {**orders_of("isr_tempo", level="low"), "side": "red"}], "rationale": "BLUE-2"})
        assert r.status_code == 200
        seen = {role: c.get(f"/api/{server.tokens[role]}/state").text for role in ROLES}
        assert "RED-SECRET" not in seen["blue"] and "BLUE-" not in seen["red"]
        assert "RED-SECRET" in seen["red"] and "BLUE-2" in seen["blue"]
        assert "SECRET" not in seen["projector"] and "BLUE-2" not in seen["projector"]
        assert "RED-SECRET" in seen["umpire"] and "BLUE-2" in seen["umpire"]
        team = json.loads(seen["blue"])
        assert team["pending"] == {"orders": [orders_of("isr_tempo", level="low")],
                                   "rationale": "BLUE-2"}
        assert team["observation"]["side"] == "blue" and team["menu"]["side"] == "blue"
        assert not {"views", "truth", "menus", "injects"} & set(team)
        assert json.loads(seen["red"])["pending"]["orders"] == [orders_of("patrol")]
        # the umpire's endpoints and the teams' orders are closed to the others
        for token in (blue, red, server.tokens["projector"]):
            for action, body in (("advance", {"late": "hold"}), ("inject", {"scripted": 0}),
                                 ("timer", {"do": "set", "seconds": 1})):
                r = c.post(f"/api/{token}/umpire/{action}", json=body)
                assert r.status_code == 403 and r.json() == {"error": "only the umpire does this"}
        for token in (server.tokens["umpire"], server.tokens["projector"]):
            r = c.post(f"/api/{token}/orders", json={"orders": [SURGE]})
            assert r.status_code == 403 and r.json() == {"error": "only a team submits orders"}
        after = state(c, server.tokens["umpire"])
        assert after["turn"] == 1 and after["timer"]["seconds_left"] == 0.0
        assert after["injects"]["pending"] == []


# ---- malformed and forged requests -----------------------------------------------------------

def test_cross_site_and_form_posts_are_refused(server: Server) -> None:
    blue, umpire = server.tokens["blue"], server.tokens["umpire"]
    with server.client() as c:
        c.post(f"/api/{blue}/orders", json={"orders": [SURGE], "rationale": "mine"})
        body = json.dumps({"orders": [], "rationale": "same origin"})
        for origin in ("http://evil.example", "null", server.base.replace("127.0.0.1",
                                                                         "localhost")):
            r = c.post(f"/api/{blue}/orders", content=body,
                       headers={"content-type": "application/json", "origin": origin})
            assert r.status_code == 403 and r.json() == {"error": "cross-site request refused"}
        r = c.post(f"/api/{umpire}/umpire/advance", json={"late": "hold"},
                   headers={"origin": "http://evil.example"})
        assert r.status_code == 403
        # what a cross-site HTML form can send: form-encoded, multipart, or text/plain
        assert c.post(f"/api/{blue}/orders", data={"orders": "[]"}).status_code == 415
        assert c.post(f"/api/{blue}/orders", files={"f": b"{}"}).status_code == 415
        r = c.post(f"/api/{blue}/orders", content=body, headers={"content-type": "text/plain"})
        assert r.status_code == 415
        assert r.json() == {"error": "send JSON (content-type: application/json)"}
        # the page's own origin is accepted
        r = c.post(f"/api/{blue}/orders", content=body,
                   headers={"content-type": "application/json; charset=utf-8",
                            "origin": server.base})
        assert r.status_code == 200
        assert state(c, blue)["pending"]["rationale"] == "same origin"
        assert state(c, umpire)["turn"] == 1


def test_malformed_json_and_wrong_types_get_400(server: Server) -> None:
    blue, umpire = server.tokens["blue"], server.tokens["umpire"]
    with server.client() as c:
        assert c.post(f"/api/{blue}/orders", json={"orders": [SURGE],
                                                   "rationale": "kept"}).status_code == 200
        raw = {b"{bad": "malformed JSON: Expecting property name",
               b"": "malformed JSON: Expecting value", b"\xff\xfe": "malformed JSON",
               b"[1, 2]": "expected a JSON object", b'"text"': "expected a JSON object"}
        for content, message in raw.items():
            r = c.post(f"/api/{blue}/orders", content=content,
                       headers={"content-type": "application/json"})
            assert r.status_code == 400 and r.json()["error"].startswith(message), content
        wrong = [({"orders": "isr_tempo"}, "orders must be a list"),
                 ({}, "orders must be a list"),
                 ({"orders": [1]}, "each order must be an object"),
                 ({"orders": [orders_of("x") | {"params": {"level": 3}}]}, "params must map"),
                 ({"orders": [{"action": "isr_tempo", "params": ["surge"]}]}, "params must"),
                 ({"orders": [{"action": 5}]}, "expected text, found int"),
                 ({"orders": [], "rationale": ["why"]}, "expected text, found list")]
        for body, message in wrong:
            r = c.post(f"/api/{blue}/orders", json=body)
            assert r.status_code == 400 and r.json()["error"].startswith(message), body
        for body, message in [({"scripted": "0"}, "expected a whole number"),
                              ({"scripted": True}, "expected a whole number"),
                              ({"side": "red", "action": "patrol", "params": {"n": 1}},
                               "params must map"),
                              ({"side": "red", "action": "patrol", "note": 7}, "expected text")]:
            r = c.post(f"/api/{umpire}/umpire/inject", json=body)
            assert r.status_code == 400 and r.json()["error"].startswith(message), body
        # nested past the parser's recursion limit, a number too long to convert, and a lone
        # surrogate (valid JSON, but no text: it would have stopped the turn half played)
        for content in (b'{"orders": ' + b"[" * 30000 + b"]" * 30000 + b"}",
                        b'{"orders": ' + b"7" * 5000 + b"}",
                        b'{"orders": [], "rationale": "a\\ud800b"}',
                        b'{"orders": [{"action": "\\udfff"}]}'):
            r = c.post(f"/api/{blue}/orders", content=content,
                       headers={"content-type": "application/json"})
            assert r.status_code == 400 and r.json()["error"], content[:40]
        r = c.post(f"/api/{umpire}/umpire/inject", content=b'{"side": "red", "action": '
                   b'"patrol", "note": "\\ud800"}', headers={"content-type": "application/json"})
        assert r.status_code == 400 and "surrogate" in r.json()["error"]
        r = c.post(f"/api/{umpire}/umpire/advance", json={"late": 1})
        assert r.status_code == 400
        r = c.post(f"/api/{umpire}/umpire/timer", json={"do": "set", "seconds": "ten"})
        assert r.status_code == 422 and "seconds must be a number" in r.json()["reasons"][0]
        r = c.post(f"/api/{umpire}/umpire/timer", json={"do": "explode"})
        assert r.status_code == 422
        r = c.post(f"/api/{umpire}/umpire/inject", json={"action": "patrol"})
        assert r.status_code == 422 and r.json()["reasons"] == [
            "an inject must name side blue or red"]
        r = c.post(f"/api/{umpire}/umpire/unknown", json={})
        assert r.status_code == 404
        # a bad order gets its reasons, and none of this touched the pending orders
        r = c.post(f"/api/{blue}/orders", json={"orders": [orders_of("isr_tempo", level="x")]})
        assert r.status_code == 422
        assert r.json()["reasons"][0].startswith("isr_tempo: level='x' is not one of")
        assert state(c, blue)["pending"] == {"orders": [SURGE], "rationale": "kept"}


def test_oversized_bodies_get_413_and_the_server_keeps_serving(server: Server) -> None:
    blue = server.tokens["blue"]
    with server.client() as c:
        def body_of(size: int) -> bytes:
            head = b'{"orders": [], "rationale": "'
            return head + b"x" * (size - len(head) - 2) + b'"}'

        assert len(body_of(MAX_BODY)) == MAX_BODY
        r = c.post(f"/api/{blue}/orders", content=body_of(MAX_BODY),
                   headers={"content-type": "application/json"})
        assert r.status_code == 200  # the limit itself is allowed
        for size in (MAX_BODY + 1, 10 * 1024 * 1024):
            r = c.post(f"/api/{blue}/orders", content=body_of(size),
                       headers={"content-type": "application/json"})
            assert r.status_code == 413 and "larger than 65536" in r.json()["error"]

        def chunks() -> Iterator[bytes]:  # no content-length: counted as it arrives
            yield b'{"orders": [], "rationale": "'
            for _ in range(100):
                yield b"y" * 1024
            yield b'"}'

        r = c.post(f"/api/{blue}/orders", content=chunks(),
                   headers={"content-type": "application/json"})
        assert r.status_code == 413
    with server.client() as c:
        assert state(c, blue)["pending"]["rationale"].startswith("xxx")
        assert c.post(f"/api/{blue}/orders", json={"orders": [SURGE]}).status_code == 200


def test_a_hundred_rapid_submissions(server: Server) -> None:
    blue = server.tokens["blue"]
    with server.client() as c:
        codes = []
        started = time.monotonic()
        for i in range(100):
            bad = i % 10 == 5
            body = {"orders": [orders_of("isr_tempo", level="x" if bad else "surge")],
                    "rationale": f"take {i}"}
            codes.append(c.post(f"/api/{blue}/orders", json=body).status_code)
        took = time.monotonic() - started
        assert codes == [422 if i % 10 == 5 else 200 for i in range(100)]
        # a few ms each on 127.0.0.1; 40 ms each when answers wait for a delayed ACK (no
        # TCP_NODELAY on the listening socket)
        assert took < 3.0, f"100 submissions took {took:.1f} s"
        assert state(c, blue)["pending"]["rationale"] == "take 99"

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=server.base, timeout=20) as ac:
            answers = await asyncio.gather(*(
                ac.post(f"/api/{blue}/orders", json={"orders": [SURGE],
                                                     "rationale": f"burst {i}"})
                for i in range(100)))
        return [a.status_code for a in answers]

    assert asyncio.run(burst()) == [200] * 100
    with server.client() as c:
        assert re.fullmatch(r"burst \d+", state(c, blue)["pending"]["rationale"])
        c.post(f"/api/{blue}/orders", json={"orders": [SURGE], "rationale": "the last"})
        assert state(c, blue)["pending"]["rationale"] == "the last"


def first_version(c: httpx.Client, token: str) -> tuple[int, httpx.Response, Iterator[str]]:
    r = c.send(c.build_request("GET", f"/api/{token}/events"), stream=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-store"
    lines = r.iter_lines()
    return next_version(lines), r, lines


def next_version(lines: Iterator[str]) -> int:
    for line in lines:
        if line.startswith("data: "):
            return int(json.loads(line[6:])["version"])
    raise AssertionError("the event stream ended")


def test_events_client_that_disconnects_and_reconnects(server: Server) -> None:
    blue, red, umpire = (server.tokens[r] for r in ("blue", "red", "umpire"))
    with server.client() as c:
        v0, stream, lines = first_version(c, blue)
        assert v0 == state(c, umpire)["version"]
        c.post(f"/api/{red}/orders", json={"orders": [orders_of("patrol")]})
        v1 = next_version(lines)  # pushed while connected
        assert v1 > v0
        stream.close()  # the laptop sleeps mid-turn...
        c.post(f"/api/{umpire}/umpire/timer", json={"do": "set", "seconds": 300})
        c.post(f"/api/{red}/orders", json={"orders": [orders_of("stand_down")]})
    with server.client() as c:  # ...and wakes on a new connection
        v2, stream, lines = first_version(c, blue)
        assert v2 >= v1 + 2 and v2 == state(c, blue)["version"]
        assert state(c, blue)["timer"] == {"seconds_left": 300.0, "running": False}
        c.post(f"/api/{umpire}/umpire/timer", json={"do": "resume"})
        assert next_version(lines) == v2 + 1
        stream.close()
        assert c.get(f"/api/{blue}x/events").status_code == 404


def test_events_stream_forgets_a_client_that_left(tmp_path: Path) -> None:
    """In-process: once the client disconnects, the room no longer wakes its stream."""
    room = Room.start(Game.load("classroom-tutorial"), 0, tmp_path / "g.jsonl")
    toks = new_tokens()
    app = build_app(room, toks, keepalive_s=0.05)

    async def run() -> list[bytes]:
        left, sent, bodies = asyncio.Event(), asyncio.Event(), []
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                bodies.append(message["body"])
                sent.set()

        path = f"/api/{toks.by_role['red']}/events"
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
                 "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [], "client": ("127.0.0.1", 9), "server": ("127.0.0.1", 80)}
        task = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
        await asyncio.wait_for(sent.wait(), 5)
        assert len(room.listeners) == 1
        sent.clear()
        room.changed()
        await asyncio.wait_for(sent.wait(), 5)
        await asyncio.sleep(0.12)  # a keep-alive or two
        left.set()
        await asyncio.wait_for(task, 5)
        return bodies

    bodies = asyncio.run(run())
    assert bodies[:2] == [b'data: {"version": 0}\n\n', b'data: {"version": 1}\n\n']
    assert b": keep-alive\n\n" in bodies[2:]
    assert room.listeners == []


# ---- nothing lost ----------------------------------------------------------------------------

# turn: (umpire inject or None, Blue (orders, rationale), Red (orders, rationale) or None,
# how the umpire advances)
PLAN: dict[int, tuple[dict[str, Any] | None, tuple[list[dict[str, Any]], str],
                      tuple[list[dict[str, Any]], str] | None, str]] = {
    1: ({"scripted": 0}, ([SURGE], "Eyes on the strait: “before” they move, über alles"),
        ([orders_of("patrol")], "Show the flag"), "wait"),
    2: ({"side": "blue", "action": "consult", "params": {}, "note": "Allies call"},
        ([orders_of("littoral_posture", readiness="dispersed"), orders_of("signal_resolve")],
         "Disperse and say so"), ([], "Wait and see"), "wait"),
    3: (None, ([orders_of("harden_c2")], "Expect the cyber attack"),
        ([orders_of("incursion")], "Test them"), "wait"),
    4: (None, ([orders_of("isr_tempo", level="normal")], "Rest the crews"), None, "doctrine"),
    5: (None, ([orders_of("hold")], "Hold"), ([orders_of("patrol")], "Patrol"), "wait"),
}


DRAWS: list[tuple[int, float]] = []  # (turn, Red's draw) as the umpire's console showed them


def play_served(s: Server, turn: int, stop_before_advance: bool = False) -> None:
    inject, (blue, why_blue), red, late = PLAN[turn]
    with s.client() as c:
        top = state(c, s.tokens["umpire"])
        assert top["turn"] == turn
        DRAWS.append((turn, top["menus"]["red"]["draw"]))
        if inject is not None:
            r = c.post(f"/api/{s.tokens['umpire']}/umpire/inject", json=inject)
            assert r.status_code == 200, r.text
        r = c.post(f"/api/{s.tokens['blue']}/orders", json={"orders": blue, "rationale": why_blue})
        assert r.status_code == 200, r.text
        if red is not None:
            r = c.post(f"/api/{s.tokens['red']}/orders",
                       json={"orders": red[0], "rationale": red[1]})
            assert r.status_code == 200, r.text
        state(c, s.tokens["red"])  # Red's page is open
        if stop_before_advance:
            return
        r = c.post(f"/api/{s.tokens['umpire']}/umpire/advance", json={"late": late})
        assert r.status_code == 200, r.text


def play_in_process(room: Room, turn: int) -> None:
    inject, (blue, why_blue), red, late = PLAN[turn]
    if inject is not None:
        assert (room.fire_scripted(inject["scripted"]) if "scripted" in inject else room.inject(
            Order(inject["action"], inject["params"], inject["side"], inject["note"]))) == []
    assert room.submit("blue", [Order.from_json(o) for o in blue], why_blue) == []
    if red is not None:
        assert room.submit("red", [Order.from_json(o) for o in red[0]], red[1]) == []
    assert room.advance(late) == []


def test_killed_twice_resumed_twice_nothing_lost(tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    DRAWS.clear()
    first = serve("classroom-tutorial", "--port", "0", "--out", str(log), cwd=tmp_path)
    servers = [first]
    try:
        assert os.stat(tokens_path(log)).st_mode & 0o777 == 0o600
        play_served(first, 1)
        play_served(first, 2)
        play_served(first, 3, stop_before_advance=True)  # orders in, then the power cut
        first.stop(signal.SIGKILL)
        assert first.proc.returncode == -signal.SIGKILL

        second = serve("--resume", str(log), "--port", "0", cwd=tmp_path)
        servers.append(second)
        assert second.tokens == first.tokens  # the same links
        with second.client() as c:
            top = state(c, second.tokens["umpire"])
            assert top["turn"] == 3 and top["submitted"] == {"blue": False, "red": False}
            for token in second.tokens.values():
                assert c.get(f"/play/{token}").status_code == 200
        play_served(second, 3)
        play_served(second, 4, stop_before_advance=True)
        second.stop(signal.SIGKILL)

        third = serve("--resume", str(log), "--port", "0", cwd=tmp_path)
        servers.append(third)
        assert third.tokens == first.tokens
        play_served(third, 4)
        play_served(third, 5)
        with third.client() as c:
            top = state(c, third.tokens["umpire"])
            assert top["over"] is True and top["outcome"]["turns_played"] == 5
            r = c.post(f"/api/{third.tokens['blue']}/orders", json={"orders": [SURGE]})
            assert r.status_code == 422 and r.json()["reasons"] == ["the game is over"]
    finally:
        for s in servers:
            s.stop()
    for s in servers:
        assert "Traceback" not in s.stderr.read_text()

    reference = Room.start(Game.load("classroom-tutorial"), 0, tmp_path / "ref.jsonl")
    draws = {}
    for turn in PLAN:
        draws[turn] = reference.session.legal_orders("red").draw
        play_in_process(reference, turn)
    # Red's menu drew the same number at every turn, resumed or not (the doctrine forced on
    # Red at turn 4 decided with it)
    assert [draws[turn] for turn, _ in DRAWS] == [draw for _, draw in DRAWS]
    assert log.read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
    verified = subprocess.run([WARGAME, "verify", str(log)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    text = log.read_text(encoding="utf-8")
    assert "Eyes on the strait: “before” they move, über alles" in text  # the rationales are kept
    for token in first.tokens.values():
        assert token not in text
        assert token not in first.stderr.read_text()
    assert os.stat(tokens_path(log)).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".stderr")) == [
        "g.jsonl", "g.jsonl.tokens.json", "ref.jsonl"]

    # a finished game is not resumed, and nothing is touched
    before = (log.read_bytes(), log.stat().st_mtime_ns)
    refused = subprocess.run([WARGAME, "serve", "--resume", str(log), "--port", "0"],
                             capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert refused.returncode == 2
    assert "this game is finished" in refused.stderr and "Traceback" not in refused.stderr
    assert (log.read_bytes(), log.stat().st_mtime_ns) == before


def cut_log(tmp_path: Path, turns: int = 2) -> Path:
    """A classroom log cut after ``turns`` complete turns, with its tokens beside it."""
    log = tmp_path / "cut.jsonl"
    room = Room.start(Game.load("classroom-tutorial"), 0, log)
    for turn in range(1, turns + 1):
        play_in_process(room, turn)
    room.writer.abort()
    tokens_module.save(new_tokens(), tokens_path(log))
    return log


def refused(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([WARGAME, "serve", *args, "--port", "0"], capture_output=True,
                          text=True, cwd=cwd, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "Serving" not in done.stdout
    return done


def test_resume_without_tokens_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    log = cut_log(tmp_path)
    tokens_path(log).unlink()
    before = (log.read_bytes(), log.stat().st_mtime_ns)
    done = refused("--resume", str(log), cwd=tmp_path)
    assert "no tokens beside the log" in done.stderr
    assert (log.read_bytes(), log.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.jsonl"]


def test_resume_refuses_a_log_edited_in_a_complete_turn(tmp_path: Path) -> None:
    log = cut_log(tmp_path)
    lines = log.read_bytes().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, start=1) if b'"Show the flag"' in line)
    lines[number - 1] = lines[number - 1].replace(b"Show the flag", b"Seize the islands")
    edited = b"".join(lines)
    log.write_bytes(edited)
    done = refused("--resume", str(log), cwd=tmp_path)
    assert f"line {number}" in done.stderr and "left as it was" in done.stderr
    assert log.read_bytes() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.jsonl", "cut.jsonl.tokens.json"]


def test_a_second_server_cannot_take_over_a_served_game(server: Server) -> None:
    log = Path(next(m.group(1) for line in server.printed
                    if (m := re.search(r"\(log: (.+)\)", line))))
    before = (log.read_bytes(), log.stat().st_mtime_ns)
    done = refused("--resume", str(log), cwd=log.parent)
    assert "being served by another" in done.stderr
    assert (log.read_bytes(), log.stat().st_mtime_ns) == before
    assert not (log.parent / f".{log.name}.resuming").exists()
    with server.client() as c:
        assert state(c, server.tokens["umpire"])["turn"] >= 1


def test_out_refuses_an_existing_file(tmp_path: Path) -> None:
    log = tmp_path / "taken.jsonl"
    log.write_text("a game worth keeping\n")
    done = refused("classroom-tutorial", "--out", str(log), cwd=tmp_path)
    assert "already exists" in done.stderr
    assert log.read_text() == "a game worth keeping\n"
    assert not tokens_path(log).exists()


def test_a_taken_port_is_refused_before_a_log_is_written(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run([WARGAME, "serve", "--port", port, "--out", "g.jsonl"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"cannot serve on 127.0.0.1 port {port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_host_all_interfaces_warns(tmp_path: Path) -> None:
    s = serve("classroom-tutorial", "--host", "0.0.0.0", "--port", "0",
              "--out", str(tmp_path / "g.jsonl"), cwd=tmp_path)
    try:
        warning = [line for line in s.printed if "warning" in line]
        assert warning and "0.0.0.0" in warning[0] and "anyone on this network" in warning[0]
        assert printed_before(s.printed, warning[0], "Serving")
        port = s.base.rsplit(":", 1)[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            assert c.get(f"/play/{s.tokens['projector']}").status_code == 200
    finally:
        s.stop()


def printed_before(lines: list[str], first: str, then: str) -> bool:
    return lines.index(first) < next(i for i, line in enumerate(lines) if then in line)
