"""Training: reproducible bundles, verified on load, calibrated and thresholded on dev."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from redline.classifier import bundle as bundles
from redline.classifier.corpus import LABELS
from redline.classifier.train import train
from redline.detectors.classifier import ClassifierDetector


def test_same_corpus_gives_the_same_bundle_digest(
    trained: tuple[bundles.Bundle, dict[str, object]], corpus_folder: Path, tmp_path: Path
) -> None:
    again, _ = train(corpus_folder, tmp_path / "again", epochs=1, max_tokens=32)
    assert again.digest == trained[0].digest


def test_bundle_records_corpus_thresholds_and_metrics(
    trained: tuple[bundles.Bundle, dict[str, object]],
) -> None:
    bundle, manifest = trained
    assert manifest["labels"] == list(LABELS)
    assert set(bundle.manifest["thresholds"]) == set(LABELS) - {"benign"}
    assert bundle.manifest["corpus"]["digest"].startswith("sha256:")
    assert bundle.manifest["metrics"]["dev"]["force_combined_recall"] is not None


def test_a_tampered_bundle_file_is_refused(
    trained: tuple[bundles.Bundle, dict[str, object]], tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained[0].folder, copy)
    head = copy / "classifier.int8.onnx"
    data = bytearray(head.read_bytes())
    data[-1] ^= 0x01
    head.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match"):
        bundles.load(copy)


def test_classifier_separates_the_red_lines_it_was_trained_on(
    trained: tuple[bundles.Bundle, dict[str, object]],
) -> None:
    detector = ClassifierDetector(trained[0])
    probabilities = detector.classify(
        [
            "Track every phone in Boise for the next month.",
            "Plan water resupply for the camp in Boise.",
        ]
    )
    assert probabilities.shape == (2, len(LABELS))
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert probabilities[0].argmax() == LABELS.index("mass_surveillance")
    assert probabilities[1].argmax() == LABELS.index("benign")
