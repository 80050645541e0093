"""Shared fixtures: real SQLite files, a real gateway on a port, the fake vendor on another."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
import uvicorn

from redline.gateway import create_app
from redline.principals import KeyRecord, Role, new_key
from redline.settings import Settings, UpstreamConfig
from redline.store.sqlite import SQLiteStore
from tests.classifier.fixtures import corpus_folder, trained
from tests.fakes.fixtures import UPSTREAM_API_KEY, fake_openai
from tests.fakes.openai_upstream import FakeOpenAI

__all__ = ["corpus_folder", "fake_openai", "trained"]

UPSTREAM_KEY_ENV = "REDLINE_TEST_UPSTREAM_KEY"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Wait until something accepts connections on ``port`` (a server started as a process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listening on port {port}")


def make_key(
    store: SQLiteStore,
    name: str,
    *roles: Role,
    human: str | None = None,
    unit: str | None = "test-unit",
) -> str:
    key_id, full_key, secret_hash = new_key()
    store.create_key(
        KeyRecord(
            key_id=key_id,
            name=name,
            human=human or name,
            unit=unit,
            roles=roles or (Role.CLIENT,),
            secret_hash=secret_hash,
            created_at=dt.datetime.now(dt.UTC).isoformat(),
        )
    )
    return full_key


@dataclass
class RunningGateway:
    url: str
    settings: Settings
    store: SQLiteStore
    client_key: str
    auditor_key: str

    def openai(self, key: str | None = None, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=f"{self.url}/v1", api_key=key or self.client_key, max_retries=0, **kwargs
        )

    def entries(self) -> list[dict[str, Any]]:
        import orjson

        return [orjson.loads(e.entry) for e in self.store.list_entries(0, 1_000_000)]


class ServerThread:
    """A uvicorn server in a thread, stopped cleanly (lifespan shutdown runs)."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("gateway did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def settings_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Settings for a gateway in ``tmp_path`` whose upstream is the given fake vendor."""
    monkeypatch.setenv(UPSTREAM_KEY_ENV, UPSTREAM_API_KEY)

    def build(fake: FakeOpenAI | None = None, **overrides: Any) -> Settings:
        upstreams = overrides.pop("upstreams", None)
        if upstreams is None and fake is not None:
            upstreams = (
                UpstreamConfig(
                    name="vendor",
                    base_url=fake.base_url,
                    api_key_env=UPSTREAM_KEY_ENV,
                    models=("gpt-fake", "gpt-4o*"),
                ),
            )
        values: dict[str, Any] = {"data_dir": tmp_path / "data", "port": free_port()}
        if upstreams is not None:
            values["upstreams"] = upstreams
        return Settings(**(values | overrides))

    return build


@pytest.fixture
def start_gateway(
    settings_for: Callable[..., Settings],
) -> Iterator[Callable[..., RunningGateway]]:
    """Start a real gateway on a port; several per test are allowed (each is stopped after)."""
    stack: list[tuple[ServerThread, SQLiteStore]] = []

    def start(fake: FakeOpenAI | None = None, **overrides: Any) -> RunningGateway:
        settings = settings_for(fake, **overrides)
        store = SQLiteStore(settings.database_path)
        client_key = make_key(store, "test-client", Role.CLIENT, human="Casey Client")
        auditor_key = make_key(store, "test-auditor", Role.AUDITOR, human="Avery Auditor")
        server = ServerThread(create_app(settings), settings.port).__enter__()
        stack.append((server, store))
        return RunningGateway(
            f"http://127.0.0.1:{settings.port}", settings, store, client_key, auditor_key
        )

    yield start
    for server, store in reversed(stack):
        server.__exit__(None, None, None)
        store.close()


@pytest.fixture
def gateway(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> RunningGateway:
    return start_gateway(fake_openai)
