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


class ReadOnlyRole(NotAllowed):
    def __init__(self) -> None:
        super().__init__("evaluators are read-only")


class NotAnApprover(NotAllowed):
    def __init__(self, user: UserOut) -> None:
        super().__init__(f"role {user.role} cannot decide")


class UseApproval(Exception):
    """A plain transition asked of a pending order: its decision goes through the approval."""

    def __init__(self) -> None:
        super().__init__(
            "decide pending orders through /v1/dispositions/{order}/approve|return|reject"
        )


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


def check_change(user: UserOut) -> None:
    if not may_change(user):
        raise ReadOnlyRole


def check_transition(order: WorkOrderOut, to_state: State) -> None:
    if order.state is State.PENDING_APPROVAL and to_state in DECISIONS.values():
        raise UseApproval


def check_decision(user: UserOut) -> None:
    if not may_decide(user):
        raise NotAnApprover(user)
