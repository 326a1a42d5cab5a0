"""/v1/ask (JSON or SSE), /v1/search, /v1/route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from copilot.answers.models import Answer
from copilot.api.deps import ServicesDep, UserDep
from copilot.events.router import RouteDecision
from copilot.input_limits import EVENT_CHARS, QUESTION_CHARS
from retrievers.models import Hit

router = APIRouter(prefix="/v1", tags=["knowledge"])


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    question: str = Field(
        min_length=1, max_length=QUESTION_CHARS, examples=["燃气公司上门安检不让进屋会被罚款吗"]
    )


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(
        min_length=1, max_length=EVENT_CHARS, examples=["渝北区两路街道空港大道有个井盖不见了"]
    )
    reporter_grid: str | None = Field(default=None, max_length=32, pattern=r"^\d+$")


def _sse(events: Iterator) -> Iterator[str]:
    for ev in events:
        yield f"event: {ev.type}\ndata: {ev.model_dump_json()}\n\n"


@router.post(
    "/ask",
    response_model=Answer,
    summary="Answer a policy or city-data question with citations",
    description="JSON by default; `Accept: text/event-stream` (or `?stream=true`) streams "
    "`delta` events and one `final` event carrying the whole answer.",
    responses={
        200: {
            "description": "The answer (JSON), or its stream (server-sent events).",
            "content": {
                "text/event-stream": {
                    # One server-sent event: its name, and an AnswerEvent as JSON text.
                    "schema": {
                        "type": "object",
                        "properties": {
                            "event": {"type": "string", "enum": ["delta", "final"]},
                            "data": {"type": "string"},
                        },
                        "required": ["data"],
                    }
                }
            },
        }
    },
)
async def ask(
    body: AskIn,
    request: Request,
    services: ServicesDep,
    _: UserDep,
    stream: Annotated[bool, Query(description="Stream as server-sent events.")] = False,
):
    wants_sse = stream or "text/event-stream" in request.headers.get("accept", "")
    if wants_sse:
        return StreamingResponse(
            _sse(services.ask_stream(body.question)), media_type="text/event-stream"
        )
    answer = await run_in_threadpool(services.ask, body.question)
    if answer.fallback_reason:
        request.app.state.metrics.fallback("answer")
    return answer


@router.get("/search", response_model=list[Hit], summary="Search the regulations")
async def search(
    services: ServicesDep,
    _: UserDep,
    q: Annotated[str, Query(min_length=1, max_length=QUESTION_CHARS, examples=["占道经营 罚款"])],
    top_k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[Hit]:
    return await run_in_threadpool(services.search, q, top_k)


@router.post("/route", response_model=RouteDecision, summary="Route an event (no order filed)")
async def route(body: RouteIn, services: ServicesDep, _: UserDep) -> RouteDecision:
    return await run_in_threadpool(services.route, body.text, body.reporter_grid, None, True)
