"""The check an effector runs, offline, before it executes a held tool call.

:func:`verify` MUST be called with the call the effector is about to execute (its tool name and
its arguments exactly as it will act on them) and the key set published by the gateway. It
returns the token's claims only if every check below passes, in this order, and otherwise raises
:class:`TokenRefused` with the stable code of the first that failed:

``malformed``           not a JWS compact token, or the header or payload is not a JSON object
``wrong_type``          ``typ`` is not ``redline-authz+jwt``, or ``alg`` is not ``EdDSA``
                        (``none``, ``HS256`` and every other algorithm are refused)
``unknown_key``         the ``kid`` is not in the key set (e.g. signed by a key rotated out)
``bad_signature``       the Ed25519 signature does not verify over header and payload
``expired``             now ≥ ``exp`` + leeway
``not_yet_valid``       now < ``nbf`` − leeway
``missing_claim``       a claim is absent or of the wrong type
``wrong_tool``          ``tool`` is not exactly the tool about to run
``arguments_mismatch``  the arguments' RFC 8785 digest is not ``args_sha256``
``replayed``            the replay guard has seen the token id before

The replay guard runs last, so that only a genuine, current token for this very call can use up
its id: a forged or mismatched token is refused without touching the guard.
"""

from __future__ import annotations

import binascii
import datetime as dt
import re
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from redline.authorisation.tokens import TOKEN_TYPE, TokenClaims, arguments_digest

__all__ = ["ReplayGuard", "TokenRefused", "UsedTokens", "verify"]

