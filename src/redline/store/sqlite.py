"""The SQLite backend: one file in WAL mode, a connection per thread, ``BEGIN IMMEDIATE`` writes.

``synchronous=FULL`` makes every commit durable (the WAL is fsynced before COMMIT returns); the
ledger appender batches many entries into one commit, so durability costs one fsync per batch.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import orjson

from redline.authorisation.holds import Hold, hold_document, hold_from_document
from redline.ledger.tree import leaf_hash
from redline.principals import KeyRecord, Role
from redline.store import Content, Outcome, PendingEntry, StoredCheckpoint, StoredEntry


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._migrate()

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)")
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            folder = resources.files("redline.store") / "migrations"
            for script in sorted(folder.iterdir(), key=lambda p: p.name):
                version = script.name.removesuffix(".sql")
                if not script.name.endswith(".sql") or version in done:
                    continue
                for statement in script.read_text("utf-8").split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))

    # -- holds -------------------------------------------------------------------------------

    def create_hold(self, hold: Hold) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO holds (hold_id, status, requester, created_at, expires_at, version,"
                " document) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    hold.id,
                    hold.status.value,
                    hold.requester.human,
                    hold.created_at.isoformat(),
                    hold.expires_at.isoformat(),
                    len(hold.approvals),
                    orjson.dumps(hold_document(hold)),
                ),
            )

    def get_hold(self, hold_id: str) -> Hold | None:
        row = (
            self._conn()
            .execute("SELECT document FROM holds WHERE hold_id = ?", (hold_id,))
            .fetchone()
        )
        return None if row is None else hold_from_document(orjson.loads(row[0]))

    def list_holds(self, status: str | None, requester: str | None, limit: int) -> list[Hold]:
        rows = self._conn().execute(
            "SELECT document FROM holds WHERE (?1 IS NULL OR status = ?1) AND"
            " (?2 IS NULL OR requester = ?2) ORDER BY created_at DESC LIMIT ?3",
            (status, requester, limit),
        )
        return [hold_from_document(orjson.loads(row[0])) for row in rows]

    def update_hold(self, hold: Hold, *, expected_approvals: int) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE holds SET status = ?, version = ?, document = ? WHERE hold_id = ? AND"
                " status = 'pending' AND version = ?",
                (
                    hold.status.value,
                    len(hold.approvals),
                    orjson.dumps(hold_document(hold)),
                    hold.id,
                    expected_approvals,
                ),
            )
            return cursor.rowcount == 1

    def redeem_token(self, token_id: str, expires_at: int, at: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO redeemed_tokens (token_id, expires_at, redeemed_at)"
                " VALUES (?, ?, ?)",
                (token_id, expires_at, at),
            )
            return cursor.rowcount == 1

    def ping(self) -> None:
        self._conn().execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- keys --------------------------------------------------------------------------------

    def create_key(self, record: KeyRecord) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO api_keys (key_id, name, human, unit, roles, secret_hash, created_at,"
                " revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key_id,
                    record.name,
                    record.human,
                    record.unit,
                    json.dumps([str(role) for role in record.roles]),
                    record.secret_hash,
                    record.created_at,
                    record.revoked_at,
                ),
            )

    def get_key(self, key_id: str) -> KeyRecord | None:
        row = self._conn().execute(_KEY_SELECT + " WHERE key_id = ?", (key_id,)).fetchone()
        return None if row is None else _key_record(row)

    def list_keys(self) -> list[KeyRecord]:
        rows = self._conn().execute(_KEY_SELECT + " ORDER BY created_at, key_id").fetchall()
        return [_key_record(row) for row in rows]

    def revoke_key(self, key_id: str, at: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (at, key_id),
            )
            return cursor.rowcount == 1

    # -- ledger ------------------------------------------------------------------------------

    def last_sequence(self) -> int:
        row = self._conn().execute("SELECT MAX(seq) FROM ledger_entries").fetchone()
        return -1 if row[0] is None else int(row[0])

    def write_batch(
        self,
        entries: Sequence[PendingEntry],
        contents: Sequence[Content],
        outcomes: Sequence[Outcome] = (),
    ) -> list[StoredEntry]:
        stored: list[StoredEntry] = []
        with self._write() as conn:
            if entries:
                row = conn.execute("SELECT MAX(seq) FROM ledger_entries").fetchone()
                first = 0 if row[0] is None else int(row[0]) + 1
                stored = [
                    StoredEntry(
                        first + offset,
                        pending.decision_id,
                        pending.encode(first + offset),
                        pending.time,
                        pending.decision,
                        pending.red_line,
                        pending.key_id,
                    )
                    for offset, pending in enumerate(entries)
                ]
                conn.executemany(
                    "INSERT INTO ledger_entries (seq, decision_id, entry, time, decision,"
                    " red_line, key_id, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            e.seq,
                            e.decision_id,
                            e.entry,
                            e.time,
                            e.decision,
                            e.red_line,
                            e.key_id,
                            leaf_hash(e.entry),
                        )
                        for e in stored
                    ],
                )
            if outcomes:
                conn.executemany(
                    "INSERT OR REPLACE INTO outcomes (decision_id, status, upstream_ms,"
                    " response_digest) VALUES (?, ?, ?, ?)",
                    [(o.decision_id, o.status, o.upstream_ms, o.response_digest) for o in outcomes],
                )
            _insert_contents(conn, contents)
        return stored

    def get_entry(self, decision_id: str) -> StoredEntry | None:
        row = (
            self._conn()
            .execute(_ENTRY_SELECT + " WHERE decision_id = ?", (decision_id,))
            .fetchone()
        )
        return None if row is None else StoredEntry(*row)

    def list_entries(self, start: int, limit: int) -> list[StoredEntry]:
        rows = (
            self._conn()
            .execute(_ENTRY_SELECT + " WHERE seq >= ? ORDER BY seq LIMIT ?", (start, limit))
            .fetchall()
        )
        return [StoredEntry(*row) for row in rows]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        rows = (
            self._conn()
            .execute(
                "SELECT seq, leaf_hash, entry FROM ledger_entries WHERE seq >= ? AND seq < ?"
                " ORDER BY seq",
                (start, end),
            )
            .fetchall()
        )
        if len(rows) != end - start or (rows and rows[0][0] != start):
            raise ValueError(f"the ledger has no entries {start}..{end - 1}")
        # Entries written before leaf hashes were stored are hashed on the way out.
        return [bytes(h) if h is not None else leaf_hash(bytes(e)) for _, h, e in rows]

    def put_checkpoint(self, size: int, root: bytes, note: str, at: str) -> None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT root, note FROM checkpoints WHERE size = ?", (size,)
            ).fetchone()
            if row is not None:
                if bytes(row[0]) != root:
                    raise ValueError(f"a different root is already checkpointed at size {size}")
                if row[1] == note:
                    return
                # A replacement note carries more signatures: a co-signature arrived now.
                conn.execute(
                    "UPDATE checkpoints SET note = ?, cosigned_at = ? WHERE size = ?",
                    (note, at, size),
                )
                return
            conn.execute(
                "INSERT INTO checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)",
                (size, root, note, at),
            )

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._conn().execute(_CHECKPOINT_SELECT + " ORDER BY size DESC LIMIT 1").fetchone()
        return None if row is None else _checkpoint(row)

    def list_checkpoints(self) -> list[StoredCheckpoint]:
        rows = self._conn().execute(_CHECKPOINT_SELECT + " ORDER BY size").fetchall()
        return [_checkpoint(row) for row in rows]

    def count_entries(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM ledger_entries").fetchone()[0])

    # -- content and outcomes ----------------------------------------------------------------

    def get_content(self, digest: str) -> bytes | None:
        row = (
            self._conn().execute("SELECT body FROM contents WHERE digest = ?", (digest,)).fetchone()
        )
        return None if row is None or row[0] is None else bytes(row[0])

    def purge_bodies(self, before: str) -> list[str]:
        with self._write() as conn:
            rows = conn.execute(
                "SELECT digest FROM contents WHERE created_at < ? AND body IS NOT NULL"
                " ORDER BY digest",
                (before,),
            ).fetchall()
            conn.execute(
                "UPDATE contents SET body = NULL WHERE created_at < ? AND body IS NOT NULL",
                (before,),
            )
        return [row[0] for row in rows]

    def get_outcome(self, decision_id: str) -> Outcome | None:
        row = (
            self._conn()
            .execute(
                "SELECT decision_id, status, upstream_ms, response_digest FROM outcomes"
                " WHERE decision_id = ?",
                (decision_id,),
            )
            .fetchone()
        )
        return None if row is None else Outcome(*row)


_KEY_SELECT = (
    "SELECT key_id, name, human, unit, roles, secret_hash, created_at, revoked_at FROM api_keys"
)
_CHECKPOINT_SELECT = "SELECT size, root, note, created_at, cosigned_at FROM checkpoints"


def _checkpoint(row: tuple[int, bytes, str, str, str | None]) -> StoredCheckpoint:
    return StoredCheckpoint(int(row[0]), bytes(row[1]), row[2], row[3], row[4])


_ENTRY_SELECT = (
    "SELECT seq, decision_id, entry, time, decision, red_line, key_id FROM ledger_entries"
)


def _key_record(row: tuple[str, ...]) -> KeyRecord:
    key_id, name, human, unit, roles, secret_hash, created_at, revoked_at = row
    return KeyRecord(
        key_id=key_id,
        name=name,
        human=human,
        unit=unit,
        roles=tuple(Role(role) for role in json.loads(roles)),
        secret_hash=secret_hash,
        created_at=created_at,
        revoked_at=revoked_at,
    )


def _insert_contents(conn: sqlite3.Connection, contents: Sequence[Content]) -> None:
    if not contents:
        return
    now = dt.datetime.now(dt.UTC).isoformat()
    conn.executemany(
        "INSERT OR IGNORE INTO contents (digest, body, size, created_at) VALUES (?, ?, ?, ?)",
        [(c.digest, c.body, len(c.body), now) for c in contents],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO content_refs (decision_id, role, digest) VALUES (?, ?, ?)",
        [(c.decision_id, c.role, c.digest) for c in contents],
    )
