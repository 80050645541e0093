"""Withholding tool calls from an upstream's answer, whole or streamed (OpenAI wire format).

The model's proposed calls are collected, handed to ``resolve`` (which decides, creates holds and
records them), and the answer the client gets is rewritten: a held call is removed from
``tool_calls`` and replaced by a sentence in the message content naming its hold, and the
extension field ``redline.holds`` lists the holds. Calls ``resolve`` does not hold pass with the
same id, name and arguments. When no executable call is left, ``finish_reason`` becomes ``stop``,
so an agent loop sees an ordinary answer rather than a call it cannot make.

In a stream, text deltas pass at once; tool-call deltas are buffered until their choice finishes,
because a call can only be judged once its arguments are complete.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True)
class ProposedCall:
    choice: int
    index: int
    call_id: str
    tool: str
    arguments: str


@dataclass(frozen=True)
class HeldCall:
    call: ProposedCall
    hold_id: str
    notice: str
    summary: dict[str, Any]


Resolve = Callable[[list[ProposedCall]], Awaitable[list[HeldCall]]]


class MalformedUpstream(Exception):
    """The upstream's answer could not be read, so its tool calls could not be judged."""


_LEGACY = "the upstream answered with a deprecated 'function_call', which is not judged"


# -- whole answers --------------------------------------------------------------------------


async def withhold_completion(body: bytes, resolve: Resolve) -> tuple[bytes, list[HeldCall]]:
    try:
        completion = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedUpstream("the upstream's answer is not valid JSON") from None
    if not isinstance(completion, dict) or not isinstance(completion.get("choices"), list):
        raise MalformedUpstream("the upstream's answer has no 'choices' array")
    proposed: list[ProposedCall] = []
    for position, choice in enumerate(completion["choices"]):
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict) and message.get("function_call") is not None:
            raise MalformedUpstream(_LEGACY)
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        if calls is None:
            continue
        if not isinstance(calls, list):
            raise MalformedUpstream(f"choices[{position}].message.tool_calls is not an array")
        number = _choice_number(choice, position)
        proposed += [_proposed(number, index, call) for index, call in enumerate(calls)]
    if not proposed:
        return body, []
    held = await resolve(proposed)
    if not held:
        return body, []
    by_choice = _by_choice(held)
    for position, choice in enumerate(completion["choices"]):
        withheld = by_choice.get(_choice_number(choice, position))
        if not withheld:
            continue
        message = choice["message"]
        ids = {item.call.index for item in withheld}
        kept = [call for index, call in enumerate(message["tool_calls"]) if index not in ids]
        if kept:
            message["tool_calls"] = kept
        else:
            message.pop("tool_calls")
            if choice.get("finish_reason") == "tool_calls":
                choice["finish_reason"] = "stop"
        message["content"] = _with_notices(message.get("content"), withheld)
    completion["redline"] = {"holds": [item.summary for item in held]}
    return orjson.dumps(completion), held


def _proposed(choice: int, index: int, call: Any) -> ProposedCall:
    """A call as proposed; a missing or ill-typed part is kept as text, never as a pass."""
    function = call.get("function") if isinstance(call, dict) else None
    function = function if isinstance(function, dict) else {}
    call_id = call.get("id") if isinstance(call, dict) else None
    name = function.get("name")
    arguments = function.get("arguments")
    return ProposedCall(
        choice=choice,
        index=index,
        call_id=call_id if isinstance(call_id, str) else f"call_{index}",
        tool=name if isinstance(name, str) else "",
        arguments=arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode(),
    )


def _choice_number(choice: Any, position: int) -> int:
    number = choice.get("index") if isinstance(choice, dict) else None
    return number if isinstance(number, int) else position


def _by_choice(held: list[HeldCall]) -> dict[int, list[HeldCall]]:
    grouped: dict[int, list[HeldCall]] = {}
    for item in held:
        grouped.setdefault(item.call.choice, []).append(item)
    return grouped


def _with_notices(content: Any, withheld: list[HeldCall]) -> str:
    notices = "\n".join(item.notice for item in withheld)
    if isinstance(content, str) and content:
        return f"{content}\n\n{notices}"
    return notices


# -- streams --------------------------------------------------------------------------------


