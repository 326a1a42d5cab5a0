"""All agent tools by name; which may be given to a model, which only after approval."""

from __future__ import annotations

from langchain_core.tools import BaseTool, StructuredTool

from copilot.indicators.store import IndicatorStore
from tools.indicator import DESCRIPTION, NAME, QueryIndicatorInput, query_indicator
from tools.lookups import (
    find_similar_orders_tool,
    lookup_jurisdiction_tool,
    lookup_responsibility_tool,
    search_policy_tool,
)
from tools.orders import create_work_order_tool, dispatch_tool, transition_tool
from tools.proposals import draft_disposition_tool, propose_route_tool

# What a model may call while drafting: reads only.
MODEL_TOOLS = (
    "search_policy",
    "lookup_jurisdiction",
    "lookup_responsibility",
    "query_indicator",
    "find_similar_orders",
)


def query_indicator_tool(store: IndicatorStore) -> StructuredTool:
    def run(**args) -> dict | None:
        result = query_indicator(store, QueryIndicatorInput.model_validate(args))
        return None if result is None else result.model_dump(mode="json")

    return StructuredTool.from_function(
        func=run, name=NAME, description=DESCRIPTION, args_schema=QueryIndicatorInput
    )


def build_tools(dispositions, indicators: IndicatorStore) -> dict[str, BaseTool]:
    """Every tool, bound to the disposition service and the indicator store."""
    tools = [
        search_policy_tool(dispositions),
        lookup_jurisdiction_tool(dispositions),
        lookup_responsibility_tool(dispositions),
        query_indicator_tool(indicators),
        find_similar_orders_tool(dispositions),
        draft_disposition_tool(dispositions),
        propose_route_tool(dispositions),
        create_work_order_tool(dispositions),
        dispatch_tool(dispositions),
        transition_tool(dispositions),
    ]
    return {t.name: t for t in tools}


def model_tools(tools: dict[str, BaseTool]) -> list[BaseTool]:
    """The read-only subset a model drafts with (never a state-changing one)."""
    return [tools[n] for n in MODEL_TOOLS]
