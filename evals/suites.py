"""Bundled eval suites by name, runnable from any face (the UI's 评测 tab, later the runner).

Each suite scores one capability on its bundled development set and returns a
``SuiteReport``: the headline figures and every failure with what was expected and got.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from evals.datasets import DATASETS_DIR, load_jsonl, load_retrieval_cases

if TYPE_CHECKING:
    from copilot.services import Services

Progress = Callable[[int, int], None]  # (done, total)


class SuiteReport(BaseModel):
    suite: str
    dataset: str
    n: int
    metrics: dict[str, float]
    failures: list[dict]
    seconds: float


SUITES: dict[str, str] = {
    "routing": "事件分拨（板块、类型、紧急程度、层级、部门）",
    "retrieval": "政策检索（hit@k、MRR、nDCG@10）",
}


def run_suite(services: Services, suite: str, progress: Progress | None = None) -> SuiteReport:
    """Run a bundled suite on its development set; ``KeyError`` for an unknown name."""
    import time

    if suite not in SUITES:
        raise KeyError(suite)
    started = time.perf_counter()
    tick = progress or (lambda done, total: None)
    if suite == "routing":
        from evals.routing import score_routing

        path = DATASETS_DIR / "events_dev.jsonl"
        cases = load_jsonl(path)
        done = 0

        def route(case: dict):
            nonlocal done
            decision = services.route(
                case["text"], case.get("reporter_grid"), case["id"], answer_consultations=False
            )
            done += 1
            tick(done, len(cases))
            return decision

        scores = score_routing(cases, route)
        metrics = {f"{k} 准确率": v for k, v in scores.accuracy.items()}
        metrics["非事件召回率"] = scores.non_event_recall
        metrics["每条耗时 ms"] = round(scores.seconds_per_event * 1000, 1)
        failures = scores.failures
    else:
        from evals.retrieval_metrics import evaluate

        path = DATASETS_DIR / "retrieval_dev.jsonl"
        rcases = load_retrieval_cases(path)
        done = 0

        def search(question: str):
            nonlocal done
            hits = services.search(question, top_k=10)
            done += 1
            tick(done, len(rcases))
            return [(h.doc_title, h.article) for h in hits]

        r = evaluate(rcases, search)
        metrics = {k: v for k, v in r.model_dump().items() if isinstance(v, int | float)}
        missed = set(r.misses)
        failures = [
            {"id": c.id, "question": c.question, "expected": f"《{c.doc_title}》{c.article}"}
            for c in rcases
            if c.id in missed
        ]
        cases = rcases  # type: ignore[assignment]
    return SuiteReport(
        suite=suite,
        dataset=path.name,
        n=len(cases),
        metrics=metrics,
        failures=failures,
        seconds=round(time.perf_counter() - started, 2),
    )
