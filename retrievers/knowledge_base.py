"""The knowledge base: incremental ingestion and hybrid search over one index directory."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llama_index.core import Document

from retrievers.catalog import Catalog, StagedFile
from retrievers.embedders import CachedEmbedder
from retrievers.fusion import reciprocal_rank_fusion, weighted_score_fusion
from retrievers.ingest_progress import ProgressFn, ProgressTracker
from retrievers.keyword_index import KeywordIndex
from retrievers.models import (
    Chunk,
    DocumentRecord,
    Hit,
    IndexCheck,
    IngestReport,
    SearchFilters,
    SearchMode,
    SkippedFile,
)
from retrievers.query_rewrite import QueryRewriter
from retrievers.readers import (
    SUPPORTED_SUFFIXES,
    BadFileError,
    ReadLimits,
    SourceFile,
    iter_table_lines,
    open_file,
)
from retrievers.splitters import iter_pieces
from retrievers.tokenizer import ChineseTokenizer
from retrievers.vector_store import VectorStore
from retrievers.write_lock import WriteLock

log = logging.getLogger(__name__)

# Bump when chunking or chunk ids change: an index of an older layout is rebuilt.
INDEX_LAYOUT = 2

DocMetadataFn = Callable[[Path, Document], dict[str, Any]]


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def doc_id_for(path: str) -> str:
    return hashlib.sha1(path.encode()).hexdigest()[:16]


@dataclass
class DenseChannel:
    """One dense signal: an embedder, the vector store holding its vectors, a fusion weight."""

    embedder: CachedEmbedder
    store: VectorStore
    weight: float


def _folder_skip(d: Path, top: Path) -> str | None:
    """Why a folder inside an ingested folder is not walked (None: it is)."""
    if d.name.startswith("."):
        return "hidden folder"
    if d.is_symlink():
        # os.walk does not follow links; say so rather than skip the folder silently.
        return "symbolic link to a folder (not followed)"
    return None


def _file_skip(f: Path, top: Path) -> str | None:
    """Why a file inside an ingested folder is not ingested (None: it is). A link may not
    reach outside the folder: ingesting a folder must never pull in another file."""
    if f.name.startswith("."):
        return "hidden file"
    if f.is_symlink():
        target = f.resolve()
        if not target.is_relative_to(top):
            return "symbolic link to a file outside the folder (not ingested)"
        if not target.is_file():
            return "broken symbolic link"
    if f.suffix.lower() not in SUPPORTED_SUFFIXES:
        return f"unsupported format '{f.suffix}'"
    return None


@dataclass
class _InFlight:
    """A file being ingested."""

    path: Path
    digest: str
    existing: DocumentRecord | None
    doc_id: str
    title: str
    fmt: str
    meta: dict[str, Any]
    n_chunks: int = 0
    done: bool = False


class _GroupWriter:
    """Buffers chunks of one or more files and writes them a group at a time.

    Per group: embed, write the vectors, then in one catalogue transaction stage the
    group's chunks and make live every file whose last chunk is in it. Vectors come
    first, so a crash leaves at worst vectors the catalogue does not know (orphans a
    check removes), never catalogue chunks without vectors.
    """

    def __init__(self, kb: KnowledgeBase, report: IngestReport, tracker: ProgressTracker) -> None:
        self.kb, self.report, self.tracker = kb, report, tracker
        self.pending: list[tuple[_InFlight, Chunk]] = []
        self.flights: list[_InFlight] = []

    def open(self, flight: _InFlight) -> None:
        self.flights.append(flight)

    def add(self, flight: _InFlight, chunk: Chunk) -> None:
        self.pending.append((flight, chunk))
        if len(self.pending) >= self.kb.WRITE_GROUP_CHUNKS:
            self.flush()

    def drop(self, flight: _InFlight) -> None:
        self.pending = [(f, c) for f, c in self.pending if f is not flight]
        self.flights = [f for f in self.flights if f is not flight]

    def finish(self, flight: _InFlight) -> None:
        flight.done = True

    def flush(self) -> None:
        chunks = [c for _, c in self.pending]
        finished = [f for f in self.flights if f.done]
        if not chunks and not finished:
            return
        kb = self.kb
        tokens = kb.tokenizer.tokenize_many([c.index_text() for c in chunks])
        kb._write_vectors(chunks, advance=self.tracker.embedded)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        records = [
            DocumentRecord(
                doc_id=f.doc_id,
                path=str(f.path),
                title=f.title,
                content_hash=f.digest,
                format=f.fmt,
                n_chunks=f.n_chunks,
                ingested_at=now,
                metadata=f.meta,
            )
            for f in finished
        ]
        staged = [
            (str(f.path), f.digest, c, toks)
            for (f, c), toks in zip(self.pending, tokens, strict=True)
        ]
        old = kb.catalog.stage_and_commit(staged, records)
        for f in finished:
            new_ids = kb.catalog.chunk_ids(f.doc_id)
            stale = [i for i in old.get(f.doc_id, []) if i not in new_ids]
            for ch in kb.dense:
                ch.store.delete(stale)
            (self.report.updated if f.existing else self.report.added).append(str(f.path))
            self.report.chunks_written += f.n_chunks
        self.pending = []
        self.flights = [f for f in self.flights if not f.done]


class KnowledgeBase:
    """Owns the catalogue, the keyword index and the dense channels of one index directory."""

    def __init__(
        self,
        index_dir: Path,
        dense: Sequence[DenseChannel],
        tokenizer: ChineseTokenizer,
        rewriter: QueryRewriter | None = None,
        doc_metadata: DocMetadataFn | None = None,
        max_chunk_chars: int = 500,
        limits: ReadLimits | None = None,
        max_chunks_per_file: int = 100_000,
        fusion: str = "weighted",
        keyword_weight: float = 0.4,
        candidate_pool: int = 50,
    ) -> None:
        if not dense:
            raise ValueError("a knowledge base needs at least one dense channel")
        self.index_dir = index_dir
        self.catalog = Catalog(index_dir / "catalog.sqlite")
        self.dense = list(dense)
        self.tokenizer = tokenizer
        self.rewriter = rewriter or QueryRewriter({})
        self._doc_metadata = doc_metadata
        self.max_chunk_chars = max_chunk_chars
        self.limits = limits or ReadLimits()
        self.max_chunks_per_file = max_chunks_per_file
        self.fusion = fusion
        self.keyword_weight = keyword_weight
        self.candidate_pool = candidate_pool
        # Readers take no lock. Writers (ingest, remove) hold ``_write_lock``, which only
        # serialises them against each other. The BM25 index is immutable once built: a
        # writer builds the next one from a catalogue snapshot and publishes it with one
        # reference assignment; a search uses whichever index it read, and drops chunk ids
        # the catalogue no longer resolves.
        self._keyword: KeywordIndex | None = None
        self._docs_cache: tuple[int, list[DocumentRecord]] | None = None
        self._write_lock = threading.RLock()
        self._file_lock = WriteLock(index_dir)
        self._writing = 0  # > 0 while a writer of this process is between its first and last write
        self._keyword_lock = threading.Lock()  # one load/build of the index at a time
        self._keyword_seen: tuple[int, int] | None = None  # (mtime_ns, size) of the saved index
        self._refresh: threading.Thread | None = None
        self._refresh_guard = threading.Lock()
        self._refresh_after = 0.0  # monotonic time before which no new background refresh
        self._closed = False
        with self._writer():
            self._check_embedder()
        self.startup_check = self.reconcile()
        """What the start-up reconciliation found and repaired (``None``: nothing to do)."""

    @property
    def embedder(self) -> CachedEmbedder:
        """The primary embedder (first dense channel)."""
        return self.dense[0].embedder

    # -- the Retriever protocol (retrievers/retriever.py) beyond search and documents ------

    @property
    def generation(self) -> int:
        return self.catalog.generation

    def rewrite(self, text: str) -> str:
        return self.rewriter.rewrite(text)

    def tokenize(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text)

    def has_article(self, doc_id: str, article: str) -> bool:
        return bool(self.catalog.article_chunks(doc_id, article))

    def index_token_rows(self) -> Iterator[list[str]]:
        for *_, tokens in self.catalog.iter_index_rows():
            yield tokens.split()

    def _check_embedder(self) -> None:
        # Vectors from two different models are not comparable, and chunks cut or named
        # by an older layout do not match today's ids: re-index everything.
        names = ",".join(ch.embedder.name for ch in self.dense) + f";layout={INDEX_LAYOUT}"
        stored = self.catalog.get_meta("embedders")
        if stored is not None and stored != names:
            log.warning("index built with %s, now %s: re-indexing from scratch", stored, names)
            for ch in self.dense:
                ch.store.reset()
            for doc in self.catalog.documents():
                self.catalog.remove_document(doc.doc_id)
            for staged in self.catalog.staged_files():
                self.catalog.discard_staged(staged.doc_id)
        self.catalog.set_meta("embedders", names)

    # -- ingestion ------------------------------------------------------------
    @staticmethod
    def _expand(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[SkippedFile]]:
        """Files to ingest, directories walked, and paths skipped up front."""
        files: list[Path] = []
        dirs: list[Path] = []
        skipped: list[SkippedFile] = []
        for p in paths:
            p = Path(p)
            if p.is_dir():
                top = p.resolve()
                dirs.append(top)
                for root, subdirs, names in os.walk(p):
                    kept = []
                    for d in sorted(subdirs):
                        reason = _folder_skip(Path(root) / d, top)
                        if reason:
                            skipped.append(SkippedFile(path=str(Path(root) / d), reason=reason))
                        else:
                            kept.append(d)
                    subdirs[:] = kept
                    for name in sorted(names):
                        f = Path(root) / name
                        reason = _file_skip(f, top)
                        if reason:
                            skipped.append(SkippedFile(path=str(f), reason=reason))
                        else:
                            files.append(f.resolve())
            elif p.is_file():
                files.append(p.resolve())
            else:
                skipped.append(SkippedFile(path=str(p), reason="not found"))
        # A link and its target inside the same folder are one document.
        return list(dict.fromkeys(files)), dirs, skipped

    def _chunks_of(self, flight: _InFlight, source: SourceFile) -> Iterator[Chunk]:
        """The file's chunks in order, lazily (a streamed table is never held whole)."""
        lines = iter_table_lines(source) if source.is_table else None
        pieces = iter_pieces(source.text, lines, flight.fmt, self.max_chunk_chars)
        extra_meta = {k: v for k, v in flight.meta.items() if k in ("system", "scope")}
        for seq, piece in enumerate(pieces):
            article = piece.get("article")
            extra = dict(extra_meta)
            if piece.get("starts_line") is False:
                extra["continues_line"] = True
            yield Chunk(
                # The article number in the id makes a citation readable on its own.
                chunk_id=f"{flight.doc_id}:{seq:05d}" + (f":{article}" if article else ""),
                doc_id=flight.doc_id,
                doc_title=flight.title,
                seq=seq,
                text=piece["text"],
                article=article,
                chapter=piece.get("chapter"),
                section=piece.get("section"),
                part=int(piece.get("part", 0)),
                metadata=extra,
            )

    def ingest(self, paths: Sequence[Path], progress: ProgressFn | None = None) -> IngestReport:
        """Add new files, replace changed ones, skip unchanged ones (by content hash).

        Files that were ingested from a given directory and are gone from it are removed.
        A bad file is reported in ``skipped`` with its reason; the batch goes on. Files
        are read and written as streams of chunk groups: memory stays bounded whatever
        a file's size, and a killed run loses at most the group in flight (the next run
        continues a file from what was staged of it).
        """
        tracker = ProgressTracker(progress)
        started = time.perf_counter()
        report = IngestReport()
        with self._writer():
            files, dirs, report.skipped = self._expand(paths)
            tracker.scanning(len(files))
            work: list[tuple[Path, str, DocumentRecord | None, int]] = []
            for f in files:
                try:
                    digest, size = file_hash(f), f.stat().st_size
                except OSError as exc:
                    report.skipped.append(SkippedFile(path=str(f), reason=f"unreadable: {exc}"))
                    continue
                existing = self.catalog.document_by_path(str(f))
                if existing is not None and existing.content_hash == digest:
                    report.unchanged.append(str(f))
                else:
                    work.append((f, digest, existing, size))

            seen = {str(f) for f in files}
            for doc in self.catalog.documents():
                inside = any(Path(doc.path).is_relative_to(d) for d in dirs)
                if inside and doc.path not in seen:
                    self._remove(doc)
                    report.removed.append(doc.path)

            tracker.begin([size for *_, size in work])
            writer = _GroupWriter(self, report, tracker)
            for f, digest, existing, size in work:
                self._ingest_file(f, digest, existing, size, writer, report, tracker)
            writer.flush()
            if report.changed or self._keyword_stale():
                tracker.stage("keyword")
                # Searches go on with the previous index meanwhile.
                self._rebuild_keyword()
            tracker.stage("done")
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _ingest_file(
        self,
        f: Path,
        digest: str,
        existing: DocumentRecord | None,
        size: int,
        writer: _GroupWriter,
        report: IngestReport,
        tracker: ProgressTracker,
    ) -> None:
        doc_id = existing.doc_id if existing else doc_id_for(str(f))
        try:
            source = open_file(f, self.limits)
        except BadFileError as exc:
            report.skipped.append(SkippedFile(path=exc.path, reason=exc.reason))
            self._discard_staging(doc_id)
            tracker.file_started(f, size, lambda: 0.0)
            tracker.file_done()
            return
        tracker.file_started(f, size, source.position)
        title = str(source.metadata.get("title") or f.stem)
        doc = Document(text=source.text or "", metadata=dict(source.metadata))
        meta = dict(self._doc_metadata(f, doc)) if self._doc_metadata else {}
        flight = _InFlight(
            path=f,
            digest=digest,
            existing=existing,
            doc_id=doc_id,
            title=title,
            fmt=str(source.metadata.get("format", f.suffix.lstrip("."))),
            meta={**meta, "encoding": source.metadata.get("encoding")},
        )
        staged = self.catalog.staged_file(doc_id)
        resume: list[str] = []
        if staged is not None:
            if staged.content_hash == digest and staged.path == str(f):
                resume = staged.chunk_ids
            else:
                self._discard_staging(doc_id)
        writer.open(flight)
        try:
            if not self._write_chunks(flight, source, resume, writer, report):
                # What was staged was cut another way (settings changed): start over.
                writer.drop(flight)
                self._discard_staging(doc_id)
                flight.n_chunks, flight.meta = 0, dict(flight.meta)
                writer.open(flight)
                self._write_chunks(flight, source, [], writer, report)
            elif resume:
                report.resumed.append(str(f))
            if flight.n_chunks == 0:
                raise BadFileError(f, "no extractable text")
        except BadFileError as exc:
            writer.drop(flight)
            self._discard_staging(doc_id)
            report.skipped.append(SkippedFile(path=exc.path, reason=exc.reason))
        else:
            # A streamed table learns its encoding(s) while it is read.
            flight.meta["encoding"] = source.metadata.get("encoding")
            writer.finish(flight)
        tracker.file_done()

    def _write_chunks(
        self,
        flight: _InFlight,
        source: SourceFile,
        resume: list[str],
        writer: _GroupWriter,
        report: IngestReport,
    ) -> bool:
        """Hand the file's chunks to the writer, skipping those an interrupted run staged.

        Returns False (having written nothing new) when the staged chunks are not this
        file's first chunks as cut today.
        """
        for chunk in self._chunks_of(flight, source):
            if flight.n_chunks >= self.max_chunks_per_file:
                flight.meta["truncated_at_chunks"] = self.max_chunks_per_file
                report.warnings.append(
                    SkippedFile(
                        path=str(flight.path),
                        reason=f"indexed only its first {self.max_chunks_per_file} chunks "
                        "(COPILOT_MAX_CHUNKS_PER_FILE)",
                    )
                )
                break
            flight.n_chunks += 1
            if chunk.seq < len(resume):
                if resume[chunk.seq] != chunk.chunk_id:
                    return False
                continue  # staged, with its vectors, by the interrupted run
            writer.add(flight, chunk)
            writer.tracker.tick()
        return len(resume) <= flight.n_chunks

    def _discard_staging(self, doc_id: str) -> None:
        """Forget what an interrupted run staged of a file, and the vectors only it had."""
        ids = self.catalog.discard_staged(doc_id)
        if not ids:
            return
        live = self.catalog.chunk_ids(doc_id)
        gone = [i for i in ids if i not in live]
        for ch in self.dense:
            ch.store.delete(gone)
        if live & set(ids):
            # Their vectors hold the abandoned version's text: embed the live text again.
            self._embed_again(sorted(live & set(ids)))

    def _embed_again(self, ids: Sequence[str]) -> None:
        chunks = list(self.catalog.chunks_by_ids(list(ids)).values())
        for i in range(0, len(chunks), self.WRITE_GROUP_CHUNKS):
            group = chunks[i : i + self.WRITE_GROUP_CHUNKS]
            self._write_vectors(group)

    def _write_vectors(
        self,
        chunks: Sequence[Chunk],
        advance: Callable[[int], None] | None = None,
        channels: Sequence[DenseChannel] | None = None,
    ) -> None:
        if not chunks:
            return
        texts = [c.index_text() for c in chunks]
        for i, ch in enumerate(channels or self.dense):
            vecs = ch.embedder.embed_passages(texts, progress=advance if i == 0 else None)
            ch.store.upsert(
                [c.chunk_id for c in chunks],
                vecs,
                [c.text for c in chunks],
                [self._vector_metadata(c) for c in chunks],
            )

    # Chroma persists on every upsert call (~0.1 s each); writing a few thousand chunks
    # per group instead of one document per call made the bundled ingest 4x faster (the
    # embedded store still cuts a group into calls of a few hundred, see vector_store).
    WRITE_GROUP_CHUNKS = 2000

    @staticmethod
    def _vector_metadata(c: Chunk) -> dict[str, Any]:
        return {
            "doc_id": c.doc_id,
            "doc_title": c.doc_title,
            "article": c.article,
            "chapter": c.chapter,
            "system": c.metadata.get("system"),
        }

    def _remove(self, doc: DocumentRecord) -> None:
        # Catalogue first: a crash in between leaves orphan vectors (searches drop ids the
        # catalogue does not know, a check removes them), never chunks without vectors.
        ids = self.catalog.remove_document(doc.doc_id)
        for ch in self.dense:
            ch.store.delete(ids)
        self._discard_staging(doc.doc_id)

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """One writer at a time (threads and processes); searches keep the BM25 index they have."""
        with self._write_lock:
            self._file_lock.acquire()
            self._writing += 1
            try:
                yield
            finally:
                self._writing -= 1
                self._file_lock.release()

    # -- consistency --------------------------------------------------------------
    def reconcile(self) -> IndexCheck | None:
        """Cheap start-up check: when a vector store's count does not match the catalogue
        (a killed ingest or removal), run the full check and repair it.

        Returns ``None`` when another process is writing (it is not our state to judge)
        or when the counts agree.
        """
        with self._write_lock:
            if not self._file_lock.acquire(blocking=False):
                return None
            try:
                expected = len(self.catalog.chunk_ids() | self.catalog.staged_ids())
                if all(ch.store.count() == expected for ch in self.dense):
                    return None
                log.warning("index out of step with its catalogue: repairing")
                return self._check(repair=True)
            finally:
                self._file_lock.release()

    def check(self, repair: bool = False) -> IndexCheck:
        """Compare catalogue, vector stores and BM25; with ``repair``, make them agree:
        orphan vectors removed, missing or stale ones embedded again, BM25 rebuilt when
        stale, staging of files that are gone or changed dropped."""
        with self._writer():
            return self._check(repair)

    def _resumable(self, staged: StagedFile) -> bool:
        path = Path(staged.path)
        try:
            return path.is_file() and file_hash(path) == staged.content_hash
        except OSError:
            return False

    def _check(self, repair: bool) -> IndexCheck:
        result = IndexCheck(repaired=repair)
        staged_files = self.catalog.staged_files()
        abandoned = [sf for sf in staged_files if not self._resumable(sf)]
        result.abandoned_staging = len(abandoned)
        if repair:
            for sf in abandoned:
                self._discard_staging(sf.doc_id)
            staged_files = [sf for sf in staged_files if sf not in abandoned]
        live = self.catalog.chunk_ids()
        staged = {cid for sf in staged_files for cid in sf.chunk_ids}
        result.documents = len(self.catalog.documents())
        result.chunks = len(live)
        result.staged_files = len(staged_files) - (0 if repair else len(abandoned))
        for i, ch in enumerate(self.dense):
            name = "dense" if i == 0 else f"dense{i + 1}"
            stored = ch.store.ids()
            orphans = stored - live - staged
            missing = live - stored
            # A staged chunk may share its id with a live one (a replaced document in
            # flight): its vector is the new version's, which the next ingest commits.
            compared = sorted((live & stored) - staged)
            kept = ch.store.texts(compared)
            chunks = self.catalog.chunks_by_ids(compared)
            stale = [cid for cid in compared if kept.get(cid) != chunks[cid].text]
            result.vectors[name] = len(stored)
            result.orphan_vectors[name] = len(orphans)
            result.missing_vectors[name] = len(missing)
            result.stale_vectors[name] = len(stale)
            if repair:
                ch.store.delete(sorted(orphans))
                todo = sorted(missing | set(stale))
                for start in range(0, len(todo), self.WRITE_GROUP_CHUNKS):
                    part = self.catalog.chunks_by_ids(todo[start : start + self.WRITE_GROUP_CHUNKS])
                    self._write_vectors(list(part.values()), channels=[ch])
        result.keyword_stale = self._keyword_stale()
        if repair and result.keyword_stale:
            self._rebuild_keyword()
        return result

    def remove(self, key: str) -> list[DocumentRecord]:
        """Remove documents by id, path or title; returns what was removed."""
        with self._writer():
            docs = self.catalog.find_documents(key)
            if not docs and Path(key).exists():
                docs = self.catalog.find_documents(str(Path(key).resolve()))
            for doc in docs:
                self._remove(doc)
            if docs:
                self._rebuild_keyword()
            return docs

    def documents(self) -> list[DocumentRecord]:
        """Ingested documents; cached until the catalogue changes (answers consult it per question)."""
        gen = self.catalog.generation
        if self._docs_cache is None or self._docs_cache[0] != gen:
            self._docs_cache = (gen, self.catalog.documents())
        return list(self._docs_cache[1])

    def article_text(self, doc_id: str, article: str) -> str:
        """The whole text of one article, its pieces rejoined as the splitter cut them."""
        text = ""
        for c in self.catalog.article_chunks(doc_id, article):
            sep = "" if not text or c.metadata.get("continues_line") else "\n"
            text += sep + c.text
        return text

    def source_text(self, chunk_id: str) -> str | None:
        """What a citation of ``chunk_id`` quotes from: its whole article, or the chunk."""
        chunk = self.catalog.chunks_by_ids([chunk_id]).get(chunk_id)
        if chunk is None:
            return None
        return self.article_text(chunk.doc_id, chunk.article) if chunk.article else chunk.text

    def is_empty(self) -> bool:
        return self.catalog.count_chunks() == 0

    # -- keyword index --------------------------------------------------------
    @property
    def _keyword_dir(self) -> Path:
        return self.index_dir / "keyword"

    def _keyword_stale(self) -> bool:
        """The saved BM25 index is missing or of another catalogue generation."""
        return KeywordIndex.saved_generation(self._keyword_dir) != self.catalog.generation

    def _build_keyword(self) -> KeywordIndex:
        """A new BM25 index from one committed state of the catalogue (no lock needed);
        rows stream from a read transaction instead of being loaded first."""
        with self.catalog.snapshot():
            generation = self.catalog.generation
            return KeywordIndex.build(self.catalog.iter_index_rows(), generation)

    def _publish_keyword(self, kw: KeywordIndex, save: bool) -> None:
        with self._keyword_lock:
            self._publish_locked(kw, save)

    def _publish_locked(self, kw: KeywordIndex, save: bool) -> None:
        current = self._keyword
        if current is not None and current.generation > kw.generation:
            return  # a newer one got there first
        if save:
            kw.save(self._keyword_dir)
            self._keyword_seen = self._saved_stamp()
        self._keyword = kw  # the swap: searches from now on use this index

    def _rebuild_keyword(self) -> None:
        """Rebuild from the catalogue, save, swap in (writers call it after their writes)."""
        self._publish_keyword(self._build_keyword(), save=True)

    def _saved_stamp(self) -> tuple[int, int] | None:
        try:
            st = (self._keyword_dir / KeywordIndex.POINTER).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _load_saved_keyword(self, generation: int) -> KeywordIndex | None:
        """The saved index if it is of ``generation``."""
        self._keyword_seen = self._saved_stamp()
        kw = KeywordIndex.load(self._keyword_dir)
        return kw if kw is not None and kw.generation == generation else None

    def keyword_index(self) -> KeywordIndex:
        """The current BM25 index; never waits for a writer.

        While a writer of this process works, the index of its last finished write is
        served; the writer swaps in the new one when it is done. When another process
        changed the catalogue, the index it saved is loaded; while there is none yet (it
        is still writing), the old index is served and a new one is built in the
        background. Only the first call, with no index in memory, may wait for a build.
        """
        kw = self._keyword
        if kw is None:
            return self._first_keyword()
        if self._writing:
            return kw
        gen = self.catalog.generation
        if kw.generation == gen:
            return kw
        latest = self._keyword  # a writer may have swapped in a new one meanwhile
        if latest is not None and latest.generation == gen:
            return latest
        return self._refresh_keyword(latest or kw, gen)

    def _first_keyword(self) -> KeywordIndex:
        with self._keyword_lock:
            if self._keyword is None:
                gen = self.catalog.generation
                kw = self._load_saved_keyword(gen)
                self._publish_locked(kw or self._build_keyword(), save=kw is None)
            assert self._keyword is not None
            return self._keyword

    # A background rebuild at most this often, and not more than a quarter of the time:
    # while another process writes a long batch, the generation changes with each file.
    REFRESH_MIN_INTERVAL_S = 2.0

    def _refresh_keyword(self, stale: KeywordIndex, gen: int) -> KeywordIndex:
        """Another process changed the catalogue; never blocks on a build."""
        stamp = self._saved_stamp()
        if stamp is not None and stamp != self._keyword_seen:
            with self._keyword_lock:
                loaded = self._load_saved_keyword(gen)
                if loaded is not None:
                    self._publish_locked(loaded, save=False)
            if loaded is not None:
                return self._keyword or loaded
        with self._refresh_guard:  # held only to start at most one refresh
            refresh = self._refresh
            idle = refresh is None or not refresh.is_alive()
            if idle and time.monotonic() >= self._refresh_after and not self._closed:
                self._refresh_after = float("inf")  # set for real when this refresh ends
                self._refresh = threading.Thread(
                    target=self._background_refresh, name="bm25-refresh", daemon=True
                )
                self._refresh.start()
        return self._keyword or stale

    def _background_refresh(self) -> None:
        started = time.monotonic()
        try:
            # Not when a writer of this process is at work: it swaps in its own at the end.
            if not self._closed and not self._writing:
                # Not saved: the process that is writing saves its own when it is done.
                self._publish_keyword(self._build_keyword(), save=False)
        except Exception:  # a closed catalogue, a locked database: a later search retries
            if not self._closed:
                log.warning("background BM25 refresh failed", exc_info=True)
        finally:
            took = time.monotonic() - started
            self._refresh_after = time.monotonic() + max(self.REFRESH_MIN_INTERVAL_S, 3 * took)

    # -- search ---------------------------------------------------------------
    def _where(self, filters: SearchFilters | None) -> dict[str, Any] | None:
        if filters is None or filters.is_empty():
            return None
        clauses = [
            {name: value}
            for name in ("doc_id", "doc_title", "chapter", "system")
            if (value := getattr(filters, name))
        ]
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    @staticmethod
    def _query_vector(ch: DenseChannel, query: str, rewritten: str):
        # The dialect rewrite helps the model with statute wording, the original keeps
        # what the rewrite may have lost; their sum searches for both.
        if rewritten == query:
            return ch.embedder.embed_queries([query])[0]
        both = ch.embedder.embed_queries([query, rewritten])
        v = both.sum(axis=0)
        return v / (float((v**2).sum()) ** 0.5 or 1.0)

    def search(
        self,
        query: str,
        top_k: int = 5,
        mode: SearchMode = "hybrid",
        filters: SearchFilters | None = None,
    ) -> list[Hit]:
        """Best chunks for a question: BM25, dense, or both fused."""
        query = query.strip()
        if not query or top_k <= 0:
            return []
        rewritten = self.rewriter.rewrite(query)
        pool = max(self.candidate_pool, top_k)
        rankings: list[list[tuple[str, float]]] = []
        weights: list[float] = []
        names: list[str] = []
        if mode in ("hybrid", "bm25"):
            tokens = self.tokenizer.tokenize(rewritten)
            rankings.append(self.keyword_index().search(tokens, pool, filters))
            weights.append(self.keyword_weight)
            names.append("bm25")
        if mode in ("hybrid", "dense"):
            channels = self.dense if mode == "hybrid" else self.dense[:1]
            for i, ch in enumerate(channels):
                rankings.append(
                    ch.store.query(
                        self._query_vector(ch, query, rewritten), pool, self._where(filters)
                    )
                )
                weights.append(ch.weight)
                names.append("dense" if i == 0 else f"dense{i + 1}")
        raw = [dict(r) for r in rankings]
        if len(rankings) == 1:
            fused = list(rankings[0])
        elif self.fusion == "rrf":
            fused = reciprocal_rank_fusion(rankings)
        else:
            fused = weighted_score_fusion(rankings, weights)
        chunks = self.catalog.chunks_by_ids([cid for cid, _ in fused[:top_k]])
        if len(chunks) < len(fused[:top_k]):
            # An id the catalogue does not know: an index ahead of the catalogue (vectors
            # are written first) or behind it (the BM25 index of the last finished write
            # while a document is replaced). Drop it and take the next candidates, all
            # read from one committed state of the catalogue.
            chunks = self.catalog.chunks_by_ids([cid for cid, _ in fused])
            fused = [(cid, score) for cid, score in fused if cid in chunks]
        fused = fused[:top_k]
        hits = []
        for cid, score in fused:
            c = chunks[cid]
            hits.append(
                Hit(
                    chunk_id=c.chunk_id,
                    doc_id=c.doc_id,
                    doc_title=c.doc_title,
                    article=c.article,
                    text=c.text,
                    score=round(score, 6),
                    chapter=c.chapter,
                    section=c.section,
                    metadata=c.metadata,
                    signals={
                        n: round(r[cid], 6) for n, r in zip(names, raw, strict=True) if cid in r
                    },
                )
            )
        return hits

    def close(self) -> None:
        with self._refresh_guard:
            self._closed = True
            refresh = self._refresh
        if refresh is not None:
            refresh.join(timeout=60)
        self.catalog.close()
