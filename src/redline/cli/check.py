"""``redline check``: the gateway's decision for a text, or for each line of a JSONL file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from redline.cli.context import Context, pass_context
from redline.detectors import registry
from redline.errors import ConfigurationError
from redline.explain import explain
from redline.parse import Segment
from redline.pipeline import Pipeline
from redline.policy import PolicyError, load_pack, pack_hash


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
    settings = obj.settings(policy=policy)
    try:
        pack = load_pack(settings.policy)
        pipeline = Pipeline(
            pack,
            registry.build(settings.detectors, pack, settings),
            budget_s=settings.detector_budget_ms / 1000,
        )
    except (ConfigurationError, PolicyError) as exc:
        raise click.ClickException(str(exc)) from None
    digest = pack_hash(pack)
    try:
        if text is not None:
            inspection = pipeline.inspect_now([Segment("text", "text", text)])
            document = explain(
                inspection.decision,
                pack=pack,
                pack_hash=digest,
                view=inspection.view,
                decision_id=None,
            )
            click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
            return
        assert jsonl is not None
        stream = sys.stdin.buffer if str(jsonl) == "-" else jsonl.open("rb")
        with stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise click.ClickException(f"{jsonl}:{number}: not valid JSON: {exc}") from None
                if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                    raise click.ClickException(f"{jsonl}:{number}: needs a string field 'text'")
                inspection = pipeline.inspect_now([Segment("text", "text", record["text"])])
                decision = inspection.decision
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
