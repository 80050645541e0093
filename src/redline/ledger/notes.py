"""Checkpoints and signed notes: the text in which the ledger's tree heads are signed and co-signed.

The formats are the public ones, so a checkpoint from this gateway can be checked, and co-signed,
by tools nobody here wrote:

* ``c2sp.org/signed-note``: a note is UTF-8 text ending in a newline, then a blank line, then one
  or more signature lines ``— <key name> <base64(4-byte key ID || signature)>`` (em dash U+2014,
  space). The key ID is ``SHA-256(key name || 0x0A || signature type || public key)[:4]``;
  signature type 0x01 is Ed25519 over the note text.
* ``c2sp.org/tlog-checkpoint``: the note text of a checkpoint is the origin line, the tree size in
  decimal, the base64 RFC 6962 root hash, then optional extension lines.
* ``c2sp.org/tlog-cosignature``: signature type 0x04, a witness's Ed25519 signature over
  ``cosignature/v1``, ``time <t>`` and the checkpoint text, carrying its 8-byte timestamp.
* ``golang.org/x/mod/sumdb/note``: the key strings. A verifier key (vkey) is
  ``<name>+<hex key ID>+<base64(type || public key)>``; a signer key is
  ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || 32-byte Ed25519 seed)>``.

Base64 is the standard alphabet with padding (RFC 4648 section 4) everywhere, and is parsed
strictly: only the canonical encoding of a value is accepted.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redline.files import write_file

__all__ = [
    "HASH_SIZE",
    "MAX_SIGNATURES",
    "Checkpoint",
    "DuplicateSignatureError",
    "InvalidSignatureError",
    "KeyFormatError",
    "MalformedCheckpointError",
    "MalformedNoteError",
    "NoteError",
    "SignatureType",
    "SigningKey",
    "TooManySignaturesError",
    "UnverifiedNoteError",
    "VerifiedSignature",
    "VerifierKey",
    "add_signature",
    "compute_key_id",
    "is_valid_key_name",
    "open_checkpoint",
    "open_note",
    "open_note_signatures",
    "sign",
]

MAX_SIGNATURES = 100
"""Most signature lines a note may carry. The spec requires accepting at least 16; Go's
sumdb/note rejects more than 100, and so does this module, before verifying any of them."""

HASH_SIZE = 32
"""Length of an RFC 6962 (SHA-256) root hash."""

MAX_TREE_SIZE = 2**64 - 1
MAX_COSIGNATURE_TIMESTAMP = 2**63 - 1

_SIGNATURE_PREFIX = "\u2014 "
_COSIGNATURE_HEADER = "cosignature/v1\n"
_ED25519_PUBLIC_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_KEY_ID_SIZE = 4

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


class SignatureType(enum.IntEnum):
    """Signature type identifier bytes assigned by ``c2sp.org/signed-note``."""

    ED25519 = 0x01
    """Plain Ed25519 over the note text."""

    COSIGNATURE_V1 = 0x04
    """Timestamped Ed25519 witness cosignature, ``c2sp.org/tlog-cosignature``."""


class NoteError(ValueError):
    """Base class of every rejection by this module."""


class MalformedNoteError(NoteError):
    """The note is not a syntactically valid signed note."""


class TooManySignaturesError(MalformedNoteError):
    """The note has more than :data:`MAX_SIGNATURES` signature lines."""


class UnverifiedNoteError(NoteError):
    """No signature in the note is by a known key, so the note MUST be rejected."""


class InvalidSignatureError(NoteError):
    """A signature line names a known key (name and key ID) but does not verify.

    The whole note is rejected, even if other known keys' signatures verify.
    """

    def __init__(self, name: str, key_id: bytes) -> None:
        super().__init__(f"invalid signature for known key {name}+{key_id.hex()}")
        self.name = name
        self.key_id = key_id


class DuplicateSignatureError(NoteError):
    """The note already carries a signature by this key."""


class MalformedCheckpointError(NoteError):
    """The text, or the values, do not form a valid ``c2sp.org/tlog-checkpoint`` checkpoint."""


class KeyFormatError(NoteError):
    """A key name, verifier key or signer key string is malformed or inconsistent."""


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _b64decode(text: str) -> bytes | None:
    """Decode standard, padded base64, accepting only the canonical encoding; None otherwise."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def is_valid_key_name(name: str) -> bool:
    """Whether ``name`` may be a key name: non-empty, UTF-8, no Unicode space, no plus (U+002B).

    Control characters are refused as well, since a signed note may not contain them.
    """
    return (
        isinstance(name, str)
        and bool(name)
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and _CONTROL.search(name) is None
        and _is_utf8(name)
    )


