"""The ``redline`` command line."""

from __future__ import annotations

from pathlib import Path

import click

from redline import __version__
from redline.cli import (
    authorisation,
    check,
    evaluate,
    holds,
    keys,
    ledger,
    policy,
    serve,
    train,
)
from redline.cli.context import Context


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="redline")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config file (default: <data-dir>/redline.yaml if present).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database and keys live (default: ./redline-data).",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_dir: Path | None) -> None:
    """Redline: enforce an AI usage agreement between your apps and every model vendor."""
    ctx.obj = Context(config, data_dir)


main.add_command(serve.serve)
main.add_command(check.check)
main.add_command(policy.policy)
main.add_command(keys.keys)
main.add_command(holds.holds)
main.add_command(ledger.ledger)
main.add_command(authorisation.authorisation)
main.add_command(train.train)
main.add_command(train.corpus)
main.add_command(evaluate.evaluate)
