"""``redline authorisation keygen|rotate|export-key|verify``: the keys that sign authorisation
tokens, and the effector's offline check of a token."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import urllib.request
from pathlib import Path

import click
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from redline.authorisation import Keyring, TokenRefused, UsedTokens, load_jwks, verify
from redline.cli.context import Context, pass_context


@click.group()
def authorisation() -> None:
    """Sign, publish and verify authorisation tokens for held force-related tool calls."""


def _keyring(obj: Context) -> Keyring:
    return Keyring(obj.settings().authorisation_keys_path)


@authorisation.command()
@pass_context
def keygen(obj: Context) -> None:
    """Create the first signing key if there is none; print the active key's kid."""
    click.echo(_keyring(obj).active().kid)


@authorisation.command()
@pass_context
def rotate(obj: Context) -> None:
    """Make a new signing key active and retire the old one."""
    key = _keyring(obj).rotate()
    click.echo(key.kid)
    click.echo(
        "tokens signed by the old key are no longer accepted by verifiers using the new key set",
        err=True,
    )


@authorisation.command(name="export-key")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@pass_context
def export_key(obj: Context, out: Path | None) -> None:
    """Print the public key set (JWKS), as served at /.well-known/jwks.json."""
    document = orjson.dumps(_keyring(obj).jwks(), option=orjson.OPT_INDENT_2).decode() + "\n"
    if out is None:
        click.echo(document, nl=False)
    else:
        out.write_text(document)


def _read(value: str, what: str) -> str:
    """``value`` itself, ``-`` for stdin, or ``@FILE`` for a file's contents."""
    try:
        if value == "-":
            return sys.stdin.read()
        return Path(value[1:]).read_text("utf-8") if value.startswith("@") else value
    except OSError as exc:
        raise click.BadParameter(f"{what}: {exc}") from None


def _key_set(obj: Context, source: str | None) -> dict[str, Ed25519PublicKey]:
    try:
        if source is None:
            return _keyring(obj).public_keys()
        if source.startswith(("https://", "http://")):
            with urllib.request.urlopen(source, timeout=10) as response:  # noqa: S310 (checked)
                return load_jwks(response.read().decode("utf-8"))
        return load_jwks(Path(source))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read the key set {source or ''}: {exc}") from None


@authorisation.command(name="verify")
@click.option("--token", required=True, help="The token, or - to read it from stdin.")
@click.option("--tool", required=True, help="The tool about to be called.")
@click.option(
    "--arguments", required=True, help="The call's arguments: JSON text, or @FILE to read them."
)
@click.option("--keys", "keys_source", help="JWKS file or URL (default: the local keyring).")
@click.option(
    "--used-tokens",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file of used token ids; a token already in it is refused, else recorded.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the claims as JSON.")
@pass_context
def verify_(
    obj: Context,
    token: str,
    tool: str,
    arguments: str,
    keys_source: str | None,
    used_tokens: Path | None,
    as_json: bool,
) -> None:
    """Check offline that TOKEN authorises calling TOOL with ARGUMENTS now; exit 1 if not."""
    keys = _key_set(obj, keys_source)
    text = _read(token, "--token").strip()
    call = _read(arguments, "--arguments")
    guard = UsedTokens(used_tokens) if used_tokens is not None else None
    try:
        claims = verify(text, keys, tool=tool, arguments=call, replay=guard)
    except TokenRefused as exc:
        click.echo(f"refused ({exc.code}): {exc.message}", err=True)
        sys.exit(1)
    finally:
        if guard is not None:
            guard.close()
    if as_json:
        click.echo(orjson.dumps(dataclasses.asdict(claims), option=orjson.OPT_INDENT_2).decode())
        return
    expires = dt.datetime.fromtimestamp(claims.expires_at, dt.UTC).isoformat()
    click.echo(f"valid: token {claims.token_id} authorises {claims.tool}")
    click.echo(f"  hold       {claims.hold_id}")
    click.echo(f"  approvers  {', '.join(claims.approvers)}")
    click.echo(f"  requester  {claims.requester}")
    click.echo(f"  expires    {expires}")
    click.echo(f"  policy     {claims.policy_hash}")
