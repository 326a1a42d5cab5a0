"""Tool calls for backends without native tool calling, and the pieces every backend shares.

Native endpoints (:class:`~copilot.llm.openai_backend.OpenAIBackend`) return tool calls with
JSON-encoded arguments; :func:`parse_arguments` decodes them. A small in-process model has no
reliable native tool calling, so it is asked for one JSON *envelope*, constrained by grammar
to :func:`envelope_schema`::

    {"tool_calls": [{"name": "<a tool>", "arguments": {...}}]}   or   {"content": "..."}

The tools are described in a system message from ``prompts/tool_calling.md``
(:func:`render_for_envelope`), which also renders the assistant tool calls and ``tool``
results of the history as plain messages that any chat template accepts;
:func:`parse_envelope` turns the reply back into an :class:`AssistantTurn`.
"""

from __future__ import annotations

import json
from typing import Any

from copilot.llm.base import AssistantTurn, LLMError, ToolCall
from prompts.loader import PromptTemplate, load_prompt

PROMPT = "tool_calling"


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    """The ``function`` part of an OpenAI tool; ``LLMError("config")`` when there is none."""
    fn = tool.get("function") if tool.get("type", "function") == "function" else None
    if not isinstance(fn, dict) or not fn.get("name"):
        raise LLMError("config", f"not an OpenAI function tool: {json.dumps(tool)[:200]}")
    return fn


def tool_names(tools: list[dict[str, Any]]) -> list[str]:
    return [_function(t)["name"] for t in tools]


def _parameters(fn: dict[str, Any]) -> dict[str, Any]:
    return fn.get("parameters") or {"type": "object", "properties": {}}


def envelope_schema(tools: list[dict[str, Any]], *, strict_arguments: bool = True) -> dict:
    """The JSON schema of the reply: tool calls of ``tools`` or plain content.

    With ``strict_arguments`` each call's ``arguments`` must match that tool's parameter
    schema; without, any JSON object (for schemas a grammar compiler cannot take).
    Without tools the reply can only be content.
    """
    fns = [_function(t) for t in tools]
    if strict_arguments:
        call: dict[str, Any] = {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"name": {"const": fn["name"]}, "arguments": _parameters(fn)},
                    "required": ["name", "arguments"],
                }
                for fn in fns
            ]
        }
    else:
        call = {
            "type": "object",
            "properties": {
                "name": {"enum": [fn["name"] for fn in fns]},
                "arguments": {"type": "object"},
            },
            "required": ["name", "arguments"],
        }
    calls = {
        "type": "object",
        "properties": {"tool_calls": {"type": "array", "items": call, "minItems": 1}},
        "required": ["tool_calls"],
    }
    content = {
        "type": "object",
        "properties": {"content": {"type": "string"}},
        "required": ["content"],
    }
    return {"anyOf": [calls, content]} if fns else content


def parse_arguments(raw: str | dict[str, Any] | None, tool: str) -> dict[str, Any]:
    """A tool call's arguments as a dict; ``LLMError("reply")`` unless they are a JSON object.

    Empty arguments (some servers send ``""`` for a tool without parameters) are ``{}``.
    """
    if isinstance(raw, dict):
        return raw
    if raw is None or not raw.strip():
        return {}
    try:
        args = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LLMError("reply", f"arguments of tool call '{tool}' are not valid JSON") from exc
    if not isinstance(args, dict):
        raise LLMError("reply", f"arguments of tool call '{tool}' are not a JSON object")
    return args


def _prompt() -> PromptTemplate:
    return load_prompt(PROMPT)


def _describe(tools: list[dict[str, Any]]) -> str:
    lines = []
    for fn in (_function(t) for t in tools):
        params = json.dumps(_parameters(fn), ensure_ascii=False)
        lines.append(f"- {fn['name']}: {fn.get('description', '').strip()}\n  参数: {params}")
    return "\n".join(lines)


def message_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p if isinstance(p, str) else str(p.get("text", ""))
            for p in content
            if isinstance(p, str) or (isinstance(p, dict) and p.get("type", "text") == "text")
        )
    return str(content)


def _envelope_of_calls(calls: list[dict[str, Any]]) -> str:
    rendered = []
    for call in calls:
        fn = call.get("function") or {}
        name = fn.get("name", "")
        try:
            args: Any = parse_arguments(fn.get("arguments"), name)
        except LLMError:  # an earlier malformed call: shown as it was
            args = fn.get("arguments")
        rendered.append({"name": name, "arguments": args})
    return json.dumps({"tool_calls": rendered}, ensure_ascii=False)


def render_for_envelope(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """``messages`` as plain system/user/assistant text messages, tools described up front.

    The tool description joins the first system message (or becomes one). An assistant turn
    with ``tool_calls`` becomes the envelope the model would have written; consecutive
    ``tool`` results become one user message, each from the prompt's ``[user]`` section.
    """
    prompt = _prompt()
    guide = prompt.render(tools=_describe(tools))[0]["content"]
    names: dict[str, str] = {}
    out: list[dict[str, str]] = []
    after_tool = False
    for msg in messages:
        role = msg.get("role", "user")
        text = message_text(msg.get("content"))
        if role == "tool":
            call_id = msg.get("tool_call_id", "")
            name = msg.get("name") or names.get(call_id, "")
            result = prompt.render(name=name, call_id=call_id, result=text)[1]["content"]
            if after_tool:
                out[-1]["content"] += "\n\n" + result
            else:
                out.append({"role": "user", "content": result})
            after_tool = True
            continue
        after_tool = False
        if role == "assistant" and msg.get("tool_calls"):
            for call in msg["tool_calls"]:
                names[call.get("id", "")] = (call.get("function") or {}).get("name", "")
            envelope = _envelope_of_calls(msg["tool_calls"])
            out.append(
                {"role": "assistant", "content": f"{text}\n{envelope}" if text else envelope}
            )
        else:
            out.append({"role": "system" if role == "developer" else role, "content": text})
    if out and out[0]["role"] == "system":
        out[0] = {"role": "system", "content": f"{out[0]['content']}\n\n{guide}"}
    else:
        out.insert(0, {"role": "system", "content": guide})
    return out


def prior_tool_calls(messages: list[dict[str, Any]]) -> int:
    """How many tool calls the history already holds (new ids continue from there)."""
    return sum(len(m.get("tool_calls") or []) for m in messages if m.get("role") == "assistant")


def parse_envelope(text: str, tools: list[dict[str, Any]], *, first_id: int = 0) -> AssistantTurn:
    """The reply envelope as a turn; ids ``call_<n>`` from ``first_id``.

    ``LLMError("reply")`` when the reply is not an envelope or names an unknown tool.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LLMError("reply", "the tool-calling reply is not valid JSON") from exc
    if not isinstance(data, dict):
        raise LLMError("reply", "the tool-calling reply is not a JSON object")
    calls = data.get("tool_calls")
    if not calls:
        content = data.get("content")
        if not isinstance(content, str):
            raise LLMError("reply", "the tool-calling reply has neither tool_calls nor content")
        return AssistantTurn(content=content)
    known = set(tool_names(tools))
    turn = AssistantTurn()
    for i, call in enumerate(calls if isinstance(calls, list) else [calls]):
        name = call.get("name") if isinstance(call, dict) else None
        if name not in known:
            raise LLMError("reply", f"the reply calls an unknown tool: {name!r}")
        args = call.get("arguments")
        args = parse_arguments(args if args is not None else {}, name)
        turn.tool_calls.append(ToolCall(id=f"call_{first_id + i}", name=name, args=args))
    return turn
