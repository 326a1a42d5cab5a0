"""Alembic environment, driven from ``copilot.work_orders.db`` (no alembic.ini).

``run_migrations`` passes an open connection in ``config.attributes["connection"]``, so the
caller owns the transaction and its locks. Without one (e.g. ``alembic`` run by hand with a
config that sets ``sqlalchemy.url``), an engine is made from the URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from copilot.users import models as _users  # noqa: F401  (registers the users tables)
from copilot.work_orders.db import make_engine
from copilot.work_orders.models import Base

config = context.config
target_metadata = Base.metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as conn:
            _migrate(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
