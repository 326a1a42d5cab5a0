"""The service layer every face (CLI, API, UI, bot) uses; built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
from copilot.work_orders.schemas import OrderChanges, WorkOrderOut
from copilot.work_orders.store import SqlWorkOrderStore, WorkOrderStore
from retrievers.knowledge_base import KnowledgeBase

if TYPE_CHECKING:
    # LangGraph and LangChain load only when a disposition is first needed: commands that
    # never dispose (ask, search, route) start without them.
    from copilot.dispositions.approval import Action
    from copilot.dispositions.checkpoints import Checkpoints
    from copilot.dispositions.inbox import EventInbox
    from copilot.dispositions.service import Disposition, DispositionService
    from copilot.dispositions.traces import Trace
    from copilot.ingest_jobs import IngestJobs
    from copilot.users.store import UserStore

__all__ = ["Services", "build_services"]
# A draft in Chinese with four steps is about 400 tokens; a model still talking past this
# is not going to produce a valid one.
DRAFT_MAX_TOKENS = 600


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    hierarchy: Hierarchy
    indicators: IndicatorStore
    llm: LLMBackend | None
    answers: AnswerEngine
    _router: EventRouter | None = field(default=None, repr=False)
    chat_model: Any = field(default=None, repr=False)
    _orders: WorkOrderStore | None = field(default=None, repr=False)
    _dispositions: DispositionService | None = field(default=None, repr=False)
    _checkpoints: Checkpoints | None = field(default=None, repr=False)
    _users: UserStore | None = field(default=None, repr=False)
    _inbox: EventInbox | None = field(default=None, repr=False)
    _ingest_jobs: IngestJobs | None = field(default=None, repr=False)

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

    @property
    def users(self) -> UserStore:
        """Users and their API tokens, in the work-order database."""
        if self._users is None:
            from copilot.users.store import UserStore

            self._users = UserStore(self.orders.engine, self.hierarchy)  # type: ignore[attr-defined]
        return self._users

    @property
    def ingest_jobs(self) -> IngestJobs:
        """Background ingests of uploaded files (the API's admin document routes)."""
        if self._ingest_jobs is None:
            from copilot.ingest_jobs import IngestJobs

            self._ingest_jobs = IngestJobs(self.kb, self.settings.home / "uploads")
        return self._ingest_jobs

    @property
    def inbox(self) -> EventInbox:
        """Submitted events waiting to be routed and drafted (the API's 202 queue)."""
        if self._inbox is None:
            from copilot.dispositions.inbox import EventInbox

            self._inbox = EventInbox(self.orders.engine)  # type: ignore[attr-defined]
        return self._inbox

    def dispose_queued(self, event: Any) -> dict[str, Any]:
        """Work one inbox event: the disposition, flattened as every face prints it."""
        from copilot.dispositions.summary import summarise

        done = self.submit_event(
            event.text, event.reporter, event.idempotency_key, event.reporter_grid
        )
        return summarise(done).model_dump(mode="json")

    @property
    def dispositions(self) -> DispositionService:
        """The disposition graph with its checkpointer, built on first use."""
        if self._dispositions is None:
            from copilot.dispositions.checkpoints import checkpoint_url, open_checkpoints
            from copilot.dispositions.service import DispositionService
            from copilot.dispositions.traces import TraceStore
            from copilot.work_orders.vectors import OrderVectors

            self._checkpoints = open_checkpoints(checkpoint_url(self.settings))
            engine = self.orders.engine  # type: ignore[attr-defined]
            embedder = self.kb.dense[0].embedder
            self._dispositions = DispositionService(
                self.router,
                self.answers,
                self.kb,
                self.orders,
                OrderVectors(engine, embedder.name),
                TraceStore(engine),
                self._checkpoints.saver,
                drafter_factory=self._drafter_factory(),
            )
        return self._dispositions

    def _drafter_factory(self):
        """A model drafter when a chat model or an LLM backend is configured, else none."""
        chat = self.chat_model
        if chat is None and self.llm is not None:
            from copilot.llm.chat_model import BackendChatModel

            chat = BackendChatModel(backend=self.llm, max_tokens=DRAFT_MAX_TOKENS)
        if chat is None:
            return None
        name = self.llm.name if self.llm is not None else type(chat).__name__

        from copilot.dispositions.llm_drafter import ModelDrafter
        from tools.registry import build_tools, model_tools

        def factory(service: DispositionService) -> ModelDrafter:
            tools = model_tools(build_tools(service, self.indicators))
            return ModelDrafter(chat, tools, service.quote_for, name)

        return factory

    def submit_event(
        self, text: str, reporter: str, idempotency_key: str, reporter_grid: str | None = None
    ) -> Disposition:
        """Route → draft → a work order waiting for approval (the same order on a retry).

        A message that needs no order (a consultation answered directly, praise, noise)
        gets its route and no order.
        """
        return self.dispositions.submit(text, reporter, idempotency_key, reporter_grid)

    def decide(
        self,
        order: int | str,
        action: Action,
        actor: str,
        comment: str | None = None,
        changes: OrderChanges | None = None,
        draft_edits: dict | None = None,
    ) -> WorkOrderOut:
        """An official's decision on a pending order: approve (dispatch), edit-and-approve,
        return or reject; the waiting disposition run resumes."""
        return self.dispositions.decide(order, action, actor, comment, changes, draft_edits)

    def trace(self, trace_id: str) -> Trace:
        return self.dispositions.trace(trace_id)

    def close(self) -> None:
        self.kb.close()
        if self._checkpoints is not None:
            self._checkpoints.close()
        if self._orders is not None:
            self._orders.close()


def build_services(
    settings: Settings,
    llm: LLMBackend | None = None,
    with_llm: bool = True,
    chat_model: Any = None,
) -> Services:
    """Wire the implementations the settings choose. ``llm`` overrides the configured backend;
    ``chat_model`` (a LangChain chat model) drafts dispositions instead of it."""
    kb = build_knowledge_base(settings)
    hierarchy = Hierarchy.from_csv(settings.data_dir / "divisions" / "chongqing_divisions.csv")

    indicators = build_indicator_store(settings, hierarchy)
    backend = llm if llm is not None else (build_llm(settings) if with_llm else None)
    engine = AnswerEngine(kb, indicators, settings, backend)
    return Services(settings, kb, hierarchy, indicators, backend, engine, chat_model=chat_model)
