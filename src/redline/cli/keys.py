"""``redline keys create|list|revoke``: API keys for clients, authorisers, auditors and admins."""

from __future__ import annotations

import datetime as dt

import click

from redline.cli.context import Context, pass_context
from redline.principals import KeyRecord, Role, new_key


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
@pass_context
def create(
    obj: Context, name: str, roles: tuple[str, ...], human: str | None, unit: str | None
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
    with obj.store() as store:
        store.create_key(record)
    click.echo(f"created key {key_id} ({name}; roles: {', '.join(roles)})", err=True)
    click.echo(full_key)


@keys.command(name="list")
@pass_context
def list_(obj: Context) -> None:
    """List keys (never their secrets)."""
    with obj.store() as store:
        records = store.list_keys()
    for record in records:
        state = f"revoked {record.revoked_at}" if record.revoked_at else "active"
        roles = ",".join(record.roles)
        click.echo(f"{record.key_id}  {record.name:<20} {roles:<24} {record.human:<20} {state}")


@keys.command()
@click.argument("key_id")
@pass_context
def revoke(obj: Context, key_id: str) -> None:
    """Revoke KEY_ID; requests with it are refused from then on."""
    with obj.store() as store:
        revoked = store.revoke_key(key_id, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    if not revoked:
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"revoked {key_id}")
