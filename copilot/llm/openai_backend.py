"""Any OpenAI-compatible chat endpoint: vLLM, Ollama, llama.cpp server, cloud Qwen/DeepSeek."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from copilot.llm.base import AssistantTurn, LLMError, ToolCall
from copilot.llm.tool_envelope import parse_arguments


class OpenAIBackend:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        json_mode: str = "json_schema",
    ) -> None:
        import openai

        if not base_url or not model:
            raise LLMError(
                "config", "openai backend needs COPILOT_LLM_BASE_URL and COPILOT_LLM_MODEL"
            )
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=max_retries,
        )
        self._model = model
        self._json_mode = json_mode

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    def _response_format(self, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is None or self._json_mode == "none":
            return None
        if self._json_mode == "json_object":
            return {"type": "json_object"}
        if self._json_mode == "json_object_schema":
            # llama.cpp servers take the schema inside json_object and enforce it by grammar.
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}

    def _translate(self, exc: Exception) -> LLMError:
        o = self._openai
        if isinstance(exc, o.APITimeoutError):
            return LLMError("timeout", f"no reply from {self._client.base_url} in time")
        if isinstance(exc, o.APIConnectionError):
            return LLMError("connection", f"cannot reach {self._client.base_url}")
        if isinstance(exc, o.AuthenticationError | o.PermissionDeniedError):
            return LLMError("config", "the endpoint refused the API key")
        if isinstance(exc, o.NotFoundError):
            return LLMError(
                "config", f"model '{self._model}' or path not found at {self._client.base_url}"
            )
        if isinstance(exc, o.APIStatusError):
            return LLMError("other", f"endpoint answered HTTP {exc.status_code}")
        return LLMError("other", f"{type(exc).__name__}: {exc}")

    def _first_message(self, messages, max_tokens: int, temperature: float, **kwargs: Any):
        """The first choice's message of one (non-streaming) completion call."""
        try:
            resp = self._client.chat.completions.create(
                model=self._model,
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                **kwargs,
            )
        except self._openai.OpenAIError as exc:
            raise self._translate(exc) from exc
        if not resp.choices:
            raise LLMError("reply", "the endpoint returned no choices")
        return resp.choices[0].message

    def complete(self, messages, *, max_tokens, temperature=0.0, json_schema=None) -> str:
        kwargs: dict[str, Any] = {}
        if (fmt := self._response_format(json_schema)) is not None:
            kwargs["response_format"] = fmt
        return self._first_message(messages, max_tokens, temperature, **kwargs).content or ""

    def stream(self, messages, *, max_tokens, temperature=0.0) -> Iterator[str]:
        """Reply pieces; a stream that ends without a ``finish_reason`` is an ``LLMError``.

        Why: a server whose generation fails after the response headers went out (llama.cpp's
        server does so when the prompt exceeds its context) just ends the event stream, and
        the client library ends the iteration quietly; without the check, a failure would
        pass for an empty or cut-short reply.
        """
        finished = False
        try:
            chunks = self._client.chat.completions.create(
                model=self._model,
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
            )
            for chunk in chunks:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if delta := choice.delta.content:
                    yield delta
                finished = finished or choice.finish_reason is not None
        except self._openai.OpenAIError as exc:
            raise self._translate(exc) from exc
        if not finished:
            raise LLMError("reply", "the reply stream ended before the model finished")

    def call_tools(self, messages, tools, *, max_tokens, temperature=0.0) -> AssistantTurn:
        """One turn with the endpoint's native tool calling (``tools=``)."""
        kwargs: dict[str, Any] = {"tools": tools} if tools else {}
        message = self._first_message(messages, max_tokens, temperature, **kwargs)
        turn = AssistantTurn(content=message.content or "")
        for i, call in enumerate(message.tool_calls or []):
            fn = getattr(call, "function", None)
            if fn is None:
                raise LLMError("reply", f"the endpoint returned a '{call.type}' tool call")
            turn.tool_calls.append(
                ToolCall(
                    id=call.id or f"call_{i}",
                    name=fn.name,
                    args=parse_arguments(fn.arguments, fn.name),
                )
            )
        return turn
