"""Vector stores behind one protocol; Chroma embedded (persistent) or a Chroma server."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from retrievers.embedders import Embedder


@runtime_checkable
class VectorStore(Protocol):
    """Stores chunk vectors with their metadata; cosine similarity search."""

    def upsert(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None: ...

    def delete_doc(self, doc_id: str) -> None:
        """Remove every vector of one document."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove the vectors of these chunk ids (unknown ids are ignored)."""
        ...

    def ids(self) -> set[str]:
        """Every stored chunk id (for reconciling with the catalogue)."""
        ...

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """The text stored beside each of these vectors (unknown ids are left out)."""
        ...

    def query(
        self, vector: np.ndarray, top_k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """``(chunk_id, cosine similarity)`` best first."""
        ...

    def count(self) -> int: ...

    def reset(self) -> None:
        """Drop every vector (used when the embedder changes)."""
        ...


class _UnboundEmbedder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dim = 0

    def _fail(self, texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError(
            f"collection embedded with '{self.name}' was opened without its embedder; "
            "open it through ChromaVectorStore"
        )

    embed_queries = embed_passages = _fail


@register_embedding_function
class ProjectEmbeddingFunction(EmbeddingFunction[Documents]):
    """Hands Chroma the project's own embedder.

    Chroma's default embedding function downloads an ONNX model on first use, which
    fails offline; with this one, a text query through Chroma embeds locally.
    """

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed_queries(list(input)))

    @staticmethod
    def name() -> str:
        return "cq-copilot"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ProjectEmbeddingFunction:
        # Chroma rebuilds the function from its stored config when a collection is opened
        # by name alone; such a handle must not embed with a guessed model.
        return ProjectEmbeddingFunction(_UnboundEmbedder(str(config.get("embedder", "?"))))

    def default_space(self) -> str:
        return "cosine"


def _clean_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    # Chroma accepts only scalar metadata values and rejects None.
    out: dict[str, Any] = {}
    for k, v in meta.items():
        if v is None:
            continue
        out[k] = v if isinstance(v, str | int | float | bool) else str(v)
    return out


class ChromaVectorStore:
    """A Chroma collection, embedded (``path``) or on a server (``host``/``port``)."""

    def __init__(
        self,
        embedder: Embedder,
        collection: str,
        path: Path | None = None,
        host: str | None = None,
        port: int = 8000,
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if host:
            self._client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
            self._write_batch = self.SERVER_WRITE_BATCH
        elif path is not None:
            path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            self._write_batch = self.EMBEDDED_WRITE_BATCH
        else:
            raise ValueError("ChromaVectorStore needs a path (embedded) or a host (server)")
        self._name = collection
        self._ef = ProjectEmbeddingFunction(embedder)
        self._collection = self._open()

    def _open(self):
        return self._client.get_or_create_collection(
            name=self._name,
            embedding_function=self._ef,
            configuration={"hnsw": {"space": "cosine"}},
        )

    # Chroma caps batch size; stay well under it. Embedded Chroma holds the GIL for the
    # whole of a write call (its Rust bindings release it for queries, not for writes), so
    # every thread of the process stands still meanwhile: 2000 vectors held searches for
    # 1.4 s, 500 for 0.6 s. Smaller calls cost throughput (the bundled ingest from the
    # shipped embeddings took 12.3 s in calls of 2000, 14.2 s in calls of 500).
    SERVER_WRITE_BATCH = 2000
    EMBEDDED_WRITE_BATCH = 500

    def upsert(self, ids, vectors, texts, metadatas) -> None:
        step = self._write_batch
        for i in range(0, len(ids), step):
            self._collection.upsert(
                ids=list(ids[i : i + step]),
                embeddings=np.asarray(vectors[i : i + step], dtype=np.float32),
                documents=list(texts[i : i + step]),
                metadatas=[_clean_metadata(m) for m in metadatas[i : i + step]],
            )

    def delete_doc(self, doc_id: str) -> None:
        self._collection.delete(where={"doc_id": doc_id})

    def delete(self, ids) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self._write_batch):
            self._collection.delete(ids=ids[i : i + self._write_batch])

    # Listing pages: ids only, so a page of ids is a few hundred KB.
    ID_PAGE = 5000

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            page = self._collection.get(include=[], limit=self.ID_PAGE, offset=offset)["ids"]
            out.update(page)
            if len(page) < self.ID_PAGE:
                return out
            offset += len(page)

    def texts(self, ids) -> dict[str, str]:
        ids = list(ids)
        out: dict[str, str] = {}
        for i in range(0, len(ids), self.ID_PAGE):
            res = self._collection.get(ids=ids[i : i + self.ID_PAGE], include=["documents"])
            out.update(zip(res["ids"], res["documents"] or [], strict=True))
        return out

    def query(self, vector, top_k, where=None) -> list[tuple[str, float]]:
        # No count() first: it is a round trip, and Chroma returns fewer results itself.
        res = self._collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=top_k,
            where=where or None,
            include=["distances"],
        )
        return [
            (cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    def count(self) -> int:
        return self._collection.count()

    def reset(self) -> None:
        self._client.delete_collection(self._name)
        self._collection = self._open()
