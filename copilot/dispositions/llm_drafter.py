"""The model path of the draft node: tool calls, then a draft as structured output.

The model gets the route (fixed), candidate articles, similar orders and the report
inside ``<report>`` as data, and read-only tools. It finishes by calling ``submit_draft``
whose arguments are validated against :class:`SubmitDraft`. Anything else — a reply that
is not a valid draft, a tool it was not given (a state-changing one above all), a tool
that fails, an article that does not exist, too many rounds — gives no draft and a reason;
the graph then keeps the template draft and records why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field, ValidationError

from copilot.dispositions.draft import BasisQuote, Draft
from copilot.dispositions.graph import STATE_CHANGING_TOOLS
from copilot.events.router import RouteDecision
from copilot.work_orders.vectors import SimilarOrder
from prompts.loader import load_prompt

SUBMIT = "submit_draft"
MAX_ROUNDS = 4
TOOL_RESULT_CHARS = 4000
REPORT_CHARS = 4000


class CitedArticle(BaseModel):
    doc_title: str = Field(min_length=1, max_length=200)
    article: str | None = Field(default=None, max_length=40)


class SubmitDraft(BaseModel):
    """The model's draft: summary, numbered steps and the articles it relies on."""

    事件概述: str = Field(min_length=4, max_length=300)
    处置措施: list[str] = Field(min_length=2, max_length=8)
    处置依据: list[CitedArticle] = Field(default_factory=list, max_length=4)


@dataclass
class ModelAttempt:
    draft: Draft | None
    reason: str
    model: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


QuoteLookup = Callable[[str, str | None], str | None]


class ModelDrafter:
    """Drafts with a LangChain chat model bound to read-only tools."""

    def __init__(
        self,
        chat_model: BaseChatModel,
        tools: list[BaseTool],
        quote_for: QuoteLookup,
        model_name: str,
        max_rounds: int = MAX_ROUNDS,
    ) -> None:
        leaked = {t.name for t in tools} & STATE_CHANGING_TOOLS
        if leaked:
            raise ValueError(f"state-changing tools must not reach the drafter: {sorted(leaked)}")
        self.tools = {t.name: t for t in tools}
        self.submit = StructuredTool.from_function(
            func=lambda **_: "ok",
            name=SUBMIT,
            description="提交处置意见草稿（结构化输出）。Submit the draft.",
            args_schema=SubmitDraft,
        )
        self.chat_model = chat_model
        self.quote_for = quote_for
        self.model_name = model_name
        self.max_rounds = max_rounds

    def draft(
        self,
        report_text: str,
        decision: RouteDecision,
        basis: list[BasisQuote],
        similar: list[SimilarOrder],
        fallback: Draft,
    ) -> ModelAttempt:
        attempt = ModelAttempt(None, "", self.model_name)
        messages = self._messages(report_text, decision, basis, similar)
        try:
            model = self.chat_model.bind_tools([*self.tools.values(), self.submit])
        except NotImplementedError:
            return self._fail(attempt, "the chat model cannot call tools")
        for _ in range(self.max_rounds):
            try:
                reply = model.invoke(messages)
            except Exception as exc:  # any backend failure falls back, with its reason
                return self._fail(attempt, f"model error: {type(exc).__name__}: {exc}")
            messages.append(reply)
            if not isinstance(reply, AIMessage) or not reply.tool_calls:
                return self._from_content(attempt, reply, fallback)
            for call in reply.tool_calls:
                name, args = call["name"], call.get("args") or {}
                if name == SUBMIT:
                    attempt.tool_calls.append(_record(name, args, True))
                    return self._finish(attempt, args, fallback)
                if name in STATE_CHANGING_TOOLS:
                    attempt.tool_calls.append(_record(name, args, False, "refused"))
                    return self._fail(attempt, f"tool {name} is not allowed before approval")
                if name not in self.tools:
                    attempt.tool_calls.append(_record(name, args, False, "unknown"))
                    return self._fail(attempt, f"unknown tool {name}")
                try:
                    result = self.tools[name].invoke(args)
                except Exception as exc:
                    attempt.tool_calls.append(_record(name, args, False, str(exc)))
                    return self._fail(attempt, f"tool {name} failed: {type(exc).__name__}")
                content = json.dumps(result, ensure_ascii=False, default=str)
                attempt.tool_calls.append(_record(name, args, True, content))
                messages.append(
                    ToolMessage(content=content[:TOOL_RESULT_CHARS], tool_call_id=call["id"])
                )
        return self._fail(attempt, f"no draft after {self.max_rounds} rounds")

    def _messages(
        self,
        report_text: str,
        decision: RouteDecision,
        basis: list[BasisQuote],
        similar: list[SimilarOrder],
    ) -> list[BaseMessage]:
        route = {
            k: v
            for k, v in decision.model_dump(mode="json").items()
            if k
            in (
                "board",
                "event_name",
                "urgency",
                "message_type",
                "tier",
                "department",
                "owner_unit",
                "cooperating_units",
                "district",
                "town",
            )
        }
        candidates = [
            {"doc_title": b.doc_title, "article": b.article, "text": b.quote[:300]} for b in basis
        ]
        system, user = load_prompt("disposition_agent").render(
            route=json.dumps(route, ensure_ascii=False),
            candidates=json.dumps(candidates, ensure_ascii=False),
            similar=json.dumps([s.model_dump() for s in similar], ensure_ascii=False),
            # The report cannot close its own delimiter.
            report=report_text[:REPORT_CHARS].replace("</report>", "</ report>"),
        )
        return [SystemMessage(system["content"]), HumanMessage(user["content"])]

    def _from_content(self, attempt: ModelAttempt, reply: BaseMessage, fallback: Draft):
        text = reply.content if isinstance(reply.content, str) else ""
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            return self._fail(attempt, "the reply is neither a tool call nor a draft")
        try:
            args = json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            return self._fail(attempt, "the reply is not valid JSON")
        return self._finish(attempt, args, fallback)

    def _finish(self, attempt: ModelAttempt, args: Any, fallback: Draft) -> ModelAttempt:
        try:
            sub = SubmitDraft.model_validate(args)
        except ValidationError as exc:
            return self._fail(attempt, f"invalid draft: {exc.error_count()} schema error(s)")
        basis: list[BasisQuote] = []
        for cite in sub.处置依据:
            quote = self.quote_for(cite.doc_title, cite.article)
            if not quote:
                return self._fail(
                    attempt, f"cited article not found: 《{cite.doc_title}》{cite.article or ''}"
                )
            basis.append(BasisQuote(doc_title=cite.doc_title, article=cite.article, quote=quote))
        steps = [
            f"{i}. {s.strip().lstrip('0123456789.、 ')}"
            for i, s in enumerate(sub.处置措施, start=1)
        ]
        attempt.draft = fallback.model_copy(
            update={
                "事件概述": sub.事件概述.strip(),
                "处置措施": steps,
                # Routing sections stay the system's; an uncited draft keeps its basis.
                "处置依据": basis or fallback.处置依据,
            }
        )
        return attempt

    @staticmethod
    def _fail(attempt: ModelAttempt, reason: str) -> ModelAttempt:
        attempt.draft = None
        attempt.reason = reason
        return attempt


def _record(name: str, args: dict[str, Any], ok: bool, summary: str = "") -> dict[str, Any]:
    return {"name": name, "args": args, "ok": ok, "summary": summary[:300]}
