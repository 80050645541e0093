"""``redline authorisation``: keys, the published key set and the effector's verify, in-process."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from redline.authorisation import Keyring, arguments_digest, issue_token, load_jwks, new_claims
from redline.cli import main

CALL = '{"target": "T-1042", "grid": [38.8977, -77.0365]}'


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def run(data: Path):  # type: ignore[no-untyped-def]
    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["--data-dir", str(data), *args], input=input)

    return invoke


@pytest.fixture
def verify(run):  # type: ignore[no-untyped-def]
    """``redline authorisation verify`` of a call to engage_target."""

    def invoke(token: str, arguments: str = CALL, *extra: str, input: str | None = None) -> Result:
        return run(
            "authorisation",
            "verify",
            *("--token", token, "--tool", "engage_target", "--arguments", arguments),
            *extra,
            input=input,
        )

    return invoke


@pytest.fixture
def token(data: Path) -> str:
    """A token for engage_target(CALL), signed by the data directory's active key."""
    claims = new_claims(
        hold_id="hold_01",
        tool="engage_target",
        arguments_sha256=arguments_digest(CALL),
        approvers=("Ada Approver", "Bo Approver"),
        requester="Casey Client",
        policy_hash="sha256:" + "ab" * 32,
        issuer="https://gateway.example",
        lifetime_s=300,
    )
    return issue_token(claims, Keyring(data / "keys" / "authorisation").active())


def test_keygen_creates_one_key_and_prints_its_kid(run, data: Path) -> None:  # type: ignore[no-untyped-def]
    first = run("authorisation", "keygen")
    assert first.exit_code == 0
    kid = first.stdout.strip()
    assert (data / "keys" / "authorisation" / f"{kid}.pem").exists()
    assert run("authorisation", "keygen").stdout.strip() == kid


def test_export_key_writes_the_public_key_set(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    kid = run("authorisation", "keygen").stdout.strip()
    printed = run("authorisation", "export-key")
    assert list(load_jwks(printed.stdout)) == [kid]
    assert '"d"' not in printed.stdout
    assert run("authorisation", "export-key", "--out", str(tmp_path / "jwks.json")).exit_code == 0
    assert orjson.loads((tmp_path / "jwks.json").read_bytes()) == orjson.loads(printed.stdout)


def test_verify_accepts_the_approved_call_and_prints_who_approved(verify, token: str) -> None:  # type: ignore[no-untyped-def]
    same_call = '{"grid":[38.8977,-77.0365],"target":"T-1042"}'
    result = verify(token, same_call)
    assert result.exit_code == 0, result.output
    assert "hold_01" in result.stdout
    assert "Ada Approver, Bo Approver" in result.stdout
    assert "Casey Client" in result.stdout


def test_verify_reads_the_token_from_stdin_and_arguments_from_a_file(  # type: ignore[no-untyped-def]
    verify, token: str, tmp_path: Path
) -> None:
    (tmp_path / "call.json").write_text(CALL)
    result = verify("-", f"@{tmp_path / 'call.json'}", "--json", input=token + "\n")
    assert result.exit_code == 0, result.output
    claims = orjson.loads(result.stdout)
    assert claims["hold_id"] == "hold_01"
    assert claims["arguments_sha256"] == arguments_digest(CALL)


def test_verify_refuses_changed_arguments_with_its_code(verify, token: str) -> None:  # type: ignore[no-untyped-def]
    changed = CALL.replace("T-1042", "T-1043")
    result = verify(token, changed)
    assert result.exit_code == 1
    assert result.stderr.startswith("refused (arguments_mismatch): ")
    assert result.stdout == ""


def test_verify_with_a_used_tokens_file_refuses_the_second_use(  # type: ignore[no-untyped-def]
    verify, token: str, tmp_path: Path
) -> None:
    assert verify(token, CALL, "--used-tokens", str(tmp_path / "used.db")).exit_code == 0
    again = verify(token, CALL, "--used-tokens", str(tmp_path / "used.db"))
    assert again.exit_code == 1
    assert again.stderr.startswith("refused (replayed): ")


def test_after_rotate_the_exported_key_set_refuses_old_tokens(  # type: ignore[no-untyped-def]
    run, verify, token: str, tmp_path: Path
) -> None:
    rotated = run("authorisation", "rotate")
    assert rotated.exit_code == 0
    assert "no longer accepted" in rotated.stderr
    run("authorisation", "export-key", "--out", str(tmp_path / "jwks.json"))
    result = verify(token, CALL, "--keys", str(tmp_path / "jwks.json"))
    assert result.exit_code == 1
    assert result.stderr.startswith("refused (unknown_key): ")


@pytest.fixture
def jwks_url(data: Path) -> Iterator[str]:
    """The key set served over HTTP, as the gateway serves /.well-known/jwks.json."""
    body = orjson.dumps(Keyring(data / "keys" / "authorisation").jwks())

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


def test_verify_fetches_the_key_set_from_a_url(verify, token: str, jwks_url: str) -> None:  # type: ignore[no-untyped-def]
    result = verify(token, CALL, "--keys", jwks_url)
    assert result.exit_code == 0, result.output


def test_verify_names_a_key_set_it_cannot_read(verify, token: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.json").write_text('{"keys": [{"kty": "RSA", "kid": "r1"}]}')
    result = verify(token, CALL, "--keys", str(tmp_path / "bad.json"))
    assert result.exit_code == 1
    assert "only OKP Ed25519" in result.output
