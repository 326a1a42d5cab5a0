"""The officials' web UI: Gradio Blocks mounted in the FastAPI app (one port).

Tabs call the service layer only. Sign-in is a token from `copilot users add` kept in an
HttpOnly cookie (ui/signin.py); Gradio's ``auth_dependency`` refuses every UI request
without a valid one, and each action re-checks the user (a revoked token stops at once).
"""

from __future__ import annotations

import os

# Gradio's usage statistics would call out of the building; nothing here may.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from importlib.resources import files
from typing import Any

import gradio as gr
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from ui.signin import COOKIE, UI_PATH, redirect_to_login, router, session_user

TITLE = "数字重庆 · 城市治理助手"


def build_blocks(ctx: Any) -> gr.Blocks:
    from ui import ask, board, evaluation, intake, vitals
    from ui.render import header

    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_width=True) as blocks:
        head = gr.HTML(elem_id="cq-header")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("智能问答", id="ask"):
                ask.build(ctx)
            with gr.Tab("事件受理", id="intake") as intake_tab:
                intake_parts = intake.build(ctx)
            with gr.Tab("工单看板", id="board") as board_tab:
                board_parts = board.build(ctx)
            with gr.Tab("城市体征", id="vitals") as vitals_tab:
                vitals_parts = vitals.build(ctx)
            with gr.Tab("评测", id="evals"):
                evaluation.build(ctx)

        from ui.context import friendly

        @friendly
        def on_load(request: gr.Request):
            user = ctx.user(request)
            return header(user, ctx.place_name(user.jurisdiction))

        blocks.load(on_load, None, [head])

        @friendly
        def intake_open(request: gr.Request):
            user = ctx.user(request)
            return gr.update(choices=intake.place_choices(ctx, user.jurisdiction))

        # Each tab loads its data when first opened, so the page itself renders at once.
        intake_tab.select(intake_open, None, [intake_parts["place"]])
        for tab, parts in ((board_tab, board_parts), (vitals_tab, vitals_parts)):
            fn, inputs, outputs = parts["open"]
            tab.select(fn, inputs, outputs, concurrency_limit=8)
    return blocks


class LoginRedirect:
    """The UI's page without a valid session goes to the sign-in form (Gradio itself would
    answer 401); API calls of the UI still get Gradio's 401."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app, self.fastapi_app = app, fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] in (UI_PATH, UI_PATH + "/")
        ):
            from starlette.requests import Request

            request = Request(scope)
            services = self.fastapi_app.state.services
            if COOKIE not in request.cookies or session_user(services, request.cookies) is None:
                await redirect_to_login(UI_PATH + "/")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def mount_ui(app: FastAPI) -> FastAPI:
    """Add the sign-in routes and mount the UI at ``/ui`` on ``app``."""
    from ui.context import UiContext

    ctx = UiContext(services_of=lambda: app.state.services)

    def auth(request) -> str | None:
        user = session_user(app.state.services, request.cookies)
        return user.name if user else None

    app.include_router(router)
    app.add_middleware(LoginRedirect, fastapi_app=app)
    static = files("ui") / "static"
    return gr.mount_gradio_app(
        app,
        build_blocks(ctx),
        path=UI_PATH,
        auth_dependency=auth,
        css=(static / "app.css").read_text(encoding="utf-8"),
        head=f"<script>{(static / 'board.js').read_text(encoding='utf-8')}</script>",
        show_error=False,
        ssr_mode=False,
    )
