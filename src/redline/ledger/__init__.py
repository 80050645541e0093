"""The decision ledger: each decision is a canonical-JSON entry, durable before anything leaves."""

from redline.ledger.appender import LedgerAppender
from redline.ledger.entry import (
    ENTRY_SCHEMA,
    AppendedEntry,
    EntryDraft,
    encode_entry,
    new_decision_id,
)

__all__ = [
    "ENTRY_SCHEMA",
    "AppendedEntry",
    "EntryDraft",
    "LedgerAppender",
    "encode_entry",
    "new_decision_id",
]
