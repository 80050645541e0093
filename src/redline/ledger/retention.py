"""Retention: bodies leave the content store after a period; the purge is itself a ledger entry.

Entries hold only digests, so purging bodies never changes a leaf or a root. The purge entry's
request digest is the digest of the sorted list of purged body digests, and that list is kept in
the content store, so an auditor can tell exactly which bodies were removed, and when.
"""

from __future__ import annotations

import datetime as dt

from redline.canonical import canonical_json, sha256_digest
from redline.decision import Decision, Reason
from redline.ledger.appender import LedgerAppender
from redline.ledger.entry import AppendedEntry, EntryDraft, new_decision_id
from redline.policy import Action
from redline.store import Content, Store

ENDPOINT = "redline:retention"


def purge(
    store: Store,
    appender: LedgerAppender,
    *,
    older_than: dt.timedelta,
    policy_id: str,
    policy_hash: str,
    now: dt.datetime | None = None,
) -> tuple[list[str], AppendedEntry]:
    """Purge bodies older than ``older_than`` and record the purge; returns digests and entry."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = (now - older_than).isoformat()
    purged = store.purge_bodies(cutoff)
    listing = canonical_json({"purged_before": cutoff, "digests": purged})
    decision_id = new_decision_id()
    digest = sha256_digest(listing)
    decision = Decision(
        Action.ALLOW,
        reasons=(Reason(code="retention_purge", detail=f"{len(purged)} bodies before {cutoff}"),),
    )
    entry = appender.append_blocking(
        EntryDraft(
            decision_id=decision_id,
            time=now,
            endpoint=ENDPOINT,
            principal=None,
            decision=decision,
            policy_id=policy_id,
            policy_hash=policy_hash,
            detectors={},
            request_digest=digest,
            contents=(Content(decision_id, "purge", digest, listing),),
        )
    )
    return purged, entry
