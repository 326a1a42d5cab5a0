"""The work-order state machine: states and the table of legal transitions.

Happy path: draft → pending_approval → dispatched → accepted → in_progress → resolved → closed.
The full table (``TRANSITIONS`` below is the single source of truth)::

    draft             → pending_approval, cancelled
    pending_approval  → dispatched, returned, cancelled
    returned          → pending_approval, cancelled
    dispatched        → accepted, returned, escalated
    accepted          → in_progress, escalated
    in_progress       → resolved, escalated
    escalated         → dispatched, escalated
    resolved          → closed, reopened
    reopened          → in_progress, escalated
    closed, cancelled → (final)

Semantics of the side states (what a caller of ``transition`` can rely on):

- **returned (已退回)**: the order is sent back for rework. Two ways in: the approver
  rejects a drafted disposition (pending_approval → returned), or the receiving unit
  refuses a dispatch as not its responsibility, 退单 (dispatched → returned). The drafter
  edits it and submits again (returned → pending_approval), or withdraws it
  (returned → cancelled). Returning a dispatched order stops its SLA clock, because no
  unit is accountable for it until it is dispatched again; the approver guards against
  units returning orders just to reset the clock.
- **escalated (已升级)**: the order has moved one tier up (网格→村社→镇街→区县→市级,
  ``copilot.vocabulary.tier_up``),
  either by the SLA sweeper when the deadline plus the catalogue's grace has passed, or
  manually by an official. Every entry into ``escalated`` moves the tier; an order at 市级
  stays at 市级 and is flagged ``supervised`` (市级督办). The higher tier re-dispatches it
  (escalated → dispatched, optionally to a new owner unit). An escalated order nobody
  re-dispatches before its new deadline keeps climbing (escalated → escalated), the one
  self-loop in the table.
- **reopened (已重办)**: verification of a resolved order failed (the citizen is not
  satisfied, the problem came back). It returns to work (reopened → in_progress) with a
  fresh SLA window, and escalates like any open order if nobody picks it up.
- **cancelled (已撤销)**: a duplicate report, a non-event or a withdrawn request leaves the
  queue. It is allowed only before any unit is accountable (draft, pending_approval,
  returned): afterwards an order must be finished or returned, and ``closed`` must keep
  meaning "handled", or the on-time and resolution figures would lie.
- **closed (已结案)** and **cancelled** are final: no transition leaves them.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    RETURNED = "returned"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def zh(self) -> str:
        return _LABELS[self]

    @property
    def label(self) -> str:
        """``已派单 dispatched``: the form used in every user-facing message."""
        return f"{_LABELS[self]} {self.value}"


_LABELS: dict[State, str] = {
    State.DRAFT: "草稿",
    State.PENDING_APPROVAL: "待审批",
    State.RETURNED: "已退回",
    State.DISPATCHED: "已派单",
    State.ACCEPTED: "已签收",
    State.IN_PROGRESS: "办理中",
    State.ESCALATED: "已升级",
    State.RESOLVED: "已办结",
    State.REOPENED: "已重办",
    State.CLOSED: "已结案",
    State.CANCELLED: "已撤销",
}

S = State
TRANSITIONS: dict[State, frozenset[State]] = {
    S.DRAFT: frozenset({S.PENDING_APPROVAL, S.CANCELLED}),
    S.PENDING_APPROVAL: frozenset({S.DISPATCHED, S.RETURNED, S.CANCELLED}),
    S.RETURNED: frozenset({S.PENDING_APPROVAL, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.ACCEPTED, S.RETURNED, S.ESCALATED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.ESCALATED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.ESCALATED}),
    S.ESCALATED: frozenset({S.DISPATCHED, S.ESCALATED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.IN_PROGRESS, S.ESCALATED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# States in which a unit is accountable and the SLA clock runs: the sweeper looks only here.
OPEN_STATES: frozenset[State] = frozenset(
    {S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.ESCALATED, S.REOPENED}
)
FINAL_STATES: frozenset[State] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# A new order starts as a draft (agent output awaiting a human) or goes straight to approval.
INITIAL_STATES: frozenset[State] = frozenset({S.DRAFT, S.PENDING_APPROVAL})
# Content may be edited only while nobody is accountable for the order yet.
EDITABLE_STATES: frozenset[State] = frozenset({S.DRAFT, S.PENDING_APPROVAL, S.RETURNED})


def is_legal(from_state: State, to_state: State) -> bool:
    return to_state in TRANSITIONS[from_state]


def allowed_from(state: State) -> list[State]:
    """Legal next states in declaration order (stable for messages and UIs)."""
    return [s for s in State if s in TRANSITIONS[state]]
