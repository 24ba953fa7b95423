"""The web server (Starlette): pages, a JSON API per role, and server-sent events.

Every request under ``/play/{token}`` and ``/api/{token}/...`` is authorised by the token in its
path (constant-time, sim roles never mixed): a team token reads only its side and submits only
its orders; the umpire's token reads and controls everything; the projector's reads public
information only. Anything else gets the landing page or 404. State-changing requests must be
JSON from the same origin (a cross-site form cannot forge one) and at most 64 KiB.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from engine.classroom import views
from engine.classroom.room import Room
from engine.classroom.tokens import Role, Tokens
from engine.spec.order import Order

MAX_BODY = 64 * 1024
PAGES = {"blue": "team.html", "red": "team.html", "umpire": "umpire.html",
         "projector": "projector.html"}
# a link's token never leaves in a Referer, no page is framed by another site, no answer is
# kept in a cache or sniffed as another type
HEADERS = {"referrer-policy": "no-referrer", "x-frame-options": "DENY",
           "x-content-type-options": "nosniff", "cache-control": "no-store"}
STATIC = ("app.css", "app.js", "team.html", "umpire.html", "projector.html", "landing.html")


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _static(name: str) -> str:
    return str(resources.files("engine.classroom") / "static" / name)


def build_app(room: Room, tokens: Tokens, *, keepalive_s: float = 15.0) -> Starlette:
    """The web app over one room."""

    def role(request: Request) -> Role:
        found = tokens.role_of(str(request.path_params.get("token", "")))
        if found is None:
            raise Refused(404, "unknown link")
        return found

    async def body(request: Request) -> dict[str, Any]:
        """A JSON object from the same origin, at most MAX_BODY bytes."""
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise Refused(415, "send JSON (content-type: application/json)")
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise Refused(403, "cross-site request refused")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise Refused(413, f"request larger than {MAX_BODY} bytes")
        raw = b""
        try:
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > MAX_BODY:
                    raise Refused(413, f"request larger than {MAX_BODY} bytes")
        except ClientDisconnect:
            raise Refused(400, "the request was cut off") from None
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise Refused(400, f"malformed JSON: {e}") from None
        except RecursionError:
            raise Refused(400, "malformed JSON: nested too deeply") from None
        if not isinstance(data, dict):
            raise Refused(400, "expected a JSON object")
        try:  # "\ud800" is valid JSON but no text: it could be neither logged nor answered
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise Refused(400, "the request holds a lone surrogate, which is not text") from None
        return data

    def guarded(handler: Callable[[Request], Awaitable[Response]]
                ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except Refused as r:
                response = JSONResponse({"error": r.message}, status_code=r.status)
            response.headers.update(HEADERS)
            return response
        return run

    async def landing(request: Request) -> Response:
        return FileResponse(_static("landing.html"))

    async def page(request: Request) -> Response:
        return FileResponse(_static(PAGES[role(request)]))

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            raise Refused(404, "no such file")
        return FileResponse(_static(name))

    async def state(request: Request) -> Response:
        who = role(request)
        if who in ("blue", "red"):
            return JSONResponse(views.team_view(room, who))  # type: ignore[arg-type]
        if who == "umpire":
            return JSONResponse(views.umpire_view(room))
        return JSONResponse(views.projector_view(room))

    async def orders(request: Request) -> Response:
        who = role(request)
        if who not in ("blue", "red"):
            raise Refused(403, "only a team submits orders")
        data = await body(request)
        return _answer(room.submit(who, _orders(data.get("orders")),  # type: ignore[arg-type]
                                   _text(data.get("rationale"))))

    async def umpire(request: Request) -> Response:
        if role(request) != "umpire":
            raise Refused(403, "only the umpire does this")
        data = await body(request)
        action = request.path_params["action"]
        if action == "advance":
            return _answer(room.advance(_text(data.get("late")) or "wait"))
        if action == "inject":
            if "scripted" in data:
                return _answer(room.fire_scripted(_int(data["scripted"])))
            order = Order(_text(data.get("action")), _params(data.get("params")),
                          data.get("side") if data.get("side") in ("blue", "red") else None,
                          _text(data.get("note")))
            return _answer(room.inject(order))
        if action == "timer":
            return _answer(_timer(room, data))
        raise Refused(404, f"no umpire action {action!r}")

    async def events(request: Request) -> Response:
        role(request)
        return StreamingResponse(_stream(room, request, keepalive_s),
                                 media_type="text/event-stream")

    routes = [
        Route("/", guarded(landing)),
        Route("/static/{name}", guarded(static)),
        Route("/play/{token}", guarded(page)),
        Route("/api/{token}/state", guarded(state)),
        Route("/api/{token}/events", guarded(events)),
        Route("/api/{token}/orders", guarded(orders), methods=["POST"]),
        Route("/api/{token}/umpire/{action}", guarded(umpire), methods=["POST"]),
    ]
    return Starlette(routes=routes)


def _answer(reasons: list[str]) -> Response:
    if reasons:
        return JSONResponse({"ok": False, "reasons": reasons}, status_code=422)
    return JSONResponse({"ok": True})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused(400, f"expected text, found {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(400, "expected a whole number")
    return value


def _params(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise Refused(400, "params must map names to text")
    return dict(value)


def _orders(value: Any) -> list[Order]:
    if not isinstance(value, list):
        raise Refused(400, "orders must be a list")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise Refused(400, "each order must be an object with action and params")
        out.append(Order(_text(item.get("action")), _params(item.get("params"))))
    return out


def _timer(room: Room, data: dict[str, Any]) -> list[str]:
    what = data.get("do")
    if what == "set":
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
                0 <= seconds <= 24 * 3600):
            return ["seconds must be a number from 0 to 86400"]
        room.timer.set(float(seconds))
    elif what == "pause":
        room.timer.pause()
    elif what == "resume":
        room.timer.resume()
    else:
        return ["do must be set, pause or resume"]
    room.changed()
    return []


async def _stream(room: Room, request: Request, keepalive_s: float) -> AsyncIterator[str]:
    """Server-sent events: the room's version whenever it changes, a comment to keep alive."""
    wake = asyncio.Event()

    def poke() -> None:
        wake.set()

    room.listeners.append(poke)
    try:
        yield f"data: {json.dumps({'version': room.version})}\n\n"
        while not await request.is_disconnected():
            try:
                await asyncio.wait_for(wake.wait(), keepalive_s)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            wake.clear()
            yield f"data: {json.dumps({'version': room.version})}\n\n"
    finally:
        room.listeners.remove(poke)



