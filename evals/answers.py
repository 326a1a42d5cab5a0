"""Answer quality on a question set: ``python -m evals.answers [--set NAME ...]``.

Prints, per set: the reranked article list's hit@1/hit@5/MRR beside the first stage's
(fused order) on the same questions, whether the answer is right (gold span or cited
article), refusal precision/recall, indicator exactness, and the verbatim check of quotes.
Sets are named by their file stem in ``evals/datasets`` (``policy_dev2``) or given as paths.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from copilot.services import Services, build_services
from copilot.settings import Settings
from evals.answer_metrics import score_answers
from evals.datasets import DATASETS_DIR, load_jsonl, print_report
from evals.retrieval_metrics import score_ranks

DEV = {
    "answerable": ("answer_dev", "retrieval_dev", "policy_dev2"),
    "unanswerable": ("unanswerable_dev", "unanswerable_nearmiss_dev"),
    "indicator": ("indicator_dev",),
}
POSTFREEZE = {
    "answerable": ("policy_postfreeze",),
    "unanswerable": ("unanswerable_postfreeze",),
    "indicator": ("indicator_postfreeze",),
}


def _load(name: str) -> list[dict]:
    path = Path(name) if name.endswith(".jsonl") else DATASETS_DIR / f"{name}.jsonl"
    return load_jsonl(path)


def ranking(services: Services, cases: list[dict]) -> dict:
    """hit@k / MRR of the gold article in the first-stage and in the reranked order."""
    first, second = [], []
    for case in cases:
        gold = (case["doc_title"], case["article"])
        _, ranked = services.answers.rank(case["question"])
        # Each candidate keeps its first-stage rank: one search gives both orders.
        by_first = sorted(ranked, key=lambda s: s.candidate.rank)
        fused = [(s.candidate.doc_title, s.candidate.article) for s in by_first]
        reranked = [(s.candidate.doc_title, s.candidate.article) for s in ranked]
        first.append(fused.index(gold) + 1 if gold in fused else None)
        second.append(reranked.index(gold) + 1 if gold in reranked else None)
    keep = ("n", "hit_at_1", "hit_at_5", "mrr")
    return {
        "first_stage": {k: v for k, v in score_ranks(first).model_dump().items() if k in keep},
        "reranked": {k: v for k, v in score_ranks(second).model_dump().items() if k in keep},
    }


def evaluate(services: Services, sets: dict[str, tuple[str, ...]]) -> dict:
    answerable = [c for name in sets["answerable"] for c in _load(name) if c.get("article")]
    unanswerable = [c for name in sets["unanswerable"] for c in _load(name)]
    indicators = [c for name in sets["indicator"] for c in _load(name)]
    scores = score_answers(
        answerable, unanswerable, indicators, services.answers.ask, services.kb.source_text
    )
    report = {"sets": sets, "ranking": ranking(services, answerable)}
    report.update(scores.model_dump())
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=Path(".copilot/evals"))
    parser.add_argument("--postfreeze", action="store_true", help="the held-out sets")
    parser.add_argument("--out", type=Path, default=None, help="write the report (JSON)")
    args = parser.parse_args()
    from copilot.knowledge import ensure_bundled_index

    settings = Settings(home=args.home)
    services = build_services(settings, with_llm=False)
    ensure_bundled_index(services.kb, settings)
    report = evaluate(services, POSTFREEZE if args.postfreeze else DEV)
    print_report(report, args.out)


if __name__ == "__main__":
    main()
