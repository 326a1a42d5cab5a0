"""/bot/wecom and /bot/webhook: the messaging channels (thin: verify, converse, reply).

No bearer token here: each channel authenticates by its own signature, and the sender is
mapped to a user by the id linked with ``copilot users link``.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from copilot.api.errors import ApiError, not_found
from copilot.bot.channel import BotChannel, BotRequestError, TooLarge
from copilot.bot.hub import BotHub

router = APIRouter(prefix="/bot", tags=["bot"])
log = logging.getLogger("copilot.bot")
MAX_REQUEST_BYTES = 512 * 1024  # read no further: the channels' own limits are lower
REFUSALS_ZH = {
    "bad_signature": "签名校验失败",
    "replayed": "请求已过期（疑似重放）",
    "malformed": "消息格式有误",
    "too_large": "请求内容过大",
}


def _channel(request: Request, name: str) -> tuple[BotHub, BotChannel]:
    hub: BotHub | None = getattr(request.app.state, "bot", None)
    channel = hub.channel(name) if hub else None
    if hub is None or channel is None:
        raise not_found(f"bot channel {name} (not configured)")
    return hub, channel


def _refuse(exc: BotRequestError) -> ApiError:
    log.warning("bot request refused: %s", exc.code)
    return ApiError(exc.status, exc.code, REFUSALS_ZH.get(exc.code, "请求有误"), str(exc))


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise _refuse(TooLarge(f"body over {MAX_REQUEST_BYTES} bytes"))
        chunks.append(chunk)
    return b"".join(chunks)


async def _converse(request: Request, name: str) -> Response:
    hub, channel = _channel(request, name)
    body = await _body(request)

    def work() -> tuple[bytes, str]:
        incoming = channel.read(request.query_params, request.headers, body)
        return channel.reply(incoming, hub.conversation.handle(incoming))

    try:
        content, media_type = await run_in_threadpool(work)
    except BotRequestError as exc:
        raise _refuse(exc) from None
    return Response(content, media_type=media_type)


# Documented by hand: error bodies stay JSON whatever a channel's success answers in.
_TEXT = {200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "OK"}}
_XML = {200: {"content": {"application/xml": {"schema": {"type": "string"}}}, "description": "OK"}}


@router.get("/wecom", responses=_TEXT, summary="WeCom URL verification")
async def wecom_verify(request: Request) -> PlainTextResponse:
    """Decrypt ``echostr`` and echo it (WeCom's check of the callback URL)."""
    _, channel = _channel(request, "wecom")
    try:
        return PlainTextResponse(channel.verify_url(request.query_params))  # type: ignore[attr-defined]
    except BotRequestError as exc:
        raise _refuse(exc) from None


@router.post(
    "/wecom",
    responses=_XML,
    summary="WeCom callback (encrypted XML in, encrypted passive reply out)",
)
async def wecom_message(request: Request) -> Response:
    return await _converse(request, "wecom")


@router.post("/webhook", summary="Signed webhook (JSON in and out; DingTalk-compatible)")
async def webhook_message(request: Request) -> Response:
    return await _converse(request, "webhook")
