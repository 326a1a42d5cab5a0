"""Any :class:`~copilot.llm.base.LLMBackend` as a LangChain chat model (for LangGraph agents).

``BackendChatModel(backend=llm).bind_tools([...])`` sends the tools to
:meth:`LLMBackend.call_tools` and returns an ``AIMessage`` with ``tool_calls``; without tools
the turn is :meth:`LLMBackend.complete`. Backend failures raise :class:`LLMError` unchanged,
so callers can fall back as they do for the backend itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from copilot.llm.tool_envelope import message_text


def to_openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as OpenAI chat messages (``tool_calls`` arguments JSON-encoded)."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        text = message_text(msg.content)
        if isinstance(msg, SystemMessage):
            out.append({"role": "system", "content": text})
        elif isinstance(msg, HumanMessage):
            out.append({"role": "user", "content": text})
        elif isinstance(msg, AIMessage):
            turn: dict[str, Any] = {"role": "assistant", "content": text}
            if msg.tool_calls:
                turn["tool_calls"] = [
                    {
                        "id": call["id"] or f"call_{i}",
                        "type": "function",
                        "function": {
                            "name": call["name"],
                            "arguments": json.dumps(call["args"], ensure_ascii=False),
                        },
                    }
                    for i, call in enumerate(msg.tool_calls)
                ]
            out.append(turn)
        elif isinstance(msg, ToolMessage):
            out.append({"role": "tool", "tool_call_id": msg.tool_call_id, "content": text})
        elif isinstance(msg, ChatMessage):
            out.append({"role": msg.role, "content": text})
        else:
            raise ValueError(f"cannot send a {type(msg).__name__} to an LLM backend")
    return out


def _cut_at_stop(text: str, stop: list[str] | None) -> str:
    """The backends take no stop sequences; the reply is cut at the first one instead."""
    for s in stop or []:
        if s and s in text:
            text = text[: text.index(s)]
    return text


class BackendChatModel(BaseChatModel):
    """A LangChain chat model over a copilot :class:`~copilot.llm.base.LLMBackend`.

    Bound ``tools`` (OpenAI format, as :meth:`bind_tools` makes them) select
    ``backend.call_tools``; other bound or call keyword arguments (``tool_choice``,
    ``parallel_tool_calls``...) are not supported by the backends and are ignored.
    """

    backend: Any
    max_tokens: int = 1024
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "copilot-backend"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "backend": getattr(self.backend, "name", type(self.backend).__name__),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        payload = to_openai_messages(messages)
        tools = kwargs.get("tools")
        if tools:
            turn = self.backend.call_tools(
                payload, tools, max_tokens=self.max_tokens, temperature=self.temperature
            )
            message = AIMessage(
                content=_cut_at_stop(turn.content, stop),
                tool_calls=[
                    {"name": c.name, "args": c.args, "id": c.id, "type": "tool_call"}
                    for c in turn.tool_calls
                ],
            )
        else:
            text = self.backend.complete(
                payload, max_tokens=self.max_tokens, temperature=self.temperature
            )
            message = AIMessage(content=_cut_at_stop(text, stop))
        message.response_metadata["model_name"] = getattr(self.backend, "name", "")
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """This model with ``tools`` (anything LangChain converts to an OpenAI tool) bound."""
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)
