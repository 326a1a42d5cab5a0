"""Answer metrics: gold substring or gold article, refusal precision/recall, indicator exactness,
and the verbatim check of every quote against the article it cites."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel

from copilot.answers.models import Answer, quote_is_verbatim


class AnswerScores(BaseModel):
    answerable: int
    answer_correct: float
    first_citation_correct: float
    unanswerable: int
    refusal_precision: float
    refusal_recall: float
    indicator: int
    indicator_exact: float
    quotes: int
    quotes_verbatim: float
    failures: list[dict] = []


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


def score_answers(
    answerable: Sequence[dict],
    unanswerable: Sequence[dict],
    indicators: Sequence[dict],
    ask: Callable[[str], Answer],
    chunk_text: Callable[[str], str | None],
) -> AnswerScores:
    failures: list[dict] = []
    quotes = verbatim = 0

    def run(case: dict) -> Answer:
        nonlocal quotes, verbatim
        a = ask(case["question"])
        for c in a.citations:
            if c.chunk_id.startswith("indicator:"):
                continue
            quotes += 1
            text = chunk_text(c.chunk_id)
            verbatim += bool(text and quote_is_verbatim(c.quote, text))
        return a

    correct = refused_ok = first_ok = 0
    false_refusals = 0
    for case in answerable:
        a = run(case)
        ok = answer_is_correct(case, a)
        correct += ok
        first_ok += first_citation_is_gold(case, a)
        false_refusals += a.refused
        if not ok:
            failures.append(
                {
                    "id": case["id"],
                    "question": case["question"],
                    "expected": f"{case['doc_title']} {case['article']} / {case.get('gold')}",
                    "got": a.answer[:160],
                }
            )
    for case in unanswerable:
        a = run(case)
        refused_ok += a.refused
        if not a.refused:
            failures.append(
                {
                    "id": case["id"],
                    "question": case["question"],
                    "expected": "refusal",
                    "got": a.answer[:160],
                }
            )
    exact = 0
    for case in indicators:
        a = run(case)
        ok = indicator_is_exact(case, a)
        exact += ok
        if not ok:
            failures.append(
                {
                    "id": case["id"],
                    "question": case["question"],
                    "expected": f"{case.get('gold_region')} {case['gold_value']}",
                    "got": a.answer[:160],
                }
            )
    refused_total = refused_ok + false_refusals
    return AnswerScores(
        answerable=len(answerable),
        answer_correct=round(correct / max(len(answerable), 1), 4),
        first_citation_correct=round(first_ok / max(len(answerable), 1), 4),
        unanswerable=len(unanswerable),
        refusal_precision=round(refused_ok / refused_total, 4) if refused_total else 1.0,
        refusal_recall=round(refused_ok / max(len(unanswerable), 1), 4),
        indicator=len(indicators),
        indicator_exact=round(exact / max(len(indicators), 1), 4),
        quotes=quotes,
        quotes_verbatim=round(verbatim / quotes, 4) if quotes else 1.0,
        failures=failures,
    )
