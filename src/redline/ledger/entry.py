"""The ledger entry, schema ``redline.decision.v1``.

An entry is the RFC 8785 canonical JSON of one decision. Its bytes are final once written: the
Merkle tree hashes them as they are (leaf = SHA-256(0x00 || entry)), so the schema carries its
version in its name and a new field means a new schema version, never an edit of this one.
Entries hold digests, ids and codes only; request and response bodies live in the content store.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from redline.canonical import canonical_json
from redline.decision import Decision
from redline.principals import Principal
from redline.store import Content

ENTRY_SCHEMA = "redline.decision.v1"

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Ids need uniqueness, not secrecy: a generator seeded once from the OS saves a syscall per id.
_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))


def new_decision_id() -> str:
    """``dec_`` + a 26-character ULID: sortable by time, unique without coordination."""
    value = (time.time_ns() // 1_000_000) << 80 | _random.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "dec_" + "".join(reversed(chars))


class Draft(Protocol):
    """What the appender needs of any entry: its id and time, the store's index columns, its
    contents, and its final bytes once the store has given it a sequence number."""

    @property
    def decision_id(self) -> str: ...
    @property
    def time(self) -> dt.datetime: ...
    @property
    def contents(self) -> tuple[Content, ...]: ...
    def index(self) -> tuple[str, str | None, str | None]:
        """``(decision, red_line, key_id)`` for the store's listing columns."""
        ...

    def encode(self, seq: int) -> bytes: ...


@dataclass(frozen=True)
class EntryDraft:
    """Everything about a decision except its place in the log, which the appender assigns."""

    decision_id: str
    time: dt.datetime
    endpoint: str
    principal: Principal | None
    decision: Decision
    policy_id: str
    policy_hash: str
    detectors: dict[str, str]
    request_digest: str | None = None
    model: str | None = None
    upstream: str | None = None
    contents: tuple[Content, ...] = field(default=())

    def index(self) -> tuple[str, str | None, str | None]:
        key_id = None if self.principal is None else self.principal.key_id
        return self.decision.kind.value, self.decision.red_line, key_id

    def encode(self, seq: int) -> bytes:
        return encode_entry(self, seq)


@dataclass(frozen=True)
class AppendedEntry:
    seq: int
    decision_id: str
    entry: bytes


def entry_document(draft: EntryDraft, seq: int) -> dict[str, Any]:
    decision = draft.decision
    principal = draft.principal
    return {
        "schema": ENTRY_SCHEMA,
        "seq": seq,
        "decision_id": draft.decision_id,
        "time": entry_time(draft.time),
        "endpoint": draft.endpoint,
        "principal": principal_document(principal),
        "model": draft.model,
        "upstream": draft.upstream,
        "request_digest": draft.request_digest,
        "decision": decision.kind.value,
        "red_line": decision.red_line,
        "clause": decision.clause,
        "reasons": [
            {
                "code": reason.code,
                "red_line": reason.red_line,
                "clause": reason.clause,
                "category": reason.category,
                "detector": reason.detector,
                "rule": reason.rule,
                # Scores are decimal strings: floats have no single canonical form across verifiers.
                "score": None if reason.score is None else f"{reason.score:.4f}",
                "spans": [[s.path, s.start, s.end, s.view] for s in reason.spans],
            }
            for reason in decision.reasons
        ],
        "scores": {name: f"{score:.4f}" for name, score in decision.scores.items()},
        "policy": {"id": draft.policy_id, "hash": draft.policy_hash},
        "detectors": dict(sorted(draft.detectors.items())),
        "approvers": [],
    }


def principal_document(principal: Principal | None) -> dict[str, Any] | None:
    if principal is None:
        return None
    return {
        "key_id": principal.key_id,
        "name": principal.name,
        "human": principal.human,
        "unit": principal.unit,
        "roles": sorted(principal.roles),
    }


def entry_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_entry(draft: EntryDraft, seq: int) -> bytes:
    return canonical_json(entry_document(draft, seq))
