"""/v1/work-orders: the jurisdiction's orders, detail with audit trail, transitions, export."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import ServicesDep, UserDep, visible_order
from copilot.vocabulary import Board, Tier
from copilot.work_orders.export import XLSX
from copilot.work_orders.schemas import AuditOut, OrderChanges, OrderFilters, WorkOrderOut
from copilot.work_orders.states import State

router = APIRouter(prefix="/v1/work-orders", tags=["work orders"])


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

    def filters(self, limit: int = 50, offset: int = 0) -> OrderFilters:
        asked = {**self.asked, "limit": limit, "offset": offset}
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
    return await run_in_threadpool(services.orders_for, user, query.filters(limit, offset))


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
    file = await run_in_threadpool(services.export_orders_for, user, query.filters(), format)
    return Response(
        file.content,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


@router.get("/{ref}", response_model=OrderDetail, summary="One order with its audit trail")
async def get_order(ref: str, services: ServicesDep, user: UserDep) -> OrderDetail:
    order = await visible_order(services, user, ref)
    audit = await run_in_threadpool(services.audit, order.id)
    return OrderDetail(order=order, audit=audit)


@router.post("/{ref}/transitions", response_model=WorkOrderOut, summary="Move an order on")
async def transition(
    ref: str, body: TransitionIn, services: ServicesDep, user: UserDep
) -> WorkOrderOut:
    return await run_in_threadpool(
        services.transition_for,
        user,
        ref,
        body.to_state,
        body.expected_version,
        body.comment,
        body.changes,
    )
