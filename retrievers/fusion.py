"""Fusion of keyword and dense rankings."""

from __future__ import annotations

from collections.abc import Sequence

Ranking = Sequence[tuple[str, float]]


def reciprocal_rank_fusion(rankings: Sequence[Ranking], k: int = 60) -> list[tuple[str, float]]:
    """Classic RRF: sum of 1/(k + rank) over the rankings an item appears in."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, (item, _) in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda x: -x[1])


def weighted_score_fusion(
    rankings: Sequence[Ranking], weights: Sequence[float]
) -> list[tuple[str, float]]:
    """Convex combination of scores, each ranking min-max scaled to [0, 1].

    Unlike RRF this keeps how far ahead a top hit is: a keyword match on a rare term
    (a fine amount, a regulation name) outranks a dense near-tie by a clear margin.
    Items missing from a ranking score 0 in it.
    """
    scores: dict[str, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        hi = max(s for _, s in ranking)
        lo = min(s for _, s in ranking)
        # Dense cosines of e5 crowd into a narrow band; min-max spreads them out.
        span = (hi - lo) or 1.0
        for item, s in ranking:
            scores[item] = scores.get(item, 0.0) + w * (s - lo) / span
    return sorted(scores.items(), key=lambda x: -x[1])
