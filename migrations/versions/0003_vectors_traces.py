"""Order vectors (similar past orders) and disposition traces.

Revision ID: 0003_vectors_traces
Revises: 0002_order_details
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_vectors_traces"
down_revision: str | None = "0002_order_details"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "work_order_vectors",
        sa.Column("order_id", _id(), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("district_code", sa.String(24), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_orders.id"], name="fk_vector_order", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index(
        "ix_work_order_vectors_model_district", "work_order_vectors", ["model", "district_code"]
    )
    op.create_table(
        "disposition_traces",
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("thread_id", sa.String(160), nullable=False),
        sa.Column("steps", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("trace_id"),
    )
    op.create_index("ix_disposition_traces_thread", "disposition_traces", ["thread_id"])


def downgrade() -> None:
    op.drop_index("ix_disposition_traces_thread", table_name="disposition_traces")
    op.drop_table("disposition_traces")
    op.drop_index("ix_work_order_vectors_model_district", table_name="work_order_vectors")
    op.drop_table("work_order_vectors")
