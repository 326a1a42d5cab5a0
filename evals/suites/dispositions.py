"""Dispositions: the rubric of ``evals.dispositions`` — every draft section present, quotes
verbatim, a relevant article cited, tier, department and deadlines right, steps written for the
owning tier, the order waiting for approval. Orders go to the runner's scratch database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.datasets import load_cases
from evals.dispositions import CRITERIA, score_case
from evals.results import ItemResult, SuiteResult
from evals.suites import BACKENDS

if TYPE_CHECKING:
    from copilot.services import Services


class DispositionSuite:
    name = "disposition"
    title_zh = "处置建议（评分细则：要素、引用、层级、部门、时限、待审批）"
    default_datasets = ("dispositions_dev.jsonl",)
    configs = BACKENDS
    default_configs = ("none",)

    def load(self, path: Path) -> list[dict[str, Any]]:
        return load_cases(path, {"id", "text", "tier", "department", "event_type"})

    def score(self, services: Services, case: dict[str, Any], config: str) -> ItemResult:
        from evals.suites import timed

        result, ms = timed(lambda: score_case(services, case))
        checks = result["checks"]
        scores = {k: float(v) for k, v in checks.items()}
        scores["rubric_pass"] = float(all(checks.values()))
        scores["exact_basis"] = float(result.get("exact_basis", False))
        return ItemResult(
            id=str(case["id"]),
            input=case["text"][:500],
            expected={"route_and_basis": result.get("expected", "")},
            got={
                "route_and_basis": result.get("got", ""),
                "failed": [k for k, v in checks.items() if not v],
            },
            ok=all(checks.values()),
            scores=scores,
            latency_ms={"dispose": round(ms, 1)},
        )

    def summarise(self, items: list[ItemResult], config: str, dataset: str) -> SuiteResult:
        from evals.suites import latency, mean

        metrics = {
            "rubric_pass": mean(items, "rubric_pass"),
            "exact_basis": mean(items, "exact_basis"),
        }
        metrics |= {k: mean(items, k) for k in CRITERIA}
        return SuiteResult(
            suite=self.name,
            config=config,
            dataset=dataset,
            n=len(items),
            metrics=metrics,
            latency=latency(items),
            failures=[i for i in items if not i.ok],
            notes=["A case passes the rubric when every criterion holds (docs/dispositions.md)."],
        )
