"""Request dependencies: the service layer, the signed-in user, role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from copilot.api.errors import ApiError
from copilot.services import Services
from copilot.users.store import Role, UserOut
from copilot.work_orders.schemas import WorkOrderOut

bearer = HTTPBearer(auto_error=False, description="The token `copilot users add` printed.")


def services(request: Request) -> Services:
    return request.app.state.services


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> UserOut:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "请先登录（缺少令牌）", "missing bearer token")
    user = request.app.state.services.users.authenticate(credentials.credentials)
    if user is None:
        raise ApiError(401, "unauthorized", "令牌无效或已作废", "invalid or revoked token")
    if not request.app.state.limiter.allow(credentials.credentials):
        raise ApiError(429, "rate_limited", "请求过于频繁，请稍后再试", "rate limit exceeded")
    request.state.user = user
    return user


ServicesDep = Annotated[Services, Depends(services)]
UserDep = Annotated[UserOut, Depends(current_user)]


def require_admin(user: UserDep) -> UserOut:
    if user.role is not Role.ADMIN:
        raise ApiError(403, "forbidden", "仅管理员可执行此操作", "admin only")
    return user


AdminDep = Annotated[UserOut, Depends(require_admin)]


async def visible_order(services: Services, user: UserOut, ref: str) -> WorkOrderOut:
    """The order ``ref`` names if it lies in the user's jurisdiction; else a 404 (a foreign
    order's existence is not disclosed)."""
    return await run_in_threadpool(services.order_for, user, ref)
