"""Read-only tools of the disposition agent: policy, jurisdiction, responsibility, history.

Each is a thin wrapper over a service-layer operation with a pydantic argument schema;
none changes anything, so a model may call them before an official approves.
"""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from copilot.catalogue import Catalogue
from copilot.dispositions.draft import BasisQuote
from copilot.gazetteer import PlaceResolution
from copilot.work_orders.vectors import SimilarOrder

QUERY_CHARS = 500


class LookupOps(Protocol):
    catalogue: Catalogue

    def search_policy(self, query: str, k: int = 5) -> list[BasisQuote]: ...

    def locate(self, report_text: str, reporter_grid: str | None) -> PlaceResolution: ...

    def similar_orders(self, report_text: str, district_code: str | None) -> list[SimilarOrder]: ...


class SearchPolicyArgs(BaseModel):
    query: str = Field(
        min_length=1, max_length=QUERY_CHARS, description="检索内容，如“占道经营 处罚”"
    )
    k: int = Field(default=3, ge=1, le=8)


class LookupJurisdictionArgs(BaseModel):
    place: str = Field(min_length=1, max_length=QUERY_CHARS, description="地名或含地名的描述")
    reporter_grid: str | None = Field(default=None, max_length=32, description="上报网格编码")


class LookupResponsibilityArgs(BaseModel):
    event_type: str = Field(min_length=1, max_length=64, description="事件类型编码或名称")


class FindSimilarOrdersArgs(BaseModel):
    text: str = Field(min_length=1, max_length=QUERY_CHARS, description="事件描述")
    district_code: str | None = Field(default=None, max_length=24, description="区县编码")
    event_type: str | None = Field(default=None, max_length=64, description="事件类型编码")


def search_policy_tool(ops: LookupOps) -> StructuredTool:
    def run(query: str, k: int = 3) -> list[dict[str, Any]]:
        return [b.model_dump() for b in ops.search_policy(query, k)]

    return StructuredTool.from_function(
        func=run,
        name="search_policy",
        description="检索政策法规条文，返回标题、条号和原文摘录。Search regulations.",
        args_schema=SearchPolicyArgs,
    )


def lookup_jurisdiction_tool(ops: LookupOps) -> StructuredTool:
    def run(place: str, reporter_grid: str | None = None) -> dict[str, Any]:
        res = ops.locate(place, reporter_grid)
        return res.model_dump(mode="json", include={"best", "candidates", "reason"})

    return StructuredTool.from_function(
        func=run,
        name="lookup_jurisdiction",
        description="查询地名所属的区县、镇街、村社（属地）。Resolve a place to its divisions.",
        args_schema=LookupJurisdictionArgs,
    )


def lookup_responsibility_tool(ops: LookupOps) -> StructuredTool:
    def run(event_type: str) -> dict[str, Any]:
        cat = ops.catalogue
        entry = cat.by_id.get(event_type) or next(
            (e for e in cat.by_id.values() if e.name == event_type), None
        )
        if entry is None:
            raise ValueError(f"unknown event type: {event_type}")
        return entry.model_dump(
            mode="json",
            include={
                "id",
                "name",
                "board",
                "department",
                "default_tier",
                "cooperating",
                "deadline_hours",
                "legal_basis",
            },
        )

    return StructuredTool.from_function(
        func=run,
        name="lookup_responsibility",
        description="查询事件类型的权责清单：主责部门、处置层级、协同单位、时限、法律依据。",
        args_schema=LookupResponsibilityArgs,
    )


def find_similar_orders_tool(ops: LookupOps) -> StructuredTool:
    def run(
        text: str, district_code: str | None = None, event_type: str | None = None
    ) -> list[dict[str, Any]]:
        return [s.model_dump() for s in ops.similar_orders(text, district_code, event_type)]

    return StructuredTool.from_function(
        func=run,
        name="find_similar_orders",
        description="查找相似的历史工单（按语义相似度）。Find similar past work orders.",
        args_schema=FindSimilarOrdersArgs,
    )
