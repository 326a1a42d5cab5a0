"""The service layer every face (CLI, API, UI, bot) uses; built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from copilot.answers.engine import AnswerEngine
from copilot.answers.provisions import split_provisions
from copilot.catalogue import Catalogue
from copilot.dispositions.adapter import needs_order, new_work_order
from copilot.dispositions.draft import BasisQuote, draft_disposition
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
from copilot.work_orders.decisions import Decision, decide
from copilot.work_orders.schemas import WorkOrderOut
from copilot.work_orders.store import SqlWorkOrderStore, WorkOrderStore
from retrievers.knowledge_base import KnowledgeBase

BASIS_FROM_RETRIEVAL = 2
MAX_BASIS = 3


class Disposition(BaseModel):
    """What submitting an event gives back: its route, and the pending order if it is one."""

    decision: RouteDecision
    order: WorkOrderOut | None


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    hierarchy: Hierarchy
    indicators: IndicatorStore
    llm: LLMBackend | None
    answers: AnswerEngine
    _router: EventRouter | None = field(default=None, repr=False)
    _orders: WorkOrderStore | None = field(default=None, repr=False)

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

    @property
    def orders(self) -> WorkOrderStore:
        """The work-order store the settings choose (SQLite by default), opened on first use."""
        if self._orders is None:
            self._orders = SqlWorkOrderStore.from_url(self.settings.resolved_database_url)
        return self._orders

    def submit_event(
        self, text: str, reporter: str, idempotency_key: str, reporter_grid: str | None = None
    ) -> Disposition:
        """Route → draft → a work order waiting for approval (the same order on a retry).

        A message that needs no order (a consultation answered directly, praise, noise)
        gets its route and no order.
        """
        decision = self.route(text, reporter_grid, answer_consultations=False)
        if not needs_order(decision):
            return Disposition(decision=decision, order=None)
        catalogue = self.router.catalogue
        entry = catalogue.by_id.get(decision.event_type or "")
        hours = entry.deadline_hours.get(decision.urgency or "一般") if entry else None
        draft = draft_disposition(decision, text, self._legal_basis(text, decision), hours)
        new = new_work_order(decision, text, idempotency_key, catalogue, draft)
        return Disposition(decision=decision, order=self.orders.create(new, actor=reporter))

    def _legal_basis(self, text: str, decision: RouteDecision) -> list[BasisQuote]:
        """The catalogue's articles for the type, else the reranker's confident picks."""
        basis: list[BasisQuote] = []
        for ref in decision.legal_basis:
            docs = [d for d in self.kb.documents() if d.title == ref.doc_title]
            text_of = self.kb.article_text(docs[0].doc_id, ref.article) if docs else ""
            if text_of:
                quote = "".join(p.text for p in split_provisions(text_of))
                basis.append(BasisQuote(doc_title=ref.doc_title, article=ref.article, quote=quote))
        if basis:
            return basis[:MAX_BASIS]
        _, ranked = self.answers.rank(text)
        return [
            BasisQuote(
                doc_title=s.candidate.doc_title, article=s.candidate.article, quote=s.quote.text
            )
            for s in ranked[:BASIS_FROM_RETRIEVAL]
            if s.score > 0
        ]

    def decide(
        self, order: int | str, action: Decision, actor: str, comment: str | None = None
    ) -> WorkOrderOut:
        """An official's decision on a pending order: approve (dispatch), return, reject."""
        return decide(self.orders, order, action, actor, comment)

    def close(self) -> None:
        self.kb.close()
        if self._orders is not None:
            self._orders.close()


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
