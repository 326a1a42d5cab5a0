"""LangGraph checkpoint savers: SQLite on the embedded default, PostgreSQL when scaled out.

A disposition waiting for approval lives in its checkpoint; the saver must outlive the
process, so the in-memory saver is never used outside tests.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from copilot.settings import Settings

# pg_advisory_lock key for the checkpoint tables' setup (any constant unique to this use).
SETUP_LOCK_KEY = 0x434F50494C4F54  # "COPILOT"
SETUP_POLL_S = 0.1


@dataclass
class Checkpoints:
    saver: BaseCheckpointSaver
    url: str
    _conn: object

    def close(self) -> None:
        self._conn.close()  # type: ignore[attr-defined]


def checkpoint_url(settings: Settings) -> str:
    """``COPILOT_CHECKPOINT_URL``, else beside the work orders: the same PostgreSQL
    database, or ``<orders file>.checkpoints`` next to the SQLite one (so the two are
    always paired: a checkpoint never outlives the orders it refers to)."""
    if settings.checkpoint_url:
        return settings.checkpoint_url
    db = settings.resolved_database_url
    if db.startswith("postgresql"):
        return db
    if db.startswith("sqlite:///") and len(db) > len("sqlite:///"):
        return f"{db}.checkpoints"
    return f"sqlite:///{settings.home / 'checkpoints.sqlite'}"


def open_checkpoints(url: str) -> Checkpoints:
    """Open (and create the tables of) the saver at ``url``."""
    if url.startswith("sqlite:///"):
        from langgraph.checkpoint.sqlite import SqliteSaver

        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # The saver serialises its own use of the connection with a lock.
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        saver = SqliteSaver(conn)
        saver.setup()
        return Checkpoints(saver, url, conn)
    if url.startswith("postgresql"):
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        plain = "postgresql://" + url.split("://", 1)[1]  # drop a SQLAlchemy "+psycopg"
        conn = psycopg.connect(plain, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        saver = PostgresSaver(conn)
        # Several processes starting together would race on the saver's own migrations.
        # Polled, not waited for: a session blocked in pg_advisory_lock holds a transaction
        # open, and the setup's CREATE INDEX CONCURRENTLY waits for every open transaction —
        # a deadlock between two starting workers.
        while not conn.execute(
            "SELECT pg_try_advisory_lock(%s) AS ok", (SETUP_LOCK_KEY,)
        ).fetchone()["ok"]:
            time.sleep(SETUP_POLL_S)
        try:
            saver.setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))
        return Checkpoints(saver, url, conn)
    raise ValueError(f"unsupported checkpoint URL (sqlite:/// or postgresql://): {url[:40]}")
