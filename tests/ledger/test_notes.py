"""Notes, checkpoints, co-signing (c2sp.org signed-note, tlog-checkpoint, tlog-cosignature)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from redline.ledger.notes import (
    MAX_SIGNATURES,
    Checkpoint,
    DuplicateSignatureError,
    InvalidSignatureError,
    KeyFormatError,
    MalformedCheckpointError,
    MalformedNoteError,
    NoteError,
    SignatureType,
    SigningKey,
    TooManySignaturesError,
    UnverifiedNoteError,
    VerifierKey,
    add_signature,
    compute_key_id,
    is_valid_key_name,
    open_checkpoint,
    open_note,
    open_note_signatures,
    sign,
)

EM = "\u2014"

# Known-answer values from golang.org/x/mod, sumdb/note/note.go (package documentation) and
# sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    f"{EM} PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    f"{EM} EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

# The worked example of c2sp.org/signed-note (C2SP/C2SP signed-note.md at d4c16da5, "Verifier
# keys" example), as quoted by implementations that cite it; the signature below verifying under
# the key checks the transcription.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    f"{EM} example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# Verifier keys of types 0x01 (its base64 contains a '+') and 0x04 (cosignature/v1) from
# transparency-dev/formats, note/note_cosigv1_test.go (TestCoSigV1NewVerifier).
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"

# A real checkpoint of the transparency.dev staging CT log arche2025h1: the log's Ed25519
# signature (key ID ba2f06c0), its RFC 6962 signature (type 0x05, unknown here) and four witness
# cosignatures, one by remora.n621.de. Recorded in the test suite of the Python package
# tlog_scales (TestCheckpointSigning); both signatures verifying checks the transcription.
ARCHE_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
ARCHE_CHECKPOINT = f"""arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

