"""A local model that answers with the last user message, for trying Redline without a vendor.

It speaks the OpenAI chat-completions format, streaming included, and makes no network call.
Configure it with ``kind: echo``; it is the default upstream so a fresh install answers at once.
To try tool calls, offer tools and send ``call <tool> <JSON arguments>`` as the last user
message: the echo model then proposes exactly that call.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from redline.ledger.entry import new_decision_id
from redline.providers import UpstreamReply
from redline.settings import UpstreamConfig


class EchoModel:
    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config

    async def chat(self, body: bytes, *, stream: bool) -> UpstreamReply:
        request = orjson.loads(body)
        model = request.get("model", "redline-echo")
        said = _last_user_text(request.get("messages", []))
        text = "echo: " + said
        completion_id = "chatcmpl-" + new_decision_id().removeprefix("dec_").lower()
        created = int(time.time())
        call = _requested_call(said) if request.get("tools") else None
        if stream:
            chunks = _chunks(completion_id, created, model, text, call)
            return UpstreamReply(200, "text/event-stream", chunks=chunks)
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        if call is not None:
            message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}
        words = len(text.split())
        completion = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "stop" if call is None else "tool_calls",
                }
            ],
            "usage": {
                "prompt_tokens": words,
                "completion_tokens": words,
                "total_tokens": 2 * words,
            },
        }
        return UpstreamReply(200, "application/json", body=orjson.dumps(completion))

    async def close(self) -> None:
        """Nothing to release: the echo model holds no connections."""


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _requested_call(said: str) -> dict[str, Any] | None:
    """``call <tool> <arguments>`` as an OpenAI tool call (arguments passed on as written)."""
    verb, _, rest = said.strip().partition(" ")
    tool, _, arguments = rest.strip().partition(" ")
    if verb != "call" or not tool:
        return None
    call_id = "call_" + new_decision_id().removeprefix("dec_").lower()[-12:]
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": tool, "arguments": arguments.strip() or "{}"},
    }


async def _chunks(
    completion_id: str, created: int, model: str, text: str, call: dict[str, Any] | None
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        document = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return b"data: " + orjson.dumps(document) + b"\n\n"

    yield chunk({"role": "assistant", "content": ""})
    if call is not None:
        function = call["function"]
        head = {"index": 0, "id": call["id"], "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": function["name"]}}]})
        arguments = function["arguments"]
        for start in range(0, len(arguments), 16):
            piece = {"index": 0, "function": {"arguments": arguments[start : start + 16]}}
            yield chunk({"tool_calls": [piece]})
        yield chunk({}, "tool_calls")
        yield b"data: [DONE]\n\n"
        return
    for start in range(0, len(text), 16):
        yield chunk({"content": text[start : start + 16]})
    yield chunk({}, "stop")
    yield b"data: [DONE]\n\n"
