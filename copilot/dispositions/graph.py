"""The disposition graph: a reported event → a draft an official approves → a work order.

intake → classify → locate → responsibility → similar_orders → draft → propose →
approval (``interrupt``) → dispatch | return_order | reject_order.

The graph's edges are the safety rule: the nodes that change an order's state
(``POST_APPROVAL_NODES``) are reachable only through ``approval``, and they act only on
the :class:`Approval` that node took from the official. ``propose`` records the proposal
as an order in ``pending_approval``: nobody owns it and no clock runs until approval.
A model, when configured, only writes the draft, with read-only tools (see ``llm_drafter``).

State holds JSON values only, so any LangGraph checkpointer can persist it and a waiting
disposition resumes after a restart by its thread id.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from copilot.dispositions.adapter import needs_order
from copilot.dispositions.approval import Approval
from copilot.dispositions.draft import BasisQuote, Draft
from copilot.events.classifier import Classification
from copilot.events.router import RouteDecision
from copilot.events.untrusted import strip_instructions
from copilot.gazetteer import PlaceResolution
from copilot.work_orders.schemas import WorkOrderOut
from copilot.work_orders.states import State
from copilot.work_orders.vectors import SimilarOrder

PRE_APPROVAL_NODES = (
    "intake",
    "classify",
    "locate",
    "responsibility",
    "similar_orders",
    "draft",
    "propose",
)
POST_APPROVAL_NODES = ("dispatch", "return_order", "reject_order")
# Which tools each node may call: the edge test checks that state-changing ones sit only
# behind ``approval``.
NODE_TOOLS: dict[str, frozenset[str]] = {
    "classify": frozenset({"propose_route"}),
    "locate": frozenset({"lookup_jurisdiction"}),
    "responsibility": frozenset({"lookup_responsibility", "search_policy", "propose_route"}),
    "similar_orders": frozenset({"find_similar_orders"}),
    "draft": frozenset(
        {
            "draft_disposition",
            "search_policy",
            "lookup_jurisdiction",
            "lookup_responsibility",
            "query_indicator",
            "find_similar_orders",
        }
    ),
    "dispatch": frozenset({"create_work_order", "dispatch"}),
    "return_order": frozenset({"transition"}),
    "reject_order": frozenset({"transition"}),
}
STATE_CHANGING_TOOLS = frozenset({"create_work_order", "dispatch", "transition"})
DECISION_NODES = {"approve": "dispatch", "return": "return_order", "reject": "reject_order"}


class DispositionState(TypedDict, total=False):
    thread_id: str
    trace_id: str
    idempotency_key: str
    text: str
    reporter: str
    reporter_grid: str | None
    attachments: list[dict[str, Any]]
    report_text: str
    removed: int
    classification: dict[str, Any]
    place: dict[str, Any] | None
    decision: dict[str, Any]
    basis: list[dict[str, Any]]
    similar: list[dict[str, Any]]
    draft: dict[str, Any]
    drafted_by: str
    order: dict[str, Any] | None
    approval: dict[str, Any] | None
    outcome: str
    fallbacks: Annotated[list[str], operator.add]
    steps: Annotated[list[dict[str, Any]], operator.add]


class DraftAttempt(Protocol):
    """What a model drafter returns: a draft or the reason it gave none, and its calls."""

    draft: Draft | None
    reason: str
    tool_calls: list[dict[str, Any]]
    model: str


class Drafter(Protocol):
    def draft(
        self,
        report_text: str,
        decision: RouteDecision,
        basis: list[BasisQuote],
        similar: list[SimilarOrder],
        fallback: Draft,
    ) -> DraftAttempt: ...


class DispositionOps(Protocol):
    """The service-layer operations the graph's nodes run (``DispositionService``)."""

    def classify(self, report_text: str) -> Classification: ...

    def locate(self, report_text: str, reporter_grid: str | None) -> PlaceResolution: ...

    def decide_route(
        self,
        key: str,
        cls: Classification,
        place: PlaceResolution | None,
        reporter_grid: str | None,
        removed: int,
    ) -> RouteDecision: ...

    def legal_basis(self, report_text: str, decision: RouteDecision) -> list[BasisQuote]: ...

    def similar_orders(
        self, report_text: str, district_code: str | None, event_type: str | None = None
    ) -> list[SimilarOrder]: ...

    def template_draft(
        self, report_text: str, decision: RouteDecision, basis: list[BasisQuote]
    ) -> Draft: ...

    def record_proposal(self, state: DispositionState) -> WorkOrderOut: ...

    def dispatch(self, approval: Approval, order_id: int) -> WorkOrderOut: ...

    def transition(self, approval: Approval, order_id: int, to_state: State) -> WorkOrderOut: ...