{EM} arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
{EM} arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
{EM} transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
{EM} witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
{EM} remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
{EM} witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
"""  # noqa: E501

ROOT = hashlib.sha256(b"redline test root").digest()
GATEWAY = "redline.example/gateway"
VENDOR = "vendor.example/witness"


@pytest.fixture(scope="module")
def gateway_key() -> SigningKey:
    return SigningKey.generate(GATEWAY)


@pytest.fixture(scope="module")
def vendor_key() -> SigningKey:
    return SigningKey.generate(VENDOR)


@pytest.fixture
def checkpoint_body() -> str:
    return Checkpoint("redline.example/log", 42, ROOT).body()


def replace_line(note: str, index: int, line: str) -> str:
    body, _, block = note.rpartition("\n\n")
    lines = block.split("\n")
    lines[index] = line
    return body + "\n\n" + "\n".join(lines)


# --- known answers --------------------------------------------------------------------------


def test_sumdb_signer_key_gives_its_verifier_key_and_key_id() -> None:
    key = SigningKey.from_skey(PETER_SKEY)
    assert key.name == "PeterNeumann"
    assert key.key_id == bytes.fromhex("c74f20a3")
    assert key.signature_type is SignatureType.ED25519
    assert key.to_vkey() == PETER_VKEY
    assert key.to_skey() == PETER_SKEY
    assert VerifierKey.from_vkey(PETER_VKEY) == key.verifier


def test_sumdb_signature_is_reproduced_byte_for_byte() -> None:
    assert sign(GO_TEXT, SigningKey.from_skey(PETER_SKEY)) == GO_TEXT + "\n" + PETER_SIG


def test_sumdb_note_opens_with_one_or_both_keys() -> None:
    peter, enoch = VerifierKey.from_vkey(PETER_VKEY), VerifierKey.from_vkey(ENOCH_VKEY)
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, [peter]) == (GO_TEXT, ["PeterNeumann"])
    assert open_note(note, [enoch]) == (GO_TEXT, ["EnochRoot"])
    assert open_note(note, [enoch, peter]) == (GO_TEXT, ["PeterNeumann", "EnochRoot"])
    with pytest.raises(UnverifiedNoteError):
        open_note(note, [])


def test_sumdb_cosignature_is_appended_after_existing_signatures() -> None:
    cosigned = add_signature(GO_TEXT + "\n" + ENOCH_SIG, SigningKey.from_skey(PETER_SKEY))
    assert cosigned == GO_TEXT + "\n" + ENOCH_SIG + PETER_SIG


def test_sumdb_invalid_signature_by_known_key_is_rejected() -> None:
    tampered = GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(InvalidSignatureError) as caught:
        open_note(tampered, [VerifierKey.from_vkey(PETER_VKEY)])
    assert caught.value.name == "PeterNeumann"
    assert caught.value.key_id == bytes.fromhex("c74f20a3")


def test_signed_note_spec_example_opens() -> None:
    key = VerifierKey.from_vkey(SPEC_VKEY)
    assert key.key_id == bytes.fromhex("530d903a")
    assert key.to_vkey() == SPEC_VKEY
    assert open_note(SPEC_NOTE, [key]) == ("This is an example message.\n", ["example.com/foo"])


def test_transparency_dev_verifier_keys_parse_and_round_trip() -> None:
    plus = VerifierKey.from_vkey(PLUS_VKEY)
    assert (plus.name, plus.signature_type) == ("TEST", SignatureType.ED25519)
    assert plus.to_vkey() == PLUS_VKEY
    remora = VerifierKey.from_vkey(REMORA_VKEY)
    assert remora.signature_type is SignatureType.COSIGNATURE_V1
    assert remora.key_id == bytes.fromhex("da77ade7")
    assert remora.to_vkey() == REMORA_VKEY


def test_real_checkpoint_with_log_signature_and_witness_cosignature() -> None:
    log, witness = VerifierKey.from_vkey(ARCHE_VKEY), VerifierKey.from_vkey(REMORA_VKEY)
    checkpoint, names = open_checkpoint(ARCHE_CHECKPOINT, [witness, log])
    assert checkpoint.origin == "arche2025h1.staging.ct.transparency.dev"
    assert checkpoint.size == 1432088532
    assert checkpoint.root == base64.b64decode("U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=")
    assert names == ["arche2025h1.staging.ct.transparency.dev", "remora.n621.de"]
    _, verified = open_note_signatures(ARCHE_CHECKPOINT, [log, witness])
    # The timestamp is the 8 bytes after the key ID in the remora line, 0x000000006a122120.
    assert [(s.signature_type, s.timestamp) for s in verified] == [
        (SignatureType.ED25519, None),
        (SignatureType.COSIGNATURE_V1, 0x6A122120),
    ]
    changed = ARCHE_CHECKPOINT.replace("1432088532", "1432088533", 1)
    for key in (log, witness):
        with pytest.raises(InvalidSignatureError):
            open_note(changed, [key])


def test_key_id_is_computed_per_spec() -> None:
    key = SigningKey.generate("example.com/key")
    expected = hashlib.sha256(b"example.com/key\n\x01" + key.public_key).digest()[:4]
    assert key.key_id == expected
    assert compute_key_id("example.com/key", SignatureType.ED25519, key.public_key) == expected
    witness = SigningKey.from_seed("w", b"\x07" * 32, SignatureType.COSIGNATURE_V1)
    assert witness.key_id == hashlib.sha256(b"w\n\x04" + witness.public_key).digest()[:4]
    # The note carries the key ID as the first four bytes of the base64 payload.
    line = sign("text\n", key).split("\n")[-2]
    assert base64.b64decode(line.split(" ")[2])[:4] == expected


# --- signing, opening, co-signing -----------------------------------------------------------


def test_round_trip(gateway_key: SigningKey, checkpoint_body: str) -> None:
    note = sign(checkpoint_body, gateway_key)
    assert note.startswith(checkpoint_body + "\n" + EM + " " + GATEWAY + " ")
    assert note.endswith("\n")
    assert open_note(note, [gateway_key.verifier]) == (checkpoint_body, [GATEWAY])
    checkpoint, names = open_checkpoint(note, [gateway_key.verifier])
    assert checkpoint == Checkpoint("redline.example/log", 42, ROOT)
    assert names == [GATEWAY]


def test_note_may_be_given_as_bytes(gateway_key: SigningKey, checkpoint_body: str) -> None:
    note = sign(checkpoint_body, gateway_key).encode("utf-8")
    assert open_note(note, [gateway_key.verifier]) == (checkpoint_body, [GATEWAY])


def test_gateway_and_vendor_cosign_the_same_checkpoint(
    gateway_key: SigningKey, vendor_key: SigningKey, checkpoint_body: str
) -> None:
    signed = sign(checkpoint_body, gateway_key)
    cosigned = add_signature(signed, vendor_key, verifiers=[gateway_key.verifier])
    assert cosigned.startswith(signed)
    both = [gateway_key.verifier, vendor_key.verifier]
    assert open_note(cosigned, both) == (checkpoint_body, [GATEWAY, VENDOR])
    assert open_note(cosigned, [vendor_key.verifier]) == (checkpoint_body, [VENDOR])
    assert open_note(cosigned, [gateway_key.verifier]) == (checkpoint_body, [GATEWAY])


def test_vendor_can_cosign_first(
    gateway_key: SigningKey, vendor_key: SigningKey, checkpoint_body: str
) -> None:
    note = add_signature(sign(checkpoint_body, vendor_key), gateway_key)
    names = open_note(note, [gateway_key.verifier, vendor_key.verifier])[1]
    assert names == [VENDOR, GATEWAY]


def test_cosigning_twice_with_one_key_is_refused(
    gateway_key: SigningKey, vendor_key: SigningKey, checkpoint_body: str
) -> None:
    signed = sign(checkpoint_body, gateway_key)
    with pytest.raises(DuplicateSignatureError):
        add_signature(signed, gateway_key)
    cosigned = add_signature(signed, vendor_key)
    with pytest.raises(DuplicateSignatureError):
        add_signature(cosigned, vendor_key)


def test_cosigning_checks_the_existing_signature_when_asked(
    gateway_key: SigningKey, vendor_key: SigningKey, checkpoint_body: str
) -> None:
    forged = sign(checkpoint_body, SigningKey.generate(GATEWAY))
    with pytest.raises(UnverifiedNoteError):
        add_signature(forged, vendor_key, verifiers=[gateway_key.verifier])
    tampered = sign(checkpoint_body, gateway_key).replace("\n42\n", "\n43\n")
    with pytest.raises(InvalidSignatureError):
        add_signature(tampered, vendor_key, verifiers=[gateway_key.verifier])


def test_cosigning_a_malformed_note_is_refused(vendor_key: SigningKey) -> None:
    with pytest.raises(MalformedNoteError):
        add_signature("no signatures\n", vendor_key)


def test_signatures_from_unknown_keys_are_ignored(
    gateway_key: SigningKey, checkpoint_body: str
) -> None:
    note = sign(checkpoint_body, gateway_key)
    note = add_signature(note, SigningKey.generate("stranger.example"))
    # Same name as a known key, different key (so different key ID).
    note = add_signature(note, SigningKey.generate(GATEWAY))
    # Same key ID as a known key, different name.
    known_line = note.split("\n\n")[1].split("\n")[0]
    note += known_line.replace(GATEWAY, "impostor.example", 1) + "\n"
    assert open_note(note, [gateway_key.verifier]) == (checkpoint_body, [GATEWAY])


def test_note_signed_only_by_unknown_keys_is_rejected(
    gateway_key: SigningKey, checkpoint_body: str
) -> None:
    note = sign(checkpoint_body, SigningKey.generate("stranger.example"))
    note = add_signature(note, SigningKey.generate(GATEWAY))
    with pytest.raises(UnverifiedNoteError):
        open_note(note, [gateway_key.verifier])


def test_failed_signature_by_a_known_key_rejects_the_note(
    gateway_key: SigningKey, vendor_key: SigningKey, checkpoint_body: str
) -> None:
    note = add_signature(sign(checkpoint_body, gateway_key), vendor_key)
    vendor_line = note.split("\n")[-2]
    payload = bytearray(base64.b64decode(vendor_line.split(" ")[2]))
    payload[10] ^= 0x01
    broken = replace_line(note, 1, f"{EM} {VENDOR} {base64.b64encode(payload).decode()}")
    # The vendor key is unknown: its broken line is ignored and the gateway's verifies.
    assert open_note(broken, [gateway_key.verifier]) == (checkpoint_body, [GATEWAY])
    # The vendor key is known: its broken line rejects the note, the gateway's notwithstanding.
    with pytest.raises(InvalidSignatureError):
        open_note(broken, [gateway_key.verifier, vendor_key.verifier])


def test_duplicate_signature_lines_by_a_known_key_are_all_verified(
    gateway_key: SigningKey, checkpoint_body: str
) -> None:
    note = sign(checkpoint_body, gateway_key)
    line = note.split("\n")[-2]
    assert open_note(note + line + "\n", [gateway_key.verifier])[1] == [GATEWAY]
    payload = bytearray(base64.b64decode(line.split(" ")[2]))
    payload[-1] ^= 0x80
    bad = f"{EM} {GATEWAY} {base64.b64encode(payload).decode()}\n"
    with pytest.raises(InvalidSignatureError):
        open_note(note + bad, [gateway_key.verifier])


def test_any_changed_character_of_the_body_is_rejected(
    gateway_key: SigningKey, checkpoint_body: str
) -> None:
    note = sign(checkpoint_body, gateway_key)
    for index, char in enumerate(checkpoint_body):
        changed = chr(ord(char) ^ 0x01)
        tampered = note[:index] + changed + note[index + 1 :]
        with pytest.raises(NoteError):
            open_note(tampered, [gateway_key.verifier])


def test_any_changed_byte_of_the_encoded_body_is_rejected(
    gateway_key: SigningKey, checkpoint_body: str
) -> None:
    note = sign(checkpoint_body, gateway_key).encode("utf-8")
    for index in range(len(checkpoint_body.encode("utf-8"))):
        for bit in (0x01, 0x80):
            tampered = bytearray(note)
            tampered[index] ^= bit
            with pytest.raises(NoteError):
                open_note(bytes(tampered), [gateway_key.verifier])


def test_truncated_signature_is_rejected(gateway_key: SigningKey, checkpoint_body: str) -> None:
    note = sign(checkpoint_body, gateway_key)
    prefix, _, encoded = note[:-1].rpartition(" ")
    for cut in range(1, len(encoded)):
        with pytest.raises(NoteError):
            open_note(f"{prefix} {encoded[:-cut]}\n", [gateway_key.verifier])
    # Still valid base64, one whole 3-byte group short: the known key's signature fails.
    short = base64.b64encode(base64.b64decode(encoded)[:-3]).decode()
    with pytest.raises(InvalidSignatureError):
        open_note(f"{prefix} {short}\n", [gateway_key.verifier])
    # The note cut short anywhere in its signature line.
    for end in range(len(checkpoint_body) + 1, len(note)):
        with pytest.raises(MalformedNoteError):
            open_note(note[:end], [gateway_key.verifier])


def test_at_least_sixteen_signatures_are_accepted(checkpoint_body: str) -> None:
    keys = [SigningKey.generate(f"witness{i}.example") for i in range(16)]
    note = sign(checkpoint_body, keys[0])
    for key in keys[1:]:
        note = add_signature(note, key)
    body, names = open_note(note, [key.verifier for key in keys])
    assert body == checkpoint_body
    assert names == [key.name for key in keys]


def test_more_than_a_hundred_signatures_are_rejected(
    gateway_key: SigningKey, checkpoint_body: str
) -> None:
    note = sign(checkpoint_body, gateway_key)
    line = note.split("\n")[-2] + "\n"
    full = note + line * (MAX_SIGNATURES - 1)
    assert open_note(full, [gateway_key.verifier])[1] == [GATEWAY]
    with pytest.raises(TooManySignaturesError):
        open_note(full + line, [gateway_key.verifier])
    with pytest.raises(TooManySignaturesError):
        open_note(full + line, [])
    with pytest.raises(TooManySignaturesError):
        add_signature(full, SigningKey.generate("one-too-many.example"))


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(GO_TEXT, id="no-signatures"),
        pytest.param(GO_TEXT + "\n", id="blank-line-only"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG[:-1], id="no-final-newline"),
        pytest.param("\x01" + GO_TEXT + "\n" + PETER_SIG, id="control-character"),
        pytest.param(GO_TEXT.replace("\n", "\r\n") + "\r\n" + PETER_SIG, id="carriage-returns"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"), id="space"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "a+b"), id="plus"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n", id="extra-line"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace(EM, "-"), id="hyphen"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace(EM + " ", EM), id="no-space"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG + "\n", id="trailing-blank-line"),
        pytest.param(GO_TEXT + "\n" + f"{EM} PeterNeumann\n", id="no-signature"),
        pytest.param(GO_TEXT + "\n" + f"{EM} PeterNeumann x08gow==\n", id="too-short"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace("JnAM=", "JnAM"), id="unpadded"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace("x08go/", "x08go_"), id="urlsafe"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace("JnAM=", "JnAN="), id="non-canonical"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace(" x08", "  x08"), id="two-spaces"),
        pytest.param("\ud800" + GO_TEXT + "\n" + PETER_SIG, id="lone-surrogate"),
    ],
)
def test_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(MalformedNoteError):
        open_note(note, [VerifierKey.from_vkey(PETER_VKEY)])


def test_invalid_utf8_is_rejected() -> None:
    note = b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode("utf-8")
    with pytest.raises(MalformedNoteError):
        open_note(note, [VerifierKey.from_vkey(PETER_VKEY)])


def test_note_text_may_contain_blank_lines(gateway_key: SigningKey) -> None:
    body = "first\n\n" + EM + " not a signature\n\n"
    note = sign(body, gateway_key)
    assert open_note(note, [gateway_key.verifier]) == (body, [GATEWAY])


@pytest.mark.parametrize(
    "body",
    ["", "no final newline", "tab\there\n", "carriage\r\n", "bell\x07\n", "\udc80\n"],
)
def test_sign_rejects_bad_note_text(gateway_key: SigningKey, body: str) -> None:
    with pytest.raises(MalformedNoteError):
        sign(body, gateway_key)


def test_ambiguous_verifiers_are_refused(gateway_key: SigningKey, checkpoint_body: str) -> None:
    note = sign(checkpoint_body, gateway_key)
    assert open_note(note, [gateway_key.verifier, gateway_key.verifier])[1] == [GATEWAY]
    # A real collision of name and key ID cannot be made to order; force one.
    impostor = SigningKey.generate(GATEWAY).verifier
    object.__setattr__(impostor, "key_id", gateway_key.key_id)
    with pytest.raises(ValueError, match="share name and key ID"):
        open_note(note, [gateway_key.verifier, impostor])


# --- cosignature/v1 --------------------------------------------------------------------------


def test_witness_cosignature_v1(gateway_key: SigningKey, checkpoint_body: str) -> None:
    witness = SigningKey.generate("witness.example/w1", SignatureType.COSIGNATURE_V1)
    assert witness.to_vkey().split("+")[2].startswith("B")  # type byte 0x04
    note = add_signature(sign(checkpoint_body, gateway_key), witness, timestamp=1679315147)
    payload = base64.b64decode(note.split("\n")[-2].split(" ")[2])
    assert len(payload) == 4 + 8 + 64
    assert payload[4:12] == (1679315147).to_bytes(8, "big")
    body, verified = open_note_signatures(note, [gateway_key.verifier, witness.verifier])
    assert body == checkpoint_body
    assert [(s.name, s.timestamp) for s in verified] == [
        (GATEWAY, None),
        ("witness.example/w1", 1679315147),
    ]
    # The signed message is the cosignature/v1 header, the time line and the checkpoint.
    message = f"cosignature/v1\ntime 1679315147\n{checkpoint_body}".encode()
    Ed25519PublicKey.from_public_bytes(witness.public_key).verify(payload[12:], message)


def test_cosignature_timestamp_defaults_to_now(checkpoint_body: str) -> None:
    witness = SigningKey.generate("witness.example/w1", SignatureType.COSIGNATURE_V1)
    before = int(time.time())
    note = sign(checkpoint_body, witness)
    (signature,) = open_note_signatures(note, [witness.verifier])[1]
    assert signature.timestamp is not None
    assert before <= signature.timestamp <= int(time.time())


def test_cosignature_timestamp_is_signed(checkpoint_body: str) -> None:
    witness = SigningKey.generate("witness.example/w1", SignatureType.COSIGNATURE_V1)
    note = sign(checkpoint_body, witness, timestamp=1000)
    payload = bytearray(base64.b64decode(note.split("\n")[-2].split(" ")[2]))
    payload[11] ^= 0x01
    tampered = replace_line(
        note, 0, f"{EM} witness.example/w1 {base64.b64encode(payload).decode()}"
    )
    with pytest.raises(InvalidSignatureError):
        open_note(tampered, [witness.verifier])


def test_signature_types_do_not_verify_each_other(checkpoint_body: str) -> None:
    seed = os.urandom(32)
    plain = SigningKey.from_seed("example.com/k", seed)
    cosigner = SigningKey.from_seed("example.com/k", seed, SignatureType.COSIGNATURE_V1)
    assert plain.public_key == cosigner.public_key
    assert plain.key_id != cosigner.key_id
    with pytest.raises(UnverifiedNoteError):
        open_note(sign(checkpoint_body, cosigner), [plain.verifier])
    with pytest.raises(UnverifiedNoteError):
        open_note(sign(checkpoint_body, plain), [cosigner.verifier])


def test_cosignature_needs_a_checkpoint_and_a_valid_timestamp() -> None:
    witness = SigningKey.generate("witness.example/w1", SignatureType.COSIGNATURE_V1)
    with pytest.raises(MalformedCheckpointError):
        sign("just some text\n", witness)
    body = Checkpoint("o", 1, ROOT).body()
    for bad in (-1, 2**63):
        with pytest.raises(ValueError, match="timestamp"):
            sign(body, witness, timestamp=bad)
    with pytest.raises(ValueError, match="timestamp"):
        sign(body, SigningKey.generate("log.example"), timestamp=5)


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_body_format() -> None:
    root_b64 = base64.b64encode(ROOT).decode()
    assert Checkpoint("example.com/log", 0, ROOT).body() == f"example.com/log\n0\n{root_b64}\n"
    with_ext = Checkpoint("example.com/log", 20852163, ROOT, ("ext one", "ext two"))
    assert with_ext.body() == f"example.com/log\n20852163\n{root_b64}\next one\next two\n"
    assert Checkpoint.parse(with_ext.body()) == with_ext


def test_checkpoint_spec_example_parses() -> None:
    # The note text of the c2sp.org/tlog-checkpoint example.
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.parse(text)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert checkpoint.body() == text


def test_checkpoint_allows_largest_tree_size() -> None:
    text = f"o\n{2**64 - 1}\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(text).size == 2**64 - 1


ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_ROOT_B64 = base64.urlsafe_b64encode(b"\xff" * 32).decode()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(f"o\n1\n{ROOT_B64}", id="no-final-newline"),
        pytest.param("o\n1\n", id="no-root"),
        pytest.param(f"\n1\n{ROOT_B64}\n", id="empty-origin"),
        pytest.param(f"o\x00\n1\n{ROOT_B64}\n", id="control-in-origin"),
        pytest.param(f"o\n01\n{ROOT_B64}\n", id="leading-zero"),
        pytest.param(f"o\n00\n{ROOT_B64}\n", id="double-zero"),
        pytest.param(f"o\n+1\n{ROOT_B64}\n", id="plus-sign"),
        pytest.param(f"o\n-1\n{ROOT_B64}\n", id="negative"),
        pytest.param(f"o\n 1\n{ROOT_B64}\n", id="leading-space"),
        pytest.param(f"o\n1 \n{ROOT_B64}\n", id="trailing-space"),
        pytest.param(f"o\n1_000\n{ROOT_B64}\n", id="underscore"),
        pytest.param(f"o\n\u0661\n{ROOT_B64}\n", id="arabic-digit"),
        pytest.param(f"o\n0x10\n{ROOT_B64}\n", id="hex"),
        pytest.param(f"o\n\n{ROOT_B64}\n", id="empty-size"),
        pytest.param(f"o\n{2**64}\n{ROOT_B64}\n", id="size-too-large"),
        pytest.param(f"o\n1{'0' * 30}\n{ROOT_B64}\n", id="size-far-too-large"),
        pytest.param(f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", id="short-root"),
        pytest.param(f"o\n1\n{base64.b64encode(ROOT + b'x').decode()}\n", id="long-root"),
        pytest.param(f"o\n1\n{ROOT_B64.rstrip('=')}\n", id="unpadded-root"),
        pytest.param(f"o\n1\n{URLSAFE_ROOT_B64}\n", id="urlsafe-root"),
        pytest.param(f"o\n1\n{ROOT_B64[:-2]}B=\n", id="non-canonical-root"),
        pytest.param(f"o\n1\n {ROOT_B64}\n", id="space-in-root"),
        pytest.param(f"o\n1\n{ROOT_B64}\n\n", id="empty-extension"),
        pytest.param(f"o\n1\n{ROOT_B64}\nx\n\ny\n", id="empty-line-between-extensions"),
        pytest.param(f"o\r\n1\r\n{ROOT_B64}\r\n", id="crlf"),
        pytest.param(f"o\n1\n{ROOT_B64}\n\n{EM} k AAAA\n", id="signed-note-not-body"),
    ],
)
def test_checkpoint_parse_is_strict(text: str) -> None:
    with pytest.raises(MalformedCheckpointError):
        Checkpoint.parse(text)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("two\nlines", 1, ROOT, ()),
        ("o", -1, ROOT, ()),
        ("o", 2**64, ROOT, ()),
        ("o", True, ROOT, ()),
        ("o", 1.0, ROOT, ()),
        ("o", 1, ROOT[:16], ()),
        ("o", 1, ROOT_B64, ()),
        ("o", 1, ROOT, ("",)),
        ("o", 1, ROOT, ("a\nb",)),
        ("o", 1, ROOT, "ext"),
    ],
)
def test_checkpoint_values_are_checked(
    origin: object, size: object, root: object, extensions: object
) -> None:
    with pytest.raises(MalformedCheckpointError):
        Checkpoint(origin, size, root, extensions)  # type: ignore[arg-type]


def test_open_checkpoint_rejects_a_signed_non_checkpoint(gateway_key: SigningKey) -> None:
    note = sign("not\na checkpoint\n", gateway_key)
    with pytest.raises(MalformedCheckpointError):
        open_checkpoint(note, [gateway_key.verifier])


# --- keys -----------------------------------------------------------------------------------


def test_vkey_round_trip() -> None:
    key = SigningKey.generate("example.com/log")
    vkey = key.to_vkey()
    name, key_id, data = vkey.split("+", 2)
    assert (name, key_id) == ("example.com/log", key.key_id.hex())
    assert base64.b64decode(data) == b"\x01" + key.public_key
    parsed = VerifierKey.from_vkey(vkey)
    assert parsed == key.verifier
    assert parsed.to_vkey() == vkey
    assert repr(parsed) == f"VerifierKey({vkey!r})"


def test_skey_round_trip_and_signing_agree() -> None:
    key = SigningKey.generate("example.com/log")
    again = SigningKey.from_skey(key.to_skey())
    assert again.to_vkey() == key.to_vkey()
    note = sign("hello\n", again)
    assert open_note(note, [key.verifier]) == ("hello\n", ["example.com/log"])


def test_uppercase_key_id_is_accepted_and_written_lowercase() -> None:
    name, key_id, data = PETER_VKEY.split("+", 2)
    assert VerifierKey.from_vkey(f"{name}+{key_id.upper()}+{data}").to_vkey() == PETER_VKEY


def manglings(text: str) -> Iterator[str]:
    """Every proper substring and every one-character increment (as in sumdb's own tests)."""
    for start in range(len(text) + 1):
        for end in range(start + 1, len(text) + 1):
            if (start, end) != (0, len(text)):
                yield text[start:end]
    for index, char in enumerate(text):
        yield text[:index] + chr(ord(char) + 1) + text[index + 1 :]


def test_mangled_verifier_keys_are_rejected() -> None:
    for mangled in manglings(PETER_VKEY):
        with pytest.raises(KeyFormatError):
            VerifierKey.from_vkey(mangled)
    # From sumdb's TestNewVerifier: wrong key length and unknown algorithm, each with a key ID
    # computed to match.
    for bad in (
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(KeyFormatError):
            VerifierKey.from_vkey(bad)


def test_mangled_signer_keys_are_rejected() -> None:
    for mangled in manglings(PETER_SKEY):
        with pytest.raises(KeyFormatError):
            SigningKey.from_skey(mangled)


def test_key_errors_do_not_echo_the_private_key() -> None:
    _, _, name, _, data = PETER_SKEY.split("+", 4)
    with pytest.raises(KeyFormatError) as caught:
        SigningKey.from_skey(f"PRIVATE+KEY+{name}+00000000+{data}")
    assert data not in str(caught.value)
    assert data not in repr(SigningKey.from_skey(PETER_SKEY))


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a b",
        "a+b",
        "tab\tname",
        "new\nline",
        "nbsp\u00a0name",
        "ideographic\u3000space",
        "\x00",
    ],
)
def test_invalid_key_names_are_refused(name: str) -> None:
    assert not is_valid_key_name(name)
    with pytest.raises(KeyFormatError):
        SigningKey.generate(name)


