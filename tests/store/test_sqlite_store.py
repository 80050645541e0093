"""The SQLite store: keys, entries and contents in a real file."""

from __future__ import annotations

from pathlib import Path

from redline.principals import Role, secret_matches, split_key
from redline.store import Content, Outcome
from redline.store.sqlite import SQLiteStore
from tests.conftest import make_key


def test_key_is_stored_hashed_and_found_by_id(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.db")
    full_key = make_key(store, "ops", Role.CLIENT, Role.AUDITOR, human="Jane Doe")

    parts = split_key(full_key)
    assert parts is not None
    record = store.get_key(parts[0])
    assert record is not None
    assert record.roles == (Role.CLIENT, Role.AUDITOR)
    assert record.human == "Jane Doe"
    assert parts[1] not in record.secret_hash
    assert secret_matches(record, parts[1])
    assert not secret_matches(record, parts[1] + "x")
    raw = (tmp_path / "r.db").read_bytes()
    assert parts[1].encode() not in raw


def test_revoked_key_stays_listed_with_its_revocation_time(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.db")
    full_key = make_key(store, "ops")
    key_id = full_key.split("_")[1]

    assert store.revoke_key(key_id, "2026-11-27T10:00:00+00:00")
    assert not store.revoke_key(key_id, "2026-11-27T11:00:00+00:00")
    [record] = store.list_keys()
    assert record.revoked_at == "2026-11-27T10:00:00+00:00"


def test_migrations_run_once_and_reopening_keeps_data(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.db")
    make_key(store, "ops")
    store.close()

    reopened = SQLiteStore(tmp_path / "r.db")
    assert len(reopened.list_keys()) == 1


def test_outcome_and_response_body_are_linked_to_the_decision(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.db")
    content = Content("dec_1", "response", "sha256:abc", b'{"choices": []}')

    store.write_batch([], [content], [Outcome("dec_1", 200, 12.5, "sha256:abc")])

    assert store.get_outcome("dec_1") == Outcome("dec_1", 200, 12.5, "sha256:abc")
    assert store.get_content("sha256:abc") == b'{"choices": []}'
