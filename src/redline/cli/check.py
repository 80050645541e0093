"""``redline check``: the gateway's decision for a text, or for each line of a JSONL file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from redline.cli.context import Context, build_pipeline, pass_context, read_jsonl
from redline.explain import explain
from redline.parse import Segment
from redline.policy import pack_hash


@click.command()
@click.argument("text", required=False)
@click.option(
    "--jsonl",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    help="Read one JSON object per line (field 'text', optional 'id'); '-' for stdin.",
)
@click.option("--policy", help="Shipped pack name or policy YAML file.")
@pass_context
def check(obj: Context, text: str | None, jsonl: Path | None, policy: str | None) -> None:
    """Print the decision for TEXT (or each line of --jsonl) as JSON. Calls no upstream."""
    if (text is None) == (jsonl is None):
        raise click.UsageError("give either TEXT or --jsonl FILE")
    pipeline = build_pipeline(obj.settings(policy=policy))
    try:
        if text is not None:
            inspection = pipeline.inspect_now([Segment("text", "text", text)])
            document = explain(
                inspection.decision,
                pack=pipeline.pack,
                pack_hash=pack_hash(pipeline.pack),
                view=inspection.view,
                decision_id=None,
            )
            click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
            return
        assert jsonl is not None
        for number, record in read_jsonl(jsonl, ("text",)):
            decision = pipeline.inspect_now([Segment("text", "text", record["text"])]).decision
            out = {
                "id": record.get("id", number),
                "decision": decision.kind.value,
                "red_line": decision.red_line,
                "clause": decision.clause,
                "scores": decision.scores,
                "reasons": [reason.code for reason in decision.reasons],
            }
            sys.stdout.buffer.write(orjson.dumps(out) + b"\n")
    finally:
        pipeline.close()
