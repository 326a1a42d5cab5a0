"""Quality floor on the bundled development set: a regression here is a real one."""

from __future__ import annotations

import pytest

from evals.datasets import load_retrieval_cases
from evals.retrieval_metrics import evaluate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scores(bundled_kb):
    cases = load_retrieval_cases()
    assert len(cases) >= 150
    out = {}
    for mode in ("hybrid", "bm25", "dense"):
        out[mode] = evaluate(
            cases, lambda q, m=mode: [(h.doc_title, h.article) for h in bundled_kb.search(q, 10, m)]
        )
    return out


def test_hybrid_finds_the_gold_article_in_the_top_five_for_nine_questions_in_ten(scores):
    assert scores["hybrid"].hit_at_5 >= 0.90, scores["hybrid"].misses


def test_fusion_beats_each_signal_alone(scores):
    assert scores["hybrid"].hit_at_5 > scores["bm25"].hit_at_5
    assert scores["hybrid"].hit_at_5 > scores["dense"].hit_at_5
    assert scores["hybrid"].mrr > max(scores["bm25"].mrr, scores["dense"].mrr)


def test_colloquial_questions_are_not_left_behind(scores, bundled_kb):
    colloquial = [c for c in load_retrieval_cases() if c.type == "colloquial"]
    s = evaluate(colloquial, lambda q: [(h.doc_title, h.article) for h in bundled_kb.search(q, 10)])
    assert s.hit_at_10 >= 0.75
