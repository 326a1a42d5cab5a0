"""The query_indicator tool: city vital-sign values by region, comparisons and rankings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from copilot.indicators.query import (
    IndicatorQuery,
    IndicatorResult,
    parse_indicator_question,
    run_indicator_query,
)
from copilot.indicators.store import IndicatorStore

NAME = "query_indicator"
DESCRIPTION = (
    "查询城市体征指标（人口、老龄化、城镇化、受教育等，按区县/全市），支持单值、两地比较和排名。"
    " Query city vital-sign indicators by district or for the whole city; value, compare or rank."
)


class QueryIndicatorInput(BaseModel):
    """Either a natural-language question or a structured query."""

    question: str | None = Field(default=None, description="e.g. 渝中区65岁以上人口占比多少？")
    query: IndicatorQuery | None = None

    @model_validator(mode="after")
    def _one_of(self) -> QueryIndicatorInput:
        if not (self.question or self.query):
            raise ValueError("give a question or a structured query")
        return self


def query_indicator(store: IndicatorStore, args: QueryIndicatorInput) -> IndicatorResult | None:
    """Run the tool; ``None`` when a question is not about an indicator."""
    query = args.query or parse_indicator_question(args.question or "", store)
    if query is None:
        return None
    return run_indicator_query(query, store)


def tool_spec() -> dict[str, Any]:
    """OpenAI-style function description, for LLM tool calling."""
    return {
        "type": "function",
        "function": {
            "name": NAME,
            "description": DESCRIPTION,
            "parameters": QueryIndicatorInput.model_json_schema(),
        },
    }
