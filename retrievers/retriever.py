"""The ``Retriever`` protocol: what the answer engine, refusal and dispositions need from a
knowledge base — search, documents, article text, and the query analysis the keyword
index uses (so a question is read the way the corpus was indexed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from retrievers.embedders import CachedEmbedder
from retrievers.models import DocumentRecord, Hit, SearchFilters, SearchMode


@runtime_checkable
class Retriever(Protocol):
    @property
    def generation(self) -> int:
        """Changes whenever the corpus changes (derived views rebuild on it)."""
        ...

    @property
    def embedder(self) -> CachedEmbedder:
        """The main dense embedder (e5): questions, passages and order texts."""
        ...

    def search(
        self,
        query: str,
        top_k: int = 5,
        mode: SearchMode = "hybrid",
        filters: SearchFilters | None = None,
    ) -> list[Hit]: ...

    def documents(self) -> list[DocumentRecord]: ...

    def article_text(self, doc_id: str, article: str) -> str:
        """The whole text of one article ("" when there is none)."""
        ...

    def has_article(self, doc_id: str, article: str) -> bool: ...

    def rewrite(self, text: str) -> str:
        """The query rewriting search applies (synonyms, colloquial → statutory words)."""
        ...

    def tokenize(self, text: str) -> list[str]:
        """The keyword index's tokens for ``text``."""
        ...

    def index_token_rows(self) -> Iterator[list[str]]:
        """The tokens of every indexed chunk (for corpus term statistics)."""
        ...
