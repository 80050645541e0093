"""Export the ledger for offline verification, and verify an export with nothing but public keys.

An export is a folder:

    entries.jsonl          every entry's exact bytes, one per line, in sequence order
    checkpoints/<size>.note  every signed checkpoint (with any co-signatures)
    keys/ledger.vkey       the gateway's verifier key (for convenience: verify with a key you
                           obtained independently, not with this copy)

Verification recomputes the Merkle tree from the entries, checks every checkpoint's signatures
and that its root is the tree's root at its size, and names what failed: the entry whose sequence
number or encoding is wrong, or the range of entries a mismatching checkpoint covers. Since every
checkpoint is checked against the same recomputed tree, consistency between checkpoints follows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from redline.ledger.authorisation_entry import AUTHORISATION_SCHEMA
from redline.ledger.entry import ENTRY_SCHEMA
from redline.ledger.notes import (
    Checkpoint,
    DuplicateSignatureError,
    NoteError,
    SigningKey,
    VerifierKey,
    add_signature,
    open_checkpoint,
)
from redline.ledger.tree import CompactRange, leaf_hash
from redline.store import Store

ENTRIES = "entries.jsonl"
CHECKPOINTS = "checkpoints"


class VerificationError(Exception):
    """The export does not verify; the message names the first thing that failed."""


@dataclass(frozen=True)
class Verified:
    entries: int
    checkpoints: int
    covered: int  # entries covered by the newest verified checkpoint
    signers: tuple[str, ...]


def export(store: Store, folder: Path, verifier_key: str, *, batch: int = 10_000) -> int:
    """Write ``store``'s ledger to ``folder``; returns the number of entries written."""
    (folder / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    (folder / "keys").mkdir(exist_ok=True)
    count = 0
    with (folder / ENTRIES).open("wb") as out:
        while True:
            rows = store.list_entries(count, batch)
            if not rows:
                break
            for row in rows:
                out.write(row.entry + b"\n")
            count += len(rows)
    for checkpoint in store.list_checkpoints():
        if checkpoint.size <= count:
            (folder / CHECKPOINTS / f"{checkpoint.size}.note").write_text(checkpoint.note)
    (folder / "keys" / "ledger.vkey").write_text(verifier_key + "\n")
    return count


def _entries(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        for index, line in enumerate(handle):
            if not line.endswith(b"\n"):
                raise VerificationError(f"entry {index}: the file ends in the middle of an entry")
            yield index, line[:-1]


_SCHEMAS = (ENTRY_SCHEMA, AUTHORISATION_SCHEMA)


def _check_entry(index: int, entry: bytes) -> None:
    try:
        document = orjson.loads(entry)
    except orjson.JSONDecodeError:
        raise VerificationError(f"entry {index}: not valid JSON") from None
    if not isinstance(document, dict) or document.get("schema") not in _SCHEMAS:
        raise VerificationError(
            f"entry {index}: not a {ENTRY_SCHEMA} or {AUTHORISATION_SCHEMA} entry"
        )
    if document.get("seq") != index:
        raise VerificationError(
            f"entry {index}: has sequence number {document.get('seq')}; entries were reordered, "
            "removed or inserted"
        )
    # Entries use only the JSON subset on which RFC 8785 is sorted-key orjson output (ASCII keys,
    # no floats, safe integers; see redline.canonical), so that comparison is the check. Any other
    # re-encoding also changes the leaf hash, which the checkpoint roots catch.
    if orjson.dumps(document, option=orjson.OPT_SORT_KEYS) != entry:
        raise VerificationError(f"entry {index}: not in canonical form (RFC 8785)")


def verify(
    folder: Path,
    key: VerifierKey,
    cosigners: Sequence[VerifierKey] = (),
    *,
    roots: dict[int, bytes] | None = None,
) -> Verified:
    """Verify the export in ``folder``; raise ``VerificationError`` naming the first failure.

    Every checkpoint MUST carry a valid signature by ``key``; the newest MUST also carry one by
    each of ``cosigners`` (it covers every earlier entry, so older checkpoints need not). If
    ``roots`` maps sizes to roots seen before (a co-signer's memory), the recomputed tree MUST
    have those roots at those sizes: that is consistency with what was attested earlier.
    """
    entries_path = folder / ENTRIES
    if not entries_path.is_file():
        raise VerificationError(f"{entries_path} is missing")
    checkpoints = _load_checkpoints(folder / CHECKPOINTS, key, cosigners)
    if not checkpoints:
        raise VerificationError("the export holds no signed checkpoint, so nothing is attested")
    tree = CompactRange()
    pending = sorted(checkpoints)
    previous = 0
    origin = None
    signers: set[str] = set()
    remembered = dict(roots or {})
    for index, entry in _entries(entries_path):
        _check_entry(index, entry)
        tree.append(leaf_hash(entry))
        if tree.size in remembered and remembered.pop(tree.size) != tree.root():
            raise VerificationError(
                f"the tree of {tree.size} entries no longer has the root attested earlier: "
                "history was rewritten"
            )
        while pending and pending[0] == tree.size:
            size = pending.pop(0)
            checkpoint, names = checkpoints[size]
            if origin is not None and checkpoint.origin != origin:
                raise VerificationError(f"checkpoint {size}: origin '{checkpoint.origin}' differs")
            origin = checkpoint.origin
            if checkpoint.root != tree.root():
                raise VerificationError(
                    f"checkpoint {size}: its root does not match entries {previous}..{size - 1}; "
                    "an entry in that range was changed, or the checkpoint was replaced"
                )
            signers.update(names)
            previous = size
    if remembered:
        raise VerificationError(
            f"the export has {tree.size} entries, fewer than the {max(remembered)} attested "
            "earlier: the log was truncated"
        )
    if pending:
        raise VerificationError(
            f"checkpoint {pending[0]} covers {pending[0]} entries but the export has "
            f"{tree.size}: the log was truncated"
        )
    return Verified(tree.size, len(checkpoints), previous, tuple(sorted(signers)))


def _load_checkpoints(
    folder: Path, key: VerifierKey, cosigners: Sequence[VerifierKey]
) -> dict[int, tuple[Checkpoint, list[str]]]:
    found: dict[int, tuple[Checkpoint, list[str]]] = {}
    for path in sorted(folder.glob("*.note")) if folder.is_dir() else []:
        try:
            checkpoint, names = open_checkpoint(path.read_text("utf-8"), [key, *cosigners])
        except NoteError as exc:
            raise VerificationError(f"checkpoint {path.name}: {exc}") from None
        if key.name not in names:
            raise VerificationError(f"checkpoint {path.name}: no valid signature by {key.name}")
        if path.stem != str(checkpoint.size):
            raise VerificationError(f"checkpoint {path.name}: it is for size {checkpoint.size}")
        found[checkpoint.size] = (checkpoint, names)
    if found and cosigners:
        newest = max(found)
        missing = {c.name for c in cosigners} - set(found[newest][1])
        if missing:
            raise VerificationError(
                f"checkpoint {newest}.note (the newest): no valid signature by "
                f"{', '.join(sorted(missing))}"
            )
    return found


def cosign(folder: Path, log_key: VerifierKey, signer: SigningKey, state: Path) -> Checkpoint:
    """A second party's co-signature on the newest checkpoint of a verified export.

    The whole export is verified first, including that the tree still has the root this signer
    co-signed last time (kept in ``state``), so a co-signer never attests a history that rewrites
    what it attested before. The co-signed note replaces the checkpoint file in the export.
    """
    remembered: dict[int, bytes] = {}
    if state.is_file():
        size_text, root_hex = state.read_text().split()
        remembered[int(size_text)] = bytes.fromhex(root_hex)
    result = verify(folder, log_key, roots=remembered)
    path = folder / CHECKPOINTS / f"{result.covered}.note"
    note = path.read_text("utf-8")
    checkpoint, _ = open_checkpoint(note, [log_key])
    with contextlib.suppress(DuplicateSignatureError):  # co-signing the same checkpoint again
        note = add_signature(note, signer)
    path.write_text(note)
    state.write_text(f"{checkpoint.size} {checkpoint.root.hex()}\n")
    return checkpoint
