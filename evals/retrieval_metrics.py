"""Retrieval metrics: hit@k, MRR and nDCG@10 for one gold (document, article) per question."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pydantic import BaseModel

from evals.datasets import RetrievalCase


class RetrievalScores(BaseModel):
    n: int
    hit_at_1: float
    hit_at_5: float
    hit_at_10: float
    mrr: float
    ndcg_at_10: float
    misses: list[str] = []


def gold_rank(case: RetrievalCase, hits: Sequence[tuple[str, str | None]]) -> int | None:
    """1-based rank of the first hit from the gold article, or None.

    A long article split into pieces counts once: any of its pieces is the article.
    """
    for rank, (title, article) in enumerate(hits, start=1):
        if title == case.doc_title and article == case.article:
            return rank
    return None


def score_ranks(ranks: Sequence[int | None], ids: Sequence[str] = ()) -> RetrievalScores:
    n = len(ranks) or 1

    def hit(k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / n

    mrr = sum(1.0 / r for r in ranks if r is not None) / n
    # One relevant item per question: ideal DCG is 1, so nDCG = 1/log2(rank+1).
    ndcg = sum(1.0 / math.log2(r + 1) for r in ranks if r is not None and r <= 10) / n
    misses = [i for i, r in zip(ids, ranks, strict=False) if r is None or r > 10]
    return RetrievalScores(
        n=len(ranks),
        hit_at_1=round(hit(1), 4),
        hit_at_5=round(hit(5), 4),
        hit_at_10=round(hit(10), 4),
        mrr=round(mrr, 4),
        ndcg_at_10=round(ndcg, 4),
        misses=misses,
    )


def evaluate(
    cases: Sequence[RetrievalCase],
    search: Callable[[str], Sequence[tuple[str, str | None]]],
) -> RetrievalScores:
    """Run ``search(question) -> [(doc_title, article), ...]`` over the cases and score it."""
    ranks = [gold_rank(c, search(c.question)) for c in cases]
    return score_ranks(ranks, [c.id for c in cases])
