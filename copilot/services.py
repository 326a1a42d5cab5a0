"""The service layer every face (CLI, API, UI, bot) uses; built once per process.

Faces call the use cases below (ask, search, route, dispose, decide, list_orders, …) and
never open a store themselves. Each part is built on first use and imported there:
a command that needs only the work-order database (users, orders) never loads the
knowledge base, and LangGraph and LangChain load only when a disposition is first needed.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copilot.settings import Settings
from copilot.work_orders.schemas import OrderFilters

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import datetime
    from pathlib import Path

    from copilot.answers.engine import AnswerEngine
    from copilot.answers.models import Answer, AnswerEvent
    from copilot.catalogue import Catalogue
    from copilot.dispositions.approval import Action
    from copilot.dispositions.checkpoints import Checkpoints
    from copilot.dispositions.inbox import EventIn, EventInbox, InboxOut
    from copilot.dispositions.service import Disposition, DispositionService
    from copilot.dispositions.traces import Trace
    from copilot.events.router import EventRouter, RouteDecision
    from copilot.hierarchy import Division, Hierarchy
    from copilot.indicators.store import IndicatorStore
    from copilot.indicators.vitals import VitalsView
    from copilot.ingest_jobs import IngestJobs
    from copilot.llm.base import LLMBackend
    from copilot.users.store import Channel, NewUser, UserOut, UserStore
    from copilot.work_orders.board import BoardSummary
    from copilot.work_orders.export import ExportFile, ExportFormat
    from copilot.work_orders.schemas import AuditOut, OrderChanges, OrderCount, WorkOrderOut
    from copilot.work_orders.states import State
    from copilot.work_orders.store import WorkOrderStore
    from retrievers.ingest_progress import ProgressFn
    from retrievers.knowledge_base import KnowledgeBase
    from retrievers.models import (
        DocumentRecord,
        Hit,
        IndexCheck,
        IngestReport,
        SearchFilters,
        SearchMode,
    )

__all__ = ["Services", "batch_event_key", "build_services", "event_key", "open_services"]
# A draft in Chinese with four steps is about 400 tokens; a model still talking past this
# is not going to produce a valid one.
DRAFT_MAX_TOKENS = 600
# Serialises the first build of parts with side effects (connections, table setup); the
# build of one part may build others, hence re-entrant.
_BUILD_LOCK = threading.RLock()


@dataclass
class Services:
    settings: Settings
    # Built on first use (``build_services`` builds the first five at once unless lazy).
    _kb: KnowledgeBase | None = field(default=None, repr=False)
    _hierarchy: Hierarchy | None = field(default=None, repr=False)
    _indicators: IndicatorStore | None = field(default=None, repr=False)
    _llm: LLMBackend | None = field(default=None, repr=False)
    _llm_ready: bool = field(default=False, repr=False)  # False: build from the settings
    _answers: AnswerEngine | None = field(default=None, repr=False)
    _router: EventRouter | None = field(default=None, repr=False)
    _catalogue: Catalogue | None = field(default=None, repr=False)
    chat_model: Any = field(default=None, repr=False)
    _orders: WorkOrderStore | None = field(default=None, repr=False)
    _dispositions: DispositionService | None = field(default=None, repr=False)
    _checkpoints: Checkpoints | None = field(default=None, repr=False)
    _users: UserStore | None = field(default=None, repr=False)
    _inbox: EventInbox | None = field(default=None, repr=False)
    _ingest_jobs: IngestJobs | None = field(default=None, repr=False)

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base the settings choose (``ConfigurationError`` if they cannot work)."""
        if self._kb is None:
            from copilot.knowledge import build_knowledge_base

            self._kb = build_knowledge_base(self.settings)
        return self._kb

    @property
    def hierarchy(self) -> Hierarchy:
        """Chongqing's divisions, city to grid."""
        if self._hierarchy is None:
            from copilot.hierarchy import Hierarchy

            csv = self.settings.data_dir / "divisions" / "chongqing_divisions.csv"
            self._hierarchy = Hierarchy.from_csv(csv)
        return self._hierarchy

    @property
    def indicators(self) -> IndicatorStore:
        if self._indicators is None:
            from copilot.indicators.factory import build_indicator_store

            self._indicators = build_indicator_store(self.settings, self.hierarchy)
        return self._indicators

    @property
    def llm(self) -> LLMBackend | None:
        """The LLM backend (``None``: extractive answers); ``LLMError`` for a broken setting."""
        if not self._llm_ready:
            from copilot.llm.factory import build_llm

            self._llm = build_llm(self.settings)
            self._llm_ready = True
        return self._llm

    @property
    def answers(self) -> AnswerEngine:
        if self._answers is None:
            from copilot.answers.engine import AnswerEngine

            self._answers = AnswerEngine(self.kb, self.indicators, self.settings, self.llm)
        return self._answers

    # -- knowledge: first run, documents, search, answers ---------------------------------

    def needs_index(self) -> bool:
        """True on a first run: nothing is indexed yet (``ensure_ready`` builds the index)."""
        return self.kb.is_empty()

    def ensure_ready(self, progress: ProgressFn | None = None) -> IngestReport | None:
        """Index the bundled regulations when the index is empty (first run); else nothing."""
        from copilot.knowledge import ensure_bundled_index

        return ensure_bundled_index(self.kb, self.settings, progress=progress)

    def ingest(self, paths: Sequence[Path], progress: ProgressFn | None = None) -> IngestReport:
        """Add or update documents; unchanged files are skipped by content hash."""
        return self.kb.ingest(paths, progress=progress)

    def documents(self) -> list[DocumentRecord]:
        return self.kb.documents()

    def check_index(self, repair: bool = False) -> IndexCheck:
        """Catalogue, vectors and BM25 compared (and with ``repair`` made to agree)."""
        return self.kb.check(repair=repair)

    def remove_document(self, key: str) -> list[DocumentRecord]:
        """Remove a document (by doc_id, path or exact title) from every index."""
        return self.kb.remove(key)

    def search(
        self,
        query: str,
        top_k: int = 5,
        mode: SearchMode = "hybrid",
        filters: SearchFilters | None = None,
    ) -> list[Hit]:
        return self.kb.search(query, top_k, mode, filters)

    def ask(self, question: str) -> Answer:
        """An answer with citations, or a refusal."""
        return self.answers.ask(question)

    def ask_stream(self, question: str) -> Iterator[AnswerEvent]:
        """The answer in ``delta`` pieces as it is produced, then one ``final`` event."""
        return self.answers.stream(question)

    def source_text(self, chunk_id: str) -> str | None:
        """The whole article a citation quotes (``None`` if the chunk is gone)."""
        return self.kb.source_text(chunk_id)

    # -- events ---------------------------------------------------------------------------

    @property
    def catalogue(self) -> Catalogue:
        """The responsibility catalogue (权责清单): event types, boards, departments, SLAs."""
        if self._catalogue is None:
            from copilot.catalogue import Catalogue

            path = self.settings.data_dir / "catalogue" / "event_types.json"
            self._catalogue = Catalogue.load(path)
        return self._catalogue

    def event_type_name(self, type_id: str | None) -> str | None:
        """The Chinese name of a catalogue event type (the id itself if unknown)."""
        entry = self.catalogue.by_id.get(type_id or "")
        return entry.name if entry else type_id

    @property
    def router(self) -> EventRouter:
        """Built on first use: it embeds the catalogue's examples (cached after the first run)."""
        if self._router is None:
            from copilot.events.classifier import EventClassifier
            from copilot.events.letters import LetterClassifier
            from copilot.events.message_type import MessageTypeClassifier
            from copilot.events.router import EventRouter
            from copilot.gazetteer import Gazetteer

            data = self.settings.data_dir
            catalogue = self.catalogue
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
        from copilot.events.router import ConsultationAnswer

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
            from copilot.work_orders.store import SqlWorkOrderStore

            self._orders = SqlWorkOrderStore.from_url(self.settings.resolved_database_url)
        return self._orders

    def list_orders(self, filters: OrderFilters | None = None) -> list[WorkOrderOut]:
        """Orders matching the filters (jurisdiction, board, state, overdue; newest first)."""
        return self.orders.list(filters)

    def get_order(self, ref: int | str) -> WorkOrderOut:
        """One order by id (a number) or order number (WO-…); ``OrderNotFound`` if none."""
        from copilot.work_orders.store import find_order

        return find_order(self.orders, ref)

    # -- the same, seen by a signed-in user (every face scopes through these) --------------

    def orders_for(self, user: UserOut, filters: OrderFilters | None = None) -> list[WorkOrderOut]:
        """``list_orders`` confined to the user's jurisdiction."""
        from copilot.users.scope import can_see_order, scoped_filters

        f = scoped_filters(user, self.hierarchy, filters or OrderFilters())
        return [o for o in self.orders.list(f) if can_see_order(user, o, self.hierarchy)]

    def reported_by(self, user: UserOut, limit: int = 5) -> list[WorkOrderOut]:
        """The orders the user reported, newest first (the bot's 我的工单)."""
        return self.orders.list(OrderFilters(created_by=user.name, limit=limit))

    def order_for(self, user: UserOut, ref: int | str) -> WorkOrderOut:
        """One order if it lies in the user's jurisdiction; ``OrderNotFound`` otherwise (a
        foreign order's existence is not disclosed)."""
        from copilot.users.scope import can_see_order
        from copilot.work_orders.errors import OrderNotFound

        # The same failure, without the reference, for a missing and a foreign order.
        try:
            order = self.get_order(ref)
        except OrderNotFound:
            order = None
        if order is None or not can_see_order(user, order, self.hierarchy):
            raise OrderNotFound("(not in your jurisdiction)") from None
        return order

    def order_counts_for(
        self, user: UserOut, filters: OrderFilters | None = None
    ) -> list[OrderCount]:
        """Tallies of the user's orders per board, state, district, town and overdue."""
        from copilot.users.scope import scoped_filters, sees_everything

        f = scoped_filters(user, self.hierarchy, filters or OrderFilters())
        cells = self.orders.counts(f)
        if sees_everything(user):
            return cells
        # A zone's listing is not narrowed by a column: keep the towns it administers.
        h = self.hierarchy
        return [c for c in cells if c.town_code and h.is_within(c.town_code, user.jurisdiction)]

    def dispose_for(
        self, user: UserOut, text: str, reporter_grid: str | None = None
    ) -> dict[str, Any]:
        """``dispose`` reported by the signed-in user (evaluators only read)."""
        from copilot.work_orders.permissions import check_change

        check_change(user)
        return self.dispose(text, user.name, reporter_grid=reporter_grid)

    def enqueue_for(
        self, user: UserOut, event: EventIn, reply_to: dict[str, str] | None = None
    ) -> tuple[InboxOut, bool]:
        """Store an event in the inbox for the workers, as the signed-in user; ``True`` when
        it is new (not a retry of an idempotency key). ``reply_to``: where the messaging
        bot sends the result."""
        from copilot.work_orders.permissions import check_change

        check_change(user)
        return self.inbox.enqueue(event, user.name, reply_to)

    def decide_for(
        self,
        user: UserOut,
        ref: int | str,
        action: Action,
        comment: str | None = None,
        changes: OrderChanges | None = None,
        draft_edits: dict | None = None,
    ) -> WorkOrderOut:
        """``decide`` as the signed-in user: within the jurisdiction, by an approver role."""
        from copilot.work_orders.permissions import check_decision

        check_decision(user)
        order = self.order_for(user, ref)
        return self.decide(order.id, action, user.name, comment, changes, draft_edits)

    def transition_for(
        self,
        user: UserOut,
        ref: int | str,
        to_state: State | str,
        expected_version: int,
        comment: str | None = None,
        changes: OrderChanges | None = None,
    ) -> WorkOrderOut:
        """``transition`` as the signed-in user (pending orders move only by a decision)."""
        from copilot.work_orders.permissions import check_change, check_transition
        from copilot.work_orders.states import State

        check_change(user)
        order = self.order_for(user, ref)
        check_transition(order, State(to_state))
        return self.transition(order.id, to_state, user.name, expected_version, comment, changes)

    def board_for(self, user: UserOut, filters: OrderFilters | None = None) -> BoardSummary:
        """挂图作战 tallies: totals, per board and state, open and overdue per place."""
        from copilot.work_orders.board import summarise_counts

        return summarise_counts(self.order_counts_for(user, filters))

    def vitals_for(self, user: UserOut, region: str | None = None) -> VitalsView:
        """城市体征 of the user's jurisdiction (or of ``region`` inside it)."""
        from copilot.indicators.vitals import vitals
        from copilot.users.scope import can_see_division

        code = region or user.jurisdiction
        node = self.hierarchy.get(code)
        if node is None or not can_see_division(user, code, self.hierarchy):
            raise LookupError(code)
        return vitals(self.indicators, node.code, node.name)

    def export_orders_for(
        self, user: UserOut, filters: OrderFilters | None, fmt: ExportFormat
    ) -> ExportFile:
        """The user's orders matching ``filters`` as a CSV or XLSX file (at most
        ``EXPORT_LIMIT`` rows)."""
        from copilot.work_orders.export import EXPORT_LIMIT, export_file

        f = (filters or OrderFilters()).model_copy(update={"limit": EXPORT_LIMIT, "offset": 0})
        return export_file(self.orders_for(user, f), fmt)

    def audit(self, ref: int | str) -> list[AuditOut]:
        """The order's audit trail, oldest first."""
        order_id = ref if isinstance(ref, int) else self.get_order(ref).id
        return self.orders.audit(order_id)

    def transition(
        self,
        ref: int | str,
        to_state: State | str,
        actor: str,
        expected_version: int,
        comment: str | None = None,
        changes: OrderChanges | None = None,
    ) -> WorkOrderOut:
        """Move an order to another state (optimistic: ``expected_version`` must be current)."""
        order_id = ref if isinstance(ref, int) else self.get_order(ref).id
        return self.orders.transition(
            order_id, to_state, actor, expected_version, comment, changes=changes
        )

    def sweep(
        self, now: datetime | None = None, tiers_up: int = 1, batch_size: int = 200
    ) -> list[WorkOrderOut]:
        """Escalate every open order past its deadline (plus grace) ``tiers_up`` tiers."""
        return self.orders.sweep_overdue(now, tiers_up, batch_size=batch_size)

    # -- users ----------------------------------------------------------------------------

    @property
    def users(self) -> UserStore:
        """Users and their API tokens, in the work-order database."""
        if self._users is None:
            from copilot.users.store import UserStore

            self._users = UserStore(self.orders.engine, self.hierarchy)  # type: ignore[attr-defined]
        return self._users

    def add_user(self, new: NewUser) -> tuple[UserOut, str]:
        """Create a user; the API token is returned once (only its hash is stored)."""
        return self.users.add(new)

    def first_admin(self) -> tuple[UserOut, str] | None:
        """On a store without users, create the city-wide admin and return its token (shown
        once, so whoever started the server can sign in); ``None`` when users exist."""
        from copilot.users.store import NewUser, Role

        if self.users.list():
            return None
        root = self.hierarchy.city.code
        return self.users.add(NewUser(name="管理员", role=Role.ADMIN, jurisdiction=root))

    def list_users(self) -> list[UserOut]:
        return self.users.list()

    def revoke_user(self, ref: str | int) -> UserOut:
        """Disable a user and revoke all of its tokens."""
        return self.users.revoke(ref)

    def link_sender(self, ref: str | int, channel: Channel, sender: str) -> UserOut:
        """Link a messaging-bot sender id (WeCom userid, webhook sender) to a user."""
        return self.users.link_sender(ref, channel, sender)

    def bot_user(self, channel: Channel, sender: str) -> UserOut | None:
        """The active user behind a bot sender id (None: unknown or disabled)."""
        return self.users.by_sender(channel, sender)

    def division(self, code: str | None) -> Division | None:
        return self.hierarchy.get(code)

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
        return self.dispose(
            event.text,
            event.reporter,
            event.idempotency_key,
            event.reporter_grid,
            attachments=event.attachments,
        )

    def dispose(
        self,
        text: str,
        reporter: str,
        idempotency_key: str | None = None,
        reporter_grid: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """``submit_event``, flattened as every face prints it. Without a key the message is
        its own key (``event_key``): submitting it again returns the same order."""
        from copilot.dispositions.summary import summarise

        key = idempotency_key or event_key(text, reporter_grid)
        done = self.submit_event(text, reporter, key, reporter_grid, attachments)
        return summarise(done).model_dump(mode="json")

    @property
    def dispositions(self) -> DispositionService:
        """The disposition graph with its checkpointer, built on first use (once, even
        when several worker threads ask at the same moment)."""
        if self._dispositions is None:
            with _BUILD_LOCK:
                if self._dispositions is None:
                    self._dispositions = self._build_dispositions()
        return self._dispositions

    def _build_dispositions(self) -> DispositionService:
        from copilot.dispositions.checkpoints import checkpoint_url, open_checkpoints
        from copilot.dispositions.service import DispositionService
        from copilot.dispositions.traces import TraceStore
        from copilot.work_orders.vectors import OrderVectors

        self._checkpoints = open_checkpoints(checkpoint_url(self.settings))
        engine = self.orders.engine  # type: ignore[attr-defined]
        return DispositionService(
            self.router,
            self.answers,
            self.kb,
            self.orders,
            OrderVectors(engine, self.kb.embedder.name),
            TraceStore(engine),
            self._checkpoints.saver,
            drafter_factory=self._drafter_factory(),
        )

    def warm_up(self) -> None:
        """Build what event workers use before their threads start (no first-use races)."""
        _ = self.dispositions

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
        self,
        text: str,
        reporter: str,
        idempotency_key: str,
        reporter_grid: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Disposition:
        """Route → draft → a work order waiting for approval (the same order on a retry).

        A message that needs no order (a consultation answered directly, praise, noise)
        gets its route and no order.
        """
        return self.dispositions.submit(text, reporter, idempotency_key, reporter_grid, attachments)

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
        if self._kb is not None:
            self._kb.close()
        if self._checkpoints is not None:
            self._checkpoints.close()
        if self._orders is not None:
            self._orders.close()


def build_services(
    settings: Settings,
    llm: LLMBackend | None = None,
    with_llm: bool = True,
    chat_model: Any = None,
    *,
    lazy: bool = False,
) -> Services:
    """Wire the implementations the settings choose. ``llm`` overrides the configured backend;
    ``chat_model`` (a LangChain chat model) drafts dispositions instead of it.

    The knowledge base, hierarchy, indicators, LLM backend and answer engine are built now,
    so that settings which cannot work fail here; ``lazy`` builds each on first use instead.
    """
    services = Services(
        settings, _llm=llm, _llm_ready=llm is not None or not with_llm, chat_model=chat_model
    )
    if not lazy:
        try:
            _ = services.answers  # and with it everything it stands on
        except BaseException:
            services.close()
            raise
    return services


def open_services(
    settings: Settings | None = None, *, with_llm: bool = True
) -> tuple[Services, str | None]:
    """Services for a face that answers people, and a warning when the LLM is off.

    The knowledge base is opened now (``ConfigurationError`` for settings that cannot
    work, before any LLM problem); a broken LLM setting degrades to extractive answers,
    and the warning says why. Everything else is built on first use.
    """
    from copilot.llm.base import LLMError

    services = build_services(settings or Settings(), with_llm=with_llm, lazy=True)
    warning = None
    try:
        _ = services.kb
        _ = services.llm
    except LLMError as exc:
        services._llm, services._llm_ready = None, True
        warning = f"大模型未启用 LLM disabled ({exc}); 使用抽取式回答 using extractive answers"
    except BaseException:
        services.close()
        raise
    return services, warning


def event_key(text: str, reporter_grid: str | None = None) -> str:
    """The idempotency key of a message submitted without one: the same text from the same
    grid is the same event, and files the same order."""
    return "cli-" + hashlib.sha256(f"{reporter_grid}|{text}".encode()).hexdigest()[:32]


def batch_event_key(source: str, row_id: object) -> str | None:
    """A batch record's key: its file and id, so that running a batch again files nothing
    twice; a record without an id is keyed by its text (``event_key``)."""
    return f"{source}:{row_id}" if row_id is not None else None
