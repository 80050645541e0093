"""Prove FakeOpenAI speaks the OpenAI wire format by driving it with the real SDK.

If the official client accepts the fake's bytes (with strict response validation on),
then gateway tests built on the fake exercise the same parsing paths a real vendor
would. The failure-mode tests pin down the "fail loudly" contract the rest of the
suite relies on.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall, ChatCompletionMessageParam

from tests.fakes.fixtures import UPSTREAM_API_KEY, fake_openai
from tests.fakes.openai_upstream import FakeOpenAI

__all__ = ["fake_openai"]

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello."},
]
REPO_ROOT = Path(__file__).resolve().parents[2]


def make_client(fake: FakeOpenAI, *, api_key: str = UPSTREAM_API_KEY) -> openai.OpenAI:
    """SDK client aimed at the fake; strict validation turns shape drift into failures."""
    return openai.OpenAI(
        base_url=fake.base_url,
        api_key=api_key,
        max_retries=0,
        timeout=5.0,
        _strict_response_validation=True,
    )


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:
    """An SDK client bound to the per-test fake."""
    with make_client(fake_openai) as sdk:
        yield sdk


@pytest.fixture
def unchecked_fake() -> Iterator[FakeOpenAI]:
    """A fake without the teardown assertion, for tests that expect it to be dirty."""
    with FakeOpenAI(api_key=UPSTREAM_API_KEY) as fake:
        yield fake


def raw_request(
    fake: FakeOpenAI,
    path: str,
    *,
    method: str = "POST",
    body: bytes | None = None,
    api_key: str | None = UPSTREAM_API_KEY,
) -> tuple[int, dict[str, str], dict[str, object]]:
    """Send a request the SDK would never produce, returning status, headers and JSON."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{fake.port}{path}", data=body, method=method
    )
    request.add_header("Content-Type", "application/json")
    if api_key is not None:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


# --------------------------------------------------------------------- happy paths


def test_non_streaming_returns_queued_content_and_usage(
    fake_openai: FakeOpenAI, client: openai.OpenAI
) -> None:
    fake_openai.reply(content="Hello, world.")

    completion = client.chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-fake"
    assert isinstance(completion.created, int)
    choice = completion.choices[0]
    assert choice.message.content == "Hello, world."
    assert choice.message.role == "assistant"
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    [received] = fake_openai.requests
    assert (received.method, received.path) == ("POST", "/v1/chat/completions")
    assert received.headers["authorization"] == f"Bearer {UPSTREAM_API_KEY}"
    assert received.json == {"model": "gpt-fake", "messages": MESSAGES}
    assert json.loads(received.body) == received.json


def test_raw_non_streaming_body_has_exact_openai_shape(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(content="Hi", usage={"prompt_tokens": 11, "completion_tokens": 2})

    status, headers, body = raw_request(
        fake_openai,
        "/v1/chat/completions",
        body=json.dumps({"model": "gpt-x", "messages": MESSAGES}).encode(),
    )

    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
    }
    assert body["model"] == "gpt-x"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    usage = body["usage"]
    assert isinstance(usage, dict)
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (
        11,
        2,
        13,
    )


def test_streaming_yields_pieces_that_join_to_the_reply(
    fake_openai: FakeOpenAI, client: openai.OpenAI
) -> None:
    text = "Streaming replies arrive in several small pieces."
    fake_openai.reply(content=text)

    chunks = list(client.chat.completions.create(model="gpt-fake", messages=MESSAGES, stream=True))

    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices]
    content_pieces = [piece for piece in pieces if piece]
    assert len(content_pieces) > 3
    assert "".join(content_pieces) == text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in chunks)
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)


