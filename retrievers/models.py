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
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)
