"""Tables of users, their API tokens and the event inbox, beside the work orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Identity, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copilot.work_orders.models import Base, IdType, JsonType, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(IdType, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    # The division the user answers for: every query is scoped to its subtree.
    jurisdiction: Mapped[str] = mapped_column(String(24))
    # The sender ids the messaging bot knows the user by (WeCom userid, webhook sender).
    wecom_user: Mapped[str | None] = mapped_column(String(64))
    webhook_user: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("name", name="uq_users_name"),
        UniqueConstraint("wecom_user", name="uq_users_wecom_user"),
        UniqueConstraint("webhook_user", name="uq_users_webhook_user"),
    )


class ApiToken(Base):
    """Only the SHA-256 of a token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(IdType, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="CASCADE", name="fk_token_user")
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))  # to tell tokens apart in listings
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_api_tokens_hash"),
        Index("ix_api_tokens_user", "user_id"),
    )


class InboxEvent(Base):
    """A submitted event, stored before any routing: acknowledged durably, worked later."""

    __tablename__ = "event_inbox"

    id: Mapped[int] = mapped_column(IdType, Identity(), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    reporter: Mapped[str] = mapped_column(String(64))
    reporter_grid: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12))  # queued | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text)
    # Where the result goes when the event came from the messaging bot ({channel, to}).
    reply_to: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    # Photos and locations sent with the report (references, never the bytes).
    attachments: Mapped[list | None] = mapped_column(JsonType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_event_inbox_key"),
        Index("ix_event_inbox_status", "status", "id"),
    )


class BotPending(Base):
    """A photo or location a sender sent before describing the event: attached to that
    sender's next report."""

    __tablename__ = "bot_pending"

    id: Mapped[int] = mapped_column(IdType, Identity(), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(64))
    msg_key: Mapped[str] = mapped_column(String(128))  # a retried photo is held once
    attachment: Mapped[dict] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("msg_key", name="uq_bot_pending_key"),
        Index("ix_bot_pending_sender", "channel", "sender", "id"),
    )
