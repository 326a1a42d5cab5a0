"""The seam every messaging channel implements, and the refusals they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from copilot.bot.messages import Incoming


class BotRequestError(Exception):
    """A request the channel refuses before anything is processed; ``status`` for HTTP."""

    status = 400
    code = "bad_request"


class BadSignature(BotRequestError):
    status = 401
    code = "bad_signature"


class ReplayedRequest(BotRequestError):
    """A signed timestamp outside the replay window (an old request sent again)."""

    status = 401
    code = "replayed"


class MalformedMessage(BotRequestError):
    status = 400
    code = "malformed"


class TooLarge(BotRequestError):
    status = 413
    code = "too_large"


class DeliveryError(RuntimeError):
    """A result could not be pushed; the inbox retries the event (its work is idempotent)."""


class BotChannel(Protocol):
    """A messaging channel: verifies and decodes requests, encodes replies, pushes results."""

    name: str

    def read(self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Incoming:
        """Verify (signature, replay window) and decode one request; raises ``BotRequestError``."""
        ...

    def reply(self, incoming: Incoming, text: str) -> tuple[bytes, str]:
        """The passive reply's body and media type."""
        ...

    def push(self, to: str, text: str) -> None:
        """Send a later result to a sender (``DeliveryError`` when it fails)."""
        ...


def check_fresh(timestamp: str, now: float, window_s: int) -> None:
    """Refuse a signed timestamp (seconds, or DingTalk's milliseconds) outside the window."""
    try:
        ts = float(timestamp)
    except ValueError:
        raise MalformedMessage("timestamp is not a number") from None
    if ts > 1e11:  # milliseconds
        ts /= 1000
    if abs(now - ts) > window_s:
        raise ReplayedRequest("timestamp outside the replay window")
