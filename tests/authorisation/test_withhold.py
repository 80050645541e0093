"""Rewriting an upstream's answer so held calls never reach the client as executable calls."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from redline.authorisation.withhold import (
    HeldCall,
    MalformedUpstream,
    ProposedCall,
    StreamWithholder,
    withhold_completion,
)


async def hold_engagements(proposed: list[ProposedCall]) -> list[HeldCall]:
    return [
        HeldCall(call, f"hold_{call.index}", f"held {call.tool}", {"id": f"hold_{call.index}"})
        for call in proposed
        if call.tool.startswith("engage")
    ]


def completion(*calls: tuple[str, str], content: str | None = None) -> bytes:
    tool_calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": args}}
        for i, (name, args) in enumerate(calls)
    ]
    message = {"role": "assistant", "content": content, "tool_calls": tool_calls}
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
    return orjson.dumps({"id": "c1", "object": "chat.completion", "choices": [choice]})


def test_a_held_call_is_replaced_by_a_notice_and_the_answer_stops() -> None:
    body, held = asyncio.run(
        withhold_completion(completion(("engage_target", "{}")), hold_engagements)
    )
    answer = orjson.loads(body)
    choice = answer["choices"][0]
    assert "tool_calls" not in choice["message"]
    assert choice["message"]["content"] == "held engage_target"
    assert choice["finish_reason"] == "stop"
    assert answer["redline"] == {"holds": [{"id": "hold_0"}]}
    assert [item.hold_id for item in held] == ["hold_0"]


def test_other_calls_keep_their_place_and_bytes() -> None:
    original = completion(("get_weather", '{"grid": "X"}'), ("engage_target", "{}"), content="Hi")
    body, _ = asyncio.run(withhold_completion(original, hold_engagements))
    choice = orjson.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert (
        choice["message"]["tool_calls"]
        == orjson.loads(original)["choices"][0]["message"]["tool_calls"][:1]
    )
    assert choice["message"]["content"] == "Hi\n\nheld engage_target"


def test_an_answer_with_nothing_held_is_returned_as_it_came() -> None:
    original = completion(("get_weather", "{}"))
    assert asyncio.run(withhold_completion(original, hold_engagements)) == (original, [])


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"choices": {}}'])
def test_an_unreadable_answer_is_refused_rather_than_passed(body: bytes) -> None:
    with pytest.raises(MalformedUpstream):
        asyncio.run(withhold_completion(body, hold_engagements))


def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def stream_of(arguments: str) -> bytes:
    head = {"index": 0, "id": "call_a", "type": "function", "function": {"name": "engage_target"}}
    weather = {
        "index": 1,
        "id": "call_b",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"grid": "X"}'},
    }
    return b"".join(
        [
            event({"role": "assistant", "content": "Working."}),
            event({"tool_calls": [head]}),
            event({"tool_calls": [{"index": 0, "function": {"arguments": arguments[:5]}}]}),
            event({"tool_calls": [{"index": 0, "function": {"arguments": arguments[5:]}}]}),
            event({"tool_calls": [weather]}),
            event({}, "tool_calls"),
            b"data: [DONE]\n\n",
        ]
    )


def run_stream(raw: bytes, piece: int) -> tuple[list[dict[str, Any]], StreamWithholder]:
    async def go() -> tuple[list[bytes], StreamWithholder]:
        withholder = StreamWithholder(hold_engagements)
        out: list[bytes] = []
        for start in range(0, len(raw), piece):  # chunk boundaries fall mid-event
            out += await withholder.feed(raw[start : start + piece])
        return out + await withholder.finish(), withholder

    events, withholder = asyncio.run(go())
    text = b"".join(events)
    chunks = [orjson.loads(line[6:]) for line in text.split(b"\n\n") if line.startswith(b"data: {")]
    return chunks, withholder


@pytest.mark.parametrize("piece", [7, 64, 10_000])
def test_a_streamed_held_call_never_appears_and_the_other_call_arrives_whole(piece: int) -> None:
    chunks, withholder = run_stream(stream_of('{"target_id": "T-17"}'), piece)
    assert chunks[0]["choices"][0]["delta"]["content"] == "Working."
    deltas = [choice["delta"] for chunk in chunks for choice in chunk["choices"]]
    calls = [call for delta in deltas for call in delta.get("tool_calls", ())]
    assert [call["function"]["name"] for call in calls] == ["get_weather"]
    assert calls[0] == {
        "index": 0,
        "id": "call_b",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"grid": "X"}'},
    }
    assert "".join(delta.get("content") or "" for delta in deltas) == "Working.held engage_target"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["redline"] == {"holds": [{"id": "hold_0"}]}
    assert withholder.held[0].call.arguments == '{"target_id": "T-17"}'


@pytest.mark.parametrize(
    "raw",
    [
        b"data: {not json\n\n",
        b'data: {"choices": [{"index": 0, "delta": {"function_call": {"name": "fire"}}}]}\n\n',
        b"data: " + b"x" * 2048,  # an event that never ends
    ],
)
def test_a_stream_whose_events_cannot_be_judged_is_stopped(raw: bytes) -> None:
    async def go() -> None:
        await StreamWithholder(hold_engagements, max_event_bytes=1024).feed(raw)

    with pytest.raises(MalformedUpstream):
        asyncio.run(go())


def test_a_call_split_across_data_lines_or_left_unterminated_is_still_withheld() -> None:
    split = event(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "c",
                    "type": "function",
                    "function": {"name": "engage_target", "arguments": "{}"},
                }
            ]
        }
    )
    split = split.replace(b'"tool_calls"', b'\ndata: "tool_calls"', 1)
    finish = event({}, "tool_calls").rstrip(b"\n")  # the last event lacks its blank line
    chunks, withholder = run_stream(split + finish, 10_000)
    assert [item.call.tool for item in withholder.held] == ["engage_target"]
    assert all("tool_calls" not in choice["delta"] for c in chunks for choice in c["choices"])


def test_stream_events_with_nothing_to_withhold_pass_byte_for_byte() -> None:
    text = b'data: {"choices": [{"index": 0, "delta": {"content": "Hi"}}],  "id": "c1"}\n\n'
    done = b"data: [DONE]\n\n"

    async def go() -> list[bytes]:
        withholder = StreamWithholder(hold_engagements)
        return await withholder.feed(text + done) + await withholder.finish()

    assert b"".join(asyncio.run(go())) == text + done
