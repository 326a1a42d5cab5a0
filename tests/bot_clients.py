"""Independent clients for the bot's channels: WeCom through wechatpy's own crypto, the
webhook through the standard library's HMAC — never through the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree

from wechatpy.enterprise.crypto import WeChatCrypto

from copilot.settings import Settings

CORP_ID = "wwcorp"
TOKEN = "callback-token"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")
WEBHOOK_SECRET = "webhook-shared-secret"
LIANGLU = "500112016"  # 两路街道, 渝北区


def _cdata(v: str) -> str:
    return f"<![CDATA[{v}]]>"


class WeComPhone:
    """What WeCom's servers send for one user's phone, and how they read our replies."""

    def __init__(self, client, sender: str = "zhangsan") -> None:
        self.client, self.sender = client, sender
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)

    def message(self, content: str = "", msg_id: str | None = None, kind: str = "text", **fields):
        parts = {
            "ToUserName": _cdata(CORP_ID),
            "FromUserName": _cdata(self.sender),
            "CreateTime": str(int(time.time())),
            "MsgType": _cdata(kind),
            "AgentID": "1000002",
            "MsgId": msg_id or str(uuid.uuid4().int)[:19],
        }
        if kind == "text":
            parts["Content"] = _cdata(content)
        parts.update({k: _cdata(str(v)) for k, v in fields.items()})
        return "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in parts.items()) + "</xml>"

    def signed(self, inner: str, timestamp: int | None = None, nonce: str = "n0nce"):
        """(query, body) as WeCom posts them."""
        ts = str(timestamp if timestamp is not None else int(time.time()))
        out = ElementTree.fromstring(self.crypto.encrypt_message(inner, nonce, ts))
        encrypt, signature = out.findtext("Encrypt"), out.findtext("MsgSignature")
        body = (
            f"<xml><ToUserName>{_cdata(CORP_ID)}</ToUserName>"
            f"<AgentID>{_cdata('1000002')}</AgentID><Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
        )
        return {"msg_signature": signature, "timestamp": ts, "nonce": nonce}, body

    def send(self, content: str = "", msg_id: str | None = None, **kw):
        query, body = self.signed(self.message(content, msg_id, **kw))
        return self.client.post("/bot/wecom", params=query, content=body)

    def read(self, response) -> dict[str, str]:
        """Verify and decrypt our passive reply with wechatpy; its fields."""
        assert response.status_code == 200, response.text
        x = ElementTree.fromstring(response.content)
        plain = self.crypto.decrypt_message(
            response.text, x.findtext("MsgSignature"), x.findtext("TimeStamp"), x.findtext("Nonce")
        )
        return {child.tag: child.text or "" for child in ElementTree.fromstring(plain)}

    def verify_url(self, echo_plain: str = "echo-123", tamper: bool = False):
        ts, nonce = str(int(time.time())), "v3rify"
        out = ElementTree.fromstring(self.crypto.encrypt_message(echo_plain, nonce, ts))
        signature = out.findtext("MsgSignature")
        if tamper:
            signature = "0" * len(signature)
        query = {
            "msg_signature": signature,
            "timestamp": ts,
            "nonce": nonce,
            "echostr": out.findtext("Encrypt"),
        }
        return self.client.get("/bot/wecom", params=query)


def webhook_sign(timestamp: str, signed: bytes, secret: str = WEBHOOK_SECRET) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"\n" + signed, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class WebhookSender:
    def __init__(self, client, sender: str = "lisi") -> None:
        self.client, self.sender = client, sender

    def send(
        self,
        text: str = "",
        msg_id: str | None = None,
        *,
        raw: bytes | None = None,
        timestamp: int | None = None,
        sign: str | None = None,
        **fields,
    ):
        body = (
            raw
            if raw is not None
            else json.dumps(
                {
                    "msg_id": msg_id or uuid.uuid4().hex,
                    "sender": self.sender,
                    "text": text,
                    **fields,
                },
                ensure_ascii=False,
            ).encode()
        )
        ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
        headers = {
            "content-type": "application/json",
            "timestamp": ts,
            "sign": sign or webhook_sign(ts, body),
        }
        return self.client.post("/bot/webhook", content=body, headers=headers)


def _bot_settings(home, db_url: str, api_base: str, **extra) -> Settings:
    return Settings(
        home=home,
        database_url=db_url,
        wecom_corp_id=CORP_ID,
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_agent_id=1000002,
        wecom_secret="app-secret",
        wecom_api_base=api_base,
        webhook_secret=WEBHOOK_SECRET,
        webhook_push_hosts=["127.0.0.1"],
        **extra,
    )


@contextmanager
def open_bot(home: Path, db_url: str, api_base: str) -> Iterator[tuple]:
    """The app with both channels and one in-process event worker over ``db_url``; yields
    (client, services). Users: 张三 (grid, WeCom zhangsan), 评测员 (WeCom pingce), 李四
    (grid, webhook lisi)."""
    from fastapi.testclient import TestClient

    from copilot.api.app import create_app
    from copilot.services import build_services
    from copilot.users.store import NewUser, Role

    services = build_services(_bot_settings(home, db_url, api_base), with_llm=False)
    try:
        grid = services.hierarchy.descendants(LIANGLU, "grid")[0].code
        users = services.users
        users.add(NewUser(name="张三", role=Role.GRID, jurisdiction=grid, wecom_user="zhangsan"))
        users.add(
            NewUser(name="评测员", role=Role.EVALUATOR, jurisdiction="50", wecom_user="pingce")
        )
        users.add(NewUser(name="李四", role=Role.GRID, jurisdiction=grid, webhook_user="lisi"))
        app = create_app(services=services, workers=1, sweeper=False, ui=False)
        with TestClient(app) as client:
            yield client, services
    finally:
        services.close()
