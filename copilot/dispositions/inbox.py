"""The event inbox: a submission is stored before any routing, then worked off a queue.

``enqueue`` writes the raw event under its idempotency key and returns at once (the API
answers 202); workers ``claim`` queued events — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so
several processes share one queue, a conditional update on SQLite — run the disposition
and store its result. An event whose worker died is claimed again after ``STALE_AFTER``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from copilot.events.attachments import Attachment
from copilot.input_limits import EVENT_CHARS
from copilot.users.models import InboxEvent
from copilot.work_orders.db import write_engine

log = logging.getLogger(__name__)

Status = Literal["queued", "running", "done", "failed"]
MAX_ATTEMPTS = 3
STALE_AFTER = timedelta(minutes=5)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=EVENT_CHARS, description="事件描述")
    reporter_grid: str | None = Field(default=None, max_length=32, pattern=r"^\d+$")
    idempotency_key: str = Field(
        min_length=1, max_length=128, description="Stable per submission: a retry reuses it."
    )
    attachments: list[Attachment] = Field(
        default_factory=list, max_length=9, description="照片、位置 (references)"
    )


class InboxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    idempotency_key: str
    reporter: str
    status: Status
    attempts: int
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class InboxConflict(ValueError):
    """The idempotency key was used for a different event."""


class EventInbox:
    def __init__(self, engine: Engine) -> None:
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine(engine), expire_on_commit=False)
        self._postgres = engine.dialect.name == "postgresql"

    def enqueue(
        self, event: EventIn, reporter: str, reply_to: dict[str, str] | None = None
    ) -> tuple[InboxOut, bool]:
        """Store the event (or find the one stored under its key); True when new.
        ``reply_to``: where the messaging bot sends the result.

        One INSERT on the common path: a retry's key collides with the unique index and
        is then looked up.
        """
        now = datetime.now(UTC)
        try:
            with self._write.begin() as s:
                row = InboxEvent(
                    idempotency_key=event.idempotency_key,
                    text=event.text,
                    reporter=reporter,
                    reporter_grid=event.reporter_grid,
                    reply_to=reply_to,
                    attachments=[a.model_dump(exclude_none=True) for a in event.attachments]
                    or None,
                    status="queued",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                s.flush()
                return InboxOut.model_validate(row), True
        except IntegrityError:
            with self._read() as s:
                row = s.scalar(
                    select(InboxEvent).where(InboxEvent.idempotency_key == event.idempotency_key)
                )
                if row is None:
                    raise
                return self._replay(row, event), False

    def get(self, event_id: int) -> InboxOut | None:
        with self._read() as s:
            row = s.get(InboxEvent, event_id)
            return InboxOut.model_validate(row) if row else None

    def claim(self) -> InboxEvent | None:
        """Take the oldest queued (or abandoned) event for this worker."""
        now = datetime.now(UTC)
        stale = now - STALE_AFTER
        with self._write.begin() as s:
            q = (
                select(InboxEvent)
                .where(
                    or_(
                        InboxEvent.status == "queued",
                        (InboxEvent.status == "running") & (InboxEvent.updated_at < stale),
                    ),
                    InboxEvent.attempts < MAX_ATTEMPTS,
                )
                .order_by(InboxEvent.id)
                .limit(1)
            )
            if self._postgres:
                q = q.with_for_update(skip_locked=True)
            row = s.scalar(q)
            if row is None:
                return None
            # On SQLite the write transaction (BEGIN IMMEDIATE) already excludes other workers.
            s.execute(
                update(InboxEvent)
                .where(InboxEvent.id == row.id)
                .values(status="running", attempts=row.attempts + 1, updated_at=now)
            )
            s.expunge(row)
            return row

    def finish(self, event_id: int, result: dict[str, Any] | None, error: str | None) -> None:
        now = datetime.now(UTC)
        with self._write.begin() as s:
            row = s.get(InboxEvent, event_id)
            if row is None:
                return
            if error is None:
                row.status, row.result, row.error = "done", result, None
            else:
                row.error = error[:2000]
                row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "queued"
            row.updated_at = now

    def depth(self) -> int:
        """Events waiting or being worked (for /metrics)."""
        with self._read() as s:
            return len(
                s.scalars(
                    select(InboxEvent.id).where(InboxEvent.status.in_(("queued", "running")))
                ).all()
            )

    @staticmethod
    def _replay(row: InboxEvent, event: EventIn) -> InboxOut:
        if row.text != event.text or row.reporter_grid != event.reporter_grid:
            raise InboxConflict(f"idempotency key {event.idempotency_key!r} names another event")
        return InboxOut.model_validate(row)


Handler = Callable[[InboxEvent], dict[str, Any]]


class InboxWorkers:
    """In-process workers (the embedded default); a real deployment runs them as processes."""

    def __init__(self, inbox: EventInbox, handle: Handler, threads: int = 2) -> None:
        self.inbox = inbox
        self.handle = handle
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._threads = [
            threading.Thread(target=self._loop, name=f"inbox-worker-{i}", daemon=True)
            for i in range(threads)
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)

    def notify(self) -> None:
        """A new event is waiting: wake an idle worker now instead of at its next poll."""
        self._wake.set()

    def wait_for(self, event_id: int, timeout: float) -> InboxOut | None:
        """Block until the event is done or failed (or the timeout passes)."""
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while True:
            current = self.inbox.get(event_id)
            if current is None or current.status in ("done", "failed"):
                return current
            left = (deadline - datetime.now(UTC)).total_seconds()
            if left <= 0:
                return current
            with self._done:
                self._done.wait(min(left, 0.5))

    def run_once(self) -> bool:
        """Work one event if there is one (tests, and the loop below)."""
        row = self.inbox.claim()
        if row is None:
            return False
        try:
            result, error = self.handle(row), None
        except Exception as exc:  # recorded on the event; the worker goes on
            log.exception("event %s failed", row.id)
            result, error = None, f"{type(exc).__name__}: {exc}"
        self.inbox.finish(row.id, result, error)
        with self._done:
            self._done.notify_all()
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # a database hiccup: wait and retry
                log.exception("inbox worker error")
                worked = False
            if not worked:
                self._wake.wait(1.0)
                self._wake.clear()
