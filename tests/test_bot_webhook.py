"""The signed webhook: HMAC over timestamp and body, JSON in and out, results pushed to the
sender's session webhook. Signatures are made with the standard library, not our code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from copilot.bot.channel import BadSignature
from copilot.bot.webhook import WebhookChannel
from tests.bot_clients import WEBHOOK_SECRET, WebhookSender, webhook_sign

MANHOLE = "渝北区两路街道空港大道有个井盖不见了，晚上很危险"


def _orders_with(services, text: str):
    return [o for o in services.orders.list() if o.text.startswith(text)]


def _wait_idle(services, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while services.inbox.depth() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_signed_report_is_acknowledged_and_its_result_pushed_signed(bot, wecom_api):
    client, services, server = bot
    _, base = wecom_api
    resp = WebhookSender(client).send(MANHOLE + "（钉钉）", reply_url=f"{base}/hook")
    assert resp.status_code == 200
    body = resp.json()
    assert body["msgtype"] == "text" and "已收到" in body["text"]["content"]
    [push] = server.wait_for(1, path="/hook")[-1:]
    # The push is signed the same way, so the receiver can check it came from us.
    ts = push.headers["timestamp"]
    assert push.headers["sign"] == webhook_sign(ts, push.body)
    _wait_idle(services)
    [order] = _orders_with(services, MANHOLE + "（钉钉）")
    assert order.order_no in push.json()["text"]["content"] and order.created_by == "李四"


def test_a_wrong_signature_is_401_and_nothing_is_queued(bot):
    client, services, _ = bot
    resp = WebhookSender(client).send(MANHOLE + "（假签名）", sign="AAAA")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "bad_signature"
    _wait_idle(services)
    assert not _orders_with(services, MANHOLE + "（假签名）")


def test_a_body_changed_after_signing_is_refused(bot):
    client, _, _ = bot
    body = {"msg_id": "m-1", "sender": "lisi", "text": "井盖丢了"}
    original = json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(time.time() * 1000))
    tampered = original.replace("井盖丢了".encode(), "路灯坏了".encode())
    resp = client.post(
        "/bot/webhook",
        content=tampered,
        headers={"timestamp": ts, "sign": webhook_sign(ts, original)},
    )
    assert resp.status_code == 401


def test_an_old_timestamp_is_a_replay(bot):
    client, services, _ = bot
    old = int((time.time() - 301) * 1000)
    resp = WebhookSender(client).send(MANHOLE + "（旧请求）", timestamp=old)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "replayed"
    assert not _orders_with(services, MANHOLE + "（旧请求）")


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[" * 5000 + b"]" * 5000,
        "中文".encode("gbk"),
        b'{"text": "no ids"}',
        b'{"msg_id": "x", "sender": "lisi", "text": 5}',
    ],
    ids=["broken", "deeply-nested", "gbk-bytes", "missing-fields", "wrong-type"],
)
def test_malformed_json_is_a_400(bot, raw):
    client, _, _ = bot
    resp = WebhookSender(client).send(raw=raw)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "malformed"


def test_a_retried_message_id_is_one_event(bot, wecom_api):
    client, services, _ = bot
    sender = WebhookSender(client)
    for _ in range(3):
        assert sender.send(MANHOLE + "（重复）", msg_id="dup-1").status_code == 200
    _wait_idle(services)
    assert len(_orders_with(services, MANHOLE + "（重复）")) == 1


def test_a_session_webhook_of_another_host_is_never_called(bot):
    client, _, _ = bot
    resp = WebhookSender(client).send(
        "帮助", sessionWebhook="http://169.254.169.254/latest/meta-data"
    )
    assert resp.status_code == 200 and "使用说明" in resp.json()["text"]["content"]
    channel = WebhookChannel(WEBHOOK_SECRET, push_hosts=["oapi.dingtalk.com"])
    assert channel._reply_to("http://169.254.169.254/x") is None
    assert channel._reply_to("https://oapi.dingtalk.com/robot/sendBySession?s=1").to


def test_dingtalk_signing_mode_reads_dingtalks_own_message():
    """DingTalk signs ``timestamp + "\\n" + secret``; its message fields are its own."""
    ts = str(int(time.time() * 1000))
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{ts}\n{WEBHOOK_SECRET}".encode(), hashlib.sha256)
    body = json.dumps(
        {
            "msgtype": "text",
            "text": {"content": " 井盖丢了 "},
            "msgId": "msgABC",
            "senderStaffId": "staff-9",
            "senderId": "$:LWCP_v1:$xyz",
            "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=s1",
        }
    ).encode()
    channel = WebhookChannel(WEBHOOK_SECRET, mode="dingtalk", push_hosts=["oapi.dingtalk.com"])
    msg = channel.read({}, {"timestamp": ts, "sign": base64.b64encode(mac.digest()).decode()}, body)
    assert (msg.sender, msg.msg_id, msg.text.strip()) == ("staff-9", "msgABC", "井盖丢了")
    assert msg.reply_to and msg.reply_to.to.startswith("https://oapi.dingtalk.com/")
    with pytest.raises(BadSignature):
        channel.read({}, {"timestamp": ts, "sign": "x"}, body)
