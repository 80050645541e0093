"""Receipts and checkpoints over HTTP: a client proves its decision is in the signed log."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx2

from redline.ledger.notes import VerifierKey, open_checkpoint
from redline.ledger.receipts import verify_receipt
from tests.conftest import RunningGateway
from tests.fakes.openai_upstream import FakeOpenAI


def _get(gateway: RunningGateway, path: str, key: str | None = None) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {key or gateway.client_key}"}
    return httpx2.get(f"{gateway.url}{path}", headers=headers)


def _wait_for_receipt(gateway: RunningGateway, decision_id: str) -> httpx2.Response:
    deadline = time.monotonic() + 10
    while True:
        response = _get(gateway, f"/v1/ledger/receipts/{decision_id}")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_a_client_gets_a_receipt_that_verifies_offline(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai, checkpoint_every_entries=1, checkpoint_every_seconds=0.1)
    fake_openai.reply(content="ok")
    answer = gateway.openai().chat.completions.with_raw_response.create(
        model="gpt-fake", messages=[{"role": "user", "content": "Summarise the fuel report."}]
    )
    decision_id = answer.headers["x-redline-decision-id"]

    found = _wait_for_receipt(gateway, decision_id)
    key = VerifierKey.from_vkey(httpx2.get(f"{gateway.url}/v1/ledger/key").text.strip())

    assert found.status_code == 200
    assert verify_receipt(found.json(), key) >= 1
    checkpoint, _ = open_checkpoint(_get(gateway, "/v1/ledger/checkpoint").text, [key])
    assert checkpoint.origin == "redline.local/ledger"


def test_receipt_for_an_unknown_decision_is_404(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    response = _get(gateway, "/v1/ledger/receipts/dec_nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_consistency_proof_between_two_sizes(
    start_gateway: Callable[..., RunningGateway], fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai, checkpoint_every_entries=1, checkpoint_every_seconds=0.1)
    fake_openai.always(content="ok")
    ids = []
    for number in range(4):
        answer = gateway.openai().chat.completions.with_raw_response.create(
            model="gpt-fake", messages=[{"role": "user", "content": f"Report {number}."}]
        )
        ids.append(answer.headers["x-redline-decision-id"])
    assert _wait_for_receipt(gateway, ids[-1]).status_code == 200

    proof = _get(gateway, "/v1/ledger/consistency?from=2&to=4")
    bad = _get(gateway, "/v1/ledger/consistency?from=5&to=2")

    assert proof.status_code == 200
    assert len(proof.json()["consistency_proof"]) >= 1
    assert bad.status_code == 400
