"""Tool-calling turns: the OpenAI backend (native ``tools``), the llama.cpp backend (a
grammar-constrained JSON envelope) and BackendChatModel, the LangChain wrapper of any backend.

The model tests use SmolLM2-135M and check protocol, not the quality of its choices.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from copilot.llm.base import AssistantTurn, LLMBackend, LLMError, ToolCall
from copilot.llm.chat_model import BackendChatModel
from copilot.llm.openai_backend import OpenAIBackend
from copilot.llm.tool_envelope import envelope_schema, parse_envelope, render_for_envelope
from tests.contracts.fake_openai import AFTER_CALL, TOOLS

NAMES = {"get_weather", "add"}
ASK = [{"role": "user", "content": "What is the weather in Chongqing?"}]


def _completion(message: dict) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
    }


def _tool_call(call_id: str, name: str, arguments: str) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


@pytest.fixture
def fake_endpoint():
    """A scripted chat.completions endpoint on 127.0.0.1: append replies, read requests."""
    replies: list[dict] = []
    requests: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps(replies.pop(0)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    backend = OpenAIBackend(
        f"http://127.0.0.1:{server.server_port}/v1", "", "fake", timeout_s=5, max_retries=0
    )
    yield backend, replies, requests
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_openai_backend_sends_tools_and_returns_the_reply_tool_calls(fake_endpoint):
    backend, replies, requests = fake_endpoint
    replies.append(
        _completion(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    _tool_call("call_a", "get_weather", '{"city": "重庆"}'),
                    _tool_call("call_b", "add", '{"a": 2, "b": 3}'),
                ],
            }
        )
    )
    turn = backend.call_tools(AFTER_CALL, TOOLS, max_tokens=64)
    assert turn == AssistantTurn(
        content="",
        tool_calls=[
            ToolCall(id="call_a", name="get_weather", args={"city": "重庆"}),
            ToolCall(id="call_b", name="add", args={"a": 2, "b": 3}),
        ],
    )
    sent = requests[0]
    assert sent["tools"] == TOOLS and sent["max_tokens"] == 64
    # The history goes out as given: the assistant tool call and the tool result.
    assert sent["messages"][1]["tool_calls"][0]["id"] == "call_0"
    assert sent["messages"][2] == {
        "role": "tool",
        "tool_call_id": "call_0",
        "content": "Sunny, 31°C",
    }


def test_openai_backend_returns_plain_content_when_the_model_calls_no_tool(fake_endpoint):
    backend, replies, _ = fake_endpoint
    replies.append(_completion({"role": "assistant", "content": "Sunny."}))
    assert backend.call_tools(AFTER_CALL, TOOLS, max_tokens=64) == AssistantTurn(content="Sunny.")


@pytest.mark.parametrize("arguments", ['{"city": "重庆"', "[1, 2]"])
def test_openai_backend_malformed_tool_arguments_are_a_reply_error(fake_endpoint, arguments):
    backend, replies, _ = fake_endpoint
    replies.append(
        _completion(
            {"role": "assistant", "tool_calls": [_tool_call("c", "get_weather", arguments)]}
        )
    )
    with pytest.raises(LLMError) as info:
        backend.call_tools(ASK, TOOLS, max_tokens=64)
    assert info.value.kind == "reply" and "get_weather" in str(info.value)


def test_envelope_rendering_turns_tool_turns_into_plain_messages():
    rendered = render_for_envelope(
        [{"role": "system", "content": "You help officials."}, *AFTER_CALL], TOOLS
    )
    assert [m["role"] for m in rendered] == ["system", "user", "assistant", "user"]
    assert all(set(m) == {"role", "content"} for m in rendered)
    # One system message: the caller's, then the tool guide from prompts/tool_calling.md.
    assert rendered[0]["content"].startswith("You help officials.")
    assert "get_weather" in rendered[0]["content"] and '"tool_calls"' in rendered[0]["content"]
    assert json.loads(rendered[2]["content"]) == {
        "tool_calls": [{"name": "get_weather", "arguments": {"city": "Chongqing"}}]
    }
    assert "get_weather" in rendered[3]["content"] and "call_0" in rendered[3]["content"]
    assert "Sunny, 31°C" in rendered[3]["content"]


def test_consecutive_tool_results_become_one_user_message():
    results = [
        {"role": "tool", "tool_call_id": "call_0", "content": "first"},
        {"role": "tool", "tool_call_id": "call_1", "content": "second"},
    ]
    rendered = render_for_envelope([*ASK, *results], TOOLS)
    assert [m["role"] for m in rendered] == ["system", "user", "user"]
    assert "first" in rendered[2]["content"] and "second" in rendered[2]["content"]


def test_envelope_reply_parses_into_a_turn_with_ids_counted_on():
    text = json.dumps({"tool_calls": [{"name": "add", "arguments": {"a": 1, "b": 2}}]})
    turn = parse_envelope(text, TOOLS, first_id=1)
    assert turn.tool_calls == [ToolCall(id="call_1", name="add", args={"a": 1, "b": 2})]
    assert parse_envelope('{"content": "done"}', TOOLS) == AssistantTurn(content="done")


@pytest.mark.parametrize(
    "text",
    ['{"tool_calls": [{"name": "rm_rf", "arguments": {}}]}', '{"tool_calls": [', "[]", "{}"],
)
def test_an_envelope_reply_that_is_not_one_is_a_reply_error(text):
    with pytest.raises(LLMError) as info:
        parse_envelope(text, TOOLS)
    assert info.value.kind == "reply"


def test_envelope_schema_compiles_to_a_grammar_with_each_tools_arguments():
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    for strict in (True, False):
        grammar = json_schema_to_gbnf(json.dumps(envelope_schema(TOOLS, strict_arguments=strict)))
        assert "get_weather" in grammar and "tool_calls" in grammar and "content" in grammar
    assert '\\"city\\"' in json_schema_to_gbnf(json.dumps(envelope_schema(TOOLS)))
    assert "tool_calls" not in json_schema_to_gbnf(json.dumps(envelope_schema([])))


class ScriptedBackend:
    """An LLMBackend without a model: records what it is sent, answers from a script."""

    name = "scripted:test"

    def __init__(self, turn: AssistantTurn | None = None, text: str = "", error=None):
        self.turn, self.text, self.error = turn, text, error
        self.calls: list[dict] = []

    def complete(self, messages, *, max_tokens, temperature=0.0, json_schema=None):
        self.calls.append({"messages": messages, "max_tokens": max_tokens})
        if self.error:
            raise self.error
        return self.text

    def stream(self, messages, *, max_tokens, temperature=0.0):
        yield self.complete(messages, max_tokens=max_tokens)

    def call_tools(self, messages, tools, *, max_tokens, temperature=0.0):
        self.calls.append({"messages": messages, "tools": tools, "max_tokens": max_tokens})
        if self.error:
            raise self.error
        return self.turn


class WeatherArgs(BaseModel):
    city: str = Field(description="City name, e.g. 重庆")


@tool(args_schema=WeatherArgs)
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return "sunny"


def test_chat_model_sends_openai_messages_and_returns_tool_calls():
    backend = ScriptedBackend(AssistantTurn(tool_calls=[ToolCall(id="call_1", name="add")]))
    assert isinstance(backend, LLMBackend)
    model = BackendChatModel(backend=backend, max_tokens=99).bind_tools([get_weather])
    reply = model.invoke(
        [
            SystemMessage("You help officials."),
            HumanMessage("Weather in 重庆?"),
            AIMessage(
                "", tool_calls=[{"name": "get_weather", "args": {"city": "重庆"}, "id": "call_0"}]
            ),
            ToolMessage("Sunny", tool_call_id="call_0"),
        ]
    )
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == [{"name": "add", "args": {}, "id": "call_1", "type": "tool_call"}]
    sent = backend.calls[0]
    assert sent["max_tokens"] == 99
    assert sent["messages"] == [
        {"role": "system", "content": "You help officials."},
        {"role": "user", "content": "Weather in 重庆?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "重庆"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": "Sunny"},
    ]
    (sent_tool,) = sent["tools"]
    assert sent_tool["type"] == "function" and sent_tool["function"]["name"] == "get_weather"
    assert sent_tool["function"]["parameters"]["required"] == ["city"]


def test_chat_model_without_tools_completes_text():
    backend = ScriptedBackend(text="你好")
    reply = BackendChatModel(backend=backend).invoke("Say hello")
    assert reply.content == "你好" and not reply.tool_calls
    assert backend.calls == [
        {"messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 1024}
    ]


def test_chat_model_lets_backend_errors_through():
    backend = ScriptedBackend(error=LLMError("timeout", "no reply"))
    with pytest.raises(LLMError) as info:
        BackendChatModel(backend=backend).bind_tools([get_weather]).invoke("Weather?")
    assert info.value.kind == "timeout"


@pytest.mark.slow
def test_chat_model_over_the_local_model_binds_a_langchain_tool(local_model):
    model = BackendChatModel(backend=local_model, max_tokens=128).bind_tools([get_weather])
    reply = model.invoke([HumanMessage("What is the weather in Chongqing?")])
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls or reply.content
    assert all(c["name"] == "get_weather" for c in reply.tool_calls)