class StepRecorder:
    """Tool calls and a note of the node now running, for its trace step."""

    def __init__(self) -> None:
        self.tool_calls: list[dict[str, Any]] = []
        self.note = ""

    def call(self, name: str, args: dict[str, Any], ok: bool = True, summary: str = "") -> None:
        self.tool_calls.append({"name": name, "args": args, "ok": ok, "summary": summary[:300]})


NodeFn = Callable[[DispositionState, StepRecorder], dict[str, Any]]


def _traced(name: str, fn: NodeFn) -> Callable[[DispositionState], dict[str, Any]]:
    def run(state: DispositionState) -> dict[str, Any]:
        rec = StepRecorder()
        started = datetime.now(UTC).isoformat(timespec="milliseconds")
        t0 = time.perf_counter()
        update = fn(state, rec)
        step = {
            "node": name,
            "started_at": started,
            "ms": round((time.perf_counter() - t0) * 1000, 2),
            "tool_calls": rec.tool_calls,
            "note": rec.note,
        }
        return {**update, "steps": [step]}

    run.__name__ = name
    return run


def _decision(state: DispositionState) -> RouteDecision:
    return RouteDecision.model_validate(state["decision"])


def _order_id(state: DispositionState) -> int:
    order = state.get("order")
    if not order:
        raise RuntimeError("no proposed order in this disposition")
    return int(order["id"])


