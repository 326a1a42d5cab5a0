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

from retrievers.catalog import Catalog
from retrievers.embedders import CachedEmbedder
from retrievers.fusion import reciprocal_rank_fusion, weighted_score_fusion
from retrievers.keyword_index import KeywordIndex
from retrievers.models import (
    Chunk,
    DocumentRecord,
    Hit,
    IngestReport,
    SearchFilters,
    SearchMode,
    SkippedFile,
)
from retrievers.query_rewrite import QueryRewriter
from retrievers.readers import SUPPORTED_SUFFIXES, BadFileError, read_file
from retrievers.splitters import split_document
from retrievers.tokenizer import ChineseTokenizer
from retrievers.vector_store import VectorStore

log = logging.getLogger(__name__)

# Bump when chunking or chunk ids change: an index of an older layout is rebuilt.
INDEX_LAYOUT = 2

Progress = Callable[[str, int, int], None]
"""``progress(stage, advance, total)``: called as work is done, for progress bars."""

DocMetadataFn = Callable[[Path, Document], dict[str, Any]]


def _noop_progress(stage: str, advance: int, total: int) -> None:
    return None


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
        max_file_bytes: int = 50 * 1024 * 1024,
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
        self.max_file_bytes = max_file_bytes
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
        self._writing = 0  # > 0 while a writer of this process is between its first and last write
        self._keyword_lock = threading.Lock()  # one load/build of the index at a time
        self._keyword_seen: tuple[int, int] | None = None  # (mtime_ns, size) of the saved index
        self._refresh: threading.Thread | None = None
        self._refresh_guard = threading.Lock()
        self._refresh_after = 0.0  # monotonic time before which no new background refresh
        self._closed = False
        self._check_embedder()

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

    def _make_chunks(self, doc_id: str, title: str, doc: Document, meta: dict) -> list[Chunk]:
        nodes = split_document(doc, self.max_chunk_chars)
        chunks = []
        for seq, node in enumerate(nodes):
            article = node.metadata.get("article")
            extra = {k: v for k, v in meta.items() if k in ("system", "scope")}
            if node.metadata.get("starts_line") is False:
                extra["continues_line"] = True
            chunks.append(
                Chunk(
                    # The article number in the id makes a citation readable on its own.
                    chunk_id=f"{doc_id}:{seq:05d}" + (f":{article}" if article else ""),
                    doc_id=doc_id,
                    doc_title=title,
                    seq=seq,
                    text=node.get_content(),
                    article=article,
                    chapter=node.metadata.get("chapter"),
                    section=node.metadata.get("section"),
                    part=int(node.metadata.get("part", 0)),
                    metadata=extra,
                )
            )
        return chunks

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
        """Add new files, replace changed ones, skip unchanged ones (by content hash).

        Files that were ingested from a given directory and are gone from it are removed.
        A bad file is reported in ``skipped`` with its reason; the batch goes on.
        """
        progress = progress or _noop_progress
        started = time.perf_counter()
        report = IngestReport()
        with self._writer():
            files, dirs, report.skipped = self._expand(paths)
            progress("scan", 0, len(files))
            work: list[tuple[Path, str, DocumentRecord | None]] = []
            for f in files:
                try:
                    digest = file_hash(f)
                except OSError as exc:
                    report.skipped.append(SkippedFile(path=str(f), reason=f"unreadable: {exc}"))
                    continue
                existing = self.catalog.document_by_path(str(f))
                if existing is not None and existing.content_hash == digest:
                    report.unchanged.append(str(f))
                else:
                    work.append((f, digest, existing))
                progress("scan", 1, len(files))

            seen = {str(f) for f in files}
            for doc in self.catalog.documents():
                inside = any(Path(doc.path).is_relative_to(d) for d in dirs)
                if inside and doc.path not in seen:
                    self._remove(doc)
                    report.removed.append(doc.path)

            parsed = []
            for f, digest, existing in work:
                try:
                    doc = read_file(f, self.max_file_bytes)
                except BadFileError as exc:
                    report.skipped.append(SkippedFile(path=exc.path, reason=exc.reason))
                    continue
                parsed.append((f, digest, existing, doc))

            total_chunks = 0
            prepared = []
            for f, digest, existing, doc in parsed:
                doc_id = existing.doc_id if existing else doc_id_for(str(f))
                title = str(doc.metadata.get("title") or f.stem)
                meta = dict(self._doc_metadata(f, doc)) if self._doc_metadata else {}
                chunks = self._make_chunks(doc_id, title, doc, meta)
                total_chunks += len(chunks)
                prepared.append((f, digest, existing, doc, doc_id, title, meta, chunks))

            progress("embed", 0, total_chunks)
            group: list[tuple] = []
            group_chunks = 0
            for item in prepared:
                group.append(item)
                group_chunks += len(item[-1])
                if group_chunks >= self.WRITE_GROUP_CHUNKS:
                    self._write_group(group, report, lambda n: progress("embed", n, total_chunks))
                    group, group_chunks = [], 0
            if group:
                self._write_group(group, report, lambda n: progress("embed", n, total_chunks))
            if report.changed or self._keyword_stale():
                progress("keyword", 0, 1)
                # Searches go on with the previous index meanwhile.
                self._rebuild_keyword()
                progress("keyword", 1, 1)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    # Chroma persists on every upsert call (~0.1 s each); writing a few thousand chunks
    # per group instead of one document per call made the bundled ingest 4x faster (the
    # embedded store still cuts a group into calls of a few hundred, see vector_store).
    WRITE_GROUP_CHUNKS = 2000

    def _write_group(self, group: list[tuple], report: IngestReport, advance) -> None:
        """Embed, then write vectors, then the catalogue, for a group of parsed documents."""
        chunks = [c for *_, doc_chunks in group for c in doc_chunks]
        texts = [c.index_text() for c in chunks]
        tokens = self.tokenizer.tokenize_many(texts)
        vectors = [
            ch.embedder.embed_passages(texts, progress=advance if i == 0 else None)
            for i, ch in enumerate(self.dense)
        ]
        # Vectors first, catalogue last: a crash in between leaves the old hash in the
        # catalogue, so the next ingest redoes these files instead of trusting them.
        for ch, vecs in zip(self.dense, vectors, strict=True):
            for _, _, existing, _, doc_id, *_ in group:
                if existing is not None:
                    ch.store.delete_doc(doc_id)
            ch.store.upsert(
                [c.chunk_id for c in chunks],
                vecs,
                [c.text for c in chunks],
                [self._vector_metadata(c) for c in chunks],
            )
        offset = 0
        for f, digest, existing, doc, doc_id, title, meta, doc_chunks in group:
            record = DocumentRecord(
                doc_id=doc_id,
                path=str(f),
                title=title,
                content_hash=digest,
                format=str(doc.metadata.get("format", f.suffix.lstrip("."))),
                n_chunks=len(doc_chunks),
                ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
                metadata={**meta, "encoding": doc.metadata.get("encoding")},
            )
            n = len(doc_chunks)
            self.catalog.replace_document(record, doc_chunks, tokens[offset : offset + n])
            offset += n
            (report.updated if existing else report.added).append(str(f))
            report.chunks_written += n

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
        for ch in self.dense:
            ch.store.delete_doc(doc.doc_id)
        self.catalog.remove_document(doc.doc_id)

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """One writer at a time; searches meanwhile keep the BM25 index they have."""
        with self._write_lock:
            self._writing += 1
            try:
                yield
            finally:
                self._writing -= 1

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
        kw = self._keyword or KeywordIndex.load(self._keyword_dir)
        return kw is None or kw.generation != self.catalog.generation

    def _build_keyword(self) -> KeywordIndex:
        """A new BM25 index from one committed state of the catalogue (no lock needed)."""
        generation, rows = self.catalog.index_snapshot()
        return KeywordIndex.build(rows, generation)

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
            st = (self._keyword_dir / "ids.json").stat()
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
