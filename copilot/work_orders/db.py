"""Engines and migrations: SQLite (WAL) by default, PostgreSQL via ``COPILOT_DATABASE_URL``.

Alembic is configured here in code, pointing at ``migrations/`` at the repository root, so
migrations run the same from any working directory and no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

DATABASE_URL_ENV = "COPILOT_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any constant works; it only has to be the same in every process that migrates.
_PG_MIGRATION_LOCK = 0x636F_7069  # "copi"


def default_database_url(home: Path) -> str:
    """The SQLite file under the copilot home (absolute, so the cwd never matters)."""
    return f"sqlite:///{(Path(home) / 'copilot.db').resolve()}"


def resolve_database_url(home: Path) -> str:
    """``COPILOT_DATABASE_URL`` when set, else the SQLite default under ``home``."""
    return os.environ.get(DATABASE_URL_ENV) or default_database_url(home)


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs: SQLAlchemy's default (psycopg2) is
    not installed, and people copy URLs from ``psql`` without a driver suffix."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    On SQLite the store asks for ``BEGIN IMMEDIATE`` on write transactions through the
    execution option ``sqlite_begin``: the write lock is then taken before the first read,
    so a writer that loses a race waits (busy timeout) and then sees the winner's version,
    instead of failing mid-transaction with "database is locked" when it tries to upgrade a
    read snapshot that has gone stale.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)

    memory = parsed.database in (None, "", ":memory:")
    if memory:
        # One shared connection, or every checkout would see its own empty database.
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so that _on_begin decides its kind.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if not memory:
            cur.execute("PRAGMA journal_mode = WAL")
            # NORMAL is safe from corruption in WAL mode and skips an fsync per commit; an
            # OS crash may lose the last few commits, an application crash loses nothing.
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    # Writers of this process queue here for SQLite's one write lock: a thread waiting in
    # SQLite's busy handler sleeps with a growing backoff (up to 100 ms a try) and may keep
    # losing to others, which put seconds into the tail of 20 concurrent writes; a lock wakes
    # the next writer as soon as the last commits. Other processes still meet the busy timeout.
    writers = threading.RLock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode != "IMMEDIATE":
            conn.exec_driver_sql(f"BEGIN {mode}")
            return
        writers.acquire()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.release()
            raise
        conn.info["holds_writer_lock"] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Any) -> None:
        if conn.info.pop("holds_writer_lock", False):
            writers.release()

    return engine


def write_engine(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take SQLite's write lock up front."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


def _alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a "%" in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def _run(url: str, fn: Any, revision: str) -> None:
    cfg = _alembic_config(url)
    engine = make_engine(url)
    try:
        with write_engine(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                # Several API processes may start at once; PostgreSQL DDL is transactional,
                # so one lock for the whole transaction serialises them.
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            cfg.attributes["connection"] = conn
            fn(cfg, revision)
    finally:
        engine.dispose()


def run_migrations(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (idempotent; safe to run at startup)."""
    _run(url, command.upgrade, revision)


def downgrade_migrations(url: str, revision: str = "base") -> None:
    """Downgrade to ``revision``; ``base`` drops every table the migrations created."""
    _run(url, command.downgrade, revision)


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
            return row[0] if row else None
    finally:
        engine.dispose()
