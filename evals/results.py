"""What an eval run produces: per-item results, per-suite figures, gates — one JSON shape that
the Markdown and HTML reports, the CLI and the UI all read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ItemResult(BaseModel):
    """One scored case. Cached by input hash and configuration (resumable runs)."""

    id: str
    input: str = Field(description="The question, event text or message (cut to 500 chars).")
    expected: dict[str, Any] = Field(default_factory=dict)
    got: dict[str, Any] = Field(default_factory=dict)
    ok: bool = Field(description="Every scored criterion holds.")
    scores: dict[str, float] = Field(
        default_factory=dict, description="Per-item figures the suite averages (1.0/0.0, ranks)."
    )
    latency_ms: dict[str, float] = Field(default_factory=dict, description="Per stage.")


class Confusion(BaseModel):
    """A confusion matrix: ``matrix[i][j]`` = cases of gold ``labels[i]`` predicted ``labels[j]``."""

    field: str
    labels: list[str]
    matrix: list[list[int]]


class LatencyStats(BaseModel):
    stage: str
    n: int
    p50_ms: float
    p95_ms: float
    samples_ms: list[float] = Field(default_factory=list, description="For the histograms.")


class SuiteResult(BaseModel):
    suite: str
    config: str = Field(description="Retrieval mode or LLM backend, e.g. hybrid+rerank, none.")
    dataset: str
    n: int
    metrics: dict[str, float]
    per_class: dict[str, dict[str, dict[str, float]]] = Field(
        default_factory=dict, description="field → label → {n, precision, recall, f1}."
    )
    confusion: list[Confusion] = Field(default_factory=list)
    latency: list[LatencyStats] = Field(default_factory=list)
    failures: list[ItemResult] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="How to read the figures.")
    cached_items: int = 0
    seconds: float = 0.0


class GateResult(BaseModel):
    metric: str = Field(description="suite[config].metric, e.g. retrieval[hybrid+rerank].hit_at_5")
    threshold: float
    value: float | None
    passed: bool


class RunReport(BaseModel):
    created_at: datetime
    command: str
    suites: list[SuiteResult]
    gates: list[GateResult] = Field(default_factory=list)
    seconds: float = 0.0
    machine: dict[str, Any] = Field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)
