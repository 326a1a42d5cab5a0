"""Photos and locations waiting for the report they belong to.

Grid staff often send the photo first and describe the event after: what a sender sends
without text is held here and attached to that sender's next report (within ``KEEP``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from copilot.events.attachments import Attachment
from copilot.users.models import BotPending
from copilot.work_orders.db import write_engine

KEEP = timedelta(minutes=30)
MAX_HELD = 9


class PendingAttachments:
    def __init__(self, engine: Engine) -> None:
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine(engine), expire_on_commit=False)

    def hold(self, channel: str, sender: str, msg_key: str, attachment: Attachment) -> None:
        """Keep an attachment (a retried message is held once); the sender's expired ones go."""
        try:
            with self._write.begin() as s:
                s.execute(
                    delete(BotPending).where(
                        BotPending.channel == channel,
                        BotPending.sender == sender,
                        BotPending.created_at < datetime.now(UTC) - KEEP,
                    )
                )
                s.add(
                    BotPending(
                        channel=channel,
                        sender=sender,
                        msg_key=msg_key,
                        attachment=attachment.model_dump(exclude_none=True),
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            pass

    def peek(self, channel: str, sender: str) -> list[tuple[int, Attachment]]:
        """The sender's recent attachments, oldest first (at most ``MAX_HELD``)."""
        since = datetime.now(UTC) - KEEP
        with self._read() as s:
            rows = s.scalars(
                select(BotPending)
                .where(
                    BotPending.channel == channel,
                    BotPending.sender == sender,
                    BotPending.created_at >= since,
                )
                .order_by(BotPending.id)
                .limit(MAX_HELD)
            ).all()
            return [(r.id, Attachment.model_validate(r.attachment)) for r in rows]

    def drop(self, ids: list[int]) -> None:
        """Forget attachments once a report took them."""
        with self._write.begin() as s:
            s.execute(delete(BotPending).where(BotPending.id.in_(ids)))
