"""The release gates CI holds the bundled development sets to (``copilot eval all
--fail-under …``; tests/test_eval_runner.py runs them on every CI run).

Each sits 2–3 points under the figure measured when it was set (docs/benchmarks.md, "Eval
runner"): noise between machines passes, a real regression — a broken fusion weight, a
reranker that stopped loading, a routing rule gone — does not. Raise a gate when a change
lifts its figure for good; never lower one to let a change through.
"""

from __future__ import annotations

CI_GATES: tuple[str, ...] = (
    "retrieval[hybrid].hit_at_5=0.89",
    "retrieval[hybrid+rerank].hit_at_5=0.92",
    "retrieval[hybrid+rerank].mrr=0.82",
    "answer.answer_correct=0.90",
    "answer.first_citation_correct=0.78",
    "answer.refusal_precision=0.85",
    "answer.refusal_recall=0.60",
    "answer.indicator_exact=0.95",
    "answer.quotes_verbatim=1.0",
    "routing.is_event_accuracy=0.97",
    "routing.message_type_accuracy=0.95",
    "routing.board_accuracy=0.92",
    "routing.event_type_accuracy=0.88",
    "routing.tier_accuracy=0.89",
    "routing.department_accuracy=0.90",
    "routing.urgency_accuracy=0.66",
    "disposition.rubric_pass=0.90",
    "disposition.sections=1.0",
    "disposition.citations_valid=1.0",
    "disposition.pending_approval=1.0",
)
