"""A model-free OpenAI-compatible chat endpoint on 127.0.0.1, for the LLM backend contract.

It answers ``POST /v1/chat/completions`` the way a real server does, without a model:

- plain: a short fixed reply; ``stream=true``: the same reply in server-sent events, a
  ``finish_reason`` on the last chunk, then ``[DONE]``;
- ``response_format`` with a schema: the smallest JSON value of that schema;
- ``tools``: one call of the first tool, with the smallest arguments its schema allows and an
  id not used in the conversation so far;
- a prompt over ``context_chars``: HTTP 400, or for a stream what llama.cpp's server does — a
  200 with event-stream headers, then the stream breaks off without a finish or ``[DONE]``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = ["Hello", ", ", "official", "."]


def smallest_instance(schema: dict[str, Any]) -> Any:
    """The smallest value of a (simple) JSON schema: what a grammar-bound model could say."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: smallest_instance(props.get(k, {})) for k in schema.get("required", [])}
    return {"array": [], "string": "", "integer": 0, "number": 0, "boolean": True}.get(kind)


def _completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }


def _chunk(delta: dict[str, Any], finish: str | None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _reply(request: dict[str, Any]) -> dict[str, Any]:
    if tools := request.get("tools"):
        fn = tools[0]["function"]
        used = sum(len(m.get("tool_calls") or []) for m in request["messages"])
        call = {
            "id": f"call_{used}",
            "type": "function",
            "function": {
                "name": fn["name"],
                "arguments": json.dumps(smallest_instance(fn.get("parameters", {}))),
            },
        }
        return _completion(
            {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        )
    fmt = request.get("response_format") or {}
    schema = fmt.get("schema") or fmt.get("json_schema", {}).get("schema")
    if schema is not None:
        content = json.dumps(smallest_instance(schema))
    elif fmt:
        content = "{}"
    else:
        content = "".join(REPLY)
    return _completion({"role": "assistant", "content": content}, "stop")


@contextmanager
def fake_openai_endpoint(context_chars: int = 8000) -> Iterator[str]:
    """Serve the fake endpoint; yields its base URL (``http://127.0.0.1:<port>/v1``)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            size = sum(len(str(m.get("content") or "")) for m in request["messages"])
            too_long = size > context_chars
            if not request.get("stream"):
                if too_long:
                    error = {"message": "context length exceeded", "type": "invalid_request"}
                    self._send(400, {"error": error})
                else:
                    self._send(200, _reply(request))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if too_long:  # the generator failed on the server after the headers went out
                return
            self.wfile.write(_chunk({"role": "assistant", "content": ""}, None))
            for piece in REPLY:
                self.wfile.write(_chunk({"content": piece}, None))
            self.wfile.write(_chunk({}, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Two small tools every tool-calling test offers a model.
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two integers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    },
]

# A conversation after one tool call and its result, in OpenAI chat format.
AFTER_CALL = [
    {"role": "user", "content": "What is the weather in Chongqing?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Chongqing"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_0", "content": "Sunny, 31°C"},
]
