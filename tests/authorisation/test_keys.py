"""The authorisation keyring on a real folder: creation, file modes, rotation, the key set."""

from __future__ import annotations

import base64
import stat
import threading
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from redline.authorisation import Keyring, SigningKey, load_jwks
from redline.authorisation.keys import key_id


def test_first_key_is_created_once_as_a_0600_pkcs8_file(tmp_path: Path) -> None:
    folder = tmp_path / "keys" / "authorisation"
    key = Keyring(folder).active()
    assert Keyring(folder).active().kid == key.kid
    pem = folder / f"{key.kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert pem.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (folder / "active").read_text() == key.kid + "\n"
    assert sorted(p.name for p in folder.glob("*.pem")) == [pem.name]


def test_kid_is_derived_from_the_public_key(tmp_path: Path) -> None:
    key = Keyring(tmp_path).active()
    assert key.kid == key_id(key.private_key.public_key())
    assert len(key.kid) == 16
    assert int(key.kid, 16) >= 0


def test_public_jwk_is_an_rfc8037_okp_key(tmp_path: Path) -> None:
    key = Keyring(tmp_path).active()
    jwk = key.public_jwk()
    assert {k: v for k, v in jwk.items() if k != "x"} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": key.kid,
        "alg": "EdDSA",
        "use": "sig",
    }
    assert "=" not in jwk["x"]
    raw = base64.urlsafe_b64decode(jwk["x"] + "=")
    assert load_jwks({"keys": [jwk]})[key.kid].public_bytes_raw() == raw


def test_rotation_makes_a_new_key_active_and_retires_the_old(tmp_path: Path) -> None:
    keyring = Keyring(tmp_path)
    old = keyring.active()
    new = keyring.rotate()
    assert new.kid != old.kid
    assert keyring.active().kid == new.kid
    assert [jwk["kid"] for jwk in keyring.jwks()["keys"]] == [new.kid]
    assert list(keyring.public_keys()) == [new.kid]
    assert not (tmp_path / f"{old.kid}.pem").exists()
    assert (tmp_path / "retired" / f"{old.kid}.pem").exists()


def test_a_rotation_by_another_process_reaches_the_gateway_keyring(tmp_path: Path) -> None:
    gateway = Keyring(tmp_path)
    before = gateway.active()
    rotated = Keyring(tmp_path).rotate()  # `redline authorisation rotate`, say
    assert gateway.active().kid == rotated.kid != before.kid


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    barrier = threading.Barrier(8)
    kids: list[str] = []

    def first_use() -> None:
        barrier.wait()
        kids.append(Keyring(tmp_path).active().kid)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(kids)) == 1
    assert [p.stem for p in tmp_path.glob("*.pem")] == kids[:1]


def test_readers_never_fail_while_keys_rotate(tmp_path: Path) -> None:
    Keyring(tmp_path).active()
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        reader = Keyring(tmp_path)
        while not stop.is_set():
            try:
                key = reader.active()
                assert key.kid == key_id(key.private_key.public_key())
            except BaseException as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=read)
    thread.start()
    for _ in range(40):
        Keyring(tmp_path).rotate()
    stop.set()
    thread.join()
    assert errors == []
    assert len(list(tmp_path.glob("*.pem"))) == 1


def test_load_jwks_reads_a_file_json_text_or_a_mapping(tmp_path: Path) -> None:
    keyring = Keyring(tmp_path / "keys")
    document = keyring.jwks()
    path = tmp_path / "jwks.json"
    path.write_bytes(orjson.dumps(document))
    kid = keyring.active().kid
    for source in (path, str(path), path.read_text(), document):
        assert list(load_jwks(source)) == [kid]


def _jwk(**changes: object) -> dict[str, object]:
    return SigningKey.generate().public_jwk() | changes


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        (_jwk(kty="RSA"), "only OKP Ed25519"),
        (_jwk(crv="Ed448"), "only OKP Ed25519"),
        ({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}, "only OKP Ed25519"),
        (_jwk(alg="HS256"), "alg must be EdDSA"),
        (_jwk(use="enc"), "use must be sig"),
        (_jwk(x="AAAA"), "32 bytes"),
        (_jwk(x=str(_jwk()["x"]) + "="), "unpadded base64url"),
        (_jwk(d="secret"), "private key"),
        (_jwk(kid=None), "'kid'"),
    ],
)
def test_load_jwks_refuses_anything_but_ed25519_public_keys(
    jwk: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        load_jwks({"keys": [jwk]})


def test_load_jwks_refuses_a_document_without_keys_or_with_a_kid_twice() -> None:
    jwk = _jwk()
    with pytest.raises(ValueError, match="'keys' array"):
        load_jwks('{"key": []}')
    with pytest.raises(ValueError, match="twice"):
        load_jwks({"keys": [jwk, jwk]})
    with pytest.raises(ValueError, match="not valid JSON"):
        load_jwks("{not json")


def test_a_pem_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    for private in (ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048)):
        (tmp_path / "0123456789abcdef.pem").write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (tmp_path / "active").write_text("0123456789abcdef\n")
        with pytest.raises(ValueError, match="not an Ed25519 key"):
            Keyring(tmp_path).active()
