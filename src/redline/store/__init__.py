"""The store: the narrow set of operations Redline needs, behind one interface.

SQLite is the default backend (one file, WAL). Every method is synchronous; the gateway calls the
write methods only from the ledger appender's thread and the read methods from anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from redline.authorisation.holds import Hold
from redline.principals import KeyRecord


@dataclass(frozen=True)
class Content:
    """A body kept in the content store, keyed by its digest and linked to a decision."""

    decision_id: str
    role: str  # "request" or "response"
    digest: str
    body: bytes


@dataclass(frozen=True)
class PendingEntry:
    """An entry waiting for its sequence number; ``encode(seq)`` gives its final bytes.

    The store assigns the number inside its write transaction, so the database's write lock is
    the log's single sequencer however many gateway processes share it.
    """

    decision_id: str
    time: str
    decision: str
    red_line: str | None
    key_id: str | None
    encode: Callable[[int], bytes]


@dataclass(frozen=True)
class StoredEntry:
    seq: int
    decision_id: str
    entry: bytes
    time: str
    decision: str
    red_line: str | None
    key_id: str | None


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint: the tree's size and root, and the signed note (co-signatures too)."""

    size: int
    root: bytes
    note: str
    created_at: str
    cosigned_at: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened after a decision: the status the client got, and the upstream's answer."""

    decision_id: str
    status: int
    upstream_ms: float | None
    response_digest: str | None


class Store(Protocol):
    # keys
    def create_key(self, record: KeyRecord) -> None: ...
    def get_key(self, key_id: str) -> KeyRecord | None: ...
    def list_keys(self) -> list[KeyRecord]: ...
    def revoke_key(self, key_id: str, at: str) -> bool: ...

    # ledger
    def last_sequence(self) -> int: ...
    def write_batch(
        self,
        entries: Sequence[PendingEntry],
        contents: Sequence[Content],
        outcomes: Sequence[Outcome] = (),
    ) -> list[StoredEntry]:
        """Write entries, contents and outcomes in one transaction, durable when this returns.

        Entries get the next sequence numbers, contiguous and in order, from the store. On any
        error the store MUST raise and write nothing.
        """

    def get_entry(self, decision_id: str) -> StoredEntry | None: ...
    def list_entries(self, start: int, limit: int) -> list[StoredEntry]: ...
    def count_entries(self) -> int: ...
    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes of entries ``start`` to ``end - 1``; MUST raise if any is missing."""

    def put_checkpoint(self, size: int, root: bytes, note: str, at: str) -> None:
        """Store a signed checkpoint; a later note for the same size (more co-signatures)
        replaces it. MUST raise if a different root is already recorded for that size."""

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...
    def list_checkpoints(self) -> list[StoredCheckpoint]: ...

    # content and outcomes
    def get_content(self, digest: str) -> bytes | None: ...
    def get_outcome(self, decision_id: str) -> Outcome | None: ...
    def purge_bodies(self, before: str) -> list[str]:
        """Drop the bodies stored before ``before`` (ISO time), keeping their digests; return
        the digests purged. Ledger entries are untouched: they only ever held digests."""

    # holds
    def create_hold(self, hold: Hold) -> None: ...
    def get_hold(self, hold_id: str) -> Hold | None: ...
    def list_holds(self, status: str | None, requester: str | None, limit: int) -> list[Hold]:
        """Newest first; ``requester`` (a human) narrows to that person's holds."""

    def update_hold(self, hold: Hold, *, expected_approvals: int) -> bool:
        """Replace a pending hold, only if it is still pending with ``expected_approvals``
        approvals: two approvers racing cannot both count as the last one. False if not."""

    def redeem_token(self, token_id: str, expires_at: int, at: str) -> bool:
        """Mark a token id used; False if it was used before."""

    def ping(self) -> None: ...
    def close(self) -> None: ...
