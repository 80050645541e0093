"""``redline serve``: run the gateway."""

from __future__ import annotations

import logging
import sys

import click
import uvicorn

from redline.errors import ConfigurationError
from redline.gateway import create_app
from redline.policy import PolicyError


@click.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option("--policy", help="Shipped pack name or policy YAML file (default: agreement).")
@click.pass_obj
def serve(obj: object, host: str | None, port: int | None, policy: str | None) -> None:
    """Run the gateway until interrupted."""
    from redline.cli import Context

    assert isinstance(obj, Context)
    settings = obj.settings(host=host, port=port, policy=policy)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
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
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=10,
    )
