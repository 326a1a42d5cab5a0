"""/v1/events (acknowledged durably, worked in the background) and /v1/dispositions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import ServicesDep, UserDep
from copilot.api.errors import not_found
from copilot.dispositions.approval import Action, DraftEdits
from copilot.dispositions.inbox import EventIn, InboxOut
from copilot.users.scope import sees_everything
from copilot.work_orders.schemas import OrderChanges, WorkOrderOut

router = APIRouter(prefix="/v1", tags=["events"])
MAX_WAIT_S = 30.0


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=2000, examples=["同意，请两路街道处置"])
    changes: OrderChanges | None = Field(default=None, description="Edit-and-approve: fields.")
    draft: DraftEdits | None = Field(default=None, description="Edit-and-approve: sections.")


@router.post(
    "/events",
    response_model=InboxOut,
    status_code=202,
    summary="Submit an event: stored at once, routed and drafted by a worker",
    responses={200: {"model": InboxOut, "description": "With ?wait=true: finished in time."}},
)
async def submit_event(
    body: EventIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    user: UserDep,
    wait: Annotated[bool, Query(description="Wait for the result (interactive callers).")] = False,
    timeout: Annotated[float, Query(gt=0, le=MAX_WAIT_S)] = 15.0,
) -> InboxOut:
    stored, new = await run_in_threadpool(services.enqueue_for, user, body)
    workers = request.app.state.workers
    if new and workers is not None:
        workers.notify()
    response.headers["Location"] = f"/v1/events/{stored.id}"
    if wait and workers is not None and stored.status not in ("done", "failed"):
        stored = await run_in_threadpool(workers.wait_for, stored.id, timeout) or stored
    if stored.status in ("done", "failed"):
        response.status_code = 200
    return stored


@router.get("/events/{event_id}", response_model=InboxOut, summary="An event's status and result")
async def get_event(event_id: int, services: ServicesDep, user: UserDep) -> InboxOut:
    found = await run_in_threadpool(services.inbox.get, event_id)
    # The reporter sees its own submissions; supervisors see them through the orders.
    if found is None or not (sees_everything(user) or found.reporter == user.name):
        raise not_found("event")
    return found


def _decide(action: Action):
    async def decide(
        order: str, body: DecisionIn, services: ServicesDep, user: UserDep
    ) -> WorkOrderOut:
        draft = body.draft.model_dump(exclude_none=True) if body.draft else None
        return await run_in_threadpool(
            services.decide_for, user, order, action, body.comment, body.changes, draft
        )

    return decide


for _action, _summary in (
    ("approve", "Approve (or edit and approve): the order is dispatched"),
    ("return", "Return the draft for rework, with a comment"),
    ("reject", "Reject: the order is cancelled"),
):
    router.add_api_route(
        f"/dispositions/{{order}}/{_action}",
        _decide(_action),
        methods=["POST"],
        response_model=WorkOrderOut,
        summary=_summary,
    )
