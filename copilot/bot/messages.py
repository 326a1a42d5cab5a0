"""What a channel hands the conversation, whatever its wire format."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

from copilot.events.attachments import Attachment
from copilot.users.store import Channel

__all__ = ["Attachment", "Incoming", "Kind", "ReplyTo"]

Kind = Literal["text", "image", "location", "event", "other"]


class ReplyTo(BaseModel):
    """Where a result that takes longer than the passive reply is sent."""

    channel: Channel
    to: str = Field(max_length=1024, description="WeCom userid, or a webhook URL")


class Incoming(BaseModel):
    """One message from a sender, verified and decrypted by its channel."""

    channel: Channel
    sender: str = Field(min_length=1, max_length=64)
    msg_id: str = Field(min_length=1, max_length=96, description="The channel's message id")
    kind: Kind
    text: str = ""
    attachment: Attachment | None = None
    reply_to: ReplyTo | None = None
    # The channel's own addressing for the passive reply (WeCom: ToUserName/FromUserName).
    envelope: dict[str, str] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable for every retry of this message: the inbox's idempotency key. The sender is
        part of it, so that one sender's message ids never collide with another's."""
        digest = hashlib.sha256(f"{self.sender}\0{self.msg_id}".encode()).hexdigest()[:40]
        return f"bot:{self.channel}:{digest}"
