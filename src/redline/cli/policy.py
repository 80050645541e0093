"""``redline policy lint|show|hash``: inspect policy packs."""

from __future__ import annotations

import click
import orjson

from redline.policy import PolicyError, load_pack, pack_hash
from redline.policy.loader import shipped_packs


@click.group()
def policy() -> None:
    """Validate, show and hash policy packs."""


@policy.command()
@click.argument("source", default="agreement")
def lint(source: str) -> None:
    """Validate SOURCE (a shipped pack name or a YAML file); exit 1 with the errors if invalid."""
    try:
        pack = load_pack(source)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
    clauses = sum(len(red_line.clauses) for red_line in pack.red_lines)
    click.echo(
        f"{source}: ok — {len(pack.red_lines)} red lines, {clauses} clauses, "
        f"{len(pack.rules)} rules, {len(pack.authorities)} authorities; {pack_hash(pack)}"
    )


@policy.command()
@click.argument("source", default="agreement")
@click.option("--json", "as_json", is_flag=True, help="Print the whole validated pack as JSON.")
def show(source: str, as_json: bool) -> None:
    """Show the red lines, clauses and cited authorities of SOURCE."""
    try:
        pack = load_pack(source)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        document = pack.model_dump(mode="json", by_alias=True)
        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return
    authorities = {a.id: a for a in pack.authorities}
    click.echo(f"{pack.title} ({pack.id}, version {pack.version})")
    click.echo(f"hash {pack_hash(pack)}\n")
    for red_line in pack.red_lines:
        click.echo(f"red line {red_line.id}: {red_line.title}")
        for cited in red_line.authorities:
            authority = authorities[cited]
            click.echo(f"  cites {authority.title} (as of {authority.version_date})")
        for clause in red_line.clauses:
            click.echo(f"  {clause.id} [{clause.action}] {clause.title}")
        click.echo("")
    click.echo("approved upstream hosts: " + ", ".join(pack.upstreams.allowed_hosts))
    click.echo("shipped packs: " + ", ".join(shipped_packs()))


@policy.command(name="hash")
@click.argument("source", default="agreement")
def hash_(source: str) -> None:
    """Print the content hash that identifies SOURCE in every decision."""
    try:
        click.echo(pack_hash(load_pack(source)))
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
