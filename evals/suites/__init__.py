"""The eval suites by name: what each scores, on which bundled set, under which configurations.

A suite scores one case at a time (``score`` → ``ItemResult``, cached by the runner) and
then sums the items up (``summarise`` → ``SuiteResult``). Every face runs suites through
``evals.runner`` (the CLI's ``copilot eval``) or ``run_suite`` (the UI's 评测 tab).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from evals.results import ItemResult, LatencyStats, SuiteResult

if TYPE_CHECKING:
    from copilot.services import Services

Progress = Callable[[int, int], None]  # (done, total)
# The LLM backends the answer, routing and disposition suites can run under.
BACKENDS = ("none", "openai", "llamacpp")


class Suite(Protocol):
    name: str
    title_zh: str
    default_datasets: tuple[str, ...]
    # Retrieval compares search configurations; the others run under an LLM backend.
    configs: tuple[str, ...]
    default_configs: tuple[str, ...]

    def load(self, path: Path) -> list[dict[str, Any]]:
        """Cases with an ``id`` each (``ValueError`` for a file it cannot read)."""
        ...

    def score(self, services: Services, case: dict[str, Any], config: str) -> ItemResult: ...

    def summarise(self, items: list[ItemResult], config: str, dataset: str) -> SuiteResult: ...


def _registry() -> dict[str, Suite]:
    from evals.suites.answers import AnswerSuite
    from evals.suites.dispositions import DispositionSuite
    from evals.suites.retrieval import RetrievalSuite
    from evals.suites.routing import RoutingSuite

    suites: list[Suite] = [RetrievalSuite(), AnswerSuite(), RoutingSuite(), DispositionSuite()]
    return {s.name: s for s in suites}


SUITES: dict[str, Suite] = _registry()
BACKEND_SUITES = ("answer", "routing", "disposition")


def latency(items: list[ItemResult]) -> list[LatencyStats]:
    """p50/p95 per stage over the items (cached items keep the time they took when scored)."""
    import numpy as np

    stages = sorted({s for i in items for s in i.latency_ms})
    out = []
    for stage in stages:
        ms = [i.latency_ms[stage] for i in items if stage in i.latency_ms]
        out.append(
            LatencyStats(
                stage=stage,
                n=len(ms),
                p50_ms=round(float(np.percentile(ms, 50)), 1),
                p95_ms=round(float(np.percentile(ms, 95)), 1),
                samples_ms=[round(x, 1) for x in ms],
            )
        )
    return out


def mean(items: list[ItemResult], score: str) -> float:
    """The mean of a per-item score over the items that carry it."""
    values = [i.scores[score] for i in items if score in i.scores]
    return round(sum(values) / len(values), 4) if values else 0.0


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - started) * 1000


def run_suite(
    services: Services,
    name: str,
    progress: Progress | None = None,
    datasets: tuple[str, ...] | None = None,
    config: str | None = None,
) -> SuiteResult:
    """One suite on bundled sets (its development sets unless named) under one configuration
    (its last default), nothing cached — the UI's 评测 tab and the quality-floor tests; the
    runner adds caching, several configurations and reports. ``KeyError``: unknown name."""
    from evals.datasets import DATASETS_DIR

    suite = SUITES[name]
    datasets = datasets or suite.default_datasets
    cases = [c for d in datasets for c in suite.load(DATASETS_DIR / d)]
    config = config or suite.default_configs[-1]
    started = time.perf_counter()
    items = []
    for done, case in enumerate(cases, 1):
        items.append(suite.score(services, case, config))
        if progress:
            progress(done, len(cases))
    result = suite.summarise(items, config, "+".join(datasets))
    result.seconds = round(time.perf_counter() - started, 2)
    return result
