"""RouteDecision → NewWorkOrder: the domain rule for what a routed event becomes."""

from __future__ import annotations

from copilot.catalogue import Catalogue
from copilot.dispositions.draft import Draft
from copilot.events.router import RouteDecision
from copilot.work_orders.deadlines import sla_from_catalogue
from copilot.work_orders.schemas import NewWorkOrder
from copilot.work_orders.states import State

TITLE_CHARS = 40


# Complaints and suggestions become orders; consultations are answered directly (12345's
# 直接答复), praise and noise are logged. Messages of other types get a route, no order.
ORDER_MESSAGE_TYPES = frozenset({"投诉求助", "建议"})


def needs_order(decision: RouteDecision) -> bool:
    """Whether a routed message becomes a work order."""
    return bool(
        decision.is_event and decision.event_type and decision.message_type in ORDER_MESSAGE_TYPES
    )


class NotAnEvent(ValueError):
    """The message needs no work order (a consultation, praise, noise)."""


def new_work_order(
    decision: RouteDecision,
    text: str,
    idempotency_key: str,
    catalogue: Catalogue,
    draft: Draft,
) -> NewWorkOrder:
    """The pending order for a routed event: catalogue deadlines, route, draft attached."""
    if not needs_order(decision) or decision.event_type not in catalogue.by_id:
        raise NotAnEvent(f"不是需要派单的事件（{decision.message_type}）")
    entry = catalogue.by_id[decision.event_type]
    hours, grace = sla_from_catalogue(entry.model_dump())
    place = decision.town or decision.district or ""
    title = f"{place}{entry.name}".strip() or entry.name
    return NewWorkOrder(
        idempotency_key=idempotency_key,
        title=title[:TITLE_CHARS],
        text=text,
        board=entry.board,
        event_type=entry.id,
        urgency=decision.urgency or "一般",
        tier=decision.tier or entry.default_tier,
        department=decision.department or entry.department,
        owner_unit=decision.owner_unit,
        district_code=_code(decision.place_code, 6),
        town_code=_code(decision.place_code, 9),
        village_code=_code(decision.place_code, 12),
        grid_code=decision.grid,
        cooperating_units=list(decision.cooperating_units),
        details={
            "draft": draft.model_dump(),
            "reasons": list(decision.reasons),
            "message_type": decision.message_type,
            "legal_basis": [b.model_dump() for b in draft.处置依据],
        },
        deadline_hours=hours,
        grace_hours=grace,
        state=State.PENDING_APPROVAL,
    )


def _code(place_code: str | None, length: int) -> str | None:
    """The division code at one level (6 district, 9 town, 12 village digits) if known."""
    if not place_code or len(place_code) < length:
        return None
    return place_code[:length]
