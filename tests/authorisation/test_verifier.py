"""The effector's check: each way a token can be abused is refused with its own code."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from redline.authorisation import (
    TOKEN_TYPE,
    Keyring,
    SigningKey,
    TokenClaims,
    TokenRefused,
    UsedTokens,
    arguments_digest,
    issue_token,
    new_claims,
    verify,
)

NOW = 1_800_000_000
TOOL = "engage_target"
CALL = {"target": "T-1042", "grid": [38.8977, -77.0365], "rounds": 2, "confirm": True}
SAME_CALL_AS_TEXT = (
    '{ "rounds":2, "confirm" : true,\n "grid":[38.8977,-77.0365], "target":"T-1042"}'
)


def claims(**overrides: Any) -> TokenClaims:
    values: dict[str, Any] = {
        "hold_id": "hold_01",
        "tool": TOOL,
        "arguments_sha256": arguments_digest(CALL),
        "approvers": ("Ada Approver", "Bo Approver"),
        "requester": "Casey Client",
        "policy_hash": "sha256:" + "ab" * 32,
        "issuer": "https://gateway.example",
        "lifetime_s": 300,
        "now": NOW,
    }
    return new_claims(**(values | overrides))


def signed(payload: dict[str, Any], key: SigningKey, **header: Any) -> str:
    """A token with exactly this payload and header, signed by ``key`` (for abuse cases)."""
    headers = {"alg": "EdDSA", "typ": TOKEN_TYPE, "kid": key.kid} | header
    return jwt.PyJWS().encode(json.dumps(payload).encode(), key.private_key, headers=headers)


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys")


@pytest.fixture
def token(keyring: Keyring) -> str:
    return issue_token(claims(), keyring.active())


def refusal(token: str, keys: Any, **call: Any) -> str:
    arguments: dict[str, Any] = {"tool": TOOL, "arguments": CALL, "now": NOW + 10} | call
    with pytest.raises(TokenRefused) as refused:
        verify(token, keys, **arguments)
    return refused.value.code


def test_exactly_the_approved_call_is_accepted(keyring: Keyring, token: str) -> None:
    accepted = verify(
        token, keyring.public_keys(), tool=TOOL, arguments=SAME_CALL_AS_TEXT, now=NOW + 10
    )
    assert accepted.hold_id == "hold_01"
    assert accepted.approvers == ("Ada Approver", "Bo Approver")
    assert accepted.requester == "Casey Client"
    assert accepted.expires_at == NOW + 300


def test_a_token_for_changed_arguments_is_refused(keyring: Keyring, token: str) -> None:
    swapped = CALL | {"target": "T-1043"}
    assert refusal(token, keyring.public_keys(), arguments=swapped) == "arguments_mismatch"
    extra = CALL | {"radius_m": 500}
    assert refusal(token, keyring.public_keys(), arguments=extra) == "arguments_mismatch"


def test_arguments_that_are_not_json_are_refused(keyring: Keyring, token: str) -> None:
    assert refusal(token, keyring.public_keys(), arguments="target=T-1042") == "arguments_mismatch"


def test_a_token_for_another_tool_is_refused(keyring: Keyring, token: str) -> None:
    assert refusal(token, keyring.public_keys(), tool="engage_target_v2") == "wrong_tool"
    assert refusal(token, keyring.public_keys(), tool="Engage_Target") == "wrong_tool"


def test_an_expired_token_is_refused(keyring: Keyring, token: str) -> None:
    assert refusal(token, keyring.public_keys(), now=NOW + 300) == "expired"
    assert verify(
        token, keyring.public_keys(), tool=TOOL, arguments=CALL, now=NOW + 301, leeway_s=5
    )


def test_a_token_before_its_time_is_refused(keyring: Keyring, token: str) -> None:
    assert refusal(token, keyring.public_keys(), now=NOW - 60) == "not_yet_valid"


def test_a_forged_signature_under_the_real_kid_is_refused(keyring: Keyring) -> None:
    real = keyring.active()
    impostor = SigningKey(real.kid, Ed25519PrivateKey.generate())
    assert refusal(issue_token(claims(), impostor), keyring.public_keys()) == "bad_signature"


def test_a_tampered_payload_is_refused(keyring: Keyring, token: str) -> None:
    header, payload, signature = token.split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["args_sha256"] = arguments_digest(CALL | {"target": "T-9999"})
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{forged}.{signature}"
    keys = keyring.public_keys()
    assert refusal(tampered, keys, arguments=CALL | {"target": "T-9999"}) == "bad_signature"


def test_a_token_from_the_old_key_is_refused_after_rotation(keyring: Keyring, token: str) -> None:
    keyring.rotate()
    assert refusal(token, keyring.public_keys()) == "unknown_key"


def test_a_replayed_token_is_refused(keyring: Keyring, token: str, tmp_path: Path) -> None:
    with UsedTokens(tmp_path / "used.db") as used:
        verify(token, keyring.public_keys(), tool=TOOL, arguments=CALL, now=NOW, replay=used)
        assert refusal(token, keyring.public_keys(), replay=used) == "replayed"


def test_a_replay_is_refused_after_the_effector_restarts(
    keyring: Keyring, token: str, tmp_path: Path
) -> None:
    with UsedTokens(tmp_path / "used.db") as used:
        verify(token, keyring.public_keys(), tool=TOOL, arguments=CALL, now=NOW, replay=used)
    with UsedTokens(tmp_path / "used.db") as reopened:
        assert refusal(token, keyring.public_keys(), replay=reopened) == "replayed"


def test_replicas_sharing_the_file_accept_a_token_once(
    keyring: Keyring, token: str, tmp_path: Path
) -> None:
    with UsedTokens(tmp_path / "used.db") as one, UsedTokens(tmp_path / "used.db") as two:
        verify(token, keyring.public_keys(), tool=TOOL, arguments=CALL, now=NOW, replay=one)
        assert refusal(token, keyring.public_keys(), replay=two) == "replayed"


def test_a_refused_token_does_not_use_up_its_id(
    keyring: Keyring, token: str, tmp_path: Path
) -> None:
    with UsedTokens(tmp_path / "used.db") as used:
        assert refusal(token, keyring.public_keys(), tool="other", replay=used) == "wrong_tool"
        assert refusal(token, keyring.public_keys(), now=NOW + 999, replay=used) == "expired"
        verify(token, keyring.public_keys(), tool=TOOL, arguments=CALL, now=NOW, replay=used)


def test_used_ids_are_forgotten_only_long_after_expiry(tmp_path: Path) -> None:
    with UsedTokens(tmp_path / "used.db", retain_s=3600) as used:
        assert used.claim("tok_old", NOW)
        assert used.claim("tok_recent", NOW + 3000)
        assert used.prune(now=NOW + 3601) == 1
        assert not used.claim("tok_recent", NOW + 3000)
    rows = sqlite3.connect(tmp_path / "used.db").execute("SELECT token_id FROM used_tokens")
    assert [row[0] for row in rows] == ["tok_recent"]


def test_an_unsigned_alg_none_token_is_refused(keyring: Keyring) -> None:
    payload = claims().to_jwt()
    unsigned = jwt.encode(payload, "", algorithm="none", headers={"typ": TOKEN_TYPE})
    unsigned_with_kid = jwt.encode(
        payload, "", algorithm="none", headers={"typ": TOKEN_TYPE, "kid": keyring.active().kid}
    )
    assert refusal(unsigned, keyring.public_keys()) == "wrong_type"
    assert refusal(unsigned_with_kid, keyring.public_keys()) == "wrong_type"


def test_an_hs256_token_keyed_with_the_public_key_is_refused(keyring: Keyring) -> None:
    key = keyring.active()
    secret = key.private_key.public_key().public_bytes_raw()
    confused = jwt.encode(
        claims().to_jwt(), secret, algorithm="HS256", headers={"typ": TOKEN_TYPE, "kid": key.kid}
    )
    assert refusal(confused, keyring.public_keys()) == "wrong_type"


def test_a_jwt_of_another_type_is_refused(keyring: Keyring) -> None:
    other = signed(claims().to_jwt(), keyring.active(), typ="JWT")
    assert refusal(other, keyring.public_keys()) == "wrong_type"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not-a-token",
        "a.b",
        "a.b.c.d",
        "e30.e30.!!!!",  # a signature outside the base64url alphabet
        "eyJhbGciOiJFZERTQSJ9=.e30.AAAA",  # padding
        "bm90IGpzb24.e30.AAAA",  # header 'not json'
        "W10.e30.AAAA",  # header '[]'
        "\u00e9.e30.AAAA",  # not ASCII
        "x" * 20_000,
    ],
)
def test_a_malformed_token_is_refused(keyring: Keyring, text: str) -> None:
    assert refusal(text, keyring.public_keys()) == "malformed"


def test_a_second_spelling_of_the_same_signature_is_refused(keyring: Keyring, token: str) -> None:
    # 64 bytes take 86 characters; the last carries 4 unused bits, which must be zero.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    respelt = token[:-1] + alphabet[last | 1]
    assert base64.urlsafe_b64decode(respelt.rsplit(".")[-1] + "==") == base64.urlsafe_b64decode(
        token.rsplit(".")[-1] + "=="
    )
    assert refusal(respelt, keyring.public_keys()) == "malformed"


def test_a_signed_payload_that_is_not_an_object_is_refused(keyring: Keyring) -> None:
    key = keyring.active()
    token = jwt.PyJWS().encode(
        b"[1, 2]", key.private_key, headers={"alg": "EdDSA", "typ": TOKEN_TYPE, "kid": key.kid}
    )
    assert refusal(token, keyring.public_keys()) == "malformed"


@pytest.mark.parametrize("claim", ["hold", "jti", "approvers", "requester", "policy", "exp"])
def test_a_token_missing_a_claim_is_refused(keyring: Keyring, claim: str) -> None:
    payload = claims().to_jwt()
    del payload[claim]
    assert refusal(signed(payload, keyring.active()), keyring.public_keys()) == "missing_claim"


@pytest.mark.parametrize(
    "change", [{"approvers": []}, {"approvers": "Ada"}, {"exp": True}, {"tool": 7}]
)
def test_a_token_with_a_claim_of_the_wrong_type_is_refused(
    keyring: Keyring, change: dict[str, Any]
) -> None:
    payload = claims().to_jwt() | change
    assert refusal(signed(payload, keyring.active()), keyring.public_keys()) == "missing_claim"


def test_a_token_with_a_critical_extension_is_refused(keyring: Keyring) -> None:
    token = signed(claims().to_jwt(), keyring.active(), crit=["exp"], exp=1)
    assert refusal(token, keyring.public_keys()) == "malformed"
