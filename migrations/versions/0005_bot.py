"""The messaging bot: a webhook sender id per user, reply addresses and attachments on inbox
events, photos and locations held until the report they belong to.

Revision ID: 0005_bot
Revises: 0004_users
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_bot"
down_revision: str | None = "0004_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("webhook_user", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_users_webhook_user", ["webhook_user"])
    with op.batch_alter_table("event_inbox") as batch:
        batch.add_column(sa.Column("reply_to", _json(), nullable=True))
        batch.add_column(sa.Column("attachments", _json(), nullable=True))
    op.create_table(
        "bot_pending",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity()),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("msg_key", sa.String(128), nullable=False),
        sa.Column("attachment", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("msg_key", name="uq_bot_pending_key"),
    )
    op.create_index("ix_bot_pending_sender", "bot_pending", ["channel", "sender", "id"])


def downgrade() -> None:
    op.drop_index("ix_bot_pending_sender", table_name="bot_pending")
    op.drop_table("bot_pending")
    with op.batch_alter_table("event_inbox") as batch:
        batch.drop_column("attachments")
        batch.drop_column("reply_to")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_webhook_user", type_="unique")
        batch.drop_column("webhook_user")
