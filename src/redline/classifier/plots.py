"""PNG plots for ``redline eval --plots``: precision-recall curves and the confusion matrix.

matplotlib is an evaluation-time dependency only (the ``eval`` extra); the gateway never imports
this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redline.classifier.evaluate import Outcome, precision_recall_curve
from redline.policy import PolicyPack


def write_plots(
    outcomes: Sequence[Outcome], document: dict[str, Any], pack: PolicyPack, folder: Path
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []

    figure, axes = plt.subplots(figsize=(6, 5))
    for red_line in pack.red_lines:
        precision, recall = precision_recall_curve(outcomes, red_line.id)
        if recall:
            axes.plot(recall, precision, label=red_line.id)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1.01)
    axes.set_ylim(0, 1.01)
    axes.set_title("Precision-recall by red line")
    axes.legend(loc="lower left")
    path = folder / "precision_recall.png"
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    written.append(path)

    confusion = document["confusion"]
    gold = list(confusion)
    predicted = list(next(iter(confusion.values()))) if confusion else []
    matrix = [[confusion[g][p] for p in predicted] for g in gold]
    figure, axes = plt.subplots(figsize=(1.4 * len(predicted) + 2, 1.0 * len(gold) + 2))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(predicted)), predicted, rotation=30, ha="right")
    axes.set_yticks(range(len(gold)), gold)
    for row, values in enumerate(matrix):
        for column, value in enumerate(values):
            axes.text(column, row, str(value), ha="center", va="center")
    axes.set_xlabel("decided")
    axes.set_ylabel("labelled")
    axes.set_title("Confusion matrix")
    path = folder / "confusion.png"
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    written.append(path)
    return written
