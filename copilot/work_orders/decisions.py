"""An official's decision on a pending order, as one rule every face shares."""

from __future__ import annotations

from typing import Literal

from copilot.work_orders.schemas import WorkOrderOut
from copilot.work_orders.states import State
from copilot.work_orders.store import WorkOrderStore

Decision = Literal["approve", "return", "reject"]
# Approving dispatches (the owner's clock starts), returning sends the draft back for
# rework, rejecting cancels the order.
DECISION_STATES: dict[Decision, State] = {
    "approve": State.DISPATCHED,
    "return": State.RETURNED,
    "reject": State.CANCELLED,
}


def decide(
    store: WorkOrderStore, ref: int | str, action: Decision, actor: str, comment: str | None = None
) -> WorkOrderOut:
    """Apply ``action`` to the order with id or number ``ref`` (optimistic on its version)."""
    order = store.get(ref) if isinstance(ref, int) else store.get_by_no(ref)
    return store.transition(
        order.id, DECISION_STATES[action], actor, order.version, comment=comment
    )
