"""``redline serve``: run the gateway."""

from __future__ import annotations

import logging
import os
import sys

import click
import uvicorn

from redline.cli.context import Context, pass_context
from redline.errors import ConfigurationError
from redline.gateway import create_app
from redline.policy import PolicyError
from redline.settings import Settings, hand_off, handed_off


@click.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option("--workers", type=int, help="Gateway processes sharing the port (default 1).")
@click.option("--policy", help="Shipped pack name or policy YAML file (default: agreement).")
@pass_context
def serve(
    obj: Context, host: str | None, port: int | None, workers: int | None, policy: str | None
) -> None:
    """Run the gateway until interrupted."""
    settings = obj.settings(host=host, port=port, workers=workers, policy=policy)
    _configure_logging(settings)
    try:
        app = create_app(settings)
    except (ConfigurationError, PolicyError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"redline: serving on http://{settings.host}:{settings.port} "
        f"(policy {app.state.gateway.pack.id} {app.state.gateway.pack_hash[:19]}…, "
        f"database {settings.database_path})",
        err=True,
    )
    if settings.workers > 1:
        # Worker processes build their own app from the same validated settings.
        os.environ.update(hand_off(settings))
        target: object = "redline.cli.serve:worker_app"
    else:
        target = app
    uvicorn.run(
        target,  # type: ignore[arg-type]
        factory=settings.workers > 1,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=10,
    )


def worker_app() -> object:
    """The app factory each worker process calls when ``--workers`` is above 1."""
    settings = handed_off()
    _configure_logging(settings)
    return create_app(settings)


def _configure_logging(settings: Settings) -> None:
    # Log lines carry ids, digests and codes only; request text never reaches a logger.
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(process)d %(name)s %(message)s",
        stream=sys.stderr,
    )
