"""Retention: bodies are purged after a period, the tree is untouched, the purge is an entry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import orjson

from redline.ledger import LedgerAppender
from redline.ledger.checkpoints import Checkpointer, load_or_create_key
from redline.ledger.export import export, verify
from redline.ledger.retention import purge
from redline.store import Content
from redline.store.sqlite import SQLiteStore
from tests.ledger.test_appender import draft


def test_purge_drops_old_bodies_records_itself_and_the_log_still_verifies(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "ledger.db")
    key = load_or_create_key(tmp_path / "keys" / "ledger.key", "test/ledger")
    appender = LedgerAppender(store, checkpointer=Checkpointer(store, key, "test/ledger"))
    appender.start()
    first = draft()
    body = b'{"messages": [{"role": "user", "content": "old"}]}'
    first = dataclasses.replace(
        first, contents=(Content(first.decision_id, "request", "sha256:old", body),)
    )
    appender.append_blocking(first)

    purged, entry = purge(
        store,
        appender,
        older_than=dt.timedelta(days=-1),  # everything so far is "older" than tomorrow
        policy_id="agreement",
        policy_hash="sha256:" + "0" * 64,
    )
    appender.close()

    assert purged == ["sha256:old"]
    assert store.get_content("sha256:old") is None
    document = orjson.loads(entry.entry)
    assert document["endpoint"] == "redline:retention"
    assert document["reasons"][0]["code"] == "retention_purge"
    listing = orjson.loads(store.get_content(document["request_digest"]) or b"{}")
    assert listing["digests"] == ["sha256:old"]
    export(store, tmp_path / "export", key.to_vkey())
    assert verify(tmp_path / "export", key.verifier).entries == 2
    store.close()