class DispositionNodes:
    """The node functions, bound to the operations and an optional model drafter."""

    def __init__(self, ops: DispositionOps, drafter: Drafter | None = None) -> None:
        self.ops = ops
        self.drafter = drafter

    def intake(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        report = strip_instructions(state["text"])
        if report.removed:
            rec.note = f"{len(report.removed)} instruction-like segment(s) set aside as data"
        return {"report_text": report.text, "removed": len(report.removed)}

    def classify(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        cls = self.ops.classify(state["report_text"])
        rec.note = f"{cls.message_type} {cls.event_type or '-'}"
        return {"classification": cls.model_dump(mode="json")}

    def locate(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        cls = Classification.model_validate(state["classification"])
        if not cls.is_event:
            rec.note = "not an event: no place needed"
            return {"place": None}
        res = self.ops.locate(state["report_text"], state.get("reporter_grid"))
        rec.call("lookup_jurisdiction", {"reporter_grid": state.get("reporter_grid")})
        return {"place": res.model_dump(mode="json")}

    def responsibility(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        cls = Classification.model_validate(state["classification"])
        place = state.get("place")
        decision = self.ops.decide_route(
            state["idempotency_key"],
            cls,
            PlaceResolution.model_validate(place) if place else None,
            state.get("reporter_grid"),
            state.get("removed", 0),
        )
        rec.call("lookup_responsibility", {"event_type": decision.event_type})
        basis: list[BasisQuote] = []
        if needs_order(decision):
            basis = self.ops.legal_basis(state["report_text"], decision)
            rec.call("search_policy", {"event_type": decision.event_type}, summary=_cites(basis))
        rec.note = f"{decision.tier or '-'} {decision.owner_unit or decision.department or '-'}"
        return {
            "decision": decision.model_dump(mode="json"),
            "basis": [b.model_dump() for b in basis],
        }

    def similar_orders(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        decision = _decision(state)
        district = (decision.place_code or "")[:6] or None
        similar = self.ops.similar_orders(state["report_text"], district, decision.event_type)
        rec.call(
            "find_similar_orders",
            {"district_code": district, "event_type": decision.event_type},
            summary="、".join(s.order_no for s in similar),
        )
        return {"similar": [s.model_dump() for s in similar]}

    def draft(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        decision = _decision(state)
        basis = [BasisQuote.model_validate(b) for b in state.get("basis", [])]
        template = self.ops.template_draft(state["report_text"], decision, basis)
        if self.drafter is None:
            rec.note = "template"
            return {"draft": template.model_dump(), "drafted_by": "template"}
        similar = [SimilarOrder.model_validate(s) for s in state.get("similar", [])]
        attempt = self.drafter.draft(state["report_text"], decision, basis, similar, template)
        rec.tool_calls.extend(attempt.tool_calls)
        if attempt.draft is None:
            rec.note = f"fell back to the template: {attempt.reason}"
            return {
                "draft": template.model_dump(),
                "drafted_by": "template",
                "fallbacks": [f"draft: {attempt.reason}"],
            }
        rec.note = attempt.model
        return {"draft": attempt.draft.model_dump(), "drafted_by": attempt.model}

    def propose(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        order = self.ops.record_proposal(state)
        rec.note = f"{order.order_no} {order.state}"
        return {"order": order.model_dump(mode="json"), "outcome": State.PENDING_APPROVAL.value}

    def approval(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        order = state.get("order") or {}
        value = interrupt({"order_no": order.get("order_no"), "thread_id": state.get("thread_id")})
        approval = Approval.model_validate(value)
        rec.note = f"{approval.action} by {approval.actor}"
        return {"approval": approval.model_dump(mode="json")}

    def dispatch(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        approval = Approval.model_validate(state["approval"])
        order = self.ops.dispatch(approval, _order_id(state))
        rec.call("dispatch", {"order_no": order.order_no, "actor": approval.actor})
        return {"order": order.model_dump(mode="json"), "outcome": order.state.value}

    def return_order(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        return self._transition(state, rec, State.RETURNED)

    def reject_order(self, state: DispositionState, rec: StepRecorder) -> dict[str, Any]:
        return self._transition(state, rec, State.CANCELLED)

    def _transition(self, state: DispositionState, rec: StepRecorder, to: State) -> dict[str, Any]:
        approval = Approval.model_validate(state["approval"])
        order = self.ops.transition(approval, _order_id(state), to)
        rec.call("transition", {"order_no": order.order_no, "to_state": to.value})
        return {"order": order.model_dump(mode="json"), "outcome": order.state.value}


def _cites(basis: list[BasisQuote]) -> str:
    return "；".join(f"《{b.doc_title}》{b.article or ''}" for b in basis)


def _after_responsibility(state: DispositionState) -> str:
    return "similar_orders" if needs_order(_decision(state)) else END


def _after_approval(state: DispositionState) -> str:
    return DECISION_NODES[Approval.model_validate(state["approval"]).action]


def build_graph(ops: DispositionOps, drafter: Drafter | None = None) -> StateGraph:
    """The uncompiled graph; compile it with a checkpointer (``interrupt`` needs one)."""
    nodes = DispositionNodes(ops, drafter)
    g = StateGraph(DispositionState)
    for name in (*PRE_APPROVAL_NODES, "approval", *POST_APPROVAL_NODES):
        g.add_node(name, _traced(name, getattr(nodes, name)))
    g.add_edge(START, "intake")
    g.add_edge("intake", "classify")
    g.add_edge("classify", "locate")
    g.add_edge("locate", "responsibility")
    g.add_conditional_edges("responsibility", _after_responsibility, ["similar_orders", END])
    g.add_edge("similar_orders", "draft")
    g.add_edge("draft", "propose")
    g.add_edge("propose", "approval")
    g.add_conditional_edges("approval", _after_approval, list(POST_APPROVAL_NODES))
    for name in POST_APPROVAL_NODES:
        g.add_edge(name, END)
    return g
