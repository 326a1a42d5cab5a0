"""The FastAPI app factory: one process serves the API, the officials' UI (/ui) and the bot.

The lifespan builds the service layer once, starts the in-process event workers and the
SLA sweeper, and closes everything on shutdown. Tests pass their own ``Services``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from copilot.api import errors
from copilot.api.metrics import Metrics
from copilot.api.observe import ObserveMiddleware
from copilot.api.ratelimit import build_limiter
from copilot.api.routes import bot, documents, events, knowledge, meta, orders
from copilot.bot.hub import build_bot
from copilot.dispositions.inbox import InboxWorkers
from copilot.services import Services
from copilot.settings import Settings

log = logging.getLogger("copilot.api")
WARM_UP_QUESTION = "城市道路上乱扔垃圾罚多少钱"


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    workers: int = 2,
    sweeper: bool = True,
    ui: bool = True,
) -> FastAPI:
    """The API. ``services`` (already built) is used as is and left open on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        svc = services
        if svc is None:
            from copilot.services import build_services

            svc = build_services(settings or Settings())
            svc.ensure_ready()
            # The first question loads the reranker and builds the corpus statistics (seconds):
            # pay it before serving, not in some official's first request.
            svc.ask(WARM_UP_QUESTION)
        app.state.services = svc
        app.state.limiter = build_limiter(
            svc.settings.redis_url, svc.settings.rate_limit_per_minute
        )

        def handle(event):
            result = hub.work(event)
            if result.get("fallbacks"):
                metrics.fallback("draft")
            return result

        pool = InboxWorkers(svc.inbox, handle, threads=workers) if workers else None
        app.state.workers = pool
        hub = build_bot(svc, notify=pool.notify if pool else None)
        app.state.bot = hub
        if pool is not None:
            svc.warm_up()
            pool.start()
        stop = None
        if sweeper:
            from copilot.work_orders.sweeper import start_sweeper

            _, stop = start_sweeper(svc.orders, svc.settings.sla_sweep_interval_s)
        try:
            yield
        finally:
            if stop is not None:
                stop.set()
            if pool is not None:
                pool.stop()
            hub.close()
            if owned:
                svc.close()

    app = FastAPI(
        title="数字重庆 governance copilot API",
        version="1.0",
        description="Answers with citations, event routing and dispositions, work orders — "
        "scoped to the signed-in user's jurisdiction. Errors: "
        '`{"error": {"code", "message" (中文), "message_en"}}`.',
        lifespan=lifespan,
    )
    errors.install(app)
    metrics = Metrics()
    app.state.metrics = metrics

    app.add_middleware(ObserveMiddleware, metrics=metrics)

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        tags=["meta"],
        summary="Prometheus",
        responses={500: errors.ERROR_RESPONSES[500]},
    )
    async def prometheus(request: Request) -> str:
        svc: Services = request.app.state.services
        return metrics.render(svc)

    for router in (
        meta.router,
        knowledge.router,
        events.router,
        orders.router,
        documents.router,
        bot.router,
    ):
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    if ui:
        from ui.app import mount_ui

        app = mount_ui(app)
    return app


def app_from_environment() -> FastAPI:
    """The app ``copilot serve`` runs in each server process (settings from the environment)."""
    import os

    from copilot.api.logs import configure_json_logs

    configure_json_logs()
    return create_app(workers=int(os.environ.get("COPILOT_EVENT_WORKERS", "2")))
