"""Every way of getting a force-related call authorised without the rule being met is refused
with a clear error, and the refusal is recorded in the ledger."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from redline.authorisation import Keyring, SigningKey, issue_token, new_claims
from tests.conftest import make_key
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gateway.holds_support import ENGAGE_ARGUMENTS, People, StartGateway, people, policy_with


@pytest.fixture
def crew(start_gateway: StartGateway, fake_openai: FakeOpenAI) -> People:
    return people(start_gateway(fake_openai))


@pytest.fixture
def hold_id(crew: People, fake_openai: FakeOpenAI) -> str:
    """A pending hold on an engagement the model proposed."""
    return crew.held_engagement(fake_openai)


def approved_token(crew: People, fake: FakeOpenAI) -> str:
    hold_id = crew.held_engagement(fake)
    crew.approve(hold_id, crew.alice)
    crew.approve(hold_id, crew.bob)
    return crew.hold(hold_id)["token"]


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


def test_approving_without_the_authoriser_role_is_refused_and_recorded(
    crew: People, hold_id: str
) -> None:
    refused = crew.approve(hold_id, crew.gateway.auditor_key)
    assert refused.status_code == 403
    assert error_code(refused) == "wrong_role"
    assert crew.steps()[-1] == ("refused", "wrong_role")
    assert crew.hold(hold_id)["approvals"] == []


def test_the_requester_cannot_approve_its_own_hold_even_with_another_key(
    crew: People, hold_id: str
) -> None:
    refused = crew.approve(hold_id, crew.requester_as_authoriser)
    assert refused.status_code == 403
    assert error_code(refused) == "own_hold"
    assert crew.steps()[-1] == ("refused", "own_hold")


def test_one_person_approving_twice_does_not_count_as_two_approvers(
    crew: People, hold_id: str
) -> None:
    assert crew.approve(hold_id, crew.alice).status_code == 200
    again = crew.approve(hold_id, crew.alice_second_key)  # same human, second key
    assert again.status_code == 409
    assert error_code(again) == "already_approved"
    hold = crew.hold(hold_id)
    assert hold["status"] == "pending"
    assert "token" not in hold
    assert crew.steps()[-1] == ("refused", "already_approved")


def test_the_requesters_own_unit_may_not_approve_unless_the_policy_allows(
    crew: People, hold_id: str
) -> None:
    refused = crew.approve(hold_id, crew.same_unit_authoriser)
    assert refused.status_code == 403
    assert error_code(refused) == "same_unit"


def test_an_expired_hold_cannot_be_approved(
    start_gateway: StartGateway, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    gateway = start_gateway(fake_openai, policy=policy_with(tmp_path, hold_minutes=0.005))
    crew = people(gateway)
    hold_id = crew.held_engagement(fake_openai)
    time.sleep(0.5)
    refused = crew.approve(hold_id, crew.alice)
    assert refused.status_code == 409
    assert error_code(refused) == "hold_expired"
    assert crew.hold(hold_id)["status"] == "expired"
    assert crew.steps()[-2:] == [("expired", None), ("refused", "hold_expired")]


def test_a_denied_hold_cannot_be_approved(crew: People, hold_id: str) -> None:
    assert crew.deny(hold_id, crew.carol).json()["status"] == "denied"
    refused = crew.approve(hold_id, crew.alice)
    assert refused.status_code == 409
    assert error_code(refused) == "hold_denied"
    assert crew.steps()[-2:] == [("denied", None), ("refused", "hold_denied")]


def test_approving_or_denying_needs_a_written_reason(crew: People, hold_id: str) -> None:
    for act in (crew.approve, crew.deny):
        refused = act(hold_id, crew.alice, "   ")
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "reason"
    assert crew.steps()[-2:] == [("refused", "invalid_field"), ("refused", "invalid_field")]
    assert crew.hold(hold_id)["status"] == "pending"


def test_approving_without_a_key_or_with_a_malformed_body_is_refused_and_recorded(
    crew: People, hold_id: str
) -> None:
    anonymous = httpx.post(f"{crew.gateway.url}/v1/holds/{hold_id}/approve", json={"reason": "x"})
    assert anonymous.status_code == 401
    with crew.http(crew.alice) as http:
        garbled = http.post(f"/v1/holds/{hold_id}/approve", content=b'{"reason": ')
    assert garbled.status_code == 400
    assert crew.steps()[-2:] == [("refused", "unauthenticated"), ("refused", "malformed_json")]


def test_a_token_for_changed_arguments_is_refused_at_redemption(
    crew: People, fake_openai: FakeOpenAI
) -> None:
    token = approved_token(crew, fake_openai)
    swapped = crew.redeem(token, "engage_target", {"target_id": "T-99", "munition": "M795"})
    assert swapped.status_code == 403
    assert error_code(swapped) == "arguments_mismatch"
    assert crew.steps()[-1] == ("refused", "arguments_mismatch")


def test_a_token_for_another_tool_is_refused(crew: People, fake_openai: FakeOpenAI) -> None:
    token = approved_token(crew, fake_openai)
    other = crew.redeem(token, "launch_missile", ENGAGE_ARGUMENTS)
    assert error_code(other) == "wrong_tool"
    assert crew.steps()[-1] == ("refused", "wrong_tool")


def test_an_expired_token_is_refused(
    start_gateway: StartGateway, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    gateway = start_gateway(fake_openai, policy=policy_with(tmp_path, token_minutes=0.001))
    crew = people(gateway)
    token = approved_token(crew, fake_openai)
    time.sleep(2.2)
    late = crew.redeem(token, "engage_target", ENGAGE_ARGUMENTS)
    assert error_code(late) == "expired"
    assert crew.steps()[-1] == ("refused", "expired")


def test_a_forged_signature_is_refused(crew: People, fake_openai: FakeOpenAI) -> None:
    real = Keyring(crew.gateway.settings.authorisation_keys_path).active()
    impostor = SigningKey(real.kid, Ed25519PrivateKey.generate())  # claims the real key's id
    claims = new_claims(
        hold_id="hold_forged",
        tool="engage_target",
        arguments_sha256="0" * 64,
        approvers=("Alice Ames", "Bob Burke"),
        requester="Casey Client",
        policy_hash="sha256:forged",
        issuer="redline.local/ledger",
        lifetime_s=600,
    )
    forged = crew.redeem(issue_token(claims, impostor), "engage_target", ENGAGE_ARGUMENTS)
    assert error_code(forged) == "bad_signature"
    assert crew.steps()[-1] == ("refused", "bad_signature")


def test_a_token_from_the_old_key_is_refused_after_rotation(
    crew: People, fake_openai: FakeOpenAI
) -> None:
    token = approved_token(crew, fake_openai)
    old_kid = crew.jwks()["keys"][0]["kid"]
    Keyring(crew.gateway.settings.authorisation_keys_path).rotate()
    assert [key["kid"] for key in crew.jwks()["keys"]] != [old_kid]
    stale = crew.redeem(token, "engage_target", ENGAGE_ARGUMENTS)
    assert error_code(stale) == "unknown_key"
    assert crew.steps()[-1] == ("refused", "unknown_key")


def test_a_token_redeemed_twice_is_refused_the_second_time(
    crew: People, fake_openai: FakeOpenAI
) -> None:
    token = approved_token(crew, fake_openai)
    first = crew.redeem(token, "engage_target", ENGAGE_ARGUMENTS)
    assert first.status_code == 200, first.text
    assert first.json()["approvers"] == ["Alice Ames", "Bob Burke"]
    replay = crew.redeem(token, "engage_target", ENGAGE_ARGUMENTS)
    assert replay.status_code == 403
    assert error_code(replay) == "replayed"
    assert crew.steps()[-2:] == [("redeemed", None), ("refused", "replayed")]


def test_clients_see_only_their_own_holds(crew: People, hold_id: str) -> None:
    stranger = make_key(crew.gateway.store, "other-agent", human="Ola Other")
    with crew.http(stranger) as http:
        assert http.get(f"/v1/holds/{hold_id}").status_code == 404
        assert http.get("/v1/holds").json()["data"] == []
    with crew.http(crew.alice) as http:
        listed = http.get("/v1/holds", params={"status": "pending"}).json()["data"]
    assert [hold["id"] for hold in listed] == [hold_id]


def test_waiting_on_a_hold_returns_as_soon_as_it_is_decided(crew: People, hold_id: str) -> None:
    timer = threading.Timer(0.5, lambda: crew.deny(hold_id, crew.bob))
    timer.start()
    started = time.monotonic()
    with crew.http(crew.gateway.client_key) as http:
        decided = http.get(f"/v1/holds/{hold_id}", params={"wait": 20}).json()
    timer.join()
    assert decided["status"] == "denied"
    assert time.monotonic() - started < 10


def test_an_expired_hold_lists_as_expired_not_pending(
    start_gateway: StartGateway, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    gateway = start_gateway(fake_openai, policy=policy_with(tmp_path, hold_minutes=0.005))
    crew = people(gateway)
    hold_id = crew.held_engagement(fake_openai)
    time.sleep(0.5)
    with crew.http(crew.alice) as http:
        pending = http.get("/v1/holds", params={"status": "pending"}).json()["data"]
        expired = http.get("/v1/holds", params={"status": "expired"}).json()["data"]
    assert pending == []
    assert [hold["id"] for hold in expired] == [hold_id]
