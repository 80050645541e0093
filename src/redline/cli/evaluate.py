"""``redline eval``: measure the pipeline on a labelled JSONL file, and gate on the result."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from redline.classifier.evaluate import Row, report, run
from redline.cli.context import Context, build_pipeline, pass_context, read_jsonl


@click.command(name="eval")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option("--text-field", default="text", show_default=True)
@click.option("--label-field", default="label", show_default=True)
@click.option(
    "--source-field",
    default="source",
    show_default=True,
    help="Field for the per-source breakdown (rows without it count as '-').",
)
@click.option("--label-map", help="JSON object mapping the file's labels to policy categories.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report here.",
)
@click.option(
    "--plots",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write PNG plots (precision-recall curves, confusion matrix) here.",
)
@click.option("--min-recall", type=float, help="Exit 1 if any red line's recall is below this.")
@click.option("--max-fpr", type=float, help="Exit 1 if the benign false-positive rate is above.")
@click.option("--policy", help="Shipped pack name or policy YAML file.")
@pass_context
def evaluate(
    obj: Context,
    file: Path,
    text_field: str,
    label_field: str,
    source_field: str,
    label_map: str | None,
    report_path: Path | None,
    plots: Path | None,
    min_recall: float | None,
    max_fpr: float | None,
    policy: str | None,
) -> None:
    """Per-red-line precision, recall and F1, benign false positives, confusion, latency."""
    mapping: dict[str, str] = orjson.loads(label_map) if label_map else {}
    rows = []
    for number, record in read_jsonl(file, (text_field,)):
        if record.get(label_field) is None:
            raise click.ClickException(f"{file}:{number}: needs a field '{label_field}'")
        label = str(record[label_field])  # public sets often label with numbers
        rows.append(
            Row(record[text_field], mapping.get(label, label), str(record.get(source_field, "-")))
        )
    pipeline = build_pipeline(obj.settings(policy=policy), budget_s=10.0)
    pack = pipeline.pack
    try:
        outcomes = run(pipeline, rows)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        pipeline.close()
    document = report(outcomes, pack)
    document["policy"] = {"id": pack.id, "detectors": pipeline.versions}
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    if report_path is not None:
        report_path.write_text(text + "\n")
    click.echo(text)
    if plots is not None:
        from redline.classifier.plots import write_plots

        write_plots(outcomes, document, pack, plots)
    failures = []
    for red_line, metrics in document["red_lines"].items():
        recall = metrics["recall"]
        if min_recall is not None and recall is not None and recall < min_recall:
            failures.append(f"{red_line} recall {recall} < {min_recall}")
    fpr = document["benign"]["false_positive_rate"]
    if max_fpr is not None and fpr is not None and fpr > max_fpr:
        failures.append(f"benign false-positive rate {fpr} > {max_fpr}")
    if failures:
        raise click.ClickException("gate failed: " + "; ".join(failures))
