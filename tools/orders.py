"""State-changing tools: they act only with an official's :class:`Approval`.

The disposition graph calls them only in the nodes after its approval node; they are
never bound to a model (``ModelDrafter`` refuses them), and each checks the approval it
is given matches what it does.
"""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from copilot.dispositions.approval import Action, Approval
from copilot.work_orders.schemas import OrderChanges, WorkOrderOut
from copilot.work_orders.states import State
from tools.proposals import EventArgs


class OrderOps(Protocol):
    def submit(
        self, text: str, reporter: str, idempotency_key: str, reporter_grid: str | None = None
    ) -> Any: ...

    def decide(
        self,
        order_ref: int | str,
        action: Action,
        actor: str,
        comment: str | None = None,
        changes: OrderChanges | None = None,
        draft_edits: dict[str, Any] | None = None,
    ) -> WorkOrderOut: ...


class CreateWorkOrderArgs(EventArgs):
    idempotency_key: str = Field(min_length=1, max_length=128)
    approval: Approval


class DispatchArgs(BaseModel):
    order_no: str = Field(min_length=1, max_length=32)
    approval: Approval


class TransitionArgs(BaseModel):
    order_no: str = Field(min_length=1, max_length=32)
    to_state: State
    approval: Approval


class NotApproved(PermissionError):
    pass


def _require(approval: Approval, action: Action) -> None:
    if approval.action != action:
        raise NotApproved(f"this tool needs an approval with action '{action}'")


def create_work_order_tool(ops: OrderOps) -> StructuredTool:
    def run(
        text: str, idempotency_key: str, approval: Approval, reporter_grid: str | None = None
    ) -> dict[str, Any]:
        """An official files and approves an event in one go (the filing is the approval)."""
        _require(approval, "approve")
        done = ops.submit(text, approval.actor, idempotency_key, reporter_grid)
        if done.order is None:
            raise ValueError(f"不是需要派单的事件（{done.decision.message_type}）")
        order = ops.decide(done.order.id, "approve", approval.actor, approval.comment)
        return order.model_dump(mode="json")

    return StructuredTool.from_function(
        func=run,
        name="create_work_order",
        description="经审批后创建并派发工单。Create and dispatch an approved work order.",
        args_schema=CreateWorkOrderArgs,
    )


def dispatch_tool(ops: OrderOps) -> StructuredTool:
    def run(order_no: str, approval: Approval) -> dict[str, Any]:
        _require(approval, "approve")
        order = ops.decide(
            order_no,
            "approve",
            approval.actor,
            approval.comment,
            approval.changes,
            approval.draft_patch() or None,
        )
        return order.model_dump(mode="json")

    return StructuredTool.from_function(
        func=run,
        name="dispatch",
        description="审批通过后派发待审批工单。Dispatch a pending order after approval.",
        args_schema=DispatchArgs,
    )


ACTION_FOR_STATE: dict[State, Action] = {State.RETURNED: "return", State.CANCELLED: "reject"}


def transition_tool(ops: OrderOps) -> StructuredTool:
    def run(order_no: str, to_state: State, approval: Approval) -> dict[str, Any]:
        action = ACTION_FOR_STATE.get(State(to_state))
        if action is None:
            raise ValueError("a pending disposition can be returned or rejected; dispatch approves")
        _require(approval, action)
        return ops.decide(order_no, action, approval.actor, approval.comment).model_dump(
            mode="json"
        )

    return StructuredTool.from_function(
        func=run,
        name="transition",
        description="退回或驳回待审批工单。Return or reject a pending order.",
        args_schema=TransitionArgs,
    )
