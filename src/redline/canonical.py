"""Canonical JSON (RFC 8785) and digests: the byte forms that hashes and signatures cover."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

_MAX_SAFE_INTEGER = 2**53 - 1


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) encoding of ``value``: sorted keys, no whitespace, ES6 numbers.

    Documents without floats, with ASCII keys and with integers inside JavaScript's safe range
    (every ledger entry) take orjson's sorted-keys encoding, which is byte-identical to RFC 8785
    for that subset and many times faster; ``tests/test_canonical.py`` holds the proof. Anything
    else goes through the reference ``rfc8785`` encoder.
    """
    if is_plain(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    encoded: bytes = rfc8785.dumps(value)
    return encoded


def is_plain(value: Any) -> bool:
    """Whether ``value`` is in the subset where orjson's sorted keys are exactly RFC 8785."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str) or node is None or isinstance(node, bool):
            continue
        if isinstance(node, int):
            if -_MAX_SAFE_INTEGER <= node <= _MAX_SAFE_INTEGER:
                continue
            return False
        if isinstance(node, dict):
            for key in node:
                if not (isinstance(key, str) and key.isascii()):
                    return False
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
        else:
            return False
    return True


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>``: the form every digest takes in decisions and the ledger."""
    return "sha256:" + hashlib.sha256(data).hexdigest()
