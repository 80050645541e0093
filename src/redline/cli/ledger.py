"""``redline ledger list|show``: read the decision log."""

from __future__ import annotations

import click
import orjson

from redline.cli.context import Context, pass_context


@click.group()
def ledger() -> None:
    """Read the decision ledger."""


@ledger.command(name="list")
@click.option("--last", default=20, show_default=True, help="How many of the newest entries.")
@click.option("--json", "as_json", is_flag=True, help="Print each entry's canonical JSON.")
@pass_context
def list_(obj: Context, last: int, as_json: bool) -> None:
    """List the newest decisions, oldest first."""
    with obj.store() as store:
        start = max(0, store.count_entries() - last)
        entries = store.list_entries(start, last)
    for stored in entries:
        if as_json:
            click.echo(stored.entry.decode())
            continue
        entry = orjson.loads(stored.entry)
        principal = entry["principal"]["name"] if entry["principal"] else "-"
        reasons = ",".join(reason["code"] for reason in entry["reasons"]) or "-"
        click.echo(
            f"{stored.seq:>6}  {entry['time']}  {stored.decision_id}  {entry['decision']:<8} "
            f"{entry['red_line'] or '-':<28} {entry['clause'] or '-':<6} {principal:<16} {reasons}"
        )


@ledger.command()
@click.argument("decision_id")
@pass_context
def show(obj: Context, decision_id: str) -> None:
    """Print one decision's entry as recorded."""
    with obj.store() as store:
        stored = store.get_entry(decision_id)
    if stored is None:
        raise click.ClickException(f"no decision {decision_id}")
    click.echo(orjson.dumps(orjson.loads(stored.entry), option=orjson.OPT_INDENT_2).decode())