def test_valid_key_names() -> None:
    for name in ("example.com/log", "PeterNeumann", "oid/1.3.6.1.4.1", "transparency.dev/DEV:w"):
        assert is_valid_key_name(name)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
def test_private_key_file_is_0600(tmp_path: Path) -> None:
    key = SigningKey.generate("example.com/log")
    path = tmp_path / "gateway.key"
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == key.to_skey() + "\n"
    assert path.read_text().startswith("PRIVATE+KEY+example.com/log+")
    assert SigningKey.load(path).to_skey() == key.to_skey()


@pytest.mark.usefixtures("permissive_umask")
def test_private_key_file_is_not_silently_replaced(tmp_path: Path) -> None:
    path = tmp_path / "gateway.key"
    first, second = SigningKey.generate("a.example"), SigningKey.generate("b.example")
    first.save(path)
    with pytest.raises(FileExistsError):
        second.save(path)
    assert SigningKey.load(path).to_vkey() == first.to_vkey()
    os.chmod(path, 0o644)
    second.save(path, overwrite=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SigningKey.load(path).to_vkey() == second.to_vkey()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gateway.key"]


def test_verifier_key_file_round_trip(tmp_path: Path) -> None:
    key = SigningKey.generate("example.com/log")
    path = tmp_path / "gateway.vkey"
    key.verifier.save(path)
    assert path.read_text() == key.to_vkey() + "\n"
    assert VerifierKey.load(path) == key.verifier
    path.write_text("  " + key.to_vkey() + "\r\n")
    assert VerifierKey.load(path) == key.verifier


def test_loading_a_bad_key_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text(PETER_VKEY + "\n")
    with pytest.raises(KeyFormatError):
        SigningKey.load(path)
    path.write_text(PETER_SKEY + "\n")
    with pytest.raises(KeyFormatError):
        VerifierKey.load(path)
