"""The ``VectorStore`` contract (retrievers/vector_store.py), run over every store.

Implementations: ``ChromaVectorStore`` embedded (a persistent folder) and on a Chroma server
(the session's real ``chroma run``, ``integration``). Vectors come from ``HashingEmbedder``,
so texts and vectors agree without a model. Every test opens a collection of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from retrievers.embedders import HashingEmbedder
from retrievers.vector_store import ChromaVectorStore, VectorStore

EMBEDDER = HashingEmbedder(dim=32)
# Three documents, their chunk ids as the knowledge base writes them (Chinese included).
CHUNKS = {
    "办法.md#第一条": ("doc-a", "为了规范社区网格化服务管理，制定本办法。"),
    "办法.md#第二条": ("doc-a", "网格员发现占道经营的，应当劝阻并及时上报街道办事处。"),
    "条例.md#第三条": ("doc-b", "乱倒建筑垃圾的，由城市管理部门处二百元以上一千元以下罚款。"),
    "规定.md#第九条": ("doc-c", "燃放烟花爆竹的禁放区域由区县人民政府确定并公布。"),
}

OpenStore = Callable[..., VectorStore]


def fill(store: VectorStore, chunks: dict[str, tuple[str, str]] = CHUNKS) -> np.ndarray:
    ids = list(chunks)
    texts = [text for _, text in chunks.values()]
    vectors = EMBEDDER.embed_passages(texts)
    metas = [{"doc_id": doc, "article": cid.split("#")[1]} for cid, (doc, _) in chunks.items()]
    store.upsert(ids, vectors, texts, metas)
    return vectors


def vector_of(text: str) -> np.ndarray:
    return EMBEDDER.embed_queries([text])[0]


class VectorStoreContract:
    """What every ``VectorStore`` does. A subclass provides ``open_store``: a callable that
    opens a store on a collection — a fresh one, or an existing one by name."""

    @pytest.fixture
    def store(self, open_store: OpenStore) -> VectorStore:
        return open_store()

    def test_conforms_to_the_protocol(self, store):
        assert isinstance(store, VectorStore)

    def test_an_empty_store_counts_zero_and_finds_nothing(self, store):
        assert store.count() == 0
        assert store.query(vector_of("网格员"), 5) == []
        assert store.query(vector_of("网格员"), 5, where={"doc_id": "doc-a"}) == []

    def test_ids_round_trip_best_first_with_cosine_similarity(self, store):
        vectors = fill(store)
        assert store.count() == len(CHUNKS)
        for cid, vec in zip(CHUNKS, vectors, strict=True):
            hits = store.query(vec, len(CHUNKS))
            assert {h for h, _ in hits} == set(CHUNKS)
            assert hits[0][0] == cid and hits[0][1] == pytest.approx(1.0, abs=1e-4)
            scores = [s for _, s in hits]
            assert scores == sorted(scores, reverse=True)
            assert all(isinstance(s, float) and -1.0 - 1e-4 <= s <= 1.0 + 1e-4 for s in scores)

    def test_top_k_caps_the_results(self, store):
        fill(store)
        assert len(store.query(vector_of("网格"), 2)) == 2
        assert len(store.query(vector_of("网格"), 50)) == len(CHUNKS)

    def test_a_metadata_filter_keeps_only_matching_vectors(self, store):
        fill(store)
        hits = store.query(vector_of("乱倒建筑垃圾"), 10, where={"doc_id": "doc-a"})
        assert {h for h, _ in hits} == {"办法.md#第一条", "办法.md#第二条"}
        hits = store.query(vector_of("网格"), 10, where={"article": "第三条"})
        assert [h for h, _ in hits] == ["条例.md#第三条"]
        assert store.query(vector_of("网格"), 10, where={"doc_id": "no-such-doc"}) == []

    def test_metadata_that_is_none_or_not_scalar_is_accepted(self, store):
        (vec,) = EMBEDDER.embed_passages(["第一条 总则"])
        meta = {"doc_id": "doc-x", "heading": None, "path": ["第一章", "第一节"], "page": 3}
        store.upsert(["x#1"], vec[None, :], ["第一条 总则"], [meta])
        assert [h for h, _ in store.query(vec, 1, where={"doc_id": "doc-x"})] == ["x#1"]

    def test_upsert_of_a_known_id_replaces_it(self, store):
        fill(store)
        moved = vector_of("全新的内容：电梯困人应急处置")
        store.upsert(["办法.md#第一条"], moved[None, :], ["电梯困人"], [{"doc_id": "doc-z"}])
        assert store.count() == len(CHUNKS)
        (best, score) = store.query(moved, 1)[0]
        assert best == "办法.md#第一条" and score == pytest.approx(1.0, abs=1e-4)
        # The metadata was replaced too: the chunk moved from doc-a to doc-z.
        hits = store.query(moved, 10, where={"doc_id": "doc-a"})
        assert [h for h, _ in hits] == ["办法.md#第二条"]
        assert [h for h, _ in store.query(moved, 10, where={"doc_id": "doc-z"})] == [best]

    def test_delete_doc_removes_that_documents_vectors_only(self, store):
        fill(store)
        store.delete_doc("doc-a")
        assert store.count() == len(CHUNKS) - 2
        found = {h for h, _ in store.query(vector_of("网格员"), 10)}
        assert found == {"条例.md#第三条", "规定.md#第九条"}
        store.delete_doc("no-such-doc")  # deleting what is not there is a no-op
        assert store.count() == len(CHUNKS) - 2

    def test_ids_lists_every_stored_chunk_id(self, store):
        assert store.ids() == set()
        fill(store)
        assert store.ids() == set(CHUNKS)

    def test_delete_by_ids_removes_those_vectors_only(self, store):
        fill(store)
        store.delete(["办法.md#第一条", "规定.md#第九条", "no-such-id"])
        assert store.ids() == {"办法.md#第二条", "条例.md#第三条"}
        assert store.count() == 2
        store.delete([])  # nothing to delete is a no-op
        assert store.count() == 2

    def test_texts_returns_what_was_stored_beside_each_vector(self, store):
        fill(store)
        got = store.texts(["条例.md#第三条", "no-such-id"])
        assert got == {"条例.md#第三条": CHUNKS["条例.md#第三条"][1]}

    def test_ids_pages_past_one_listing(self, store, monkeypatch):
        if hasattr(store, "ID_PAGE"):
            monkeypatch.setattr(store, "ID_PAGE", 3)
        fill(store)
        assert store.ids() == set(CHUNKS)

    def test_reset_empties_the_store_and_it_stays_usable(self, store):
        fill(store)
        store.reset()
        assert store.count() == 0 and store.query(vector_of("网格"), 3) == []
        fill(store)
        assert store.count() == len(CHUNKS)

    def test_a_batch_larger_than_one_write_is_stored_whole(self, store):
        n = 2100  # over the embedded (500) and the server (2000) write batches
        texts = [f"第{i}条 网格事项{i}" for i in range(n)]
        vectors = EMBEDDER.embed_passages(texts)
        ids = [f"big.md#{i}" for i in range(n)]
        store.upsert(ids, vectors, texts, [{"doc_id": "big"} for _ in ids])
        assert store.count() == n
        assert store.query(vectors[-1], 1)[0][0] == ids[-1]
        store.delete_doc("big")
        assert store.count() == 0

    def test_vectors_outlive_the_client_that_wrote_them(self, open_store, store):
        vectors = fill(store)
        again = open_store(store)
        assert again.count() == len(CHUNKS)
        assert again.query(vectors[1], 1)[0][0] == "办法.md#第二条"


class TestVectorStores(VectorStoreContract):
    @pytest.fixture(
        params=["chroma-embedded", pytest.param("chroma-server", marks=pytest.mark.integration)]
    )
    def open_store(self, request, tmp_path: Path) -> OpenStore:
        """``open_store()`` opens a new collection; ``open_store(store)`` opens the collection
        of ``store`` again, through a new client."""
        names: dict[int, str] = {}
        if request.param == "chroma-embedded":
            connect = {"path": tmp_path / "chroma"}
        else:
            connect = {"host": "127.0.0.1", "port": request.getfixturevalue("chroma_server")}

        def open_store(existing: VectorStore | None = None) -> VectorStore:
            name = names[id(existing)] if existing else f"contract_{uuid.uuid4().hex[:12]}"
            store = ChromaVectorStore(EMBEDDER, name, **connect)
            names[id(store)] = name
            return store

        return open_store
