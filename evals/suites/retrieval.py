"""Retrieval: hit@k, MRR and nDCG@10 of the gold article, per search configuration.

Configurations: ``bm25`` (keywords), ``dense`` (embeddings), ``hybrid`` (both fused),
``hybrid+rerank`` (the answer engine's second stage over the fused candidates — what
answers are built from).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.datasets import load_cases
from evals.results import ItemResult, SuiteResult

if TYPE_CHECKING:
    from copilot.services import Services

TOP_K = 10
KS = (1, 3, 5, 10)


class RetrievalSuite:
    name = "retrieval"
    title_zh = "政策检索（hit@k、MRR、nDCG@10）"
    default_datasets = ("retrieval_dev.jsonl",)
    configs = ("bm25", "dense", "hybrid", "hybrid+rerank")
    default_configs = configs

    def load(self, path: Path) -> list[dict[str, Any]]:
        return load_cases(path, {"id", "question", "doc_title", "article"})

    def score(self, services: Services, case: dict[str, Any], config: str) -> ItemResult:
        from evals.suites import timed

        hits, ms = timed(lambda: ranked(services, case["question"], config))
        gold = (case["doc_title"], case["article"])
        rank = hits.index(gold) + 1 if gold in hits else None
        scores = {f"hit_at_{k}": float(rank is not None and rank <= k) for k in KS}
        scores["mrr"] = 1.0 / rank if rank else 0.0
        # One relevant article per question: the ideal DCG is 1.
        scores["ndcg_at_10"] = 1.0 / math.log2(rank + 1) if rank and rank <= TOP_K else 0.0
        return ItemResult(
            id=str(case["id"]),
            input=case["question"][:500],
            expected={"article": f"《{gold[0]}》{gold[1]}"},
            got={"rank": rank, "top3": [f"《{t}》{a or ''}" for t, a in hits[:3]]},
            ok=bool(rank and rank <= 5),
            scores=scores,
            latency_ms={"search": round(ms, 1)},
        )

    def summarise(self, items: list[ItemResult], config: str, dataset: str) -> SuiteResult:
        from evals.suites import latency, mean

        names = [f"hit_at_{k}" for k in KS] + ["mrr", "ndcg_at_10"]
        return SuiteResult(
            suite=self.name,
            config=config,
            dataset=dataset,
            n=len(items),
            metrics={m: mean(items, m) for m in names},
            latency=latency(items),
            failures=[i for i in items if not i.ok],
            notes=["A failure: the gold article is not in the first 5 (article-level ranks)."],
        )


def ranked(services: Services, question: str, config: str) -> list[tuple[str, str | None]]:
    """What a configuration returns, as (title, article) in rank order: the first 10 chunks
    of a search (a long article may hold several places; the gold rank is its first), or
    the reranker's first 10 articles. ``bench.retrieval`` ranks the same way."""
    if config == "hybrid+rerank":
        _, ordered = services.answers.rank(question)
        return [(s.candidate.doc_title, s.candidate.article) for s in ordered][:TOP_K]
    mode = {"bm25": "bm25", "dense": "dense", "hybrid": "hybrid"}[config]
    hits = services.search(question, top_k=TOP_K, mode=mode)  # type: ignore[arg-type]
    return [(h.doc_title, h.article) for h in hits]
