"""``redline ledger list|show``: read the decision log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
import orjson

from redline.cli.context import Context, pass_context
from redline.ledger import LedgerAppender
from redline.ledger.authorisation_entry import AUTHORISATION_SCHEMA
from redline.ledger.checkpoints import load_or_create_key
from redline.ledger.export import VerificationError, export, verify
from redline.ledger.export import cosign as cosign_export
from redline.ledger.notes import NoteError, SigningKey, VerifierKey, open_checkpoint
from redline.ledger.receipts import ReceiptError, receipt, verify_receipt
from redline.ledger.retention import purge
from redline.policy import load_pack, pack_hash


@click.group()
def ledger() -> None:
    """Read the decision ledger."""


@ledger.command(name="list")
@click.option("--last", default=20, show_default=True, help="How many of the newest entries.")
@click.option("--json", "as_json", is_flag=True, help="Print each entry's canonical JSON.")
@pass_context
def list_(obj: Context, last: int, as_json: bool) -> None:
    """List the newest decisions, oldest first."""
    with obj.store() as store:
        start = max(0, store.count_entries() - last)
        entries = store.list_entries(start, last)
    for stored in entries:
        if as_json:
            click.echo(stored.entry.decode())
            continue
        click.echo(_line(stored.seq, stored.decision_id, orjson.loads(stored.entry)))


def _line(seq: int, decision_id: str, entry: dict[str, Any]) -> str:
    principal = entry["principal"]["name"] if entry["principal"] else "-"
    if entry["schema"] == AUTHORISATION_SCHEMA:
        # An authorisation step: what happened to which hold, and the refusal code if refused.
        hold = entry["hold"] or {}
        detail = f"{hold.get('id', '-')} {hold.get('tool', '')} {entry['code'] or ''}".strip()
        return (
            f"{seq:>6}  {entry['time']}  {decision_id}  {entry['step']:<8} "
            f"{'use-of-force':<28} {hold.get('clause') or '-':<6} {principal:<16} {detail}"
        )
    reasons = ",".join(reason["code"] for reason in entry["reasons"]) or "-"
    return (
        f"{seq:>6}  {entry['time']}  {decision_id}  {entry['decision']:<8} "
        f"{entry['red_line'] or '-':<28} {entry['clause'] or '-':<6} {principal:<16} {reasons}"
    )


@ledger.command()
@click.argument("decision_id")
@pass_context
def show(obj: Context, decision_id: str) -> None:
    """Print one decision's entry as recorded."""
    with obj.store() as store:
        stored = store.get_entry(decision_id)
    if stored is None:
        raise click.ClickException(f"no decision {decision_id}")
    click.echo(orjson.dumps(orjson.loads(stored.entry), option=orjson.OPT_INDENT_2).decode())


def _verifier(text_or_path: str) -> VerifierKey:
    path = Path(text_or_path)
    try:
        return VerifierKey.load(path) if path.is_file() else VerifierKey.from_vkey(text_or_path)
    except (NoteError, OSError, ValueError) as exc:
        raise click.BadParameter(f"{text_or_path}: not a verifier key ({exc})") from None


