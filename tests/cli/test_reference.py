"""Docs kept true by tests: the CLI page and the settings page match the code."""

from __future__ import annotations

from pathlib import Path

from redline.cli.reference import render
from redline.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_cli_reference_page_is_generated_from_the_commands() -> None:
    assert (DOCS / "cli.md").read_text() == render(), (
        "docs/cli.md is stale: run `python -m redline.cli.reference > docs/cli.md`"
    )


def test_every_setting_is_documented_with_its_environment_variable() -> None:
    page = (DOCS / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in page, f"setting {name} is missing from docs/configuration.md"
        assert f"`REDLINE_{name.upper()}`" in page, f"REDLINE_{name.upper()} is not documented"
