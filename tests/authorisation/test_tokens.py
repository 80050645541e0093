"""Token claims, the arguments digest and issuance, read back by PyJWT as an independent check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest

from redline.authorisation import (
    TOKEN_TYPE,
    Keyring,
    TokenClaims,
    arguments_digest,
    issue_token,
    new_claims,
)

CALL = {"target": "T-1042", "munition": "none", "grid": [38.8977, -77.0365], "confirm": True}


def claims_for(arguments: Any = CALL, **overrides: Any) -> TokenClaims:
    values: dict[str, Any] = {
        "hold_id": "hold_01",
        "tool": "engage_target",
        "arguments_sha256": arguments_digest(arguments),
        "approvers": ("Ada Approver", "Bo Approver"),
        "requester": "Casey Client",
        "policy_hash": "sha256:" + "ab" * 32,
        "issuer": "https://gateway.example",
        "lifetime_s": 300,
        "now": 1_800_000_000,
    }
    return new_claims(**(values | overrides))


def test_digest_ignores_key_order_and_whitespace() -> None:
    assert arguments_digest('{"b":1, "a":2}') == arguments_digest({"a": 2, "b": 1})
    assert arguments_digest(b'{\n  "a": 2,\n  "b": 1\n}') == arguments_digest({"a": 2, "b": 1})


@pytest.mark.parametrize(
    "changed",
    [
        {"a": 2, "b": 2},  # a value
        {"a": 2, "c": 1},  # a key
        {"a": 2},  # a key removed
        {"a": 2, "b": 1, "c": None},  # a key added
        {"a": "2", "b": 1},  # a type
        [{"a": 2, "b": 1}],  # the shape
    ],
)
def test_digest_changes_with_any_change_of_the_call(changed: Any) -> None:
    assert arguments_digest(changed) != arguments_digest({"a": 2, "b": 1})


def test_digest_is_sha256_hex_of_the_rfc8785_form() -> None:
    import hashlib

    expected = hashlib.sha256(b'{"a":2,"b":[1.5,"\xc3\xa9"]}').hexdigest()
    assert arguments_digest('{"b": [1.50, "\\u00e9"], "a": 2.0}') == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{'a': 1}", "not valid JSON"),
        ('{"a": 1', "not valid JSON"),
        ('{"a": 1, "a": 2}', "repeat a key"),
        ('{"a": NaN}', "not JSON"),
        ('{"a": 9007199254740993}', "canonicalised"),
    ],
)
def test_digest_refuses_arguments_that_do_not_bind_one_call(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        arguments_digest(text)


def test_new_claims_get_fresh_ids_and_expire_after_their_lifetime() -> None:
    first, second = claims_for(), claims_for()
    assert first.token_id != second.token_id
    assert first.token_id.startswith("tok_")
    assert len(first.token_id) == 4 + 32
    assert (first.issued_at, first.expires_at) == (1_800_000_000, 1_800_000_300)


def test_new_claims_refuse_no_approvers_or_no_lifetime() -> None:
    with pytest.raises(ValueError, match="approver"):
        claims_for(approvers=())
    with pytest.raises(ValueError, match="lifetime"):
        claims_for(lifetime_s=0)


def test_issued_token_names_its_type_algorithm_and_key(tmp_path: Path) -> None:
    key = Keyring(tmp_path).active()
    header = jwt.get_unverified_header(issue_token(claims_for(), key))
    assert header == {"alg": "EdDSA", "typ": TOKEN_TYPE, "kid": key.kid}


def test_pyjwt_reads_every_claim_of_an_issued_token(tmp_path: Path) -> None:
    key = Keyring(tmp_path).active()
    claims = claims_for()
    payload = jwt.decode(
        issue_token(claims, key),
        key.private_key.public_key(),
        algorithms=["EdDSA"],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert payload == {
        "iss": "https://gateway.example",
        "jti": claims.token_id,
        "iat": 1_800_000_000,
        "nbf": 1_800_000_000,
        "exp": 1_800_000_300,
        "hold": "hold_01",
        "tool": "engage_target",
        "args_sha256": arguments_digest(CALL),
        "approvers": ["Ada Approver", "Bo Approver"],
        "requester": "Casey Client",
        "policy": "sha256:" + "ab" * 32,
    }
