"""Canonical JSON (RFC 8785) and digests: the byte forms that hashes and signatures cover."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) encoding of ``value``: sorted keys, no whitespace, ES6 numbers."""
    encoded: bytes = rfc8785.dumps(value)
    return encoded


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>``: the form every digest takes in decisions and the ledger."""
    return "sha256:" + hashlib.sha256(data).hexdigest()
