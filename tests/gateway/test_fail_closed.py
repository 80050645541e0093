"""Fail closed: a detector that crashes or overruns its budget blocks, and the block is recorded."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from redline.gateway import create_app
from redline.settings import Settings
from redline.store.sqlite import SQLiteStore
from tests.conftest import RunningGateway, ServerThread, make_key
from tests.detectors.plugins import install_third_party_detectors
from tests.fakes.openai_upstream import FakeOpenAI


@pytest.fixture(autouse=True)
def _plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    install_third_party_detectors(plugins, monkeypatch)


def _chat(gateway: RunningGateway, text: str) -> httpx2.Response:
    return httpx2.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-fake", "messages": [{"role": "user", "content": text}]},
        headers={"Authorization": f"Bearer {gateway.client_key}"},
        timeout=30,
    )


def test_crashing_detector_blocks_and_the_request_never_reaches_upstream(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai, detectors=("rules", "crashing"))

    response = _chat(gateway, "Summarise the fuel report.")

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "detector_error"
    assert "detector_error:crashing" in error["message"]
    [entry] = gateway.entries()
    assert entry["decision"] == "block"
    assert entry["reasons"][0]["code"] == "detector_error:crashing"
    assert entry["detectors"]["crashing"] == "sha256:crash"
    assert fake_openai.requests == []


def test_detector_over_its_budget_blocks_small_requests(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai, detectors=("slow",), detector_budget_ms=50)

    response = _chat(gateway, "Summarise the fuel report.")

    assert response.status_code == 503
    [entry] = gateway.entries()
    assert entry["reasons"][0]["code"] == "detector_error:slow"
    assert fake_openai.requests == []


def test_budget_bounds_latency_for_large_requests(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai, detectors=("slow",), detector_budget_ms=100)
    started = time.monotonic()

    response = _chat(gateway, "Summarise the fuel report. " * 1000)

    # The detector sleeps 3 s; the gateway must answer at its deadline, not when it finishes.
    assert time.monotonic() - started < 2.0
    assert response.status_code == 503
    [entry] = gateway.entries()
    assert entry["reasons"][0]["code"] == "detector_error:pipeline"


def test_third_party_finding_is_enforced_like_a_shipped_one(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai, detectors=("rules", "flagging"))

    response = _chat(gateway, "Summarise the fuel report.")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "domestic-mass-surveillance"


class UnwritableStore(SQLiteStore):
    def write_batch(self, entries, contents, outcomes=()):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")


def test_unwritable_ledger_refuses_the_request_and_never_reaches_upstream(
    settings_for: Callable[..., Settings], fake_openai: FakeOpenAI
) -> None:
    settings = settings_for(fake_openai)
    store = UnwritableStore(settings.database_path)
    key = make_key(store, "client")
    with ServerThread(create_app(settings, store=store), settings.port):
        response = httpx2.post(
            f"http://127.0.0.1:{settings.port}/v1/chat/completions",
            json={"model": "gpt-fake", "messages": [{"role": "user", "content": "hello"}]},
            headers={"Authorization": f"Bearer {key}"},
        )
        ready = httpx2.get(f"http://127.0.0.1:{settings.port}/readyz")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ledger_unavailable"
    assert ready.status_code == 503
    assert ready.json()["checks"]["ledger"] is False
    assert fake_openai.requests == []
