"""Parse & bound: read a request body once, check its limits, pick out the text Redline inspects.

Only the parts Redline inspects (messages, their content parts, tool calls and tool definitions)
are validated; every other field stays in ``body`` untouched, so new vendor fields keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from redline.errors import (
    BodyTooLarge,
    InvalidEncoding,
    InvalidField,
    MalformedJSON,
    TooDeep,
    TooManyItems,
)


@dataclass(frozen=True)
class Bounds:
    """Limits applied to every request before any detector sees it."""

    max_body_bytes: int = 4 * 1024 * 1024
    max_depth: int = 64
    max_messages: int = 1000
    max_parts: int = 256
    max_tools: int = 256


@dataclass(frozen=True)
class Segment:
    """One piece of text in a request, with where it came from.

    ``path`` is the JSON path inside the request (``messages[2].content[0].text``); ``role`` is the
    speaker (``system``, ``user``, ``assistant``, ``tool``, ``developer``), ``tool_definition`` for
    a tool's name and description, ``tool_call`` for a call's name and arguments, or ``text``.
    """

    path: str
    role: str
    text: str


@dataclass(frozen=True)
class ToolDefinition:
    """A tool the client offers the model; ``path`` is its segment's path."""

    name: str
    description: str
    path: str


@dataclass(frozen=True)
class ChatRequest:
    model: str
    stream: bool
    segments: tuple[Segment, ...]
    body: dict[str, Any]
    tools: tuple[ToolDefinition, ...] = ()


def read_json(raw: bytes, bounds: Bounds) -> dict[str, Any]:
    """Decode a JSON object body; refuse oversized, non-UTF-8, malformed or deeply nested input."""
    if len(raw) > bounds.max_body_bytes:
        raise BodyTooLarge(
            f"request body is {len(raw)} bytes; the limit is {bounds.max_body_bytes} bytes"
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEncoding(f"request body is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            raise TooDeep(f"request JSON is nested deeper than {bounds.max_depth} levels") from None
        raise MalformedJSON(f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedJSON("request body must be a JSON object")
    _check_depth(value, bounds.max_depth)
    return value


def _check_depth(value: Any, limit: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise TooDeep(f"request JSON is nested deeper than {limit} levels")
        if isinstance(node, dict):
            stack.extend(
                (child, depth + 1) for child in node.values() if isinstance(child, dict | list)
            )
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))


def parse_chat(body: dict[str, Any], bounds: Bounds) -> ChatRequest:
    """Validate the inspected parts of an OpenAI chat-completions request."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidField("'model' must be a non-empty string", param="model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidField("'stream' must be a boolean", param="stream")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidField("'messages' must be a non-empty array", param="messages")
    if len(messages) > bounds.max_messages:
        raise TooManyItems(
            f"'messages' has {len(messages)} items; the limit is {bounds.max_messages}",
            param="messages",
        )
    for legacy in ("functions", "function_call"):
        if legacy in body:
            # The deprecated interface would carry calls past the tool-call checks: refuse it.
            raise InvalidField(
                f"'{legacy}' (the deprecated functions interface) is not accepted; use 'tools'",
                param=legacy,
            )
    segments: list[Segment] = []
    for index, message in enumerate(messages):
        segments.extend(_message_segments(message, f"messages[{index}]", bounds))
    tools = _tool_segments(body.get("tools"), bounds)
    segments.extend(segment for segment, _ in tools)
    return ChatRequest(
        model=model,
        stream=stream,
        segments=tuple(segments),
        body=body,
        tools=tuple(definition for _, definition in tools),
    )


def parse_check(
    body: dict[str, Any], bounds: Bounds
) -> tuple[tuple[Segment, ...], tuple[ToolDefinition, ...]]:
    """Validate a ``/v1/check`` body: either ``text`` or ``messages`` (with optional ``tools``)."""
    if "text" in body:
        text = body["text"]
        if not isinstance(text, str):
            raise InvalidField("'text' must be a string", param="text")
        return (Segment(path="text", role="text", text=text),), ()
    if "messages" not in body:
        raise InvalidField("give either 'text' or 'messages'", param="messages")
    chat = parse_chat({**body, "model": body.get("model") or "check"}, bounds)
    return chat.segments, chat.tools


def _message_segments(message: Any, path: str, bounds: Bounds) -> list[Segment]:
    if not isinstance(message, dict):
        raise InvalidField(f"'{path}' must be an object", param=path)
    role = message.get("role")
    if not isinstance(role, str) or not role:
        raise InvalidField(f"'{path}.role' must be a non-empty string", param=f"{path}.role")
    segments = _content_segments(message.get("content"), f"{path}.content", role, bounds)
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        if not isinstance(tool_calls, list):
            raise InvalidField(f"'{path}.tool_calls' must be an array", param=f"{path}.tool_calls")
        if len(tool_calls) > bounds.max_tools:
            raise TooManyItems(
                f"'{path}.tool_calls' has too many items", param=f"{path}.tool_calls"
            )
        for index, call in enumerate(tool_calls):
            segments.append(_tool_call_segment(call, f"{path}.tool_calls[{index}]"))
    return segments


def _content_segments(content: Any, path: str, role: str, bounds: Bounds) -> list[Segment]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Segment(path=path, role=role, text=content)]
    if not isinstance(content, list):
        raise InvalidField(f"'{path}' must be a string, an array of parts or null", param=path)
    if len(content) > bounds.max_parts:
        raise TooManyItems(f"'{path}' has {len(content)} parts; the limit is {bounds.max_parts}")
    segments = []
    for index, part in enumerate(content):
        part_path = f"{path}[{index}]"
        if not isinstance(part, dict):
            raise InvalidField(f"'{part_path}' must be an object", param=part_path)
        text = part.get("text")
        if part.get("type") in ("text", "input_text") or text is not None:
            if not isinstance(text, str):
                raise InvalidField(
                    f"'{part_path}.text' must be a string", param=f"{part_path}.text"
                )
            segments.append(Segment(path=f"{part_path}.text", role=role, text=text))
    return segments


def _tool_call_segment(call: Any, path: str) -> Segment:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict):
        raise InvalidField(f"'{path}.function' must be an object", param=f"{path}.function")
    name = function.get("name", "")
    arguments = function.get("arguments", "")
    if not isinstance(name, str) or not isinstance(arguments, str):
        raise InvalidField(
            f"'{path}.function' name and arguments must be strings", param=f"{path}.function"
        )
    return Segment(path=f"{path}.function", role="tool_call", text=f"{name}({arguments})")


def _tool_segments(tools: Any, bounds: Bounds) -> list[tuple[Segment, ToolDefinition]]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise InvalidField("'tools' must be an array", param="tools")
    if len(tools) > bounds.max_tools:
        raise TooManyItems(f"'tools' has {len(tools)} items; the limit is {bounds.max_tools}")
    segments = []
    for index, tool in enumerate(tools):
        path = f"tools[{index}]"
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            raise InvalidField(f"'{path}.function' must be an object", param=f"{path}.function")
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidField(f"'{path}.function.name' must be a string", param=f"{path}.function")
        description = function.get("description") or ""
        if not isinstance(description, str):
            raise InvalidField(
                f"'{path}.function.description' must be a string", param=f"{path}.function"
            )
        parameters = function.get("parameters")
        schema_text = orjson.dumps(parameters).decode() if parameters is not None else ""
        text = "\n".join(part for part in (name, description, schema_text) if part)
        segment = Segment(path=f"{path}.function", role="tool_definition", text=text)
        segments.append((segment, ToolDefinition(name, description, segment.path)))
    return segments
