"""Authorisation tokens: a signed statement that accountable humans approved one exact tool call.

A token is a JWS compact serialisation (RFC 7515) signed with EdDSA over Ed25519 (RFC 8037),
header ``{"alg": "EdDSA", "typ": "redline-authz+jwt", "kid": <key id>}``. Its payload is the
RFC 8785 canonical JSON of these claims:

==============  =============================================================================
``iss``         the gateway that issued it
``jti``         the token id, ``tok_`` and 32 hex digits; an effector accepts each id once
``iat``/``nbf`` issue time (unix seconds); not valid before it
``exp``         expiry (unix seconds); not valid from then on
``hold``        the hold the call was withheld under
``tool``        the tool name, compared exactly
``args_sha256`` SHA-256 (hex) of the RFC 8785 canonical JSON of the call's arguments
``approvers``   the accountable humans who approved, in order of approval
``requester``   the accountable human behind the request that proposed the call
``policy``      the hash of the policy pack in force when it was approved
==============  =============================================================================

The token binds the tool and the digest of its arguments, never the arguments themselves: it may
be logged without disclosing them, and any change of a value or key gives another digest.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from redline.authorisation.keys import SigningKey
from redline.canonical import canonical_json

__all__ = ["TOKEN_TYPE", "TokenClaims", "arguments_digest", "issue_token", "new_claims"]

TOKEN_TYPE = "redline-authz+jwt"  # noqa: S105 (a media type, not a secret)
"""The JWS ``typ`` header: keeps these tokens from being accepted where another JWT is expected,
and other JWTs from being accepted here (RFC 8725 section 3.11)."""

_JWS = jwt.PyJWS(algorithms=["EdDSA"])


@dataclass(frozen=True)
class TokenClaims:
    token_id: str
    hold_id: str
    tool: str
    arguments_sha256: str
    approvers: tuple[str, ...]
    requester: str
    policy_hash: str
    issued_at: int
    expires_at: int
    issuer: str

    def to_jwt(self) -> dict[str, Any]:
        """The JWT claims set these values are signed as."""
        return {
            "iss": self.issuer,
            "jti": self.token_id,
            "iat": self.issued_at,
            "nbf": self.issued_at,
            "exp": self.expires_at,
            "hold": self.hold_id,
            "tool": self.tool,
            "args_sha256": self.arguments_sha256,
            "approvers": list(self.approvers),
            "requester": self.requester,
            "policy": self.policy_hash,
        }


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # With two values for one key, the digest would cover whichever one this parser keeps while
    # the effector's parser might act on the other: such arguments bind nothing, so refuse them.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("arguments repeat a key")
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"arguments hold {name}, which is not JSON")


def canonical_arguments(arguments: str | bytes | Mapping[str, Any] | list[Any]) -> bytes:
    """The RFC 8785 canonical JSON of a tool call's arguments: the bytes a token binds.

    Text or bytes are parsed as JSON first, so key order and whitespace do not matter but every
    value and key does. Raises ``ValueError`` if the arguments are not JSON, repeat a key, or
    hold a number RFC 8785 cannot represent exactly.
    """
    value: Any = arguments
    if isinstance(arguments, str | bytes):
        try:
            value = json.loads(
                arguments,
                object_pairs_hook=_refuse_duplicate_keys,
                parse_constant=_refuse_constant,
            )
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"arguments are not valid JSON: {exc}") from None
    elif isinstance(arguments, Mapping):
        value = dict(arguments)
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"arguments cannot be canonicalised (RFC 8785): {exc}") from None


def arguments_digest(arguments: str | bytes | Mapping[str, Any] | list[Any]) -> str:
    """SHA-256 (hex) of ``canonical_arguments(arguments)``; raises ``ValueError`` as it does."""
    return hashlib.sha256(canonical_arguments(arguments)).hexdigest()


def new_claims(
    *,
    hold_id: str,
    tool: str,
    arguments_sha256: str,
    approvers: tuple[str, ...] | list[str],
    requester: str,
    policy_hash: str,
    issuer: str,
    lifetime_s: float,
    now: float | None = None,
) -> TokenClaims:
    """Claims for a fresh token with a new random id, valid from ``now`` for ``lifetime_s``."""
    if lifetime_s <= 0:
        raise ValueError("a token's lifetime must be positive")
    if not approvers:
        raise ValueError("a token needs at least one approver")
    issued_at = int(time.time() if now is None else now)
    return TokenClaims(
        token_id="tok_" + secrets.token_hex(16),
        hold_id=hold_id,
        tool=tool,
        arguments_sha256=arguments_sha256,
        approvers=tuple(approvers),
        requester=requester,
        policy_hash=policy_hash,
        issued_at=issued_at,
        expires_at=issued_at + max(1, int(lifetime_s)),
        issuer=issuer,
    )


def issue_token(claims: TokenClaims, key: SigningKey) -> str:
    """The signed token (JWS compact, EdDSA) for ``claims``, naming ``key`` by its kid."""
    return _JWS.encode(
        canonical_json(claims.to_jwt()),
        key.private_key,
        algorithm="EdDSA",
        headers={"alg": "EdDSA", "typ": TOKEN_TYPE, "kid": key.kid},
    )
