"""Work orders for tests: a submission factory and walks to any state of the machine.

Shared by the work-order store contract (tests/contracts/test_work_order_store.py) and the
SQL implementation's own tests (tests/test_work_orders.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from copilot.work_orders import NewWorkOrder, State, WorkOrderOut
from copilot.work_orders.store import WorkOrderStore

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Chongqing
HOURS = {"紧急": 1.0, "较急": 8.0, "一般": 24.0}
GRACE = 4.0
S = State

# The shortest walk from a new draft to each state: how the tests reach a starting point.
PATH: dict[State, list[State]] = {
    S.DRAFT: [],
    S.PENDING_APPROVAL: [S.PENDING_APPROVAL],
    S.RETURNED: [S.PENDING_APPROVAL, S.RETURNED],
    S.CANCELLED: [S.CANCELLED],
    S.DISPATCHED: [S.PENDING_APPROVAL, S.DISPATCHED],
    S.ACCEPTED: [S.PENDING_APPROVAL, S.DISPATCHED, S.ACCEPTED],
    S.ESCALATED: [S.PENDING_APPROVAL, S.DISPATCHED, S.ESCALATED],
    S.IN_PROGRESS: [S.PENDING_APPROVAL, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS],
    S.RESOLVED: [S.PENDING_APPROVAL, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED],
    S.CLOSED: [S.PENDING_APPROVAL, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED],
    S.REOPENED: [
        S.PENDING_APPROVAL,
        S.DISPATCHED,
        S.ACCEPTED,
        S.IN_PROGRESS,
        S.RESOLVED,
        S.REOPENED,
    ],
}


def new_order(**over: Any) -> NewWorkOrder:
    fields: dict[str, Any] = {
        "idempotency_key": f"msg-{uuid.uuid4().hex}",
        "title": "井盖缺失",
        "text": "江北区观音桥步行街东侧有个井盖莫得了，井口敞起，晚上很容易掉下去。",
        "board": "设施运行",
        "event_type": "FAC-MANHOLE-COVER",
        "urgency": "较急",
        "tier": "网格",
        "department": "城市管理局",
        "owner_unit": "观音桥社区第3网格",
        "district_code": "500105",
        "town_code": "500105005",
        "village_code": "500105005001",
        "grid_code": "500105005001-03",
        "cooperating_units": ["观音桥街道办事处"],
        "deadline_hours": HOURS,
        "grace_hours": GRACE,
    }
    fields.update(over)
    return NewWorkOrder(**fields)


def walk(store: WorkOrderStore, order: WorkOrderOut, path: list[State], now: datetime):
    for state in path:
        order = store.transition(order.id, state, "tester", order.version, now=now)
    return order


def order_in(store: WorkOrderStore, state: State, now: datetime = T0, **over: Any):
    return walk(store, store.create(new_order(**over), "grid:张三", now=now), PATH[state], now)
