"""Per-answer judgements the answer suite (``evals/suites/answers.py``) sums up: gold span or
gold article, the first citation, indicator exactness."""

from __future__ import annotations

from copilot.answers.models import Answer


def _fmt_values(v: float) -> list[str]:
    out = {
        f"{v:g}",
        f"{v:,.0f}" if v == int(v) else f"{v:g}",
        f"{int(v)}" if v == int(v) else f"{v}",
    }
    return sorted(out)


def answer_is_correct(case: dict, a: Answer) -> bool:
    if a.refused:
        return False
    if case.get("gold") and case["gold"] in a.answer:
        return True
    return any(
        c.doc_title == case["doc_title"] and c.article == case["article"] for c in a.citations
    )


def first_citation_is_gold(case: dict, a: Answer) -> bool:
    """The article quoted first (the one the conclusion rests on) is the gold article."""
    if a.refused or not a.citations:
        return False
    first = a.citations[0]
    return (first.doc_title, first.article) == (case["doc_title"], case["article"])


def indicator_is_exact(case: dict, a: Answer) -> bool:
    if a.refused or a.route != "indicator":
        return False
    if case.get("gold_region") and case["gold_region"] not in a.answer:
        return False
    if case.get("kind") == "compare" and f"{case['gold_region']}更" not in a.answer:
        return False  # both regions are named; the verdict must pick the right one
    return any(s in a.answer for s in _fmt_values(float(case["gold_value"])))
