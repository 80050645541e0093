"""The keys that sign authorisation tokens: a folder keyring with one active key, and JWKS I/O.

Layout of the keyring folder (the gateway uses ``<data_dir>/keys/authorisation/``)::

    <kid>.pem          PKCS8 PEM Ed25519 private key, mode 0600
    active             the active key's kid and a newline
    retired/<kid>.pem  keys rotated out: kept for the record, never published or used again

The contract:

- A key's kid is derived from its public key (the first 16 hex digits of SHA-256 of the raw 32
  bytes), so it cannot be chosen or reused for a different key.
- The published key set (:meth:`Keyring.jwks`) holds the active key only. After
  :meth:`Keyring.rotate` a verifier that fetches the new set MUST refuse tokens signed by the old
  key (``unknown_key``): rotation is also how a suspected key compromise is answered.
- Rotation never leaves a reader without a usable key: the new key file is durable before the
  ``active`` pointer is atomically replaced (``os.replace``), and the old key is moved aside only
  after that.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redline.files import write_file

__all__ = ["Keyring", "SigningKey", "key_id", "load_jwks"]

_ACTIVE = "active"
_RETIRED = "retired"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The kid of ``public_key``: the first 16 hex digits of SHA-256 over its raw 32 bytes."""
    return hashlib.sha256(_raw_public(public_key)).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        private_key = Ed25519PrivateKey.generate()
        return cls(key_id(private_key.public_key()), private_key)

    def public_jwk(self) -> dict[str, str]:
        """The public key as an RFC 8037 OKP JWK, as published in the key set."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(_raw_public(self.private_key.public_key())),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }


class Keyring:
    """The authorisation signing keys in ``folder``; every call reads the folder, so a rotation
    by another process (``redline authorisation rotate``) takes effect at the next token."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._loaded: SigningKey | None = None  # the last key read, reused while still active

    def active(self) -> SigningKey:
        """The active key, creating the first one if the folder has none."""
        for _ in range(5):  # a rotation may move the key between reading the pointer and the file
            kid = self._active_kid()
            if kid is None:
                return self._create_first()
            if self._loaded is not None and self._loaded.kid == kid:
                return self._loaded
            with contextlib.suppress(FileNotFoundError):
                self._loaded = self._load(kid)
                return self._loaded
        raise RuntimeError(f"{self.folder}: the active key keeps moving; is rotation looping?")

    def rotate(self) -> SigningKey:
        """Create a new key, make it active, and retire every other key in the folder."""
        key = self._write_key()
        pointer = self._write_pointer(key.kid)
        os.replace(pointer, self.folder / _ACTIVE)
        retired = self.folder / _RETIRED
        retired.mkdir(mode=0o700, exist_ok=True)
        for pem in self.folder.glob("*.pem"):
            if pem.stem != key.kid:
                with contextlib.suppress(FileNotFoundError):  # a concurrent rotation moved it
                    os.replace(pem, retired / pem.name)
        self._loaded = key
        return key

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The key set to publish (``/.well-known/jwks.json``): the active key only."""
        return {"keys": [self.active().public_jwk()]}

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """The keys a verifier accepts, by kid: what :func:`load_jwks` reads from :meth:`jwks`."""
        key = self.active()
        return {key.kid: key.private_key.public_key()}

    def _active_kid(self) -> str | None:
        try:
            return (self.folder / _ACTIVE).read_text("ascii").strip() or None
        except FileNotFoundError:
            return None

    def _load(self, kid: str) -> SigningKey:
        pem = (self.folder / f"{kid}.pem").read_bytes()
        private_key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private_key, Ed25519PrivateKey):
            raise ValueError(f"{self.folder / kid}.pem is not an Ed25519 key")
        if key_id(private_key.public_key()) != kid:
            raise ValueError(f"{self.folder / kid}.pem does not hold the key its name says")
        return SigningKey(kid, private_key)

    def _write_key(self) -> SigningKey:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = SigningKey.generate()
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_file(self.folder / f"{key.kid}.pem", pem, 0o600, overwrite=False)
        return key

    def _write_pointer(self, kid: str) -> Path:
        """A durable temporary file naming ``kid``, to be renamed or linked onto ``active``."""
        fd, name = tempfile.mkstemp(dir=self.folder, prefix=".active.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(kid + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return Path(name)

    def _create_first(self) -> SigningKey:
        """The first key; if another process creates one at the same time, theirs wins."""
        key = self._write_key()
        pointer = self._write_pointer(key.kid)
        try:
            os.link(pointer, self.folder / _ACTIVE)  # unlike os.replace, fails if it exists
        except FileExistsError:
            (self.folder / f"{key.kid}.pem").unlink()
            return self.active()
        finally:
            pointer.unlink()
        self._loaded = key
        return key


def _public_from_jwk(jwk: Any) -> tuple[str, Ed25519PublicKey]:
    if not isinstance(jwk, dict):
        raise ValueError("each entry of 'keys' must be a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("every key needs a 'kid' string")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError(
            f"key {kid}: only OKP Ed25519 keys are accepted, not "
            f"kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}"
        )
    if jwk.get("alg", "EdDSA") != "EdDSA" or jwk.get("use", "sig") != "sig":
        raise ValueError(f"key {kid}: alg must be EdDSA and use must be sig")
    if "d" in jwk:
        raise ValueError(f"key {kid}: the key set holds a private key ('d'); publish public keys")
    x = jwk.get("x")
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)) if isinstance(x, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32 or _b64url(raw) != x:
        raise ValueError(f"key {kid}: 'x' must be 32 bytes in unpadded base64url")
    return kid, Ed25519PublicKey.from_public_bytes(raw)


def load_jwks(source: Path | str | Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The public keys of a JWKS document, by kid: a file path, JSON text or a parsed mapping.

    Anything but Ed25519 keys is refused with a ``ValueError``, so a key set cannot smuggle in an
    RSA or HMAC key for an algorithm-confusion attack.
    """
    document: Any = source
    if isinstance(source, Path) or (
        isinstance(source, str) and not source.lstrip().startswith("{")
    ):
        document = Path(source).read_bytes()
    if isinstance(document, str | bytes):
        try:
            document = orjson.loads(document)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"key set is not valid JSON: {exc}") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("a key set is a JSON object with a 'keys' array")
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in document["keys"]:
        kid, public_key = _public_from_jwk(jwk)
        if kid in keys:
            raise ValueError(f"key {kid} appears twice in the key set")
        keys[kid] = public_key
    return keys
