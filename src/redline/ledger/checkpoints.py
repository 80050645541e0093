"""Checkpoints: the Merkle tree over every ledger entry, signed at intervals by the gateway's key.

Integration reads the leaf hashes the store wrote with each entry and extends a compact range
(the tree's right edge), so signing a checkpoint costs O(new entries) hashing. The contract:

- A checkpoint MUST NOT be signed for a tree that is not an extension of the last one signed: the
  compact range only ever grows, entry by entry, in sequence order, and the store refuses a
  second, different root for a size it already holds.
- A checkpoint is written every ``every_entries`` new entries or ``every_seconds`` seconds,
  whichever comes first, and once more when the gateway shuts down, so the last entries before a
  clean stop are always covered.
- Several gateway processes may share one log: each integrates from the store, and since Ed25519
  signatures are deterministic they write byte-identical notes for the same size.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from redline.ledger.notes import Checkpoint, SigningKey, sign
from redline.ledger.tree import CompactRange
from redline.store import Store, StoredCheckpoint

log = logging.getLogger("redline.ledger")


def load_or_create_key(path: Path, name: str) -> SigningKey:
    """The checkpoint key, created (mode 0600) with its verifier beside it on first use."""
    if path.exists():
        key = SigningKey.load(path)
        if key.name != name:
            raise ValueError(
                f"{path} signs as '{key.name}', but the ledger origin is '{name}': "
                "keep the origin, or move the old key aside to start a new log"
            )
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SigningKey.generate(name)
    key.save(path)
    path.with_suffix(".vkey").write_text(key.to_vkey() + "\n")
    return key


class Checkpointer:
    def __init__(
        self,
        store: Store,
        key: SigningKey,
        origin: str,
        *,
        every_entries: int = 1000,
        every_seconds: float = 10.0,
    ) -> None:
        self._store = store
        self._key = key
        self.origin = origin
        self.every_entries = every_entries
        self.every_seconds = every_seconds
        self._range = CompactRange()
        self._signed_size = -1
        self._signed_at = time.monotonic()

    @property
    def size(self) -> int:
        return self._range.size

    def due(self, entries: int) -> bool:
        """Whether a log of ``entries`` entries should be checkpointed now."""
        if entries <= max(self._signed_size, 0):
            return False
        return (
            entries - max(self._signed_size, 0) >= self.every_entries
            or time.monotonic() - self._signed_at >= self.every_seconds
        )

    def checkpoint(self, entries: int) -> StoredCheckpoint | None:
        """Integrate entries up to ``entries`` and sign a checkpoint for that size."""
        if entries < self._range.size:
            raise ValueError(f"the log shrank from {self._range.size} to {entries} entries")
        if entries > self._range.size:
            self._range.extend(self._store.leaf_hashes(self._range.size, entries))
        self._signed_at = time.monotonic()
        if entries == self._signed_size:
            return None
        root = self._range.root()
        note = sign(Checkpoint(self.origin, entries, root).body(), self._key)
        at = dt.datetime.now(dt.UTC).isoformat()
        self._store.put_checkpoint(entries, root, note, at)
        self._signed_size = entries
        log.info("checkpoint size=%d root=%s", entries, root.hex())
        return StoredCheckpoint(entries, root, note, at)
