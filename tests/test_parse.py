"""Parse & bound: the inspected parts are validated, everything else is left alone."""

from __future__ import annotations

import orjson
import pytest

from redline.errors import InvalidField, MalformedJSON, TooDeep, TooManyItems
from redline.parse import Bounds, parse_chat, parse_check, read_json

BOUNDS = Bounds()


def test_segments_cover_messages_parts_tool_calls_and_tool_definitions() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "You are a logistics assistant."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Count pallets"},
                    {"type": "image_url", "image_url": {"url": "x"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "count", "arguments": '{"site": "B"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "count",
                    "description": "Count stock",
                    "parameters": {"type": "object"},
                },
            }
        ],
    }

    chat = parse_chat(body, BOUNDS)

    assert [(s.path, s.role) for s in chat.segments] == [
        ("messages[0].content", "system"),
        ("messages[1].content[0].text", "user"),
        ("messages[2].tool_calls[0].function", "tool_call"),
        ("messages[3].content", "tool"),
        ("tools[0].function", "tool_definition"),
    ]
    assert chat.segments[2].text == 'count({"site": "B"})'
    assert "Count stock" in chat.segments[4].text
    assert chat.body is body


def test_unknown_fields_are_kept_in_the_body() -> None:
    body = read_json(
        b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "x_new": {"a": 1}}', BOUNDS
    )
    assert parse_chat(body, BOUNDS).body["x_new"] == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", MalformedJSON),
        (b"null", MalformedJSON),
        (b'{"a": 1,}', MalformedJSON),
        (b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}", TooDeep),
    ],
)
def test_read_json_refuses_bad_bodies(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        read_json(raw, BOUNDS)


def test_too_many_tools_is_refused() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "t"}}] * 300,
    }
    with pytest.raises(TooManyItems):
        parse_chat(body, BOUNDS)


def test_error_names_the_offending_field() -> None:
    with pytest.raises(InvalidField) as error:
        parse_chat(
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}],
            },
            BOUNDS,
        )
    assert error.value.param == "messages[0].content[0].text"


def test_check_accepts_plain_text_or_messages() -> None:
    assert parse_check({"text": "hello"}, BOUNDS)[0][0].text == "hello"
    segments, tools = parse_check(
        orjson.loads(b'{"messages": [{"role": "user", "content": "hi"}]}'), BOUNDS
    )
    assert segments[0].role == "user"
    assert tools == ()
    with pytest.raises(InvalidField):
        parse_check({"prompt": "x"}, BOUNDS)