def compute_key_id(name: str, signature_type: SignatureType, public_key: bytes) -> bytes:
    """The 4-byte key ID: ``SHA-256(key name || 0x0A || signature type || public key)[:4]``."""
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    ).digest()
    return digest[:_KEY_ID_SIZE]


def _check_text_line(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedCheckpointError(f"{what} must be a non-empty string")
    if "\n" in value or _CONTROL.search(value) or not _is_utf8(value):
        raise MalformedCheckpointError(f"{what} must be one line of UTF-8 text")
    return value


@dataclass(frozen=True)
class Checkpoint:
    """A transparency-log tree head in the ``c2sp.org/tlog-checkpoint`` note-text format.

    ``origin`` MUST be non-empty (it SHOULD be a schema-less URL such as ``example.com/log``, but
    readers MUST NOT assume so); ``size`` is the number of leaves; ``root`` is the 32-byte RFC 6962
    root hash at that size; ``extensions`` are opaque, non-empty lines (NOT RECOMMENDED: monitors
    cannot audit them). Values are checked on construction.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_text_line(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise MalformedCheckpointError("tree size must be an integer")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedCheckpointError("tree size must be between 0 and 2**64 - 1")
        if not isinstance(self.root, bytes | bytearray | memoryview):
            raise MalformedCheckpointError("root hash must be bytes")
        object.__setattr__(self, "root", bytes(self.root))
        if len(self.root) != HASH_SIZE:
            raise MalformedCheckpointError(f"root hash must be {HASH_SIZE} bytes")
        if isinstance(self.extensions, str):
            raise MalformedCheckpointError("extensions must be a sequence of lines")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            _check_text_line(line, "extension line")

    def body(self) -> str:
        """The note text: origin, size, base64 root, extension lines; each ends in a newline."""
        lines = [self.origin, str(self.size), _b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text (the body of a signed note, without the signatures).

        Strict: the text MUST end in a newline and have at least three non-empty lines; the size
        MUST be ASCII decimal without leading zeros (``0`` only for the empty tree); the root MUST
        be canonical standard padded base64 of exactly 32 bytes; extension lines MUST be
        non-empty. Raises :class:`MalformedCheckpointError`.
        """
        if not isinstance(text, str):
            raise MalformedCheckpointError("checkpoint text must be a string")
        if not text.endswith("\n"):
            raise MalformedCheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpointError(
                "checkpoint needs an origin, a tree size and a root hash"
            )
        origin, size_text, root_text, *extensions = lines
        if _TREE_SIZE.fullmatch(size_text) is None:
            raise MalformedCheckpointError(
                "tree size must be decimal digits with no sign, spaces or leading zeros"
            )
        root = _b64decode(root_text)
        if root is None:
            raise MalformedCheckpointError("root hash must be standard padded base64")
        if any(not line for line in extensions):
            raise MalformedCheckpointError("extension lines must be non-empty")
        return cls(origin, int(size_text), root, tuple(extensions))


def _read_key_file(path: str | os.PathLike[str]) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def _parse_key_fields(b64: str, hex_id: str, name: str) -> tuple[SignatureType, bytes, bytes]:
    """Shared checks of the vkey and signer key strings: name, 8 hex digits, type byte, 32 bytes."""
    if not is_valid_key_name(name):
        raise KeyFormatError("key name must be non-empty with no spaces or '+'")
    if _HEX_KEY_ID.fullmatch(hex_id) is None:
        raise KeyFormatError("key ID must be 8 hexadecimal digits")
    raw = _b64decode(b64)
    if not raw:
        raise KeyFormatError("key data must be standard padded base64")
    try:
        signature_type = SignatureType(raw[0])
    except ValueError:
        raise KeyFormatError(f"unsupported signature type 0x{raw[0]:02x}") from None
    if len(raw) != 1 + _ED25519_PUBLIC_KEY_SIZE:
        raise KeyFormatError("Ed25519 key data must be a type byte and 32 bytes")
    return signature_type, raw[1:], bytes.fromhex(hex_id)


def _cosigned_message(text: bytes, timestamp: int) -> bytes:
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n".encode("ascii") + text


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 public key that verifies note signatures of one signature type.

    Its text form is the vkey ``<name>+<hex key ID>+<base64(type || public key)>``.
    """

    name: str
    public_key: bytes
    signature_type: SignatureType = SignatureType.ED25519
    key_id: bytes = field(init=False, repr=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError("key name must be non-empty with no spaces or '+'")
        try:
            signature_type = SignatureType(self.signature_type)
        except ValueError:
            raise KeyFormatError(f"unsupported signature type {self.signature_type!r}") from None
        public_key = bytes(self.public_key)
        if len(public_key) != _ED25519_PUBLIC_KEY_SIZE:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")
        object.__setattr__(self, "signature_type", signature_type)
        object.__setattr__(self, "public_key", public_key)
        object.__setattr__(self, "key_id", compute_key_id(self.name, signature_type, public_key))
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(public_key))

    def __repr__(self) -> str:
        return f"VerifierKey({self.to_vkey()!r})"

    def to_vkey(self) -> str:
        """The vkey string, ``<name>+<8 lowercase hex digits>+<base64(type || public key)>``."""
        encoded = _b64encode(bytes([self.signature_type]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> VerifierKey:
        """Parse a vkey string; the key ID in it MUST match the one computed from name and key."""
        if not isinstance(vkey, str):
            raise KeyFormatError("a verifier key is a string")
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError("a verifier key has the form <name>+<key ID>+<key data>")
        name, hex_id, b64 = parts
        signature_type, public_key, key_id = _parse_key_fields(b64, hex_id, name)
        key = cls(name, public_key, signature_type)
        if key.key_id != key_id:
            raise KeyFormatError("verifier key ID does not match its name and public key")
        return key

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the vkey and a newline to ``path`` (mode 0644); refuse to replace a file unless
        ``overwrite``."""
        write_file(path, (self.to_vkey() + "\n").encode("utf-8"), 0o644, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VerifierKey:
        """Read a vkey written by :meth:`save` (surrounding whitespace is ignored)."""
        return cls.from_vkey(_read_key_file(path))

    def verify(self, text: bytes, signature: bytes) -> tuple[bool, int | None]:
        """Check ``signature`` (the bytes after the key ID) over the note text.

        Returns whether it verifies and, for a cosignature/v1 key, its timestamp.
        """
        if self.signature_type is SignatureType.COSIGNATURE_V1:
            if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
                return False, None
            timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
            if timestamp > MAX_COSIGNATURE_TIMESTAMP:
                return False, None
            message = _cosigned_message(text, timestamp)
            signature = signature[_TIMESTAMP_SIZE:]
        else:
            timestamp = None
            message = text
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False, None
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False, None
        return True, timestamp


class SigningKey:
    """A named Ed25519 private key that signs notes.

    Its text form is the sumdb signer key
    ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>``; anyone holding it can sign as
    this key, so it is written to files with mode 0600 and is left out of ``repr``.
    ``signature_type`` is 0x01 (plain Ed25519, what a log signs its checkpoints with) or 0x04
    (a witness's timestamped cosignature/v1).
    """

    __slots__ = ("_private", "_verifier")

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey,
        signature_type: SignatureType = SignatureType.ED25519,
    ) -> None:
        public_key = private_key.public_key().public_bytes_raw()
        self._verifier = VerifierKey(name, public_key, signature_type)
        self._private = private_key

    @classmethod
    def generate(
        cls, name: str, signature_type: SignatureType = SignatureType.ED25519
    ) -> SigningKey:
        """A new random key named ``name``."""
        return cls(name, Ed25519PrivateKey.generate(), signature_type)

    @classmethod
    def from_seed(
        cls, name: str, seed: bytes, signature_type: SignatureType = SignatureType.ED25519
    ) -> SigningKey:
        """The key with the 32-byte Ed25519 private seed ``seed`` (RFC 8032)."""
        if len(seed) != 32:
            raise KeyFormatError("an Ed25519 seed is 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(bytes(seed)), signature_type)

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def signature_type(self) -> SignatureType:
        return self._verifier.signature_type

    @property
    def key_id(self) -> bytes:
        """``SHA-256(name || 0x0A || type || public key)[:4]``."""
        return self._verifier.key_id

    @property
    def public_key(self) -> bytes:
        return self._verifier.public_key

    @property
    def verifier(self) -> VerifierKey:
        """The public half, to give to whoever verifies this key's signatures."""
        return self._verifier

    def to_vkey(self) -> str:
        """The public verifier key string."""
        return self._verifier.to_vkey()

    def to_skey(self) -> str:
        """The secret signer key string, ``PRIVATE+KEY+<name>+<key ID>+<base64(type || seed)>``."""
        seed = self._private.private_bytes_raw()
        encoded = _b64encode(bytes([self.signature_type]) + seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_skey(cls, skey: str) -> SigningKey:
        """Parse a signer key string; its key ID MUST match the one derived from the seed."""
        if not isinstance(skey, str):
            raise KeyFormatError("a signer key is a string")
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise KeyFormatError("a signer key has the form PRIVATE+KEY+<name>+<key ID>+<key data>")
        _, _, name, hex_id, b64 = parts
        signature_type, seed, key_id = _parse_key_fields(b64, hex_id, name)
        key = cls.from_seed(name, seed, signature_type)
        if key.key_id != key_id:
            raise KeyFormatError("signer key ID does not match the key derived from its seed")
        return key

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the signer key and a newline to ``path`` with mode 0600 (whatever the umask);
        refuse to replace an existing file unless ``overwrite``, which replaces it atomically."""
        write_file(path, (self.to_skey() + "\n").encode("utf-8"), 0o600, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SigningKey:
        """Read a signer key written by :meth:`save` (surrounding whitespace is ignored)."""
        return cls.from_skey(_read_key_file(path))

    def __repr__(self) -> str:
        return f"SigningKey({self.to_vkey()!r})"

    def _signature(self, text: str, timestamp: int | None) -> bytes:
        """Key ID || signature of the note text ``text``."""
        raw_text = text.encode("utf-8")
        if self.signature_type is SignatureType.COSIGNATURE_V1:
            Checkpoint.parse(text)  # a cosignature is a statement about a checkpoint
            when = int(time.time()) if timestamp is None else timestamp
            if isinstance(when, bool) or not isinstance(when, int):
                raise ValueError("cosignature timestamp must be an integer")
            if not 0 <= when <= MAX_COSIGNATURE_TIMESTAMP:
                raise ValueError("cosignature timestamp must be between 0 and 2**63 - 1")
            signed = self._private.sign(_cosigned_message(raw_text, when))
            return self.key_id + when.to_bytes(_TIMESTAMP_SIZE, "big") + signed
        if timestamp is not None:
            raise ValueError("only cosignature/v1 keys sign a timestamp")
        return self.key_id + self._private.sign(raw_text)

    def _signature_line(self, text: str, timestamp: int | None) -> str:
        return f"{_SIGNATURE_PREFIX}{self.name} {_b64encode(self._signature(text, timestamp))}\n"


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature in a note that a known key verified."""

    name: str
    key_id: bytes
    signature_type: SignatureType
    timestamp: int | None = None
    """The POSIX time a cosignature/v1 states; None for plain Ed25519 signatures."""


@dataclass(frozen=True)
class _SignatureLine:
    name: str
    key_id: bytes
    signature: bytes


def _check_note_text(text: str) -> None:
    if not isinstance(text, str):
        raise MalformedNoteError("note text must be a string")
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    if not _is_utf8(text):
        raise MalformedNoteError("note text must be valid UTF-8")
    if _CONTROL.search(text):
        raise MalformedNoteError("note text must not contain control characters other than newline")


def _parse_signature_line(line: str) -> _SignatureLine:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise MalformedNoteError("signature lines must begin with an em dash (U+2014) and a space")
    name, space, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not space or not is_valid_key_name(name):
        raise MalformedNoteError("signature line has no valid key name")
    raw = _b64decode(encoded)
    if raw is None or len(raw) <= _KEY_ID_SIZE:
        raise MalformedNoteError("signature must be base64 of a 4-byte key ID and a signature")
    return _SignatureLine(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


def _split_note(note: str | bytes) -> tuple[str, str, list[_SignatureLine]]:
    """Syntax only: the note as text, its body, and its parsed signature lines."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("note must be valid UTF-8") from None
    if not isinstance(note, str):
        raise MalformedNoteError("note must be str or bytes")
    if not _is_utf8(note):
        raise MalformedNoteError("note must be valid UTF-8")
    if _CONTROL.search(note):
        raise MalformedNoteError("note must not contain control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("note must end with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise TooManySignaturesError(f"note has more than {MAX_SIGNATURES} signatures")
    return note, text, [_parse_signature_line(line) for line in lines]


def _index_verifiers(verifiers: Iterable[VerifierKey]) -> dict[tuple[str, bytes], VerifierKey]:
    index: dict[tuple[str, bytes], VerifierKey] = {}
    for verifier in verifiers:
        if not isinstance(verifier, VerifierKey):
            raise TypeError("verifiers must be VerifierKey instances")
        slot = (verifier.name, verifier.key_id)
        known = index.setdefault(slot, verifier)
        if known != verifier:
            raise ValueError(
                f"two different verifier keys share name and key ID {slot[0]}+{slot[1].hex()}"
            )
    return index


def sign(body: str, key: SigningKey, *, timestamp: int | None = None) -> str:
    """Sign note text ``body`` with ``key`` and return the whole signed note.

    ``body`` MUST be UTF-8 text ending in a newline with no control characters other than
    newline. A cosignature/v1 key signs only checkpoint text, stating ``timestamp`` (POSIX
    seconds, default now); a plain Ed25519 key takes no timestamp.
    """
    _check_note_text(body)
    return body + "\n" + key._signature_line(body, timestamp)


def add_signature(
    note: str | bytes,
    key: SigningKey,
    *,
    verifiers: Iterable[VerifierKey] | None = None,
    timestamp: int | None = None,
) -> str:
    """Co-sign: append ``key``'s signature line to an existing signed note, keeping the others.

    The new signature covers the same note text as the existing ones. Refuses with
    :class:`DuplicateSignatureError` a note that already carries a signature by this key (same
    name and key ID), and with :class:`TooManySignaturesError` one that would exceed
    :data:`MAX_SIGNATURES`. Without ``verifiers`` only the note's syntax is checked; a co-signer
    vouching for the note should pass the signer's key as ``verifiers`` so the note is opened
    (:func:`open_note`) before it is signed.
    """
    note_text, body, lines = _split_note(note)
    if verifiers is not None:
        open_note(note_text, verifiers)
    if any(line.name == key.name and line.key_id == key.key_id for line in lines):
        raise DuplicateSignatureError(f"note is already signed by {key.name}+{key.key_id.hex()}")
    if len(lines) >= MAX_SIGNATURES:
        raise TooManySignaturesError(f"note already has {MAX_SIGNATURES} signatures")
    return note_text + key._signature_line(body, timestamp)


def open_note_signatures(
    note: str | bytes, verifiers: Iterable[VerifierKey]
) -> tuple[str, list[VerifiedSignature]]:
    """Verify a signed note against known keys; return its text and the verified signatures.

    The rules of ``c2sp.org/signed-note``, all enforced:

    * the note MUST be valid UTF-8 with no control characters other than newline, and the text is
      separated from the signature lines by the last blank line (:class:`MalformedNoteError`);
    * at least 16 signatures MUST be accepted: up to :data:`MAX_SIGNATURES` are, more are
      rejected before any is verified (:class:`TooManySignaturesError`);
    * signatures from unknown keys MUST be ignored, even if they share the name or the key ID
      (but not both) with a known key;
    * a signature whose name and key ID match a known key MUST be verified, and if it fails the
      whole note is rejected (:class:`InvalidSignatureError`), whatever else verified;
    * if no signature from a known key verifies, the note MUST be rejected
      (:class:`UnverifiedNoteError`).

    A key that signed more than once is listed once. Raises ``ValueError`` if two different
    verifier keys share a name and key ID.
    """
    index = _index_verifiers(verifiers)
    _, text, lines = _split_note(note)
    raw_text = text.encode("utf-8")
    verified: list[VerifiedSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for line in lines:
        slot = (line.name, line.key_id)
        key = index.get(slot)
        if key is None:
            continue
        ok, timestamp = key.verify(raw_text, line.signature)
        if not ok:
            raise InvalidSignatureError(line.name, line.key_id)
        if slot not in seen:
            seen.add(slot)
            verified.append(
                VerifiedSignature(line.name, line.key_id, key.signature_type, timestamp)
            )
    if not verified:
        raise UnverifiedNoteError("no signature in the note is by a known key")
    return text, verified


def open_note(note: str | bytes, verifiers: Iterable[VerifierKey]) -> tuple[str, list[str]]:
    """Verify a signed note; return its text and the names of the keys whose signatures verified.

    Follows every rule listed in :func:`open_note_signatures`. The text is only trustworthy as a
    statement by the keys named; a caller that needs a particular signer (the log's own key, a
    quorum of witnesses) checks the names.
    """
    text, verified = open_note_signatures(note, verifiers)
    return text, [signature.name for signature in verified]


def open_checkpoint(
    note: str | bytes, verifiers: Iterable[VerifierKey]
) -> tuple[Checkpoint, list[str]]:
    """:func:`open_note`, then :meth:`Checkpoint.parse` of the verified text."""
    text, names = open_note(note, verifiers)
    return Checkpoint.parse(text), names
