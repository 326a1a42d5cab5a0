"""A local GGUF model in-process through llama-cpp-python (optional extra ``llamacpp``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from copilot.llm.base import LLMError


class LlamaCppBackend:
    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMError(
                "config", "llama-cpp-python is not installed: pip install -e '.[llamacpp]'"
            ) from exc
        path = Path(model_path)
        if not path.is_file():
            raise LLMError("config", f"GGUF model file not found: {path}")
        try:
            self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise LLMError("config", f"cannot load {path.name}: {exc}") from exc
        self._path = path
        # One llama.cpp context cannot serve two generations at once.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"llamacpp:{self._path.name}"

    def complete(self, messages, *, max_tokens, temperature=0.0, json_schema=None) -> str:
        kwargs = {}
        if json_schema is not None:
            # Grammar-constrained decoding: the reply is valid JSON of this schema.
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        try:
            with self._lock:
                resp = self._llm.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature, **kwargs
                )
        except (ValueError, RuntimeError) as exc:
            raise LLMError("other", f"generation failed: {exc}") from exc
        return resp["choices"][0]["message"].get("content") or ""

    def stream(self, messages, *, max_tokens, temperature=0.0) -> Iterator[str]:
        try:
            with self._lock:
                for chunk in self._llm.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True
                ):
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
        except (ValueError, RuntimeError) as exc:
            raise LLMError("other", f"generation failed: {exc}") from exc
