"""The WeCom (企业微信) self-built application callback: /bot/wecom.

GET verifies the URL (decrypt ``echostr`` and echo it); POST carries an encrypted XML message,
answered with an encrypted passive reply. WeCom waits 5 s and retries three times with the
same MsgId, so the conversation answers at once and results follow by the send-message API.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from copilot.bot.channel import (
    BadSignature,
    DeliveryError,
    MalformedMessage,
    TooLarge,
    check_fresh,
)
from copilot.bot.messages import Attachment, Incoming, Kind, ReplyTo
from copilot.bot.wecom_client import WeComClient
from copilot.bot.wecom_crypto import WeComCrypto

MAX_BODY_BYTES = 64 * 1024  # WeCom's own messages are a few KB
_KINDS: dict[str, Kind] = {"text": "text", "image": "image", "location": "location"}


class WeComChannel:
    name = "wecom"

    def __init__(
        self,
        crypto: WeComCrypto,
        corp_id: str,
        client: WeComClient | None,
        replay_window_s: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.crypto, self.corp_id, self.client = crypto, corp_id, client
        self.replay_window_s, self.clock = replay_window_s, clock

    def verify_url(self, query: Mapping[str, str]) -> str:
        """The decrypted ``echostr`` of WeCom's URL check (``BotRequestError`` if forged)."""
        signature, timestamp, nonce = _signed(query)
        echo = query.get("echostr")
        if not echo:
            raise MalformedMessage("echostr missing")
        self.crypto.check(signature, timestamp, nonce, echo)
        check_fresh(timestamp, self.clock(), self.replay_window_s)
        return self.crypto.decrypt(echo)

    def read(self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Incoming:
        signature, timestamp, nonce = _signed(query)
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge(f"body over {MAX_BODY_BYTES} bytes")
        outer = _parse(body)
        encrypted = _text(outer, "Encrypt")
        if not encrypted:
            raise MalformedMessage("Encrypt missing")
        # Signature first: nothing from an unsigned request is decrypted or believed.
        self.crypto.check(signature, timestamp, nonce, encrypted)
        check_fresh(timestamp, self.clock(), self.replay_window_s)
        to = _text(outer, "ToUserName")
        if to and to != self.corp_id:
            raise BadSignature("ToUserName is another corp id")
        inner = _parse(self.crypto.decrypt(encrypted).encode("utf-8"))
        incoming = self._incoming(inner)
        incoming.envelope["nonce"] = nonce[:64]
        return incoming

    def reply(self, incoming: Incoming, text: str) -> tuple[bytes, str]:
        now = str(int(self.clock()))
        plain = (
            f"<xml><ToUserName>{_cdata(incoming.sender)}</ToUserName>"
            f"<FromUserName>{_cdata(self.corp_id)}</FromUserName>"
            f"<CreateTime>{now}</CreateTime><MsgType>{_cdata('text')}</MsgType>"
            f"<Content>{_cdata(text)}</Content></xml>"
        )
        encrypted = self.crypto.encrypt(plain)
        nonce = incoming.envelope.get("nonce") or now
        signature = self.crypto.signature(now, nonce, encrypted)
        body = (
            f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt>"
            f"<MsgSignature>{_cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{now}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>"
        )
        return body.encode("utf-8"), "application/xml"

    def push(self, to: str, text: str) -> None:
        if self.client is None:
            raise DeliveryError("the send-message API is not configured")
        self.client.send_text(to, text)

    def _incoming(self, x: Element) -> Incoming:
        sender = _text(x, "FromUserName")
        msg_type = _text(x, "MsgType") or ""
        if not sender:
            raise MalformedMessage("FromUserName missing")
        # Event pushes (enter_agent, subscribe) carry no MsgId: their sender and time are one.
        msg_id = _text(x, "MsgId") or f"{msg_type}-{_text(x, 'Event')}-{_text(x, 'CreateTime')}"
        kind: Kind = "event" if msg_type == "event" else _KINDS.get(msg_type, "other")
        attachment = None
        if kind == "image":
            attachment = Attachment(
                kind="image", media_id=_text(x, "MediaId"), url=_text(x, "PicUrl")
            )
        elif kind == "location":
            attachment = Attachment(
                kind="location",
                label=(_text(x, "Label") or "")[:200] or None,
                latitude=_number(_text(x, "Location_X")),
                longitude=_number(_text(x, "Location_Y")),
            )
        return Incoming(
            channel="wecom",
            sender=sender[:64],
            msg_id=f"{sender[:32]}-{msg_id[:60]}",
            kind=kind,
            text=_text(x, "Content") or "",
            attachment=attachment,
            reply_to=ReplyTo(channel="wecom", to=sender) if self.client else None,
        )


def _signed(query: Mapping[str, str]) -> tuple[str, str, str]:
    try:
        return query["msg_signature"], query["timestamp"], query["nonce"]
    except KeyError as exc:
        raise BadSignature(f"{exc.args[0]} missing") from None


def _parse(body: bytes) -> Element:
    try:
        return ElementTree.fromstring(body, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedMessage(f"not well-formed XML ({type(exc).__name__})") from None


def _text(x: Element, tag: str) -> str | None:
    node = x.find(tag)
    return node.text.strip() if node is not None and node.text else None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
