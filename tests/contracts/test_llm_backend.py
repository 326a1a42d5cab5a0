"""The ``LLMBackend`` contract (copilot/llm/base.py), run over every backend.

Implementations: ``OpenAIBackend`` against a model-free fake endpoint (fast) and against
llama.cpp's real server, ``LlamaCppBackend`` in-process — the last two with SmolLM2-135M,
so they are ``slow``. The checks are about the protocol, never answer quality; the
backend-specific details (retries, tool envelopes, citation fallbacks) stay in
tests/test_llm_backends.py and tests/test_llm_tools.py.
"""

from __future__ import annotations

import json
import re
from typing import get_args

import pytest

from copilot.llm.base import AssistantTurn, ErrorKind, LLMBackend, LLMError
from copilot.llm.openai_backend import OpenAIBackend
from tests.contracts.fake_openai import AFTER_CALL, TOOLS, fake_openai_endpoint

HELLO = [{"role": "user", "content": "Say hello."}]
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
# Well past a 4096-token context (and the fake endpoint's 8000 characters).
TOO_LONG = [{"role": "user", "content": "hello " * 6000}]


class LLMBackendContract:
    """What every ``LLMBackend`` does. A subclass provides the ``backend`` fixture."""

    def test_conforms_to_the_protocol_and_names_backend_and_model(self, backend):
        assert isinstance(backend, LLMBackend)
        # Recorded in traces and answers: "<backend>:<model>".
        assert re.fullmatch(r"[a-z]+:\S+", backend.name), backend.name

    def test_complete_returns_text(self, backend):
        reply = backend.complete(HELLO, max_tokens=8, temperature=0.0)
        assert isinstance(reply, str) and reply.strip()

    def test_complete_with_a_json_schema_returns_json_of_that_schema(self, backend):
        reply = backend.complete(HELLO, max_tokens=30, json_schema=SCHEMA)
        assert isinstance(json.loads(reply)["ok"], bool)

    def test_stream_yields_pieces_that_join_to_the_reply(self, backend):
        pieces = list(backend.stream(HELLO, max_tokens=12))
        assert all(isinstance(p, str) and p for p in pieces)
        # Streamed as produced, not one piece at the end.
        assert len(pieces) >= 2 and "".join(pieces).strip()

    def test_call_tools_returns_a_turn_naming_only_the_given_tools(self, backend):
        turn = backend.call_tools(AFTER_CALL, TOOLS, max_tokens=128)
        assert isinstance(turn, AssistantTurn)
        assert turn.tool_calls or turn.content
        assert {c.name for c in turn.tool_calls} <= {t["function"]["name"] for t in TOOLS}
        assert all(isinstance(c.args, dict) for c in turn.tool_calls)
        ids = [c.id for c in turn.tool_calls]
        # Tool results are matched to calls by id: fresh ones, never the history's call_0.
        assert len(set(ids)) == len(ids) and "call_0" not in ids

    @pytest.mark.parametrize("call", ["complete", "stream", "call_tools"])
    def test_a_prompt_over_the_context_is_an_llm_error_with_a_kind(self, backend, call):
        with pytest.raises(LLMError) as info:
            if call == "complete":
                backend.complete(TOO_LONG, max_tokens=4)
            elif call == "stream":
                # A stream that breaks off must not pass for a short reply.
                list(backend.stream(TOO_LONG, max_tokens=4))
            else:
                backend.call_tools(TOO_LONG, TOOLS, max_tokens=4)
        assert info.value.kind in get_args(ErrorKind)
        assert str(info.value).startswith(f"{info.value.kind}: ")


@pytest.fixture(scope="module")
def fake_openai_url():
    with fake_openai_endpoint() as url:
        yield url


class TestLLMBackends(LLMBackendContract):
    @pytest.fixture(
        params=[
            "openai-fake",
            pytest.param("openai-llama-server", marks=[pytest.mark.slow, pytest.mark.integration]),
            pytest.param("llamacpp", marks=pytest.mark.slow),
        ]
    )
    def backend(self, request) -> LLMBackend:
        if request.param == "openai-fake":
            url = request.getfixturevalue("fake_openai_url")
            return OpenAIBackend(url, "", "fake", timeout_s=10, max_retries=0)
        if request.param == "openai-llama-server":
            url = request.getfixturevalue("llama_server")
            # One retry: llama.cpp's server resets the kept-alive connection after a stream
            # that failed on its side, and the next request on it must not fail for that.
            return OpenAIBackend(
                url, "", "smollm2", timeout_s=60, max_retries=1, json_mode="json_object_schema"
            )
        return request.getfixturevalue("local_model")
