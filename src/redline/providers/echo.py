"""A local model that answers with the last user message, for trying Redline without a vendor.

It speaks the OpenAI chat-completions format, streaming included, and makes no network call.
Configure it with ``kind: echo``; it is the default upstream so a fresh install answers at once.
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
        text = "echo: " + _last_user_text(request.get("messages", []))
        completion_id = "chatcmpl-" + new_decision_id().removeprefix("dec_").lower()
        created = int(time.time())
        if stream:
            return UpstreamReply(
                200, "text/event-stream", chunks=_chunks(completion_id, created, model, text)
            )
        words = len(text.split())
        completion = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
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


async def _chunks(completion_id: str, created: int, model: str, text: str) -> AsyncIterator[bytes]:
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
    for start in range(0, len(text), 16):
        yield chunk({"content": text[start : start + 16]})
    yield chunk({}, "stop")
    yield b"data: [DONE]\n\n"
