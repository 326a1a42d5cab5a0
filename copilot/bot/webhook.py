"""The generic signed webhook: /bot/webhook (DingTalk, Feishu and other robots).

Requests carry ``timestamp`` (ms or s) and ``sign`` headers: base64 of HMAC-SHA256 with the
shared secret over ``timestamp + "\\n" + body`` — DingTalk's outgoing-robot scheme with the
body signed too (``COPILOT_WEBHOOK_SIGNATURE=dingtalk`` signs ``timestamp + "\\n" + secret``
exactly as DingTalk does, which leaves the body unprotected). JSON in: the generic fields
below or DingTalk's own; JSON out: ``{"msgtype": "text", "text": {"content": …}}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from copilot.bot.channel import (
    BadSignature,
    DeliveryError,
    MalformedMessage,
    TooLarge,
    check_fresh,
)
from copilot.bot.messages import Attachment, Incoming, Kind, ReplyTo
from copilot.input_limits import JSON_DEPTH, json_depth

MAX_BODY_BYTES = 256 * 1024
MAX_JSON_DEPTH = JSON_DEPTH
_KINDS: dict[str, Kind] = {
    "text": "text",
    "image": "image",
    "picture": "image",
    "location": "location",
}


class WebhookMessage(BaseModel):
    """One message; field names of the generic format, or DingTalk's (aliases)."""

    model_config = ConfigDict(extra="ignore")

    msg_id: str = Field(
        min_length=1, max_length=64, validation_alias=AliasChoices("msg_id", "msgId")
    )
    sender: str = Field(
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("sender", "senderStaffId", "senderId"),
    )
    type: str = Field(default="text", validation_alias=AliasChoices("type", "msgtype"))
    text: str | dict[str, Any] = ""
    image: dict[str, Any] | None = None
    content: dict[str, Any] | None = None  # DingTalk's picture: {"downloadCode": …}
    location: dict[str, Any] | None = None
    reply_url: str | None = Field(
        default=None, max_length=1024, validation_alias=AliasChoices("reply_url", "sessionWebhook")
    )


def sign(secret: str, timestamp: str, signed: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"\n" + signed, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        secret: str,
        mode: Literal["body", "dingtalk"] = "body",
        push_url: str | None = None,
        push_hosts: list[str] | None = None,
        replay_window_s: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret, self.mode = secret, mode
        self.push_url, self.push_hosts = push_url, set(push_hosts or [])
        self.replay_window_s, self.clock = replay_window_s, clock
        self._http = httpx.Client(timeout=5.0)

    def read(self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Incoming:
        timestamp, signature = headers.get("timestamp"), headers.get("sign")
        if not timestamp or not signature:
            raise BadSignature("timestamp and sign headers are required")
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge(f"body over {MAX_BODY_BYTES} bytes")
        signed = body if self.mode == "body" else self._secret.encode()
        if not hmac.compare_digest(sign(self._secret, timestamp, signed), signature):
            raise BadSignature("sign does not match")
        check_fresh(timestamp, self.clock(), self.replay_window_s)
        return self._incoming(_load(body))

    def reply(self, incoming: Incoming, text: str) -> tuple[bytes, str]:
        return _text_message(text), "application/json"

    def push(self, to: str, text: str) -> None:
        body = _text_message(text)
        ts = str(int(self.clock() * 1000))
        headers = {
            "content-type": "application/json",
            "timestamp": ts,
            "sign": sign(self._secret, ts, body),
        }
        try:
            response = self._http.post(to, content=body, headers=headers)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook push: {type(exc).__name__}") from None

    def close(self) -> None:
        self._http.close()

    def _incoming(self, data: Any) -> Incoming:
        try:
            m = WebhookMessage.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:5])
            raise MalformedMessage(f"invalid message fields: {fields}") from None
        kind = _KINDS.get(m.type, "other")
        text = m.text.get("content", "") if isinstance(m.text, dict) else m.text
        if not isinstance(text, str):
            raise MalformedMessage("text must be a string")
        return Incoming(
            channel="webhook",
            sender=m.sender,
            msg_id=m.msg_id,
            kind=kind,
            text=text,
            attachment=_attachment(kind, m),
            reply_to=self._reply_to(m.reply_url),
        )

    def _reply_to(self, session_url: str | None) -> ReplyTo | None:
        """The message's session webhook when its host is allowed, else the configured URL."""
        if session_url:
            parts = urlsplit(session_url)
            if parts.scheme in ("http", "https") and parts.hostname in self.push_hosts:
                return ReplyTo(channel="webhook", to=session_url)
        return ReplyTo(channel="webhook", to=self.push_url) if self.push_url else None


def _attachment(kind: Kind, m: WebhookMessage) -> Attachment | None:
    try:
        if kind == "image":
            src = m.image or m.content or {}
            ref = src.get("media_id") or src.get("downloadCode") or src.get("pictureDownloadCode")
            return Attachment(kind="image", media_id=_opt(ref), url=_opt(src.get("url")))
        if kind == "location" and m.location:
            loc = m.location
            return Attachment(
                kind="location",
                label=_opt(loc.get("label"), 200),
                latitude=loc.get("latitude"),
                longitude=loc.get("longitude"),
            )
    except ValidationError:
        raise MalformedMessage("invalid attachment") from None
    return None


def _opt(value: Any, limit: int = 1024) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


def _load(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMessage("body is not UTF-8") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise MalformedMessage(f"JSON nested deeper than {MAX_JSON_DEPTH}")
    try:
        return json.loads(text)
    except ValueError:
        raise MalformedMessage("body is not JSON") from None


def _text_message(text: str) -> bytes:
    return json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode()
