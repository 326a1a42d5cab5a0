"""SQLAlchemy 2 tables of the work-order store: orders, their audit trail, their vectors
(for "similar past orders") and the traces of the disposition runs behind them.

The Alembic migration in ``migrations/versions`` creates exactly these tables (a test
compares the two); change both together. Indexes are chosen for the queries that run
hundreds of times a second: the sweeper (state, escalate_at), the board of one
jurisdiction (district/town/village/grid or board, then state, ordered by deadline) and an
order's audit trail (order_id, id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from copilot.vocabulary import TIERS
from copilot.work_orders.deadlines import as_utc
from copilot.work_orders.states import State


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as
    naive UTC text, which also keeps its string comparisons (``escalate_at <= :now``) right.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


# JSONB on PostgreSQL (indexable, compact); plain JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite makes only an INTEGER PRIMARY KEY an alias of its rowid (cheap, auto-assigned).
IdType = BigInteger().with_variant(Integer(), "sqlite")

STATE_VALUES = ", ".join(f"'{s.value}'" for s in State)
TIER_VALUES = ", ".join(f"'{t}'" for t in TIERS)


class Base(DeclarativeBase):
    pass


class WorkOrder(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(IdType, Identity(), primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    # sha256 of the submission, to tell a retry (same payload) from a reused key (client bug).
    request_hash: Mapped[str] = mapped_column(String(64))

    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    board: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(4))
    tier: Mapped[str] = mapped_column(String(4))
    department: Mapped[str] = mapped_column(String(64))
    owner_unit: Mapped[str | None] = mapped_column(String(128))
    district_code: Mapped[str | None] = mapped_column(String(24))
    town_code: Mapped[str | None] = mapped_column(String(24))
    village_code: Mapped[str | None] = mapped_column(String(24))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    cooperating_units: Mapped[list[str]] = mapped_column(JsonType)
    # The disposition behind the order (draft, routing reasons, legal basis): shown to the
    # approver, never interpreted by the store.
    details: Mapped[dict | None] = mapped_column(JsonType, nullable=True)

    state: Mapped[str] = mapped_column(String(20))
    # The catalogue's {"紧急": h, "较急": h, "一般": h}: kept so an edit of urgency or a
    # reopen can recompute the window without the catalogue.
    deadline_hours: Mapped[dict[str, float]] = mapped_column(JsonType)
    grace_hours: Mapped[float] = mapped_column(Float)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # deadline_at + grace while the order is open, NULL otherwise: what the sweeper scans.
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer)
    supervised: Mapped[bool] = mapped_column(Boolean)  # 市级督办: escalated with nowhere higher
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # The ORM adds "AND version = :loaded" to every UPDATE and bumps it: a lost race shows up
    # as zero rows updated (StaleDataError), which the store turns into VersionConflict.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("order_no", name="uq_work_orders_order_no"),
        UniqueConstraint("idempotency_key", name="uq_work_orders_idempotency_key"),
        CheckConstraint(f"state IN ({STATE_VALUES})", name="ck_work_orders_state"),
        CheckConstraint(f"tier IN ({TIER_VALUES})", name="ck_work_orders_tier"),
        Index("ix_work_orders_state_escalate_at", "state", "escalate_at"),
        Index("ix_work_orders_state_deadline_at", "state", "deadline_at"),
        Index("ix_work_orders_district_state", "district_code", "state", "deadline_at"),
        Index("ix_work_orders_town_state", "town_code", "state", "deadline_at"),
        Index("ix_work_orders_village_state", "village_code", "state"),
        Index("ix_work_orders_grid_state", "grid_code", "state"),
        Index("ix_work_orders_board_state", "board", "state", "deadline_at"),
    )


class AuditEntry(Base):
    """One row per change of an order. Database triggers reject UPDATE and DELETE."""

    __tablename__ = "work_order_audit"

    id: Mapped[int] = mapped_column(IdType, Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("work_orders.id", ondelete="RESTRICT", name="fk_audit_order")
    )
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # create | transition | escalate
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)  # the order's version after this change
    comment: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_work_order_audit_order", "order_id", "id"),)


class OrderVector(Base):
    """An order's text embedding, so a new event finds similar past orders."""

    __tablename__ = "work_order_vectors"

    order_id: Mapped[int] = mapped_column(
        IdType,
        ForeignKey("work_orders.id", ondelete="CASCADE", name="fk_vector_order"),
        primary_key=True,
    )
    model: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str | None] = mapped_column(String(24))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, L2-normalised

    __table_args__ = (Index("ix_work_order_vectors_model_district", "model", "district_code"),)


class DispositionTrace(Base):
    """Steps, tool calls and timings of one disposition run (``copilot trace ID``)."""

    __tablename__ = "disposition_traces"

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(160))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_disposition_traces_thread", "thread_id"),)
