"""Data shapes that cross the retrieval package's boundary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

SearchMode = Literal["hybrid", "bm25", "dense"]


class Chunk(BaseModel):
    """One retrievable unit: an article (or part of one) or a span of prose/table rows."""

    chunk_id: str
    doc_id: str
    doc_title: str
    seq: int
    text: str
    article: str | None = None
    chapter: str | None = None
    section: str | None = None
    part: int = Field(default=0, description="Index of the piece when a long article was split.")
    metadata: dict[str, Any] = Field(default_factory=dict)

    def index_text(self) -> str:
        """Text given to the keyword and dense indexes: the chunk with its place in the document.

        Prefixing title and chapter lets a question that names the regulation or its
        subject find articles whose own wording does not repeat it.
        """
        head = [f"《{self.doc_title}》"]
        head += [h for h in (self.chapter, self.section) if h]
        return " ".join(head) + "\n" + self.text


class Hit(BaseModel):
    """A search result as printed by ``copilot search --json``."""

    chunk_id: str
    doc_id: str
    doc_title: str
    article: str | None
    text: str
    score: float
    chapter: str | None = None
    section: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    signals: dict[str, float] = Field(
        default_factory=dict,
        description="Raw score of each ranking that found this chunk (bm25, dense cosine, ...).",
    )


class SearchFilters(BaseModel):
    """Metadata filters; every given field must match."""

    doc_title: str | None = None
    doc_id: str | None = None
    chapter: str | None = None
    system: str | None = Field(default=None, description="Application system tag, e.g. 数字法治.")

    def is_empty(self) -> bool:
        return not any((self.doc_title, self.doc_id, self.chapter, self.system))


class DocumentRecord(BaseModel):
    """What the catalogue keeps about one ingested file."""

    doc_id: str
    path: str
    title: str
    content_hash: str
    format: str
    n_chunks: int
    ingested_at: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class SkippedFile(BaseModel):
    path: str
    reason: str


class IngestReport(BaseModel):
    """Outcome of one ``ingest`` call; a bad file is listed in ``skipped`` and the batch goes on."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)
    warnings: list[SkippedFile] = Field(
        default_factory=list, description="Files ingested only in part (chunk cap), with why."
    )
    resumed: list[str] = Field(
        default_factory=list, description="Files an interrupted ingest had begun: continued."
    )
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class IngestProgress(BaseModel):
    """Where an ingest run stands; handed to the progress callback as work is done."""

    stage: Literal["scan", "ingest", "keyword", "done"]
    files_done: int = 0
    files_total: int = 0
    chunks_done: int = Field(default=0, description="Chunks embedded and written this run.")
    chunks_per_s: float = 0.0
    fraction: float = Field(default=0.0, description="Share of the input bytes consumed, 0..1.")
    eta_s: float | None = Field(default=None, description="Seconds left, from bytes per second.")
    current: str | None = Field(default=None, description="The file being read.")


class IndexCheck(BaseModel):
    """What ``copilot docs check`` found: catalogue, vectors and BM25 agree when ``ok``."""

    documents: int = 0
    chunks: int = 0
    staged_files: int = Field(default=0, description="Files an interrupted ingest left to resume.")
    vectors: dict[str, int] = Field(default_factory=dict, description="Per dense channel.")
    orphan_vectors: dict[str, int] = Field(default_factory=dict)
    missing_vectors: dict[str, int] = Field(default_factory=dict)
    stale_vectors: dict[str, int] = Field(
        default_factory=dict, description="Vectors whose stored text is not the chunk's."
    )
    abandoned_staging: int = Field(default=0, description="Staged files gone or changed.")
    keyword_stale: bool = False
    repaired: bool = False

    @property
    def ok(self) -> bool:
        bad = (self.orphan_vectors, self.missing_vectors, self.stale_vectors)
        return not any(any(d.values()) for d in bad) and not (
            self.keyword_stale or self.abandoned_staging
        )
