"""``copilot serve``: the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer

from copilot.cli.common import out


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option("--event-workers", min=0, max=32, help="In-process event workers.")
    ] = 2,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); users sign in with `copilot users add` tokens."""
    import uvicorn

    from copilot.api.app import create_app
    from copilot.api.logs import configure_json_logs

    configure_json_logs()
    out.print(f"API: http://{host}:{port}/docs  (tokens: copilot users add …)", highlight=False)
    uvicorn.run(create_app(workers=workers), host=host, port=port, log_config=None)


def register(app: typer.Typer) -> None:
    app.command()(serve)