@dataclass
class _Pending:
    call_id: str = ""
    tool: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamWithholder:
    """Rewrites an SSE stream event by event; ``held`` lists what it withheld."""

    def __init__(self, resolve: Resolve, *, max_event_bytes: int = 8 * 1024 * 1024) -> None:
        self._resolve = resolve
        self._max_event_bytes = max_event_bytes
        self._buffer = b""
        self._calls: dict[int, dict[int, _Pending]] = {}
        self.held: list[HeldCall] = []

    async def feed(self, chunk: bytes) -> list[bytes]:
        self._buffer += chunk.replace(b"\r\n", b"\n")
        out: list[bytes] = []
        while b"\n\n" in self._buffer:
            event, self._buffer = self._buffer.split(b"\n\n", 1)
            out += await self._event(event)
        if len(self._buffer) > self._max_event_bytes:
            raise MalformedUpstream(f"a stream event is over {self._max_event_bytes} bytes")
        return out

    async def finish(self) -> list[bytes]:
        """The end of the stream: a last event without its blank line is judged like any
        other. Calls whose choice never finished are not released."""
        rest, self._buffer = self._buffer, b""
        return await self._event(rest.rstrip(b"\n")) if rest.strip() else []

    async def _event(self, event: bytes) -> list[bytes]:
        # An event's data may span several lines (joined with newlines, as SSE defines): the
        # whole of it is read, so a call cannot slip past split over two lines.
        lines = [
            line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")
        ]
        data = b"\n".join(lines)
        if not lines or data.strip() == b"[DONE]":
            return [event + b"\n\n"]
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise MalformedUpstream("a stream event is not valid JSON") from None
        choices = chunk.get("choices") if isinstance(chunk, dict) else None
        if not isinstance(choices, list):
            return [event + b"\n\n"]
        stripped = False
        finishing: list[dict[str, Any]] = []
        for position, choice in enumerate(choices):
            if not isinstance(choice, dict):
                continue
            number = _choice_number(choice, position)
            delta = choice.get("delta")
            if isinstance(delta, dict) and "function_call" in delta:
                raise MalformedUpstream(_LEGACY)
            if isinstance(delta, dict) and "tool_calls" in delta:
                self._collect(number, delta.pop("tool_calls"))
                stripped = True
            if choice.get("finish_reason") is not None:
                finishing.append(choice)
        out: list[bytes] = []
        for choice in finishing:
            out += await self._settle(chunk, choice)
        if not stripped and not out:
            return [event + b"\n\n"]  # nothing to withhold: the upstream's bytes, unchanged
        if stripped and not finishing and _empty(choices) and not chunk.get("usage"):
            return out
        return [*out, b"data: " + orjson.dumps(chunk) + b"\n\n"]

    def _collect(self, choice: int, deltas: Any) -> None:
        if not isinstance(deltas, list):
            raise MalformedUpstream("a stream delta's tool_calls is not an array")
        calls = self._calls.setdefault(choice, {})
        for position, delta in enumerate(deltas):
            if not isinstance(delta, dict):
                raise MalformedUpstream("a stream tool-call delta is not an object")
            index = delta.get("index", position)
            pending = calls.setdefault(index if isinstance(index, int) else position, _Pending())
            if isinstance(delta.get("id"), str):
                pending.call_id = delta["id"]
            function = delta.get("function")
            if isinstance(function, dict):
                if isinstance(function.get("name"), str):
                    pending.tool += function["name"]
                if isinstance(function.get("arguments"), str):
                    pending.arguments.append(function["arguments"])

    async def _settle(self, chunk: dict[str, Any], choice: dict[str, Any]) -> list[bytes]:
        """At a choice's finish: judge its calls, release the ones not held, note the holds."""
        number = _choice_number(choice, 0)
        pending = self._calls.pop(number, {})
        if not pending:
            return []
        proposed = [
            ProposedCall(
                number, index, call.call_id or f"call_{index}", call.tool, "".join(call.arguments)
            )
            for index, call in sorted(pending.items())
        ]
        held = await self._resolve(proposed)
        self.held += held
        held_indexes = {item.call.index for item in held}
        released = [call for call in proposed if call.index not in held_indexes]
        events = []
        if released:
            deltas = [
                {
                    "index": position,
                    "id": call.call_id,
                    "type": "function",
                    "function": {"name": call.tool, "arguments": call.arguments},
                }
                for position, call in enumerate(released)
            ]
            events.append(_delta_event(chunk, number, {"tool_calls": deltas}))
        if held:
            notices = "\n".join(item.notice for item in held)
            events.append(_delta_event(chunk, number, {"content": notices}))
            if not released and choice.get("finish_reason") == "tool_calls":
                choice["finish_reason"] = "stop"
            chunk["redline"] = {"holds": [item.summary for item in self.held]}
        return events


def _empty(choices: list[Any]) -> bool:
    return all(
        isinstance(choice, dict) and not choice.get("delta") and choice.get("finish_reason") is None
        for choice in choices
    )


def _delta_event(chunk: dict[str, Any], choice: int, delta: dict[str, Any]) -> bytes:
    event: dict[str, Any] = {
        key: chunk[key]
        for key in ("id", "object", "created", "model", "system_fingerprint")
        if key in chunk
    }
    event["choices"] = [{"index": choice, "delta": delta, "logprobs": None, "finish_reason": None}]
    return b"data: " + orjson.dumps(event) + b"\n\n"
