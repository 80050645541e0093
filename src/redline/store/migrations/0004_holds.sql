CREATE TABLE holds (
    hold_id    TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    requester  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    version    INTEGER NOT NULL,
    document   BLOB NOT NULL
);

CREATE INDEX holds_by_status ON holds (status, created_at);

CREATE TABLE redeemed_tokens (
    token_id    TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL,
    redeemed_at TEXT NOT NULL
);
