"""``wargame serve``: the classroom in the browser, on a local web server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape


def register(app: typer.Typer, console: Console) -> None:
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
        import uvicorn

        from engine.classroom.app import build_app
        from engine.classroom.room import Room
        from engine.classroom.tokens import load, new_tokens, save, tokens_path
        from engine.game import Game

        if resume_log is not None:
            room = Room.resume(resume_log)
            tokens = load(tokens_path(resume_log))
        else:
            game = Game.load(scenario)
            log = out or Path("runs") / f"{game.scenario.meta.id}-serve-seed{seed}.jsonl"
            tokens = new_tokens()
            room = Room.start(game, seed, log)
            save(tokens, tokens_path(log))
        config = uvicorn.Config(build_app(room, tokens), host=host, port=port,
                                log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        if host not in ("127.0.0.1", "localhost", "::1"):
            console.print(f"[yellow]warning:[/yellow] serving on {escape(host)}: anyone on this "
                          "network with a link can join; share each link only with its team")

        async def announce() -> None:
            while not server.started:
                import asyncio
                await asyncio.sleep(0.05)
            bound = server.servers[0].sockets[0].getsockname()[1]
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
            base = f"http://{shown}:{bound}"
            console.print(f"Serving {escape(room.game.scenario.meta.title)} "
                          f"(log: {escape(str(room.log))})")
            for role in ("blue", "red", "umpire", "projector"):
                console.print(f"  {role:9} {base}/play/{tokens.by_role[role]}")
            console.print(f"Stop with Ctrl-C; continue later with: wargame serve --resume "
                          f"{escape(str(room.log))}", highlight=False)

        import asyncio

        async def main() -> None:
            await asyncio.gather(server.serve(), announce())

        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops serving; the log holds
            asyncio.run(main())
        console.print(f"Stopped. Every complete turn is in {escape(str(room.log))}; continue "
                      f"with: wargame serve --resume {escape(str(room.log))}", highlight=False)
