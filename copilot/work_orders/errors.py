"""Errors of the work-order store; every message is Chinese first, then English.

Faces (CLI, API, bots) show ``str(exc)`` as is, so each message names the order, what was
asked and what would have been allowed.
"""

from __future__ import annotations

from copilot.work_orders.states import State, allowed_from


class WorkOrderError(Exception):
    """Base class: anything the store refuses on purpose (as opposed to a database fault)."""


class OrderNotFound(WorkOrderError):
    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        super().__init__(f"工单不存在 work order not found: {ref}")


class IllegalTransition(WorkOrderError):
    def __init__(self, order_no: str, from_state: State, to_state: State) -> None:
        self.order_no, self.from_state, self.to_state = order_no, from_state, to_state
        allowed = allowed_from(from_state)
        options = "、".join(s.label for s in allowed) if allowed else "无 none (终态 final state)"
        super().__init__(
            f"非法状态转换 illegal transition: 工单 {order_no} 不能从「{from_state.label}」"
            f"转为「{to_state.label}」 (cannot go from {from_state.value} to {to_state.value}); "
            f"允许 allowed: {options}"
        )


class VersionConflict(WorkOrderError):
    def __init__(self, order_no: str, expected: int, actual: int | None) -> None:
        self.order_no, self.expected, self.actual = order_no, expected, actual
        now = f"当前版本 current version {actual}" if actual is not None else "已被并发修改"
        super().__init__(
            f"版本冲突 version conflict: 工单 {order_no} 已被他人修改 (expected version "
            f"{expected}, {now}); 请刷新后重试 reload the order and try again"
        )


class IdempotencyKeyReused(WorkOrderError):
    """The same idempotency key came back with a different submission: a client bug."""

    def __init__(self, key: str, order_no: str) -> None:
        self.key, self.order_no = key, order_no
        super().__init__(
            f"幂等键冲突 idempotency key reused: 键 {key!r} 已用于工单 {order_no}，但提交内容不同 "
            f"(the key was already used for {order_no} with a different payload)"
        )


class EditNotAllowed(WorkOrderError):
    def __init__(self, order_no: str, state: State) -> None:
        self.order_no, self.state = order_no, state
        super().__init__(
            f"不可修改 edit not allowed: 工单 {order_no} 处于「{state.label}」，只有草稿、待审批、"
            f"已退回的工单或派单时可以修改内容 (content can change only in draft, "
            f"pending_approval or returned, or when dispatching)"
        )
