"""A local GGUF model in-process through llama-cpp-python (optional extra ``llamacpp``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from copilot.llm.base import AssistantTurn, LLMError
from copilot.llm.tool_envelope import (
    envelope_schema,
    parse_envelope,
    prior_tool_calls,
    render_for_envelope,
)

# Serialises the temporary patch of ``llama_model_default_params`` below: the patch
# replaces a module attribute, so two constructions at once must not interleave.
_PARAMS_PATCH_LOCK = threading.Lock()


@contextmanager
def model_params_patch(extra_buffers: bool = False) -> Iterator[None]:
    """While active, llama.cpp models load with ``use_extra_bufts = extra_buffers``.

    Why: ggml's CPU "extra buffer types" (the AMX and weight-repacking buffers) crash on
    some CPUs/VMs, e.g. a segfault in ``ggml_backend_amx_mul_mat`` where the CPU reports
    AMX but the kernels fail under virtualisation. They only speed up weight repacking,
    so they are off unless ``COPILOT_LLM_CPU_EXTRA_BUFFERS`` allows them.

    ``Llama.__init__`` takes its defaults from ``llama_cpp.llama_cpp.llama_model_default_params``,
    so the function is swapped for one that sets the field, and restored on exit.
    Needs llama-cpp-python (raises ``ImportError`` otherwise).
    """
    import llama_cpp.llama_cpp as lib

    # Older llama-cpp-python has no such field; nothing to change there.
    if extra_buffers or not hasattr(lib.llama_model_params, "use_extra_bufts"):
        yield
        return
    with _PARAMS_PATCH_LOCK:
        original = lib.llama_model_default_params

        def without_extra_buffers():
            params = original()
            params.use_extra_bufts = False
            return params

        lib.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            lib.llama_model_default_params = original


class LlamaCppBackend:
    def __init__(
        self,
        model_path: Path,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        extra_buffers: bool = False,
    ) -> None:
        """``extra_buffers`` allows ggml's CPU extra buffer types (see :func:`model_params_patch`)."""
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
            with model_params_patch(extra_buffers):
                self._llm = Llama(
                    model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False
                )
        except (ValueError, RuntimeError) as exc:
            raise LLMError("config", f"cannot load {path.name}: {exc}") from exc
        self._path = path
        # One llama.cpp context cannot serve two generations at once.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"llamacpp:{self._path.name}"

    def _generate(self, messages, max_tokens, temperature, json_schema=None) -> dict:
        kwargs = {}
        if json_schema is not None:
            # Grammar-constrained decoding: the reply is valid JSON of this schema.
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        try:
            with self._lock:
                return self._llm.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature, **kwargs
                )
        except (ValueError, RuntimeError) as exc:
            raise LLMError("other", f"generation failed: {exc}") from exc

    def complete(self, messages, *, max_tokens, temperature=0.0, json_schema=None) -> str:
        resp = self._generate(messages, max_tokens, temperature, json_schema)
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

    def call_tools(self, messages, tools, *, max_tokens, temperature=0.0) -> AssistantTurn:
        """One turn through a grammar-constrained JSON envelope (see :mod:`tool_envelope`).

        Each call's arguments are held to the tool's parameter schema where the grammar
        compiler takes it, else to any JSON object. Ids are ``call_<n>``, counted on from
        the tool calls already in ``messages``.
        """
        schema = envelope_schema(tools)
        if not _grammar_compiles(schema):
            schema = envelope_schema(tools, strict_arguments=False)
        resp = self._generate(render_for_envelope(messages, tools), max_tokens, temperature, schema)
        choice = resp["choices"][0]
        if choice.get("finish_reason") == "length":
            raise LLMError("reply", f"the tool-calling reply was cut off at {max_tokens} tokens")
        text = choice["message"].get("content") or ""
        return parse_envelope(text, tools, first_id=prior_tool_calls(messages))


def _grammar_compiles(schema: dict) -> bool:
    """Whether llama.cpp's JSON-schema converter takes ``schema`` (it silently falls back
    to any JSON when it does not)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    except Exception:
        return False
    return True
