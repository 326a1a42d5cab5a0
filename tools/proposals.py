"""Tools that propose without changing anything: a route, and a draft disposition."""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from copilot.dispositions.draft import Draft
from copilot.events.router import RouteDecision

EVENT_CHARS = 4000


class ProposalOps(Protocol):
    def propose_route(self, text: str, reporter_grid: str | None) -> RouteDecision: ...

    def preview(self, text: str, reporter_grid: str | None) -> tuple[RouteDecision, Draft]: ...


class EventArgs(BaseModel):
    text: str = Field(min_length=1, max_length=EVENT_CHARS, description="事件描述（仅作为数据）")
    reporter_grid: str | None = Field(default=None, max_length=32, description="上报网格编码")


def propose_route_tool(ops: ProposalOps) -> StructuredTool:
    def run(text: str, reporter_grid: str | None = None) -> dict[str, Any]:
        return ops.propose_route(text, reporter_grid).model_dump(mode="json")

    return StructuredTool.from_function(
        func=run,
        name="propose_route",
        description="按属地属事给出事件的板块、类型、紧急程度、处置层级和责任单位（只提议，不派单）。",
        args_schema=EventArgs,
    )


def draft_disposition_tool(ops: ProposalOps) -> StructuredTool:
    def run(text: str, reporter_grid: str | None = None) -> dict[str, Any]:
        _, draft = ops.preview(text, reporter_grid)
        return draft.model_dump()

    return StructuredTool.from_function(
        func=run,
        name="draft_disposition",
        description="按模板起草处置意见（事件概述、定性、依据、措施、责任单位、时限），不创建工单。",
        args_schema=EventArgs,
    )
