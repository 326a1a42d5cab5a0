"""One error shape for every failure: ``{"error": {"code", "message", "message_en"}}``.

``message`` is Chinese (what an official reads), ``message_en`` English (what an operator
greps). Domain exceptions map to a status here, in one table, never in the routes.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from copilot.error_messages import DOMAIN_ERRORS

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    message_en: str


class ErrorOut(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.status, self.code, self.message, self.message_en = status, code, message, message_en


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", "未找到，或不在您的辖区内", f"{what} not found")


STATUS_MESSAGES = {
    400: ("bad_request", "请求有误"),
    401: ("unauthorized", "请先登录（缺少或无效的令牌）"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "请求内容过大"),
    422: ("invalid_request", "请求参数不符合要求"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
}


# Documented on every route: the spec must list what a client can get back.
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorOut, "description": message}
    for status, (_, message) in STATUS_MESSAGES.items()
    if status != 405
} | {
    409: {"model": ErrorOut, "description": "状态冲突（版本、状态或幂等键）"},
    500: {"model": ErrorOut, "description": "服务内部错误"},
    503: {"model": ErrorOut, "description": "服务尚未就绪"},
}


def _body(status: int, code: str, message: str, message_en: str) -> JSONResponse:
    err = ErrorOut(error=ErrorBody(code=code, message=message, message_en=message_en))
    return JSONResponse(err.model_dump(), status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _body(exc.status, exc.code, exc.message, exc.message_en)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return _body(422, "invalid_request", STATUS_MESSAGES[422][1], problems[:1000])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = STATUS_MESSAGES.get(exc.status_code, ("error", "请求失败"))
        return _body(exc.status_code, code, message, str(exc.detail))

    for exc_type, (status, code, message) in DOMAIN_ERRORS.items():

        def handler(_: Request, exc: Exception, s=status, c=code, m=message) -> JSONResponse:
            return _body(s, c, m, str(exc))

        app.add_exception_handler(exc_type, handler)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _body(500, "internal", "服务内部错误，请稍后再试", type(exc).__name__)
