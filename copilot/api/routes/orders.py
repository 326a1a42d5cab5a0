"""/v1/work-orders: the jurisdiction's orders, detail with audit trail, transitions, export."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import ServicesDep, UserDep, visible_order
from copilot.api.errors import ApiError
from copilot.users.scope import can_see_order, order_filters
from copilot.users.store import Role
from copilot.vocabulary import Board, Tier
from copilot.work_orders.schemas import AuditOut, OrderChanges, OrderFilters, WorkOrderOut
from copilot.work_orders.states import State

router = APIRouter(prefix="/v1/work-orders", tags=["work orders"])
EXPORT_LIMIT = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_COLUMNS = (
    "order_no",
    "title",
    "state",
    "board",
    "event_type",
    "urgency",
    "tier",
    "department",
    "owner_unit",
    "district_code",
    "town_code",
    "deadline_at",
    "escalation_level",
    "created_at",
)


class OrderDetail(BaseModel):
    order: WorkOrderOut
    audit: list[AuditOut]


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_state: State
    expected_version: int = Field(ge=1, description="The version the caller last read.")
    comment: str | None = Field(default=None, max_length=2000)
    changes: OrderChanges | None = None


TierQ = Annotated[Tier | None, Query(description="市级/区县/镇街/村社/网格")]
BoardQ = Annotated[Board | None, Query(description="六大板块之一")]
Code = Annotated[str | None, Query(max_length=24, pattern=r"^\d+$")]


class OrderQuery:
    """The filters a listing and an export share (query parameters)."""

    def __init__(
        self,
        tier: TierQ = None,
        district: Code = None,
        town: Code = None,
        board: BoardQ = None,
        state: Annotated[list[State] | None, Query()] = None,
        overdue: bool = False,
    ) -> None:
        self.asked = {
            "tier": tier,
            "district_code": district,
            "town_code": town,
            "board": board,
            "states": state,
            "overdue": overdue,
        }

    def filters(self, services: Any, user: Any, limit: int, offset: int) -> OrderFilters:
        """The filters confined to the user's jurisdiction."""
        asked = {**self.asked, "limit": limit, "offset": offset}
        for column, code in order_filters(user, services.hierarchy).items():
            # A filter outside the jurisdiction matches nothing rather than widening it.
            asked[column] = code if asked.get(column) in (None, code) else "-outside-"
        return OrderFilters.model_validate({k: v for k, v in asked.items() if v is not None})


OrderQueryDep = Annotated[OrderQuery, Depends()]


@router.get("", response_model=list[WorkOrderOut], summary="Orders in your jurisdiction")
async def list_orders(
    services: ServicesDep,
    user: UserDep,
    query: OrderQueryDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[WorkOrderOut]:
    f = query.filters(services, user, limit, offset)
    orders = await run_in_threadpool(services.list_orders, f)
    return [o for o in orders if can_see_order(user, o, services.hierarchy)]


@router.get(
    "/export",
    summary="Export your jurisdiction's orders as CSV or XLSX",
    response_class=Response,
    responses={
        200: {
            "description": "The orders as a file.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def export_orders(
    services: ServicesDep,
    user: UserDep,
    query: OrderQueryDep,
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    f = query.filters(services, user, EXPORT_LIMIT, 0)
    orders = [
        o
        for o in await run_in_threadpool(services.list_orders, f)
        if can_see_order(user, o, services.hierarchy)
    ]
    rows = [[_cell(getattr(o, c)) for c in EXPORT_COLUMNS] for o in orders]
    if format == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
        # A BOM so Excel opens the Chinese text as UTF-8.
        return Response(
            "\ufeff" + buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="work_orders.csv"'},
        )
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(list(EXPORT_COLUMNS))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="work_orders.xlsx"'},
    )


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value) if not isinstance(value, int | float) else value


@router.get("/{ref}", response_model=OrderDetail, summary="One order with its audit trail")
async def get_order(ref: str, services: ServicesDep, user: UserDep) -> OrderDetail:
    order = await visible_order(services, user, ref)
    audit = await run_in_threadpool(services.audit, order.id)
    return OrderDetail(order=order, audit=audit)


@router.post("/{ref}/transitions", response_model=WorkOrderOut, summary="Move an order on")
async def transition(
    ref: str, body: TransitionIn, services: ServicesDep, user: UserDep
) -> WorkOrderOut:
    if user.role is Role.EVALUATOR:
        raise ApiError(403, "forbidden", "评测账号只能查看", "evaluators are read-only")
    order = await visible_order(services, user, ref)
    if body.to_state in (State.DISPATCHED, State.RETURNED, State.CANCELLED) and (
        order.state is State.PENDING_APPROVAL
    ):
        raise ApiError(
            409,
            "use_dispositions",
            "待审批工单请通过审批接口处理",
            "decide pending orders through /v1/dispositions/{order}/approve|return|reject",
        )
    return await run_in_threadpool(
        services.transition,
        order.id,
        body.to_state,
        user.name,
        body.expected_version,
        body.comment,
        changes=body.changes,
    )
