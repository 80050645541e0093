"""The CLI reference page, generated from the commands' own ``--help`` texts.

``docs/cli.md`` is this module's output; a test regenerates it and fails on any difference, so the
page cannot drift from the code. Regenerate with ``python -m redline.cli.reference > docs/cli.md``.
"""

from __future__ import annotations

import click

from redline.cli import main as cli_main


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def render() -> str:
    lines = [
        "# Command-line reference",
        "",
        "Generated from `--help` by `python -m redline.cli.reference`; do not edit by hand.",
        "",
    ]
    for path, command in _walk(cli_main, ["redline"]):
        with click.Context(
            command,
            info_name=" ".join(path),
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],
        ) as ctx:
            help_text = command.get_help(ctx)
        lines += [f"## `{' '.join(path)}`", "", "```text", help_text.rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
