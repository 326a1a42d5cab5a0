from __future__ import annotations

import numpy as np
import pytest

from evals.datasets import RetrievalCase
from evals.retrieval_metrics import evaluate, gold_rank, score_ranks
from retrievers.embedders import CachedEmbedder, EmbeddingCache, HashingEmbedder, text_key
from retrievers.encoding import UndecodableError, decode_text
from retrievers.fusion import reciprocal_rank_fusion, weighted_score_fusion
from retrievers.query_rewrite import QueryRewriter
from retrievers.tokenizer import ChineseTokenizer, char_bigrams


def test_rrf_rewards_items_found_by_both_rankings():
    fused = reciprocal_rank_fusion([[("a", 9), ("b", 8)], [("b", 0.9), ("c", 0.8)]])
    assert fused[0][0] == "b"
    assert {i for i, _ in fused} == {"a", "b", "c"}


def test_weighted_fusion_keeps_a_clear_keyword_winner_ahead():
    bm25 = [("rare", 30.0), ("x", 3.0), ("y", 2.0)]
    dense = [("y", 0.83), ("x", 0.82), ("rare", 0.81)]
    fused = weighted_score_fusion([bm25, dense], [0.5, 0.5])
    assert fused[0][0] == "rare"
    assert weighted_score_fusion([[], dense], [0.5, 0.5])[0][0] == "y"


def test_tokenizer_keeps_user_words_and_drops_function_words():
    tok = ChineseTokenizer(["磁器口", "网格员"])
    tokens = tok.tokenize("请问磁器口的网格员是谁？")
    assert "磁器口" in tokens and "网格员" in tokens
    assert "的" not in tokens and "请问" not in tokens
    assert "b:器口" in tokens


def test_tokenizers_do_not_share_user_dictionaries():
    assert "占道经营" in ChineseTokenizer(["占道经营"]).tokenize("占道经营")
    plain = ChineseTokenizer(bigrams=False).tokenize("占道经营")
    assert "占道经营" not in plain


def test_char_bigrams_cover_each_chinese_run():
    assert char_bigrams("物业,罚款") == ["物业", "罚款"]


def test_dialect_rewrite_maps_to_statute_words():
    rw = QueryRewriter({"咋个": "怎么", "遭罚款": "被处以罚款", "遭": "被"})
    assert rw.rewrite("乱停车咋个  遭罚款") == "乱停车怎么 被处以罚款"
    assert rw.rewrite("没有方言") == "没有方言"


def test_decode_refuses_binary():
    with pytest.raises(UndecodableError):
        decode_text(b"\x00\x01\x02abc")


def test_embedding_cache_serves_repeats_without_calling_the_model(tmp_path):
    calls: list[int] = []

    class Counting(HashingEmbedder):
        def embed_passages(self, texts):
            calls.append(len(texts))
            return super().embed_passages(texts)

    cached = CachedEmbedder(Counting(), EmbeddingCache(tmp_path / "c.sqlite"), batch_size=2)
    first = cached.embed_passages(["甲", "乙", "丙"])
    second = cached.embed_passages(["丙", "甲", "丁"])
    assert calls == [2, 1, 1]
    np.testing.assert_allclose(first[0], second[1])


def test_seed_file_is_used_before_the_model(tmp_path):
    emb = HashingEmbedder()
    cache = EmbeddingCache(tmp_path / "a.sqlite")
    CachedEmbedder(emb, cache).embed_passages(["条文一", "条文二"])
    seed = tmp_path / "seed.npz"
    assert cache.export([text_key(emb.name, t) for t in ["条文一", "条文二"]], seed) == 2

    class Refusing(HashingEmbedder):
        def embed_passages(self, texts):
            raise AssertionError("model should not be called")

    fresh = CachedEmbedder(Refusing(), EmbeddingCache(tmp_path / "b.sqlite", seed_files=[seed]))
    vecs = fresh.embed_passages(["条文二"])
    np.testing.assert_allclose(vecs[0], emb.embed_passages(["条文二"])[0], atol=1e-3)


def test_metrics_on_known_ranks():
    scores = score_ranks([1, 2, None, 11], ["a", "b", "c", "d"])
    assert scores.hit_at_1 == 0.25
    assert scores.hit_at_5 == 0.5
    assert scores.mrr == pytest.approx((1 + 0.5 + 1 / 11) / 4, abs=1e-4)
    assert scores.ndcg_at_10 == pytest.approx((1 + 1 / np.log2(3)) / 4, abs=1e-4)
    assert scores.misses == ["c", "d"]


def test_gold_rank_matches_document_and_article():
    case = RetrievalCase(id="x", question="q", doc_title="A", article="第二条")
    assert gold_rank(case, [("B", "第二条"), ("A", "第一条"), ("A", "第二条")]) == 3
    assert evaluate([case], lambda q: [("A", "第二条")]).hit_at_1 == 1.0
