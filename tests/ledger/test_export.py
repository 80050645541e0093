"""Offline verification of an export: every kind of tampering is found and named."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from redline.cli import main
from redline.ledger import LedgerAppender
from redline.ledger.checkpoints import Checkpointer, load_or_create_key
from redline.ledger.export import VerificationError, cosign, export, verify
from redline.ledger.notes import SigningKey, VerifierKey
from redline.store.sqlite import SQLiteStore
from tests.ledger.test_appender import draft

ORIGIN = "test.redline/ledger"


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, VerifierKey]:
    """A real 30-entry ledger, checkpointed every 10 entries, exported."""
    store = SQLiteStore(tmp_path / "ledger.db")
    key = load_or_create_key(tmp_path / "keys" / "ledger.key", ORIGIN)
    appender = LedgerAppender(
        store, checkpointer=Checkpointer(store, key, ORIGIN, every_entries=10)
    )
    appender.start()
    for _ in range(3):
        asyncio.run(_append(appender, 10))
    appender.close()
    folder = tmp_path / "export"
    assert export(store, folder, key.to_vkey()) == 30
    store.close()
    return folder, key.verifier


async def _append(appender: LedgerAppender, count: int) -> None:
    for _ in range(count):
        await appender.append(draft())


def lines(folder: Path) -> list[bytes]:
    return (folder / "entries.jsonl").read_bytes().splitlines(keepends=True)


def write(folder: Path, rows: list[bytes]) -> None:
    (folder / "entries.jsonl").write_bytes(b"".join(rows))


def test_an_untouched_export_verifies(exported: tuple[Path, VerifierKey]) -> None:
    folder, key = exported
    result = verify(folder, key)
    assert (result.entries, result.covered) == (30, 30)
    assert result.checkpoints >= 3


def test_a_changed_byte_is_found_in_the_range_of_its_checkpoint(
    exported: tuple[Path, VerifierKey],
) -> None:
    folder, key = exported
    rows = lines(folder)
    assert b'"decision":"allow"' in rows[14]
    rows[14] = rows[14].replace(b'"decision":"allow"', b'"decision":"block"')
    write(folder, rows)
    with pytest.raises(VerificationError, match=r"root does not match entries 10\.\.19"):
        verify(folder, key)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda rows: [*rows[:5], rows[6], rows[5], *rows[7:]], "entry 5: has sequence number 6"),
        (lambda rows: rows[:7] + rows[8:], "entry 7: has sequence number 8"),
        (lambda rows: rows[:25], "the log was truncated"),
        (
            lambda rows: [*rows[:3], rows[3].replace(b"{", b"{ ", 1), *rows[4:]],
            "entry 3: not in canonical",
        ),
        (lambda rows: [*rows[:29], rows[29][:-1]], "ends in the middle of an entry"),
    ],
    ids=["reordered", "deleted", "truncated", "re-encoded", "cut short"],
)
def test_structural_tampering_names_the_entry(
    exported: tuple[Path, VerifierKey], tamper: object, message: str
) -> None:
    folder, key = exported
    assert callable(tamper)
    write(folder, tamper(lines(folder)))
    with pytest.raises(VerificationError, match=message):
        verify(folder, key)


def test_a_checkpoint_signed_by_another_key_is_refused(
    exported: tuple[Path, VerifierKey], tmp_path: Path
) -> None:
    folder, key = exported
    impostor = SigningKey.generate(ORIGIN)
    note = (folder / "checkpoints" / "20.note").read_text()
    body = note.split("\n\n")[0] + "\n"
    from redline.ledger.notes import sign

    (folder / "checkpoints" / "20.note").write_text(sign(body, impostor))
    with pytest.raises(VerificationError, match=r"checkpoint 20\.note"):
        verify(folder, key)


def test_a_checkpoint_moved_to_another_size_is_refused(exported: tuple[Path, VerifierKey]) -> None:
    folder, key = exported
    shutil.copy(folder / "checkpoints" / "10.note", folder / "checkpoints" / "20.note")
    with pytest.raises(VerificationError, match="it is for size 10"):
        verify(folder, key)


def test_a_second_party_cosigns_and_both_signatures_are_then_required(
    exported: tuple[Path, VerifierKey], tmp_path: Path
) -> None:
    folder, key = exported
    vendor = SigningKey.generate("vendor.example/witness")
    state = tmp_path / "vendor.state"

    checkpoint = cosign(folder, key, vendor, state)

    assert checkpoint.size == 30
    assert verify(folder, key, [vendor.verifier]).signers == (ORIGIN, "vendor.example/witness")
    other = SigningKey.generate("auditor.example/witness")
    with pytest.raises(VerificationError, match="no valid signature by auditor"):
        verify(folder, key, [other.verifier])


def test_cosigner_refuses_a_history_that_rewrites_what_it_signed(
    exported: tuple[Path, VerifierKey], tmp_path: Path
) -> None:
    folder, key = exported
    vendor = SigningKey.generate("vendor.example/witness")
    state = tmp_path / "vendor.state"
    cosign(folder, key, vendor, state)

    state.write_text(state.read_text().replace(state.read_text().split()[1], "00" * 32))
    with pytest.raises(VerificationError, match="history was rewritten"):
        cosign(folder, key, vendor, state)


def test_cli_export_and_verify_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    assert (
        runner.invoke(main, ["--data-dir", str(data), "keys", "create", "--name", "x"]).exit_code
        == 0
    )
    store = SQLiteStore(data / "redline.db")
    key = load_or_create_key(data / "keys" / "ledger.key", "redline.local/ledger")
    appender = LedgerAppender(store, checkpointer=Checkpointer(store, key, "redline.local/ledger"))
    appender.start()
    asyncio.run(_append(appender, 5))
    appender.close()
    store.close()

    exported = runner.invoke(
        main, ["--data-dir", str(data), "ledger", "export", str(tmp_path / "out")]
    )
    verified = runner.invoke(
        main,
        ["ledger", "verify", str(tmp_path / "out"), "--key", str(data / "keys" / "ledger.vkey")],
    )
    (tmp_path / "out" / "entries.jsonl").write_bytes(b"")
    failed = runner.invoke(
        main,
        ["ledger", "verify", str(tmp_path / "out"), "--key", str(data / "keys" / "ledger.vkey")],
    )

    assert exported.exit_code == 0, exported.output
    assert "verified: 5 entries" in verified.output
    assert failed.exit_code == 1
    assert "verification FAILED" in failed.output


def test_receipt_verifies_and_a_tampered_one_does_not(tmp_path: Path) -> None:
    from redline.ledger.receipts import ReceiptError, receipt, verify_receipt

    store = SQLiteStore(tmp_path / "ledger.db")
    key = load_or_create_key(tmp_path / "keys" / "ledger.key", ORIGIN)
    appender = LedgerAppender(store, checkpointer=Checkpointer(store, key, ORIGIN))
    appender.start()
    appended = [appender.append_blocking(draft()) for _ in range(7)]
    appender.close()

    document = receipt(store, appended[3].decision_id)
    assert verify_receipt(document, key.verifier) == 7
    forged = dict(document, seq=4)
    with pytest.raises(ReceiptError, match="not included"):
        verify_receipt(forged, key.verifier)
    with pytest.raises(ReceiptError, match="no decision"):
        receipt(store, "dec_unknown")
    store.close()