@ledger.command(name="export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@pass_context
def export_(obj: Context, folder: Path) -> None:
    """Write every entry, every signed checkpoint and the verifier key to FOLDER."""
    settings = obj.settings()
    key = load_or_create_key(settings.ledger_key_path, settings.ledger_origin)
    with obj.store() as store:
        count = export(store, folder, key.to_vkey())
    click.echo(f"exported {count} entries to {folder}")


@ledger.command(name="verify")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--key", "key", required=True, help="The gateway's verifier key (file or text).")
@click.option(
    "--cosigner", "cosigners", multiple=True, help="A co-signer whose signature is required."
)
def verify_(folder: Path, key: str, cosigners: tuple[str, ...]) -> None:
    """Recompute the tree from an export and check every checkpoint; needs only public keys."""
    try:
        result = verify(folder, _verifier(key), [_verifier(c) for c in cosigners])
    except VerificationError as exc:
        raise click.ClickException(f"verification FAILED: {exc}") from None
    uncovered = result.entries - result.covered
    click.echo(
        f"verified: {result.entries} entries, {result.checkpoints} checkpoints, signed by "
        f"{', '.join(result.signers)}"
        + (f"; {uncovered} newer entries not yet covered by a checkpoint" if uncovered else "")
    )


@ledger.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--log-key", required=True, help="The gateway's verifier key (file or text).")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your signing key (from `redline ledger keygen`).",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File remembering the last checkpoint you co-signed.",
)
def cosign(folder: Path, log_key: str, key_path: Path, state: Path) -> None:
    """Verify an export, then co-sign its newest checkpoint (for the second party)."""
    try:
        checkpoint = cosign_export(folder, _verifier(log_key), SigningKey.load(key_path), state)
    except (VerificationError, NoteError) as exc:
        raise click.ClickException(f"refusing to co-sign: {exc}") from None
    click.echo(f"co-signed checkpoint {checkpoint.size} ({checkpoint.root.hex()})")


@ledger.command()
@click.option("--name", required=True, help="Key name, e.g. vendor.example/safety-witness.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def keygen(name: str, out: Path) -> None:
    """Create an Ed25519 note key (OUT, mode 0600) and its verifier (OUT.vkey)."""
    key = SigningKey.generate(name)
    key.save(out)
    out.with_suffix(".vkey").write_text(key.to_vkey() + "\n")
    click.echo(key.to_vkey())


@ledger.command(name="import-cosignature")
@click.argument("note", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def import_cosignature(obj: Context, note: Path) -> None:
    """Store a co-signed checkpoint note; it must still carry the gateway's valid signature."""
    settings = obj.settings()
    key = load_or_create_key(settings.ledger_key_path, settings.ledger_origin)
    text = note.read_text("utf-8")
    try:
        checkpoint, _ = open_checkpoint(text, [key.verifier])
    except NoteError as exc:
        raise click.ClickException(str(exc)) from None
    with obj.store() as store:
        try:
            store.put_checkpoint(
                checkpoint.size, checkpoint.root, text, dt.datetime.now(dt.UTC).isoformat()
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"stored co-signed checkpoint {checkpoint.size}")


@ledger.command()
@click.argument("decision_id")
@pass_context
def prove(obj: Context, decision_id: str) -> None:
    """Print DECISION_ID's receipt: entry, signed checkpoint and inclusion proof (JSON)."""
    with obj.store() as store:
        try:
            document = receipt(store, decision_id)
        except ReceiptError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


@ledger.command(name="verify-receipt")
@click.argument("receipt_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key", required=True, help="The gateway's verifier key (file or text).")
def verify_receipt_(receipt_file: Path, key: str) -> None:
    """Check a receipt offline: the entry is in the tree the signed checkpoint commits to."""
    try:
        size = verify_receipt(orjson.loads(receipt_file.read_bytes()), _verifier(key))
    except (ReceiptError, orjson.JSONDecodeError) as exc:
        raise click.ClickException(f"receipt FAILED: {exc}") from None
    click.echo(f"receipt verified against the signed tree of {size} entries")


@ledger.command(name="purge-bodies")
@click.option("--older-than-days", type=float, required=True, help="Retention period in days.")
@pass_context
def purge_bodies(obj: Context, older_than_days: float) -> None:
    """Remove request and response bodies past retention; the purge is recorded in the ledger."""
    settings = obj.settings()
    pack = load_pack(settings.policy)
    with obj.store() as store:
        appender = LedgerAppender(store)
        appender.start()
        try:
            purged, entry = purge(
                store,
                appender,
                older_than=dt.timedelta(days=older_than_days),
                policy_id=pack.id,
                policy_hash=pack_hash(pack),
            )
        finally:
            appender.close()
    click.echo(f"purged {len(purged)} bodies; recorded as entry {entry.seq} ({entry.decision_id})")
