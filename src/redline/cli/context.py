"""The global options every command shares, turned into settings or a store on demand."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import orjson

from redline.detectors import registry
from redline.errors import ConfigurationError
from redline.pipeline import Pipeline
from redline.policy import PolicyError, load_pack
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


def build_pipeline(settings: Settings, *, budget_s: float | None = None) -> Pipeline:
    """The gateway's pipeline, for commands that decide without serving."""
    try:
        pack = load_pack(settings.policy)
        detectors = registry.build(settings.detectors, pack, settings)
    except (ConfigurationError, PolicyError) as exc:
        raise click.ClickException(str(exc)) from None
    budget = settings.detector_budget_ms / 1000 if budget_s is None else budget_s
    return Pipeline(pack, detectors, budget_s=budget)


def read_jsonl(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of ``path`` (``-`` is stdin); a line
    that is not a JSON object with string fields ``required`` stops with its number."""
    stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise click.ClickException(f"{path}:{number}: not valid JSON: {exc}") from None
            if not isinstance(record, dict):
                raise click.ClickException(f"{path}:{number}: not a JSON object")
            for field in required:
                if not isinstance(record.get(field), str):
                    raise click.ClickException(f"{path}:{number}: needs a string field '{field}'")
            yield number, record
