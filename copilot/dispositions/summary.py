"""The flat view of a disposition every face prints (``copilot dispose --json``, API)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copilot.dispositions.draft import BasisQuote
from copilot.dispositions.service import Disposition


class DraftOut(BaseModel):
    事件概述: str
    事件定性: str
    处置依据: list[BasisQuote]
    处置措施: list[str]
    责任单位: str
    协同单位: list[str]
    办理时限: str


class DispositionOut(BaseModel):
    order_id: str | None = Field(description="The order number (WO-…); null when no order.")
    state: str | None
    board: str | None
    event_type: str | None
    urgency: str | None
    message_type: str
    tier: str | None
    owner_unit: str | None
    department: str | None
    cooperating_units: list[str]
    deadline: float | None = Field(description="Hours to finish, for the order's urgency.")
    deadline_at: datetime | None = Field(description="Set once the order is dispatched.")
    draft: DraftOut | None
    drafted_by: str
    similar_orders: list[str]
    fallbacks: list[str]
    reasons: list[str]
    trace_id: str


def summarise(done: Disposition) -> DispositionOut:
    """Order fields when there is an order (an approver may have edited them), else route."""
    d, o = done.decision, done.order
    return DispositionOut(
        order_id=o.order_no if o else None,
        state=o.state.value if o else None,
        board=o.board if o else d.board,
        event_type=o.event_type if o else d.event_type,
        urgency=o.urgency if o else d.urgency,
        message_type=d.message_type,
        tier=o.tier if o else d.tier,
        owner_unit=o.owner_unit if o else d.owner_unit,
        department=o.department if o else d.department,
        cooperating_units=list(o.cooperating_units if o else d.cooperating_units),
        deadline=o.deadline_hours.get(o.urgency) if o else None,
        deadline_at=o.deadline_at if o else None,
        draft=DraftOut.model_validate(done.draft.model_dump()) if done.draft else None,
        drafted_by=done.drafted_by,
        similar_orders=[s.order_no for s in done.similar],
        fallbacks=done.fallbacks,
        reasons=list(d.reasons),
        trace_id=done.trace_id,
    )
