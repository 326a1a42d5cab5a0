"""The service layer every face (CLI, API, UI, bot) uses; built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field

from copilot.answers.engine import AnswerEngine
from copilot.catalogue import Catalogue
from copilot.events.classifier import EventClassifier
from copilot.events.letters import LetterClassifier
from copilot.events.message_type import MessageTypeClassifier
from copilot.events.router import ConsultationAnswer, EventRouter, RouteDecision
from copilot.gazetteer import Gazetteer
from copilot.hierarchy import Hierarchy
from copilot.indicators.factory import build_indicator_store
from copilot.indicators.store import IndicatorStore
from copilot.knowledge import build_knowledge_base
from copilot.llm.base import LLMBackend
from copilot.llm.factory import build_llm
from copilot.settings import Settings
from retrievers.knowledge_base import KnowledgeBase


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    hierarchy: Hierarchy
    indicators: IndicatorStore
    llm: LLMBackend | None
    answers: AnswerEngine
    _router: EventRouter | None = field(default=None, repr=False)

    @property
    def router(self) -> EventRouter:
        """Built on first use: it embeds the catalogue's examples (cached after the first run)."""
        if self._router is None:
            data = self.settings.data_dir
            catalogue = Catalogue.load(data / "catalogue" / "event_types.json")
            dense = [(ch.embedder, w) for ch, w in zip(self.kb.dense, (0.5, 0.3), strict=False)]
            letters_file = data / "models" / "letter_classifier.npz"
            classifier = EventClassifier(
                catalogue,
                dense,
                self.kb.rewriter,
                message_types=MessageTypeClassifier.load(data),
                letters=LetterClassifier.load(letters_file) if letters_file.is_file() else None,
            )
            gazetteer = Gazetteer(self.hierarchy, data / "gazetteer" / "landmarks.csv")
            self._router = EventRouter(catalogue, classifier, gazetteer)
        return self._router

    def route(
        self,
        text: str,
        reporter_grid: str | None = None,
        event_id: str | None = None,
        answer_consultations: bool = True,
    ) -> RouteDecision:
        """Route one message; a consultation also carries the policy answer (12345 practice)."""
        decision = self.router.route(text, reporter_grid, event_id)
        if answer_consultations and decision.message_type == "咨询":
            a = self.answers.ask(text)
            decision.answer = ConsultationAnswer(
                answer=a.answer, refused=a.refused, citations=a.citations
            )
        return decision

    def close(self) -> None:
        self.kb.close()


def build_services(
    settings: Settings, llm: LLMBackend | None = None, with_llm: bool = True
) -> Services:
    """Wire the implementations the settings choose. ``llm`` overrides the configured backend."""
    kb = build_knowledge_base(settings)
    hierarchy = Hierarchy.from_csv(settings.data_dir / "divisions" / "chongqing_divisions.csv")

    indicators = build_indicator_store(settings, hierarchy)
    backend = llm if llm is not None else (build_llm(settings) if with_llm else None)
    engine = AnswerEngine(kb, indicators, settings, backend)
    return Services(settings, kb, hierarchy, indicators, backend, engine)
