"""The catalogue: ingested documents (with content hashes) and their chunks, in SQLite.

It is the source of truth the keyword index is rebuilt from and the place hits get
their text and metadata from; the vector store holds only vectors and filter fields.

Writes go through one connection, one transaction per document. Reads go through a
connection of their own per thread: in WAL mode a reader sees the last committed state
and never waits for a writer, and never sees a document half-replaced (a reader sharing
the writer's connection would see its open transaction).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from retrievers.models import Chunk, DocumentRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    format TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    article TEXT,
    chapter TEXT,
    section TEXT,
    part INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Chunks of a file still being ingested: written group by group, invisible to search, and
-- moved into ``chunks`` in the transaction that commits the file. A killed ingest resumes
-- from them when the file has not changed.
CREATE TABLE IF NOT EXISTS staged_chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    article TEXT,
    chapter TEXT,
    section TEXT,
    part INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS staged_doc ON staged_chunks(doc_id, seq);
"""


class StagedFile(BaseModel):
    """A file whose ingest was interrupted: what of it is already staged."""

    doc_id: str
    path: str
    content_hash: str
    chunk_ids: list[str]


class _ReadConnection(sqlite3.Connection):
    """A reader's connection (a subclass only so that the catalogue can hold weak references)."""


class Catalog:
    """Documents and chunks; every write bumps ``generation`` so indexes know they are stale."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()  # writers only; readers never take it
        self._local = threading.local()
        # Every reader connection, to close them all; one dies with its thread otherwise.
        self._readers: weakref.WeakSet[_ReadConnection] = weakref.WeakSet()
        self._readers_lock = threading.Lock()

    @property
    def _read(self) -> sqlite3.Connection:
        """This thread's read-only connection (autocommit: each statement its own snapshot)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                str(self._path),
                check_same_thread=False,
                timeout=30,
                isolation_level=None,
                factory=_ReadConnection,
            )
            conn.execute("PRAGMA query_only=ON")
            with self._readers_lock:
                self._readers.add(conn)
            self._local.conn = conn
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one committed state of the catalogue (a read transaction)."""
        conn = self._read
        if conn.in_transaction:  # already inside one
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._readers_lock:
            readers = list(self._readers)
            self._readers.clear()
        for conn in readers:
            conn.close()
        self._db.close()

    # -- meta -----------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._read.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # -- documents ------------------------------------------------------------
    @staticmethod
    def _doc(row: Sequence[Any]) -> DocumentRecord:
        return DocumentRecord(
            doc_id=row[0],
            path=row[1],
            title=row[2],
            content_hash=row[3],
            format=row[4],
            n_chunks=row[5],
            ingested_at=row[6],
            metadata=json.loads(row[7]),
        )

    _DOC_COLS = "doc_id, path, title, content_hash, format, n_chunks, ingested_at, metadata"

    def documents(self) -> list[DocumentRecord]:
        rows = self._read.execute(f"SELECT {self._DOC_COLS} FROM documents ORDER BY title, path")
        return [self._doc(r) for r in rows]

    def document_by_path(self, path: str) -> DocumentRecord | None:
        row = self._read.execute(
            f"SELECT {self._DOC_COLS} FROM documents WHERE path=?", (path,)
        ).fetchone()
        return self._doc(row) if row else None

    def find_documents(self, key: str) -> list[DocumentRecord]:
        """Documents whose id, path or title equals ``key``."""
        rows = self._read.execute(
            f"SELECT {self._DOC_COLS} FROM documents WHERE doc_id=? OR path=? OR title=?",
            (key, key, key),
        )
        return [self._doc(r) for r in rows]

    def _insert_document(self, record: DocumentRecord) -> None:
        self._db.execute(
            f"INSERT INTO documents ({self._DOC_COLS}) VALUES (?,?,?,?,?,?,?,?)",
            (
                record.doc_id,
                record.path,
                record.title,
                record.content_hash,
                record.format,
                record.n_chunks,
                record.ingested_at,
                json.dumps(record.metadata, ensure_ascii=False),
            ),
        )

    def remove_document(self, doc_id: str) -> list[str]:
        """Remove one document; returns the ids of the chunks it had."""
        with self._lock, self._db:
            ids = [
                r[0]
                for r in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))
            ]
            self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            self._db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            self._bump()
        return ids

    # -- staging (a file in flight) --------------------------------------------
    def staged_file(self, doc_id: str) -> StagedFile | None:
        rows = self._read.execute(
            "SELECT chunk_id, path, content_hash FROM staged_chunks WHERE doc_id=? ORDER BY seq",
            (doc_id,),
        ).fetchall()
        if not rows:
            return None
        return StagedFile(
            doc_id=doc_id, path=rows[0][1], content_hash=rows[0][2], chunk_ids=[r[0] for r in rows]
        )

    def staged_files(self) -> list[StagedFile]:
        ids = [r[0] for r in self._read.execute("SELECT DISTINCT doc_id FROM staged_chunks")]
        return [f for d in ids if (f := self.staged_file(d)) is not None]

    def discard_staged(self, doc_id: str) -> list[str]:
        """Drop what was staged of one file; returns the chunk ids it held."""
        with self._lock, self._db:
            ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT chunk_id FROM staged_chunks WHERE doc_id=?", (doc_id,)
                )
            ]
            self._db.execute("DELETE FROM staged_chunks WHERE doc_id=?", (doc_id,))
        return ids

    def stage_and_commit(
        self,
        staged: Sequence[tuple[str, str, Chunk, list[str]]],
        finished: Sequence[DocumentRecord],
    ) -> dict[str, list[str]]:
        """One transaction: stage ``(path, content_hash, chunk, tokens)`` rows, then make each
        finished file live (its staged chunks replace its old ones).

        Returns, per finished document, the ids of its old chunks (the caller drops the
        vectors of those the new version no longer has).
        """
        old: dict[str, list[str]] = {}
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO staged_chunks (chunk_id, doc_id, path, content_hash, seq,"
                " text, article, chapter, section, part, metadata, tokens)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        c.chunk_id,
                        c.doc_id,
                        path,
                        digest,
                        c.seq,
                        c.text,
                        c.article,
                        c.chapter,
                        c.section,
                        c.part,
                        json.dumps(c.metadata, ensure_ascii=False),
                        " ".join(toks),
                    )
                    for path, digest, c, toks in staged
                ],
            )
            for record in finished:
                old[record.doc_id] = [
                    r[0]
                    for r in self._db.execute(
                        "SELECT chunk_id FROM chunks WHERE doc_id=?", (record.doc_id,)
                    )
                ]
                self._db.execute("DELETE FROM chunks WHERE doc_id=?", (record.doc_id,))
                self._db.execute(
                    "DELETE FROM documents WHERE doc_id=? OR path=?", (record.doc_id, record.path)
                )
                self._insert_document(record)
                self._db.execute(
                    "INSERT INTO chunks (chunk_id, doc_id, seq, text, article, chapter, section,"
                    " part, metadata, tokens) SELECT chunk_id, doc_id, seq, text, article,"
                    " chapter, section, part, metadata, tokens FROM staged_chunks"
                    " WHERE doc_id=? ORDER BY seq",
                    (record.doc_id,),
                )
                self._db.execute("DELETE FROM staged_chunks WHERE doc_id=?", (record.doc_id,))
            if finished:
                self._bump()
        return old

    def chunk_ids(self, doc_id: str | None = None) -> set[str]:
        """Every live chunk id, or those of one document."""
        if doc_id is None:
            return {r[0] for r in self._read.execute("SELECT chunk_id FROM chunks")}
        rows = self._read.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))
        return {r[0] for r in rows}

    def staged_ids(self) -> set[str]:
        return {r[0] for r in self._read.execute("SELECT chunk_id FROM staged_chunks")}

    # -- chunks ---------------------------------------------------------------
    _CHUNK_COLS = "c.chunk_id, c.doc_id, d.title, c.seq, c.text, c.article, c.chapter, c.section, c.part, c.metadata"

    @staticmethod
    def _chunk(row: Sequence[Any]) -> Chunk:
        return Chunk(
            chunk_id=row[0],
            doc_id=row[1],
            doc_title=row[2],
            seq=row[3],
            text=row[4],
            article=row[5],
            chapter=row[6],
            section=row[7],
            part=row[8],
            metadata=json.loads(row[9]),
        )

    def chunks_by_ids(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        with self.snapshot():  # one committed state, however many batches
            for i in range(0, len(ids), 500):
                batch = list(ids[i : i + 500])
                marks = ",".join("?" * len(batch))
                rows = self._read.execute(
                    f"SELECT {self._CHUNK_COLS} FROM chunks c JOIN documents d USING (doc_id)"
                    f" WHERE c.chunk_id IN ({marks})",
                    batch,
                )
                out.update((r[0], self._chunk(r)) for r in rows)
        return out

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        rows = self._read.execute(
            f"SELECT {self._CHUNK_COLS} FROM chunks c JOIN documents d USING (doc_id)"
            " WHERE c.doc_id=? ORDER BY c.seq",
            (doc_id,),
        )
        return [self._chunk(r) for r in rows]

    def article_chunks(self, doc_id: str, article: str) -> list[Chunk]:
        """The pieces of one article in order (one, unless the article was long)."""
        rows = self._read.execute(
            f"SELECT {self._CHUNK_COLS} FROM chunks c JOIN documents d USING (doc_id)"
            " WHERE c.doc_id=? AND c.article=? ORDER BY c.seq",
            (doc_id, article),
        )
        return [self._chunk(r) for r in rows]

    def iter_index_rows(self) -> Iterable[tuple[str, str, str, str | None, str | None, str]]:
        """``(chunk_id, doc_id, title, chapter, system, tokens)`` for every chunk, in a stable order."""
        return self._read.execute(
            "SELECT c.chunk_id, c.doc_id, d.title, c.chapter,"
            " json_extract(d.metadata, '$.system'), c.tokens"
            " FROM chunks c JOIN documents d USING (doc_id) ORDER BY c.doc_id, c.seq"
        )

    def count_chunks(self) -> int:
        return self._read.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
