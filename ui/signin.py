"""Sign-in for the web UI: a token from `copilot users add` becomes an HttpOnly cookie.

The cookie holds the token itself (only its hash is stored server-side, as for the API), so
revoking a user's tokens signs the browser out at its next request.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from copilot.users.store import UserOut

COOKIE = "copilot_session"
UI_PATH = "/ui"
# A working day and a bit: officials sign in once a day, not once per tab.
COOKIE_MAX_AGE_S = 12 * 3600

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 · 数字重庆治理助手</title>
<style>
body{{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;background:#f4f6f9;margin:0}}
main{{max-width:420px;margin:12vh auto;background:#fff;padding:32px 36px;border-radius:10px;
box-shadow:0 2px 12px rgba(0,0,0,.08)}}
h1{{font-size:20px;margin:0 0 6px}} p{{color:#555;font-size:14px;line-height:1.6}}
input{{width:100%;box-sizing:border-box;padding:10px;font-size:14px;margin:8px 0 16px;
border:1px solid #c8ced6;border-radius:6px}}
button{{width:100%;padding:10px;font-size:15px;background:#c0392b;color:#fff;border:0;
border-radius:6px;cursor:pointer}}
.error{{color:#b03a2e;background:#fdecea;padding:8px 10px;border-radius:6px}}
</style></head>
<body><main>
<h1>数字重庆 · 城市治理助手</h1>
<p>请输入管理员为您创建的登录令牌（<code>copilot users add</code> 输出的最后一行）。</p>
{error}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="token">登录令牌</label>
<input id="token" name="token" type="password" autocomplete="off" autofocus required>
<button type="submit">登录</button>
</form></main></body></html>"""


def login_page(error: str = "", next_path: str = UI_PATH + "/") -> str:
    note = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return _PAGE.format(error=note, next=html.escape(next_path, quote=True))


def _safe_next(next_path: str | None) -> str:
    # Only paths inside the UI: never an open redirect to another site.
    if next_path and next_path.startswith(UI_PATH) and "//" not in next_path:
        return next_path
    return UI_PATH + "/"


def session_user(services: Any, cookies: Mapping[str, str]) -> UserOut | None:
    """The active user whose token is in the session cookie, or ``None``."""
    token = cookies.get(COOKIE)
    return services.users.authenticate(token) if token else None


@router.get("/login", response_class=HTMLResponse)
async def login_form(next: str | None = None) -> HTMLResponse:
    return HTMLResponse(login_page(next_path=_safe_next(next)))


@router.post("/login")
async def login(request: Request, token: str = Form(""), next: str = Form("")) -> Response:
    user = request.app.state.services.users.authenticate(token.strip()) if token.strip() else None
    if user is None:
        page = login_page("令牌无效或已作废，请联系管理员。", _safe_next(next))
        return HTMLResponse(page, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/logout")
async def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
async def root() -> Response:
    return RedirectResponse(UI_PATH + "/", status_code=307)


def redirect_to_login(path: str) -> Response:
    return RedirectResponse(f"/login?next={quote(path)}", status_code=303)
