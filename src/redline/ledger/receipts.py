"""Receipts: proof, for one decision, that its entry is in the log a signed checkpoint commits to.

A receipt holds the entry's exact bytes, its sequence number, the signed checkpoint, and the
RFC 6962 inclusion proof from the entry to that checkpoint's root. Anyone can check it with the
gateway's verifier key alone, and later check the checkpoint against newer ones by consistency.
"""

from __future__ import annotations

import base64
from typing import Any

from redline.ledger.notes import NoteError, VerifierKey, open_checkpoint
from redline.ledger.tree import consistency_proof, inclusion_proof, leaf_hash, verify_inclusion
from redline.store import Store


class ReceiptError(Exception):
    """No receipt can be given, or a receipt does not verify."""


def receipt(store: Store, decision_id: str) -> dict[str, Any]:
    entry = store.get_entry(decision_id)
    if entry is None:
        raise ReceiptError(f"no decision {decision_id}")
    latest = store.latest_checkpoint()
    if latest is None or latest.size <= entry.seq:
        raise ReceiptError(
            f"decision {decision_id} is not yet covered by a signed checkpoint; ask again shortly"
        )
    proof = inclusion_proof(entry.seq, latest.size, store.leaf_hashes(0, latest.size))
    return {
        "decision_id": decision_id,
        "seq": entry.seq,
        "entry": base64.b64encode(entry.entry).decode(),
        "checkpoint": latest.note,
        "inclusion_proof": [node.hex() for node in proof],
    }


def verify_receipt(document: dict[str, Any], key: VerifierKey) -> int:
    """Check a receipt; return the checkpoint size it was proven against. Raises on failure."""
    try:
        checkpoint, _ = open_checkpoint(document["checkpoint"], [key])
        entry = base64.b64decode(document["entry"], validate=True)
        proof = [bytes.fromhex(node) for node in document["inclusion_proof"]]
        seq = int(document["seq"])
    except (NoteError, KeyError, TypeError, ValueError) as exc:
        raise ReceiptError(f"malformed receipt or checkpoint: {exc}") from None
    if not verify_inclusion(leaf_hash(entry), seq, checkpoint.size, proof, checkpoint.root):
        raise ReceiptError("the entry is not included in the signed checkpoint's tree")
    return checkpoint.size


def consistency(store: Store, old_size: int, new_size: int) -> list[str]:
    """The consistency proof between two checkpointed sizes, hex-encoded."""
    latest = store.latest_checkpoint()
    if latest is None or not 0 < old_size <= new_size <= latest.size:
        raise ReceiptError(
            f"sizes must satisfy 0 < old <= new <= {0 if latest is None else latest.size}"
        )
    proof = consistency_proof(old_size, new_size, store.leaf_hashes(0, new_size))
    return [node.hex() for node in proof]
