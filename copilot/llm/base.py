"""The LLM backend protocol and its errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

ErrorKind = Literal["config", "connection", "timeout", "reply", "other"]


class LLMError(RuntimeError):
    """A backend failure with a kind the caller can report (and fall back on)."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.kind}: {self.args[0]}"


class ToolCall(BaseModel):
    """One tool call the model asks for; ``args`` not yet validated against the tool."""

    id: str
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class AssistantTurn(BaseModel):
    """One assistant turn: text, tool calls, or both."""

    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)


@runtime_checkable
class LLMBackend(Protocol):
    """Chat completion, plain or constrained to a JSON schema, token streaming, tool calls."""

    @property
    def name(self) -> str:
        """Backend and model, e.g. ``openai:qwen2.5-7b-instruct``; recorded in traces."""
        ...

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        """The reply text; with ``json_schema`` the backend is asked for JSON matching it."""
        ...

    def stream(
        self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float = 0.0
    ) -> Iterator[str]:
        """Reply text in pieces as the model produces them."""
        ...

    def call_tools(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
    ) -> AssistantTurn:
        """One turn that may call ``tools`` (OpenAI tools format).

        ``messages`` are OpenAI chat messages, including assistant turns with
        ``tool_calls`` and ``tool`` results. Raises :class:`LLMError` on failure.
        """
        ...
