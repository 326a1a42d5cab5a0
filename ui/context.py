"""What every tab shares: the service layer, the signed-in user, friendly failures."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from copilot.error_messages import message_zh
from copilot.services import Services
from copilot.users.store import UserOut
from ui.district_map import district_outlines
from ui.signin import session_user

log = logging.getLogger("copilot.ui")


TITLE = "操作未完成"


def fail(message: str) -> gr.Error:
    """A Chinese notice for the official (raise it from a handler)."""
    return gr.Error(message, title=TITLE)


class SignedOut(Exception):
    """The session cookie is missing, or its token was revoked."""


@dataclass
class UiContext:
    #: The app's service layer (built by the FastAPI lifespan, after the UI is mounted).
    services_of: Callable[[], Services]

    @property
    def services(self) -> Services:
        return self.services_of()

    def user(self, request: gr.Request | None) -> UserOut:
        """The signed-in user, checked again on every action (a revoked token stops here)."""
        raw = getattr(request, "request", None)
        user = session_user(self.services, raw.cookies) if raw is not None else None
        if user is None:
            raise SignedOut
        return user

    def place_name(self, code: str | None) -> str:
        """渝北区两路街道; the city by its name; an unknown code as it is."""
        h = self.services.hierarchy
        if not code or h.get(code) is None:
            return code or "—"
        return h.display_name(code) or h.get(code).name

    def outlines(self) -> dict:
        """The 38 district outlines, simplified (cached per process)."""
        return district_outlines(
            self.services.settings.data_dir / "geo" / "chongqing_districts.geojson"
        )


def friendly(fn: Callable) -> Callable:
    """Failures reach the official as a Chinese notice, never a traceback (logged here)."""

    def translate(exc: Exception) -> gr.Error:
        if isinstance(exc, gr.Error):
            return exc
        if isinstance(exc, SignedOut):
            return gr.Error("登录已失效，请刷新页面重新登录", title=TITLE)
        log.exception("ui action failed: %s", type(exc).__name__)
        return gr.Error(message_zh(exc), title=TITLE)

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise translate(exc) from None

        return gen

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise translate(exc) from None

    return call
