"""Principals: who is calling, with which roles, on behalf of which accountable human.

API keys look like ``rlk_<id>_<secret>``. Only the SHA-256 of the secret is stored; the id lets the
gateway find the record without scanning, and the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    AUTHORISER = "authoriser"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    human: str
    unit: str | None
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    name: str
    human: str
    unit: str | None
    roles: tuple[Role, ...]
    secret_hash: str
    created_at: str
    revoked_at: str | None = None

    def principal(self) -> Principal:
        return Principal(self.key_id, self.name, self.human, self.unit, frozenset(self.roles))


_PREFIX = "rlk_"


def new_key() -> tuple[str, str, str]:
    """A new key as ``(key_id, full_key, secret_hash)``; the full key is shown once only."""
    key_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{_PREFIX}{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(presented: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a presented key, or None if it is not shaped like one of ours."""
    if not presented.startswith(_PREFIX):
        return None
    key_id, sep, secret = presented[len(_PREFIX) :].partition("_")
    if not sep or len(key_id) != 8 or not secret:
        return None
    return key_id, secret


def secret_matches(record: KeyRecord, secret: str) -> bool:
    return hmac.compare_digest(record.secret_hash, hash_secret(secret))
