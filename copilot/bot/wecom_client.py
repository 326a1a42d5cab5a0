"""WeCom's send-message API (应用消息): results that take longer than the passive reply.

The access token is fetched with the corp id and the application's secret, cached until
shortly before it expires and fetched again when WeCom says it is invalid or expired. The
token travels in the URL as WeCom requires; the URL is never logged with it.
"""

from __future__ import annotations

import logging
import re
import threading
import time

import httpx

from copilot.bot.channel import DeliveryError

log = logging.getLogger(__name__)
# errcodes meaning "fetch a new access token": invalid, expired, missing.
TOKEN_ERRORS = {40001, 40014, 41001, 42001}
REFRESH_MARGIN_S = 300
WECOM_TEXT_BYTES = 2048  # WeCom refuses longer text messages


class _RedactTokens(logging.Filter):
    """httpx logs each request's URL at INFO: hide the access token in it."""

    _TOKEN = re.compile(r"(access_token|corpsecret)=[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message or "corpsecret=" in message:
            record.msg, record.args = self._TOKEN.sub(r"\1=***", message), ()
        return True


_REDACT = _RedactTokens()


class WeComClient:
    def __init__(
        self,
        base_url: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        *,
        timeout_s: float = 5.0,
    ) -> None:
        self._corp_id, self._secret, self.agent_id = corp_id, secret, agent_id
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        httpx_log = logging.getLogger("httpx")
        if _REDACT not in httpx_log.filters:
            httpx_log.addFilter(_REDACT)

    def send_text(self, to: str, text: str) -> None:
        """Send a text message to one WeCom user (``DeliveryError`` when WeCom refuses)."""
        payload = {
            "touser": to,
            "msgtype": "text",
            "agentid": self.agent_id,
            "text": {"content": fit_bytes(text, WECOM_TEXT_BYTES)},
        }
        for attempt in (1, 2):
            token = self.access_token(refresh=attempt == 2)
            data = self._call("POST", "/cgi-bin/message/send", token, json=payload)
            code = data.get("errcode", 0)
            if code == 0:
                return
            if code not in TOKEN_ERRORS:
                raise DeliveryError(f"message/send errcode {code}")
        raise DeliveryError("message/send refused a fresh access token")

    def access_token(self, refresh: bool = False) -> str:
        with self._lock:
            if refresh or self._token is None or time.monotonic() >= self._expires:
                data = self._call(
                    "GET", "/cgi-bin/gettoken", None, corpid=self._corp_id, corpsecret=self._secret
                )
                if data.get("errcode", 0) != 0 or not data.get("access_token"):
                    raise DeliveryError(f"gettoken errcode {data.get('errcode')}")
                ttl = float(data.get("expires_in", 7200))
                self._token = str(data["access_token"])
                self._expires = time.monotonic() + max(ttl - REFRESH_MARGIN_S, ttl / 2)
            return self._token

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, token: str | None, json=None, **params) -> dict:
        if token is not None:
            params["access_token"] = token
        try:
            response = self._http.request(method, path, params=params, json=json)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # The exception's text may hold the URL and with it the token: keep its type only.
            raise DeliveryError(f"{path}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise DeliveryError(f"{path}: not a JSON object")
        return data


def fit_bytes(text: str, limit: int) -> str:
    """``text`` cut so that its UTF-8 form fits ``limit`` bytes (whole characters only)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    cut = data[: limit - len("…".encode())].decode("utf-8", errors="ignore")
    return cut + "…"