def test_stream_include_usage_adds_a_usage_chunk(
    fake_openai: FakeOpenAI, client: openai.OpenAI
) -> None:
    fake_openai.reply(content="Counted.", usage={"prompt_tokens": 21, "completion_tokens": 3})

    chunks = list(
        client.chat.completions.create(
            model="gpt-fake",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (21, 3)
    assert last.usage.total_tokens == 24
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in chunks[:-1])


def test_stream_chunks_arrive_incrementally(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    fake_openai.reply(content="x" * 24, chunk_delay=0.05)
    arrivals: list[float] = []

    for _chunk in client.chat.completions.create(model="gpt-fake", messages=MESSAGES, stream=True):
        arrivals.append(time.monotonic())

    # role + 3 content pieces + finish = 5 chunks, 4 gaps of 50 ms between them.
    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] >= 0.15


TOOL_CALLS = [
    {"name": "get_weather", "arguments": '{"city": "Zürich", "unit": "celsius"}'},
    {"name": "get_time", "arguments": '{"timezone": "Europe/Zurich"}'},
]


def test_tool_calls_non_streaming(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    scripted = fake_openai.reply(tool_calls=TOOL_CALLS)  # content defaults to None

    completion = client.chat.completions.create(model="gpt-fake", messages=MESSAGES)

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None
    function_calls = [c for c in calls if isinstance(c, ChatCompletionMessageFunctionToolCall)]
    assert len(function_calls) == len(calls)
    assert [(c.function.name, c.function.arguments) for c in function_calls] == [
        (spec["name"], spec["arguments"]) for spec in TOOL_CALLS
    ]
    assert [call.id for call in calls] == scripted.tool_call_ids
    assert all(call_id.startswith("call_") for call_id in scripted.tool_call_ids)


def test_tool_calls_streaming_accumulate_from_deltas(
    fake_openai: FakeOpenAI, client: openai.OpenAI
) -> None:
    scripted = fake_openai.reply(content=None, tool_calls=TOOL_CALLS)
    accumulated: dict[int, dict[str, str]] = {}
    finish_reason = None

    for chunk in client.chat.completions.create(model="gpt-fake", messages=MESSAGES, stream=True):
        choice = chunk.choices[0]
        finish_reason = choice.finish_reason or finish_reason
        for delta in choice.delta.tool_calls or []:
            slot = accumulated.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            if delta.id is not None:
                assert slot["id"] == "", "id must only come in the first delta of a call"
                slot["id"] = delta.id
            if delta.function is not None:
                slot["name"] += delta.function.name or ""
                slot["arguments"] += delta.function.arguments or ""

    assert finish_reason == "tool_calls"
    assert [accumulated[index] for index in sorted(accumulated)] == [
        {"id": call_id, **spec}
        for call_id, spec in zip(scripted.tool_call_ids, TOOL_CALLS, strict=True)
    ]


def test_models_list() -> None:
    with FakeOpenAI(models=("gpt-fake", "gpt-fake-mini")) as fake, make_client(fake) as sdk:
        models = sdk.models.list()
        assert [model.id for model in models] == ["gpt-fake", "gpt-fake-mini"]
        assert {model.owned_by for model in models} == {"fake-vendor"}
        assert sdk.models.retrieve("gpt-fake-mini").id == "gpt-fake-mini"
        fake.assert_clean()


def test_always_serves_when_queue_is_empty(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    fake_openai.always(content="default")
    fake_openai.reply(content="queued first")

    contents = [
        client.chat.completions.create(model="gpt-fake", messages=MESSAGES)
        .choices[0]
        .message.content
        for _ in range(3)
    ]

    assert contents == ["queued first", "default", "default"]


def test_async_clients_can_hammer_the_default(fake_openai: FakeOpenAI) -> None:
    fake_openai.always(content="pong")

    async def burst() -> list[str | None]:
        async with openai.AsyncOpenAI(
            base_url=fake_openai.base_url, api_key=UPSTREAM_API_KEY, max_retries=0
        ) as sdk:
            results = await asyncio.gather(
                *(
                    sdk.chat.completions.create(model="gpt-fake", messages=MESSAGES)
                    for _ in range(20)
                )
            )
        return [result.choices[0].message.content for result in results]

    assert asyncio.run(burst()) == ["pong"] * 20
    assert len(fake_openai.requests) == 20


# --------------------------------------------------------------------- vendor errors


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, openai.BadRequestError),
        (404, openai.NotFoundError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_error_reply_surfaces_as_matching_sdk_exception(
    fake_openai: FakeOpenAI,
    client: openai.OpenAI,
    status: int,
    exception: type[openai.APIStatusError],
) -> None:
    fake_openai.reply(
        status=status, error={"message": f"scripted failure {status}", "code": "fake_code"}
    )

    with pytest.raises(exception) as caught:
        client.chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert caught.value.status_code == status
    assert f"scripted failure {status}" in str(caught.value)
    assert caught.value.code == "fake_code"
    assert caught.value.body == {
        "message": f"scripted failure {status}",
        "type": caught.value.type,
        "param": None,
        "code": "fake_code",
    }


def test_error_reply_defaults_look_like_the_vendor(
    fake_openai: FakeOpenAI, client: openai.OpenAI
) -> None:
    fake_openai.reply(status=429, headers={"retry-after": "0"})

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert caught.value.type == "requests"
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.response.headers["retry-after"] == "0"


def test_delay_longer_than_client_timeout_times_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(delay=2.0)
    started = time.monotonic()

    with (
        make_client(fake_openai).with_options(timeout=0.2) as sdk,
        pytest.raises(openai.APITimeoutError),
    ):
        sdk.chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert time.monotonic() - started < 1.0


def test_disconnect_surfaces_as_connection_error(
    fake_openai: FakeOpenAI, client: openai.OpenAI
) -> None:
    fake_openai.reply(disconnect=True)

    with pytest.raises(openai.APIConnectionError) as caught:
        client.chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert not isinstance(caught.value, openai.APITimeoutError)


# --------------------------------------------------------------------- failing loudly


def test_wrong_api_key_is_rejected_and_recorded(unchecked_fake: FakeOpenAI) -> None:
    with (
        make_client(unchecked_fake, api_key="not-the-key") as sdk,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        sdk.chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert caught.value.code == "invalid_api_key"
    [entry] = unchecked_fake.unexpected
    assert "401" in entry
    assert "Incorrect API key" in entry
    assert "not-the-key" not in entry
    with pytest.raises(AssertionError, match="unexpected request"):
        unchecked_fake.assert_clean()


def test_request_with_nothing_queued_is_unexpected(unchecked_fake: FakeOpenAI) -> None:
    # Default retries on: x-should-retry=false must keep it to a single request.
    with (
        openai.OpenAI(base_url=unchecked_fake.base_url, api_key=UPSTREAM_API_KEY) as sdk,
        pytest.raises(openai.InternalServerError, match="no reply queued"),
    ):
        sdk.chat.completions.create(model="gpt-fake", messages=MESSAGES)

    assert len(unchecked_fake.requests) == 1
    [entry] = unchecked_fake.unexpected
    assert "no reply queued" in entry
    with pytest.raises(AssertionError, match="no reply queued"):
        unchecked_fake.assert_clean()


def test_never_consumed_reply_fails_assert_clean(unchecked_fake: FakeOpenAI) -> None:
    unchecked_fake.reply(content="nobody asked")

    assert unchecked_fake.unexpected == []
    with pytest.raises(AssertionError, match=r"never consumed.*nobody asked"):
        unchecked_fake.assert_clean()


@pytest.mark.parametrize(
    ("method", "path", "body", "api_key", "status", "reason"),
    [
        ("POST", "/v1/completions", b"{}", UPSTREAM_API_KEY, 404, "Invalid URL"),
        ("GET", "/v1/chat/completions", None, UPSTREAM_API_KEY, 405, "not allowed"),
        ("POST", "/v1/chat/completions", b"[1, 2]", UPSTREAM_API_KEY, 400, "not a JSON object"),
        ("POST", "/v1/chat/completions", b"{not json", UPSTREAM_API_KEY, 400, "not a JSON"),
        ("POST", "/v1/chat/completions", b'{"messages": []}', UPSTREAM_API_KEY, 400, "'model'"),
        ("POST", "/v1/chat/completions", b'{"model": "m"}', UPSTREAM_API_KEY, 400, "'messages'"),
        ("POST", "/v1/chat/completions", b'{"model": "m", "messages": []}', None, 401, "API key"),
    ],
)
def test_off_script_requests_fail_loudly(
    unchecked_fake: FakeOpenAI,
    method: str,
    path: str,
    body: bytes | None,
    api_key: str | None,
    status: int,
    reason: str,
) -> None:
    unchecked_fake.always()  # even a default reply must not paper over a bad request

    got_status, headers, payload = raw_request(
        unchecked_fake, path, method=method, body=body, api_key=api_key
    )

    assert got_status == status
    assert headers["x-should-retry"] == "false"
    error = payload["error"]
    assert isinstance(error, dict)
    assert set(error) == {"message", "type", "param", "code"}
    assert reason in error["message"]
    [entry] = unchecked_fake.unexpected
    assert reason in entry
    assert len(unchecked_fake.requests) == 1
    with pytest.raises(AssertionError):
        unchecked_fake.assert_clean()


def test_reply_validation_rejects_bad_scripts(unchecked_fake: FakeOpenAI) -> None:
    with pytest.raises(ValueError, match="non-200"):
        unchecked_fake.reply(error={"message": "x"})
    with pytest.raises(ValueError, match="arguments"):
        unchecked_fake.reply(tool_calls=[{"name": "f", "arguments": {"a": 1}}])  # type: ignore[dict-item]
    assert unchecked_fake.pending == []


# --------------------------------------------------------------------- standalone mode


def test_standalone_mode_serves_default_reply() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_upstream", "--port", "0", "--api-key", "k"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = banner.rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        with openai.OpenAI(base_url=base_url, api_key="k", max_retries=0) as sdk:
            completion = sdk.chat.completions.create(model="gpt-fake", messages=MESSAGES)
            streamed = "".join(
                chunk.choices[0].delta.content or ""
                for chunk in sdk.chat.completions.create(
                    model="gpt-fake", messages=MESSAGES, stream=True
                )
                if chunk.choices
            )
        assert completion.choices[0].message.content == streamed
        assert streamed
    finally:
        process.terminate()
        process.wait(timeout=5)
