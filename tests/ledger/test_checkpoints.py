"""Checkpoints: the tree over the ledger, signed at intervals and on shutdown, never rewritten."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from redline.ledger import LedgerAppender
from redline.ledger.checkpoints import Checkpointer, load_or_create_key
from redline.ledger.notes import VerifierKey, open_checkpoint
from redline.ledger.tree import leaf_hash, root
from redline.store.sqlite import SQLiteStore
from tests.ledger.test_appender import draft

ORIGIN = "test.redline/ledger"


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "ledger.db")


def test_checkpoint_signs_the_rfc6962_root_of_every_entry(
    store: SQLiteStore, tmp_path: Path
) -> None:
    key = load_or_create_key(tmp_path / "keys" / "ledger.key", ORIGIN)
    appender = LedgerAppender(
        store, checkpointer=Checkpointer(store, key, ORIGIN, every_entries=10)
    )
    appender.start()

    async def append(count: int) -> None:
        await asyncio.gather(*(appender.append(draft()) for _ in range(count)))

    asyncio.run(append(25))
    appender.close()  # the final checkpoint covers everything

    latest = store.latest_checkpoint()
    assert latest is not None
    entries = store.list_entries(0, 100)
    assert latest.size == len(entries) == 25
    assert latest.root == root([leaf_hash(e.entry) for e in entries])
    checkpoint = open_checkpoint(latest.note, [key.verifier])[0]
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 25, latest.root)
    assert [c.size for c in store.list_checkpoints()][-1] == 25


def test_key_is_created_once_with_its_verifier_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ledger.key"
    first = load_or_create_key(path, ORIGIN)
    again = load_or_create_key(path, ORIGIN)
    assert first.to_vkey() == again.to_vkey()
    assert VerifierKey.from_vkey(path.with_suffix(".vkey").read_text().strip()) == first.verifier
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="origin"):
        load_or_create_key(path, "another.origin/ledger")


def test_store_refuses_a_different_root_for_a_checkpointed_size(store: SQLiteStore) -> None:
    store.put_checkpoint(5, b"\x01" * 32, "note", "t")
    store.put_checkpoint(5, b"\x01" * 32, "note with a co-signature", "t")
    with pytest.raises(ValueError, match="different root"):
        store.put_checkpoint(5, b"\x02" * 32, "forged", "t")
    assert store.list_checkpoints()[0].note == "note with a co-signature"
