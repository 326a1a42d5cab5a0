"""Chooses the LLM backend from settings; ``none`` means the extractive path only."""

from __future__ import annotations

from copilot.llm.base import LLMBackend, LLMError
from copilot.settings import Settings


def build_llm(settings: Settings) -> LLMBackend | None:
    """The configured backend, or ``None`` for ``COPILOT_LLM_BACKEND=none``.

    Raises :class:`LLMError` (kind ``config``) with a message naming the setting to fix.
    """
    if settings.llm_backend == "none":
        return None
    if settings.llm_backend == "openai":
        from copilot.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(
            base_url=settings.llm_base_url or "",
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "",
            model=settings.llm_model or "",
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            json_mode=settings.llm_json_mode,
        )
    if settings.llm_backend == "llamacpp":
        from copilot.llm.llamacpp_backend import LlamaCppBackend

        if settings.llm_model_path is None:
            raise LLMError("config", "llamacpp backend needs COPILOT_LLM_MODEL_PATH (a .gguf file)")
        return LlamaCppBackend(
            settings.llm_model_path,
            n_ctx=settings.llm_context,
            extra_buffers=settings.llm_cpu_extra_buffers,
        )
    raise LLMError("config", f"unknown COPILOT_LLM_BACKEND '{settings.llm_backend}'")