_COMPACT = re.compile(rb"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_MAX_TOKEN = 16_384  # bounds the work done on a token before its signature is checked
_STRINGS = ("iss", "jti", "hold", "tool", "args_sha256", "requester", "policy")


class TokenRefused(Exception):
    """A token that must not authorise the call; ``code`` is one of the stable codes above."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ReplayGuard(Protocol):
    def claim(self, token_id: str, expires_at: int) -> bool:
        """Record ``token_id`` as used; True the first time, False if it was used before."""
        ...


class UsedTokens:
    """The ids of tokens already used, in a SQLite file: the effector's replay guard.

    A token authorises one execution. The effector keeps the id of every token it accepted, and
    refuses a second use:

    - the ids MUST survive restarts, so they live in a file and each :meth:`claim` is committed
      (WAL, ``synchronous=FULL``) before it returns, hence before the effector acts;
    - every replica of an effector MUST share one guard, or a token could run once per replica.
      Processes on one host can share this file (SQLite's locking makes the insert atomic);
      replicas on several hosts need a shared database behind the same ``ReplayGuard``
      protocol, e.g. PostgreSQL's ``INSERT ... ON CONFLICT DO NOTHING``;
    - the guard is consulted after the signature and binding checks (see :func:`verify`), so a
      forged token cannot use up a genuine token's id.

    An id is kept until ``retain_s`` after its token expired: by then :func:`verify` refuses the
    token as expired anyway. ``retain_s`` MUST exceed the leeway any verifier uses.
    """

    _PRUNE_EVERY = 1000

    def __init__(self, path: Path, *, retain_s: float = 3600.0) -> None:
        self.path = path
        self.retain_s = retain_s
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS used_tokens"
            " (token_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, used_at TEXT NOT NULL)"
        )
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS used_tokens_expiry ON used_tokens (expires_at)"
        )
        self._lock = threading.Lock()
        self._claims = 0
        self.prune()

    def claim(self, token_id: str, expires_at: int) -> bool:
        with self._lock:
            self._claims += 1
            if self._claims % self._PRUNE_EVERY == 0:
                self.prune()
            try:
                self._db.execute(
                    "INSERT INTO used_tokens (token_id, expires_at, used_at) VALUES (?, ?, ?)",
                    (token_id, expires_at, dt.datetime.now(dt.UTC).isoformat()),
                )
            except sqlite3.IntegrityError:
                return False
            return True

    def prune(self, now: float | None = None) -> int:
        """Forget ids whose tokens expired more than ``retain_s`` ago; returns how many."""
        cutoff = (time.time() if now is None else now) - self.retain_s
        cursor = self._db.execute("DELETE FROM used_tokens WHERE expires_at < ?", (int(cutoff),))
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> UsedTokens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _b64url_decode(segment: bytes, name: str) -> bytes:
    """Strict RFC 7515 base64url (alphabet already checked): no padding, only the canonical form,
    so one token has one spelling."""
    standard = segment.translate(_TO_STANDARD)
    if len(segment) % 4 != 1:
        raw = binascii.a2b_base64(standard + b"=" * (-len(segment) % 4))
        if binascii.b2a_base64(raw, newline=False).rstrip(b"=") == standard:
            return raw
    raise TokenRefused("malformed", f"the {name} is not canonical unpadded base64url")


def _json_object(raw: bytes, name: str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise TokenRefused("malformed", f"the {name} is not a JSON object")
    return value


def _split(token: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """Header, the signed bytes, the payload segment and the signature of a compact JWS."""
    match = None
    if isinstance(token, str) and len(token) <= _MAX_TOKEN and token.isascii():
        encoded = token.encode("ascii")
        match = _COMPACT.fullmatch(encoded)
    if match is None:
        raise TokenRefused("malformed", "a token is three base64url segments joined by '.'")
    header = _json_object(_b64url_decode(match[1], "header"), "header")
    if "crit" in header or "b64" in header:
        raise TokenRefused("malformed", "no JWS extension ('crit', 'b64') is accepted")
    signed = encoded[: match.end(2)]
    return header, signed, match[2], _b64url_decode(match[3], "signature")


def _integer(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TokenRefused("missing_claim", f"'{name}' must be an integer (unix seconds)")
    return value


def _claims(payload: dict[str, Any], issued_at: int, expires_at: int) -> TokenClaims:
    for name in _STRINGS:
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise TokenRefused("missing_claim", f"'{name}' must be a non-empty string")
    approvers = payload.get("approvers")
    if (
        not isinstance(approvers, list)
        or not approvers
        or not all(isinstance(a, str) and a for a in approvers)
    ):
        raise TokenRefused("missing_claim", "'approvers' must be a non-empty list of strings")
    return TokenClaims(
        token_id=payload["jti"],
        hold_id=payload["hold"],
        tool=payload["tool"],
        arguments_sha256=payload["args_sha256"],
        approvers=tuple(approvers),
        requester=payload["requester"],
        policy_hash=payload["policy"],
        issued_at=issued_at,
        expires_at=expires_at,
        issuer=payload["iss"],
    )


def verify(
    token: str,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    tool: str,
    arguments: str | bytes | Mapping[str, Any] | list[Any],
    now: float | None = None,
    replay: ReplayGuard | None = None,
    leeway_s: float = 0,
) -> TokenClaims:
    """The claims of ``token`` if it authorises calling ``tool`` with ``arguments`` now.

    Raises :class:`TokenRefused` otherwise; see the module docstring for the checks and codes.
    Without ``replay`` the caller MUST keep used token ids itself.
    """
    header, signed, payload_segment, signature = _split(token)
    if header.get("typ") != TOKEN_TYPE:
        raise TokenRefused("wrong_type", f"typ must be {TOKEN_TYPE!r}, not {header.get('typ')!r}")
    if header.get("alg") != "EdDSA":
        raise TokenRefused("wrong_type", f"alg must be 'EdDSA', not {header.get('alg')!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise TokenRefused("unknown_key", f"key {kid!r} is not in the key set")
    try:
        keys[kid].verify(signature, signed)
    except InvalidSignature:
        raise TokenRefused("bad_signature", f"not signed by key {kid}") from None
    payload = _json_object(_b64url_decode(payload_segment, "payload"), "payload")

    expires_at = _integer(payload, "exp")
    not_before = _integer(payload, "nbf")
    issued_at = _integer(payload, "iat")
    moment = time.time() if now is None else now
    if moment >= expires_at + leeway_s:
        raise TokenRefused("expired", f"expired at {expires_at}")
    if moment < not_before - leeway_s:
        raise TokenRefused("not_yet_valid", f"not valid before {not_before}")
    claims = _claims(payload, issued_at, expires_at)

    if claims.tool != tool:
        raise TokenRefused("wrong_tool", f"approved for {claims.tool!r}, not {tool!r}")
    try:
        digest = arguments_digest(arguments)
    except ValueError as exc:
        raise TokenRefused("arguments_mismatch", str(exc)) from None
    if digest != claims.arguments_sha256:
        raise TokenRefused("arguments_mismatch", "the arguments differ from the approved call")
    if replay is not None and not replay.claim(claims.token_id, claims.expires_at):
        raise TokenRefused("replayed", f"token {claims.token_id} was already used")
    return claims
