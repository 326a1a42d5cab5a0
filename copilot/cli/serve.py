"""``copilot serve``: the HTTP API; ``copilot worker``: event workers in their own process."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from copilot.cli.common import out


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option("--event-workers", min=0, max=32, help="In-process event workers.")
    ] = 2,
    processes: Annotated[
        int,
        typer.Option(
            "--processes", min=1, max=64, help="Server processes (PostgreSQL when more than 1)."
        ),
    ] = 1,
) -> None:
    """Serve the officials' web UI (/ui) and the HTTP API (/docs) on one port.

    On a store without users it creates the admin and prints its sign-in token once.
    """
    import os

    import uvicorn

    from copilot.api.logs import configure_json_logs
    from copilot.services import build_services
    from copilot.settings import Settings

    services = build_services(Settings(), with_llm=False, lazy=True)
    try:
        first = services.first_admin()
    finally:
        services.close()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    out.print(f"界面 UI:  http://{shown}:{port}/ui/", highlight=False)
    out.print(f"API:      http://{shown}:{port}/docs", highlight=False)
    if first is not None:
        user, token = first
        # Printed once, to whoever started the server; only its hash is stored.
        out.print(
            f"首次登录令牌 first sign-in token ({user.name}, admin): {token}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        out.print(
            "登录令牌 tokens: copilot users add NAME --role … --jurisdiction …", highlight=False
        )
    out.print("启动中（首次启动需先建立索引，约 30 秒）starting…", highlight=False)
    configure_json_logs()
    # Each server process builds its own app from the environment (uvicorn's factory).
    os.environ["COPILOT_EVENT_WORKERS"] = str(workers)
    uvicorn.run(
        "copilot.api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=processes,
        log_config=None,
    )


def worker(
    threads: Annotated[int, typer.Option("--threads", min=1, max=32)] = 2,
) -> None:
    """Work submitted events off the shared inbox (PostgreSQL: any number of these processes).

    Run the API with `--event-workers 0` and as many of these as the load needs; each
    claims events with SKIP LOCKED, so no event is worked twice.
    """
    import signal
    import threading

    from copilot.api.logs import configure_json_logs
    from copilot.bot.hub import build_bot
    from copilot.dispositions.inbox import InboxWorkers
    from copilot.services import open_services

    configure_json_logs()
    services, warning = open_services(with_llm=True)
    if warning:
        out.print(f"[yellow]{escape(warning)}[/yellow]")
    services.ensure_ready()
    services.warm_up()
    # Events from the messaging bot get their result pushed from here too.
    hub = build_bot(services)
    pool = InboxWorkers(services.inbox, hub.work, threads=threads)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    pool.start()
    where = services.settings.resolved_database_url.split("@")[-1]  # never the password
    out.print(f"event workers: {threads} threads on {where}", highlight=False)
    try:
        stop.wait()
    finally:
        pool.stop()
        hub.close()
        services.close()


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
