"""A pack can require co-signed checkpoints: past the deadline the gateway refuses, and records."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import httpx2
import pytest

from redline.gateway import app as gateway_app
from redline.ledger.checkpoints import load_or_create_key
from redline.ledger.export import cosign, export
from redline.ledger.notes import SigningKey, open_checkpoint
from tests.conftest import RunningGateway
from tests.fakes.openai_upstream import FakeOpenAI


def _chat(gateway: RunningGateway) -> httpx2.Response:
    return httpx2.post(
        f"{gateway.url}/v1/chat/completions",
        json={
            "model": "gpt-fake",
            "messages": [{"role": "user", "content": "Summarise the report."}],
        },
        headers={"Authorization": f"Bearer {gateway.client_key}"},
    )


def test_requests_are_refused_once_the_cosignature_is_overdue_and_resume_after_cosigning(
    start_gateway: Callable[..., RunningGateway],
    fake_openai: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gateway_app, "COSIGNATURE_CHECK_SECONDS", 0.0)
    vendor = SigningKey.generate("vendor.example/witness")
    pack = (resources.files("redline.policy") / "packs" / "agreement.yaml").read_text()
    pack_file = tmp_path / "pack.yaml"
    pack_file.write_text(
        pack
        + f"\nledger:\n  cosigners: ['{vendor.to_vkey()}']\n  max_cosignature_age_hours: 0.0003\n"
    )
    gateway = start_gateway(
        fake_openai,
        policy=str(pack_file),
        checkpoint_every_entries=1,
        checkpoint_every_seconds=0.05,
    )
    fake_openai.always(content="ok")

    first = _chat(gateway)
    time.sleep(1.3)  # past the 0.0003-hour (about 1 s) deadline
    refused = _chat(gateway)

    assert first.status_code == 200
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "cosignature_overdue"
    assert gateway.entries()[-1]["reasons"][0]["code"] == "cosignature_overdue"

    # The vendor verifies an export and co-signs its newest checkpoint; the gateway imports it.
    log_key = load_or_create_key(gateway.settings.ledger_key_path, gateway.settings.ledger_origin)
    export(gateway.store, tmp_path / "export", log_key.to_vkey())
    checkpoint = cosign(tmp_path / "export", log_key.verifier, vendor, tmp_path / "vendor.state")
    note = (tmp_path / "export" / "checkpoints" / f"{checkpoint.size}.note").read_text()
    open_checkpoint(note, [vendor.verifier])
    gateway.store.put_checkpoint(
        checkpoint.size, checkpoint.root, note, dt.datetime.now(dt.UTC).isoformat()
    )

    assert _chat(gateway).status_code == 200
