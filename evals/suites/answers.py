"""Answers: right answer (gold span or gold article cited), citations (verbatim quote in the
cited article; the cited article is the gold one), refusals, indicators, faithfulness.

One file may mix three kinds of case: answerable (``doc_title`` + ``article``, optional
``gold`` span), indicator questions (``gold_value``), and unanswerable ones (neither).
Faithfulness is judged by the configured LLM (``prompts/faithfulness_judge.md``) when there
is one; without one it is a lexical proxy — the share of the answer's character bigrams
found in the cited text — and is labelled so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.answers.models import Answer, quote_is_verbatim
from copilot.llm.base import LLMError
from evals.answer_metrics import answer_is_correct, first_citation_is_gold, indicator_is_exact
from evals.datasets import load_cases
from evals.results import ItemResult, SuiteResult
from evals.suites import BACKENDS

if TYPE_CHECKING:
    from copilot.services import Services

_CJK_OR_WORD = re.compile(r"[\u4e00-\u9fff]|[0-9a-zA-Z]+")
_MARKERS = re.compile(r"\[\d+\]|【\d+】|（依据[^）]*）")
JUDGE_SCHEMA = {
    "type": "object",
    "properties": {
        "supported": {"type": "boolean"},
        "unsupported": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["supported", "unsupported"],
}


def kind_of(case: dict[str, Any]) -> str:
    if case.get("article") and case.get("doc_title"):
        return "answerable"
    if "gold_value" in case:
        return "indicator"
    return "unanswerable"


class AnswerSuite:
    name = "answer"
    title_zh = "政策问答（正确率、引用、拒答、忠实度）"
    default_datasets = (
        "answer_dev.jsonl",
        "retrieval_dev.jsonl",
        "policy_dev2.jsonl",
        "unanswerable_dev.jsonl",
        "unanswerable_nearmiss_dev.jsonl",
        "indicator_dev.jsonl",
    )
    configs = BACKENDS
    default_configs = ("none",)

    def load(self, path: Path) -> list[dict[str, Any]]:
        return load_cases(path, {"id", "question"})

    def score(self, services: Services, case: dict[str, Any], config: str) -> ItemResult:
        from evals.suites import timed

        answer, ms = timed(lambda: services.ask(case["question"]))
        kind = kind_of(case)
        scores: dict[str, float] = {}
        if kind == "answerable":
            scores |= _citation_scores(services, case, answer)
            scores["answer_correct"] = float(answer_is_correct(case, answer))
            scores["first_citation_correct"] = float(first_citation_is_gold(case, answer))
            scores["false_refusal"] = float(answer.refused)
            ok = bool(scores["answer_correct"])
            expected = {
                "article": f"《{case['doc_title']}》{case['article']}",
                "gold": case.get("gold"),
            }
        elif kind == "indicator":
            scores["indicator_exact"] = float(indicator_is_exact(case, answer))
            ok = bool(scores["indicator_exact"])
            expected = {"region": case.get("gold_region"), "value": case["gold_value"]}
        else:
            scores["refused"] = float(answer.refused)
            ok = answer.refused
            expected = {"refusal": True}
        if not answer.refused and kind != "unanswerable":
            scores |= _faithfulness(services, case["question"], answer)
        return ItemResult(
            id=str(case["id"]),
            input=case["question"][:500],
            expected=expected,
            got={
                "answer": answer.answer[:200],
                "refused": answer.refused,
                "citations": [f"《{c.doc_title}》{c.article or ''}" for c in answer.citations[:3]],
                "kind": kind,
            },
            ok=ok,
            scores=scores,
            latency_ms={"ask": round(ms, 1)},
        )

    def summarise(self, items: list[ItemResult], config: str, dataset: str) -> SuiteResult:
        from evals.suites import latency, mean

        kinds = {
            k: [i for i in items if i.got.get("kind") == k]
            for k in ("answerable", "unanswerable", "indicator")
        }
        refused_right = sum(i.scores.get("refused", 0) for i in kinds["unanswerable"])
        refused_wrong = sum(i.scores.get("false_refusal", 0) for i in kinds["answerable"])
        metrics = {
            "answer_correct": mean(kinds["answerable"], "answer_correct"),
            "first_citation_correct": mean(kinds["answerable"], "first_citation_correct"),
            "citation_precision": mean(kinds["answerable"], "citation_precision"),
            "citation_recall": mean(kinds["answerable"], "citation_recall"),
            "quotes_verbatim": mean(items, "quotes_verbatim"),
            "refusal_precision": round(refused_right / (refused_right + refused_wrong), 4)
            if refused_right + refused_wrong
            else 1.0,
            "refusal_recall": mean(kinds["unanswerable"], "refused"),
            "indicator_exact": mean(kinds["indicator"], "indicator_exact"),
        }
        # A kind of question the run did not ask reports nothing, not a 0.0.
        unasked = {
            "answerable": (
                "answer_correct",
                "first_citation_correct",
                "citation_precision",
                "citation_recall",
            ),
            "unanswerable": ("refusal_precision", "refusal_recall"),
            "indicator": ("indicator_exact",),
        }
        for kind, names in unasked.items():
            for name in names if not kinds[kind] else ():
                metrics.pop(name)
        if not any("quotes_verbatim" in i.scores for i in items):
            metrics.pop("quotes_verbatim")
        judged = sum("faithfulness_judge" in i.scores for i in items)
        faith = "faithfulness_judge" if judged else "faithfulness_lexical"
        if any(faith in i.scores for i in items):
            metrics[faith] = mean(items, faith)
        notes = [
            f"{len(kinds['answerable'])} answerable, {len(kinds['unanswerable'])} unanswerable, "
            f"{len(kinds['indicator'])} indicator questions.",
            "citation_precision: share of citations whose quote is verbatim in the cited article "
            "and which cite the gold article; citation_recall: the gold article is among them.",
            f"faithfulness_judge: the configured LLM judged every claim supported by the cited "
            f"text ({judged} answers judged; a failed judge call falls back to the proxy for that "
            "answer and is not counted)."
            if judged
            else "faithfulness_lexical is a PROXY (no LLM configured): the share of the answer's "
            "character bigrams found in the cited articles — not a judgement of meaning.",
        ]
        return SuiteResult(
            suite=self.name,
            config=config,
            dataset=dataset,
            n=len(items),
            metrics=metrics,
            latency=latency(items),
            failures=[i for i in items if not i.ok],
            notes=notes,
        )


def _citation_scores(services: Services, case: dict[str, Any], a: Answer) -> dict[str, float]:
    gold = (case["doc_title"], case["article"])
    valid = []
    for c in a.citations:
        text = services.source_text(c.chunk_id) if not c.chunk_id.startswith("indicator:") else None
        valid.append(bool(text and quote_is_verbatim(c.quote, text)))
    good = [v and (c.doc_title, c.article) == gold for c, v in zip(a.citations, valid, strict=True)]
    out = {"citation_recall": float(any(good))}
    if a.citations:
        out["citation_precision"] = sum(good) / len(a.citations)
        out["quotes_verbatim"] = sum(valid) / len(valid)
    return out


def _faithfulness(services: Services, question: str, a: Answer) -> dict[str, float]:
    texts = [services.source_text(c.chunk_id) or c.quote for c in a.citations]
    evidence = "\n\n".join(t for t in texts if t)
    if services.llm is not None and evidence:
        from prompts.loader import load_prompt

        messages = load_prompt("faithfulness_judge").render(
            question=question, answer=a.answer, evidence=evidence[:6000]
        )
        try:
            raw = services.llm.complete(messages, max_tokens=300, json_schema=JUDGE_SCHEMA)
            verdict = json.loads(raw)
            return {"faithfulness_judge": float(bool(verdict.get("supported")))}
        except (LLMError, ValueError, AttributeError):
            pass  # a failed call or an unreadable verdict: the proxy for this item
    answer_grams = _bigrams(_MARKERS.sub("", a.answer))
    if not answer_grams:
        return {}
    source = _bigrams(evidence)
    return {"faithfulness_lexical": len(answer_grams & source) / len(answer_grams)}


def _bigrams(text: str) -> set[str]:
    tokens = _CJK_OR_WORD.findall(text)
    return {a + b for a, b in zip(tokens, tokens[1:], strict=False)}
