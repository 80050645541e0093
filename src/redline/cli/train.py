"""``redline train`` and ``redline corpus``: build the classifier bundle from the corpus."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from redline.classifier import bundle as bundles
from redline.classifier.corpus import build, summary


@click.command()
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("corpus/families"),
    show_default=True,
    help="Folder of corpus family files.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=bundles.SHIPPED,
    show_default="the bundle shipped in the package",
    help="Where to write the bundle.",
)
@click.option("--epochs", default=3, show_default=True, help="Fine-tuning epochs.")
@click.option(
    "--max-tokens", default=128, show_default=True, help="Tokens the fine-tuned tier reads."
)
def train(corpus: Path, out: Path, epochs: int, max_tokens: int) -> None:
    """Distil the fast tier, fine-tune the transformer tier, choose thresholds, write the bundle."""
    from redline.classifier.train import train as run_training

    shown: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        filled = 30 * done // max(total, 1)
        if shown.get(stage) == filled and done < total:
            return
        shown[stage] = filled
        bar = "#" * filled + "." * (30 - filled)
        click.echo(f"\r{stage:<14} [{bar}] {done}/{total}", err=True, nl=done >= total)

    click.echo(summary(build(corpus)), err=True)
    bundle, manifest = run_training(
        corpus, out, epochs=epochs, max_tokens=max_tokens, progress=progress
    )
    click.echo(f"\nbundle {bundle.digest} written to {out}")
    click.echo("thresholds (chosen on dev): " + orjson.dumps(manifest["thresholds"]).decode())
    click.echo(
        "fast-tier floor (below it a text is clearly benign): "
        + str(manifest["borderline_band"][0])
    )
    for split, metrics in manifest["metrics"].items():
        click.echo(f"{split}: " + orjson.dumps(metrics).decode())


@click.group()
def corpus() -> None:
    """Inspect and export the labelled corpus."""


@corpus.command()
@click.argument(
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("corpus/families"),
)
def stats(folder: Path) -> None:
    """Count examples by label, split, register and source file."""
    click.echo(summary(build(folder)))


@corpus.command()
@click.argument(
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("corpus/families"),
)
@click.option("--split", type=click.Choice(["train", "dev", "test"]), help="Only this split.")
def export(folder: Path, split: str | None) -> None:
    """Write the expanded corpus as JSONL (id, text, label, family, register, split, source)."""
    for example in build(folder):
        if split is None or example.split == split:
            sys.stdout.buffer.write(orjson.dumps(example.__dict__) + b"\n")
