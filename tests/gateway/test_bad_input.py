"""Bad input and failures: OpenAI error shape, the right status, exactly one recorded decision."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx2
import openai
import orjson
import pytest

from redline.principals import Role
from redline.settings import UpstreamConfig
from tests.conftest import UPSTREAM_KEY_ENV, RunningGateway, free_port, make_key
from tests.fakes.openai_upstream import FakeOpenAI


def _post(gateway: RunningGateway, body: bytes, key: str | None = "client") -> httpx2.Response:
    headers = {"Content-Type": "application/json"}
    if key == "client":
        headers["Authorization"] = f"Bearer {gateway.client_key}"
    elif key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return httpx2.post(f"{gateway.url}/v1/chat/completions", content=body, headers=headers)


def _chat(content: object = "hello", **extra: object) -> bytes:
    return orjson.dumps(
        {"model": "gpt-fake", "messages": [{"role": "user", "content": content}]} | extra
    )


def _nested(depth: int) -> bytes:
    return b'{"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}], "x": ' + (
        b"[" * depth + b"]" * depth + b"}"
    )


BAD_BODIES: dict[str, tuple[bytes, int, str]] = {
    "malformed json": (b'{"model": "gpt-fake", "messages": [', 400, "malformed_json"),
    "not an object": (b'["model", "gpt-fake"]', 400, "malformed_json"),
    "invalid utf-8": (
        b'{"model": "gpt-fake", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
        400,
        "invalid_encoding",
    ),
    "messages not a list": (
        orjson.dumps({"model": "gpt-fake", "messages": "hi"}),
        400,
        "invalid_field",
    ),
    "content wrong type": (_chat(content=42), 400, "invalid_field"),
    "role missing": (
        orjson.dumps({"model": "gpt-fake", "messages": [{"content": "x"}]}),
        400,
        "invalid_field",
    ),
    "model missing": (
        orjson.dumps({"messages": [{"role": "user", "content": "x"}]}),
        400,
        "invalid_field",
    ),
    "stream not bool": (_chat(stream="yes"), 400, "invalid_field"),
    "tools not a list": (_chat(tools={"a": 1}), 400, "invalid_field"),
    "thousands of messages": (
        orjson.dumps({"model": "gpt-fake", "messages": [{"role": "user", "content": "x"}] * 5000}),
        400,
        "too_many_items",
    ),
    "deeply nested": (_nested(200), 400, "too_deep"),
    "nested past the parser's own limit": (_nested(5000), 400, "too_deep"),
    "unknown model": (
        orjson.dumps({"model": "gpt-unheard-of", "messages": [{"role": "user", "content": "x"}]}),
        404,
        "model_not_found",
    ),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=str)
def test_bad_body_gets_openai_error_and_exactly_one_recorded_refusal(
    gateway: RunningGateway, fake_openai: FakeOpenAI, case: str
) -> None:
    body, status, code = BAD_BODIES[case]

    response = _post(gateway, body)

    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in response.text
    [entry] = gateway.entries()
    assert entry["decision"] == "block"
    assert entry["reasons"][0]["code"] == code
    assert entry["decision_id"] == response.headers["x-redline-decision-id"] == error["decision_id"]
    assert fake_openai.requests == []


def test_body_over_the_limit_is_refused_without_reading_it_all(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai, max_body_bytes=64 * 1024)

    response = _post(gateway, _chat(content="x" * 100_000))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    [entry] = gateway.entries()
    assert entry["reasons"][0]["code"] == "body_too_large"


@pytest.mark.parametrize("key", [None, "not-a-key", "rlk_deadbeef_forgedsecret", "sk-openai-style"])
def test_missing_or_forged_key_is_401_and_recorded(
    gateway: RunningGateway, fake_openai: FakeOpenAI, key: str | None
) -> None:
    response = _post(gateway, _chat(), key=key)

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    [entry] = gateway.entries()
    assert entry["principal"] is None
    assert entry["reasons"][0]["code"] == "unauthenticated"


def test_revoked_key_is_refused_with_the_sdk_authentication_error(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    key_id = gateway.client_key.split("_")[1]
    assert gateway.store.revoke_key(key_id, "2026-11-27T00:00:00Z")

    with pytest.raises(openai.AuthenticationError):
        gateway.openai().chat.completions.create(
            model="gpt-fake", messages=[{"role": "user", "content": "hi"}]
        )


def test_key_without_client_role_is_forbidden(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    response = _post(gateway, _chat(), key=gateway.auditor_key)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_upstream_down_is_502_with_a_recorded_decision(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    dead = UpstreamConfig(
        name="dead",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        api_key_env=UPSTREAM_KEY_ENV,
        models=("gpt-fake",),
    )
    gateway = start_gateway(upstreams=(dead,))

    with pytest.raises(openai.APIStatusError) as failed:
        gateway.openai().chat.completions.create(
            model="gpt-fake", messages=[{"role": "user", "content": "hi"}]
        )

    assert failed.value.status_code == 502
    assert isinstance(failed.value.body, dict)
    assert failed.value.body["code"] == "upstream_unavailable"
    [entry] = gateway.entries()
    outcome = _wait_for_outcome(gateway, entry["decision_id"])
    assert outcome.status == 502


def test_slow_upstream_is_504(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai, upstream_read_timeout_s=0.3)
    fake_openai.reply(content="too late", delay=2.0)

    with pytest.raises(openai.APIStatusError) as failed:
        gateway.openai().chat.completions.create(
            model="gpt-fake", messages=[{"role": "user", "content": "hi"}]
        )

    assert failed.value.status_code == 504
    assert isinstance(failed.value.body, dict)
    assert failed.value.body["code"] == "upstream_timeout"


def test_upstream_error_body_is_passed_through_in_its_own_shape(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply(
        status=429,
        error={
            "message": "Rate limit reached",
            "type": "rate_limit",
            "code": "rate_limit_exceeded",
        },
    )

    with pytest.raises(openai.RateLimitError) as limited:
        gateway.openai().chat.completions.create(
            model="gpt-fake", messages=[{"role": "user", "content": "hi"}]
        )

    assert "Rate limit reached" in str(limited.value)
    assert limited.value.response.headers["x-redline-decision-id"].startswith("dec_")


def test_auditor_can_read_a_decision_and_a_client_cannot(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply(content="ok")
    response = _post(gateway, _chat())
    decision_id = response.headers["x-redline-decision-id"]
    _wait_for_outcome(gateway, decision_id)

    as_auditor = httpx2.get(
        f"{gateway.url}/v1/decisions/{decision_id}",
        headers={"Authorization": f"Bearer {gateway.auditor_key}"},
    )
    as_client = httpx2.get(
        f"{gateway.url}/v1/decisions/{decision_id}",
        headers={"Authorization": f"Bearer {gateway.client_key}"},
    )

    by_seq = httpx2.get(
        f"{gateway.url}/v1/decisions/{as_auditor.json()['seq']}",
        headers={"Authorization": f"Bearer {gateway.auditor_key}"},
    )
    assert as_auditor.status_code == 200
    assert as_auditor.json()["entry"]["decision_id"] == decision_id
    assert by_seq.json()["entry"]["decision_id"] == decision_id
    assert as_auditor.json()["outcome"]["status"] == 200
    assert as_client.status_code == 403


def test_admin_role_covers_every_endpoint(gateway: RunningGateway, fake_openai: FakeOpenAI) -> None:
    admin = make_key(gateway.store, "admin", Role.ADMIN)
    fake_openai.reply(content="ok")

    assert _post(gateway, _chat(), key=admin).status_code == 200


def _wait_for_outcome(gateway: RunningGateway, decision_id: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        outcome = gateway.store.get_outcome(decision_id)
        if outcome is not None:
            return outcome
        time.sleep(0.02)
    raise AssertionError(f"no outcome recorded for {decision_id}")
