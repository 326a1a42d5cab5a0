"""Work orders and their append-only audit log.

Revision ID: 0001_work_orders
Revises:
Create Date: 2026-01-30

Types are spelled out here instead of imported from the models: a migration must keep
creating the schema of its own day even after the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_work_orders"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = (
    "draft",
    "pending_approval",
    "returned",
    "dispatched",
    "accepted",
    "in_progress",
    "escalated",
    "resolved",
    "reopened",
    "closed",
    "cancelled",
)
TIERS = ("网格", "村社", "镇街", "区县", "市级")


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "work_orders",
        sa.Column("id", _id(), sa.Identity(), primary_key=True),
        sa.Column("order_no", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("board", sa.String(16), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("urgency", sa.String(4), nullable=False),
        sa.Column("tier", sa.String(4), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("owner_unit", sa.String(128), nullable=True),
        sa.Column("district_code", sa.String(24), nullable=True),
        sa.Column("town_code", sa.String(24), nullable=True),
        sa.Column("village_code", sa.String(24), nullable=True),
        sa.Column("grid_code", sa.String(32), nullable=True),
        sa.Column("cooperating_units", _json(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("deadline_hours", _json(), nullable=False),
        sa.Column("grace_hours", sa.Float(), nullable=False),
        sa.Column("deadline_at", _ts(), nullable=True),
        sa.Column("escalate_at", _ts(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", _ts(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.UniqueConstraint("order_no", name="uq_work_orders_order_no"),
        sa.UniqueConstraint("idempotency_key", name="uq_work_orders_idempotency_key"),
        sa.CheckConstraint(_in("state", STATES), name="ck_work_orders_state"),
        sa.CheckConstraint(_in("tier", TIERS), name="ck_work_orders_tier"),
    )
    for name, cols in (
        ("ix_work_orders_state_escalate_at", ["state", "escalate_at"]),
        ("ix_work_orders_state_deadline_at", ["state", "deadline_at"]),
        ("ix_work_orders_district_state", ["district_code", "state", "deadline_at"]),
        ("ix_work_orders_town_state", ["town_code", "state", "deadline_at"]),
        ("ix_work_orders_village_state", ["village_code", "state"]),
        ("ix_work_orders_grid_state", ["grid_code", "state"]),
        ("ix_work_orders_board_state", ["board", "state", "deadline_at"]),
    ):
        op.create_index(name, "work_orders", cols)

    op.create_table(
        "work_order_audit",
        sa.Column("id", _id(), sa.Identity(), primary_key=True),
        sa.Column(
            "order_id",
            _id(),
            sa.ForeignKey("work_orders.id", ondelete="RESTRICT", name="fk_audit_order"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.Column("at", _ts(), nullable=False),
    )
    op.create_index("ix_work_order_audit_order", "work_order_audit", ["order_id", "id"])
    _create_append_only_guard()


def downgrade() -> None:
    _drop_append_only_guard()
    op.drop_index("ix_work_order_audit_order", table_name="work_order_audit")
    op.drop_table("work_order_audit")
    for name in (
        "ix_work_orders_board_state",
        "ix_work_orders_grid_state",
        "ix_work_orders_village_state",
        "ix_work_orders_town_state",
        "ix_work_orders_district_state",
        "ix_work_orders_state_deadline_at",
        "ix_work_orders_state_escalate_at",
    ):
        op.drop_index(name, table_name="work_orders")
    op.drop_table("work_orders")


# The audit log is append-only in the database itself, not only by convention in the store,
# so that no code path (a bug, a hand-written fix-up script) can rewrite history unnoticed.
_MESSAGE = "work_order_audit is append-only (审计日志只能追加)"


def _create_append_only_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION work_order_audit_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER work_order_audit_no_change BEFORE UPDATE OR DELETE "
            "ON work_order_audit FOR EACH ROW EXECUTE FUNCTION work_order_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER work_order_audit_no_truncate BEFORE TRUNCATE "
            "ON work_order_audit FOR EACH STATEMENT "
            "EXECUTE FUNCTION work_order_audit_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER work_order_audit_no_{event.lower()} BEFORE {event} "
            f"ON work_order_audit BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
        )


def _drop_append_only_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER work_order_audit_no_truncate ON work_order_audit")
        op.execute("DROP TRIGGER work_order_audit_no_change ON work_order_audit")
        op.execute("DROP FUNCTION work_order_audit_append_only()")
        return
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER work_order_audit_no_{event}")
