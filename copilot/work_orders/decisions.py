"""An official's decisions on a pending order and the state each leads to."""

from __future__ import annotations

from typing import Literal

from copilot.work_orders.states import State

Decision = Literal["approve", "return", "reject"]
# Approving dispatches (the owner's clock starts), returning sends the draft back for
# rework, rejecting cancels the order.
DECISION_STATES: dict[Decision, State] = {
    "approve": State.DISPATCHED,
    "return": State.RETURNED,
    "reject": State.CANCELLED,
}
