"""Whether the best candidates actually answer the question (near misses included).

An on-topic question whose asked fact the corpus lacks ("2024年低保标准是多少", "电梯多久
维保一次") retrieves relevant articles with high scores; what gives it away is how well
the best 款/项 fits and whether any holds the asked slot. A logistic model over those
signals, trained with the reranker on answerable and near-miss development questions,
says how likely the top article answers; below the calibrated threshold the engine refuses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from copilot.answers.candidates import QuestionContext
from copilot.answers.linear_model import LinearModel
from copilot.answers.rerank import Scored
from copilot.answers.slots import Slot

SLOTS: tuple[str, ...] = get_args(Slot)

ANSWERABILITY_FEATURES = [
    "top_score",
    "score_gap",
    "top_dense",
    "top_unit_sim",
    "top_cover_quote",
    "top_pool_cover_quote",
    "top_slot_quote",
    "slot_in_top3",
    "named_found",
    "slot_focus_top3",
    "asks_figure",
    *[f"slot_{s}" for s in SLOTS],
]


def answerability_features(ctx: QuestionContext, ranked: Sequence[Scored]) -> dict[str, float]:
    """Question-level signals from the reranked candidates and their feature rows."""
    if not ranked:
        return {name: 0.0 for name in ANSWERABILITY_FEATURES}
    first = ranked[0]
    f = first.features
    second = ranked[1].score if len(ranked) > 1 else first.score - 5.0
    out = {
        "top_score": first.score,
        "score_gap": first.score - second,
        "top_dense": first.candidate.signals.get("dense", 0.0),
        "top_unit_sim": f.get("quote_sim", 0.0),
        "top_cover_quote": f.get("cover_quote", 0.0),
        "top_pool_cover_quote": f.get("pool_cover_quote", 0.0),
        "top_slot_quote": float(first.quote.has_slot),
        "slot_in_top3": float(any(s.quote.has_slot for s in ranked[:3])),
        "named_found": float(bool(ctx.named_titles)),
        "slot_focus_top3": max(s.quote.slot_focus for s in ranked[:3]),
        "asks_figure": float(ctx.slot in ("amount", "time")),
    }
    out.update({f"slot_{s}": float(ctx.slot == s) for s in SLOTS})
    return out


class AnswerabilityModel(LinearModel):
    """Probability that the top candidate answers the question, and the refusal threshold."""

    @classmethod
    def load(  # type: ignore[override]
        cls, path: Path, features: list[str] = ANSWERABILITY_FEATURES
    ) -> AnswerabilityModel:
        model = cls(LinearModel.load(path, features).data)
        model.threshold = float(model.data["threshold"])
        return model

    threshold: float = 0.5

    def probability(self, values: dict[str, float]) -> float:
        return 1.0 / (1.0 + math.exp(-self.score(values)))

    def answerable(self, values: dict[str, float]) -> bool:
        return self.probability(values) >= self.threshold
