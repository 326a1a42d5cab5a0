"""What a signed-in user may do to an order: the moves every face offers and enforces."""

from __future__ import annotations

from copilot.users.scope import may_change, may_decide
from copilot.users.store import UserOut
from copilot.work_orders.schemas import WorkOrderOut
from copilot.work_orders.states import TRANSITIONS, State

# A pending order's moves belong to the approval (the disposition run waits for it).
DECISIONS: dict[str, State] = {
    "approve": State.DISPATCHED,
    "return": State.RETURNED,
    "reject": State.CANCELLED,
}


class NotAllowed(Exception):
    """The user's role may not do this (the order itself is within the jurisdiction)."""


def allowed_transitions(user: UserOut, order: WorkOrderOut) -> list[State]:
    """Plain transitions the user may make now (decisions on pending orders excluded)."""
    if not may_change(user) or order.state is State.PENDING_APPROVAL:
        return []
    return sorted(TRANSITIONS.get(order.state, ()), key=list(State).index)


def allowed_decisions(user: UserOut, order: WorkOrderOut) -> list[str]:
    """approve / return / reject, when the order waits for a decision this user may take."""
    if order.state is not State.PENDING_APPROVAL or not may_decide(user):
        return []
    return list(DECISIONS)


def check_transition(user: UserOut, order: WorkOrderOut, to_state: State) -> None:
    if not may_change(user):
        raise NotAllowed("read-only role")
    if order.state is State.PENDING_APPROVAL and to_state in DECISIONS.values():
        raise NotAllowed("decide pending orders through the approval")


def check_decision(user: UserOut) -> None:
    if not may_decide(user):
        raise NotAllowed(f"role {user.role} cannot decide")
