"""``redline serve`` as a separate process: starts, serves, refuses, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import orjson

from tests.conftest import free_port, wait_for_port


def test_serve_starts_on_defaults_and_stops_on_sigterm_with_ledger_intact(tmp_path: Path) -> None:
    port = free_port()
    redline = str(Path(sys.executable).parent / "redline")
    env = os.environ | {"REDLINE_DATA_DIR": str(tmp_path), "REDLINE_PORT": str(port)}
    key = subprocess.run(
        [redline, "keys", "create", "--name", "svc"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    server = subprocess.Popen([redline, "serve"], env=env, stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        ready = httpx2.get(f"http://127.0.0.1:{port}/readyz")
        answer = httpx2.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={"model": "redline-echo", "messages": [{"role": "user", "content": "ping"}]},
            headers={"Authorization": f"Bearer {key}"},
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)

    assert ready.json()["status"] == "ready"
    assert answer.json()["choices"][0]["message"]["content"] == "echo: ping"
    # uvicorn re-raises the signal after a graceful shutdown, as a service manager expects.
    assert server.returncode in (0, -signal.SIGTERM)
    assert server.stderr is not None
    assert b"Traceback" not in server.stderr.read()
    listed = subprocess.run(
        [redline, "ledger", "list", "--json"], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert [orjson.loads(line)["decision"] for line in listed] == ["allow"]


def test_serve_refuses_to_start_with_an_unapproved_upstream(tmp_path: Path) -> None:
    (tmp_path / "redline.yaml").write_text(
        "upstreams:\n  - name: rogue\n    base_url: https://llm.example.net/v1\n    models: ['*']\n"
    )
    redline = str(Path(sys.executable).parent / "redline")
    result = subprocess.run(
        [redline, "--data-dir", str(tmp_path), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "not approved by policy" in result.stderr
