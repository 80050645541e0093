CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    human       TEXT NOT NULL,
    unit        TEXT,
    roles       TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE ledger_entries (
    seq         INTEGER PRIMARY KEY,
    decision_id TEXT NOT NULL UNIQUE,
    entry       BLOB NOT NULL,
    time        TEXT NOT NULL,
    decision    TEXT NOT NULL,
    red_line    TEXT,
    key_id      TEXT
);

CREATE TABLE contents (
    digest     TEXT PRIMARY KEY,
    body       BLOB,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE content_refs (
    decision_id TEXT NOT NULL,
    role        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (decision_id, role)
);

CREATE TABLE outcomes (
    decision_id     TEXT PRIMARY KEY,
    status          INTEGER NOT NULL,
    upstream_ms     REAL,
    response_digest TEXT
);
