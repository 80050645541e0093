"""The ledger's append contract: durable before return, contiguous, group-committed, fail closed."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from redline.decision import Decision, Reason
from redline.errors import LedgerUnavailable
from redline.ledger import ENTRY_SCHEMA, EntryDraft, LedgerAppender, encode_entry, new_decision_id
from redline.policy import Action
from redline.principals import Principal, Role
from redline.store import Content
from redline.store.sqlite import SQLiteStore


def draft(decision: Decision | None = None, contents: tuple[Content, ...] = ()) -> EntryDraft:
    return EntryDraft(
        decision_id=new_decision_id(),
        time=dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC),
        endpoint="/v1/chat/completions",
        principal=Principal("0a1b2c3d", "ops-agent", "Jane Doe", "J3", frozenset({Role.CLIENT})),
        decision=decision or Decision(Action.ALLOW),
        policy_id="agreement",
        policy_hash="sha256:" + "0" * 64,
        detectors={"rules": "sha256:" + "1" * 64},
        request_digest="sha256:" + "2" * 64,
        model="gpt-fake",
        upstream="vendor",
        contents=contents,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "ledger.db")
    yield store
    store.close()


@pytest.fixture
def appender(store: SQLiteStore) -> Iterator[LedgerAppender]:
    appender = LedgerAppender(store)
    appender.start()
    yield appender
    appender.close()


def test_entry_is_rfc8785_canonical_json_with_versioned_schema() -> None:
    entry = encode_entry(draft(), 7)

    document = orjson.loads(entry)
    assert document["schema"] == ENTRY_SCHEMA == "redline.decision.v1"
    assert document["seq"] == 7
    assert entry == orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    assert b" " not in entry.replace(b"Jane Doe", b"")


def test_entry_records_principal_policy_detectors_and_reasons_but_no_text() -> None:
    decision = Decision(
        Action.BLOCK,
        red_line="domestic-mass-surveillance",
        clause="DMS-1",
        reasons=(Reason(code="rules:r1", detail="DMS-1 Bulk", score=0.9),),
        scores={"mass_surveillance": 0.9},
    )
    document = orjson.loads(encode_entry(draft(decision), 0))

    assert document["principal"]["human"] == "Jane Doe"
    assert document["policy"]["hash"].startswith("sha256:")
    assert document["detectors"] == {"rules": "sha256:" + "1" * 64}
    assert document["reasons"][0]["score"] == "0.9000"
    assert document["scores"] == {"mass_surveillance": "0.9000"}
    assert "detail" not in document["reasons"][0]


def test_decision_ids_are_unique_and_sortable_by_time() -> None:
    ids = [new_decision_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 30 and i.startswith("dec_") for i in ids)


def test_concurrent_appends_get_contiguous_sequence_numbers_in_few_commits(
    store: SQLiteStore,
) -> None:
    commits: list[int] = []
    appender = LedgerAppender(store, on_commit=lambda n, _s: commits.append(n))
    appender.start()

    async def many() -> list[int]:
        results = await asyncio.gather(*(appender.append(draft()) for _ in range(500)))
        return [r.seq for r in results]

    seqs = asyncio.run(many())
    appender.close()

    assert sorted(seqs) == list(range(500))
    assert store.count_entries() == 500
    assert len(commits) < 500, "appends were not grouped into shared commits"


def test_append_is_durable_when_it_returns(store: SQLiteStore, appender: LedgerAppender) -> None:
    body = b'{"messages": []}'
    entry_draft = draft()
    content = Content(entry_draft.decision_id, "request", "sha256:" + "3" * 64, body)
    entry_draft = dataclasses.replace(entry_draft, contents=(content,))

    appended = appender.append_blocking(entry_draft)

    # A separate connection, as a second process would open it, sees the entry and its body.
    with sqlite3.connect(store.path) as other:
        row = other.execute(
            "SELECT entry FROM ledger_entries WHERE decision_id = ?", (entry_draft.decision_id,)
        ).fetchone()
        body_row = other.execute(
            "SELECT c.body FROM contents c JOIN content_refs r ON r.digest = c.digest "
            "WHERE r.decision_id = ?",
            (entry_draft.decision_id,),
        ).fetchone()
    assert row[0] == appended.entry
    assert body_row[0] == body


def test_sequence_continues_after_restart(tmp_path: Path) -> None:
    for expected in (0, 1):
        store = SQLiteStore(tmp_path / "ledger.db")
        appender = LedgerAppender(store)
        appender.start()
        assert appender.append_blocking(draft()).seq == expected
        appender.close()
        store.close()


class BrokenStore(SQLiteStore):
    broken = True

    def write_batch(self, entries, contents, outcomes=()):  # type: ignore[no-untyped-def]
        if self.broken:
            raise sqlite3.OperationalError("disk I/O error")
        return super().write_batch(entries, contents, outcomes)


def test_unwritable_ledger_fails_closed_and_consumes_no_sequence(tmp_path: Path) -> None:
    store = BrokenStore(tmp_path / "ledger.db")
    appender = LedgerAppender(store)
    appender.start()

    with pytest.raises(LedgerUnavailable):
        appender.append_blocking(draft())
    assert not appender.healthy

    store.broken = False
    assert appender.append_blocking(draft()).seq == 0
    assert appender.healthy
    appender.close()
    store.close()


def test_two_appenders_on_one_file_share_one_contiguous_sequence(tmp_path: Path) -> None:
    # Two gateway processes on one SQLite file: the store's write lock is the sequencer.
    stores = [SQLiteStore(tmp_path / "ledger.db"), SQLiteStore(tmp_path / "ledger.db")]
    appenders = [LedgerAppender(store) for store in stores]
    for appender in appenders:
        appender.start()

    async def many() -> list[int]:
        jobs = [appenders[i % 2].append(draft()) for i in range(400)]
        return [result.seq for result in await asyncio.gather(*jobs)]

    seqs = asyncio.run(many())
    for appender in appenders:
        appender.close()

    assert sorted(seqs) == list(range(400))
    entries = stores[0].list_entries(0, 1000)
    assert [orjson.loads(e.entry)["seq"] for e in entries] == list(range(400))
    for store in stores:
        store.close()
