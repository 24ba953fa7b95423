"""``wargame serve``: the classroom in the browser, on a local web server."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import IO, Annotated

import typer

from engine.cli.common import check_output, input_file, out_console, shown, writing
from engine.errors import EngineError


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_command(
        scenario: Annotated[str, typer.Argument(help="Built-in name or YAML path.")]
        = "classroom-tutorial",
        port: Annotated[int, typer.Option(min=0, max=65535,
                                          help="Port (0: any free port).")] = 8000,
        host: Annotated[str, typer.Option(help="127.0.0.1 serves this computer only; "
                                               "0.0.0.0 the classroom network.")]
        = "127.0.0.1",
        out: Annotated[Path | None, typer.Option(help="Log path (default: runs/NAME-serve-"
                                                      "seedN.jsonl).")] = None,
        seed: Annotated[int, typer.Option(min=0)] = 0,
        resume_log: Annotated[Path | None, typer.Option(
            "--resume", help="Restore this game at its last complete turn, same links.")]
        = None,
    ) -> None:
        """Serve a game to a browser per team, an umpire console and a projector view."""
        import asyncio

        import uvicorn

        from engine.classroom.app import build_app
        from engine.classroom.room import Room
        from engine.classroom.tokens import load, new_tokens, save, tokens_path
        from engine.game import Game

        console = out_console()
        # everything that can be refused is, before a log is written or moved: the links of
        # a game resumed, the port, a second server on the same game
        if resume_log is not None:
            tokens = load(tokens_path(resume_log))
            sock = _bind(host, port)
            held = _hold(tokens_path(resume_log), resume_log)
            room = Room.resume(resume_log)
        else:
            game = Game.load(scenario)
            log = out or Path("runs") / f"{game.scenario.meta.id}-serve-seed{seed}.jsonl"
            # an input is never the log (an existing log is refused by Room.start)
            check_output(log, [input_file(scenario, "scenarios"),
                               input_file(game.scenario.rules, "rules")], force=True)
            tokens = new_tokens()
            sock = _bind(host, port)
            with writing(log):
                room = Room.start(game, seed, log)
                save(tokens, tokens_path(log))
            held = _hold(tokens_path(log), log)
        config = uvicorn.Config(build_app(room, tokens), host=host, port=port,
                                log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        if host not in ("127.0.0.1", "localhost", "::1"):
            console.print(f"[yellow]warning:[/yellow] serving on {shown(host)}: anyone on this "
                          "network with a link can join; share each link only with its team")

        async def announce() -> None:
            while not server.started:
                await asyncio.sleep(0.05)
            bound = sock.getsockname()[1]
            at = _address() if host in ("0.0.0.0", "::") else host
            base = f"http://{f'[{at}]' if ':' in at else at}:{bound}"
            console.print(f"Serving {shown(room.game.scenario.meta.title)} "
                          f"(log: {shown(room.log)})")
            for role in ("blue", "red", "umpire", "projector"):
                # soft_wrap: a link is never folded across lines, however narrow the terminal
                console.print(f"  {role:9} {base}/play/{tokens.by_role[role]}", soft_wrap=True)
            console.print(f"Stop with Ctrl-C; continue later with: wargame serve --resume "
                          f"{shown(room.log)}", highlight=False)

        async def main() -> None:
            await asyncio.gather(server.serve(sockets=[sock]), announce())

        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops serving; the log holds
            asyncio.run(main())
        console.print(f"Stopped. Every complete turn is in {shown(room.log)}; continue "
                      f"with: wargame serve --resume {shown(room.log)}", highlight=False)
        if held is not None:
            held.close()


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a plain refusal (port taken, unknown host)."""
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so (without it,
    # every answer waits 40 ms for a delayed ACK)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                         socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise EngineError(f"cannot serve on {host} port {port}: {e.strerror or e}; choose "
                          "another --port (0 picks a free one)") from None
    return sock


def _hold(tokens: Path, log: Path) -> IO[bytes] | None:
    """Lock the game's tokens file for as long as this process serves the game (the kernel
    lets go when the process ends, killed or not): a second server resuming the same log
    would move a new file into its place while the first still writes turns to the old."""
    try:
        import fcntl
    except ImportError:  # not POSIX: serve without the guard
        return None
    fh = tokens.open("rb")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise EngineError(f"{log}: this game is being served by another 'wargame serve'; use "
                          "its links, or stop it (Ctrl-C) before resuming") from None
    return fh


def _address() -> str:
    """This computer's address on the classroom network (the one its default route uses; no
    packet is sent), or 127.0.0.1 when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"
