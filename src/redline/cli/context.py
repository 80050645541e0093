"""The global options every command shares, turned into settings or a store on demand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from redline.errors import ConfigurationError
from redline.settings import Settings, load_settings
from redline.store.sqlite import SQLiteStore


class Context:
    def __init__(self, config: Path | None, data_dir: Path | None) -> None:
        self.config = config
        self.data_dir = data_dir

    def settings(self, **overrides: Any) -> Settings:
        try:
            return load_settings(self.config, data_dir=self.data_dir, **overrides)
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from None

    @contextmanager
    def store(self) -> Iterator[SQLiteStore]:
        store = SQLiteStore(self.settings().database_path)
        try:
            yield store
        finally:
            store.close()


pass_context = click.make_pass_decorator(Context)
