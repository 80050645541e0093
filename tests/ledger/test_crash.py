"""Crash safety: SIGKILL the gateway under load; every answered request is in the ledger after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from redline.ledger.checkpoints import load_or_create_key
from redline.ledger.export import export, verify
from redline.store.sqlite import SQLiteStore
from tests.conftest import free_port, make_key, wait_for_port

REDLINE = str(Path(sys.executable).parent / "redline")


def _load(port: int, key: str, answered: list[str], stop: threading.Event) -> None:
    with httpx2.Client(timeout=5) as client:
        while not stop.is_set():
            try:
                response = client.post(
                    f"http://127.0.0.1:{port}/v1/chat/completions",
                    json={"model": "redline-echo", "messages": [{"role": "user", "content": "hi"}]},
                    headers={"Authorization": f"Bearer {key}"},
                )
            except httpx2.HTTPError:
                return  # the gateway is gone
            if response.status_code == 200:
                answered.append(response.headers["x-redline-decision-id"])


@pytest.mark.parametrize("round_", range(3))
def test_every_answered_request_survives_sigkill_and_the_log_verifies(
    tmp_path: Path, round_: int
) -> None:
    data = tmp_path / "data"
    store = SQLiteStore(data / "redline.db")
    key = make_key(store, "load")
    store.close()
    port = free_port()
    env = os.environ | {
        "REDLINE_DATA_DIR": str(data),
        "REDLINE_PORT": str(port),
        "REDLINE_CHECKPOINT_EVERY_ENTRIES": "50",
        "REDLINE_LOG_LEVEL": "warning",
    }
    answered: list[str] = []
    stop = threading.Event()

    server = subprocess.Popen([REDLINE, "serve"], env=env, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    workers = [threading.Thread(target=_load, args=(port, key, answered, stop)) for _ in range(8)]
    for worker in workers:
        worker.start()
    time.sleep(1.0 + 0.3 * round_)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for worker in workers:
        worker.join()
    assert len(answered) > 20

    # Restart, let it checkpoint what it finds, and stop it cleanly.
    server = subprocess.Popen([REDLINE, "serve"], env=env, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=15)

    store = SQLiteStore(data / "redline.db")
    missing = [decision for decision in answered if store.get_entry(decision) is None]
    ledger_key = load_or_create_key(data / "keys" / "ledger.key", "redline.local/ledger")
    export(store, tmp_path / "export", ledger_key.to_vkey())
    store.close()
    assert missing == []
    result = verify(tmp_path / "export", ledger_key.verifier)
    assert result.covered == result.entries >= len(answered)
