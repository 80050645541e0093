"""``redline keys create|list|revoke``: API keys for clients, authorisers, auditors and admins."""

from __future__ import annotations

import datetime as dt

import click

from redline.principals import KeyRecord, Role, new_key
from redline.store.sqlite import SQLiteStore


def _store(obj: object) -> SQLiteStore:
    from redline.cli import Context

    assert isinstance(obj, Context)
    return SQLiteStore(obj.settings().database_path)


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command()
@click.option("--name", required=True, help="What the key is for, e.g. 'ops-agent'.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([role.value for role in Role]),
    default=("client",),
    show_default=True,
    help="Repeat for several roles.",
)
@click.option("--human", help="The accountable person behind the key (default: the name).")
@click.option("--unit", help="Organisational unit.")
@click.pass_obj
def create(
    obj: object, name: str, roles: tuple[str, ...], human: str | None, unit: str | None
) -> None:
    """Create a key and print it once; only its hash is stored."""
    key_id, full_key, secret_hash = new_key()
    record = KeyRecord(
        key_id=key_id,
        name=name,
        human=human or name,
        unit=unit,
        roles=tuple(Role(role) for role in roles),
        secret_hash=secret_hash,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    store = _store(obj)
    try:
        store.create_key(record)
    finally:
        store.close()
    click.echo(f"created key {key_id} ({name}; roles: {', '.join(roles)})", err=True)
    click.echo(full_key)


@keys.command(name="list")
@click.pass_obj
def list_(obj: object) -> None:
    """List keys (never their secrets)."""
    store = _store(obj)
    try:
        records = store.list_keys()
    finally:
        store.close()
    for record in records:
        state = f"revoked {record.revoked_at}" if record.revoked_at else "active"
        roles = ",".join(record.roles)
        click.echo(f"{record.key_id}  {record.name:<20} {roles:<24} {record.human:<20} {state}")


@keys.command()
@click.argument("key_id")
@click.pass_obj
def revoke(obj: object, key_id: str) -> None:
    """Revoke KEY_ID; requests with it are refused from then on."""
    store = _store(obj)
    try:
        revoked = store.revoke_key(key_id, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    finally:
        store.close()
    if not revoked:
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"revoked {key_id}")
