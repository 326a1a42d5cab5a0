"""Disposition use cases: submit an event, decide on it, read its trace.

Runs the graph of ``graph.py`` with a persistent checkpointer. The thread id is derived
from the submission's idempotency key, so a retried submission finds its first run, and an
official's decision resumes the waiting run by the thread id stored on the order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from langgraph.types import Command
from pydantic import BaseModel, Field

from copilot.answers.engine import AnswerEngine
from copilot.answers.provisions import split_provisions
from copilot.catalogue import Catalogue
from copilot.dispositions.adapter import new_work_order
from copilot.dispositions.approval import Action, Approval
from copilot.dispositions.draft import BasisQuote, Draft, draft_disposition
from copilot.dispositions.graph import DispositionState, Drafter, build_graph
from copilot.dispositions.traces import Trace, TraceStore, new_trace_id
from copilot.events.classifier import Classification
from copilot.events.router import EventRouter, RouteDecision
from copilot.events.untrusted import strip_instructions
from copilot.gazetteer import PlaceResolution
from copilot.work_orders.decisions import DECISION_STATES
from copilot.work_orders.schemas import OrderChanges, WorkOrderOut
from copilot.work_orders.states import TRANSITIONS, State
from copilot.work_orders.store import WorkOrderStore, find_order
from copilot.work_orders.vectors import OrderVectors, SimilarOrder
from retrievers.retriever import Retriever

BASIS_FROM_RETRIEVAL = 2
MAX_BASIS = 3
SIMILAR_K = 3
# e5 cosines of short Chinese reports are high whatever they say (on the 208 typed
# development events: different-type pairs median 0.880, same-type pairs median 0.899), so
# candidates are first limited to the same district and event type, and only the closer
# half of same-type pairs (≥ 0.90) count; a retelling of one incident scores ≥ 0.93.
SIMILAR_MIN = 0.90
# States an approved order may already be in when an approval is replayed (after a crash
# between the store write and the checkpoint, or a second click).
APPROVED_STATES = frozenset(State) - {
    State.DRAFT,
    State.PENDING_APPROVAL,
    State.RETURNED,
    State.CANCELLED,
}


class Disposition(BaseModel):
    """What submitting an event gives back: its route, the draft and the pending order."""

    decision: RouteDecision
    order: WorkOrderOut | None
    draft: Draft | None = None
    drafted_by: str = "template"
    similar: list[SimilarOrder] = Field(default_factory=list)
    fallbacks: list[str] = Field(default_factory=list)
    trace_id: str
    thread_id: str


ACTION_ZH = {"approve": "批准", "return": "退回", "reject": "驳回"}


class NotPending(ValueError):
    """The order is not waiting for a decision (already decided, or no such disposition)."""


def thread_for(idempotency_key: str) -> str:
    return f"event:{idempotency_key}"


class DispositionService:
    """Implements the graph's operations over the router, retrieval and the stores."""

    def __init__(
        self,
        router: EventRouter,
        answers: AnswerEngine,
        kb: Retriever,
        orders: WorkOrderStore,
        vectors: OrderVectors,
        traces: TraceStore,
        checkpointer: Any,
        drafter_factory: Callable[[DispositionService], Drafter] | None = None,
    ) -> None:
        """``drafter_factory`` builds the model drafter with tools bound to this service."""
        self.router = router
        self.catalogue: Catalogue = router.catalogue
        self.answers = answers
        self.kb = kb
        self.orders = orders
        self.vectors = vectors
        self.traces = traces
        drafter = drafter_factory(self) if drafter_factory else None
        self.graph = build_graph(self, drafter).compile(checkpointer=checkpointer)
        # One run per thread at a time: a retry racing its first try waits, then replays.
        self._thread_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # -- use cases ----------------------------------------------------------------------

    def submit(
        self,
        text: str,
        reporter: str,
        idempotency_key: str,
        reporter_grid: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Disposition:
        """Route → draft → an order waiting for approval; a retry returns the first result."""
        thread_id = thread_for(idempotency_key)
        config = _config(thread_id)
        with self._lock(thread_id):
            snapshot = self.graph.get_state(config)
            if snapshot.values and snapshot.next and "approval" not in snapshot.next:
                # An earlier try died mid-run (the process, a database): finish it from its
                # last checkpoint; the store's idempotency key makes a repeated write a replay.
                self.graph.invoke(None, config)
                self._save_trace(config)
            elif not snapshot.values:
                state: DispositionState = {
                    "thread_id": thread_id,
                    "trace_id": new_trace_id(),
                    "idempotency_key": idempotency_key,
                    "text": text,
                    "reporter": reporter,
                    "reporter_grid": reporter_grid,
                    "attachments": list(attachments or []),
                    "fallbacks": [],
                    "steps": [],
                }
                self.graph.invoke(state, config)
                self._save_trace(config)
            return self._disposition(self.graph.get_state(config).values)

    def decide(
        self,
        order_ref: int | str,
        action: Action,
        actor: str,
        comment: str | None = None,
        changes: OrderChanges | None = None,
        draft_edits: dict[str, Any] | None = None,
    ) -> WorkOrderOut:
        """Approve (dispatch), edit-and-approve, return or reject a pending disposition.

        Deciding again the same way returns the order as it is (one dispatch however often
        "approve" is pressed); a different decision on a decided order is refused.
        """
        approval = Approval.model_validate(
            {
                "action": action,
                "actor": actor,
                "comment": comment,
                "changes": changes,
                "draft": draft_edits,
            }
        )
        order = find_order(self.orders, order_ref)
        thread_id = (order.details or {}).get("thread_id") or thread_for(order.idempotency_key)
        config = _config(thread_id)
        with self._lock(thread_id):
            snapshot = self.graph.get_state(config)
            if "approval" not in snapshot.next:
                return self._decided(find_order(self.orders, order.id), approval)
            self.graph.invoke(Command(resume=approval.model_dump(mode="json")), config)
            self._save_trace(config)
            values = self.graph.get_state(config).values
        return WorkOrderOut.model_validate(values["order"])

    def trace(self, trace_id: str) -> Trace:
        return self.traces.get(trace_id)

    def pending_threads(self, thread_id: str) -> bool:
        """Whether the thread waits for an official's decision."""
        return "approval" in self.graph.get_state(_config(thread_id)).next

    def propose_route(self, text: str, reporter_grid: str | None = None) -> RouteDecision:
        """The route for a report, without recording anything."""
        return self.router.route(text, reporter_grid)

    def preview(self, text: str, reporter_grid: str | None = None) -> tuple[RouteDecision, Draft]:
        """The route and the template draft, without recording anything."""
        decision = self.propose_route(text, reporter_grid)
        clean = strip_instructions(text).text
        return decision, self.template_draft(clean, decision, self.legal_basis(clean, decision))

    # -- graph operations (DispositionOps) ----------------------------------------------

    def classify(self, report_text: str) -> Classification:
        return self.router.classify(report_text)

    def locate(self, report_text: str, reporter_grid: str | None) -> PlaceResolution:
        return self.router.locate(report_text, reporter_grid)

    def decide_route(
        self,
        key: str,
        cls: Classification,
        place: PlaceResolution | None,
        reporter_grid: str | None,
        removed: int,
    ) -> RouteDecision:
        return self.router.decide(key, cls, place, reporter_grid, removed)

    def legal_basis(self, report_text: str, decision: RouteDecision) -> list[BasisQuote]:
        """The catalogue's articles for the type, else the reranker's confident picks."""
        basis = [
            BasisQuote(doc_title=ref.doc_title, article=ref.article, quote=quote)
            for ref in decision.legal_basis
            if (quote := self.quote_for(ref.doc_title, ref.article))
        ]
        if basis:
            return basis[:MAX_BASIS]
        return self.search_policy(report_text, BASIS_FROM_RETRIEVAL)

    def quote_for(self, doc_title: str, article: str | None) -> str | None:
        """The article's text, verbatim from the knowledge base; None if there is none."""
        doc_ids = [d.doc_id for d in self.kb.documents() if d.title == doc_title]
        text = self.kb.article_text(doc_ids[0], article) if doc_ids and article else ""
        return "".join(p.text for p in split_provisions(text)) or None

    def search_policy(self, query: str, k: int = 5) -> list[BasisQuote]:
        """Articles that answer ``query``, best first, each with its best verbatim quote."""
        _, ranked = self.answers.rank(query)
        return [
            BasisQuote(
                doc_title=s.candidate.doc_title, article=s.candidate.article, quote=s.quote.text
            )
            for s in ranked[:k]
            if s.score > 0
        ]

    def similar_orders(
        self, report_text: str, district_code: str | None, event_type: str | None = None
    ) -> list[SimilarOrder]:
        vector = self._embed(report_text)
        return self.vectors.nearest(
            vector, SIMILAR_K, district_code, SIMILAR_MIN, event_type=event_type
        )

    def template_draft(
        self, report_text: str, decision: RouteDecision, basis: list[BasisQuote]
    ) -> Draft:
        entry = self.catalogue.by_id.get(decision.event_type or "")
        hours = entry.deadline_hours.get(decision.urgency or "一般") if entry else None
        return draft_disposition(decision, report_text, basis, hours)

    def record_proposal(self, state: DispositionState) -> WorkOrderOut:
        decision = RouteDecision.model_validate(state["decision"])
        draft = Draft.model_validate(state["draft"])
        new = new_work_order(
            decision, state["text"], state["idempotency_key"], self.catalogue, draft
        )
        new.details.update(
            thread_id=state["thread_id"],
            trace_id=state["trace_id"],
            drafted_by=state.get("drafted_by", "template"),
            similar=[s["order_no"] for s in state.get("similar", [])],
            fallbacks=list(state.get("fallbacks", [])),
        )
        if state.get("attachments"):
            new.details["attachments"] = state["attachments"]
        order = self.orders.create(new, actor=state["reporter"])
        self.vectors.add(order.id, self._embed(state["report_text"]), order.district_code)
        return order

    def dispatch(self, approval: Approval, order_id: int) -> WorkOrderOut:
        order = self.orders.get(order_id)
        if order.state in APPROVED_STATES:  # replayed after a crash: already dispatched
            return order
        changes = approval.changes or OrderChanges()
        if patch := approval.draft_patch():
            details = dict(order.details or {})
            details["draft"] = {**details.get("draft", {}), **patch}
            details["edited_by"] = approval.actor
            changes = OrderChanges(**{**changes.given(), "details": details})
        return self.orders.transition(
            order.id,
            State.DISPATCHED,
            approval.actor,
            order.version,
            comment=approval.comment,
            changes=changes if changes.given() else None,
        )

    def transition(self, approval: Approval, order_id: int, to_state: State) -> WorkOrderOut:
        order = self.orders.get(order_id)
        if order.state is to_state:
            return order
        return self.orders.transition(
            order.id, to_state, approval.actor, order.version, comment=approval.comment
        )

    # -- helpers ------------------------------------------------------------------------

    def _embed(self, text: str):
        return self.kb.embedder.embed_queries([text])[0]

    def _decided(self, order: WorkOrderOut, approval: Approval) -> WorkOrderOut:
        """A decision on an order no run waits for: the same one again is a no-op."""
        target = DECISION_STATES[approval.action]
        same = (
            order.state in APPROVED_STATES if target is State.DISPATCHED else order.state is target
        )
        if same:
            return order
        if order.state is State.PENDING_APPROVAL:
            # An order made outside the graph (an import, an older version): decide directly.
            if target is State.DISPATCHED:
                return self.dispatch(approval, order.id)
            return self.transition(approval, order.id, target)
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[order.state])) or "none (final)"
        raise NotPending(
            f"工单{order.order_no}当前状态为{order.state.label}，不能再{ACTION_ZH[approval.action]}"
            f" (illegal decision; next states allowed: {allowed})"
        )

    def _disposition(self, values: dict[str, Any]) -> Disposition:
        order = values.get("order")
        draft = values.get("draft")
        return Disposition(
            decision=RouteDecision.model_validate(values["decision"]),
            order=WorkOrderOut.model_validate(order) if order else None,
            draft=Draft.model_validate(draft) if draft else None,
            drafted_by=values.get("drafted_by", "template"),
            similar=[SimilarOrder.model_validate(s) for s in values.get("similar", [])],
            fallbacks=list(values.get("fallbacks", [])),
            trace_id=values["trace_id"],
            thread_id=values["thread_id"],
        )

    def _save_trace(self, config: dict[str, Any]) -> None:
        values = self.graph.get_state(config).values
        self.traces.save(values["trace_id"], values["thread_id"], list(values.get("steps", [])))

    def _lock(self, thread_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._thread_locks.setdefault(thread_id, threading.Lock())


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}
